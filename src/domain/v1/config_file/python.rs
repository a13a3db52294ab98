//! What the Seldon v1.18.2 wrapper does with the file: `yaml.safe_load` it, then
//! `jaeger_client.Config(config, service_name=<interface name>, validate=True)` (jaeger-client
//! 4.4.0) and `initialize_tracer()`. `tests/e2e/conformance.rs` runs the real wrapper on files
//! read from the control plane's ConfigMaps and checks every verdict made here.
//!
//! The file is parsed with serde_yaml (YAML 1.2) where the wrapper uses PyYAML (YAML 1.1). The
//! two read every value this module looks at the same way except the YAML 1.1 booleans
//! (`yes`, `no`, `on`, `off` unquoted): where one of those decides, the verdict is `unknown` and
//! says why, instead of a guess.

use serde_yaml::Value as Yaml;

use crate::domain::goparse;

/// Which sampler the file makes the client use.
#[derive(Debug, Clone, PartialEq)]
pub enum FileSampler {
    /// `const`: samples every trace it starts, or none.
    Const(bool),
    Probabilistic(f64),
    RateLimiting(f64),
    /// No `sampler.type`: a remote-controlled sampler, probabilistic 0.001 until its first poll.
    Remote,
}

/// What the client takes from a file it accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSettings {
    pub sampler: FileSampler,
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
pub enum Startup {
    Settings(Box<FileSettings>),
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
fn to_float(v: &Yaml, what: &str) -> Result<f64, Startup> {
    match v {
        Yaml::Bool(b) => Ok(f64::from(u8::from(*b))),
        Yaml::Number(n) => Ok(n.as_f64().unwrap_or(0.0)),
        Yaml::String(s) if yaml11_bool(s) => Err(Startup::Unsure(format!(
            "{what} is {s}: PyYAML reads it unquoted as a boolean (a number to float()), quoted as text (which float() refuses); write a number"
        ))),
        Yaml::String(s) => python_float(s).map_err(|e| Startup::Refused(format!("{what}: {e}"))),
        Yaml::Tagged(t) => to_float(&t.value, what),
        other => Err(Startup::Refused(format!(
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
pub fn load(text: &str, env_tags: Option<&str>) -> Startup {
    let doc: Yaml = match serde_yaml::from_str(text) {
        Ok(doc) => doc,
        Err(e) if e.to_string().contains("duplicate entry") => {
            return Startup::Unsure(format!(
                "the file repeats a key ({e}): PyYAML keeps the last one; remove the duplicate"
            ));
        }
        Err(e) => return Startup::Refused(format!("the file is not YAML: {e}")),
    };
    let doc = match doc {
        Yaml::Tagged(t) => t.value,
        d => d,
    };
    let m = match &doc {
        Yaml::Mapping(m) => m,
        Yaml::Null => {
            return Startup::Refused(
                "the file is empty, and Config(None) fails: 'NoneType' object has no attribute 'keys'".into(),
            );
        }
        other => {
            return Startup::Refused(format!(
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
        return Startup::Refused(format!(
            "Config(validate=True) refuses it: Unexpected keys found in config:{}",
            unexpected.join(",")
        ));
    }
    let service_name = match get(m, "service_name") {
        Some(v) if !truthy(v) => {
            return Startup::Refused(format!(
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
            return Startup::Refused(format!("{key} is {:?}, which int() refuses", py_str(v)));
        }
    }
    if let Some(tags) = env_tags {
        if let Some(item) = tags.split(',').find(|kv| kv.split('=').count() != 2) {
            return Startup::Refused(format!(
                "JAEGER_TAGS item {item:?} does not split into one key and one value at '=' (key, value = kv.split('='))"
            ));
        }
        if let Some(v) = get(m, "tags")
            && !matches!(v, Yaml::Mapping(_))
        {
            return Startup::Refused(format!(
                "tags is {}, which cannot take the JAEGER_TAGS items",
                kind_of(v)
            ));
        }
    } else if let Some(v) = get(m, "tags")
        && truthy(v)
        && !matches!(v, Yaml::Mapping(_))
    {
        return Startup::Refused(format!(
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
    Startup::Settings(Box::new(FileSettings {
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

type Chosen = (FileSampler, Option<String>, Option<String>);

/// The `sampler` property: `Config.sampler` of jaeger-client 4.4.0.
fn sampler(m: &serde_yaml::Mapping) -> Result<Chosen, Startup> {
    let Some(s) = get(m, "sampler") else {
        return Ok((FileSampler::Remote, None, None));
    };
    let Some(s) = s.as_mapping() else {
        return Err(Startup::Refused(format!(
            "sampler is {}, and the client calls .get on it",
            kind_of(s)
        )));
    };
    let kind = get(s, "type");
    let param = get(s, "param");
    let shown_param = param.map(py_str);
    let Some(kind) = kind.filter(|k| truthy(k)) else {
        return Ok((FileSampler::Remote, None, shown_param));
    };
    let shown_kind = Some(py_str(kind));
    let what = "sampler.param";
    let chosen = match kind.as_str() {
        Some("const") => {
            let on = match param {
                Some(Yaml::String(p)) if yaml11_bool(p) => {
                    return Err(Startup::Unsure(format!(
                        "sampler.param is {p}: PyYAML reads it unquoted as a boolean, quoted as text (which samples nothing); write 1 or 0"
                    )));
                }
                Some(v) => py_str(v).to_lowercase() == "true" || py_str(v) == "1",
                None => false,
            };
            FileSampler::Const(on)
        }
        Some("probabilistic") => {
            let rate = to_float(param.unwrap_or(&Yaml::Null), what)?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(Startup::Refused(format!(
                    "the probabilistic sampler's rate {} is not from 0 to 1 (an assert fails)",
                    py_str(param.unwrap_or(&Yaml::Null))
                )));
            }
            FileSampler::Probabilistic(rate)
        }
        Some("ratelimiting" | "rate_limiting") => {
            let rate = to_float(param.unwrap_or(&Yaml::Null), what)?;
            if rate.is_nan() || rate < 0.0 {
                return Err(Startup::Refused(format!(
                    "the ratelimiting sampler's rate {} is negative (an assert fails)",
                    py_str(param.unwrap_or(&Yaml::Null))
                )));
            }
            FileSampler::RateLimiting(rate)
        }
        _ => {
            return Err(Startup::Refused(format!(
                "Unknown sampler type {} (the Python client knows const, probabilistic, ratelimiting, rate_limiting; leave type out for a remote sampler)",
                py_str(kind)
            )));
        }
    };
    Ok((chosen, shown_kind, shown_param))
}
