//! The third switch: the YAML file a Python component reads when `JAEGER_CONFIG_PATH` is set.
//!
//! Two halves, both pure:
//! - where the file comes from: the container's `volumeMounts` and its pod spec's `volumes`,
//!   resolved the way the kubelet lays them out (the longest mount path holding the file wins;
//!   a `configMap` volume shows each key, or each `items` entry at its `path`; `projected` volumes
//!   show their `configMap` sources the same way), then the ConfigMap's data;
//! - what the Seldon v1.18.2 wrapper does with it: `yaml.safe_load` the file, then
//!   `jaeger_client.Config(config, service_name=<interface name>, validate=True)` (jaeger-client
//!   4.4.0) and `initialize_tracer()`. `tests/e2e/conformance.rs` runs the real wrapper on files
//!   read from the control plane's ConfigMaps and checks every verdict made here.
//!
//! The file is parsed with serde_yaml (YAML 1.2) where the wrapper uses PyYAML (YAML 1.1). The
//! two read every value this module looks at the same way except the YAML 1.1 booleans
//! (`yes`, `no`, `on`, `off` unquoted): where one of those decides, the verdict is `unknown` and
//! says why, instead of a guess.

use std::collections::HashMap;

use serde_json::Value;
use serde_yaml::Value as Yaml;

use super::components as c;
use super::goparse;

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
            let at = normalize(c::str_at(m, &["mountPath"])?);
            want.starts_with(&at).then_some((at.len(), m))
        })
        .max_by_key(|(len, _)| *len);
    let Some((depth, mount)) = best else {
        return Place::Image;
    };
    let rest = want[depth..].join("/");
    let volume_name = c::str_at(mount, &["name"]).unwrap_or("");
    if mount.get("subPathExpr").is_some() {
        return Place::Volume {
            volume: volume_name.into(),
            kind: "subPathExpr mount".into(),
        };
    }
    let rel = match c::str_at(mount, &["subPath"]).filter(|s| !s.is_empty()) {
        Some(sub) if rest.is_empty() => normalize(sub).join("/"),
        Some(sub) => format!("{}/{rest}", normalize(sub).join("/")),
        None => rest,
    };
    let volume = pod
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|v| c::str_at(v, &["name"]) == Some(volume_name));
    let Some(volume) = volume else {
        return Place::Broken(format!(
            "volumeMount {volume_name:?} names no volume of the pod"
        ));
    };
    if let Some(cm) = volume.get("configMap") {
        return Place::ConfigMaps(candidate(cm, &rel).into_iter().collect());
    }
    if let Some(secret) = volume.get("secret") {
        return Place::Secret(c::str_at(secret, &["secretName"]).unwrap_or("").into());
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
                return Place::Secret(c::str_at(secret, &["name"]).unwrap_or("").into());
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
            .any(|i| c::str_at(i, &["path"]).map(|p| normalize(p).join("/")) == Some(rel.into())),
        None => !rel.is_empty() && !rel.contains('/'),
    }
}

