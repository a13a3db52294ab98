//! Seldon Core v1: tracing set per component of a SeldonDeployment through env variables (and,
//! for Python components, a config file), judged the way the real clients read it.

/// The executor's container in a predictor's pod (the service orchestrator).
pub const EXECUTOR_CONTAINER: &str = "seldon-container-engine";

/// The executor's REST port.
pub const EXECUTOR_PORT: u16 = 8000;

/// The executor's gRPC port as the operator sets it by default (`--grpc_port`, the container
/// port named `grpc`; docs/facts/traces.md).
pub const EXECUTOR_GRPC_PORT: u16 = 5001;

pub mod clients;
pub mod components;
pub mod config_file;
pub mod env;
pub mod plan;
pub mod rollout;
pub mod sampler;
pub mod stamp;
pub mod status;
pub mod warning;
