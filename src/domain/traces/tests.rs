//! Tests of the traces wing as a whole: Jaeger answers read, spans attributed to graph nodes, the
//! request context, per-hop statistics (their fixtures are shared across those files).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::attribution::*;
use super::jaeger_json::*;
use super::model::*;
use super::otlp_json;
use super::request::*;
use super::stats::*;
use crate::domain::v1::stamp::*;

/// A trace as Jaeger 1.62 answered for the request docs/facts/traces.md describes ("Forcing one trace"): the executor's entry
/// span, its `/predict` call, and the Python model's Flask span (ids without padding as the
/// Go client writes them, a reference to a parent that was never reported).
fn one_model() -> Value {
    json!({"data": [{
        "traceID": "00000000000000004bf92f3577b34da6",
        "spans": [
            {"traceID": "4bf92f3577b34da6", "spanID": "a1", "operationName": "/predict",
             "references": [{"refType": "CHILD_OF", "traceID": "4bf92f3577b34da6", "spanID": "00000000000000b1"}],
             "startTime": 1_000_200, "duration": 2100, "tags": [], "processID": "p1"},
            {"traceID": "4bf92f3577b34da6", "spanID": "b1", "operationName": "predictions",
             "references": [{"refType": "CHILD_OF", "traceID": "4bf92f3577b34da6", "spanID": "ff"}],
             "startTime": 1_000_000, "duration": 2600,
             "tags": [{"key": "span.kind", "type": "string", "value": "server"}], "processID": "p1"},
            {"traceID": "4bf92f3577b34da6", "spanID": "c1", "operationName": "Predict",
             "references": [{"refType": "CHILD_OF", "traceID": "4bf92f3577b34da6", "spanID": "a1"}],
             "startTime": 1_000_400, "duration": 1500, "processID": "p2",
             "tags": [{"key": "component", "type": "string", "value": "Flask"},
                      {"key": "http.url", "type": "string", "value": "http://0.0.0.0:9000/predict"},
                      {"key": "http.status_code", "type": "int64", "value": 200}]}],
        "processes": {
            "p1": {"serviceName": "executor", "tags": [{"key": "hostname", "type": "string", "value": "iris-default-0-classifier-7d9f-x"}]},
            "p2": {"serviceName": "MeanClassifier", "tags": []}},
        "warnings": null}],
        "total": 0, "limit": 0, "offset": 0, "errors": null})
}

fn predictor(graph: Value, containers: &[&str]) -> Value {
    let cs: Vec<Value> = containers
        .iter()
        .map(|n| json!({"name": n, "image": "me/m:1"}))
        .collect();
    json!({"name": "default", "graph": graph, "componentSpecs": [{"spec": {"containers": cs}}]})
}

#[test]
fn ids_compare_whatever_their_padding() {
    assert_eq!(
        parse_id("4bf92f3577b34da6"),
        parse_id("00000000000000004bf92f3577b34da6")
    );
    assert_eq!(parse_id("0"), Some(0));
    assert_eq!(parse_id(""), None);
    assert_eq!(parse_id("xyz"), None);
    assert_eq!(parse_id(&"f".repeat(33)), None);
    assert_eq!(trace_id_text(0x4bf9), "00000000000000000000000000004bf9");
    assert_eq!(parse_id(&trace_id_text(u128::MAX)), Some(u128::MAX));
    assert_eq!(parse_id("00"), Some(0));
    assert_eq!(parse_id(&format!("000{}", "F".repeat(32))), Some(u128::MAX));
    assert_eq!(parse_id("4BF9"), Some(0x4bf9));
    assert_eq!(parse_id("4bf9 "), None);
    assert_eq!(parse_id("+4bf9"), None);
}

