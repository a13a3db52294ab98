//! Seldon Core 2: tracing is set once per namespace on a SeldonRuntime (`spec.config.
//! tracingConfig`), with defaults from the SeldonConfig it names. Pure reads of raw JSON, following
//! v2.10.2 (SELDON2.md):
//! - the operator fills the runtime's empty `ratio`, `otelExporterEndpoint` and
//!   `otelExporterProtocol` from the SeldonConfig (`TracingConfig.addDefaults`) and never copies
//!   `disable`: only the runtime switches tracing off;
//! - it writes the merged setting to ConfigMap `seldon-tracing` (`tracing.json`), which the
//!   scheduler, the gateways and every Server's agent read once, at start
//!   (`scheduler/pkg/tracing/provider.go`): strict JSON, and with tracing on an empty or
//!   unparsable `ratio` or an empty endpoint is fatal; the sampler is
//!   `ParentBased(TraceIDRatioBased(ratio))`, so ratio ≤ 0 samples only what a caller sampled.

use serde::Serialize;
use serde_json::{Value, json};

use super::components::str_at;
use super::goparse;
use super::loaded::{self, Loaded, Workload};

/// The fields of `tracingConfig`, as named in the CRDs and in `tracing.json`.
pub const RATIO: &str = "ratio";
pub const ENDPOINT: &str = "otelExporterEndpoint";
pub const PROTOCOL: &str = "otelExporterProtocol";
pub const DISABLE: &str = "disable";

/// The operator's ConfigMap in the runtime's namespace.
pub const CONFIG_MAP: &str = "seldon-tracing";

/// The json/yaml kind of a listing of SeldonRuntimes alone.
pub const RUNTIME_LIST_KIND: &str = "RuntimeTracingList";

/// Where an effective value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum From {
    /// The SeldonRuntime.
    Runtime,
    /// The SeldonConfig the runtime names.
    SeldonConfig,
    Unset,
}

/// One effective value and its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    pub value: Option<String>,
    pub from: From,
}

/// What the operator computes for a runtime.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effective {
    pub ratio: Setting,
    #[serde(rename = "otelExporterEndpoint")]
    pub endpoint: Setting,
    #[serde(rename = "otelExporterProtocol")]
    pub protocol: Setting,
    /// From the runtime only (a SeldonConfig's `disable` is never copied).
    pub disable: bool,
}

fn tracing_config(obj: Option<&Value>) -> Option<&Value> {
    obj?.pointer("/spec/config/tracingConfig")
}

/// A non-empty string field (`omitempty` makes "" the same as unset).
fn text<'a>(tc: Option<&'a Value>, field: &str) -> Option<&'a str> {
    tc?.get(field)?.as_str().filter(|s| !s.is_empty())
}

/// The merged setting of `runtime` with its SeldonConfig `config` (None: not found or not
/// readable), as `TracingConfig.addDefaults` makes it.
pub fn effective(runtime: &Value, config: Option<&Value>) -> Effective {
    let rt = tracing_config(Some(runtime));
    let sc = tracing_config(config);
    let pick = |field: &str| match (text(rt, field), text(sc, field)) {
        (Some(v), _) => Setting {
            value: Some(v.into()),
            from: From::Runtime,
        },
        (None, Some(v)) => Setting {
            value: Some(v.into()),
            from: From::SeldonConfig,
        },
        (None, None) => Setting {
            value: None,
            from: From::Unset,
        },
    };
    Effective {
        ratio: pick(RATIO),
        endpoint: pick(ENDPOINT),
        protocol: pick(PROTOCOL),
        disable: rt.and_then(|t| t.get(DISABLE)).and_then(Value::as_bool) == Some(true),
    }
}

impl Effective {
    /// `tracing.json` as the operator writes it (`json.Marshal` with `omitempty`, fields in
    /// struct order).
    pub fn tracing_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        if self.disable {
            m.insert(DISABLE.into(), json!(true));
        }
        for (k, s) in [
            (ENDPOINT, &self.endpoint),
            (PROTOCOL, &self.protocol),
            (RATIO, &self.ratio),
        ] {
            if let Some(v) = &s.value {
                m.insert(k.into(), json!(v));
            }
        }
        Value::Object(m)
    }
}

/// What the core components do with a setting when they start.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    On,
    Off,
    /// Starts, samples nothing it starts itself; why.
    Idle(String),
    /// Exits at start; why.
    Invalid(String),
}

impl Verdict {
    /// `on | off | idle | invalid`, and why for the last two.
    pub fn words(self) -> (&'static str, Option<String>) {
        match self {
            Verdict::On => ("on", None),
            Verdict::Off => ("off", None),
            Verdict::Idle(why) => ("idle", Some(why)),
            Verdict::Invalid(why) => ("invalid", Some(why)),
        }
    }
}

/// The verdict of a setting, as `provider.go` `loadConfig` and `recreateTracerProvider` decide.
pub fn verdict(e: &Effective) -> Verdict {
    if e.disable {
        return Verdict::Off;
    }
    let Some(ratio) = &e.ratio.value else {
        return Verdict::Invalid(
            "ratio is empty while tracing is on: the scheduler, the gateways and the Servers' agents exit at their next start (strconv.ParseFloat: invalid syntax); set spec.config.tracingConfig.ratio on the SeldonRuntime or its SeldonConfig, e.g. \"0.1\"".into(),
        );
    };
    let Ok(r) = goparse::parse_float(ratio) else {
        return Verdict::Invalid(format!(
            "ratio {ratio:?} is not a number Go's strconv.ParseFloat reads: the core components exit at their next start"
        ));
    };
    if e.endpoint.value.is_none() {
        return Verdict::Invalid(
            "otelExporterEndpoint is empty while tracing is on: the core components exit at their next start (\"Trace enabled but Otel endpoint empty\")".into(),
        );
    }
    // TraceIDRatioBased samples a trace when the low 63 bits of its id are below
    // uint64(ratio * 2^63): a ratio under 2^-63 gives a bound of 0 and samples nothing. NaN
    // fails every comparison and converts to 2^63 on amd64: every trace (see `ratio-nan`).
    if r * 9_223_372_036_854_775_808.0 < 1.0 {
        return Verdict::Idle(format!(
            "ratio {ratio} samples none of the traces the components start (ParentBased: only callers' sampled traces are followed)"
        ));
    }
    Verdict::On
}

