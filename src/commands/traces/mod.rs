//! Traces: `verify` (one traced request, judged per component) and `traces` (a predictor's recent
//! traces as per-hop latency).

pub mod recent;
pub mod verify;
