//! Seldon Core 2 reads: SeldonRuntimes, the SeldonConfig a runtime names, and the operator's
//! `seldon-tracing` ConfigMap.

use serde_json::Value;

use crate::error::{Error, Result};

use super::{Action, Cluster};

/// The API group and version of Seldon Core 2's resources.
pub const V2_API: &str = "mlops.seldon.io/v1alpha1";

impl Cluster {
    async fn get_at(&self, path: &str, namespace: &str, name: Option<&str>) -> Result<Value> {
        let verb = format!("read {path}");
        let action = Action {
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

    /// One SeldonRuntime.
    pub async fn seldon_runtime(&self, namespace: &str, name: &str) -> Result<Option<Value>> {
        let path = format!("/apis/{V2_API}/namespaces/{namespace}/seldonruntimes/{name}");
        self.get_optional(&path, namespace, name).await
    }
}
