//! Traces as Jaeger's query API returns them (`/api/traces`, v1.62 and the v2 query extension),
//! tied to the inference graph they went through: which span belongs to which graph node, and
//! latency percentiles per hop. Pure: JSON in, values out (TRACES.md has the facts).
//!
//! How the Seldon v1.18.2 executor walks a graph (executor/predictor/predictor_process.go), which
//! is what attribution relies on: for a node, first its input call (`/predict` for a MODEL,
//! `/transform-input` for a TRANSFORMER or a node with the TRANSFORM_INPUT method), then, when it
//! has children, `/route` (ROUTER) and the children (all at once, concurrently, unless a router
//! picked one), then `/aggregate` (COMBINER), then `/transform-output` (OUTPUT_TRANSFORMER). Each
//! call is a client span of the executor named after the path, without tags; the component's own
//! server span (when it traces and joins the trace) is that client span's child and carries
//! `http.url`, whose port is the node's container port (the operator numbers them from 9000 in
//! the order containers appear, prepackaged servers last). Built-in units make no call.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::components::{self as c};

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
    let t = text.trim_start_matches('0');
    if text.is_empty() || t.len() > 32 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if t.is_empty() {
        return Some(0);
    }
    u128::from_str_radix(t, 16).ok()
}

/// A trace id as Jaeger's API spells it in paths: 32 lowercase hex digits.
pub fn trace_id_text(id: u128) -> String {
    format!("{id:032x}")
}

/// A response of `/api/traces` as far as it is read: everything else (logs, warnings, span
/// flags) is skipped while parsing, strings are borrowed from the answer where they need no
/// unescaping, and only the tags something reads are kept, so a large answer is never held as a
/// JSON tree nor copied string by string.
#[derive(serde::Deserialize)]
struct RawAnswer {
    data: Option<Converted>,
}

/// The `data` list, each trace turned into a [`Trace`] as soon as it is read, so the raw form
/// of one trace at a time is alive, never of the whole answer.
struct Converted(Vec<Trace>);

impl<'de> serde::Deserialize<'de> for Converted {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Converted, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Converted;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of traces")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Converted, A::Error> {
                let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0));
                while let Some(raw) = a.next_element::<RawTrace<'de>>()? {
                    out.push(parse_trace(raw).map_err(|e| serde::de::Error::custom(e.0))?);
                }
                Ok(Converted(out))
            }
        }
        d.deserialize_seq(V)
    }
}

type Text<'a> = std::borrow::Cow<'a, str>;

#[derive(serde::Deserialize)]
struct RawTrace<'a> {
    #[serde(rename = "traceID", borrow)]
    trace_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    spans: Vec<RawSpan<'a>>,
    #[serde(default, borrow)]
    processes: HashMap<Text<'a>, RawProcess<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpan<'a> {
    #[serde(rename = "spanID", default, borrow)]
    span_id: Text<'a>,
    #[serde(default, borrow)]
    references: Vec<RawRef<'a>>,
    #[serde(default, borrow)]
    operation_name: Text<'a>,
    #[serde(default)]
    start_time: i64,
    #[serde(default)]
    duration: i64,
    #[serde(default, borrow)]
    tags: Vec<RawTag<'a>>,
    #[serde(rename = "processID", default, borrow)]
    process_id: Text<'a>,
}

#[derive(serde::Deserialize)]
struct RawRef<'a> {
    #[serde(rename = "traceID", borrow)]
    trace_id: Option<Text<'a>>,
    #[serde(rename = "spanID", borrow)]
    span_id: Option<Text<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProcess<'a> {
    #[serde(default, borrow)]
    service_name: Text<'a>,
    #[serde(default, borrow)]
    tags: Vec<RawTag<'a>>,
}

#[derive(serde::Deserialize)]
struct RawTag<'a> {
    #[serde(borrow)]
    key: Text<'a>,
    #[serde(default, borrow)]
    value: TagText<'a>,
}

/// The span tags attribution, errors and `verify` read.
const SPAN_TAGS: &[&str] = &[
    "span.kind",
    "http.url",
    "http.status_code",
    "error",
    "component",
];
/// The process tags `traces` finds deployments by.
const PROCESS_TAGS: &[&str] = &["hostname", "seldon.deployment", "seldon.predictor"];

