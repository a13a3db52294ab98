//! `verify`'s judgement, pure: which components of a predictor should join the one traced
//! request the plugin sends, and, once Jaeger has answered, which did and why the others did not.
//!
//! The request carries a trace context marked sampled, and both tracing clients take a remote
//! parent's decision as final (docs/facts/traces.md, "Forcing one trace"): a component whose sampler samples nothing still
//! records this request, so `verify` can pass where normal traffic leaves no trace; the check
//! then says so (`note`). What no forcing overcomes: tracing switched off, spans with nowhere to
//! go, a component reading other headers than the executor writes (it starts a trace of its
//! own), a process that exits at start, and components that cannot make Jaeger spans at all.
//!
//! The request passes when every component that can trace (the executor and each Python
//! component) has at least one span in the trace: a hop without a span is a hop nobody can see.

use serde::Serialize;

use crate::domain::traces::model::SpanRow;
use crate::domain::traces::model::{Hop, Role, Trace};
use crate::domain::v1::clients::{Destination, Propagation};
use crate::domain::v1::status::{ComponentStatus, PredictorStatus, State};

/// What a component's settings say about the verify request.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub name: String,
    pub kind: String,
    /// The executor or a Python component: a span of it is required to pass.
    pub traces: bool,
    /// Its settings say it joins the request's trace.
    pub expected: bool,
    /// Why it will not join (when `!expected`).
    pub why_not: Option<String>,
    /// Where its spans go, for the reason when they do not arrive.
    pub spans_to: Option<Destination>,
    /// It joins only because the request is forced: normal traffic records nothing, for this
    /// reason.
    pub forced: Option<String>,
}

/// The executor's own words for "spans cannot be sent" (see `runtime`): forcing does not help.
fn undeliverable(reason: &str) -> bool {
    reason.starts_with("spans cannot be sent")
}

fn is_executor(c: &ComponentStatus) -> bool {
    c.name == "executor" && c.kind == "executor"
}

/// What each component of predictor `p` should do with the verify request. `fix` is the command
/// that turns tracing on for this deployment, quoted in reasons.
pub fn expectations(p: &PredictorStatus, fix: &str) -> Vec<Expectation> {
    let executor = p.components.iter().find(|c| is_executor(c));
    let executor_b3 = executor.and_then(|e| e.propagation) == Some(Propagation::B3);
    let executor_dead = executor.is_some_and(|e| e.tracing == State::Invalid);
    p.components
        .iter()
        .map(|c| {
            let traces = is_executor(c) || c.spans_to.is_some();
            let mut e = Expectation {
                name: c.name.clone(),
                kind: c.kind.clone(),
                traces,
                expected: traces,
                why_not: None,
                spans_to: c.spans_to.clone(),
                forced: None,
            };
            let reason = c.reason.clone().unwrap_or_default();
            let not = |why: String| (false, Some(why));
            let (expected, why_not) = match c.tracing {
                _ if !traces => match c.tracing {
                    State::InExecutor => not("runs inside the executor: its work is part of the executor's spans".into()),
                    _ => not(format!("{} cannot make Jaeger spans", c.kind)),
                },
                _ if executor_dead && !is_executor(c) => not(
                    "the executor exits at start (see its reason), so no request reaches this component".into(),
                ),
                State::Off if is_executor(c) => not(format!(
                    "tracing is off (JAEGER_DISABLED=true); `{fix}` turns it on"
                )),
                State::Off => not(format!(
                    "tracing is off (TRACING unset or 0); `{fix}` turns it on"
                )),
                State::Invalid => not(format!("it exits at start: {reason}")),
                State::Idle if undeliverable(&reason) => not(reason.clone()),
                State::Idle => {
                    e.forced = Some(reason.clone());
                    (true, None)
                }
                _ if !is_executor(c)
                    && executor_b3
                    && c.propagation == Some(Propagation::Jaeger) =>
                {
                    not("separate trace: the executor sends B3 headers (JAEGER_TRACE_PROPAGATION_TYPE=b3) and this component reads only Jaeger headers unless its JAEGER_CONFIG_PATH file says `propagation: b3`, so its spans start a trace of their own".into())
                }
                _ if !is_executor(c)
                    && !executor_b3
                    && c.propagation == Some(Propagation::B3) =>
                {
                    not("separate trace: its JAEGER_CONFIG_PATH file says `propagation: b3` and the executor sends Jaeger headers, so its spans start a trace of their own".into())
                }
                _ => (true, None),
            };
            e.expected = expected;
            e.why_not = why_not;
            e
        })
        .collect()
}