/// The ConfigMap key a `configMap` source shows at `rel`, if it may show one.
fn candidate(cm: &Value, rel: &str) -> Option<Candidate> {
    let name = c::str_at(cm, &["name"]).unwrap_or("").to_string();
    let optional = cm.get("optional").and_then(Value::as_bool) == Some(true);
    match cm.get("items").and_then(Value::as_array) {
        Some(items) => items.iter().find_map(|i| {
            let path = normalize(c::str_at(i, &["path"])?).join("/");
            (path == rel).then(|| Candidate {
                name: name.clone(),
                key: c::str_at(i, &["key"]).unwrap_or("").into(),
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
        let data = super::ownfile::data_of(obj).into_iter().collect();
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
    let ns = c::str_at(obj, &["metadata", "namespace"]).unwrap_or("");
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
    let path = super::env::get(c::container_env(p, at), "JAEGER_CONFIG_PATH")?;
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

/// Which sampler the file makes the client use.
#[derive(Debug, Clone, PartialEq)]
pub enum Sampler {
    /// `const`: samples every trace it starts, or none.
    Const(bool),
    Probabilistic(f64),
    RateLimiting(f64),
    /// No `sampler.type`: a remote-controlled sampler, probabilistic 0.001 until its first poll.
    Remote,
}

/// What the client takes from a file it accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub sampler: Sampler,
    /// `sampler.type` and `sampler.param` as written (Python's `str()` of the value).
    pub sampler_type: Option<String>,
    pub sampler_param: Option<String>,
    /// `local_agent.reporting_host`, when the file gives it.
    pub host: Option<String>,
    /// `local_agent.reporting_port`, when the file gives one `int()` accepts.
    pub port: Option<i128>,
    /// `local_agent.sampling_port` (the remote sampler polls it), else 5778.
    pub sampling_port: i128,
    /// `propagation: b3` exactly.
    pub b3: bool,
    /// `propagation` when set to something else that looks like b3 (`B3`): Jaeger headers.
    pub not_b3: Option<String>,
    /// `service_name`, which names its spans' service instead of the interface name.
    pub service_name: Option<String>,
    /// `enabled` set false, which the client never reads.
    pub enabled_false: bool,
}

/// How the wrapper fares with the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    Settings(Box<Settings>),
    /// It exits at start; why.
    Refused(String),
    /// The answer hangs on a YAML 1.1 reading the plugin does not guess; why.
    Unsure(String),
}

/// The keys `Config._validate_config` accepts; any other is refused at start.
const ALLOWED: &[&str] = &[
    "logging",
    "local_agent",
    "sampler",
    "tags",
    "enabled",
    "reporter_batch_size",
    "reporter_queue_size",
    "propagation",
    "max_tag_value_length",
    "max_traceback_length",
    "reporter_flush_interval",
    "sampling_refresh_interval",
    "trace_id_header",
    "generate_128bit_trace_id",
    "baggage_header_prefix",
    "service_name",
    "throttler",
];

/// PyYAML reads these unquoted as booleans; serde_yaml reads them as text.
fn yaml11_bool(s: &str) -> bool {
    matches!(
        s,
        "yes" | "Yes" | "YES" | "no" | "No" | "NO" | "on" | "On" | "ON" | "off" | "Off" | "OFF"
    )
}

/// Python's `str()` of a loaded value.
fn py_str(v: &Yaml) -> String {
    match v {
        Yaml::Null => "None".into(),
        Yaml::Bool(true) => "True".into(),
        Yaml::Bool(false) => "False".into(),
        Yaml::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.is_nan() {
                "nan".into()
            } else if f.is_infinite() {
                if f > 0.0 { "inf".into() } else { "-inf".into() }
            } else if f.fract() == 0.0 && f.abs() < 1e16 {
                format!("{f:.1}")
            } else {
                format!("{f}")
            }
        }
        Yaml::Number(n) => n.to_string(),
        Yaml::String(s) => s.clone(),
        Yaml::Sequence(_) => "[...]".into(),
        Yaml::Mapping(_) => "{...}".into(),
        Yaml::Tagged(t) => py_str(&t.value),
    }
}

fn kind_of(v: &Yaml) -> &'static str {
    match v {
        Yaml::Null => "null",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(_) => "a tagged value",
    }
}

/// Python's truthiness.
fn truthy(v: &Yaml) -> bool {
    match v {
        Yaml::Null => false,
        Yaml::Bool(b) => *b,
        Yaml::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Yaml::String(s) => !s.is_empty(),
        Yaml::Sequence(s) => !s.is_empty(),
        Yaml::Mapping(m) => !m.is_empty(),
        Yaml::Tagged(t) => truthy(&t.value),
    }
}

/// Python's `float()` of a string: surrounding whitespace and `_` between digits allowed.
pub fn python_float(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let bad = || format!("{s:?} is not a number to Python's float()");
    let b = t.as_bytes();
    for (i, ch) in b.iter().enumerate() {
        if *ch == b'_' {
            let digit = |j: Option<usize>| j.and_then(|j| b.get(j)).is_some_and(u8::is_ascii_digit);
            if !digit(i.checked_sub(1)) || !digit(Some(i + 1)) {
                return Err(bad());
            }
        }
    }
    let clean: String = t.chars().filter(|c| *c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if unsigned.len() + 1 < lower.len() || unsigned.starts_with("0x") {
        return Err(bad());
    }
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return clean.parse::<f64>().map_err(|_| bad());
    }
    if unsigned.is_empty()
        || !unsigned
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
    {
        return Err(bad());
    }
    clean.parse::<f64>().map_err(|_| bad())
}

/// Python's `float(v)` of a loaded value.
fn to_float(v: &Yaml, what: &str) -> Result<f64, Loaded> {
    match v {
        Yaml::Bool(b) => Ok(f64::from(u8::from(*b))),
        Yaml::Number(n) => Ok(n.as_f64().unwrap_or(0.0)),
        Yaml::String(s) if yaml11_bool(s) => Err(Loaded::Unsure(format!(
            "{what} is {s}: PyYAML reads it unquoted as a boolean (a number to float()), quoted as text (which float() refuses); write a number"
        ))),
        Yaml::String(s) => python_float(s).map_err(|e| Loaded::Refused(format!("{what}: {e}"))),
        Yaml::Tagged(t) => to_float(&t.value, what),
        other => Err(Loaded::Refused(format!(
            "{what} is {}, which float() refuses",
            kind_of(other)
        ))),
    }
}

/// Python's `int(v)`, None when it raises.
fn to_int(v: &Yaml) -> Option<i128> {
    match v {
        Yaml::Bool(b) => Some(i128::from(*b)),
        Yaml::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i128)
            }),
        Yaml::String(s) => goparse::python_int(s).ok(),
        Yaml::Tagged(t) => to_int(&t.value),
        _ => None,
    }
}