/// The tags of `tags` whose key is in `keep`, owned.
fn kept(tags: Vec<RawTag>, keep: &[&str]) -> Vec<(String, String)> {
    tags.into_iter()
        .filter(|t| keep.contains(&t.key.as_ref()))
        .map(|t| (t.key.into_owned(), t.value.0.into_owned()))
        .collect()
}

/// A tag's value as text, read without a JSON tree: strings as they are (borrowed when they
/// need no unescaping), numbers and booleans printed, null empty (anything else, which Jaeger
/// does not send, as its JSON).
#[derive(Default)]
struct TagText<'a>(Text<'a>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for TagText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TagText<'a>, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = TagText<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a tag value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(v)))
            }
            fn visit_bool<E>(self, v: bool) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(v.to_string())))
            }
            fn visit_i64<E>(self, v: i64) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<TagText<'a>, E> {
                Ok(TagText(Text::Owned(Value::from(v).to_string())))
            }
            fn visit_unit<E>(self) -> Result<TagText<'a>, E> {
                Ok(TagText::default())
            }
            fn visit_none<E>(self) -> Result<TagText<'a>, E> {
                Ok(TagText::default())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                a: A,
            ) -> Result<TagText<'a>, A::Error> {
                let v: Value = serde::Deserialize::deserialize(
                    serde::de::value::SeqAccessDeserializer::new(a),
                )?;
                Ok(TagText(Text::Owned(v.to_string())))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                a: A,
            ) -> Result<TagText<'a>, A::Error> {
                let v: Value = serde::Deserialize::deserialize(
                    serde::de::value::MapAccessDeserializer::new(a),
                )?;
                Ok(TagText(Text::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The traces of a `/api/traces` or `/api/traces/<id>` response (`{data: [trace, ...]}`).
pub fn parse_traces(body: &Value) -> Result<Vec<Trace>, TraceError> {
    use serde::Deserialize;
    let answer = RawAnswer::deserialize(body)
        .map_err(|e| TraceError(format!("the answer is not Jaeger's trace JSON: {e}")))?;
    from_raw(answer)
}

/// [`parse_traces`] straight from the response's bytes.
pub fn parse_traces_json(body: &[u8]) -> Result<Vec<Trace>, TraceError> {
    let answer: RawAnswer = serde_json::from_slice(body)
        .map_err(|e| TraceError(format!("the answer is not Jaeger's trace JSON: {e}")))?;
    from_raw(answer)
}

fn from_raw(answer: RawAnswer) -> Result<Vec<Trace>, TraceError> {
    answer
        .data
        .map(|c| c.0)
        .ok_or_else(|| TraceError("the answer has no `data` list of traces".into()))
}

fn parse_trace(t: RawTrace) -> Result<Trace, TraceError> {
    let id_text = t
        .trace_id
        .ok_or_else(|| TraceError("a trace without a traceID".into()))?;
    let id =
        parse_id(&id_text).ok_or_else(|| TraceError(format!("trace id {id_text:?} is not hex")))?;
    type Process = (String, std::sync::Arc<Vec<(String, String)>>);
    let processes: HashMap<Text, Process> = t
        .processes
        .into_iter()
        .map(|(k, p)| {
            let tags = std::sync::Arc::new(kept(p.tags, PROCESS_TAGS));
            (k, (p.service_name.into_owned(), tags))
        })
        .collect();
    let mut spans = Vec::with_capacity(t.spans.len());
    for s in t.spans {
        let Some(span_id) = parse_id(&s.span_id).and_then(|v| u64::try_from(v).ok()) else {
            return Err(TraceError(format!("span id {:?} is not hex", s.span_id)));
        };
        let parent = s
            .references
            .iter()
            .filter(|r| {
                r.trace_id
                    .as_deref()
                    .and_then(parse_id)
                    .is_none_or(|t| t == id)
            })
            .find_map(|r| r.span_id.as_deref().and_then(parse_id))
            .and_then(|v| u64::try_from(v).ok());
        let process = processes.get(&s.process_id);
        let span_tags = kept(s.tags, SPAN_TAGS);
        let status_5xx = span_tags
            .iter()
            .find(|(k, _)| k == "http.status_code")
            .and_then(|(_, v)| v.parse::<i64>().ok())
            .is_some_and(|code| code >= 500);
        let error = span_tags.iter().any(|(k, v)| k == "error" && v == "true") || status_5xx;
        spans.push(Span {
            id: span_id,
            parent,
            service: process.map(|p| p.0.clone()).unwrap_or_default(),
            operation: s.operation_name.into_owned(),
            start_us: s.start_time,
            duration_us: s.duration,
            error,
            tags: span_tags,
            process: process.map(|p| p.1.clone()).unwrap_or_default(),
        });
    }
    // Start order, parents first at equal starts: the waterfall reads top to bottom.
    spans.sort_by_key(|s| (s.start_us, s.parent.is_some()));
    Ok(Trace { id, spans })
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

/// The executor's entry span of a prediction: `predictions` (REST, every protocol) or the gRPC
/// method `/seldon.protos.Seldon/Predict`.
pub fn is_entry(operation: &str) -> bool {
    operation == "predictions" || operation == "/seldon.protos.Seldon/Predict"
}

/// A graph node as the executor calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphNode {
    pub name: String,
    /// The calls it receives, in the order the executor makes them (empty for built-in units).
    pub calls: Vec<Call>,
    /// Its container port, as the operator numbers them (None: a built-in unit).
    pub port: Option<u16>,
    pub children: Vec<GraphNode>,
}

impl GraphNode {
    /// Every node, pre-order.
    pub fn walk(&self) -> Vec<&GraphNode> {
        let mut out = vec![self];
        for ch in &self.children {
            out.extend(ch.walk());
        }
        out
    }
}

fn has_method(node: &Value, method: &str) -> bool {
    node.get("methods")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|m| m.as_str() == Some(method))
}

/// The calls the executor makes to `node` (its type and methods, defaulted as the operator
/// defaults a copy: no type, no methods and no implementation, or a prepackaged server, is a
/// MODEL).
fn calls_of(node: &Value) -> Vec<Call> {
    let implementation = c::str_at(node, &["implementation"]).unwrap_or("");
    if c::is_built_in(implementation) {
        return Vec::new();
    }
    let declared = c::str_at(node, &["type"]);
    let ty = match declared {
        _ if c::is_prepack(implementation) => "MODEL",
        None if node.get("methods").is_none() => "MODEL",
        None => "",
        Some(t) => t,
    };
    let mut out = Vec::new();
    // One input call: TransformInput when the node transforms input (even a MODEL), else
    // Predict for a MODEL.
    if ty == "TRANSFORMER" || has_method(node, "TRANSFORM_INPUT") {
        out.push(Call::TransformInput);
    } else if ty == "MODEL" {
        out.push(Call::Predict);
    }
    let has_children = node
        .get("children")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if has_children && (ty == "ROUTER" || has_method(node, "ROUTE")) {
        out.push(Call::Route);
    }
    if has_children && (ty == "COMBINER" || has_method(node, "AGGREGATE")) {
        out.push(Call::Aggregate);
    }
    if ty == "OUTPUT_TRANSFORMER" || has_method(node, "TRANSFORM_OUTPUT") {
        out.push(Call::TransformOutput);
    }
    out
}

/// The graph of predictor `p` as the executor calls it, with each node's container port as the
/// operator numbers them: from 9000 in the order containers appear in componentSpecs (every
/// container takes a number, also ones that are not graph nodes), then the prepackaged servers
/// without a container, in graph order.
pub fn graph(p: &Value) -> Option<GraphNode> {
    let mut ports: HashMap<String, u16> = HashMap::new();
    let mut next: u16 = 9000;
    let mut number = |name: &str, ports: &mut HashMap<String, u16>| {
        if !ports.contains_key(name) {
            ports.insert(name.to_string(), next);
            next = next.saturating_add(1);
        }
    };
    for cs in p
        .get("componentSpecs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for ct in cs
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = c::str_at(ct, &["name"]) {
                number(n, &mut ports);
            }
        }
    }
    for n in c::nodes(&Value::Null, p) {
        if c::str_at(n.json, &["implementation"]).is_some_and(c::is_prepack) {
            number(&n.name, &mut ports);
        }
    }
    fn build(node: &Value, ports: &HashMap<String, u16>, depth: usize) -> GraphNode {
        let name = c::str_at(node, &["name"]).unwrap_or("").to_string();
        let calls = calls_of(node);
        let children = if depth < 64 {
            node.get("children")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|ch| build(ch, ports, depth + 1))
                .collect()
        } else {
            Vec::new()
        };
        GraphNode {
            port: (!calls.is_empty())
                .then(|| ports.get(&name).copied())
                .flatten(),
            name,
            calls,
            children,
        }
    }
    p.get("graph").map(|g| build(g, &ports, 0))
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

