//! kubectl-seldon-tracing: see and change Jaeger tracing on Seldon Core v1 SeldonDeployments.
//!
//! Layers, data flowing one way: `cli` (clap) -> `invocation` (the pure resolver: usage judged
//! before any I/O) -> `commands` -> `cluster` (all I/O) with `domain` (pure planning and status
//! on raw JSON) and `render` (pure output); `jaeger` is the query API of Jaeger, I/O beside
//! `cluster`.

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