fn get<'a>(m: &'a serde_yaml::Mapping, key: &str) -> Option<&'a Yaml> {
    m.get(Yaml::String(key.into()))
}

/// What the wrapper makes of `text` as its config file; `env_tags` is a non-empty
/// `JAEGER_TAGS`, which the client merges into the file's `tags`.
pub fn load(text: &str, env_tags: Option<&str>) -> Loaded {
    let doc: Yaml = match serde_yaml::from_str(text) {
        Ok(doc) => doc,
        Err(e) if e.to_string().contains("duplicate entry") => {
            return Loaded::Unsure(format!(
                "the file repeats a key ({e}): PyYAML keeps the last one; remove the duplicate"
            ));
        }
        Err(e) => return Loaded::Refused(format!("the file is not YAML: {e}")),
    };
    let doc = match doc {
        Yaml::Tagged(t) => t.value,
        d => d,
    };
    let m = match &doc {
        Yaml::Mapping(m) => m,
        Yaml::Null => {
            return Loaded::Refused(
                "the file is empty, and Config(None) fails: 'NoneType' object has no attribute 'keys'".into(),
            );
        }
        other => {
            return Loaded::Refused(format!(
                "the file holds {}, not a mapping of settings",
                kind_of(other)
            ));
        }
    };
    let unexpected: Vec<String> = m
        .keys()
        .filter(|k| !k.as_str().is_some_and(|k| ALLOWED.contains(&k)))
        .map(py_str)
        .collect();
    if !unexpected.is_empty() {
        return Loaded::Refused(format!(
            "Config(validate=True) refuses it: Unexpected keys found in config:{}",
            unexpected.join(",")
        ));
    }
    let service_name = match get(m, "service_name") {
        Some(v) if !truthy(v) => {
            return Loaded::Refused(format!(
                "service_name is {}, and the client requires one: service_name required in the config or param",
                kind_of(v)
            ));
        }
        Some(v) => Some(py_str(v)),
        None => None,
    };
    let (sampler, sampler_type, sampler_param) = match sampler(m) {
        Ok(s) => s,
        Err(l) => return l,
    };
    for key in ["reporter_batch_size", "reporter_queue_size"] {
        if let Some(v) = get(m, key)
            && to_int(v).is_none()
        {
            return Loaded::Refused(format!("{key} is {:?}, which int() refuses", py_str(v)));
        }
    }
    if let Some(tags) = env_tags {
        if let Some(item) = tags.split(',').find(|kv| kv.split('=').count() != 2) {
            return Loaded::Refused(format!(
                "JAEGER_TAGS item {item:?} does not split into one key and one value at '=' (key, value = kv.split('='))"
            ));
        }
        if let Some(v) = get(m, "tags")
            && !matches!(v, Yaml::Mapping(_))
        {
            return Loaded::Refused(format!(
                "tags is {}, which cannot take the JAEGER_TAGS items",
                kind_of(v)
            ));
        }
    } else if let Some(v) = get(m, "tags")
        && truthy(v)
        && !matches!(v, Yaml::Mapping(_))
    {
        return Loaded::Refused(format!(
            "tags is {}, not a mapping of tag names to values",
            kind_of(v)
        ));
    }
    let agent = get(m, "local_agent").and_then(Yaml::as_mapping);
    let host = agent.and_then(|a| get(a, "reporting_host")).map(py_str);
    let port = agent
        .and_then(|a| get(a, "reporting_port"))
        .and_then(to_int);
    let sampling_port = agent
        .and_then(|a| get(a, "sampling_port"))
        .and_then(to_int)
        .unwrap_or(5778);
    let propagation = get(m, "propagation");
    let b3 = propagation.and_then(Yaml::as_str) == Some("b3");
    let not_b3 = propagation
        .map(py_str)
        .filter(|p| !b3 && (p.eq_ignore_ascii_case("b3") || p.trim() == "b3"));
    let enabled_false = get(m, "enabled").is_some_and(|v| {
        let s = py_str(v).to_lowercase();
        matches!(s.as_str(), "false" | "0" | "none")
    });
    Loaded::Settings(Box::new(Settings {
        sampler,
        sampler_type,
        sampler_param,
        host,
        port,
        sampling_port,
        b3,
        not_b3,
        service_name,
        enabled_false,
    }))
}

