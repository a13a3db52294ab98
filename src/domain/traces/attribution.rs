//! Each span tied to the graph node it belongs to.
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

use serde_json::Value;

use crate::domain::json::str_at;
use crate::domain::traces::model::Call;
use crate::domain::traces::model::Hop;
use crate::domain::traces::model::Role;
use crate::domain::traces::model::Span;
use crate::domain::traces::model::Trace;
use crate::domain::v1::components as c;

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
    let implementation = str_at(node, &["implementation"]).unwrap_or("");
    if c::is_built_in(implementation) {
        return Vec::new();
    }
    let declared = str_at(node, &["type"]);
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
            if let Some(n) = str_at(ct, &["name"]) {
                number(n, &mut ports);
            }
        }
    }
    for n in c::nodes(&Value::Null, p) {
        if str_at(n.json, &["implementation"]).is_some_and(c::is_prepack) {
            number(&n.name, &mut ports);
        }
    }
    fn build(node: &Value, ports: &HashMap<String, u16>, depth: usize) -> GraphNode {
        let name = str_at(node, &["name"]).unwrap_or("").to_string();
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