/// One component's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: String,
    pub kind: String,
    /// The executor or a Python component (required to pass).
    #[serde(skip)]
    pub traces: bool,
    pub expected: bool,
    pub arrived: bool,
    /// Its spans in the trace.
    pub spans: usize,
    /// Why it did not arrive, or why it is not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// It arrived only because the request was forced; normal traffic records nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Check {
    /// Whether it holds the request back from passing: it can trace and has no span.
    pub fn fails(&self) -> bool {
        self.traces && !self.arrived
    }
}

/// Where spans that did not arrive were sent, in a sentence.
fn missing_reason(e: &Expectation, waited: &str, trace_found: bool) -> String {
    let whither = match &e.spans_to {
        Some(Destination::Agent { host, port, .. }) => format!(
            "it sends spans over UDP to the agent at {}:{}, and UDP loses them silently when nothing listens there; check that a Jaeger agent (or collector) listens on that address and reports to the Jaeger queried",
            host.display(),
            port.display()
        ),
        Some(Destination::Collector { url, .. }) => format!(
            "it posts spans to the collector {}; check that this collector writes to the Jaeger queried",
            url.display()
        ),
        Some(Destination::ConfigFile) => {
            "its JAEGER_CONFIG_PATH file says where spans go; check that address".into()
        }
        None => "check where it sends spans".into(),
    };
    if trace_found {
        format!("no span of it in the trace after {waited}: {whither}")
    } else {
        format!("the trace never reached Jaeger within {waited}: {whither}")
    }
}

/// The outcome per component, given the trace Jaeger returned (None: it never found it) and its
/// attribution to graph nodes. `executor_service` is the executor's service name.
pub fn judge(
    expected: &[Expectation],
    trace: Option<&Trace>,
    hops: &[Hop],
    executor_service: &str,
    waited: &str,
) -> Vec<Check> {
    // The executor counts once its entry span is there: it ends last and is flushed last, so
    // polling that stopped at its client spans would draw the request without its root.
    let count = |name: &str| -> usize {
        let Some(t) = trace else { return 0 };
        let ours = |h: &&Hop| {
            let s = &t.spans[h.span];
            if name == "executor" {
                s.service == executor_service && h.role != Role::Other
            } else {
                h.role == Role::Component && h.node.as_deref() == Some(name)
            }
        };
        let entry = hops.iter().filter(ours).any(|h| h.role == Role::Entry);
        match hops.iter().filter(ours).count() {
            _ if name == "executor" && !entry => 0,
            n => n,
        }
    };
    let mut counts: Vec<usize> = expected
        .iter()
        .map(|e| if e.traces { count(&e.name) } else { 0 })
        .collect();
    // A component span the graph could not place (the executor made no client span to hang it
    // on and its port names no node): when exactly one Python component lacks spans, it is
    // that one's.
    if let Some(t) = trace {
        let loose = hops
            .iter()
            .filter(|h| {
                let s = &t.spans[h.span];
                h.role == Role::Other
                    && s.service != executor_service
                    && s.tag("span.kind") == Some("server")
            })
            .count();
        let lacking: Vec<usize> = (0..expected.len())
            .filter(|&i| expected[i].traces && expected[i].name != "executor" && counts[i] == 0)
            .collect();
        if loose > 0 && lacking.len() == 1 {
            counts[lacking[0]] = loose;
        }
    }
    expected
        .iter()
        .zip(counts)
        .map(|(e, spans)| {
            let arrived = spans > 0;
            let reason = match (arrived, &e.why_not) {
                (true, _) => None,
                (false, Some(why)) => Some(why.clone()),
                (false, None) => Some(missing_reason(e, waited, trace.is_some())),
            };
            Check {
                name: e.name.clone(),
                kind: e.kind.clone(),
                traces: e.traces,
                expected: e.expected,
                arrived,
                spans,
                reason,
                note: e
                    .forced
                    .as_ref()
                    .filter(|_| arrived)
                    .map(|why| format!("recorded because the request was marked sampled; normal requests are not: {why}")),
            }
        })
        .collect()
}

