//! kubectl-seldon-tracing: see and change tracing on Seldon Core v1 SeldonDeployments (Jaeger
//! clients, set per component) and Seldon Core 2 SeldonRuntimes (OpenTelemetry, set per
//! namespace), and prove with one traced request that spans reach Jaeger.
//!
//! Layers, imports running down only (docs/development.md, "Architecture"; tests/architecture.rs
//! keeps it so): `main` -> `commands` (one function per verb) -> `invocation` (the pure resolver:
//! usage judged before any I/O) -> `cli` (clap) -> the services: `cluster` (Kubernetes I/O),
//! `jaeger` (Jaeger's query API), `grpc` (one gRPC call), `render` (pure output), `prompt`, `manifests` -> the base:
//! `options`, `web`, `error`, `exit` -> `domain` (pure tracing logic on raw JSON). `domain`,
//! `commands`, `render` and `cluster` each have wings `v1`, `v2`, `traces`.

/// `eprintln!` that never panics: stderr may be a closed pipe (`2>&1 | head`), and a message
/// that cannot be shown is no reason to abort a half-done bulk change.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` that never panics (see [`say!`]).
#[macro_export]
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod complete;
pub mod domain;
pub mod error;
pub mod exit;
pub mod grpc;
#[cfg(any(test, feature = "invariants"))]
#[doc(hidden)]
pub mod invariants;
pub mod invocation;
pub mod jaeger;
pub mod manifests;
#[cfg(test)]
mod mock_tests;
pub mod options;
pub mod prompt;
pub mod render;
pub mod web;
