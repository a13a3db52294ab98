//! The ConfigMaps Python components' `JAEGER_CONFIG_PATH` files come from: one GET each, a few
//! at a time. Only ConfigMaps: a file in a Secret is reported, never read.

use futures::StreamExt;
use serde_json::Value;

use super::{Applied, Cluster};
use crate::domain::v1::config_file::mount::{ConfigMap, ConfigMaps};
use crate::error::{Error, Result};

/// GETs in flight at once.
const AT_ONCE: usize = 8;

impl Cluster {
    /// One ConfigMap object; Ok(None) when it does not exist. A refusal is `Error::Forbidden`.
    pub async fn get_config_map(&self, namespace: &str, name: &str) -> Result<Option<Value>> {
        let path = format!("/api/v1/namespaces/{namespace}/configmaps/{name}");
        self.get_optional(&path, namespace, name).await
    }

    /// One ConfigMap: found, missing, or not read with why (no permission).
    pub async fn config_map(&self, namespace: &str, name: &str) -> Result<ConfigMap> {
        match self.get_config_map(namespace, name).await {
            Ok(Some(obj)) => Ok(ConfigMap::from_object(&obj)),
            Ok(None) => Ok(ConfigMap::Missing),
            Err(Error::Forbidden { .. }) => Ok(ConfigMap::NotRead(format!(
                "you may not get configmaps in namespace {namespace:?} (`kubectl auth can-i get configmaps -n {namespace}`)"
            ))),
            Err(e) => Err(e),
        }
    }

    /// Server-side apply of a ConfigMap with force; a 409 (stale resourceVersion, or created
    /// meanwhile) comes back as Conflict, a 403 as a one-line RBAC error.
    pub async fn apply_config_map(
        &self,
        body: &Value,
        field_manager: &str,
        dry_run: bool,
    ) -> Result<Applied> {
        let instead = |name: &str| {
            format!(
                "or leave Python components without a config file (the change asked for needs ConfigMap {name}); nothing was changed"
            )
        };
        self.apply_object(
            "/api/v1",
            "configmaps",
            instead,
            body,
            field_manager,
            dry_run,
        )
        .await
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