/// The graph node a component span's `http.url` port names.
fn node_by_port<'a>(nodes: &[&'a GraphNode], span: &Span) -> Option<&'a GraphNode> {
    let url = span.tag("http.url")?;
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split('/').next()?;
    let port: u16 = authority.rsplit_once(':')?.1.parse().ok()?;
    nodes.iter().copied().find(|n| n.port == Some(port))
}

/// Ties each span of `trace` to the node of `graph` it belongs to. The executor's spans are those
/// of `executor_service` (`executor` unless `JAEGER_SERVICE_NAME` says otherwise).
///
/// An executor client span goes to the node its callee's span names by port when there is one;
/// otherwise to the first node, in the executor's order, that receives that call and has not
/// been given one yet (sibling order is then a guess: siblings are called concurrently). A
/// component span goes to the node of the client span it is a child of, else to the node its
/// port names.
pub fn attribute(trace: &Trace, graph: &GraphNode, executor_service: &str) -> Vec<Hop> {
    let nodes = graph.walk();
    let by_id = trace.index_by_id();
    let mut hops: Vec<Hop> = trace
        .spans
        .iter()
        .enumerate()
        .map(|(i, _)| Hop {
            span: i,
            role: Role::Other,
            node: None,
            guessed: false,
        })
        .collect();
    // Children of each span, to find a client span's callee.
    let mut children: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, s) in trace.spans.iter().enumerate() {
        if let Some(p) = s.parent {
            children.entry(p).or_default().push(i);
        }
    }
    // Calls already given to a node: (node index, call) -> taken.
    let mut taken: Vec<(usize, Call)> = Vec::new();
    let mut guesses: Vec<usize> = Vec::new();
    for (i, s) in trace.spans.iter().enumerate() {
        if s.service != executor_service {
            continue;
        }
        if is_entry(&s.operation) {
            hops[i].role = Role::Entry;
            hops[i].node = Some("executor".into());
            continue;
        }
        let Some(call) = Call::from_client_span(&s.operation) else {
            continue;
        };
        hops[i].role = Role::Call { call };
        let named = children
            .get(&s.id)
            .into_iter()
            .flatten()
            .filter(|&&ch| trace.spans[ch].service != executor_service)
            .find_map(|&ch| node_by_port(&nodes, &trace.spans[ch]))
            .and_then(|n| nodes.iter().position(|x| std::ptr::eq(*x, n)));
        match named {
            Some(n) => {
                taken.push((n, call));
                hops[i].node = Some(nodes[n].name.clone());
            }
            None => guesses.push(i),
        }
    }
    // Client spans no callee named: the first node in the executor's order that receives the
    // call and has not been given it yet.
    for i in guesses {
        let Role::Call { call } = hops[i].role else {
            continue;
        };
        let free = (0..nodes.len())
            .find(|&n| nodes[n].calls.contains(&call) && !taken.contains(&(n, call)));
        if let Some(n) = free {
            taken.push((n, call));
            let ambiguous = (0..nodes.len())
                .filter(|&m| nodes[m].calls.contains(&call))
                .count()
                > 1;
            hops[i].node = Some(nodes[n].name.clone());
            hops[i].guessed = ambiguous;
        }
    }
    // Component spans: their parent client span's node, else their own port.
    for (i, s) in trace.spans.iter().enumerate() {
        if s.service == executor_service {
            continue;
        }
        let via_parent = s
            .parent
            .and_then(|p| by_id.get(&p))
            .filter(|&&p| matches!(hops[p].role, Role::Call { .. }))
            .map(|&p| (hops[p].node.clone(), hops[p].guessed));
        let from_call = via_parent.is_some();
        let (node, guessed) = match via_parent {
            Some((Some(n), guessed)) => (Some(n), guessed),
            _ => (node_by_port(&nodes, s).map(|n| n.name.clone()), false),
        };
        if node.is_some() || from_call {
            hops[i].role = Role::Component;
        }
        hops[i].node = node;
        hops[i].guessed = guessed;
    }
    hops
}