proptest::proptest! {
    /// The one-pass reader agrees with the standard library's, for any text of hex digits and
    /// a few others, padded or not.
    #[test]
    fn ids_parse_as_the_standard_library_does(text in "[0-9a-fA-F+ g-]{0,40}") {
        let reference = {
            let t = text.trim_start_matches('0');
            if text.is_empty() || t.len() > 32 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
                None
            } else if t.is_empty() {
                Some(0)
            } else {
                u128::from_str_radix(t, 16).ok()
            }
        };
        proptest::prop_assert_eq!(parse_id(&text), reference);
    }
}

#[test]
fn a_jaeger_answer_becomes_spans_in_start_order() {
    let t = &parse_traces(&one_model()).expect("parses")[0];
    assert_eq!(t.id, 0x4bf92f3577b34da6);
    let ops: Vec<&str> = t.spans.iter().map(|s| s.operation.as_str()).collect();
    assert_eq!(ops, ["predictions", "/predict", "Predict"]);
    assert_eq!(t.spans[0].parent, Some(0xff));
    assert_eq!(t.spans[1].parent, Some(0xb1));
    assert_eq!(t.spans[2].service, "MeanClassifier");
    assert_eq!(t.spans[2].tag("http.status_code"), Some("200"));
    assert_eq!(
        t.spans[0].process_tag("hostname"),
        Some("iris-default-0-classifier-7d9f-x")
    );
    assert!(!t.spans.iter().any(|s| s.error));
    assert_eq!(trace_duration(t), 2600);
    assert!(parse_traces(&json!({"errors": [{"code": 404}]})).is_err());
    assert!(parse_traces(&json!({"data": [{"traceID": "zz", "spans": []}]})).is_err());
    // A 5xx answer or an error tag is an error.
    let mut failed = one_model();
    failed["data"][0]["spans"][2]["tags"][2]["value"] = json!(503);
    assert!(parse_traces(&failed).unwrap()[0].spans[2].error);
    // From the bytes, the same traces as from the tree.
    let bytes = serde_json::to_vec(&failed).unwrap();
    assert_eq!(
        parse_traces_json(&bytes).unwrap(),
        parse_traces(&failed).unwrap()
    );
    assert!(parse_traces_json(b"<html>").is_err());
}

#[test]
fn one_model_request_is_three_hops() {
    let t = &parse_traces(&one_model()).unwrap()[0];
    let g = graph(&predictor(
        json!({"name": "classifier", "type": "MODEL"}),
        &["classifier"],
    ))
    .unwrap();
    assert_eq!(g.port, Some(9000));
    let hops = attribute(t, &g, "executor");
    let got: Vec<(Role, Option<&str>)> = hops
        .iter()
        .map(|h| (h.role.clone(), h.node.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (Role::Entry, Some("executor")),
            (
                Role::Call {
                    call: Call::Predict
                },
                Some("classifier")
            ),
            (Role::Component, Some("classifier")),
        ]
    );
    assert!(hops.iter().all(|h| !h.guessed));
}

#[test]
fn calls_and_ports_follow_the_executor_and_the_operator() {
    let p = predictor(
        json!({"name": "t", "type": "TRANSFORMER", "children": [
            {"name": "r", "type": "ROUTER", "children": [
                {"name": "a", "implementation": "SKLEARN_SERVER", "modelUri": "gs://a"},
                {"name": "ab", "implementation": "RANDOM_ABTEST", "children": [{"name": "b"}]}]},
            {"name": "o", "type": "OUTPUT_TRANSFORMER"},
            {"name": "m", "methods": ["TRANSFORM_INPUT", "TRANSFORM_OUTPUT"]}]}),
        &["t", "sidecar", "r", "b", "o", "m"],
    );
    let g = graph(&p).unwrap();
    let got: Vec<(&str, Vec<Call>, Option<u16>)> = g
        .walk()
        .into_iter()
        .map(|n| (n.name.as_str(), n.calls.clone(), n.port))
        .collect();
    use Call::*;
    assert_eq!(
        got,
        [
            ("t", vec![TransformInput], Some(9000)),
            ("r", vec![Route], Some(9002)),
            ("a", vec![Predict], Some(9006)),
            ("ab", vec![], None),
            ("b", vec![Predict], Some(9003)),
            ("o", vec![TransformOutput], Some(9004)),
            ("m", vec![TransformInput, TransformOutput], Some(9005)),
        ]
    );
    assert_eq!(
        Call::from_client_span("/v2/models/mnist/infer"),
        Some(Predict)
    );
    assert_eq!(
        Call::from_client_span("/v1/models/m:predict"),
        Some(Predict)
    );
    assert_eq!(
        Call::from_client_span("/seldon.protos.Router/Route"),
        Some(Route)
    );
    assert_eq!(Call::from_client_span("/health/ping"), None);
}

