//! kubectl-seldon-tracing: see and change Jaeger tracing on Seldon Core v1 SeldonDeployments.
//!
//! Layers, data flowing one way: `cli` (clap) -> `commands` -> `cluster` (all I/O) with
//! `domain` (pure planning and status on raw JSON) and `render` (pure output).

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod complete;
pub mod domain;
pub mod error;
pub mod prompt;
pub mod render;
