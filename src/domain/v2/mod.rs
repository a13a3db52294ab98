//! Seldon Core 2: tracing is set once per namespace on a SeldonRuntime (`spec.config.
//! tracingConfig`), with defaults from the SeldonConfig it names. Pure reads of raw JSON, following
//! v2.10.2 (docs/facts/seldon-core-2.md):
//! - the operator fills the runtime's empty `ratio`, `otelExporterEndpoint` and
//!   `otelExporterProtocol` from the SeldonConfig (`TracingConfig.addDefaults`) and never copies
//!   `disable`: only the runtime switches tracing off;
//! - it writes the merged setting to ConfigMap `seldon-tracing` (`tracing.json`), which the
//!   scheduler, the gateways and every Server's agent read once, at start
//!   (`scheduler/pkg/tracing/provider.go`): strict JSON, and with tracing on an empty or
//!   unparsable `ratio` or an empty endpoint is fatal; the sampler is
//!   `ParentBased(TraceIDRatioBased(ratio))`, so ratio ≤ 0 samples only what a caller sampled.

/// The fields of `tracingConfig`, as named in the CRDs and in `tracing.json`.
pub const RATIO: &str = "ratio";

pub const ENDPOINT: &str = "otelExporterEndpoint";

pub const PROTOCOL: &str = "otelExporterProtocol";

pub const DISABLE: &str = "disable";

/// The operator's ConfigMap in the runtime's namespace.
pub const CONFIG_MAP: &str = "seldon-tracing";

/// The json/yaml kind of a listing of SeldonRuntimes alone.
pub const RUNTIME_LIST_KIND: &str = "RuntimeTracingList";

/// The annotation `--restart` sets on a SeldonRuntime (and on Servers): the operator copies a
/// runtime's annotations into its core components' pod templates, and a Server's into its pods',
/// so a new value rolls them.
pub const RESTART_ANNOTATION: &str = "seldon-tracing.kubectl.io/restartedAt";

pub mod plan;
pub mod setting;
pub mod status;
pub mod workloads;

#[cfg(test)]
mod tests;