#[test]
fn the_request_carries_a_sampled_context_the_trace_is_then_found_by() {
    let ctx = TraceContext::new(0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7);
    assert_eq!(
        ctx.headers(false),
        [(
            "uber-trace-id",
            "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1".to_string()
        )]
    );
    let b3 = ctx.headers(true);
    assert_eq!(b3[0].1, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(b3[1].1, "00f067aa0ba902b7");
    assert_eq!(b3[2], ("x-b3-sampled", "1".to_string()));
    // The id Jaeger returns for it, whatever its padding, is the one sent.
    assert_eq!(parse_id(&trace_id_text(ctx.trace_id)), Some(ctx.trace_id));
    let zero = TraceContext::new(0, 0);
    assert!(zero.trace_id != 0 && zero.span_id != 0);
    assert_eq!(
        default_request("seldon", "classifier"),
        (
            "/api/v1.0/predictions".to_string(),
            json!({"data": {"ndarray": [[1.0, 2.0, 5.0]]}})
        )
    );
    assert_eq!(default_request("V2", "mnist").0, "/v2/models/mnist/infer");
    assert_eq!(
        default_request("tensorflow", "half").0,
        "/v1/models/half:predict"
    );
    // The executor names its entry span `predictions` for each of these routes.
    assert!(is_entry("predictions"));
}

#[test]
fn percentiles_are_nearest_rank() {
    let v: Vec<i64> = (1..=100).collect();
    assert_eq!(percentile(&v, 50.0), 50);
    assert_eq!(percentile(&v, 95.0), 95);
    assert_eq!(percentile(&v, 99.0), 99);
    assert_eq!(percentile(&v, 100.0), 100);
    assert_eq!(percentile(&[7], 99.0), 7);
    assert_eq!(percentile(&[], 50.0), 0);
    assert_eq!(percentile(&[1, 2], 50.0), 1);
}

/// A span for the simulated executor below.
fn span(
    id: u64,
    parent: u64,
    service: &str,
    op: &str,
    start: i64,
    dur: i64,
    port: Option<u16>,
) -> Span {
    Span {
        id,
        parent: Some(parent),
        service: service.into(),
        operation: op.into(),
        start_us: start,
        duration_us: dur,
        error: false,
        tags: port
            .map(|p| vec![("http.url".to_string(), format!("http://localhost:{p}/x"))])
            .unwrap_or_default(),
        process: Default::default(),
    }
}

/// What the executor and traced components send for one request through `g`: every call in
/// the executor's order (routers pick `route`'s child), the callee's span when `callee`.
/// Returns the spans and, per executor client span id, the node it called.
fn simulate(
    g: &GraphNode,
    route: &mut dyn FnMut(usize) -> usize,
    callee: bool,
) -> (Trace, HashMap<u64, String>) {
    let mut spans = vec![Span {
        id: 1,
        parent: None,
        service: "executor".into(),
        operation: "predictions".into(),
        start_us: 0,
        duration_us: 0,
        error: false,
        tags: Vec::new(),
        process: Default::default(),
    }];
    let mut truth = HashMap::new();
    let mut clock = 10;
    fn visit(
        n: &GraphNode,
        spans: &mut Vec<Span>,
        truth: &mut HashMap<u64, String>,
        clock: &mut i64,
        route: &mut dyn FnMut(usize) -> usize,
        callee: bool,
    ) {
        let call =
            |c: Call, spans: &mut Vec<Span>, truth: &mut HashMap<u64, String>, clock: &mut i64| {
                let id = spans.len() as u64 + 1;
                spans.push(span(id, 1, "executor", c.rest_path(), *clock, 5, None));
                truth.insert(id, n.name.clone());
                if callee {
                    spans.push(span(
                        id + 1,
                        id,
                        "Model",
                        c.python_view(),
                        *clock + 1,
                        3,
                        n.port,
                    ));
                }
                *clock += 10;
            };
        for c in n
            .calls
            .iter()
            .filter(|c| matches!(c, Call::Predict | Call::TransformInput))
        {
            call(*c, spans, truth, clock);
        }
        if !n.children.is_empty() {
            if n.calls.contains(&Call::Route) {
                call(Call::Route, spans, truth, clock);
                let i = route(n.children.len());
                visit(&n.children[i], spans, truth, clock, route, callee);
            } else {
                for ch in &n.children {
                    visit(ch, spans, truth, clock, route, callee);
                }
            }
            if n.calls.contains(&Call::Aggregate) {
                call(Call::Aggregate, spans, truth, clock);
            }
        }
        if n.calls.contains(&Call::TransformOutput) {
            call(Call::TransformOutput, spans, truth, clock);
        }
    }
    visit(g, &mut spans, &mut truth, &mut clock, route, callee);
    spans[0].duration_us = clock;
    (Trace { id: 1, spans }, truth)
}

fn node_value(depth: u32, seed: &mut u64, names: &mut u32) -> Value {
    let mut next = || {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 33) as usize
    };
    *names += 1;
    let name = format!("n{names}");
    let types = [
        "MODEL",
        "TRANSFORMER",
        "OUTPUT_TRANSFORMER",
        "ROUTER",
        "COMBINER",
    ];
    let ty = types[next() % types.len()];
    let n_children = if depth == 0 { 0 } else { next() % 3 };
    let mut node = json!({"name": name, "type": ty});
    if next() % 5 == 0 {
        node["implementation"] = json!("SKLEARN_SERVER");
    }
    if n_children > 0 {
        let ch: Vec<Value> = (0..n_children)
            .map(|_| node_value(depth - 1, seed, names))
            .collect();
        node["children"] = json!(ch);
    }
    node
}

