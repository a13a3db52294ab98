//! The ConfigMaps Python components' `JAEGER_CONFIG_PATH` files come from: one GET each, a few
//! at a time. Only ConfigMaps: a file in a Secret is reported, never read.

use futures::StreamExt;

use crate::domain::pyconfig::{ConfigMap, ConfigMaps};
use crate::error::{Error, Result};

use super::{Action, Cluster};

/// GETs in flight at once.
const AT_ONCE: usize = 8;

impl Cluster {
    /// One ConfigMap: found, missing, or not read with why (no permission).
    pub async fn config_map(&self, namespace: &str, name: &str) -> Result<ConfigMap> {
        let path = format!("/api/v1/namespaces/{namespace}/configmaps/{name}");
        let verb = format!("read configmap {namespace}/{name}");
        let action = Action {
            verb: &verb,
            namespace,
            name: Some(name),
        };
        let answer = self
            .patiently(|| {
                let req = http::Request::get(path.as_str())
                    .body(Vec::new())
                    .map_err(kube::core::request::Error::BuildRequest);
                self.checked::<serde_json::Value>(req, &action)
            })
            .await;
        match answer {
            Ok(obj) => Ok(ConfigMap::from_object(&obj)),
            Err(Error::NotFound { .. }) => Ok(ConfigMap::Missing),
            Err(Error::Forbidden { .. }) => Ok(ConfigMap::NotRead(format!(
                "you may not get configmaps in namespace {namespace:?} (`kubectl auth can-i get configmaps -n {namespace}`)"
            ))),
            Err(e) => Err(e),
        }
    }

    /// Every ConfigMap in `wanted` (namespace, name), each once.
    pub async fn config_maps(&self, wanted: &[(String, String)]) -> Result<ConfigMaps> {
        let mut maps = ConfigMaps::new();
        let mut unique: Vec<&(String, String)> = Vec::new();
        for key in wanted {
            if !unique.contains(&key) {
                unique.push(key);
            }
        }
        let mut answers = futures::stream::iter(unique)
            .map(|(ns, name)| async move { (ns, name, self.config_map(ns, name).await) })
            .buffer_unordered(AT_ONCE);
        while let Some((ns, name, cm)) = answers.next().await {
            maps.insert(ns, name, cm?);
        }
        Ok(maps)
    }
}
