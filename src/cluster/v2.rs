//! Seldon Core 2 reads: SeldonRuntimes, the SeldonConfig a runtime names, and the operator's
//! `seldon-tracing` ConfigMap.

use serde_json::Value;

use super::{Cluster, Doing};
use crate::error::{Error, Result};

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

    /// The items of the list at `path` (every page); Ok(None) when the user may not list it.
    async fn list_items(&self, path: &str, namespace: &str) -> Result<Option<Vec<Value>>> {
        let mut items = Vec::new();
        let mut cont: Option<String> = None;
        loop {
            let page = match &cont {
                Some(c) => format!("{path}?limit=500&continue={c}"),
                None => format!("{path}?limit=500"),
            };
            let list = match self.get_at(&page, namespace, None).await {
                Ok(l) => l,
                Err(Error::Forbidden { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            if let Some(a) = list.get("items").and_then(Value::as_array) {
                items.extend(a.iter().cloned());
            }
            match list.pointer("/metadata/continue").and_then(Value::as_str) {
                Some(c) if !c.is_empty() => cont = Some(c.to_string()),
                _ => return Ok(Some(items)),
            }
        }
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

/// A runtime namespace's workloads and pods, as listed.
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