/// Passed: something traces, and every component that can trace has a span.
pub fn passed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.arrived) && !checks.iter().any(Check::fails)
}

/// Whether every expected component has arrived (polling can stop).
pub fn complete(expected: &[Expectation], checks: &[Check]) -> bool {
    expected
        .iter()
        .zip(checks)
        .all(|(e, c)| !e.expected || c.arrived)
}

/// The request `verify` sent and what came back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub method: String,
    /// The URL as the executor receives it (`http://localhost:8000/...` through a port-forward).
    pub url: String,
    /// How it got there: `port-forward to pod NS/POD`, or `--via`.
    pub through: String,
    /// The executor's HTTP status; None with `--dry-run` and over gRPC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Over gRPC, the status code's name (`OK`, `Unavailable`); None with `--dry-run`.
    #[serde(rename = "grpcStatus", skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<String>,
    /// The trace headers sent.
    pub headers: std::collections::BTreeMap<String, String>,
    /// When the status is not 2xx: the answer's first line (the executor's error), cut short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `Request.method` of a gRPC call.
pub const GRPC: &str = "gRPC";

impl Request {
    /// A request about to be sent: no answer yet.
    pub fn to_send(
        method: &str,
        url: String,
        through: String,
        headers: std::collections::BTreeMap<String, String>,
    ) -> Request {
        Request {
            method: method.into(),
            url,
            through,
            status: None,
            grpc_status: None,
            headers,
            error: None,
        }
    }

    pub fn is_grpc(&self) -> bool {
        self.method == GRPC
    }

    /// What answered, as a person reads it: `200`, `OK`, `no answer`.
    pub fn answered(&self) -> String {
        match (&self.status, &self.grpc_status) {
            (Some(s), _) => s.to_string(),
            (None, Some(g)) => g.clone(),
            (None, None) => "no answer".into(),
        }
    }
}

/// The longest error line kept from a failed answer.
const ERROR_CHARS: usize = 200;

/// What a failed answer said, at most [`ERROR_CHARS`] characters; None for a 2xx status. The
/// executor answers a failure with a SeldonMessage whose `status.info` (and `status.reason`)
/// say why (docs/facts/traces.md); any other body gives its first non-empty line.
pub fn answer_error(status: u16, body: &[u8]) -> Option<String> {
    if (200..300).contains(&status) {
        return None;
    }
    let seldon = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let said: Vec<String> = ["info", "reason"]
                .iter()
                .filter_map(|k| v.pointer(&format!("/status/{k}"))?.as_str())
                .filter(|t| !t.trim().is_empty())
                .map(|t| t.trim().to_string())
                .collect();
            (!said.is_empty()).then(|| said.join(": "))
        });
    let text = String::from_utf8_lossy(body);
    Some(short(&seldon.unwrap_or_else(|| text.to_string())))
}

/// An error as shown: its first non-empty line, at most [`ERROR_CHARS`] characters.
pub fn short(text: &str) -> String {
    let (mut cut, more) = crate::domain::text::first_line(text, ERROR_CHARS);
    if more {
        cut.push('…');
    }
    if cut.is_empty() {
        "(empty answer)".into()
    } else {
        cut
    }
}

/// A failed request (`failed_with`: `HTTP 500`, `gRPC status Unavailable`) may have stopped
/// before a component: each expected component that did not arrive says so beside the reason
/// it was given.
pub fn note_failed_request(checks: &mut [Check], failed_with: &str) {
    for c in checks.iter_mut().filter(|c| c.expected && !c.arrived) {
        let failed = format!(
            "the request failed with {failed_with}, so the graph may have stopped before {}",
            c.name
        );
        c.reason = Some(match c.reason.take() {
            Some(r) => format!("{failed}; otherwise: {r}"),
            None => failed,
        });
    }
}

/// `kind: TraceVerification`: one request's trace, judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// `v2` for a Seldon Core 2 Model or Pipeline; absent for a SeldonDeployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub core: Option<&'static str>,
    /// Seldon Core 2: what `name` is, `Model` or `Pipeline`; absent for a SeldonDeployment.
    #[serde(rename = "targetKind", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub namespace: String,
    pub name: String,
    /// A SeldonDeployment's predictor; empty (and absent) for Seldon Core 2.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub predictor: String,
    #[serde(rename = "traceID")]
    pub trace_id: String,
    pub request: Request,
    /// Where Jaeger was asked.
    pub jaeger: String,
    pub spans: Vec<SpanRow>,
    pub components: Vec<Check>,
    /// `passed`, `failed`.
    pub result: String,
}

