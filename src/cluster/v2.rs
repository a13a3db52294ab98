//! Seldon Core 2 reads: SeldonRuntimes, the SeldonConfig a runtime names, and the operator's
//! `seldon-tracing` ConfigMap.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::{Cluster, Doing};
use crate::domain::json::str_at;
use crate::domain::v2::CONFIG_MAP;
use crate::domain::v2::workloads;
use crate::error::{Error, Result};
use crate::web;

/// The API group and version of Seldon Core 2's resources.
pub const V2_API: &str = "mlops.seldon.io/v1alpha1";

impl Cluster {
    async fn get_at(&self, path: &str, namespace: &str, name: Option<&str>) -> Result<Value> {
        let verb = format!("read {path}");
        let action = Doing {
            verb: &verb,
            namespace,
            name,
        };
        self.patiently(|| {
            let req = http::Request::get(path)
                .body(Vec::new())
                .map_err(kube::core::request::Error::BuildRequest);
            self.checked::<Value>(req, &action)
        })
        .await
    }

    /// The SeldonRuntimes of `namespace` (every namespace when None); Ok(None) when the cluster
    /// does not serve them (Seldon Core 2 is not installed).
    pub async fn seldon_runtimes(&self, namespace: Option<&str>) -> Result<Option<Vec<Value>>> {
        let path = match namespace {
            Some(ns) => format!("/apis/{V2_API}/namespaces/{ns}/seldonruntimes"),
            None => format!("/apis/{V2_API}/seldonruntimes"),
        };
        match self.get_at(&path, namespace.unwrap_or(""), None).await {
            Ok(list) => Ok(Some(
                list.get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            )),
            Err(Error::CrdMissing { .. }) => Ok(None),
            Err(Error::Forbidden { message, .. }) => Err(Error::Rbac {
                verb: "list".into(),
                resource: "seldonruntimes".into(),
                namespace: namespace.unwrap_or("(all namespaces)").into(),
                message,
                instead: "(apiGroups [\"mlops.seldon.io\"]); Seldon Core 2's tracing is set there"
                    .into(),
            }),
            Err(e) => Err(e),
        }
    }

