//! The trace model every command of this wing reads: spans as Jaeger returns them, a trace,
//! trace ids, and a span tied to the graph node it belongs to (`Hop`, `SpanRow`).

use std::collections::HashMap;

use serde::Serialize;

/// The span tags attribution, errors and `verify` read.
pub const SPAN_TAGS: &[&str] = &[
    "span.kind",
    "http.url",
    "http.status_code",
    "http.response.status_code",
    "error",
    "component",
];

/// The process tags `traces` finds deployments by.
pub const PROCESS_TAGS: &[&str] = &["hostname", "seldon.deployment", "seldon.predictor"];

/// One span, with what attribution and the waterfall read.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub id: u64,
    /// The span it is a child of (a `CHILD_OF` or `FOLLOWS_FROM` reference), if any.
    pub parent: Option<u64>,
    pub service: String,
    pub operation: String,
    /// Microseconds since the epoch.
    pub start_us: i64,
    pub duration_us: i64,
    /// Tag `error=true`, or an HTTP status of 500 or more.
    pub error: bool,
    /// The span tags something reads (`span.kind`, `http.url`, `http.status_code`, `error`,
    /// `component`), values as text.
    pub tags: Vec<(String, String)>,
    /// The process tags `traces` reads (`hostname` and the stamp's), values as text; shared by
    /// the spans of one process.
    pub process: std::sync::Arc<Vec<(String, String)>>,
}

impl Span {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn process_tag(&self, key: &str) -> Option<&str> {
        self.process
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub id: u128,
    pub spans: Vec<Span>,
}

impl Trace {
    /// Whether every `(key, value)` is a tag of one of its spans or of their processes (how a
    /// search by the stamp or a pod's hostname is checked on this side).
    pub fn carries(&self, tags: &[(String, String)]) -> bool {
        tags.iter().all(|(k, v)| {
            self.spans
                .iter()
                .any(|s| s.tag(k) == Some(v.as_str()) || s.process_tag(k) == Some(v.as_str()))
        })
    }

    /// Spans after the first whose parent is not in the trace: lost, not sent yet, or of a
    /// process that reports elsewhere. (The first span's parent is the caller's, which is never
    /// in the trace, and so are those of its siblings: Seldon Core 2's agent passes the caller's
    /// `traceparent` on, so MLServer's span is the caller's child too.) The waterfall draws them
    /// at the top level.
    pub fn orphans(&self) -> Vec<&Span> {
        let ids = self.index_by_id();
        let caller = self.spans.first().and_then(|s| s.parent);
        self.spans
            .iter()
            .skip(1)
            .filter(|s| {
                s.parent
                    .is_some_and(|p| !ids.contains_key(&p) && Some(p) != caller)
            })
            .collect()
    }

    /// Each span's index in `spans`, by span id.
    pub fn index_by_id(&self) -> HashMap<u64, usize> {
        self.spans
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id, i))
            .collect()
    }
}

/// Why a response could not be read as traces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError(pub String);

/// A trace or span id as Jaeger or a client prints it: hex, with or without leading zeros (the
/// Go client drops them, Jaeger pads to 16 or 32 digits). None when it is not one.
pub fn parse_id(text: &str) -> Option<u128> {
    // One pass (ids are parsed once per span of every trace read): leading zeros skipped, at
    // most 32 significant digits.
    if text.is_empty() {
        return None;
    }
    let mut value: u128 = 0;
    let mut digits = 0usize;
    for c in text.bytes() {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        if digits == 0 && d == 0 {
            continue;
        }
        digits += 1;
        if digits > 32 {
            return None;
        }
        value = (value << 4) | u128::from(d);
    }
    Some(value)
}

/// A trace id as Jaeger's API spells it in paths: 32 lowercase hex digits.
pub fn trace_id_text(id: u128) -> String {
    format!("{id:032x}")
}

/// What a span is in the request's path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Role {
    /// The executor's span for the whole request.
    Entry,
    /// The executor calling a node.
    Call { call: Call },
    /// A component's own span for a call it received.
    Component,
    /// Anything else (health checks, spans of other services).
    Other,
}

/// One span of a trace with the graph node it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Index into the trace's spans.
    pub span: usize,
    pub role: Role,
    /// The graph node (`executor` for the entry span); None when it cannot be told.
    pub node: Option<String>,
    /// The node was chosen among siblings that receive the same call by start order, since
    /// nothing in the trace named it (the component sent no span with its port).
    pub guessed: bool,
}

/// One span as `verify -o json|yaml` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpanRow {
    pub service: String,
    pub operation: String,
    /// The graph node, `executor` for the entry span; None when it cannot be told.
    pub node: Option<String>,
    pub start_offset_us: i64,
    pub duration_us: i64,
    pub error: bool,
}

/// The spans of `trace` in start order with their nodes.
pub fn span_rows(trace: &Trace, hops: &[Hop]) -> Vec<SpanRow> {
    let start = trace.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
    trace
        .spans
        .iter()
        .enumerate()
        .map(|(i, s)| SpanRow {
            service: s.service.clone(),
            operation: s.operation.clone(),
            node: hops
                .iter()
                .find(|h| h.span == i)
                .and_then(|h| h.node.clone()),
            start_offset_us: s.start_us - start,
            duration_us: s.duration_us,
            error: s.error,
        })
        .collect()
}

/// A call the executor makes to a graph node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Call {
    TransformInput,
    Predict,
    Route,
    Aggregate,
    TransformOutput,
}

impl Call {
    pub const ALL: [Call; 5] = [
        Call::TransformInput,
        Call::Predict,
        Call::Route,
        Call::Aggregate,
        Call::TransformOutput,
    ];

    /// The executor's client span name for the call under the seldon protocol over REST.
    pub fn rest_path(self) -> &'static str {
        match self {
            Call::TransformInput => "/transform-input",
            Call::Predict => "/predict",
            Call::Route => "/route",
            Call::Aggregate => "/aggregate",
            Call::TransformOutput => "/transform-output",
        }
    }

    /// The gRPC method the executor calls (its client span name under gRPC).
    pub fn grpc_method(self) -> &'static str {
        match self {
            Call::TransformInput => "/seldon.protos.Transformer/TransformInput",
            Call::Predict => "/seldon.protos.Model/Predict",
            Call::Route => "/seldon.protos.Router/Route",
            Call::Aggregate => "/seldon.protos.Combiner/Aggregate",
            Call::TransformOutput => "/seldon.protos.OutputTransformer/TransformOutput",
        }
    }

    /// The Python wrapper's server span name for the call over REST (the Flask view).
    pub fn python_view(self) -> &'static str {
        match self {
            Call::TransformInput => "TransformInput",
            Call::Predict => "Predict",
            Call::Route => "Route",
            Call::Aggregate => "Aggregate",
            Call::TransformOutput => "TransformOutput",
        }
    }

    /// The call an executor client span stands for. Under the v2 and tensorflow protocols every
    /// call is the model's inference route, so it counts as Predict.
    pub fn from_client_span(operation: &str) -> Option<Call> {
        if let Some(c) = Call::ALL
            .into_iter()
            .find(|c| c.rest_path() == operation || c.grpc_method() == operation)
        {
            return Some(c);
        }
        let v2 = operation.starts_with("/v2/models/") && operation.ends_with("/infer");
        let tf = operation.starts_with("/v1/models/") && operation.ends_with(":predict");
        (v2 || tf).then_some(Call::Predict)
    }
}
