//! Reads: the server version, API discovery, paginated lists and single objects.

use kube::api::{GetParams, ListParams};
use kube::core::Request;
use serde::Deserialize;
use serde_json::Value;

use super::{Cluster, Doing, GROUP, PLURAL, Page, Query};
use crate::error::{Error, Result};

impl Cluster {
    /// The server's version (`/version` gitVersion).
    pub async fn server_version(&self) -> Result<String> {
        let v = self.get_path("/version", "read the server version").await?;
        Ok(v.get("gitVersion")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string())
    }

    /// `metadata.name` of every item of a list at `path` (first 500), e.g. namespaces.
    pub async fn names(&self, path: &str) -> Result<Vec<String>> {
        let list = self
            .get_path(&format!("{path}?limit=500"), "list names")
            .await?;
        Ok(list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_string))
            .collect())
    }

    /// The group version to use: v1 when served, else the server's preferred version.
    pub async fn discover(&self) -> Result<String> {
        match self.discover_v1().await {
            // Seldon Core 2 alone: say so, and what to use instead.
            Err(Error::CrdMissing { server }) => {
                let v2 = self
                    .get_path("/apis/mlops.seldon.io", "discover Seldon Core 2")
                    .await;
                Err(match v2 {
                    Ok(_) => Error::OnlyCore2 { server },
                    Err(_) => Error::CrdMissing { server },
                })
            }
            other => other,
        }
    }

    /// v1's group version alone: Err(CrdMissing) where it is not served, whatever else is.
    pub async fn discover_v1(&self) -> Result<String> {
        let group = self
            .get_path(
                &format!("/apis/{GROUP}"),
                "discover the SeldonDeployment API",
            )
            .await?;
        let version = choose_version(&group).ok_or_else(|| Error::CrdMissing {
            server: self.server.clone(),
        })?;
        Ok(format!("{GROUP}/{version}"))
    }

    /// The Deployments the Seldon operator made in `namespace` (every namespace when None), of
    /// the SeldonDeployment `owner` only when given: one paged list selected by the operator's
    /// `seldon-deployment-id` label. None when the user may not list Deployments there.
    pub async fn seldon_deployments(
        &self,
        namespace: Option<&str>,
        owner: Option<&str>,
    ) -> Result<Option<Vec<Value>>> {
        let res = super::Resource::deployments(namespace, owner);
        match self.list_all::<LiveDeployment>(&res).await {
            Ok((items, _)) => Ok(Some(
                items.into_iter().map(LiveDeployment::into_value).collect(),
            )),
            Err(Error::Forbidden { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The ReplicaSets of those Deployments (see [`Cluster::seldon_deployments`]), each read
    /// into only what the rollout looks at. None when the user may not list ReplicaSets.
    pub async fn seldon_replica_sets(
        &self,
        namespace: Option<&str>,
        owner: Option<&str>,
    ) -> Result<Option<Vec<Value>>> {
        let res = super::Resource::replica_sets(namespace, owner);
        match self.list_all::<LiveReplicaSet>(&res).await {
            Ok((items, _)) => Ok(Some(
                items.into_iter().map(LiveReplicaSet::into_value).collect(),
            )),
            Err(Error::Forbidden { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) fn request(api_version: &str, namespace: Option<&str>) -> Request {
        let path = match namespace {
            Some(ns) => format!("/apis/{api_version}/namespaces/{ns}/{PLURAL}"),
            None => format!("/apis/{api_version}/{PLURAL}"),
        };
        Request::new(path)
    }

    /// One page of the SeldonDeployments `q` selects.
    pub async fn list_page(
        &self,
        api_version: &str,
        q: &Query<'_>,
        cont: Option<&str>,
    ) -> Result<Page> {
        let mut lp = ListParams::default();
        if q.chunk_size > 0 {
            lp = lp.limit(q.chunk_size);
        }
        if let Some(s) = q.labels {
            lp = lp.labels(s);
        }
        if let Some(n) = q.name {
            lp = lp.fields(&format!("metadata.name={n}"));
        }
        if let Some(c) = cont {
            lp = lp.continue_token(c);
        }
        let action = Doing {
            verb: "list",
            namespace: q.namespace.unwrap_or(""),
            name: None,
        };
        let page: Page<Lean> = self
            .checked(Self::request(api_version, q.namespace).list(&lp), &action)
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|l| l.0).collect(),
            metadata: page.metadata,
        })
    }

    pub async fn get(&self, api_version: &str, namespace: &str, name: &str) -> Result<Value> {
        let action = Doing {
            verb: "get",
            namespace,
            name: Some(name),
        };
        let req = Self::request(api_version, Some(namespace)).get(name, &GetParams::default());
        self.checked(req, &action).await
    }
}

/// A listed SeldonDeployment: the object as JSON, except that each `metadata.managedFields`
/// entry keeps only its manager, its operation and whether it owns `spec.predictors` (the only
/// thing read from it: who would revert a change). A manager's field set repeats the shape of
/// the whole spec (about a quarter of a listed object's bytes with one manager, more with
/// several); skipping it while parsing saves building it and holding it.
struct Lean(Value);

impl<'de> Deserialize<'de> for Lean {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Lean, D::Error> {
        d.deserialize_map(ObjectVisitor { metadata: false })
            .map(Lean)
    }
}

/// A JSON object whose `metadata` (at the top, when `metadata` is false) is read by the same
/// visitor with `managedFields` trimmed.
struct ObjectVisitor {
    /// This is the object's `metadata`.
    metadata: bool,
}

impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = match (self.metadata, key.as_str()) {
                (false, "metadata") => map.next_value_seed(MetadataSeed)?,
                (true, "managedFields") => {
                    let entries: Vec<ManagedEntry> = map.next_value()?;
                    Value::Array(entries.into_iter().map(ManagedEntry::into_value).collect())
                }
                _ => map.next_value()?,
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

struct MetadataSeed;

impl<'de> serde::de::DeserializeSeed<'de> for MetadataSeed {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Value, D::Error> {
        d.deserialize_map(ObjectVisitor { metadata: true })
    }
}

#[derive(Deserialize)]
struct ManagedEntry {
    #[serde(default)]
    manager: Option<String>,
    #[serde(default)]
    operation: Option<String>,
    #[serde(default, rename = "fieldsV1")]
    fields: Option<ManagedFields>,
}

#[derive(Deserialize)]
struct ManagedFields {
    #[serde(default, rename = "f:spec")]
    spec: Option<ManagedSpec>,
}

#[derive(Deserialize)]
struct ManagedSpec {
    #[serde(default, rename = "f:predictors")]
    predictors: Option<serde::de::IgnoredAny>,
}

impl ManagedEntry {
    fn into_value(self) -> Value {
        let owns = self
            .fields
            .and_then(|f| f.spec)
            .is_some_and(|s| s.predictors.is_some());
        let fields = if owns {
            serde_json::json!({"f:spec": {"f:predictors": {}}})
        } else {
            serde_json::json!({})
        };
        serde_json::json!({"manager": self.manager, "operation": self.operation, "fieldsV1": fields})
    }
}

/// A Deployment read into only what the rollout looks at: parsing skips the rest
/// (managedFields, the pod template's other fields) instead of building it as JSON values, which
/// took most of `status -A`'s time with thousands of Deployments.
#[derive(Deserialize)]
struct LiveDeployment {
    metadata: LiveMeta,
    #[serde(default)]
    spec: LiveSpec,
    #[serde(default)]
    status: Value,
}

#[derive(Deserialize)]
struct LiveMeta {
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    generation: Option<i64>,
}

#[derive(Deserialize, Default)]
struct LiveSpec {
    #[serde(default)]
    replicas: Option<i64>,
    #[serde(default)]
    template: LiveTemplate,
}

#[derive(Deserialize, Default)]
struct LiveTemplate {
    #[serde(default)]
    spec: LivePodSpec,
}

#[derive(Deserialize, Default)]
struct LivePodSpec {
    #[serde(default)]
    containers: Vec<LiveContainer>,
}

#[derive(Deserialize)]
struct LiveContainer {
    name: String,
    #[serde(default)]
    env: Vec<Value>,
}

impl LiveDeployment {
    /// The Deployment as the JSON the domain reads (`rollout::Deployments` keeps less still).
    fn into_value(self) -> Value {
        let containers = containers_value(self.spec.template.spec.containers);
        serde_json::json!({
            "metadata": {"name": self.metadata.name, "namespace": self.metadata.namespace,
                         "generation": self.metadata.generation},
            "spec": {"replicas": self.spec.replicas,
                     "template": {"spec": {"containers": containers}}},
            "status": self.status,
        })
    }
}

/// A ReplicaSet read into what the rollout looks at: its owner, its revision, its template's
/// containers and its pod counts.
#[derive(Deserialize)]
struct LiveReplicaSet {
    metadata: RsMeta,
    #[serde(default)]
    spec: LiveSpec,
    #[serde(default)]
    status: RsStatus,
}

#[derive(Deserialize)]
struct RsMeta {
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    annotations: RsAnnotations,
    #[serde(default, rename = "ownerReferences")]
    owner_references: Vec<Value>,
}

#[derive(Deserialize, Default)]
struct RsAnnotations {
    #[serde(default, rename = "deployment.kubernetes.io/revision")]
    revision: Option<String>,
}

#[derive(Deserialize, Default)]
struct RsStatus {
    #[serde(default)]
    replicas: Option<i64>,
    #[serde(default, rename = "readyReplicas")]
    ready_replicas: Option<i64>,
}

impl LiveReplicaSet {
    /// The ReplicaSet as the JSON `rollout::Deployments::insert_replica_set` reads.
    fn into_value(self) -> Value {
        serde_json::json!({
            "metadata": {"name": self.metadata.name, "namespace": self.metadata.namespace,
                         "annotations": {"deployment.kubernetes.io/revision": self.metadata.annotations.revision},
                         "ownerReferences": self.metadata.owner_references},
            "spec": {"template": {"spec": {"containers": containers_value(self.spec.template.spec.containers)}}},
            "status": {"replicas": self.status.replicas, "readyReplicas": self.status.ready_replicas},
        })
    }
}

fn containers_value(containers: Vec<LiveContainer>) -> Vec<Value> {
    containers
        .into_iter()
        .map(|c| serde_json::json!({"name": c.name, "env": c.env}))
        .collect()
}

/// The label selector of the operator's Deployments: `seldon-deployment-id`, or
/// `seldon-deployment-id=NAME` for one SeldonDeployment. The operator writes a name over 63
/// characters (too long for a label value) as `seldon-<md5>`, so such an owner is not narrowed.
pub fn owner_selector(owner: Option<&str>) -> String {
    match owner {
        Some(name) if name.len() <= 63 => format!("seldon-deployment-id={name}"),
        _ => "seldon-deployment-id".into(),
    }
}

/// From an APIGroup document: `v1` when served, else the server's preferred version, else the
/// first one listed. None when the group serves no version.
pub fn choose_version(group: &Value) -> Option<&str> {
    let versions: Vec<&str> = group
        .get("versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("version").and_then(Value::as_str))
        .collect();
    if versions.contains(&"v1") {
        return Some("v1");
    }
    group
        .get("preferredVersion")
        .and_then(|p| p.get("version"))
        .and_then(Value::as_str)
        .or(versions.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_owner_narrows_the_deployments_unless_its_name_is_too_long_for_a_label() {
        assert_eq!(owner_selector(None), "seldon-deployment-id");
        assert_eq!(owner_selector(Some("iris")), "seldon-deployment-id=iris");
        let long = "a".repeat(64);
        assert_eq!(owner_selector(Some(&long)), "seldon-deployment-id");
    }

    #[test]
    fn listed_objects_keep_everything_but_the_managers_field_sets() {
        let text = r#"{"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
            "metadata": {"name": "iris", "namespace": "models", "labels": {"a": "b"},
              "managedFields": [
                {"manager": "argocd-controller", "operation": "Apply", "apiVersion": "v1",
                 "fieldsV1": {"f:spec": {"f:predictors": {}, "f:annotations": {".": {}}}}},
                {"manager": "kubectl-create", "operation": "Update",
                 "fieldsV1": {"f:metadata": {"f:labels": {"f:a": {}}}}},
                {"manager": "odd"}]},
            "spec": {"predictors": [{"name": "default", "managedFields": [1]}]},
            "status": {"state": "Available"}}"#;
        let lean: Lean = serde_json::from_str(text).expect("parses");
        let full: Value = serde_json::from_str(text).expect("parses");
        assert_eq!(
            lean.0["metadata"]["managedFields"],
            json!([
                {"manager": "argocd-controller", "operation": "Apply", "fieldsV1": {"f:spec": {"f:predictors": {}}}},
                {"manager": "kubectl-create", "operation": "Update", "fieldsV1": {}},
                {"manager": "odd", "operation": null, "fieldsV1": {}}])
        );
        // Everything else as parsed whole, in order; a key of that name elsewhere is kept.
        let mut rest = lean.0.clone();
        let mut whole = full.clone();
        rest["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        whole["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        assert_eq!(rest, whole);
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&lean.0), keys(&full));
        assert_eq!(keys(&lean.0["metadata"]), keys(&full["metadata"]));
        // The warning it feeds sees the same owner as with the whole entries.
        use crate::domain::v1::status::competing_manager_warnings;
        assert_eq!(
            competing_manager_warnings(&lean.0, "kubectl-seldon-tracing"),
            competing_manager_warnings(&full, "kubectl-seldon-tracing")
        );
        assert!(serde_json::from_str::<Lean>("[1]").is_err());
    }

    #[test]
    fn prefers_v1_then_the_servers_preference() {
        let all = json!({"versions": [{"version": "v1alpha2"}, {"version": "v1"}], "preferredVersion": {"version": "v1alpha2"}});
        assert_eq!(choose_version(&all), Some("v1"));
        let old = json!({"versions": [{"version": "v1alpha2"}, {"version": "v1alpha3"}], "preferredVersion": {"version": "v1alpha3"}});
        assert_eq!(choose_version(&old), Some("v1alpha3"));
        let bare = json!({"versions": [{"version": "v1alpha2"}]});
        assert_eq!(choose_version(&bare), Some("v1alpha2"));
        assert_eq!(choose_version(&json!({"versions": []})), None);
    }
}
