//! What the real tracing clients do with a component's effective environment: whether the
//! process starts, whether it records spans, where they go and with which headers. One reader of
//! the effective env (`EffectiveEnv`) serves both `status` and the planner, so the two never read
//! the same object differently. The rules follow jaeger-client-go v2.25.0 (`config.FromEnv`,
//! `NewSampler`, the UDP reporter) as the Seldon v1.18.2 executor uses it, and the Python
//! wrapper's `setup_tracing` with jaeger-client 4.4.0; `tests/e2e/conformance.rs` runs both on
//! the same objects and checks every verdict.

use serde::Serialize;
use serde_json::Value;

use super::components as c;
use crate::domain::goparse;
use crate::domain::v1::config_file::mount::File;
use crate::domain::v1::config_file::python;
use crate::domain::v1::config_file::python::{FileSampler, FileSettings, Startup};
use crate::domain::v1::env;
use crate::domain::v1::env::EnvValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Env,
    Annotation,
    Default,
    /// Read from the file named by `JAEGER_CONFIG_PATH` (Python components).
    File,
    None,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Env => "env",
            Source::Annotation => "annotation",
            Source::Default => "default",
            Source::File => "file",
            Source::None => "-",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    pub value: EnvValue,
    pub source: Source,
}

/// The variables a container really gets, with where each came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EffectiveEnv {
    vars: Vec<(String, Var)>,
}

impl EffectiveEnv {
    /// The executor: `svcOrchSpec.env` (the last of duplicates wins, as in Kubernetes), then one
    /// variable per `spec.annotations` key `seldon.io/engine-*` in sorted key order, the first
    /// key for a variable winning, unless env already names the variable (even with "").
    pub fn executor(spec: &Value, p: &Value) -> Self {
        let mut out = Self::container(p.get("svcOrchSpec").and_then(|s| s.get("env")));
        let mut keys: Vec<(&String, &Value)> = spec
            .get("annotations")
            .and_then(Value::as_object)
            .map(|m| m.iter().collect())
            .unwrap_or_default();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        for (key, value) in keys {
            let (Some(var), Some(v)) = (c::engine_annotation_var(key), value.as_str()) else {
                continue;
            };
            if key == c::SEPARATE_POD || out.get(&var).is_some() {
                continue;
            }
            out.vars.push((
                var,
                Var {
                    value: EnvValue::Literal(v.to_string()),
                    source: Source::Annotation,
                },
            ));
        }
        out
    }

    /// A container's own env list.
    pub fn container(list: Option<&Value>) -> Self {
        let mut vars: Vec<(String, Var)> = Vec::new();
        for entry in list.and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = entry.get("name").and_then(Value::as_str) else {
                continue;
            };
            let Some(value) = env::get(list, name) else {
                continue;
            };
            if vars.iter().any(|(n, _)| n == name) {
                continue;
            }
            vars.push((
                name.to_string(),
                Var {
                    value,
                    source: Source::Env,
                },
            ));
        }
        EffectiveEnv { vars }
    }

    /// The variable as set, "" included.
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A non-empty literal: what Go's `os.Getenv(v) != ""` sees.
    pub fn go(&self, name: &str) -> Option<&str> {
        match self.get(name).map(|v| &v.value) {
            Some(EnvValue::Literal(s)) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    fn indirect(&self, name: &str) -> bool {
        matches!(
            self.get(name).map(|v| &v.value),
            Some(EnvValue::Indirect(_))
        )
    }

    fn source(&self, name: &str) -> Source {
        self.get(name).map_or(Source::Default, |v| v.source)
    }

    fn display(&self, name: &str) -> Option<String> {
        self.value(name).map(|v| v.display())
    }

    /// The value as set, unless it is the empty string (which the clients treat as unset).
    fn value(&self, name: &str) -> Option<EnvValue> {
        self.get(name)
            .filter(|v| v.value.literal() != Some(""))
            .map(|v| v.value.clone())
    }
}

/// Why a component refuses to start: the variable, its value and the client's reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    pub var: String,
    pub value: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Records spans with a non-zero probability.
    On,
    /// Switched off.
    Off,
    /// A tracer runs but no span leaves it; the reason says why.
    Idle(String),
    /// The process exits at start.
    Invalid(Refusal),
    /// Depends on a value known only at run time (`valueFrom`); the text names it.
    Unknown(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Propagation {
    Jaeger,
    B3,
    /// Set in the file named by `JAEGER_CONFIG_PATH`, which was not read.
    FromFile,
}

/// Which sampler decides: the values as the client reads them, or its default.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplerSetting {
    /// `const`, `probabilistic`, ... as set; the client's default type when `default`; None
    /// when the sampler is in the file `JAEGER_CONFIG_PATH` names.
    #[serde(rename = "type")]
    pub kind: Option<EnvValue>,
    pub param: Option<EnvValue>,
    /// Nothing set: the client's own default decides.
    pub default: bool,
    pub source: Source,
}

/// Where spans go.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Destination {
    /// UDP to a Jaeger agent.
    Agent {
        host: EnvValue,
        port: EnvValue,
        source: Source,
    },
    /// HTTP straight to a collector (`JAEGER_ENDPOINT`).
    Collector { url: EnvValue, source: Source },
    /// As the file named by `JAEGER_CONFIG_PATH` says.
    ConfigFile,
}