/// What differs between the setting and the operator's ConfigMap, when it does.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// `tracing.json` equals the setting.
    Same,
    /// No ConfigMap `seldon-tracing`: the operator has not acted (or is not running).
    Missing,
    /// It holds something else: the operator has not caught up, or is not running.
    Differs { holds: String },
}

/// What a core component makes of a `tracing.json` as it is, whoever wrote it (the operator, or
/// a hand edit the operator has not reverted yet): `provider.go` decodes it with
/// `encoding/json` into its struct (`disable` bool; `otelExporterEndpoint`,
/// `otelExporterProtocol` and `ratio`, tagged `Ratio`, strings), keys matched case-insensitively,
/// `DisallowUnknownFields`, the last of repeated keys winning, `null` leaving a field as it was;
/// only the first JSON value of the file is read. Then the rules of [`verdict`].
pub fn file_verdict(text: &str) -> Verdict {
    let invalid = |why: String| {
        Verdict::Invalid(format!(
            "the core components exit at their next start: {why}"
        ))
    };
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let value = match stream.next() {
        Some(Ok(v)) => v,
        Some(Err(e)) => return invalid(format!("tracing.json is not JSON ({e})")),
        None => return invalid("tracing.json is empty (unexpected end of JSON input)".into()),
    };
    let fields = match &value {
        Value::Object(m) => m.clone(),
        // `null` decodes into the zero struct.
        Value::Null => serde_json::Map::new(),
        other => {
            return invalid(format!(
                "tracing.json holds {}, not an object (json: cannot unmarshal into Go value of type tracing.TracingConfig)",
                match other {
                    Value::Array(_) => "an array",
                    Value::String(_) => "a string",
                    Value::Number(_) => "a number",
                    _ => "a bool",
                }
            ));
        }
    };
    let mut disable = false;
    let mut strings: [Option<String>; 3] = [None, None, None];
    const STRING_FIELDS: [&str; 3] = [ENDPOINT, PROTOCOL, RATIO];
    for (key, v) in &fields {
        if key.eq_ignore_ascii_case(DISABLE) {
            match v {
                Value::Bool(b) => disable = *b,
                Value::Null => {}
                _ => {
                    return invalid(format!(
                        "\"{key}\" is {v}, not true or false (json: cannot unmarshal into Go struct field of type bool)"
                    ));
                }
            }
            continue;
        }
        let Some(i) = STRING_FIELDS
            .iter()
            .position(|f| key.eq_ignore_ascii_case(f))
        else {
            return invalid(format!(
                "json: unknown field \"{key}\" (only disable, otelExporterEndpoint, otelExporterProtocol and ratio are read)"
            ));
        };
        match v {
            Value::String(s) => strings[i] = Some(s.clone()),
            Value::Null => {}
            _ => {
                return invalid(format!(
                    "\"{key}\" is {v}, not a string (json: cannot unmarshal into Go struct field of type string); write it quoted"
                ));
            }
        }
    }
    let setting = |v: &Option<String>| Setting {
        value: v.clone().filter(|s| !s.is_empty()),
        from: From::Runtime,
    };
    verdict(&Effective {
        endpoint: setting(&strings[0]),
        protocol: setting(&strings[1]),
        ratio: setting(&strings[2]),
        disable,
    })
}

/// Compares the setting with ConfigMap `seldon-tracing` (None: it does not exist).
pub fn applied(e: &Effective, cm: Option<&Value>) -> Applied {
    let Some(cm) = cm else {
        return Applied::Missing;
    };
    let holds = str_at(cm, &["data", "tracing.json"]).unwrap_or("");
    match serde_json::from_str::<Value>(holds) {
        Ok(v) if v == e.tracing_json() => Applied::Same,
        _ => Applied::Differs {
            holds: holds.to_string(),
        },
    }
}

/// A read that may not have succeeded.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    Found(Value),
    Missing,
    /// Not readable; why.
    NotRead(String),
}

impl Read {
    fn found(&self) -> Option<&Value> {
        match self {
            Read::Found(v) => Some(v),
            _ => None,
        }
    }
}

/// A v2 warning: a stable code and one line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

/// The codes, each with what it means (docs/output.md lists them).
pub const CODES: &[(&str, &str)] = &[
    (
        "seldon-config-missing",
        "the SeldonConfig a runtime names does not exist where the operator reads it",
    ),
    (
        "seldon-config-unread",
        "the SeldonConfig could not be read, so values it would fill are unknown",
    ),
    (
        "config-disable-ignored",
        "a SeldonConfig says disable: true, which the operator never copies",
    ),
    (
        "operator-not-applied",
        "ConfigMap seldon-tracing is missing or holds another setting",
    ),
    (
        "auto-update-off",
        "disableAutoUpdate: the SeldonConfig's later changes do not reach the runtime",
    ),
    (
        "ratio-nan",
        "ratio NaN: every trace on amd64 nodes, none on arm64",
    ),
    (
        "config-map-invalid",
        "ConfigMap seldon-tracing holds a file the core components exit on at their next start",
    ),
    (
        "restart-needed",
        "pods started before the ConfigMap's last write: they run the old setting",
    ),
    (
        "pods-unread",
        "the namespace's workloads or pods could not be listed, so PODS is unknown",
    ),
    (
        "mlserver-no-spans",
        "a Server's mlserver container has no MLSERVER_TRACING_SERVER: MLServer records no spans",
    ),
    (
        "mlserver-ignores-disable",
        "tracing is off or samples nothing, but MLServer exports spans (it ignores disable and ratio)",
    ),
    (
        "helm-managed",
        "a Helm release made the runtime: helm upgrade puts its tracing values back",
    ),
    (
        "managed-by",
        "another field manager applies spec.config.tracingConfig: its next apply reverts a change",
    ),
    (
        "argocd-tracked",
        "Argo CD tracks the runtime: a sync puts Git's tracing values back",
    ),
];

