//! Traces: what `verify` and `traces` read from Jaeger, tied to the Seldon graph it went through.
//!
//! - [`model`]: spans and traces, and a span tied to a graph node;
//! - [`jaeger_json`]: Jaeger's old JSON API into the model;
//! - [`otlp_json`]: Jaeger's `/api/v3` (OTLP JSON) into the model;
//! - [`attribution`]: which span belongs to which graph node;
//! - [`request`]: the traced request `verify` sends;
//! - [`seldon_message`]: the Seldon protocol's gRPC messages, from the JSON a request is written in;
//! - [`oip`]: the Open Inference Protocol's gRPC messages (Seldon Core 2), the same way;
//! - [`verdict`]: which components should join that request's trace, and which did;
//! - [`core2`]: the same for a Seldon Core 2 Model or Pipeline (gateways, agent, MLServer);
//! - [`stats`]: per-hop counts and percentiles over many traces;
//! - [`endpoints`]: which pod to send to, which Service port is Jaeger's.
//!
//! This wing reads v1 (and, later, v2) types; they never read it.

pub mod attribution;
pub mod core2;
pub mod endpoints;
pub mod jaeger_json;
pub mod model;
pub mod oip;
pub mod otlp_json;
pub mod request;
pub mod seldon_message;
pub mod stats;
pub mod verdict;

#[cfg(test)]
mod tests;
