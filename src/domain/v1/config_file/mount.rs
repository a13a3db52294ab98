//! Where the file named by `JAEGER_CONFIG_PATH` comes from in a running pod: the container's
//! `volumeMounts` and its pod spec's `volumes`, resolved the way the kubelet lays them out (the
//! longest mount path holding the file wins; a `configMap` volume shows each key, or each `items`
//! entry at its `path`; `projected` volumes show their `configMap` sources the same way), then
//! the ConfigMap's data.

use std::collections::HashMap;

use serde_json::Value;

use crate::domain::json::str_at;
use crate::domain::v1::components as c;

/// Where, in a running pod, the file a path names comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// A key of one of these ConfigMaps (a `configMap` volume has one; a `projected` volume
    /// may list several, tried in order).
    ConfigMaps(Vec<Candidate>),
    /// A Secret's key: never read.
    Secret(String),
    /// Another kind of volume (emptyDir, hostPath, a claim ...): known only in the pod.
    Volume { volume: String, kind: String },
    /// Under no mount: a file in the image, or nothing.
    Image,
    /// A mount or volume the pod spec names but does not define: the pod is refused.
    Broken(String),
}

/// One ConfigMap that may hold the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub name: String,
    pub key: String,
    /// `optional: true`: a missing ConfigMap or key leaves the file out instead of keeping the
    /// pod from starting.
    pub optional: bool,
    /// The key is named in the volume's `items`: a missing key keeps the pod from starting.
    pub listed: bool,
}

/// `a//b/./c` as the kernel resolves it, `..` included.
fn normalize(path: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out
}

/// Where the file `path` comes from for `container` of the pod spec `pod`.
pub fn locate(pod: &Value, container: &Value, path: &str) -> Place {
    if !path.starts_with('/') {
        return Place::Image;
    }
    let want = normalize(path);
    let mounts = container.get("volumeMounts").and_then(Value::as_array);
    // The most specific mount holding the path is what the container sees there.
    let best = mounts
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let at = normalize(str_at(m, &["mountPath"])?);
            want.starts_with(&at).then_some((at.len(), m))
        })
        .max_by_key(|(len, _)| *len);
    let Some((depth, mount)) = best else {
        return Place::Image;
    };
    let rest = want[depth..].join("/");
    let volume_name = str_at(mount, &["name"]).unwrap_or("");
    if mount.get("subPathExpr").is_some() {
        return Place::Volume {
            volume: volume_name.into(),
            kind: "subPathExpr mount".into(),
        };
    }
    let rel = match str_at(mount, &["subPath"]).filter(|s| !s.is_empty()) {
        Some(sub) if rest.is_empty() => normalize(sub).join("/"),
        Some(sub) => format!("{}/{rest}", normalize(sub).join("/")),
        None => rest,
    };
    let volume = pod
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|v| str_at(v, &["name"]) == Some(volume_name));
    let Some(volume) = volume else {
        return Place::Broken(format!(
            "volumeMount {volume_name:?} names no volume of the pod"
        ));
    };
    if let Some(cm) = volume.get("configMap") {
        return Place::ConfigMaps(candidate(cm, &rel).into_iter().collect());
    }
    if let Some(secret) = volume.get("secret") {
        return Place::Secret(str_at(secret, &["secretName"]).unwrap_or("").into());
    }
    if let Some(sources) = volume
        .pointer("/projected/sources")
        .and_then(Value::as_array)
    {
        let mut found = Vec::new();
        for src in sources {
            if let Some(cm) = src.get("configMap") {
                found.extend(candidate(cm, &rel));
            } else if let Some(secret) = src.get("secret")
                && holds(secret, &rel)
            {
                return Place::Secret(str_at(secret, &["name"]).unwrap_or("").into());
            }
        }
        return Place::ConfigMaps(found);
    }
    let kind = volume
        .as_object()
        .and_then(|m| m.keys().find(|k| *k != "name").cloned())
        .unwrap_or_else(|| "unknown".into());
    Place::Volume {
        volume: volume_name.into(),
        kind,
    }
}

