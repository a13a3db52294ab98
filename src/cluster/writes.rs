//! Writes: server-side apply of the plugin's fields, guarded by the resourceVersion read.

use kube::api::{Patch, PatchParams};
use kube::core::Request;
use serde_json::Value;

use super::errors::Failure;
use super::{Cluster, Doing};
use crate::error::Result;

/// Outcome of one apply: stored (or dry-run) object, or a resourceVersion conflict to retry.
pub enum Applied {
    Done(Value),
    Conflict,
}

impl Cluster {
    /// Server-side apply of `body` with force; a 409 (stale resourceVersion) comes back as Conflict.
    pub async fn apply(
        &self,
        api_version: &str,
        namespace: &str,
        name: &str,
        body: &Value,
        field_manager: &str,
        dry_run: bool,
    ) -> Result<Applied> {
        let base = Self::request(api_version, Some(namespace));
        self.apply_at(base, namespace, name, body, field_manager, dry_run)
            .await
    }

    /// Server-side apply of `body` to `name` under the collection `base`, with force.
    pub(super) async fn apply_at(
        &self,
        base: Request,
        namespace: &str,
        name: &str,
        body: &Value,
        field_manager: &str,
        dry_run: bool,
    ) -> Result<Applied> {
        let action = Doing {
            verb: "patch",
            namespace,
            name: Some(name),
        };
        let mut pp = PatchParams::apply(field_manager).force();
        pp.dry_run = dry_run;
        let req = base.patch(name, &pp, &Patch::Apply(body));
        match self.call::<Value>(req).await {
            Ok(v) => Ok(Applied::Done(v)),
            Err(Failure::Kube(kube::Error::Api(s))) if s.code == 409 => Ok(Applied::Conflict),
            Err(f) => Err(self.to_error(f, &action)),
        }
    }

    /// Server-side apply of `body` (its own `metadata.namespace` and `.name`) to the namespaced
    /// collection `/…/namespaces/NS/<collection>` under `prefix` (`/api/v1`, `/apis/G/V`); a 403
    /// is the one-line RBAC rule for `resource`, `instead` saying what to do without it.
    pub(super) async fn apply_object(
        &self,
        prefix: &str,
        resource: &str,
        instead: impl FnOnce(&str) -> String,
        body: &Value,
        field_manager: &str,
        dry_run: bool,
    ) -> Result<Applied> {
        let text = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or_default();
        let (namespace, name) = (text("/metadata/namespace"), text("/metadata/name"));
        let base = Request::new(format!("{prefix}/namespaces/{namespace}/{resource}"));
        self.apply_at(base, namespace, name, body, field_manager, dry_run)
            .await
            .map_err(|e| match e {
                crate::error::Error::Forbidden { message, .. } => crate::error::Error::Rbac {
                    verb: "patch".into(),
                    resource: resource.into(),
                    namespace: namespace.into(),
                    message,
                    instead: instead(name),
                },
                e => e,
            })
    }
}