/// The trace context `verify` sends with its one request, marked sampled so that no sampler can
/// drop it: both clients take a remote parent's decision as final (TRACES.md). The ids come from
/// the caller (random there, fixed in tests); zero ids are not valid and are replaced by 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: u128,
    pub span_id: u64,
}

impl TraceContext {
    pub fn new(trace_id: u128, span_id: u64) -> TraceContext {
        TraceContext {
            trace_id: trace_id.max(1),
            span_id: span_id.max(1),
        }
    }

    /// The headers to send: Jaeger's `uber-trace-id` (`trace:span:parent:flags`, flags 1 =
    /// sampled), or, for an executor that propagates B3 (`JAEGER_TRACE_PROPAGATION_TYPE=b3`),
    /// `x-b3-traceid`, `x-b3-spanid` and `x-b3-sampled: 1`, the only B3 headers it reads.
    pub fn headers(&self, b3: bool) -> Vec<(&'static str, String)> {
        if b3 {
            vec![
                ("x-b3-traceid", format!("{:032x}", self.trace_id)),
                ("x-b3-spanid", format!("{:016x}", self.span_id)),
                ("x-b3-sampled", "1".into()),
            ]
        } else {
            vec![(
                "uber-trace-id",
                format!("{:032x}:{:016x}:0:1", self.trace_id, self.span_id),
            )]
        }
    }
}