impl Destination {
    pub fn source(&self) -> Source {
        match self {
            Destination::Agent { source, .. } | Destination::Collector { source, .. } => *source,
            Destination::ConfigFile => Source::File,
        }
    }
}

/// A value the client accepts but reads differently than it looks.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// `JAEGER_TRACE_PROPAGATION_TYPE` like `B3` or ` b3`: the executor uses Jaeger headers.
    NotExactlyB3(String),
    /// A `JAEGER_AGENT_PORT` Python's `int()` refuses: the Python client sends to 6831.
    PortNotANumber(String),
    /// A config file's `enabled: false`, which the Python client never reads.
    EnabledIgnored,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Runtime {
    pub verdict: Verdict,
    /// Which sampler decides, and where it was set.
    pub sampler: SamplerSetting,
    /// Where spans go, and where that was set.
    pub destination: Destination,
    pub propagation: Propagation,
    /// The port the spans are sent to over UDP, when literal.
    pub udp_port: Option<i64>,
    /// The URL a remote sampler polls, when one is in effect.
    pub sampling_url: Option<String>,
    /// Values the client reads differently than a reader would guess.
    pub notes: Vec<Note>,
    /// Whether requests through it carry a "sampled" decision on to the next node (true also
    /// when its own spans cannot be delivered).
    pub samples: bool,
    /// The service its spans are recorded under, when a config file names one.
    pub service_name: Option<String>,
}

fn refuse(env: &EffectiveEnv, var: &str, why: String) -> Verdict {
    Verdict::Invalid(Refusal {
        var: var.into(),
        value: env.go(var).unwrap_or_default().to_string(),
        why,
    })
}

/// The first value `config.FromEnv` refuses, in the order it reads them, or the panic of a
/// `JAEGER_TAGS` item without `=` or with `${VAR}` lacking `:default`.
fn from_env_refusal(env: &EffectiveEnv) -> Option<Verdict> {
    type Check = fn(&str) -> Result<(), String>;
    let bool_: Check = |s| goparse::parse_bool(s).map(|_| ());
    let float: Check = |s| goparse::parse_float(s).map(|_| ());
    let int: Check = |s| goparse::parse_int(s).map(|_| ());
    let duration: Check = goparse::parse_duration;
    let uri: Check = goparse::parse_request_uri;
    let tags: Check = check_tags;
    let mut order: Vec<(&str, Check)> = vec![
        ("JAEGER_RPC_METRICS", bool_),
        ("JAEGER_DISABLED", bool_),
        ("JAEGER_TAGS", tags),
        ("JAEGER_SAMPLER_PARAM", float),
        ("JAEGER_SAMPLER_MAX_OPERATIONS", int),
        ("JAEGER_SAMPLER_REFRESH_INTERVAL", duration),
        ("JAEGER_REPORTER_MAX_QUEUE_SIZE", int),
        ("JAEGER_REPORTER_FLUSH_INTERVAL", duration),
        ("JAEGER_REPORTER_LOG_SPANS", bool_),
    ];
    if env.go("JAEGER_ENDPOINT").is_some() {
        order.push(("JAEGER_ENDPOINT", uri));
    } else {
        order.push(("JAEGER_AGENT_PORT", int));
        order.push(("JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED", bool_));
        let no_reconnect = env
            .go("JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED")
            .and_then(|v| goparse::parse_bool(v).ok())
            == Some(true);
        if !no_reconnect {
            order.push(("JAEGER_REPORTER_ATTEMPT_RECONNECT_INTERVAL", duration));
        }
    }
    for (var, check) in order {
        if let Some(value) = env.go(var)
            && let Err(why) = check(value)
        {
            return Some(refuse(env, var, why));
        }
    }
    if env.go("JAEGER_ENDPOINT").is_some()
        && env.go("JAEGER_USER").is_some() != env.go("JAEGER_PASSWORD").is_some()
    {
        let var = if env.go("JAEGER_USER").is_some() {
            "JAEGER_USER"
        } else {
            "JAEGER_PASSWORD"
        };
        return Some(refuse(
            env,
            var,
            "JAEGER_USER and JAEGER_PASSWORD must be set together".into(),
        ));
    }
    None
}

