//! `verify --core v2`'s judgement for a Model or a Pipeline, pure: which parts of its request path
//! should join the traced request, and, once Jaeger has answered, which did and why the others
//! did not.
//!
//! The path, as v2.10.2 builds it (docs/facts/seldon-core-2.md, "The data plane's spans"): the
//! mesh's envoy routes by the `seldon-model` header and traces nothing; the Server's agent serves
//! the request in its reverse proxy, one server span `seldon-rproxy` of service `seldon-agent`,
//! whose provider follows the runtime's setting (ConfigMap `seldon-tracing`, read when the pod
//! starts); the proxy forwards the caller's headers untouched to MLServer, which exports spans of
//! its own only with `MLSERVER_TRACING_SERVER` on its container and never reads the runtime's
//! setting.
//!
//! A Pipeline's request goes through the pipeline gateway (otelmux server span, `Produce` into
//! Kafka, `Consume` of the answer), the dataflow engine (Kafka Streams; not judged: its Java
//! agent's spans are neither reproduced nor read here), the model gateway of each step
//! (`Consume`, `WaitForWorker`, its gRPC client span, `Produce`), and each step's Server: the
//! agent's gRPC proxy (server and client span) and MLServer's gRPC server span, a child of the
//! agent's (docs/facts/seldon-core-2.md, "The pipeline path").
//!
//! The request's `traceparent` says sampled and the Go components' sampler is ParentBased, so
//! they record it whatever the ratio; the check then says that normal traffic is not recorded.

use crate::domain::traces::model::{Hop, Role, Trace};
use crate::domain::traces::verdict::Check;
use crate::domain::v2::status::RuntimeStatus;
use crate::domain::v2::workloads::{Freshness, Workload};

/// The agent's service name (`tracing.NewTraceProvider("seldon-agent", …)`).
pub const AGENT_SERVICE: &str = "seldon-agent";

/// The name of the agent's server span (`otelhttp.NewHandler(…, "seldon-rproxy")`).
pub const RPROXY_OPERATION: &str = "seldon-rproxy";

/// The gateways' service names (`scheduler/cmd/*/main.go` at v2.10.2).
pub const PIPELINE_GATEWAY_SERVICE: &str = "seldon-pipelinegateway";
pub const MODEL_GATEWAY_SERVICE: &str = "seldon-modelgateway";

/// otelmux's name for the pipeline gateway's server span of a pipeline request: the route's
/// template (`httpserver.go`'s `/v2/pipelines/{model}/infer`).
pub const PIPELINE_OPERATION: &str = "/v2/pipelines/{model}/infer";

/// The parts of a model's or a pipeline's path.
pub const AGENT: &str = "agent";
pub const MLSERVER: &str = "mlserver";
pub const PIPELINE_GATEWAY: &str = "pipeline-gateway";
pub const MODEL_GATEWAY: &str = "model-gateway";
pub const DATAFLOW: &str = "dataflow-engine";

/// What a part's settings say about the verify request.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// [`AGENT`], else the inference server: [`MLSERVER`], or `server` for another one.
    pub name: &'static str,
    pub kind: &'static str,
    /// It can trace, so a missing span fails the request (the agent and MLServer; not another
    /// inference server, whose spans are not judged).
    pub traces: bool,
    /// Its settings say it joins the request's trace.
    pub expected: bool,
    /// Why it will not join (when `!expected`).
    pub why_not: Option<String>,
    /// Where its spans go, for the reason when they do not arrive.
    pub spans_to: String,
    /// Said when it arrives: it joined only because the request was marked sampled, or runs a
    /// setting other than the runtime's.
    pub note: Option<String>,
}

/// Whether the Server's pods run an older setting than the runtime's.
fn server_note(server: &Workload) -> Option<String> {
    match server.loaded {
        Freshness::RestartNeeded => Some(format!(
            "{} of the {} pods of {} started before the setting last changed, so they run the one before it until they restart",
            server.stale, server.running, server.name
        )),
        _ => None,
    }
}

