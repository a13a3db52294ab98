//! Pure tracing logic: no I/O, only `serde_json::Value` in and out.
//!
//! Three wings and what they share (docs/development.md, "Architecture"):
//! - [`v1`]: Seldon Core v1 SeldonDeployments (env, samplers, Python config files, status, plan,
//!   rollout);
//! - [`v2`]: Seldon Core 2 SeldonRuntimes (the operator's merge, the verdict, which pods run it,
//!   the plan);
//! - [`traces`]: traces as Jaeger returns them, tied to graph nodes, judged and summarised; it
//!   may read `v1` and `v2`, which never read it nor each other;
//! - shared by all three: [`json`] getters, [`clock`], [`text`] (first lines of what others
//!   said), and [`goparse`] (Go's and Python's value parsers as the clients use them).

pub mod clock;
pub mod goparse;
pub mod json;
pub mod text;
pub mod traces;
pub mod v1;
pub mod v2;
