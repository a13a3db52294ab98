//! Seldon Core v1: tracing set per component of a SeldonDeployment through env variables (and,
//! for Python components, a config file), judged the way the real clients read it.

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