fn check_tags(tags: &str) -> Result<(), String> {
    for item in tags.split(',') {
        let Some((_, v)) = item.split_once('=') else {
            return Err(format!("item {item:?} has no '=' (the client panics)"));
        };
        let v = v.trim();
        if let Some(inner) = v.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
            && !inner.contains(':')
        {
            return Err(format!(
                "{v:?} needs a default, ${{VAR:default}} (the client panics)"
            ));
        }
    }
    Ok(())
}

/// What the Seldon executor (jaeger-client-go v2.25.0) does with `env`.
pub fn executor(env: &EffectiveEnv) -> Runtime {
    let sampler_type = env.go("JAEGER_SAMPLER_TYPE").unwrap_or("");
    let param_text = env.go("JAEGER_SAMPLER_PARAM");
    let param = param_text
        .and_then(|p| goparse::parse_float(p).ok())
        .unwrap_or(0.0);
    let kind = sampler_type.to_ascii_lowercase();
    let sampler_source = match (
        env.get("JAEGER_SAMPLER_TYPE"),
        env.get("JAEGER_SAMPLER_PARAM"),
    ) {
        (Some(t), _) if t.value.literal() != Some("") => t.source,
        (_, Some(p)) if p.value.literal() != Some("") => p.source,
        _ => Source::Default,
    };
    let (set_kind, set_param) = (
        env.value("JAEGER_SAMPLER_TYPE"),
        env.value("JAEGER_SAMPLER_PARAM"),
    );
    let sampler = SamplerSetting {
        default: set_kind.is_none() && set_param.is_none(),
        kind: Some(set_kind.unwrap_or_else(|| EnvValue::Literal("remote".into()))),
        param: set_param,
        source: sampler_source,
    };
    let mut notes = Vec::new();
    let propagation = match env.go("JAEGER_TRACE_PROPAGATION_TYPE") {
        Some("b3") => Propagation::B3,
        Some(other) => {
            if other.eq_ignore_ascii_case("b3") || other.trim() == "b3" {
                notes.push(Note::NotExactlyB3(other.to_string()));
            }
            Propagation::Jaeger
        }
        None => Propagation::Jaeger,
    };
    let (destination, udp_port) = match env.value("JAEGER_ENDPOINT") {
        Some(url) => (
            Destination::Collector {
                url,
                source: env.source("JAEGER_ENDPOINT"),
            },
            None,
        ),
        None => {
            let host = env
                .value("JAEGER_AGENT_HOST")
                .unwrap_or_else(|| EnvValue::Literal("localhost".into()));
            let port = env
                .value("JAEGER_AGENT_PORT")
                .unwrap_or_else(|| EnvValue::Literal("6831".into()));
            let source = match (
                env.display("JAEGER_AGENT_HOST"),
                env.display("JAEGER_AGENT_PORT"),
            ) {
                (None, None) => Source::Default,
                (Some(_), _) => env.source("JAEGER_AGENT_HOST"),
                (None, Some(_)) => env.source("JAEGER_AGENT_PORT"),
            };
            let udp = env
                .go("JAEGER_AGENT_PORT")
                .map_or(Some(6831), |p| goparse::parse_int(p).ok());
            (Destination::Agent { host, port, source }, udp)
        }
    };
    let sampling_url = env
        .display("JAEGER_SAMPLING_ENDPOINT")
        .or_else(|| env.display("JAEGER_SAMPLER_MANAGER_HOST_PORT"))
        .or_else(|| {
            env.display("JAEGER_AGENT_HOST")
                .map(|h| format!("http://{h}:5778/sampling"))
        });
    let mut rt = Runtime {
        verdict: Verdict::On,
        sampler,
        destination,
        propagation,
        udp_port,
        sampling_url: None,
        notes,
        samples: false,
        service_name: None,
    };
    rt.verdict = executor_verdict(env, &kind, param, sampling_url.as_deref(), udp_port);
    rt.samples = rt.verdict == Verdict::On
        || matches!(&rt.verdict, Verdict::Idle(why) if why.starts_with(UNDELIVERABLE));
    if matches!(kind.as_str(), "remote" | "")
        && !matches!(rt.verdict, Verdict::Invalid(_) | Verdict::Off)
    {
        rt.sampling_url =
            Some(sampling_url.unwrap_or_else(|| "http://127.0.0.1:5778/sampling".into()));
    }
    rt
}