/// A core component of the runtime (an agent, a gateway): it follows the runtime's setting as
/// its pods loaded it. `workload` is its Deployment or StatefulSet in `rt`'s status.
fn core_part(
    rt: &RuntimeStatus,
    part: (&'static str, &'static str),
    workload: Option<&Workload>,
    fix: &str,
) -> Expectation {
    let endpoint = rt
        .effective
        .endpoint
        .value
        .clone()
        .unwrap_or_else(|| "(none)".into());
    let stale = workload.and_then(server_note);
    let who = format!("SeldonRuntime {}/{}", rt.namespace, rt.name);
    let reason = rt.reason.clone().unwrap_or_default();
    let mut e = Expectation {
        name: part.0,
        kind: part.1,
        traces: true,
        expected: true,
        why_not: None,
        spans_to: format!(
            "it exports spans over OTLP/gRPC to {endpoint}; check that a collector listens there and writes to the Jaeger queried"
        ),
        note: None,
    };
    match rt.tracing {
        "off" => {
            e.expected = false;
            e.why_not = Some(format!(
                "tracing is off on {who} ({reason}); `{fix}` turns it on"
            ));
        }
        "invalid" => {
            e.expected = false;
            e.why_not = Some(format!("it exits at start with this setting: {reason}"));
        }
        "idle" => {
            e.note = Some(format!(
                "recorded because the request was marked sampled (the sampler is ParentBased); normal requests are not: {reason}"
            ))
        }
        _ => {}
    }
    if let Some(stale) = &stale {
        // The pods run the setting before the last change: whether they trace is that one's.
        e.expected = true;
        e.note = Some(format!("{stale} (restart needed)"));
        if let Some(why) = e.why_not.take() {
            e.spans_to = format!(
                "{stale}; with the runtime's setting: {why}; otherwise {}",
                e.spans_to
            );
        }
    }
    e
}

/// What MLServer of `server` should do with the request.
fn inference_part(rt: &RuntimeStatus, server: &Result<&Workload, String>) -> Expectation {
    let mut mlserver = Expectation {
        name: MLSERVER,
        kind: "MLServer",
        traces: true,
        expected: false,
        why_not: None,
        spans_to: String::new(),
        note: None,
    };
    let mlserver_env = match server {
        Ok(w) => w.mlserver.as_ref(),
        Err(why) => {
            mlserver.why_not = Some(why.clone());
            return mlserver;
        }
    };
    match mlserver_env {
        Some(m) if m.tracing_server.is_some() => {
            let to = m.tracing_server.clone().unwrap_or_default();
            mlserver.expected = true;
            mlserver.spans_to = format!(
                "MLSERVER_TRACING_SERVER sends its spans over OTLP/gRPC to {to}; check that a collector listens there and writes to the Jaeger queried"
            );
            if rt.tracing == "off" {
                mlserver.note = Some(
                    "MLServer never reads the runtime's setting: it traces every request whose caller marks it sampled while MLSERVER_TRACING_SERVER is set".into(),
                );
            }
        }
        Some(m) if m.set_on.is_some() => {
            mlserver.why_not = Some(format!(
                "MLSERVER_TRACING_SERVER is set on container {}, where MLServer never reads it (v2.10.2's Helm chart puts it there); set it on container mlserver in the Server's spec.podSpec",
                m.set_on.as_deref().unwrap_or("")
            ));
        }
        Some(_) => {
            mlserver.why_not = Some(
                "MLServer exports spans only with MLSERVER_TRACING_SERVER (HOST:PORT of an OTLP/gRPC collector) on container mlserver; it never reads the runtime's setting".into(),
            );
        }
        None => {
            mlserver.name = "server";
            mlserver.kind = "inference server";
            mlserver.traces = false;
            mlserver.why_not = Some(
                "its Server runs no mlserver container (Triton, or a server of its own): whether that makes spans is not judged here".into(),
            );
        }
    }
    mlserver
}

/// What the agent and MLServer of `server` (the Server's workload in `rt`'s status, or why it is
/// not known) should do with a Model's request. `fix` turns tracing on for the runtime (quoted
/// in reasons).
pub fn expectations(
    rt: &RuntimeStatus,
    server: Result<&Workload, String>,
    fix: &str,
) -> Vec<Expectation> {
    let agent = core_part(
        rt,
        (AGENT, "agent (seldon-rproxy)"),
        server.as_ref().ok().copied(),
        fix,
    );
    vec![agent, inference_part(rt, &server)]
}

/// The core component `deployment/<name>` of `rt`'s status.
fn workload<'a>(rt: &'a RuntimeStatus, name: &str) -> Option<&'a Workload> {
    rt.workloads
        .iter()
        .find(|w| w.server.is_none() && w.name.rsplit('/').next() == Some(name))
}