/// Property over generated graphs and routes: with the components' spans in the trace,
/// every span is attributed to the node that made or received it, never guessed; without
/// them, every call still goes to a node that receives that call, each node at most once
/// per call, and the entry span to the executor.
#[test]
fn attribution_names_the_node_that_was_called() {
    // What the generated cases exercised, so the property cannot pass on trivial graphs.
    let (mut calls_seen, mut guessed_seen, mut routed) = (0, 0, 0);
    for case in 0..300u64 {
        let mut seed = case.wrapping_mul(0x9e3779b97f4a7c15) | 1;
        let mut names = 0;
        let g_json = node_value(3, &mut seed, &mut names);
        // Containers for every node but the prepackaged ones (they get theirs appended).
        let mut containers = Vec::new();
        let mut stack = vec![&g_json];
        while let Some(n) = stack.pop() {
            if n.get("implementation").is_none() {
                containers.push(n["name"].as_str().unwrap().to_string());
            }
            stack.extend(n["children"].as_array().into_iter().flatten());
        }
        let refs: Vec<&str> = containers.iter().map(String::as_str).collect();
        let g = graph(&predictor(g_json.clone(), &refs)).unwrap();
        for callee in [true, false] {
            let mut r = seed;
            let mut route = |n: usize| {
                r = r.wrapping_mul(6364136223846793005).wrapping_add(1);
                (r >> 33) as usize % n
            };
            let (t, truth) = simulate(&g, &mut route, callee);
            let hops = attribute(&t, &g, "executor");
            assert_eq!(hops[0].role, Role::Entry);
            calls_seen += hops
                .iter()
                .filter(|h| matches!(h.role, Role::Call { .. }))
                .count();
            guessed_seen += hops.iter().filter(|h| h.guessed).count();
            routed += hops
                .iter()
                .filter(|h| h.role == (Role::Call { call: Call::Route }))
                .count();
            let mut given: Vec<(String, Call)> = Vec::new();
            for h in &hops {
                let s = &t.spans[h.span];
                match &h.role {
                    Role::Call { call } => {
                        let node = h.node.clone().expect("every call attributed");
                        if callee {
                            assert_eq!(Some(&node), truth.get(&s.id), "case {case}: {g_json}");
                            assert!(!h.guessed);
                        }
                        let n = g.walk().into_iter().find(|n| n.name == node).unwrap();
                        assert!(n.calls.contains(call), "case {case}");
                        assert!(
                            !given.contains(&(node.clone(), *call)),
                            "case {case}: twice"
                        );
                        given.push((node, *call));
                    }
                    Role::Component => {
                        let parent = s.parent.unwrap();
                        assert_eq!(h.node.as_ref(), truth.get(&parent), "case {case}");
                    }
                    Role::Entry => assert_eq!(h.node.as_deref(), Some("executor")),
                    Role::Other => panic!("case {case}: unattributed {s:?}"),
                }
            }
            let stats = hop_stats(std::slice::from_ref(&t), &g, "executor");
            assert_eq!(
                stats.iter().map(|s| s.count).sum::<usize>(),
                t.spans.len(),
                "case {case}"
            );
        }
    }
    assert!(
        calls_seen > 1000 && guessed_seen > 50 && routed > 50,
        "{calls_seen} calls, {guessed_seen} guessed, {routed} routes"
    );
}