/// The annotation `--restart` sets on a SeldonRuntime (and on Servers): the operator copies a
/// runtime's annotations into its core components' pod templates, and a Server's into its pods',
/// so a new value rolls them.
pub const RESTART_ANNOTATION: &str = "seldon-tracing.kubectl.io/restartedAt";

/// The verdict of a `tracing.json` as written (see [`file_verdict`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileVerdict {
    /// on | off | idle | invalid
    pub tracing: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One SeldonRuntime's tracing, as `status --core v2` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuntimeStatus {
    /// Always `v2`: which Seldon generation the item describes.
    pub core: &'static str,
    pub namespace: String,
    pub name: String,
    #[serde(rename = "seldonConfig")]
    pub seldon_config: String,
    /// on | off | idle | invalid | unknown
    pub tracing: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(flatten)]
    pub effective: Effective,
    /// ConfigMap `seldon-tracing`: current | missing | differs | unknown
    #[serde(rename = "configMap")]
    pub config_map: &'static str,
    /// When the ConfigMap holds something else: what a pod starting now makes of it.
    #[serde(rename = "configMapTracing", skip_serializing_if = "Option::is_none")]
    pub config_map_tracing: Option<FileVerdict>,
    /// Whether the pods run this setting: the worst of `workloads` (see `loaded::Loaded`).
    pub pods: Loaded,
    /// Each Deployment and StatefulSet that reads ConfigMap `seldon-tracing`.
    pub workloads: Vec<Workload>,
    pub warnings: Vec<Warning>,
}

/// The status of `runtime`, given its SeldonConfig (read in `config_namespace`) and the
/// operator's ConfigMap in its namespace.
pub fn runtime_status(
    runtime: &Value,
    config: &Read,
    config_namespace: &str,
    cm: &Read,
) -> RuntimeStatus {
    let sc_name = str_at(runtime, &["spec", "seldonConfig"])
        .unwrap_or("")
        .to_string();
    let e = effective(runtime, config.found());
    let mut warnings = Vec::new();
    let mut warn = |code: &'static str, message: String| warnings.push(Warning { code, message });
    let (mut tracing, mut reason) = verdict(&e).words();
    if e.ratio
        .value
        .as_deref()
        .and_then(|r| goparse::parse_float(r).ok())
        .is_some_and(f64::is_nan)
        && !e.disable
    {
        warn(
            "ratio-nan",
            "ratio NaN: Go's conversion of it to a sampling bound samples every trace on amd64 nodes (seen) and none on arm64; write a number from 0 to 1".into(),
        );
    }
    let from_runtime = [&e.ratio, &e.endpoint, &e.protocol]
        .iter()
        .all(|s| s.from == From::Runtime);
    match config {
        Read::Missing => warn(
            "seldon-config-missing",
            format!(
                "SeldonConfig {config_namespace}/{sc_name} does not exist, so the operator fills nothing from it (and refuses to reconcile the runtime)"
            ),
        ),
        Read::NotRead(why) => {
            warn(
                "seldon-config-unread",
                format!(
                    "SeldonConfig {config_namespace}/{sc_name} was not read ({why}); values the runtime leaves empty are unknown"
                ),
            );
            if !e.disable && !from_runtime {
                tracing = "unknown";
                reason = Some(format!(
                    "values the runtime leaves empty come from SeldonConfig {config_namespace}/{sc_name}, which was not read"
                ));
            }
        }
        Read::Found(sc) => {
            let sc_disable = tracing_config(Some(sc))
                .and_then(|t| t.get(DISABLE))
                .and_then(Value::as_bool)
                == Some(true);
            if sc_disable && !e.disable {
                warn(
                    "config-disable-ignored",
                    format!(
                        "SeldonConfig {sc_name} says disable: true, which the operator never copies: tracing is off only with disable: true on the SeldonRuntime"
                    ),
                );
            }
            let auto_off = runtime
                .pointer("/spec/disableAutoUpdate")
                .and_then(Value::as_bool)
                == Some(true);
            if auto_off && !from_runtime {
                warn(
                    "auto-update-off",
                    format!(
                        "disableAutoUpdate is set: later changes to SeldonConfig {sc_name} do not reach this runtime"
                    ),
                );
            }
        }
    }
    let mut loaded_now = None;
    let config_map = match cm {
        Read::NotRead(_) => "unknown",
        Read::Missing => {
            warn(
                "operator-not-applied",
                format!(
                    "ConfigMap {CONFIG_MAP} does not exist: the Seldon operator has not applied this runtime (is it running?)"
                ),
            );
            "missing"
        }
        Read::Found(cm) => match applied(&e, Some(cm)) {
            Applied::Same => "current",
            Applied::Missing => "missing",
            Applied::Differs { holds } => {
                warn(
                    "operator-not-applied",
                    format!(
                        "ConfigMap {CONFIG_MAP} holds {holds}, not {}: the Seldon operator has not applied the change (is it running?)",
                        e.tracing_json()
                    ),
                );
                let judged = file_verdict(&holds);
                let exits = matches!(judged, Verdict::Invalid(_));
                let (word, why) = judged.words();
                if let Some(why) = why.as_ref().filter(|_| exits) {
                    warn(
                        "config-map-invalid",
                        format!(
                            "a pod that starts now loads ConfigMap {CONFIG_MAP} as it is, and {why}"
                        ),
                    );
                }
                loaded_now = Some(FileVerdict {
                    tracing: word,
                    reason: why,
                });
                "differs"
            }
        },
    };
    RuntimeStatus {
        core: "v2",
        namespace: str_at(runtime, &["metadata", "namespace"])
            .unwrap_or("")
            .into(),
        name: str_at(runtime, &["metadata", "name"]).unwrap_or("").into(),
        seldon_config: sc_name,
        tracing,
        reason,
        effective: e,
        config_map,
        config_map_tracing: loaded_now,
        pods: Loaded::Unknown,
        workloads: Vec::new(),
        warnings,
    }
}

