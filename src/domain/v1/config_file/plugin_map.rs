//! The plugin's own config files: one ConfigMap per SeldonDeployment (`<name>-tracing`), one key
//! per Python component that needs a file, mounted read-only at /etc/seldon-tracing in the
//! components' pods. A file holds only what env cannot say to the Python client (its sampler
//! and B3 headers); where spans go stays in env, so the agent host can stay a `fieldRef`.
//!
//! The key names its content's hash (`<predictor>.<component>.<hash>.yaml`): a new content is a
//! new key and so a new `JAEGER_CONFIG_PATH`, which the operator rolls out like any env change
//! (the wrapper reads the file only at start). The keys the object referenced before a change
//! are kept with the new ones until the next change, so a pod of the old ReplicaSet that
//! restarts meanwhile still finds its file.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::domain::json::str_at;
use crate::domain::v1::config_file::python;
use crate::domain::v1::config_file::python::{FileSampler, Startup};
use crate::domain::v1::sampler::{Sampler, SamplerKind};

/// The pod volume, and where it is mounted.
pub const VOLUME: &str = "seldon-tracing";
pub const MOUNT_PATH: &str = "/etc/seldon-tracing";
/// Labels on the plugin's ConfigMaps.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubectl-seldon-tracing");
pub const DEPLOYMENT_LABEL: &str = "seldon-tracing.kubectl.io/deployment";

/// The ConfigMap of SeldonDeployment `sdep`.
pub fn config_map_name(sdep: &str) -> String {
    format!("{sdep}-tracing")
}

/// What a component's own file says.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnFileSettings {
    /// The sampler of the traces the component starts.
    pub sampler: Sampler,
    /// `propagation: b3`.
    pub b3: bool,
}

impl Default for OwnFileSettings {
    /// What the wrapper does without a file: const 1, Jaeger headers.
    fn default() -> Self {
        OwnFileSettings {
            sampler: Sampler::const_on(),
            b3: false,
        }
    }
}

impl OwnFileSettings {
    /// `sampler const:1, jaeger headers`, for change lines.
    pub fn describe(&self) -> String {
        let headers = if self.b3 { "b3" } else { "jaeger" };
        format!("sampler {}, {headers} headers", self.sampler)
    }

    /// The file's text: a sampler always (a file without one would make the client use a
    /// remote sampler at 0.001), and `propagation` only for B3.
    pub fn render(&self) -> String {
        let mut out =
            String::from("# written by kubectl-seldon-tracing; changes are overwritten\n");
        let s = &self.sampler;
        match s.kind {
            // The Python client takes only 1 or true as "sample".
            SamplerKind::Const => {
                let on = s.param.as_deref().is_some_and(|p| p.trim() != "0");
                out.push_str(&format!(
                    "sampler:\n  type: const\n  param: {}\n",
                    u8::from(on)
                ));
            }
            // The number as Rust prints it, which reads back the same: 0.10 and 0.1 are one file.
            SamplerKind::Probabilistic | SamplerKind::RateLimiting => {
                let value: f64 = s
                    .param
                    .as_deref()
                    .and_then(|p| p.trim().parse().ok())
                    .unwrap_or(0.0);
                out.push_str(&format!(
                    "sampler:\n  type: {}\n  param: {value}\n",
                    s.kind.as_str()
                ));
            }
            // No type: the client's remote-controlled sampler (it has no initial rate).
            SamplerKind::Remote => out.push_str("sampler: {}\n"),
        }
        if self.b3 {
            out.push_str("propagation: b3\n");
        }
        out
    }

    /// Reads a file this module wrote (None for anything else).
    pub fn parse(text: &str) -> Option<OwnFileSettings> {
        let Startup::Settings(s) = python::load(text, None) else {
            return None;
        };
        let sampler = match s.sampler {
            FileSampler::Const(on) => Sampler {
                kind: SamplerKind::Const,
                param: Some(if on { "1" } else { "0" }.into()),
            },
            FileSampler::Probabilistic(_) => Sampler {
                kind: SamplerKind::Probabilistic,
                param: s.sampler_param.clone(),
            },
            FileSampler::RateLimiting(_) => Sampler {
                kind: SamplerKind::RateLimiting,
                param: s.sampler_param.clone(),
            },
            FileSampler::Remote => Sampler {
                kind: SamplerKind::Remote,
                param: None,
            },
        };
        Some(OwnFileSettings { sampler, b3: s.b3 })
    }
}

/// FNV-1a, 32 bits: stable across builds and platforms (std's hasher is not promised to be).
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The key of `content` for `component` of `predictor`.
pub fn key(predictor: &str, component: &str, content: &str) -> String {
    format!("{predictor}.{component}.{:08x}.yaml", fnv1a(content))
}

