//! A SeldonRuntime's effective tracing setting, merged with its SeldonConfig as the operator
//! merges it, and what the core components do with it when they start (the verdict), both for
//! the spec and for the `tracing.json` the operator wrote.

use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::goparse;
use crate::domain::json::str_at;
use crate::domain::v2::DISABLE;
use crate::domain::v2::ENDPOINT;
use crate::domain::v2::PROTOCOL;
use crate::domain::v2::RATIO;

/// Where an effective value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
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
    pub from: Source,
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

pub fn tracing_config(obj: Option<&Value>) -> Option<&Value> {
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
            from: Source::Runtime,
        },
        (None, Some(v)) => Setting {
            value: Some(v.into()),
            from: Source::SeldonConfig,
        },
        (None, None) => Setting {
            value: None,
            from: Source::Unset,
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
pub enum ConfigMapState {
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
        from: Source::Runtime,
    };
    verdict(&Effective {
        endpoint: setting(&strings[0]),
        protocol: setting(&strings[1]),
        ratio: setting(&strings[2]),
        disable,
    })
}

/// Compares the setting with ConfigMap `seldon-tracing` (None: it does not exist).
pub fn applied(e: &Effective, cm: Option<&Value>) -> ConfigMapState {
    let Some(cm) = cm else {
        return ConfigMapState::Missing;
    };
    let holds = str_at(cm, &["data", "tracing.json"]).unwrap_or("");
    match serde_json::from_str::<Value>(holds) {
        Ok(v) if v == e.tracing_json() => ConfigMapState::Same,
        _ => ConfigMapState::Differs {
            holds: holds.to_string(),
        },
    }
}

/// A read that may not have succeeded.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigMapRead {
    Found(Value),
    Missing,
    /// Not readable; why.
    NotRead(String),
}

impl ConfigMapRead {
    pub fn found(&self) -> Option<&Value> {
        match self {
            ConfigMapRead::Found(v) => Some(v),
            _ => None,
        }
    }
}