/// `status --expect`: the line for a runtime not in the state asked (`on`: on; `off`: off or
/// idle), None when it is.
pub fn unmet(st: &RuntimeStatus, want_on: bool) -> Option<String> {
    let ok = match st.tracing {
        "on" => want_on,
        "off" | "idle" => !want_on,
        _ => false,
    };
    let why = st
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    (!ok).then(|| {
        format!(
            "{}/{}: SeldonRuntime is {}{why}",
            st.namespace, st.name, st.tracing
        )
    })
}

/// What runs in a runtime's namespace: its Deployments and StatefulSets, and its pods (None
/// when they may not be listed).
pub struct Running<'a> {
    pub deployments: &'a [Value],
    pub statefulsets: &'a [Value],
    pub pods: Option<&'a [Value]>,
}

/// Adds to `st` which setting its workloads' pods run (`running`: None when the workloads may
/// not be listed) against ConfigMap `seldon-tracing` as read (`cm`), with warnings for a
/// restart owed and for MLServer.
pub fn attach_running(st: &mut RuntimeStatus, cm: &Read, running: Option<&Running>) {
    let Some(r) = running.filter(|r| r.pods.is_some()) else {
        st.warnings.push(Warning {
            code: "pods-unread",
            message: "you may not list the namespace's Deployments, StatefulSets or pods, so which setting they run is unknown".into(),
        });
        return;
    };
    let written = cm.found().and_then(loaded::written_at);
    st.workloads = loaded::workloads(r.deployments, r.statefulsets, r.pods, written);
    st.pods = match st.config_map {
        "differs" | "missing" if !st.workloads.is_empty() => Loaded::AwaitingOperator,
        _ => loaded::summary(&st.workloads),
    };
    let stale: Vec<String> = st
        .workloads
        .iter()
        .filter(|w| w.loaded == Loaded::RestartNeeded)
        .map(|w| format!("{} ({} of {})", w.name, w.stale, w.running))
        .collect();
    if !stale.is_empty() {
        let core = st
            .workloads
            .iter()
            .any(|w| w.server.is_none() && w.stale > 0);
        let servers = st
            .workloads
            .iter()
            .any(|w| w.server.is_some() && w.stale > 0);
        let what = match (core, servers) {
            (true, true) => "--restart=all",
            (false, true) => "--restart=servers",
            _ => "--restart",
        };
        // The verb that changes nothing in the runtime's present state.
        let verb = if st.effective.disable {
            "disable"
        } else {
            "enable"
        };
        st.warnings.push(Warning {
            code: "restart-needed",
            message: format!(
                "pods started before ConfigMap {CONFIG_MAP} was last written run the old setting: {}; restart them with `kubectl seldon-tracing {verb} --core v2 -n {} {what}` or `{}`",
                stale.join(", "),
                st.namespace,
                restart_command(&st.namespace, &st.name)
            ),
        });
    }
    let quiet = st.tracing == "off" || st.tracing == "idle";
    for w in &st.workloads {
        let (Some(server), Some(ml)) = (&w.server, &w.mlserver) else {
            continue;
        };
        match &ml.tracing_server {
            // With tracing off, MLServer's silence is what was asked.
            None if quiet => {}
            None => {
                let var = loaded::MLSERVER_TRACING;
                let where_ = match &ml.set_on {
                    Some(other) => format!(
                        "{var} is on the {other} container (as Seldon's v2.10.2 Helm chart puts it), where MLServer's process never sees it"
                    ),
                    None => format!("the mlserver container has no {var}"),
                };
                st.warnings.push(Warning {
                    code: "mlserver-no-spans",
                    message: format!(
                        "Server {server}: {where_}, so MLServer records no spans of its own (only the agent's); set it on the mlserver container in the ServerConfig or the Server's spec.podSpec"
                    ),
                });
            }
            Some(to) if quiet => st.warnings.push(Warning {
                code: "mlserver-ignores-disable",
                message: format!(
                    "Server {server}: MLServer still exports spans to {to}: it ignores the runtime's disable and ratio; remove {} to stop it",
                    loaded::MLSERVER_TRACING
                ),
            }),
            Some(_) => {}
        }
    }
}

/// Who else writes the runtime's tracing: a Helm release (the seldon-core-v2-runtime chart
/// renders all four `tracingConfig` fields from its values), another server-side-apply manager
/// of `spec.config.tracingConfig` (Flux, Argo CD with server-side apply), or Argo CD's tracking.
pub fn managed_warnings(runtime: &Value, ours: &str) -> Vec<Warning> {
    let meta = runtime.get("metadata");
    let annotation = |k: &str| {
        meta.and_then(|m| m.pointer(&format!("/annotations/{}", k.replace('/', "~1"))))
            .and_then(Value::as_str)
    };
    let mut out = Vec::new();
    let helm_label = meta
        .and_then(|m| m.pointer("/labels/app.kubernetes.io~1managed-by"))
        .and_then(Value::as_str)
        == Some("Helm");
    if let Some(release) = annotation("meta.helm.sh/release-name").filter(|_| helm_label) {
        let rns = annotation("meta.helm.sh/release-namespace").unwrap_or("?");
        out.push(Warning {
            code: "helm-managed",
            message: format!(
                "Helm release {release} (namespace {rns}) made this runtime and renders spec.config.tracingConfig from its values: the next helm upgrade puts them back; set config.tracingConfig.* in the release's values too"
            ),
        });
    }
    let entries = meta
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array);
    let mut managers: Vec<&str> = entries
        .into_iter()
        .flatten()
        .filter(|e| e.get("operation").and_then(Value::as_str) == Some("Apply"))
        .filter(|e| {
            e.pointer("/fieldsV1/f:spec/f:config/f:tracingConfig")
                .is_some()
        })
        .filter_map(|e| e.get("manager").and_then(Value::as_str))
        .filter(|m| *m != ours)
        .collect();
    managers.dedup();
    for m in &managers {
        out.push(Warning {
            code: "managed-by",
            message: format!(
                "field manager {m} also applies spec.config.tracingConfig: its next apply reverts a change made here; change it where {m} takes it from"
            ),
        });
    }
    if annotation("argocd.argoproj.io/tracking-id").is_some()
        && !managers.iter().any(|m| m.starts_with("argocd"))
    {
        out.push(Warning {
            code: "argocd-tracked",
            message: "Argo CD tracks this runtime: a sync puts the tracing values in Git back; change them there".into(),
        });
    }
    out
}