    /// One namespaced object at `path`; Ok(None) when it does not exist, Err(Forbidden) when
    /// the user may not read it.
    pub async fn get_optional(
        &self,
        path: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>> {
        match self.get_at(path, namespace, Some(name)).await {
            Ok(v) => Ok(Some(v)),
            Err(Error::NotFound { .. } | Error::CrdMissing { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Server-side apply of a SeldonRuntime body (`core2::apply_body`), with force; a 409 comes
    /// back as Conflict, a 403 as the RBAC rule to ask for.
    pub async fn apply_runtime(
        &self,
        body: &Value,
        field_manager: &str,
        dry_run: bool,
    ) -> Result<super::Applied> {
        let instead =
            |_: &str| "(apiGroups [\"mlops.seldon.io\"]); nothing was changed".to_string();
        let prefix = format!("/apis/{V2_API}");
        self.apply_object(
            &prefix,
            "seldonruntimes",
            instead,
            body,
            field_manager,
            dry_run,
        )
        .await
    }

    /// Sets annotation `core2::RESTART_ANNOTATION` to `value` on the SeldonRuntime or Server
    /// (`resource`: seldonruntimes | servers) by server-side apply under `<field_manager>-restart`,
    /// a manager of its own: the tracing fields' owner is left as it is.
    pub async fn annotate_v2(
        &self,
        resource: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        value: &str,
        field_manager: &str,
    ) -> Result<()> {
        let body = serde_json::json!({
            "apiVersion": V2_API,
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace,
                         "annotations": {crate::domain::v2::RESTART_ANNOTATION: value}},
        });
        let instead = |_: &str| {
            "(apiGroups [\"mlops.seldon.io\"]) to restart the pods; the tracing change itself was written".to_string()
        };
        let prefix = format!("/apis/{V2_API}");
        let manager = format!("{field_manager}-restart");
        match self
            .apply_object(&prefix, resource, instead, &body, &manager, false)
            .await?
        {
            super::Applied::Done(_) | super::Applied::Conflict => Ok(()),
        }
    }

    /// One SeldonRuntime.
    pub async fn seldon_runtime(&self, namespace: &str, name: &str) -> Result<Option<Value>> {
        let path = format!("/apis/{V2_API}/namespaces/{namespace}/seldonruntimes/{name}");
        self.get_optional(&path, namespace, name).await
    }

    /// The items of every page of the list at `path` (with `query`, already encoded), each
    /// passed through `keep` (None leaves it out) as its page is read; Ok(None) when the user
    /// may not list it. `namespace` is the list's, for messages ("" cluster-wide).
    async fn list_pages(
        &self,
        path: &str,
        query: &str,
        namespace: &str,
        mut keep: impl FnMut(Value) -> Option<Value>,
    ) -> Result<Option<Vec<Value>>> {
        let mut items = Vec::new();
        let mut cont: Option<String> = None;
        let sep = if query.is_empty() { "" } else { "&" };
        loop {
            let page = match &cont {
                Some(c) => format!("{path}?{query}{sep}limit=500&continue={c}"),
                None => format!("{path}?{query}{sep}limit=500"),
            };
            let mut list = match self.get_at(&page, namespace, None).await {
                Ok(l) => l,
                Err(Error::Forbidden { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            if let Some(Value::Array(a)) = list.get_mut("items").map(Value::take) {
                items.extend(a.into_iter().filter_map(&mut keep));
            }
            match list.pointer("/metadata/continue").and_then(Value::as_str) {
                Some(c) if !c.is_empty() => cont = Some(c.to_string()),
                _ => return Ok(Some(items)),
            }
        }
    }

    /// The items of the list at `path` (every page); Ok(None) when the user may not list it.
    async fn list_items(&self, path: &str, namespace: &str) -> Result<Option<Vec<Value>>> {
        self.list_pages(path, "", namespace, Some).await
    }

    /// The items of the cluster-wide list at `path` (with `query`) that are in one of
    /// `namespaces`, each passed through `keep`; Ok(None) when the user may not list it
    /// cluster-wide.
    async fn list_in(
        &self,
        path: &str,
        query: &str,
        namespaces: &BTreeSet<String>,
        keep: fn(Value) -> Value,
    ) -> Result<Option<Vec<Value>>> {
        let in_scope = |o: &Value| {
            str_at(o, &["metadata", "namespace"]).is_some_and(|ns| namespaces.contains(ns))
        };
        self.list_pages(path, query, "", |o| in_scope(&o).then(|| keep(o)))
            .await
    }

    /// What the runtimes of `namespaces` need from them, in a few cluster-wide lists instead of
    /// four requests per runtime: ConfigMaps `seldon-tracing` (one list, by field selector),
    /// every Deployment and StatefulSet, and the pods of the ones that read the setting (one
    /// list per kind of selector; see [`workloads::covering_selectors`]). Ok(None) when any of
    /// them may not be listed cluster-wide: then read namespace by namespace.
    pub async fn fleet(&self, namespaces: &BTreeSet<String>) -> Result<Option<Fleet>> {
        let config_maps = format!("fieldSelector=metadata.name%3D{CONFIG_MAP}");
        let (cms, deployments, statefulsets) = tokio::join!(
            self.list_in(
                "/api/v1/configmaps",
                &config_maps,
                namespaces,
                std::convert::identity
            ),
            self.list_in("/apis/apps/v1/deployments", "", namespaces, trimmed),
            self.list_in("/apis/apps/v1/statefulsets", "", namespaces, trimmed),
        );
        let (Some(cms), Some(deployments), Some(statefulsets)) =
            (cms?, deployments?, statefulsets?)
        else {
            return Ok(None);
        };
        let selectors = workloads::reader_selectors(deployments.iter().chain(&statefulsets));
        let mut pods: Vec<Value> = Vec::new();
        let mut seen: HashSet<(String, String)> = HashSet::new();
        for selector in workloads::covering_selectors(&selectors) {
            let query = format!("labelSelector={}", web::query_encoded(&selector));
            let Some(found) = self
                .list_in("/api/v1/pods", &query, namespaces, trimmed)
                .await?
            else {
                return Ok(None);
            };
            for p in found {
                let key = (
                    namespace_of(&p),
                    str_at(&p, &["metadata", "name"]).unwrap_or("").to_string(),
                );
                if seen.insert(key) {
                    pods.push(p);
                }
            }
        }
        // Every namespace asked for has an entry, its pods read (if none).
        let mut running: HashMap<String, RuntimeWorkloads> = namespaces
            .iter()
            .map(|ns| {
                let none = RuntimeWorkloads {
                    pods: Some(Vec::new()),
                    ..RuntimeWorkloads::default()
                };
                (ns.clone(), none)
            })
            .collect();
        place(&mut running, deployments, |r| &mut r.deployments);
        place(&mut running, statefulsets, |r| &mut r.statefulsets);
        place(&mut running, pods, |r| r.pods.get_or_insert_with(Vec::new));
        let config_maps = cms.into_iter().map(|cm| (namespace_of(&cm), cm)).collect();
        let fleet = Fleet {
            config_maps,
            running,
        };
        Ok(Some(fleet))
    }

    /// What runs in a runtime's namespace: its Deployments and StatefulSets (None when they may
    /// not be listed) and its pods (None alone when only those may not), the three read at once.
    pub async fn runtime_running(&self, namespace: &str) -> Result<Option<RuntimeWorkloads>> {
        let deployments = format!("/apis/apps/v1/namespaces/{namespace}/deployments");
        let statefulsets = format!("/apis/apps/v1/namespaces/{namespace}/statefulsets");
        let pods = format!("/api/v1/namespaces/{namespace}/pods");
        let (d, s, p) = tokio::join!(
            self.list_items(&deployments, namespace),
            self.list_items(&statefulsets, namespace),
            self.list_items(&pods, namespace),
        );
        let (Some(deployments), Some(statefulsets), pods) = (d?, s?, p?) else {
            return Ok(None);
        };
        Ok(Some(RuntimeWorkloads {
            deployments,
            statefulsets,
            pods,
        }))
    }
}

/// What [`Cluster::fleet`] read, by namespace.
pub struct Fleet {
    /// ConfigMap `seldon-tracing` of each namespace that has one.
    pub config_maps: HashMap<String, Value>,
    /// Every namespace asked for, with its workloads and the pods of its readers.
    pub running: HashMap<String, RuntimeWorkloads>,
}

fn namespace_of(o: &Value) -> String {
    str_at(o, &["metadata", "namespace"])
        .unwrap_or("")
        .to_string()
}

/// Puts each of `objects` into the `slot` of its namespace's workloads (those of namespaces not
/// in `running` are dropped).
fn place(
    running: &mut HashMap<String, RuntimeWorkloads>,
    objects: Vec<Value>,
    slot: fn(&mut RuntimeWorkloads) -> &mut Vec<Value>,
) {
    for o in objects {
        if let Some(r) = running.get_mut(&namespace_of(&o)) {
            slot(r).push(o);
        }
    }
}

/// A workload or pod without what no Seldon Core 2 read looks at: its managedFields and
/// annotations (a pod's or template's own are kept), the largest parts of most objects.
fn trimmed(mut v: Value) -> Value {
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
        m.remove("annotations");
    }
    v
}

/// A runtime namespace's workloads and pods, as listed.
#[derive(Default)]
pub struct RuntimeWorkloads {
    pub deployments: Vec<Value>,
    pub statefulsets: Vec<Value>,
    pub pods: Option<Vec<Value>>,
}

impl RuntimeWorkloads {
    /// The borrowed view the domain reads.
    pub fn view(&self) -> crate::domain::v2::status::Running<'_> {
        crate::domain::v2::status::Running {
            deployments: &self.deployments,
            statefulsets: &self.statefulsets,
            pods: self.pods.as_deref(),
        }
    }
}