#[test]
fn hop_stats_count_each_hop_with_percentiles_and_errors() {
    let mut traces = Vec::new();
    for i in 0..20 {
        let mut t = parse_traces(&one_model()).unwrap().remove(0);
        for s in &mut t.spans {
            s.duration_us += i * 100;
        }
        t.spans[2].error = i == 19;
        traces.push(t);
    }
    let g = graph(&predictor(json!({"name": "classifier"}), &["classifier"])).unwrap();
    let stats = hop_stats(&traces, &g, "executor");
    assert_eq!(stats.len(), 3);
    let model = &stats[2];
    assert_eq!(
        (
            model.node.as_str(),
            model.service.as_str(),
            model.operation.as_str()
        ),
        ("classifier", "MeanClassifier", "Predict")
    );
    assert_eq!(model.count, 20);
    assert_eq!(model.p50_us, 1500 + 9 * 100);
    assert_eq!(model.p95_us, 1500 + 18 * 100);
    assert_eq!(model.max_us, 1500 + 19 * 100);
    assert_eq!(model.errors, 1);
    assert!(
        model.p50_us <= model.p95_us
            && model.p95_us <= model.p99_us
            && model.p99_us <= model.max_us
    );
}

#[test]
fn the_stamp_is_read_from_jaeger_tags_as_the_go_client_trims_it() {
    assert_eq!(
        stamp_in("team=fraud, seldon.deployment = iris ,seldon.predictor=default"),
        Some(("iris".into(), "default".into()))
    );
    assert_eq!(stamp_in("seldon.deployment=iris"), None);
    assert_eq!(stamp_in(""), None);
}

fn bare(id: u128, start: i64, spans: usize) -> Trace {
    Trace {
        id,
        spans: (0..spans)
            .map(|i| Span {
                id: i as u64 + 1,
                parent: None,
                service: "executor".into(),
                operation: "predictions".into(),
                start_us: start + i as i64,
                duration_us: 10 * id as i64,
                error: false,
                tags: Vec::new(),
                process: Default::default(),
            })
            .collect(),
    }
}

