//! The request `verify` sends: a trace context the plugin makes and marks sampled, in the
//! headers the executor reads, and the smallest body each protocol accepts.

use serde_json::Value;

/// The trace context `verify` sends with its one request, marked sampled so that no sampler can
/// drop it: both clients take a remote parent's decision as final (docs/facts/traces.md, "Forcing one trace"). The ids come from
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

impl TraceContext {
    /// W3C's `traceparent` with the sampled flag (`00-<trace>-<span>-01`), as Seldon Core 2's
    /// components read it.
    pub fn traceparent(&self) -> String {
        format!("00-{:032x}-{:016x}-01", self.trace_id, self.span_id)
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