/// The path the container reads `key` at.
pub fn path(key: &str) -> String {
    format!("{MOUNT_PATH}/{key}")
}

/// The key of the plugin's file `container` reads, when it reads one: its `JAEGER_CONFIG_PATH`
/// is under [`MOUNT_PATH`], mounted from the [`VOLUME`] volume of `pod`, which shows ConfigMap
/// `config_map`.
pub fn own_key(pod: &Value, container: &Value, config_map: &str) -> Option<String> {
    let env = container.get("env");
    let path = crate::domain::v1::env::get(env, "JAEGER_CONFIG_PATH")?;
    let key = path
        .literal()?
        .strip_prefix(MOUNT_PATH)?
        .strip_prefix('/')?;
    let mounted = container
        .get("volumeMounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|m| {
            str_at(m, &["name"]) == Some(VOLUME) && str_at(m, &["mountPath"]) == Some(MOUNT_PATH)
        });
    let ours = pod
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|v| {
            str_at(v, &["name"]) == Some(VOLUME)
                && str_at(v, &["configMap", "name"]) == Some(config_map)
        });
    (mounted && ours && !key.contains('/')).then(|| key.to_string())
}

/// Every key of the plugin's ConfigMap the object's containers read, in order, once each.
pub fn referenced_keys(obj: &Value) -> Vec<String> {
    let name = str_at(obj, &["metadata", "name"]).unwrap_or("");
    let cm = config_map_name(name);
    let mut out: Vec<String> = Vec::new();
    for p in obj
        .pointer("/spec/predictors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for cs in p
            .get("componentSpecs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(pod) = cs.get("spec") else { continue };
            for container in pod
                .get("containers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(k) = own_key(pod, container, &cm)
                    && !out.contains(&k)
                {
                    out.push(k);
                }
            }
        }
    }
    out
}

/// Makes `pod` show the plugin's ConfigMap as the [`VOLUME`] volume; Ok(true) when added. A
/// volume of that name that is something else is an error (the plugin does not take over a
/// user's).
pub fn add_volume(pod: &mut Value, config_map: &str) -> Result<bool, String> {
    let volumes = list_mut(pod, "volumes")?;
    match volumes
        .iter()
        .find(|v| str_at(v, &["name"]) == Some(VOLUME))
    {
        Some(v) if str_at(v, &["configMap", "name"]) == Some(config_map) => Ok(false),
        Some(_) => Err(format!(
            "its pod already has a volume named {VOLUME:?} that is not ConfigMap {config_map}; rename that volume"
        )),
        None => {
            volumes.push(json!({"name": VOLUME, "configMap": {"name": config_map}}));
            Ok(true)
        }
    }
}

/// Makes `container` mount the [`VOLUME`] volume read-only at [`MOUNT_PATH`]; Ok(true) when
/// added. Another mount at that path or of that name is an error.
pub fn add_mount(container: &mut Value) -> Result<bool, String> {
    let mounts = list_mut(container, "volumeMounts")?;
    let is = |m: &Value, field: &str, want: &str| str_at(m, &[field]) == Some(want);
    match mounts
        .iter()
        .find(|m| is(m, "name", VOLUME) || is(m, "mountPath", MOUNT_PATH))
    {
        Some(m) if is(m, "name", VOLUME) && is(m, "mountPath", MOUNT_PATH) => Ok(false),
        Some(_) => Err(format!(
            "the container already mounts something else at {MOUNT_PATH} or as {VOLUME:?}; move that mount"
        )),
        None => {
            mounts.push(json!({"name": VOLUME, "mountPath": MOUNT_PATH, "readOnly": true}));
            Ok(true)
        }
    }
}

fn list_mut<'a>(holder: &'a mut Value, field: &str) -> Result<&'a mut Vec<Value>, String> {
    let obj = holder
        .as_object_mut()
        .ok_or_else(|| "is not an object".to_string())?;
    obj.entry(field)
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .ok_or_else(|| format!("{field} is not a list"))
}

/// The plugin's ConfigMap for SeldonDeployment `obj`: `data` as given, labelled as the
/// plugin's, owned by the object when its uid is known (deleted with it), with
/// `resourceVersion` when one is given (compare-and-swap).
pub fn config_map(
    obj: &Value,
    data: &BTreeMap<String, String>,
    resource_version: Option<&str>,
) -> Value {
    let name = str_at(obj, &["metadata", "name"]).unwrap_or("");
    let mut metadata = json!({
        "name": config_map_name(name),
        "labels": {MANAGED_BY.0: MANAGED_BY.1, DEPLOYMENT_LABEL: name},
    });
    if let Some(ns) = str_at(obj, &["metadata", "namespace"]) {
        metadata["namespace"] = json!(ns);
    }
    if let Some(uid) = str_at(obj, &["metadata", "uid"]) {
        metadata["ownerReferences"] = json!([{
            "apiVersion": obj.get("apiVersion").cloned().unwrap_or(json!("machinelearning.seldon.io/v1")),
            "kind": "SeldonDeployment",
            "name": name,
            "uid": uid,
        }]);
    }
    if let Some(rv) = resource_version {
        metadata["resourceVersion"] = json!(rv);
    }
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})
}