#[test]
fn merged_searches_keep_each_trace_once_newest_first() {
    let merged = merge(
        vec![
            bare(1, 100, 1),
            bare(2, 300, 2),
            bare(1, 100, 3),
            bare(3, 200, 1),
        ],
        2,
    );
    let got: Vec<(u128, usize)> = merged.iter().map(|t| (t.id, t.spans.len())).collect();
    assert_eq!(got, [(2, 2), (3, 1)]);
    let all = merge(vec![bare(1, 100, 1), bare(1, 100, 3)], 10);
    assert_eq!(all[0].spans.len(), 3, "the fuller answer wins");
    assert_eq!(slowest(&[bare(1, 0, 1), bare(5, 0, 1)]).unwrap().id, 5);
    assert!(slowest(&[]).is_none());
}

#[test]
fn the_stamp_keeps_every_item_of_the_user() {
    assert_eq!(
        stamped(None, "iris", "default"),
        "seldon.deployment=iris,seldon.predictor=default"
    );
    assert_eq!(
        stamped(
            Some("team=fraud, seldon.deployment=old,,env=${ENV:dev}"),
            "iris",
            "p"
        ),
        "team=fraud,env=${ENV:dev},seldon.deployment=iris,seldon.predictor=p"
    );
    let once = stamped(Some("a=1"), "iris", "p");
    assert_eq!(
        stamped(Some(&once), "iris", "p"),
        once,
        "stamping twice changes nothing"
    );
    assert_eq!(stamp_in(&once), Some(("iris".into(), "p".into())));
}

/// [`one_model`] as Jaeger 1.62 answers it on `/api/v3/traces/<id>`: resources for the two
/// processes (`hostname` renamed `host.name`), kinds as numbers and no `span.kind` attribute,
/// times in nanoseconds as strings, the `http.status_code` an `intValue` string.
fn one_model_v3() -> Value {
    let kv = |k: &str, v: Value| json!({"key": k, "value": v});
    json!({"result": {"resourceSpans": [
        {"resource": {"attributes": [
            kv("service.name", json!({"stringValue": "executor"})),
            kv("host.name", json!({"stringValue": "iris-default-0-classifier-7d9f-x"}))]},
         "scopeSpans": [{"scope": {}, "spans": [
            {"traceId": "00000000000000004bf92f3577b34da6", "spanId": "00000000000000a1",
             "parentSpanId": "00000000000000b1", "name": "/predict", "kind": 3,
             "startTimeUnixNano": "1000200000", "endTimeUnixNano": "1002300000",
             "attributes": [kv("internal.span.format", json!({"stringValue": "jaeger"}))], "status": {}},
            {"traceId": "00000000000000004bf92f3577b34da6", "spanId": "00000000000000b1",
             "parentSpanId": "00000000000000ff", "name": "predictions", "kind": 2,
             "startTimeUnixNano": "1000000000", "endTimeUnixNano": "1002600000", "status": {}}]}]},
        {"resource": {"attributes": [kv("service.name", json!({"stringValue": "MeanClassifier"}))]},
         "scopeSpans": [{"spans": [
            {"traceId": "00000000000000004bf92f3577b34da6", "spanId": "00000000000000c1",
             "parentSpanId": "00000000000000a1", "name": "Predict", "kind": "SPAN_KIND_SERVER",
             "startTimeUnixNano": 1_000_400_000u64, "endTimeUnixNano": "1001900000",
             "attributes": [kv("component", json!({"stringValue": "Flask"})),
                            kv("http.url", json!({"stringValue": "http://0.0.0.0:9000/predict"})),
                            kv("http.status_code", json!({"intValue": "200"}))]}]}]}]}})
}