/// What each part of a Pipeline's path should do with its request: the gateways, the agent and
/// MLServer of `server` (the first step's Server), and the dataflow engine, listed and not
/// judged.
pub fn pipeline_expectations(
    rt: &RuntimeStatus,
    server: Result<&Workload, String>,
    fix: &str,
) -> Vec<Expectation> {
    let gateway = |part, name| {
        let w = workload(rt, name);
        let mut e = core_part(rt, part, w, fix);
        if w.is_none() && e.expected {
            e.note = Some(format!(
                "no Deployment {name} reads ConfigMap seldon-tracing in namespace {}",
                rt.namespace
            ));
        }
        e
    };
    let dataflow = Expectation {
        name: DATAFLOW,
        kind: "dataflow engine",
        traces: false,
        expected: false,
        why_not: Some(
            "the engine (Kafka Streams) traces through the OpenTelemetry Java agent and its OTEL_* env, which this check does not model; spans of it that arrive are shown".into(),
        ),
        spans_to: String::new(),
        note: None,
    };
    vec![
        gateway(
            (PIPELINE_GATEWAY, "pipeline gateway"),
            "seldon-pipelinegateway",
        ),
        dataflow,
        gateway((MODEL_GATEWAY, "model gateway"), "seldon-modelgateway"),
        core_part(
            rt,
            (AGENT, "agent (gRPC proxy)"),
            server.as_ref().ok().copied(),
            fix,
        ),
        inference_part(rt, &server),
    ]
}

/// Which part made span `i` of `trace`: the Go components by their service names, the dataflow
/// engine by a service naming it or the Java agent's default (`unknown_service:java`, as the
/// engine's env sets no OTEL_SERVICE_NAME), the inference server every other span (the plugin
/// sends a trace context but makes no span, and envoy makes none).
fn part_of(trace: &Trace, i: usize) -> &'static str {
    match trace.spans[i].service.as_str() {
        AGENT_SERVICE => AGENT,
        PIPELINE_GATEWAY_SERVICE => PIPELINE_GATEWAY,
        MODEL_GATEWAY_SERVICE => MODEL_GATEWAY,
        s if s.contains("dataflow") || s.starts_with("unknown_service:java") => DATAFLOW,
        _ => MLSERVER,
    }
}

/// The part whose spans an expectation counts: another inference server's are MLServer's place.
fn counted_as(name: &str) -> &str {
    if name == "server" { MLSERVER } else { name }
}

/// Each span tied to its part, for the waterfall and the span rows.
pub fn hops(trace: &Trace) -> Vec<Hop> {
    (0..trace.spans.len())
        .map(|i| Hop {
            span: i,
            role: Role::Component,
            node: Some(part_of(trace, i).to_string()),
            guessed: false,
        })
        .collect()
}

/// The outcome per part, given the trace Jaeger returned (None: it never found it).
pub fn judge(expected: &[Expectation], trace: Option<&Trace>, waited: &str) -> Vec<Check> {
    expected
        .iter()
        .map(|e| {
            let spans = trace.map_or(0, |t| {
                (0..t.spans.len())
                    .filter(|&i| part_of(t, i) == counted_as(e.name))
                    .count()
            });
            let arrived = spans > 0;
            let reason = match (arrived, &e.why_not) {
                (true, _) => None,
                (false, Some(why)) => Some(why.clone()),
                (false, None) if trace.is_some() => Some(format!(
                    "no span of it in the trace after {waited}: {}",
                    e.spans_to
                )),
                (false, None) => Some(format!(
                    "the trace never reached Jaeger within {waited}: {}",
                    e.spans_to
                )),
            };
            Check {
                name: e.name.to_string(),
                kind: e.kind.to_string(),
                traces: e.traces,
                expected: e.expected,
                arrived,
                spans,
                reason,
                note: e.note.clone().filter(|_| arrived),
            }
        })
        .collect()
}

/// Whether every expected part has arrived (polling can stop).
pub fn complete(expected: &[Expectation], checks: &[Check]) -> bool {
    expected
        .iter()
        .zip(checks)
        .all(|(e, c)| !e.expected || c.arrived)
}

/// Said under `traces --core v2` when some traces hold the agent's span and nothing else: the
/// agent passes no trace context on to MLServer (its proxy forwards the caller's headers), so a
/// request whose caller sent no `traceparent` leaves MLServer's spans in a trace of their own.
pub fn agent_only_note(traces: &[Trace]) -> Option<String> {
    let alone = traces
        .iter()
        .filter(|t| !t.spans.is_empty() && t.spans.iter().all(|s| s.service == AGENT_SERVICE))
        .count();
    (alone > 0).then(|| {
        format!(
            "{alone} of {} traces hold only the agent's span: the agent passes no trace context on to MLServer, so requests whose caller sent no traceparent leave MLServer's spans in traces of their own (send a sampled traceparent to see both in one)",
            traces.len()
        )
    })
}

