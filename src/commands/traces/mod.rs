//! Traces: `verify` (one traced request, judged per component) and `traces` (a predictor's recent
//! traces as per-hop latency); `verify --core v2` for a Seldon Core 2 Model in [`core2`].

pub mod core2;
pub mod recent;
pub mod verify;