#[test]
fn a_v3_answer_gives_the_same_trace_as_the_old_api() {
    let old = &parse_traces(&one_model()).expect("old API")[0];
    let v3 =
        otlp_json::parse_traces_json(&serde_json::to_vec(&one_model_v3()).unwrap()).expect("v3");
    assert_eq!(v3.len(), 1);
    let new = &v3[0];
    assert_eq!(new.id, old.id);
    // What both dialects must agree on: ids, parents, names, times, errors.
    let view = |t: &Trace| -> Vec<String> {
        t.spans
            .iter()
            .map(|s| {
                format!(
                    "{:x} {:?} {} {} {} {} {}",
                    s.id, s.parent, s.service, s.operation, s.start_us, s.duration_us, s.error
                )
            })
            .collect()
    };
    assert_eq!(view(new), view(old));
    // What attribution and `traces` read: the server's kind, the node's port, the pod's name.
    assert_eq!(new.spans[0].tag("span.kind"), Some("server"));
    assert_eq!(new.spans[1].tag("span.kind"), Some("client"));
    assert_eq!(new.spans[2].tag("http.url"), old.spans[2].tag("http.url"));
    assert_eq!(new.spans[2].tag("http.status_code"), Some("200"));
    assert_eq!(
        new.spans[0].process_tag("hostname"),
        Some("iris-default-0-classifier-7d9f-x")
    );
    let p = predictor(
        json!({"name": "classifier", "type": "MODEL", "children": []}),
        &["classifier"],
    );
    let g = graph(&p).expect("graph");
    assert_eq!(
        attribute(new, &g, "executor"),
        attribute(old, &g, "executor")
    );
}

#[test]
fn v3_errors_empty_results_and_many_traces() {
    let body = |v: &Value| serde_json::to_vec(v).unwrap();
    // Status code 2 (either spelling) and a 5xx are errors.
    let mut failed = one_model_v3();
    failed["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["status"] =
        json!({"code": 2});
    failed["result"]["resourceSpans"][1]["scopeSpans"][0]["spans"][0]["attributes"][2]["value"] =
        json!({"intValue": 503});
    let t = &otlp_json::parse_traces_json(&body(&failed)).unwrap()[0];
    let by_op = |op: &str| t.spans.iter().find(|s| s.operation == op).unwrap();
    assert!(by_op("/predict").error && by_op("Predict").error && !by_op("predictions").error);
    failed["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["status"] =
        json!({"code": "STATUS_CODE_ERROR"});
    assert!(otlp_json::parse_traces_json(&body(&failed)).unwrap()[0].spans[1].error);
    // Nothing found, as Jaeger 1.62 answers an empty search.
    let none = otlp_json::parse_traces_json(br#"{"result": {"resourceSpans": []}}"#).unwrap();
    assert!(none.is_empty());
    // A search merges traces into one result; they come apart by trace id, first seen first.
    let mut two = one_model_v3();
    let mut other = two["result"]["resourceSpans"][1].clone();
    other["scopeSpans"][0]["spans"][0]["traceId"] = json!("0000000000000000000000000000beef");
    two["result"]["resourceSpans"]
        .as_array_mut()
        .unwrap()
        .insert(0, other);
    let traces = otlp_json::parse_traces_json(&body(&two)).unwrap();
    let ids: Vec<u128> = traces.iter().map(|t| t.id).collect();
    assert_eq!(ids, [0xbeef, 0x4bf92f3577b34da6]);
    assert_eq!(traces[1].spans.len(), 3);
    // Not Jaeger's v3 answer: an error that says so.
    for bad in [
        &br#"{"data": []}"#[..],
        br#"{"result": {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "1"}]}]}]}}"#,
        b"<html>",
    ] {
        assert!(otlp_json::parse_traces_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn spans_whose_parent_is_missing_are_orphans_but_not_the_entry_span() {
    let mut t = parse_traces(&one_model()).expect("parses").remove(0);
    // The entry span's parent (the caller's) is never in the trace: not an orphan.
    assert!(t.orphans().is_empty());
    // The model's span loses its parent (the executor's client span never arrived).
    t.spans.retain(|s| s.operation != "/predict");
    let orphans: Vec<&str> = t.orphans().iter().map(|s| s.operation.as_str()).collect();
    assert_eq!(orphans, ["Predict"]);
}
