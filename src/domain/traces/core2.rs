//! `verify --core v2`'s judgement for a Model, pure: which parts of its request path should join
//! the traced request, and, once Jaeger has answered, which did and why the others did not.
//!
//! The path, as v2.10.2 builds it (docs/facts/seldon-core-2.md, "The data plane's spans"): the
//! mesh's envoy routes by the `seldon-model` header and traces nothing; the Server's agent serves
//! the request in its reverse proxy, one server span `seldon-rproxy` of service `seldon-agent`,
//! whose provider follows the runtime's setting (ConfigMap `seldon-tracing`, read when the pod
//! starts); the proxy forwards the caller's headers untouched to MLServer, which exports spans of
//! its own only with `MLSERVER_TRACING_SERVER` on its container and never reads the runtime's
//! setting.
//!
//! The request's `traceparent` says sampled and the agent's sampler is ParentBased, so the agent
//! records it whatever the ratio; the check then says that normal traffic is not recorded.

use crate::domain::traces::model::{Hop, Role, Trace};
use crate::domain::traces::verdict::Check;
use crate::domain::v2::status::RuntimeStatus;
use crate::domain::v2::workloads::{Freshness, Workload};

/// The agent's service name (`tracing.NewTraceProvider("seldon-agent", …)`).
pub const AGENT_SERVICE: &str = "seldon-agent";

/// The name of the agent's server span (`otelhttp.NewHandler(…, "seldon-rproxy")`).
pub const RPROXY_OPERATION: &str = "seldon-rproxy";

/// The two parts of a model's path that can trace.
pub const AGENT: &str = "agent";
pub const MLSERVER: &str = "mlserver";

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

/// What the agent and MLServer of `server` (the Server's workload in `rt`'s status, or why it is
/// not known) should do with the request. `fix` turns tracing on for the runtime (quoted in
/// reasons).
pub fn expectations(
    rt: &RuntimeStatus,
    server: Result<&Workload, String>,
    fix: &str,
) -> Vec<Expectation> {
    let endpoint = rt
        .effective
        .endpoint
        .value
        .clone()
        .unwrap_or_else(|| "(none)".into());
    let stale = server.as_ref().ok().and_then(|w| server_note(w));
    let who = format!("SeldonRuntime {}/{}", rt.namespace, rt.name);
    let reason = rt.reason.clone().unwrap_or_default();
    let mut agent = Expectation {
        name: AGENT,
        kind: "agent (seldon-rproxy)",
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
            agent.expected = false;
            agent.why_not = Some(format!(
                "tracing is off on {who} ({reason}); `{fix}` turns it on"
            ));
        }
        "invalid" => {
            agent.expected = false;
            agent.why_not = Some(format!(
                "the agent exits at start with this setting: {reason}"
            ));
        }
        "idle" => {
            agent.note = Some(format!(
                "recorded because the request was marked sampled (the sampler is ParentBased); normal requests are not: {reason}"
            ))
        }
        _ => {}
    }
    if let Some(stale) = &stale {
        // The pods run the setting before the last change: whether they trace is that one's.
        agent.expected = true;
        agent.note = Some(format!("{stale} (restart needed)"));
        if let Some(why) = agent.why_not.take() {
            agent.spans_to = format!(
                "{stale}; with the runtime's setting: {why}; otherwise {}",
                agent.spans_to
            );
        }
    }
    let mut mlserver = Expectation {
        name: MLSERVER,
        kind: "MLServer",
        traces: true,
        expected: false,
        why_not: None,
        spans_to: String::new(),
        note: None,
    };
    let mlserver_env = match &server {
        Ok(w) => w.mlserver.as_ref(),
        Err(why) => {
            mlserver.why_not = Some(why.clone());
            return vec![agent, mlserver];
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
    vec![agent, mlserver]
}

/// Which part made span `i` of `trace`: the agent by its service, MLServer every other span
/// (the plugin sends a trace context but makes no span, and envoy makes none).
fn part_of(trace: &Trace, i: usize) -> &'static str {
    if trace.spans[i].service == AGENT_SERVICE {
        AGENT
    } else {
        MLSERVER
    }
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
            // The agent's spans by its service; every other span is the inference server's.
            let spans = trace.map_or(0, |t| {
                (0..t.spans.len())
                    .filter(|&i| (part_of(t, i) == AGENT) == (e.name == AGENT))
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
}