/// The smallest valid prediction request for a predictor under `protocol` whose graph's root
/// node is `root`: the path on the executor (port 8000) and the JSON body.
pub fn default_request(protocol: &str, root: &str) -> (String, Value) {
    let row = serde_json::json!([1.0, 2.0, 5.0]);
    match protocol.to_ascii_lowercase().as_str() {
        "tensorflow" => (
            format!("/v1/models/{root}:predict"),
            serde_json::json!({"instances": [row]}),
        ),
        "v2" | "kfserving" => (
            format!("/v2/models/{root}/infer"),
            serde_json::json!({"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP32", "data": row}]}),
        ),
        _ => (
            "/api/v1.0/predictions".into(),
            serde_json::json!({"data": {"ndarray": [row]}}),
        ),
    }
}

/// Nearest-rank percentile `p` (0 < p <= 100) of `sorted` (ascending); 0 for none.
pub fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Latency of one hop (a node's operation in one service) over many traces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HopStats {
    /// The graph node, `executor` for the entry span, `?` when it cannot be told.
    pub node: String,
    pub service: String,
    pub operation: String,
    pub count: usize,
    pub p50_us: i64,
    pub p95_us: i64,
    pub p99_us: i64,
    pub max_us: i64,
    pub errors: usize,
}

/// Per hop (node, service, operation) over `traces`: count, percentiles, max and errors, in the
/// order hops first appear (the entry first, then the graph's order of calls).
pub fn hop_stats(traces: &[Trace], graph: &GraphNode, executor_service: &str) -> Vec<HopStats> {
    type Key = (String, String, String);
    let mut order: Vec<Key> = Vec::new();
    let mut seen: HashMap<Key, (Vec<i64>, usize)> = HashMap::new();
    for t in traces {
        for hop in attribute(t, graph, executor_service) {
            if hop.role == Role::Other {
                continue;
            }
            let s = &t.spans[hop.span];
            let key = (
                hop.node.clone().unwrap_or_else(|| "?".into()),
                s.service.clone(),
                s.operation.clone(),
            );
            let entry = seen.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                (Vec::new(), 0)
            });
            entry.0.push(s.duration_us);
            entry.1 += usize::from(s.error);
        }
    }
    order
        .into_iter()
        .map(|key| {
            let (mut durations, errors) = seen.remove(&key).unwrap_or_default();
            durations.sort_unstable();
            HopStats {
                count: durations.len(),
                p50_us: percentile(&durations, 50.0),
                p95_us: percentile(&durations, 95.0),
                p99_us: percentile(&durations, 99.0),
                max_us: durations.last().copied().unwrap_or(0),
                errors,
                node: key.0,
                service: key.1,
                operation: key.2,
            }
        })
        .collect()
}

