//! Pure tracing logic: no I/O, only `serde_json::Value` in and out.

pub mod clock;
pub mod components;
pub mod core2;
pub mod env;
pub mod goparse;
pub mod loaded;
pub mod ownfile;
pub mod plan;
pub mod pyconfig;
pub mod reach;
pub mod rollout;
pub mod runtime;
pub mod sampler;
pub mod status;
pub mod trace;
pub mod verify;
pub mod warning;