/// The smallest request most models take: one row of four floats, the shape of the iris
/// examples in Seldon Core 2's documentation (`--data` for anything else).
pub fn default_body() -> serde_json::Value {
    serde_json::json!({"inputs": [{"name": "predict", "shape": [1, 4], "datatype": "FP32", "data": [[1, 2, 3, 4]]}]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::traces::model::Span;
    use crate::domain::v2::setting::ConfigMapRead;
    use crate::domain::v2::status::runtime_status;
    use crate::domain::v2::workloads::{MlServer, Reads};
    use serde_json::json;

    fn runtime(tc: serde_json::Value) -> RuntimeStatus {
        let rt = json!({"metadata": {"name": "seldon", "namespace": "models"},
                        "spec": {"seldonConfig": "default", "config": {"tracingConfig": tc}}});
        let sc = json!({"spec": {"config": {"tracingConfig": {"otelExporterEndpoint": "collector:4317", "ratio": "1"}}}});
        runtime_status(
            &rt,
            &ConfigMapRead::Found(sc),
            "seldon-mesh",
            &ConfigMapRead::Missing,
        )
    }

    fn server(loaded: Freshness, tracing_server: Option<&str>, set_on: Option<&str>) -> Workload {
        Workload {
            name: "statefulset/mlserver".into(),
            server: Some("mlserver".into()),
            container: "agent".into(),
            reads: Reads::File,
            replicas: 1,
            running: 1,
            stale: usize::from(loaded == Freshness::RestartNeeded),
            loaded,
            mlserver: Some(MlServer {
                tracing_server: tracing_server.map(String::from),
                set_on: set_on.map(String::from),
            }),
        }
    }

    fn span(id: u64, service: &str) -> Span {
        Span {
            id,
            parent: None,
            service: service.into(),
            operation: "op".into(),
            start_us: 0,
            duration_us: 1,
            error: false,
            tags: Vec::new(),
            process: Default::default(),
        }
    }

    fn trace(services: &[&str]) -> Trace {
        Trace {
            id: 1,
            spans: services
                .iter()
                .enumerate()
                .map(|(i, s)| span(i as u64 + 1, s))
                .collect(),
        }
    }

    const FIX: &str = "kubectl seldon-tracing enable --core v2 -n models";

    #[test]
    fn all_on_expects_both_and_passes_with_both() {
        let e = expectations(
            &runtime(json!({})),
            Ok(&server(Freshness::Current, Some("collector:4317"), None)),
            FIX,
        );
        assert!(e.iter().all(|x| x.expected), "{e:?}");
        let t = trace(&[AGENT_SERVICE, "mlserver", "mlserver"]);
        let checks = judge(&e, Some(&t), "30s");
        assert_eq!(
            checks
                .iter()
                .map(|c| (c.name.as_str(), c.spans))
                .collect::<Vec<_>>(),
            [("agent", 1), ("mlserver", 2)]
        );
        assert!(complete(&e, &checks));
        assert!(checks.iter().all(|c| !c.fails() && c.note.is_none()));
    }

    #[test]
    fn a_disabled_runtime_names_the_runtime_and_the_fix() {
        let e = expectations(
            &runtime(json!({"disable": true})),
            Ok(&server(Freshness::Current, None, None)),
            FIX,
        );
        assert!(!e[0].expected);
        let checks = judge(&e, None, "30s");
        let why = checks[0].reason.as_deref().unwrap_or("");
        assert!(
            why.contains("SeldonRuntime models/seldon") && why.contains(FIX),
            "{why}"
        );
        assert!(checks.iter().all(Check::fails));
    }

    #[test]
    fn ratio_zero_is_forced_and_noted() {
        let e = expectations(
            &runtime(json!({"ratio": "0"})),
            Ok(&server(Freshness::Current, None, None)),
            FIX,
        );
        assert!(e[0].expected);
        let checks = judge(&e, Some(&trace(&[AGENT_SERVICE])), "30s");
        assert!(
            checks[0]
                .note
                .as_deref()
                .is_some_and(|n| n.contains("normal requests are not")),
            "{:?}",
            checks[0]
        );
    }

    #[test]
    fn mlserver_without_its_variable_or_with_it_on_the_agent_is_explained() {
        let rt = runtime(json!({}));
        let unset = expectations(&rt, Ok(&server(Freshness::Current, None, None)), FIX);
        assert!(!unset[1].expected);
        assert!(
            unset[1]
                .why_not
                .as_deref()
                .unwrap()
                .contains("MLSERVER_TRACING_SERVER")
        );
        let on_agent = expectations(
            &rt,
            Ok(&server(Freshness::Current, None, Some("agent"))),
            FIX,
        );
        assert!(
            on_agent[1]
                .why_not
                .as_deref()
                .unwrap()
                .contains("set on container agent"),
            "{:?}",
            on_agent[1]
        );
        let checks = judge(&unset, Some(&trace(&[AGENT_SERVICE])), "30s");
        assert!(checks[0].arrived && checks[1].fails());
    }

    #[test]
    fn another_inference_server_is_listed_and_never_fails_the_request() {
        let mut triton = server(Freshness::Current, None, None);
        triton.mlserver = None;
        let e = expectations(&runtime(json!({})), Ok(&triton), FIX);
        assert_eq!(
            (e[1].name, e[1].traces, e[1].expected),
            ("server", false, false)
        );
        let checks = judge(&e, Some(&trace(&[AGENT_SERVICE])), "30s");
        assert!(!checks[1].fails() && checks[0].arrived);
        assert!(crate::domain::traces::verdict::passed(&checks));
    }

    #[test]
    fn traces_of_the_agent_alone_are_explained() {
        let both = trace(&[AGENT_SERVICE, "mlserver"]);
        let alone = trace(&[AGENT_SERVICE]);
        assert_eq!(agent_only_note(std::slice::from_ref(&both)), None);
        let note = agent_only_note(&[both, alone]).unwrap_or_default();
        assert!(
            note.starts_with("1 of 2 traces hold only the agent's span"),
            "{note}"
        );
    }

    #[test]
    fn pods_on_an_older_setting_are_expected_and_say_so() {
        let e = expectations(
            &runtime(json!({"disable": true})),
            Ok(&server(Freshness::RestartNeeded, None, None)),
            FIX,
        );
        assert!(e[0].expected, "the old setting may trace: {e:?}");
        let checks = judge(&e, Some(&trace(&[AGENT_SERVICE])), "30s");
        assert!(
            checks[0]
                .note
                .as_deref()
                .is_some_and(|n| n.contains("restart needed")),
            "{:?}",
            checks[0]
        );
        let missing = judge(&e, None, "30s");
        let why = missing[0].reason.as_deref().unwrap_or("");
        assert!(why.contains("tracing is off"), "{why}");
    }

    #[test]
    fn a_pipeline_judges_both_gateways_the_agent_and_mlserver_and_lists_the_engine() {
        let e = pipeline_expectations(
            &runtime(json!({})),
            Ok(&server(Freshness::Current, Some("collector:4317"), None)),
            FIX,
        );
        let names: Vec<&str> = e.iter().map(|x| x.name).collect();
        assert_eq!(
            names,
            [PIPELINE_GATEWAY, DATAFLOW, MODEL_GATEWAY, AGENT, MLSERVER]
        );
        assert!(!e[1].traces && !e[1].expected, "{:?}", e[1]);
        let t = trace(&[
            PIPELINE_GATEWAY_SERVICE,
            PIPELINE_GATEWAY_SERVICE,
            MODEL_GATEWAY_SERVICE,
            AGENT_SERVICE,
            AGENT_SERVICE,
            "mlserver",
            "unknown_service:java",
        ]);
        let checks = judge(&e, Some(&t), "30s");
        let spans: Vec<(&str, usize)> = checks.iter().map(|c| (c.name.as_str(), c.spans)).collect();
        assert_eq!(
            spans,
            [
                (PIPELINE_GATEWAY, 2),
                (DATAFLOW, 1),
                (MODEL_GATEWAY, 1),
                (AGENT, 2),
                (MLSERVER, 1)
            ]
        );
        assert!(complete(&e, &checks));
        assert!(crate::domain::traces::verdict::passed(&checks));
        // Without the model gateway's spans the request fails, and says where they should go.
        let no_mgw = trace(&[PIPELINE_GATEWAY_SERVICE, AGENT_SERVICE, "mlserver"]);
        let checks = judge(&e, Some(&no_mgw), "30s");
        assert!(checks[2].fails(), "{:?}", checks[2]);
        assert!(!complete(&e, &checks));
    }

    #[test]
    fn a_disabled_runtime_names_itself_for_each_gateway() {
        let e = pipeline_expectations(
            &runtime(json!({"disable": true})),
            Ok(&server(Freshness::Current, None, None)),
            FIX,
        );
        for part in [&e[0], &e[2], &e[3]] {
            assert!(!part.expected, "{part:?}");
            assert!(
                part.why_not
                    .as_deref()
                    .is_some_and(|w| w.contains("SeldonRuntime models/seldon")),
                "{part:?}"
            );
        }
    }
}