/// The trace's own length: from its first span's start to the last span's end (µs).
pub fn trace_duration(t: &Trace) -> i64 {
    let start = t.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
    let end = t
        .spans
        .iter()
        .map(|s| s.start_us + s.duration_us)
        .max()
        .unwrap_or(0);
    end - start
}

/// How `traces` finds a deployment's traces in Jaeger: by the tags the plugin stamps into the
/// executor's `JAEGER_TAGS` (`seldon.deployment`, `seldon.predictor`), which outlive pods; else
/// by the process tag `hostname` (the pod name) of each executor pod running now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Stamp {
        deployment: String,
        predictor: String,
    },
    Pods(Vec<String>),
}

/// The stamp in a `JAEGER_TAGS` value (`k=v,k=v`; the Go client trims each key and value).
pub fn stamp_in(tags: &str) -> Option<(String, String)> {
    let item = |key: &str| {
        tags.split(',').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    Some((item("seldon.deployment")?, item("seldon.predictor")?))
}

/// `JAEGER_TAGS` carrying the stamp: every item of `current` kept as written and in order
/// (empty ones, which the Go client cannot parse, dropped), the stamp's two items replaced or
/// appended.
pub fn stamped(current: Option<&str>, deployment: &str, predictor: &str) -> String {
    let ours = |item: &str| {
        item.split_once('=')
            .is_some_and(|(k, _)| matches!(k.trim(), "seldon.deployment" | "seldon.predictor"))
    };
    let mut items: Vec<String> = current
        .into_iter()
        .flat_map(|c| c.split(','))
        .filter(|i| !i.trim().is_empty() && !ours(i))
        .map(str::to_string)
        .collect();
    items.push(format!("seldon.deployment={deployment}"));
    items.push(format!("seldon.predictor={predictor}"));
    items.join(",")
}

/// `traces` for one predictor: how many, per hop, and the slowest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub namespace: String,
    pub name: String,
    pub predictor: String,
    pub jaeger: String,
    pub window: Window,
    /// `tag seldon.deployment=...`, or `hostname of pods a, b`.
    pub found_by: String,
    pub traces: usize,
    pub hops: Vec<HopStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slowest: Option<Slowest>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// As asked: `1h`.
    pub since: String,
    /// µs since the epoch.
    pub start_us: i64,
    pub end_us: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Slowest {
    #[serde(rename = "traceID")]
    pub trace_id: String,
    pub duration_us: i64,
    pub spans: Vec<super::verify::SpanRow>,
}

/// Traces of several searches as one list: each trace once (the one with more spans when two
/// answers differ), newest first, at most `limit`.
pub fn merge(mut traces: Vec<Trace>, limit: usize) -> Vec<Trace> {
    let start = |t: &Trace| t.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
    traces.sort_by(|a, b| a.id.cmp(&b.id).then(b.spans.len().cmp(&a.spans.len())));
    traces.dedup_by(|later, first| later.id == first.id);
    traces.sort_by_key(|t| std::cmp::Reverse(start(t)));
    traces.truncate(limit);
    traces
}

/// The longest trace.
pub fn slowest(traces: &[Trace]) -> Option<&Trace> {
    traces
        .iter()
        .max_by_key(|t| (trace_duration(t), std::cmp::Reverse(t.id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A trace as Jaeger 1.62 answered for the request TRACES.md describes: the executor's entry
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
            let call = |c: Call,
                        spans: &mut Vec<Span>,
                        truth: &mut HashMap<u64, String>,
                        clock: &mut i64| {
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
}