/// Whether a `configMap` or `secret` source may show a file at `rel`.
fn holds(source: &Value, rel: &str) -> bool {
    match source.get("items").and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .any(|i| str_at(i, &["path"]).map(|p| normalize(p).join("/")) == Some(rel.into())),
        None => !rel.is_empty() && !rel.contains('/'),
    }
}

/// The ConfigMap key a `configMap` source shows at `rel`, if it may show one.
fn candidate(cm: &Value, rel: &str) -> Option<Candidate> {
    let name = str_at(cm, &["name"]).unwrap_or("").to_string();
    let optional = cm.get("optional").and_then(Value::as_bool) == Some(true);
    match cm.get("items").and_then(Value::as_array) {
        Some(items) => items.iter().find_map(|i| {
            let path = normalize(str_at(i, &["path"])?).join("/");
            (path == rel).then(|| Candidate {
                name: name.clone(),
                key: str_at(i, &["key"]).unwrap_or("").into(),
                optional,
                listed: true,
            })
        }),
        // Keys are files at the volume's root; a key cannot hold '/'.
        None if !rel.is_empty() && !rel.contains('/') => Some(Candidate {
            name,
            key: rel.into(),
            optional,
            listed: false,
        }),
        None => None,
    }
}

/// A ConfigMap as read: its `data` (binaryData keys are known by name only).
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigMap {
    Found {
        data: HashMap<String, String>,
        binary: Vec<String>,
    },
    Missing,
    /// Could not be read; the text says why (no permission, not among the `-f` inputs).
    NotRead(String),
}

impl ConfigMap {
    /// From a ConfigMap object as the API serves it.
    pub fn from_object(obj: &Value) -> ConfigMap {
        let data = crate::domain::json::data_of(obj).into_iter().collect();
        let binary = obj
            .get("binaryData")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        ConfigMap::Found { data, binary }
    }
}

/// The ConfigMaps `status` could read, by namespace and name. `unread()`: none was looked for,
/// so a component with a file is judged without it (on, where it goes unknown).
#[derive(Debug, Clone, Default)]
pub struct ConfigMaps {
    read: bool,
    maps: HashMap<(String, String), ConfigMap>,
}

impl ConfigMaps {
    pub fn unread() -> Self {
        ConfigMaps::default()
    }

    /// A lookup filled with `insert`.
    pub fn new() -> Self {
        ConfigMaps {
            read: true,
            maps: HashMap::new(),
        }
    }

    pub fn insert(&mut self, namespace: &str, name: &str, cm: ConfigMap) {
        self.maps.insert((namespace.into(), name.into()), cm);
    }

    pub fn contains(&self, namespace: &str, name: &str) -> bool {
        self.get(namespace, name).is_some()
    }

    pub fn is_read(&self) -> bool {
        self.read
    }

    fn get(&self, namespace: &str, name: &str) -> Option<&ConfigMap> {
        self.maps.get(&(namespace.to_string(), name.to_string()))
    }
}

/// The ConfigMaps (namespace, name) whose content decides some Python component of `obj`: the
/// candidates of every literal `JAEGER_CONFIG_PATH`.
pub fn wanted(obj: &Value) -> Vec<(String, String)> {
    let ns = str_at(obj, &["metadata", "namespace"]).unwrap_or("");
    let null = Value::Null;
    let spec = obj.get("spec").unwrap_or(&null);
    let mut out: Vec<(String, String)> = Vec::new();
    for p in spec
        .get("predictors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for node in c::nodes(spec, p).iter().filter(|n| n.kind.is_python()) {
            let Some((_, place)) = node.container.and_then(|at| place_at(p, at)) else {
                continue;
            };
            if let Place::ConfigMaps(cands) = place {
                for cand in cands {
                    let key = (ns.to_string(), cand.name);
                    if !out.contains(&key) {
                        out.push(key);
                    }
                }
            }
        }
    }
    out
}