impl Verification {
    /// The report of a request about to be sent: no spans or checks yet, `failed` until judged;
    /// a SeldonDeployment's (set `core` and `kind` for Seldon Core 2).
    pub fn to_send(
        namespace: &str,
        name: &str,
        predictor: &str,
        trace_id: String,
        request: Request,
        jaeger: &str,
    ) -> Verification {
        Verification {
            core: None,
            kind: None,
            namespace: namespace.to_string(),
            name: name.to_string(),
            predictor: predictor.to_string(),
            trace_id,
            request,
            jaeger: jaeger.to_string(),
            spans: Vec::new(),
            components: Vec::new(),
            result: "failed".into(),
        }
    }

    /// What the request went through, as a person reads it.
    pub fn subject(&self) -> String {
        subject(self.kind, &self.namespace, &self.name, &self.predictor)
    }
}

/// What a request went through, or whose traces are read, as a person reads it:
/// `models/iris predictor default` for a SeldonDeployment, `model models/iris` for a Seldon
/// Core 2 `kind`.
pub fn subject(kind: Option<&str>, namespace: &str, name: &str, predictor: &str) -> String {
    match kind {
        Some(kind) => format!("{} {namespace}/{name}", kind.to_ascii_lowercase()),
        None => format!("{namespace}/{name} predictor {predictor}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::traces::attribution::{attribute, graph};
    use crate::domain::traces::jaeger_json::parse_traces;
    use crate::domain::v1::status::status;
    use serde_json::{Value, json};

    fn sdep(executor_env: Value, model_env: Value) -> Value {
        json!({"metadata": {"name": "iris", "namespace": "models"}, "spec": {"predictors": [{
            "name": "default",
            "graph": {"name": "classifier", "type": "MODEL"},
            "componentSpecs": [{"spec": {"containers": [{"name": "classifier", "image": "m:1", "env": model_env}]}}],
            "svcOrchSpec": {"env": executor_env}
        }]}})
    }

    fn on_env() -> Value {
        json!([{"name": "TRACING", "value": "1"}, {"name": "JAEGER_AGENT_HOST", "value": "jaeger-agent"}])
    }

    fn exec_env(extra: &[(&str, &str)]) -> Value {
        let mut v = vec![
            json!({"name": "JAEGER_AGENT_HOST", "value": "jaeger-agent"}),
            json!({"name": "JAEGER_SAMPLER_TYPE", "value": "const"}),
            json!({"name": "JAEGER_SAMPLER_PARAM", "value": "1"}),
        ];
        for (k, val) in extra {
            v.retain(|e| e["name"] != *k);
            v.push(json!({"name": k, "value": val}));
        }
        Value::Array(v)
    }

    fn expect(obj: &Value) -> Vec<Expectation> {
        let d = status(obj, "kubectl-seldon-tracing");
        expectations(
            &d.predictors[0],
            "kubectl seldon-tracing enable iris -n models",
        )
    }

    /// The trace of one request as Jaeger returns it: executor entry and `/predict`, and the
    /// model's Flask span when `model` is set.
    fn trace_json(model: bool) -> Value {
        let mut spans = vec![
            json!({"traceID": "ab", "spanID": "1", "operationName": "predictions", "references": [], "startTime": 1000, "duration": 900, "tags": [{"key": "span.kind", "type": "string", "value": "server"}], "processID": "p1"}),
            json!({"traceID": "ab", "spanID": "2", "operationName": "/predict", "references": [{"refType": "CHILD_OF", "traceID": "ab", "spanID": "1"}], "startTime": 1100, "duration": 700, "tags": [], "processID": "p1"}),
        ];
        if model {
            spans.push(json!({"traceID": "ab", "spanID": "3", "operationName": "Predict", "references": [{"refType": "CHILD_OF", "traceID": "ab", "spanID": "2"}], "startTime": 1200, "duration": 400, "tags": [{"key": "span.kind", "type": "string", "value": "server"}, {"key": "http.url", "type": "string", "value": "http://localhost:9000/predict"}], "processID": "p2"}));
        }
        json!({"data": [{"traceID": "ab", "spans": spans, "processes": {
            "p1": {"serviceName": "executor", "tags": []},
            "p2": {"serviceName": "MeanClassifier", "tags": []}
        }}]})
    }

    fn run(obj: &Value, body: Option<Value>) -> Vec<Check> {
        let e = expect(obj);
        let traces = body.map(|b| parse_traces(&b).unwrap());
        let t = traces.as_ref().map(|t| &t[0]);
        let g = graph(&obj["spec"]["predictors"][0]).unwrap();
        let hops = t.map(|t| attribute(t, &g, "executor")).unwrap_or_default();
        judge(&e, t, &hops, "executor", "30s")
    }

    #[test]
    fn all_on_passes_with_the_executor_and_the_model() {
        let obj = sdep(exec_env(&[]), on_env());
        let checks = run(&obj, Some(trace_json(true)));
        assert_eq!(
            checks
                .iter()
                .map(|c| (c.name.as_str(), c.arrived, c.spans))
                .collect::<Vec<_>>(),
            [("executor", true, 2), ("classifier", true, 1)]
        );
        assert!(passed(&checks));
        assert!(complete(&expect(&obj), &checks));
    }

    #[test]
    fn a_model_with_tracing_off_fails_and_says_why() {
        let obj = sdep(exec_env(&[]), json!([{"name": "TRACING", "value": "0"}]));
        let checks = run(&obj, Some(trace_json(false)));
        assert!(!passed(&checks));
        let m = &checks[1];
        assert!(!m.expected && !m.arrived);
        assert!(
            m.reason
                .as_deref()
                .unwrap()
                .starts_with("tracing is off (TRACING"),
            "{m:?}"
        );
        // Polling need not wait for what is not expected.
        assert!(complete(&expect(&obj), &checks));
    }

    #[test]
    fn a_disabled_executor_fails_while_the_model_still_joins_through_copied_headers() {
        let obj = sdep(exec_env(&[("JAEGER_DISABLED", "true")]), on_env());
        let body = json!({"data": [{"traceID": "ab", "spans": [
            {"traceID": "ab", "spanID": "3", "operationName": "Predict", "references": [{"refType": "CHILD_OF", "traceID": "ab", "spanID": "77"}], "startTime": 1200, "duration": 400, "tags": [{"key": "span.kind", "type": "string", "value": "server"}, {"key": "http.url", "type": "string", "value": "http://127.0.0.1:41234/predict"}], "processID": "p2"}
        ], "processes": {"p2": {"serviceName": "MeanClassifier", "tags": []}}}]});
        let checks = run(&obj, Some(body));
        assert!(!checks[0].arrived);
        assert!(
            checks[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("JAEGER_DISABLED=true"),
            "{:?}",
            checks[0]
        );
        assert!(checks[1].arrived, "the loose server span is the model's");
        assert!(!passed(&checks));
    }

    #[test]
    fn a_sampler_that_samples_nothing_is_overridden_and_noted() {
        let obj = sdep(exec_env(&[("JAEGER_SAMPLER_PARAM", "0")]), on_env());
        let e = expect(&obj);
        assert!(e[0].expected && e[0].forced.is_some());
        assert!(e[1].expected && e[1].forced.is_some(), "{:?}", e[1]);
        let checks = run(&obj, Some(trace_json(true)));
        assert!(passed(&checks));
        assert!(checks[0].note.as_deref().unwrap().contains("const sampler"));
    }

    #[test]
    fn expected_spans_that_never_come_name_where_they_were_sent() {
        let obj = sdep(exec_env(&[("JAEGER_AGENT_PORT", "6999")]), on_env());
        let checks = run(&obj, None);
        assert!(!passed(&checks));
        let r = checks[0].reason.as_deref().unwrap();
        assert!(
            r.starts_with("the trace never reached Jaeger within 30s"),
            "{r}"
        );
        assert!(r.contains("jaeger-agent:6999"), "{r}");
        assert!(checks.iter().all(|c| c.expected));
    }

    #[test]
    fn b3_on_the_executor_sends_a_default_python_model_into_a_trace_of_its_own() {
        let obj = sdep(
            exec_env(&[("JAEGER_TRACE_PROPAGATION_TYPE", "b3")]),
            on_env(),
        );
        let checks = run(&obj, Some(trace_json(false)));
        assert!(!checks[1].expected);
        assert!(
            checks[1]
                .reason
                .as_deref()
                .unwrap()
                .starts_with("separate trace"),
            "{:?}",
            checks[1]
        );
        assert!(!passed(&checks));
    }

    #[test]
    fn components_that_cannot_trace_are_listed_and_never_fail() {
        let obj = json!({"metadata": {"name": "iris"}, "spec": {"predictors": [{
            "name": "default",
            "graph": {"name": "ab", "implementation": "RANDOM_ABTEST", "children": [
                {"name": "a", "implementation": "TRITON_SERVER", "modelUri": "gs://a"},
                {"name": "b", "type": "MODEL"}
            ]},
            "componentSpecs": [{"spec": {"containers": [{"name": "b", "image": "m:1", "env": on_env()}]}}],
            "svcOrchSpec": {"env": exec_env(&[])}
        }]}});
        let e = expect(&obj);
        let traces: Vec<_> = e.iter().map(|x| (x.name.as_str(), x.traces)).collect();
        assert_eq!(
            traces,
            [("executor", true), ("ab", false), ("a", false), ("b", true)]
        );
        let checks = judge(&e, None, &[], "executor", "5s");
        let fails: Vec<&str> = checks
            .iter()
            .filter(|c| c.fails())
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(fails, ["executor", "b"]);
        assert!(!passed(&checks), "nothing arrived");
    }

    #[test]
    fn a_failed_request_is_named_beside_each_missing_component() {
        // The executor answered 502 and only its own span came.
        let obj = sdep(exec_env(&[]), on_env());
        let mut checks = run(&obj, None);
        checks[0].arrived = true;
        checks[0].reason = None;
        let model_reason = checks[1].reason.clone().unwrap();
        note_failed_request(&mut checks, "HTTP 502");
        assert_eq!(checks[0].reason, None, "arrived: nothing to add");
        let r = checks[1].reason.as_deref().unwrap();
        assert!(
            r.starts_with(
                "the request failed with HTTP 502, so the graph may have stopped before "
            ),
            "{r}"
        );
        assert!(r.ends_with(&model_reason), "the first reason stays: {r}");
        let mut grpc = run(&obj, None);
        note_failed_request(&mut grpc, "gRPC status Unavailable");
        let r = grpc[0].reason.as_deref().unwrap();
        assert!(r.starts_with("the request failed with gRPC status Unavailable, so the graph may have stopped before executor; otherwise: "), "{r}");
    }

    #[test]
    fn a_failed_answer_keeps_its_first_line_cut_short() {
        assert_eq!(answer_error(200, b"{}"), None);
        assert_eq!(answer_error(204, b""), None);
        assert_eq!(
            answer_error(
                502,
                b"\n  dial tcp 127.0.0.1:9: connect: connection refused\nmore"
            ),
            Some("dial tcp 127.0.0.1:9: connect: connection refused".into())
        );
        assert_eq!(answer_error(500, b""), Some("(empty answer)".into()));
        // The executor's failure: its status says why.
        let seldon = br#"{"status":{"code":500,"info":"Post \"http://m:9000/predict\": EOF","status":"FAILURE"}}"#;
        assert_eq!(
            answer_error(500, seldon),
            Some(r#"Post "http://m:9000/predict": EOF"#.into())
        );
        let both =
            br#"{"status":{"code":400,"info":"bad shape","reason":"MICROSERVICE_BAD_DATA"}}"#;
        assert_eq!(
            answer_error(400, both),
            Some("bad shape: MICROSERVICE_BAD_DATA".into())
        );
        // JSON that is not a Seldon status: its line as it is.
        assert_eq!(
            answer_error(503, br#"{"error":"x"}"#),
            Some(r#"{"error":"x"}"#.into())
        );
        let long = "x".repeat(300);
        let cut = answer_error(503, long.as_bytes()).unwrap();
        assert_eq!(cut.chars().count(), ERROR_CHARS + 1);
        assert!(cut.ends_with('…'));
        // Not UTF-8: kept readable.
        assert_eq!(answer_error(500, &[0xff, b'a']), Some("\u{fffd}a".into()));
    }
}
