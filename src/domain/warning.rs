//! A warning is a stable code plus the sentence a user reads; json/yaml carry both, so scripts
//! match the code and people read the text.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

impl Warning {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Warning {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Every code `status` and the writers use, for the docs and for tests that match on them.
pub const CODES: &[(&str, &str)] = &[
    ("invalid-value", "a value makes the component exit at start"),
    ("samples-nothing", "a tracer runs but no span leaves it"),
    (
        "unknown-value",
        "the verdict depends on a valueFrom known only at run time",
    ),
    (
        "tracing-ignored",
        "TRACING on the executor, which ignores it",
    ),
    (
        "sampler-ignored",
        "JAEGER_SAMPLER_* on a Python component, which ignores them",
    ),
    (
        "port-5775",
        "spans go to Jaeger's deprecated zipkin-compact port",
    ),
    (
        "propagation-mismatch",
        "executor and component use different trace headers",
    ),
    (
        "b3-self-parent",
        "b3 on the executor: Seldon Core issue #3889",
    ),
    (
        "propagation-not-b3",
        "a propagation value that is not exactly b3",
    ),
    (
        "remote-sampling",
        "a remote sampler depends on a Jaeger v1 strategy endpoint",
    ),
    (
        "executor-disabled",
        "components trace while the executor is disabled",
    ),
    (
        "component-not-traced",
        "the executor traces but a component does not",
    ),
    (
        "python-port-fallback",
        "an unparsable port makes the Python client use 6831",
    ),
    (
        "config-file",
        "a Python component reads its tracing from JAEGER_CONFIG_PATH",
    ),
    ("no-engine", "a predictor without executor"),
    ("malformed", "the object is missing a part Seldon needs"),
    ("unknown-node", "a graph node the plugin cannot classify"),
    ("env-not-list", "an env that is not a list"),
    ("unnamed-env", "an env entry without a name"),
    (
        "managed-by",
        "another server-side-apply manager owns spec.predictors",
    ),
    ("argocd-tracked", "Argo CD tracks the object"),
];