/// The data the plugin's ConfigMap must hold once `after` replaces `before`: every key either
/// reads (the old ones until the next change, for pods of the old ReplicaSet that restart), with
/// the new content from `files`, else the content it holds now (`current`); a key known in
/// neither is left out.
pub fn desired_data(
    before: &Value,
    after: &Value,
    files: &[(String, String)],
    current: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for key in referenced_keys(after)
        .into_iter()
        .chain(referenced_keys(before))
    {
        let content = files
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, text)| text.clone())
            .or_else(|| current.and_then(|d| d.get(&key).cloned()));
        if let Some(text) = content {
            out.insert(key, text);
        }
    }
    out
}

/// Whether a ConfigMap object is one the plugin wrote.
pub fn is_ours(cm: &Value) -> bool {
    str_at(cm, &["metadata", "labels", MANAGED_BY.0]) == Some(MANAGED_BY.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampler(kind: SamplerKind, param: Option<&str>) -> Sampler {
        Sampler {
            kind,
            param: param.map(String::from),
        }
    }

    #[test]
    fn files_read_back_as_written_and_the_python_client_accepts_them() {
        for s in [
            OwnFileSettings::default(),
            OwnFileSettings {
                sampler: sampler(SamplerKind::Probabilistic, Some("0.01")),
                b3: true,
            },
            OwnFileSettings {
                sampler: sampler(SamplerKind::Probabilistic, Some("0.0000001")),
                b3: false,
            },
            OwnFileSettings {
                sampler: sampler(SamplerKind::RateLimiting, Some("5")),
                b3: false,
            },
            OwnFileSettings {
                sampler: sampler(SamplerKind::Remote, None),
                b3: true,
            },
            OwnFileSettings {
                sampler: sampler(SamplerKind::Const, Some("0")),
                b3: false,
            },
        ] {
            let text = s.render();
            assert!(
                matches!(python::load(&text, None), Startup::Settings(_)),
                "{text}"
            );
            assert_eq!(OwnFileSettings::parse(&text), Some(s.clone()), "{text}");
        }
    }

    #[test]
    fn numbers_written_two_ways_make_one_file() {
        let render = |p: &str| {
            OwnFileSettings {
                sampler: sampler(SamplerKind::Probabilistic, Some(p)),
                b3: false,
            }
            .render()
        };
        assert_eq!(render("0.10"), render("0.1"));
        assert_eq!(render("1e-3"), render("0.001"));
        let back = OwnFileSettings::parse(&render("0.10")).expect("ours");
        assert_eq!(back.render(), render("0.10"));
    }

    #[test]
    fn a_new_content_is_a_new_key() {
        let a = OwnFileSettings::default().render();
        let b = OwnFileSettings {
            b3: true,
            ..OwnFileSettings::default()
        }
        .render();
        assert_ne!(key("p", "m", &a), key("p", "m", &b));
        assert_eq!(key("p", "m", &a), key("p", "m", &a));
        assert!(key("p", "m", &a).starts_with("p.m.") && key("p", "m", &a).ends_with(".yaml"));
        // FNV-1a's published test vector.
        assert_eq!(fnv1a("a"), 0xe40c_292c);
    }

    #[test]
    fn mounting_twice_adds_once_and_a_foreign_volume_of_that_name_is_refused() {
        let mut pod = json!({"containers": []});
        let mut container = json!({"name": "m"});
        assert_eq!(add_volume(&mut pod, "d-tracing"), Ok(true));
        assert_eq!(add_mount(&mut container), Ok(true));
        assert_eq!(add_volume(&mut pod, "d-tracing"), Ok(false));
        assert_eq!(add_mount(&mut container), Ok(false));
        container["env"] =
            json!([{"name": "JAEGER_CONFIG_PATH", "value": path("p.m.0000abcd.yaml")}]);
        assert_eq!(
            own_key(&pod, &container, "d-tracing").as_deref(),
            Some("p.m.0000abcd.yaml")
        );
        assert_eq!(own_key(&pod, &container, "other-tracing"), None);
        let mut foreign = json!({"volumes": [{"name": VOLUME, "emptyDir": {}}]});
        assert!(add_volume(&mut foreign, "d-tracing").is_err());
        let mut taken = json!({"volumeMounts": [{"name": "x", "mountPath": MOUNT_PATH}]});
        assert!(add_mount(&mut taken).is_err());
    }
}