/// A change asked of a runtime's `tracingConfig` (`enable`, `disable`, `sampler --core v2`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Change {
    /// `disable` true (`disable`) or false (`enable`).
    pub disable: Option<bool>,
    pub ratio: Option<String>,
    pub endpoint: Option<String>,
    pub protocol: Option<String>,
    /// `enable`: fill what the components need to start (a ratio of 1) and refuse without an
    /// endpoint anywhere.
    pub enable: bool,
}

/// One field changed, for the report: `~ ratio: 1 (seldon-config) -> 0.1`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl FieldChange {
    pub fn diff_line(&self) -> String {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unset)".into());
        format!(
            "~ {}: {} -> {}",
            self.field,
            show(&self.before),
            show(&self.after)
        )
    }
}

/// What a change writes: the runtime's whole `tracingConfig` as the plugin will own it (every
/// field it holds now, with the change over them, so a server-side apply drops nothing) and the
/// fields of the effective setting that change. Err: the change would leave a setting the core
/// components exit on, or a value they cannot use; the text says which and the fix.
pub fn plan(
    runtime: &Value,
    config: Option<&Value>,
    change: &Change,
) -> Result<(Value, Vec<FieldChange>), String> {
    let now = tracing_config(Some(runtime))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut next = now.as_object().cloned().unwrap_or_default();
    // Only what the runtime itself holds is carried (values from the SeldonConfig stay there).
    next.retain(|k, v| [RATIO, ENDPOINT, PROTOCOL, DISABLE].contains(&k.as_str()) && !v.is_null());
    if let Some(r) = &change.ratio {
        check_ratio(r)?;
        next.insert(RATIO.into(), json!(r));
    }
    if let Some(e) = &change.endpoint {
        check_endpoint(e)?;
        next.insert(ENDPOINT.into(), json!(e));
    }
    if let Some(p) = &change.protocol {
        check_protocol(p)?;
        next.insert(PROTOCOL.into(), json!(p));
    }
    match change.disable {
        Some(true) => {
            next.insert(DISABLE.into(), json!(true));
        }
        // Off is only `disable: true`. On is `disable: false` where the runtime holds the field
        // (leaving it out would not remove a value another field manager owns: server-side
        // apply removes only what the applier alone owned), and nothing where it does not.
        Some(false) if next.contains_key(DISABLE) => {
            next.insert(DISABLE.into(), json!(false));
        }
        Some(false) | None => {}
    }
    let before = effective(runtime, config);
    let mut trial = runtime.clone();
    trial["spec"]["config"]["tracingConfig"] = Value::Object(next.clone());
    if change.enable && effective(&trial, config).ratio.value.is_none() {
        next.insert(RATIO.into(), json!("1"));
        trial["spec"]["config"]["tracingConfig"] = Value::Object(next.clone());
    }
    let after = effective(&trial, config);
    if let Verdict::Invalid(why) = verdict(&after) {
        let fix = if after.endpoint.value.is_none() {
            "; give the collector's OTLP gRPC address with --endpoint HOST:PORT (e.g. seldon-collector.seldon-mesh:4317)"
        } else {
            ""
        };
        return Err(format!(
            "not written: the core components would exit at their next start: {why}{fix}"
        ));
    }
    let mut fields = Vec::new();
    let shown = |s: &Setting| {
        s.value.as_ref().map(|v| match s.from {
            From::SeldonConfig => format!("{v} (seldon-config)"),
            _ => v.clone(),
        })
    };
    for (field, b, a) in [
        (RATIO, &before.ratio, &after.ratio),
        (ENDPOINT, &before.endpoint, &after.endpoint),
        (PROTOCOL, &before.protocol, &after.protocol),
    ] {
        if b.value != a.value {
            fields.push(FieldChange {
                field,
                before: shown(b),
                after: shown(a),
            });
        }
    }
    if before.disable != after.disable {
        fields.push(FieldChange {
            field: DISABLE,
            before: Some(before.disable.to_string()),
            after: Some(after.disable.to_string()),
        });
    }
    Ok((Value::Object(next), fields))
}

/// A ratio Go's `strconv.ParseFloat` reads, from 0 to 1.
pub fn check_ratio(r: &str) -> Result<(), String> {
    match goparse::parse_float(r) {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(()),
        _ => Err(format!(
            "ratio {r:?} is not a number from 0 to 1 (e.g. 0.1); the core components read it with Go's strconv.ParseFloat"
        )),
    }
}

/// `host:port` as the OTLP gRPC exporter dials it: no scheme, a host, a port 1..65535.
pub fn check_endpoint(e: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "endpoint {e:?} is not HOST:PORT (no scheme; e.g. seldon-collector.seldon-mesh:4317), which the core components' OTLP gRPC exporter dials"
        )
    };
    if e.contains("://") || e.contains('/') {
        return Err(bad());
    }
    let (host, port) = e.rsplit_once(':').ok_or_else(bad)?;
    let port_ok = port.parse::<u16>().is_ok_and(|p| p > 0);
    if host.is_empty() || !port_ok {
        return Err(bad());
    }
    Ok(())
}