const UNDELIVERABLE: &str = "spans cannot be sent";

/// A URL the remote sampler can fetch: Go's HTTP client speaks only http and https.
/// A `JAEGER_ENDPOINT` the executor starts with and can post spans to.
pub fn usable_collector(url: &str) -> bool {
    goparse::parse_request_uri(url).is_ok() && fetchable(url)
}

fn fetchable(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn executor_verdict(
    env: &EffectiveEnv,
    kind: &str,
    param: f64,
    sampling_url: Option<&str>,
    udp_port: Option<i64>,
) -> Verdict {
    if let Some(refusal) = from_env_refusal(env) {
        return refusal;
    }
    if env.indirect("JAEGER_DISABLED") {
        return Verdict::Unknown(format!(
            "JAEGER_DISABLED comes from {}",
            env.display("JAEGER_DISABLED").unwrap_or_default()
        ));
    }
    if env
        .go("JAEGER_DISABLED")
        .and_then(|v| goparse::parse_bool(v).ok())
        == Some(true)
    {
        return Verdict::Off;
    }
    for var in ["JAEGER_SAMPLER_TYPE", "JAEGER_SAMPLER_PARAM"] {
        if env.indirect(var) {
            return Verdict::Unknown(format!(
                "{var} comes from {}",
                env.display(var).unwrap_or_default()
            ));
        }
    }
    let param_shown = env.go("JAEGER_SAMPLER_PARAM").unwrap_or("unset");
    let sampler = match kind {
        "const" if param != 0.0 => Verdict::On,
        "const" => Verdict::Idle(format!(
            "the const sampler with JAEGER_SAMPLER_PARAM {param_shown} samples nothing (it needs a non-zero param, e.g. const:1)"
        )),
        "probabilistic" if !(0.0..=1.0).contains(&param) => {
            return refuse(env, "JAEGER_SAMPLER_PARAM", "the probabilistic sampler needs a rate from 0 to 1".into());
        }
        "probabilistic" if param > 0.0 => Verdict::On,
        "probabilistic" => Verdict::Idle(format!(
            "the probabilistic sampler with JAEGER_SAMPLER_PARAM {param_shown} samples nothing"
        )),
        "ratelimiting" if param > 0.0 => Verdict::On,
        "ratelimiting" => Verdict::Idle(format!(
            "the ratelimiting sampler with JAEGER_SAMPLER_PARAM {param_shown} lets about one trace through at start, then none"
        )),
        "remote" | "" if !(0.0..=1.0).contains(&param) => {
            return refuse(env, "JAEGER_SAMPLER_PARAM", "the remote sampler's initial rate must be from 0 to 1".into());
        }
        "remote" | "" if param > 0.0 => Verdict::On,
        "remote" | "" => match sampling_url {
            Some(url) if fetchable(url) => Verdict::On,
            Some(url) => Verdict::Idle(format!(
                "the remote sampler starts at rate 0 (JAEGER_SAMPLER_PARAM unset) and polls {url:?}, which is not an http:// or https:// URL, so every poll fails"
            )),
            None => Verdict::Idle(
                "the remote sampler starts at rate 0 (JAEGER_SAMPLER_PARAM unset) and polls http://127.0.0.1:5778/sampling, which only a Jaeger agent sidecar in the pod answers".into(),
            ),
        },
        _ => {
            return refuse(env, "JAEGER_SAMPLER_TYPE", "not a sampler type (const, probabilistic, ratelimiting or remote; Go does not trim spaces)".into());
        }
    };
    if let Some(url) = env.go("JAEGER_ENDPOINT")
        && !fetchable(url)
        && sampler == Verdict::On
    {
        // ParseRequestURI accepts `collector:14268/api/traces` (scheme "collector"), but Go's
        // HTTP client posts only to http and https.
        return Verdict::Idle(format!(
            "{UNDELIVERABLE}: JAEGER_ENDPOINT {url:?} is not an http:// or https:// URL, so every post of spans fails"
        ));
    }
    if env.go("JAEGER_ENDPOINT").is_none() {
        let host = env.go("JAEGER_AGENT_HOST").unwrap_or("localhost");
        if let Err(why) = goparse::split_host_port(host) {
            return refuse(env, "JAEGER_AGENT_HOST", why);
        }
        if let Some(port) = udp_port
            && !(0..=65535).contains(&port)
        {
            let reconnect_off = env
                .go("JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED")
                .and_then(|v| goparse::parse_bool(v).ok())
                == Some(true);
            if reconnect_off {
                return refuse(
                    env,
                    "JAEGER_AGENT_PORT",
                    "not a UDP port (0 to 65535)".into(),
                );
            }
            return Verdict::Idle(format!(
                "{UNDELIVERABLE}: JAEGER_AGENT_PORT {port} is not a UDP port"
            ));
        }
    }
    sampler
}

/// What a Python wrapper component (seldon-core 1.18.2, jaeger-client 4.4.0) does with `env`,
/// its `JAEGER_CONFIG_PATH` file judged as unread.
pub fn python(env: &EffectiveEnv) -> Runtime {
    python_with(env, &File::Unread)
}

/// [`python`] with the file `JAEGER_CONFIG_PATH` names as the container would find it.
pub fn python_with(env: &EffectiveEnv, file: &File) -> Runtime {
    let config_path = env.get("JAEGER_CONFIG_PATH");
    let mut rt = Runtime {
        verdict: Verdict::On,
        sampler: SamplerSetting {
            kind: Some(EnvValue::Literal("const".into())),
            param: Some(EnvValue::Literal("1".into())),
            default: true,
            source: Source::Default,
        },
        destination: Destination::ConfigFile,
        propagation: Propagation::Jaeger,
        udp_port: None,
        sampling_url: None,
        notes: Vec::new(),
        samples: true,
        service_name: None,
    };
    // A pod whose volume cannot be mounted never starts, whatever TRACING says.
    if let (Some(_), File::MountFails(why)) = (config_path, file) {
        rt.verdict = path_refusal(env, why);
        return rt;
    }
    let tracing_on = match env.get("TRACING") {
        None => {
            rt.verdict = Verdict::Off;
            false
        }
        Some(Var {
            value: indirect @ EnvValue::Indirect(_),
            ..
        }) => {
            rt.verdict = Verdict::Unknown(format!("TRACING comes from {}", indirect.display()));
            false
        }
        Some(Var {
            value: EnvValue::Literal(v),
            ..
        }) => match goparse::python_int(v) {
            Err(why) => {
                rt.verdict = Verdict::Invalid(Refusal {
                    var: "TRACING".into(),
                    value: v.clone(),
                    why: format!("{why}: the wrapper exits at start"),
                });
                false
            }
            Ok(0) => {
                rt.verdict = Verdict::Off;
                false
            }
            Ok(_) => true,
        },
    };
    let env_tags = env.go("JAEGER_TAGS");
    let Some(path) = config_path else {
        if tracing_on
            && let Some(item) =
                env_tags.and_then(|t| t.split(',').find(|kv| kv.split('=').count() != 2))
        {
            rt.verdict = Verdict::Invalid(Refusal {
                var: "JAEGER_TAGS".into(),
                value: env_tags.unwrap_or_default().into(),
                why: format!(
                    "item {item:?} does not split into one key and one value at '=' (the wrapper exits at start)"
                ),
            });
        }
        env_agent(env, &mut rt, "0.0.0.0", 5775);
        return rt;
    };
    if path.value.literal() == Some("") {
        if tracing_on {
            rt.verdict = Verdict::Invalid(Refusal {
                var: "JAEGER_CONFIG_PATH".into(),
                value: String::new(),
                why: "an empty path is still read as a file, which does not exist: the wrapper exits at start".into(),
            });
        }
        rt.sampler = file_sampler_unread();
        rt.propagation = Propagation::FromFile;
        return rt;
    }
    let settings = match (&path.value, file) {
        (EnvValue::Indirect(from), _) => {
            if tracing_on {
                rt.verdict = Verdict::Unknown(format!(
                    "JAEGER_CONFIG_PATH comes from {}",
                    env::describe_value_from(from)
                ));
            }
            None
        }
        (
            _,
            File::Text {
                text,
                config_map,
                key,
            },
        ) => match python::load(text, env_tags) {
            Startup::Settings(s) => Some(s),
            Startup::Refused(why) => {
                if tracing_on {
                    rt.verdict = path_refusal(
                        env,
                        &format!(
                            "ConfigMap {config_map} key {key}: {why}: the wrapper exits at start"
                        ),
                    );
                }
                None
            }
            Startup::Unsure(why) => {
                if tracing_on {
                    rt.verdict =
                        Verdict::Unknown(format!("ConfigMap {config_map} key {key}: {why}"));
                }
                None
            }
        },
        (_, File::Missing(why)) => {
            if tracing_on {
                rt.verdict = path_refusal(
                    env,
                    &format!("{why}: the wrapper cannot open the file and exits at start"),
                );
            }
            None
        }
        (_, File::Unknown(why)) => {
            if tracing_on {
                rt.verdict = Verdict::Unknown(why.clone());
            }
            None
        }
        (_, File::Unread | File::MountFails(_)) => None,
    };
    let Some(s) = settings else {
        rt.sampler = file_sampler_unread();
        rt.propagation = Propagation::FromFile;
        return rt;
    };
    apply_settings(env, &mut rt, &s);
    rt
}

fn path_refusal(env: &EffectiveEnv, why: &str) -> Verdict {
    Verdict::Invalid(Refusal {
        var: "JAEGER_CONFIG_PATH".into(),
        value: env
            .get("JAEGER_CONFIG_PATH")
            .map(|v| v.value.display())
            .unwrap_or_default(),
        why: why.into(),
    })
}

fn file_sampler_unread() -> SamplerSetting {
    SamplerSetting {
        kind: None,
        param: None,
        default: false,
        source: Source::File,
    }
}

/// Where the wrapper sends spans from env alone: `JAEGER_AGENT_HOST` or `default_host`, and
/// `JAEGER_AGENT_PORT` through `int()` (6831 when it raises) or `default_port`.
fn env_agent(env: &EffectiveEnv, rt: &mut Runtime, default_host: &str, default_port: i64) {
    let host = env
        .value("JAEGER_AGENT_HOST")
        .unwrap_or_else(|| EnvValue::Literal(default_host.into()));
    let (port, port_num) = match env.get("JAEGER_AGENT_PORT").map(|v| &v.value) {
        None => (
            EnvValue::Literal(default_port.to_string()),
            Some(default_port),
        ),
        Some(indirect @ EnvValue::Indirect(_)) => (indirect.clone(), None),
        Some(EnvValue::Literal(p)) => match goparse::python_int(p) {
            Ok(n) => (EnvValue::Literal(n.to_string()), i64::try_from(n).ok()),
            Err(_) => {
                rt.notes.push(Note::PortNotANumber(p.clone()));
                (EnvValue::Literal("6831".into()), Some(6831))
            }
        },
    };
    let source = if env.get("JAEGER_AGENT_HOST").is_some() {
        env.source("JAEGER_AGENT_HOST")
    } else if env.get("JAEGER_AGENT_PORT").is_some() {
        env.source("JAEGER_AGENT_PORT")
    } else {
        Source::Default
    };
    rt.destination = Destination::Agent { host, port, source };
    rt.udp_port = port_num;
}

/// The verdict and settings of a file the client accepts.
fn apply_settings(env: &EffectiveEnv, rt: &mut Runtime, s: &FileSettings) {
    // With a file, the client's own defaults apply: localhost and JAEGER_AGENT_PORT or 6831.
    env_agent(env, rt, "localhost", 6831);
    if let Destination::Agent { host, port, source } = &mut rt.destination {
        if let Some(h) = &s.host {
            *host = EnvValue::Literal(h.clone());
            *source = Source::File;
        }
        if let Some(p) = s.port {
            *port = EnvValue::Literal(p.to_string());
            *source = Source::File;
            rt.udp_port = i64::try_from(p).ok();
            rt.notes.retain(|n| !matches!(n, Note::PortNotANumber(_)));
        }
    }
    rt.propagation = if s.b3 {
        Propagation::B3
    } else {
        Propagation::Jaeger
    };
    if let Some(v) = &s.not_b3 {
        rt.notes.push(Note::NotExactlyB3(v.clone()));
    }
    if s.enabled_false {
        rt.notes.push(Note::EnabledIgnored);
    }
    rt.service_name = s.service_name.clone();
    rt.sampler = SamplerSetting {
        kind: Some(EnvValue::Literal(
            s.sampler_type.clone().unwrap_or_else(|| "remote".into()),
        )),
        param: s.sampler_param.clone().map(EnvValue::Literal),
        default: s.sampler_type.is_none(),
        source: Source::File,
    };
    let param = s.sampler_param.as_deref().unwrap_or("unset");
    let idle = match s.sampler {
        FileSampler::Const(false) => Some(format!(
            "the file's const sampler with param {param} samples none of the traces it starts (the Python client takes only 1 or true)"
        )),
        FileSampler::Probabilistic(0.0) => Some(format!(
            "the file's probabilistic sampler with param {param} samples none of the traces it starts"
        )),
        FileSampler::RateLimiting(0.0) => Some(format!(
            "the file's ratelimiting sampler with param {param} samples none of the traces it starts"
        )),
        FileSampler::Remote => {
            let host = match &rt.destination {
                Destination::Agent { host, .. } => host.display(),
                _ => "localhost".into(),
            };
            rt.sampling_url = Some(format!("http://{host}:{}/sampling", s.sampling_port));
            None
        }
        _ => None,
    };
    if rt.verdict == Verdict::On
        && let Some(why) = idle
    {
        rt.verdict = Verdict::Idle(why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exec(env: Value, annotations: Value) -> Runtime {
        let spec = json!({"annotations": annotations});
        let p = json!({"svcOrchSpec": {"env": env}});
        executor(&EffectiveEnv::executor(&spec, &p))
    }

    fn lit(pairs: &[(&str, &str)]) -> Value {
        Value::Array(
            pairs
                .iter()
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect(),
        )
    }

    #[test]
    fn samplers_that_sample_nothing_are_idle() {
        for env in [
            lit(&[("JAEGER_SAMPLER_TYPE", "const")]),
            lit(&[
                ("JAEGER_SAMPLER_TYPE", "const"),
                ("JAEGER_SAMPLER_PARAM", "0"),
            ]),
            lit(&[
                ("JAEGER_SAMPLER_TYPE", "probabilistic"),
                ("JAEGER_SAMPLER_PARAM", "0"),
            ]),
            lit(&[
                ("JAEGER_SAMPLER_TYPE", "ratelimiting"),
                ("JAEGER_SAMPLER_PARAM", "0"),
            ]),
            lit(&[]),
        ] {
            assert!(
                matches!(exec(env.clone(), json!({})).verdict, Verdict::Idle(_)),
                "{env}"
            );
        }
        for env in [
            lit(&[
                ("JAEGER_SAMPLER_TYPE", "const"),
                ("JAEGER_SAMPLER_PARAM", "0.5"),
            ]),
            lit(&[
                ("JAEGER_SAMPLER_TYPE", "CONST"),
                ("JAEGER_SAMPLER_PARAM", "2"),
            ]),
            lit(&[("JAEGER_AGENT_HOST", "127.0.0.1")]),
            lit(&[("JAEGER_SAMPLER_PARAM", "0.5")]),
            lit(&[
                ("JAEGER_DISABLED", ""),
                ("JAEGER_SAMPLER_TYPE", "const"),
                ("JAEGER_SAMPLER_PARAM", "1"),
            ]),
        ] {
            assert_eq!(exec(env.clone(), json!({})).verdict, Verdict::On, "{env}");
        }
    }

    #[test]
    fn values_the_client_refuses_name_the_variable() {
        for (env, var) in [
            (
                lit(&[("JAEGER_SAMPLER_TYPE", " const")]),
                "JAEGER_SAMPLER_TYPE",
            ),
            (
                lit(&[("JAEGER_SAMPLER_PARAM", "1 ")]),
                "JAEGER_SAMPLER_PARAM",
            ),
            (lit(&[("JAEGER_DISABLED", " true")]), "JAEGER_DISABLED"),
            (lit(&[("JAEGER_TAGS", "a=1,b")]), "JAEGER_TAGS"),
            (
                lit(&[("JAEGER_AGENT_HOST", "agent:6831")]),
                "JAEGER_AGENT_HOST",
            ),
            (
                lit(&[("JAEGER_ENDPOINT", "collector/api")]),
                "JAEGER_ENDPOINT",
            ),
            (
                lit(&[
                    ("JAEGER_SAMPLER_TYPE", "probabilistic"),
                    ("JAEGER_SAMPLER_PARAM", "2"),
                ]),
                "JAEGER_SAMPLER_PARAM",
            ),
        ] {
            match exec(env.clone(), json!({})).verdict {
                Verdict::Invalid(r) => assert_eq!(r.var, var, "{env}"),
                v => panic!("{env}: {v:?}"),
            }
        }
        // Disabled skips the sampler, but FromEnv still parses every value first.
        let off = lit(&[
            ("JAEGER_DISABLED", "true"),
            ("JAEGER_SAMPLER_TYPE", "fancy"),
        ]);
        assert_eq!(exec(off, json!({})).verdict, Verdict::Off);
        let crash = lit(&[("JAEGER_DISABLED", "true"), ("JAEGER_SAMPLER_PARAM", "x")]);
        assert!(matches!(
            exec(crash, json!({})).verdict,
            Verdict::Invalid(_)
        ));
    }

    #[test]
    fn annotations_fill_in_what_env_does_not_name_first_sorted_key_wins() {
        let rt = exec(
            lit(&[("JAEGER_DISABLED", "")]),
            json!({"seldon.io/engine-jaeger-disabled": "true", "seldon.io/engine-jaeger-sampler-type": "const",
                   "seldon.io/engine-jaeger_sampler-type": "probabilistic"}),
        );
        assert_eq!(rt.verdict, Verdict::Idle("the const sampler with JAEGER_SAMPLER_PARAM unset samples nothing (it needs a non-zero param, e.g. const:1)".into()));
        assert_eq!(
            rt.sampler,
            SamplerSetting {
                kind: Some(EnvValue::Literal("const".into())),
                param: None,
                default: false,
                source: Source::Annotation
            }
        );
    }

    #[test]
    fn python_components_read_tracing_with_int_and_fall_back_on_bad_ports() {
        let py = |pairs: &[(&str, &str)]| python(&EffectiveEnv::container(Some(&lit(pairs))));
        assert_eq!(py(&[("TRACING", " 1 ")]).verdict, Verdict::On);
        assert_eq!(py(&[("TRACING", "-1")]).verdict, Verdict::On);
        assert_eq!(py(&[("TRACING", "0")]).verdict, Verdict::Off);
        assert_eq!(py(&[]).verdict, Verdict::Off);
        assert!(matches!(
            py(&[("TRACING", "")]).verdict,
            Verdict::Invalid(_)
        ));
        assert!(matches!(
            py(&[("TRACING", "true")]).verdict,
            Verdict::Invalid(_)
        ));
        let agent = |port: &str| Destination::Agent {
            host: EnvValue::Literal("0.0.0.0".into()),
            port: EnvValue::Literal(port.into()),
            source: Source::Env,
        };
        let rt = py(&[("TRACING", "1"), ("JAEGER_AGENT_PORT", "x")]);
        assert_eq!(rt.destination, agent("6831"));
        assert_eq!(
            py(&[("TRACING", "1"), ("JAEGER_AGENT_PORT", " 6831")]).destination,
            agent("6831")
        );
    }
}