type Chosen = (Sampler, Option<String>, Option<String>);

/// The `sampler` property: `Config.sampler` of jaeger-client 4.4.0.
fn sampler(m: &serde_yaml::Mapping) -> Result<Chosen, Loaded> {
    let Some(s) = get(m, "sampler") else {
        return Ok((Sampler::Remote, None, None));
    };
    let Some(s) = s.as_mapping() else {
        return Err(Loaded::Refused(format!(
            "sampler is {}, and the client calls .get on it",
            kind_of(s)
        )));
    };
    let kind = get(s, "type");
    let param = get(s, "param");
    let shown_param = param.map(py_str);
    let Some(kind) = kind.filter(|k| truthy(k)) else {
        return Ok((Sampler::Remote, None, shown_param));
    };
    let shown_kind = Some(py_str(kind));
    let what = "sampler.param";
    let chosen = match kind.as_str() {
        Some("const") => {
            let on = match param {
                Some(Yaml::String(p)) if yaml11_bool(p) => {
                    return Err(Loaded::Unsure(format!(
                        "sampler.param is {p}: PyYAML reads it unquoted as a boolean, quoted as text (which samples nothing); write 1 or 0"
                    )));
                }
                Some(v) => py_str(v).to_lowercase() == "true" || py_str(v) == "1",
                None => false,
            };
            Sampler::Const(on)
        }
        Some("probabilistic") => {
            let rate = to_float(param.unwrap_or(&Yaml::Null), what)?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(Loaded::Refused(format!(
                    "the probabilistic sampler's rate {} is not from 0 to 1 (an assert fails)",
                    py_str(param.unwrap_or(&Yaml::Null))
                )));
            }
            Sampler::Probabilistic(rate)
        }
        Some("ratelimiting" | "rate_limiting") => {
            let rate = to_float(param.unwrap_or(&Yaml::Null), what)?;
            if rate.is_nan() || rate < 0.0 {
                return Err(Loaded::Refused(format!(
                    "the ratelimiting sampler's rate {} is negative (an assert fails)",
                    py_str(param.unwrap_or(&Yaml::Null))
                )));
            }
            Sampler::RateLimiting(rate)
        }
        _ => {
            return Err(Loaded::Refused(format!(
                "Unknown sampler type {} (the Python client knows const, probabilistic, ratelimiting, rate_limiting; leave type out for a remote sampler)",
                py_str(kind)
            )));
        }
    };
    Ok((chosen, shown_kind, shown_param))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(text: &str) -> Settings {
        match load(text, None) {
            Loaded::Settings(s) => *s,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    fn refused(text: &str, tags: Option<&str>) -> String {
        match load(text, tags) {
            Loaded::Refused(why) => why,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn samplers_read_as_the_python_client_reads_them() {
        let s = |t: &str| settings(t).sampler;
        assert_eq!(s("sampler: {type: const, param: 1}"), Sampler::Const(true));
        assert_eq!(
            s("sampler: {type: const, param: true}"),
            Sampler::Const(true)
        );
        assert_eq!(
            s("sampler: {type: const, param: 'TRUE'}"),
            Sampler::Const(true)
        );
        // get_boolean(str(x)): only true/1 are true; 2 and 1.0 fall back to False.
        for t in [
            "sampler: {type: const, param: 2}",
            "sampler: {type: const, param: 1.0}",
            "sampler: {type: const}",
            "sampler: {type: const, param: 0}",
        ] {
            assert_eq!(s(t), Sampler::Const(false), "{t}");
        }
        assert_eq!(
            s("sampler: {type: probabilistic, param: '0.01'}"),
            Sampler::Probabilistic(0.01)
        );
        assert_eq!(
            s("sampler: {type: rate_limiting, param: 5}"),
            Sampler::RateLimiting(5.0)
        );
        assert_eq!(s("logging: true"), Sampler::Remote);
        assert_eq!(s("sampler: {type: ''}"), Sampler::Remote);
        assert_eq!(s("sampler: {}"), Sampler::Remote);
    }

    #[test]
    fn what_the_client_refuses_at_start_is_named() {
        for (text, needle) in [
            ("sampler: {type: remote}", "Unknown sampler type remote"),
            (
                "sampler: {type: Const, param: 1}",
                "Unknown sampler type Const",
            ),
            ("sampler: {type: probabilistic}", "float() refuses"),
            (
                "sampler: {type: probabilistic, param: 2}",
                "not from 0 to 1",
            ),
            (
                "sampler: {type: probabilistic, param: .nan}",
                "not from 0 to 1",
            ),
            ("sampler: {type: ratelimiting, param: -1}", "negative"),
            ("sampler: {type: ratelimiting, param: abc}", "float()"),
            ("sampler: const", "calls .get"),
            ("sampler:", "calls .get"),
            ("metrics: false", "Unexpected keys found in config:metrics"),
            ("a: 1\nb: 2\nlogging: true", "config:a,b"),
            ("service_name: ''", "service_name required"),
            ("", "empty"),
            ("- a\n- b", "a list"),
            ("sampler: {type: const\n", "not YAML"),
            ("reporter_queue_size: lots", "int() refuses"),
            ("tags: [a, b]", "not a mapping"),
        ] {
            let why = refused(text, None);
            assert!(why.contains(needle), "{text:?}: {why}");
        }
        assert!(refused("logging: true", Some("a=1,b=2=3")).contains("\"b=2=3\""));
        assert!(refused("logging: true", Some("a=1,")).contains("\"\""));
        assert!(refused("tags:\n", Some("a=1")).contains("null"));
        assert!(matches!(
            load("tags: {x: y}", Some("a=1")),
            Loaded::Settings(_)
        ));
    }

    #[test]
    fn yaml_1_1_booleans_and_duplicates_are_not_guessed() {
        for text in [
            "sampler: {type: const, param: yes}",
            "sampler: {type: probabilistic, param: on}",
            "logging: true\nlogging: false",
        ] {
            assert!(matches!(load(text, None), Loaded::Unsure(_)), "{text}");
        }
    }

    #[test]
    fn agent_propagation_and_service_name_come_from_the_file() {
        let s = settings(
            "local_agent: {reporting_host: jaeger.tracing, reporting_port: '6832', sampling_port: 5779}\npropagation: b3\nservice_name: fraud\nenabled: false\n",
        );
        assert_eq!(s.host.as_deref(), Some("jaeger.tracing"));
        assert_eq!(s.port, Some(6832));
        assert_eq!(s.sampling_port, 5779);
        assert!(s.b3 && s.enabled_false);
        assert_eq!(s.service_name.as_deref(), Some("fraud"));
        let s = settings("local_agent: {reporting_port: x}\npropagation: B3");
        assert_eq!((s.host, s.port), (None, None));
        assert_eq!((s.b3, s.not_b3.as_deref()), (false, Some("B3")));
    }

    #[test]
    fn python_float_follows_cpython() {
        for (s, v) in [
            (" 0.5 ", 0.5),
            ("1_0", 10.0),
            ("1e-2", 0.01),
            (".5", 0.5),
            ("-0", 0.0),
        ] {
            assert_eq!(python_float(s), Ok(v), "{s}");
        }
        assert!(python_float("inf").unwrap().is_infinite());
        assert!(python_float("NaN").unwrap().is_nan());
        for s in ["", "_1", "1_", "1__0", "0x1p-1", "1,5", "--1", "one"] {
            assert!(python_float(s).is_err(), "{s}");
        }
    }

    fn pod(volumes: Value) -> Value {
        json!({"volumes": volumes})
    }

    fn container(mounts: Value) -> Value {
        json!({"name": "m", "volumeMounts": mounts})
    }

    #[test]
    fn the_longest_mount_holding_the_path_decides() {
        let pod = pod(json!([
            {"name": "outer", "emptyDir": {}},
            {"name": "cfg", "configMap": {"name": "tracing"}},
            {"name": "sec", "secret": {"secretName": "s"}}
        ]));
        let c = container(json!([
            {"name": "outer", "mountPath": "/etc"},
            {"name": "cfg", "mountPath": "/etc/jaeger/"},
            {"name": "sec", "mountPath": "/secret"}
        ]));
        let cand = |key: &str| {
            Place::ConfigMaps(vec![Candidate {
                name: "tracing".into(),
                key: key.into(),
                optional: false,
                listed: false,
            }])
        };
        assert_eq!(
            locate(&pod, &c, "/etc/jaeger/config.yaml"),
            cand("config.yaml")
        );
        assert_eq!(
            locate(&pod, &c, "/etc/jaeger/./x//config.yaml"),
            Place::ConfigMaps(vec![])
        );
        assert_eq!(locate(&pod, &c, "/etc/x/../jaeger/a.yaml"), cand("a.yaml"));
        assert!(
            matches!(locate(&pod, &c, "/etc/other.yaml"), Place::Volume { kind, .. } if kind == "emptyDir")
        );
        assert_eq!(
            locate(&pod, &c, "/secret/c.yaml"),
            Place::Secret("s".into())
        );
        assert_eq!(locate(&pod, &c, "/opt/c.yaml"), Place::Image);
        assert_eq!(locate(&pod, &c, "c.yaml"), Place::Image);
    }

    #[test]
    fn items_sub_paths_and_projected_sources_map_paths_to_keys() {
        let pod = pod(json!([
            {"name": "cfg", "configMap": {"name": "t", "optional": true,
                "items": [{"key": "model.yaml", "path": "jaeger/config.yaml"}]}},
            {"name": "proj", "projected": {"sources": [
                {"configMap": {"name": "a", "items": [{"key": "k", "path": "other"}]}},
                {"configMap": {"name": "b"}},
                {"secret": {"name": "s", "items": [{"key": "x", "path": "x.yaml"}]}}
            ]}}
        ]));
        let c = container(json!([
            {"name": "cfg", "mountPath": "/cfg"},
            {"name": "cfg", "mountPath": "/one/config.yaml", "subPath": "jaeger/config.yaml"},
            {"name": "proj", "mountPath": "/proj"},
            {"name": "gone", "mountPath": "/gone"}
        ]));
        let listed = Place::ConfigMaps(vec![Candidate {
            name: "t".into(),
            key: "model.yaml".into(),
            optional: true,
            listed: true,
        }]);
        assert_eq!(locate(&pod, &c, "/cfg/jaeger/config.yaml"), listed);
        assert_eq!(locate(&pod, &c, "/one/config.yaml"), listed);
        assert_eq!(
            locate(&pod, &c, "/proj/c.yaml"),
            Place::ConfigMaps(vec![Candidate {
                name: "b".into(),
                key: "c.yaml".into(),
                optional: false,
                listed: false
            }])
        );
        assert_eq!(locate(&pod, &c, "/proj/x.yaml"), Place::Secret("s".into()));
        assert!(matches!(locate(&pod, &c, "/gone/c.yaml"), Place::Broken(_)));
    }

    #[test]
    fn a_missing_config_map_or_key_is_told_apart_from_one_not_read() {
        let cand = |optional, listed| {
            Place::ConfigMaps(vec![Candidate {
                name: "t".into(),
                key: "c.yaml".into(),
                optional,
                listed,
            }])
        };
        let mut maps = ConfigMaps::new();
        assert!(matches!(
            file(&maps, "ns", &cand(false, false)),
            File::Unknown(_)
        ));
        assert_eq!(
            file(&ConfigMaps::unread(), "ns", &cand(false, false)),
            File::Unread
        );
        maps.insert("ns", "t", ConfigMap::Missing);
        assert!(matches!(
            file(&maps, "ns", &cand(false, false)),
            File::MountFails(_)
        ));
        assert!(matches!(
            file(&maps, "ns", &cand(true, true)),
            File::Missing(_)
        ));
        maps.insert(
            "ns",
            "t",
            ConfigMap::from_object(&json!({"data": {"other": "x"}, "binaryData": {"b.yaml": ""}})),
        );
        assert!(matches!(
            file(&maps, "ns", &cand(false, true)),
            File::MountFails(_)
        ));
        assert!(matches!(
            file(&maps, "ns", &cand(false, false)),
            File::Missing(_)
        ));
        maps.insert(
            "ns",
            "t",
            ConfigMap::from_object(&json!({"data": {"c.yaml": "logging: true"}})),
        );
        assert_eq!(
            file(&maps, "ns", &cand(false, false)),
            File::Text {
                text: "logging: true".into(),
                config_map: "t".into(),
                key: "c.yaml".into()
            }
        );
        maps.insert("ns", "t", ConfigMap::NotRead("forbidden".into()));
        assert!(
            matches!(file(&maps, "ns", &cand(false, false)), File::Unknown(w) if w.contains("forbidden"))
        );
    }
}