/// The literal, non-empty `JAEGER_CONFIG_PATH` of the container at `at` of predictor `p`, and
/// where in its pod that file comes from.
pub fn place_at(p: &Value, at: (usize, usize)) -> Option<(String, Place)> {
    let path = crate::domain::v1::env::get(c::container_env(p, at), "JAEGER_CONFIG_PATH")?;
    let path = path.literal().filter(|p| !p.is_empty())?.to_string();
    let place = locate(pod_spec(p, at)?, c::container_at(p, at)?, &path);
    Some((path, place))
}

/// The pod spec of the componentSpec holding the container at `at`.
pub fn pod_spec(p: &Value, at: (usize, usize)) -> Option<&Value> {
    p.get("componentSpecs")?.get(at.0)?.get("spec")
}

/// The file as the container would see it.
#[derive(Debug, Clone, PartialEq)]
pub enum File {
    /// Not looked for (`ConfigMaps::unread`).
    Unread,
    /// Its text, and the ConfigMap and key it was read from.
    Text {
        text: String,
        config_map: String,
        key: String,
    },
    /// The kubelet cannot mount it: the pod never starts, whatever TRACING says.
    MountFails(String),
    /// Not there: the wrapper's `open()` fails when tracing is on.
    Missing(String),
    /// Known only inside the pod.
    Unknown(String),
}

/// What a container with `JAEGER_CONFIG_PATH=path` finds there.
pub fn file(maps: &ConfigMaps, namespace: &str, place: &Place) -> File {
    if !maps.is_read() {
        return File::Unread;
    }
    match place {
        Place::Image => File::Unknown(
            "the file is under no volume mount, so it is in the image or nowhere; the plugin cannot read it".into(),
        ),
        Place::Secret(name) => File::Unknown(format!("the file is in Secret {name}, not read")),
        Place::Volume { volume, kind } => File::Unknown(format!(
            "the file is in volume {volume:?} ({kind}), known only in the pod"
        )),
        Place::Broken(why) => File::MountFails(format!("{why}, so the pod is refused")),
        Place::ConfigMaps(cands) if cands.is_empty() => File::Missing(
            "the volume mounted there shows no such file (no ConfigMap key or items path matches)".into(),
        ),
        Place::ConfigMaps(cands) => {
            let mut missing = Vec::new();
            for cand in cands {
                let (name, key) = (&cand.name, &cand.key);
                match maps.get(namespace, name) {
                    None => {
                        return File::Unknown(format!("ConfigMap {name} was not read"));
                    }
                    Some(ConfigMap::NotRead(why)) => {
                        return File::Unknown(format!("ConfigMap {name} was not read: {why}"));
                    }
                    Some(ConfigMap::Missing) if cand.optional => {
                        missing.push(format!("optional ConfigMap {name} does not exist"));
                    }
                    Some(ConfigMap::Missing) => {
                        return File::MountFails(format!(
                            "ConfigMap {name} does not exist, so the pod cannot start"
                        ));
                    }
                    Some(ConfigMap::Found { data, binary }) => {
                        if let Some(text) = data.get(key) {
                            return File::Text {
                                text: text.clone(),
                                config_map: name.clone(),
                                key: key.clone(),
                            };
                        }
                        if binary.contains(key) {
                            return File::Unknown(format!(
                                "ConfigMap {name} key {key} is binaryData, not read"
                            ));
                        }
                        if cand.listed && !cand.optional {
                            return File::MountFails(format!(
                                "ConfigMap {name} has no key {key}, so the pod cannot start"
                            ));
                        }
                        missing.push(format!("ConfigMap {name} has no key {key}"));
                    }
                }
            }
            File::Missing(missing.join("; "))
        }
    }
}