/// `grpc` or `http/protobuf`, the two the dataflow engine's Java agent takes.
pub fn check_protocol(p: &str) -> Result<(), String> {
    match p {
        "grpc" | "http/protobuf" => Ok(()),
        _ => Err(format!(
            "protocol {p:?} is not grpc or http/protobuf (the OpenTelemetry Java agent's two)"
        )),
    }
}

/// The server-side apply body that owns exactly `tracing_config` of the runtime, with the
/// resourceVersion read (compare-and-swap).
pub fn apply_body(runtime: &Value, tracing_config: &Value) -> Value {
    json!({
        "apiVersion": "mlops.seldon.io/v1alpha1",
        "kind": "SeldonRuntime",
        "metadata": {
            "name": runtime["metadata"]["name"],
            "namespace": runtime["metadata"]["namespace"],
            "resourceVersion": runtime["metadata"]["resourceVersion"],
        },
        "spec": {"config": {"tracingConfig": tracing_config}},
    })
}

/// The command that rolls a runtime's core components: the operator copies the runtime's
/// annotations into their pod templates (all six roll, envoy and hodometer too).
pub fn restart_command(namespace: &str, runtime: &str) -> String {
    format!(
        "kubectl annotate seldonruntime/{runtime} -n {namespace} {RESTART_ANNOTATION}=$(date -u +%Y-%m-%dT%H:%M:%SZ) --overwrite"
    )
}
#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(tc: Value) -> Value {
        json!({"metadata": {"name": "seldon", "namespace": "models"},
               "spec": {"seldonConfig": "default", "config": {"tracingConfig": tc}}})
    }

    fn config(tc: Value) -> Value {
        json!({"metadata": {"name": "default", "namespace": "seldon-mesh"},
               "spec": {"config": {"tracingConfig": tc}}})
    }

    fn helm_default() -> Value {
        config(
            json!({"otelExporterEndpoint": "seldon-collector.seldon-mesh:4317", "otelExporterProtocol": "grpc", "ratio": "1"}),
        )
    }

    #[test]
    fn the_runtime_wins_each_empty_field_comes_from_the_config_and_disable_only_from_the_runtime() {
        let e = effective(
            &runtime(json!({"ratio": "0.1", "otelExporterEndpoint": ""})),
            Some(&helm_default()),
        );
        assert_eq!(
            e.ratio,
            Setting {
                value: Some("0.1".into()),
                from: From::Runtime
            }
        );
        assert_eq!(e.endpoint.from, From::SeldonConfig);
        assert_eq!(e.protocol.value.as_deref(), Some("grpc"));
        assert_eq!(verdict(&e), Verdict::On);
        assert_eq!(
            e.tracing_json(),
            json!({"otelExporterEndpoint": "seldon-collector.seldon-mesh:4317", "otelExporterProtocol": "grpc", "ratio": "0.1"})
        );
        let off_in_config =
            config(json!({"disable": true, "ratio": "1", "otelExporterEndpoint": "c:4317"}));
        let e = effective(&runtime(json!({})), Some(&off_in_config));
        assert!(!e.disable);
        assert_eq!(verdict(&e), Verdict::On);
        let e = effective(&runtime(json!({"disable": true})), None);
        assert_eq!(verdict(&e), Verdict::Off);
        assert_eq!(e.tracing_json(), json!({"disable": true}));
    }

    #[test]
    fn settings_the_components_exit_on_are_invalid_and_ratio_zero_is_idle() {
        for (tc, needle) in [
            (json!({"otelExporterEndpoint": "c:4317"}), "ratio is empty"),
            (
                json!({"ratio": "1", "otelExporterEndpoint": ""}),
                "Endpoint is empty",
            ),
            (
                json!({"ratio": "lots", "otelExporterEndpoint": "c:4317"}),
                "not a number",
            ),
            (
                json!({"ratio": " 1", "otelExporterEndpoint": "c:4317"}),
                "not a number",
            ),
        ] {
            match verdict(&effective(&runtime(tc.clone()), None)) {
                Verdict::Invalid(why) => assert!(why.contains(needle), "{tc}: {why}"),
                v => panic!("{tc}: {v:?}"),
            }
        }
        let idle = effective(
            &runtime(json!({"ratio": "0", "otelExporterEndpoint": "c:4317"})),
            None,
        );
        assert!(matches!(verdict(&idle), Verdict::Idle(_)));
        // The harness saw: a ratio under 2^-63 samples nothing, NaN everything (amd64), as do
        // hexadecimal floats and ratios above 1 what their value says.
        let word = |r: &str| {
            verdict(&effective(
                &runtime(json!({"ratio": r, "otelExporterEndpoint": "c:4317"})),
                None,
            ))
            .words()
            .0
        };
        for (r, w) in [
            ("1e-20", "idle"),
            ("1.1e-19", "on"),
            ("-1", "idle"),
            ("NaN", "on"),
            ("0x1p-1", "on"),
            ("2", "on"),
            ("10%", "invalid"),
        ] {
            assert_eq!(word(r), w, "{r}");
        }
        let nan = runtime_status(
            &runtime(json!({"ratio": "NaN", "otelExporterEndpoint": "c:4317"})),
            &Read::Missing,
            "seldon-mesh",
            &Read::Missing,
        );
        assert!(nan.warnings.iter().any(|w| w.code == "ratio-nan"));
        // Off skips the checks, as loadConfig does.
        let off = effective(&runtime(json!({"disable": true, "ratio": "x"})), None);
        assert_eq!(verdict(&off), Verdict::Off);
    }

    #[test]
    fn a_runtime_is_judged_with_its_config_and_the_operators_config_map() {
        let rt = runtime(json!({"ratio": "0.1"}));
        let mut sc = helm_default();
        sc["spec"]["config"]["tracingConfig"]["disable"] = json!(true);
        let cm = Read::Found(json!({"data": {"tracing.json": r#"{"ratio":"1"}"#}}));
        let st = runtime_status(&rt, &Read::Found(sc), "seldon-mesh", &cm);
        assert_eq!((st.tracing, st.config_map), ("on", "differs"));
        let codes: Vec<&str> = st.warnings.iter().map(|w| w.code).collect();
        // The ConfigMap as it is has no endpoint: a pod starting now would exit.
        assert_eq!(
            codes,
            [
                "config-disable-ignored",
                "operator-not-applied",
                "config-map-invalid"
            ]
        );
        assert_eq!(
            st.config_map_tracing.as_ref().map(|f| f.tracing),
            Some("invalid")
        );
        let unread = runtime_status(
            &rt,
            &Read::NotRead("forbidden".into()),
            "seldon-mesh",
            &Read::Missing,
        );
        assert_eq!(unread.tracing, "unknown");
        assert_eq!(unread.config_map, "missing");
        let json = serde_json::to_value(&st).unwrap();
        assert_eq!(json["core"], "v2");
        assert_eq!(json["ratio"], json!({"value": "0.1", "from": "runtime"}));
        assert_eq!(json["otelExporterEndpoint"]["from"], "seldon-config");
    }

    #[test]
    fn changes_keep_what_the_runtime_holds_and_refuse_what_the_components_exit_on() {
        let sc = helm_default();
        let rt = runtime(json!({"ratio": "0.5", "otelExporterProtocol": "grpc"}));
        let set = |ratio: &str| Change {
            ratio: Some(ratio.into()),
            ..Change::default()
        };
        let (tc, fields) = plan(&rt, Some(&sc), &set("0.1")).unwrap();
        assert_eq!(tc, json!({"ratio": "0.1", "otelExporterProtocol": "grpc"}));
        assert_eq!(fields[0].diff_line(), "~ ratio: 0.5 -> 0.1");
        // disable owns only disable: true; enable takes it out again.
        let (off, _) = plan(
            &rt,
            Some(&sc),
            &Change {
                disable: Some(true),
                ..Change::default()
            },
        )
        .unwrap();
        assert_eq!(off["disable"], true);
        let off_rt = runtime(off);
        let enable = Change {
            disable: Some(false),
            enable: true,
            ..Change::default()
        };
        let (on, fields) = plan(&off_rt, Some(&sc), &enable).unwrap();
        // disable: false, not left out: a `disable: true` another manager owns would survive.
        assert_eq!(on["disable"], false);
        assert!(fields.iter().any(|f| f.field == "disable"));
        let (untouched, _) = plan(&runtime(json!({"ratio": "0.5"})), Some(&sc), &enable).unwrap();
        assert_eq!(untouched, json!({"ratio": "0.5"}));
        // Nowhere an endpoint: enable is refused with the fix; a ratio is filled in.
        let bare = runtime(json!({}));
        let err = plan(
            &bare,
            None,
            &Change {
                enable: true,
                disable: Some(false),
                ..Change::default()
            },
        )
        .unwrap_err();
        assert!(err.contains("--endpoint HOST:PORT"), "{err}");
        let (tc, _) = plan(
            &bare,
            None,
            &Change {
                enable: true,
                endpoint: Some("c:4317".into()),
                ..Change::default()
            },
        )
        .unwrap();
        assert_eq!(tc, json!({"otelExporterEndpoint": "c:4317", "ratio": "1"}));
        for bad in ["http://c:4317", "c", "c:0", ":4317", "c:4317/v1"] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
        for bad in ["1.5", "-0.1", " 0.1", "x"] {
            assert!(check_ratio(bad).is_err(), "{bad}");
        }
        assert!(check_protocol("http").is_err());
    }

    #[test]
    fn every_code_is_documented() {
        let docs = include_str!("../../docs/output.md");
        for (code, _) in CODES {
            assert!(
                docs.contains(&format!("| `{code}` |")),
                "docs/output.md lacks {code}"
            );
        }
    }

    #[test]
    fn the_config_map_is_compared_as_json() {
        let e = effective(&runtime(json!({})), Some(&helm_default()));
        let cm = |text: &str| json!({"data": {"tracing.json": text}});
        assert_eq!(applied(&e, None), Applied::Missing);
        assert_eq!(
            applied(
                &e,
                Some(&cm(
                    r#"{"ratio":"1","otelExporterProtocol":"grpc","otelExporterEndpoint":"seldon-collector.seldon-mesh:4317"}"#
                ))
            ),
            Applied::Same
        );
        assert!(matches!(
            applied(&e, Some(&cm(r#"{"ratio":"0.5"}"#))),
            Applied::Differs { .. }
        ));
    }

    #[test]
    fn helm_gitops_and_other_appliers_are_named() {
        let mut rt = runtime(json!({"ratio": "0.1"}));
        assert!(managed_warnings(&rt, "kubectl-seldon-tracing").is_empty());
        rt["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "Helm"});
        rt["metadata"]["annotations"] = json!({"meta.helm.sh/release-name": "runtime",
            "meta.helm.sh/release-namespace": "models",
            "argocd.argoproj.io/tracking-id": "app:mlops.seldon.io/SeldonRuntime:models/seldon"});
        rt["metadata"]["managedFields"] = json!([
            {"manager": "kubectl-seldon-tracing", "operation": "Apply",
             "fieldsV1": {"f:spec": {"f:config": {"f:tracingConfig": {"f:ratio": {}}}}}},
            {"manager": "kustomize-controller", "operation": "Apply",
             "fieldsV1": {"f:spec": {"f:config": {"f:tracingConfig": {"f:ratio": {}}}}}},
            {"manager": "kubectl-client-side-apply", "operation": "Update",
             "fieldsV1": {"f:spec": {"f:config": {"f:tracingConfig": {"f:ratio": {}}}}}},
            {"manager": "other", "operation": "Apply",
             "fieldsV1": {"f:spec": {"f:overrides": {}}}}]);
        let warnings = managed_warnings(&rt, "kubectl-seldon-tracing");
        let codes: Vec<&str> = warnings.iter().map(|w| w.code).collect();
        assert_eq!(codes, ["helm-managed", "managed-by", "argocd-tracked"]);
        assert!(
            warnings[0]
                .message
                .contains("Helm release runtime (namespace models)")
        );
        assert!(
            warnings[1]
                .message
                .contains("field manager kustomize-controller")
        );
    }

    fn reader_sts(name: &str, owner: Option<&str>) -> Value {
        let owners: Vec<Value> = owner
            .map(|s| json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "Server", "name": s}))
            .into_iter()
            .collect();
        json!({"metadata": {"name": name, "ownerReferences": owners}, "spec": {"replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"spec": {"volumes": [{"name": "t", "configMap": {"name": CONFIG_MAP}}],
                "containers": [{"name": "agent", "volumeMounts": [{"name": "t", "mountPath": "/mnt/tracing"}]},
                               {"name": "mlserver"}]}}}})
    }

    fn started_pod(app: &str, at: &str) -> Value {
        json!({"metadata": {"labels": {"app": app}}, "status": {"containerStatuses": [
            {"name": "agent", "state": {"running": {"startedAt": at}}}]}})
    }

    #[test]
    fn pods_before_the_write_owe_a_restart_and_a_config_map_behind_is_awaited() {
        let rt = runtime(json!({}));
        let sc = Read::Found(helm_default());
        let e = effective(&rt, Some(&helm_default()));
        let cm = Read::Found(json!({"metadata": {"managedFields": [
            {"manager": "manager", "time": "2026-11-30T12:00:00Z", "fieldsV1": {"f:data": {}}}]},
            "data": {"tracing.json": e.tracing_json().to_string()}}));
        let sts = [
            reader_sts("seldon-scheduler", None),
            reader_sts("mlserver", Some("mlserver")),
        ];
        let pods = [
            started_pod("seldon-scheduler", "2026-11-30T11:00:00Z"),
            started_pod("mlserver", "2026-11-30T12:00:01Z"),
        ];
        let running = Running {
            deployments: &[],
            statefulsets: &sts,
            pods: Some(&pods),
        };
        let mut st = runtime_status(&rt, &sc, "seldon-mesh", &cm);
        attach_running(&mut st, &cm, Some(&running));
        assert_eq!(st.config_map, "current");
        assert_eq!(st.pods, Loaded::RestartNeeded);
        let codes: Vec<&str> = st.warnings.iter().map(|w| w.code).collect();
        assert_eq!(codes, ["restart-needed", "mlserver-no-spans"]);
        assert!(
            st.warnings[0]
                .message
                .contains("statefulset/seldon-scheduler (1 of 1)")
                && st.warnings[0]
                    .message
                    .contains("enable --core v2 -n models --restart`"),
            "{}",
            st.warnings[0].message
        );
        // The operator has not written the setting: the pods cannot run it yet.
        let behind = Read::Found(json!({"data": {"tracing.json": "{\"ratio\":\"0.5\"}"}}));
        let mut st = runtime_status(&rt, &sc, "seldon-mesh", &behind);
        attach_running(&mut st, &behind, Some(&running));
        assert_eq!(st.pods, Loaded::AwaitingOperator);
        // Tracing off: MLServer's silence is what was asked, no warning.
        let off_rt = runtime(json!({"disable": true}));
        let mut st = runtime_status(&off_rt, &sc, "seldon-mesh", &cm);
        attach_running(&mut st, &cm, Some(&running));
        assert!(
            !st.warnings.iter().any(|w| w.code == "mlserver-no-spans"),
            "{:?}",
            st.warnings
        );
        // Pods not listable: unknown, said once.
        let mut st = runtime_status(&rt, &sc, "seldon-mesh", &cm);
        attach_running(&mut st, &cm, None);
        assert_eq!(st.pods, Loaded::Unknown);
        assert!(st.warnings.iter().any(|w| w.code == "pods-unread"));
    }

    #[test]
    fn a_file_is_judged_as_encoding_json_decodes_it_strictly() {
        let word = |t: &str| file_verdict(t).words().0;
        let ep = r#""otelExporterEndpoint":"c:4317""#;
        assert_eq!(word(&format!(r#"{{{ep},"ratio":"1"}}"#)), "on");
        assert_eq!(word(&format!(r#"{{{ep},"ratio":"0"}}"#)), "idle");
        // Keys match case-insensitively (the struct tag is "Ratio"); the last repeat wins.
        assert_eq!(word(&format!(r#"{{{ep},"RATIO":"0.5"}}"#)), "on");
        assert_eq!(
            word(&format!(r#"{{{ep},"ratio":"1","ratio":"0"}}"#)),
            "idle"
        );
        // null leaves a field as it was: no ratio.
        assert_eq!(word(&format!(r#"{{{ep},"ratio":null}}"#)), "invalid");
        assert_eq!(word("null"), "invalid");
        // Fatal at start: an unknown key, a number for a string, a string for a bool.
        for bad in [
            format!(r#"{{{ep},"ratio":"1","enable":true}}"#),
            format!(r#"{{{ep},"ratio":1}}"#),
            format!(r#"{{{ep},"ratio":"1","disable":"false"}}"#),
            "[]".to_string(),
            String::new(),
            "{".to_string(),
        ] {
            assert_eq!(word(&bad), "invalid", "{bad}");
        }
        assert!(
            file_verdict(r#"{"ratio":1}"#)
                .words()
                .1
                .is_some_and(|w| w.contains("write it quoted"))
        );
        // Disabled: nothing else is checked.
        assert_eq!(word(r#"{"disable":true}"#), "off");
        // Only the first value is read.
        assert_eq!(word(&format!(r#"{{{ep},"ratio":"1"}} trailing"#)), "on");
    }
}
