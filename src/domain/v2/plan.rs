//! `enable`/`disable`/`sampler --core v2`: the runtime's four `tracingConfig` scalars after the
//! change asked, the checks that refuse what the components would exit on, and the
//! server-side-apply body that owns exactly those fields.

use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::goparse;
use crate::domain::v2::DISABLE;
use crate::domain::v2::ENDPOINT;
use crate::domain::v2::PROTOCOL;
use crate::domain::v2::RATIO;
use crate::domain::v2::RESTART_ANNOTATION;
use crate::domain::v2::setting::Setting;
use crate::domain::v2::setting::Source;
use crate::domain::v2::setting::Verdict;
use crate::domain::v2::setting::effective;
use crate::domain::v2::setting::tracing_config;
use crate::domain::v2::setting::verdict;

/// A change asked of a runtime's `tracingConfig` (`enable`, `disable`, `sampler --core v2`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Intent {
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
    change: &Intent,
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
            Source::SeldonConfig => format!("{v} (seldon-config)"),
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
