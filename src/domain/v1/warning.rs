//! Warnings as typed values: what was found and the data a reader needs (predictor, component,
//! variable, value, the command that fixes it). The words live in `render::words`, which also
//! writes them into json/yaml beside a stable `code` that scripts match on.

use crate::domain::v1::clients::Refusal;

#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// The executor or a Python component exits at start because of `refusal`.
    InvalidValue {
        predictor: String,
        component: Component,
        refusal: Refusal,
        /// A command that repairs it (executor only: Python components need `TRACING` 1 or 0).
        fix: Option<String>,
    },
    /// The executor's tracer runs but records nothing.
    SamplesNothing {
        predictor: String,
        why: String,
        fix: String,
    },
    /// The verdict depends on a `valueFrom` resolved only at run time.
    UnknownValue {
        predictor: String,
        component: Component,
        why: String,
    },
    /// `TRACING` on the executor, which never reads it.
    TracingIgnored { predictor: String },
    /// `JAEGER_SAMPLER_*` on a Python component, which reads a sampler only from its file.
    SamplerIgnored {
        predictor: String,
        component: String,
    },
    /// `enabled: false` in a Python component's config file, which the client never reads.
    EnabledIgnored {
        predictor: String,
        component: String,
    },
    /// Spans go to 5775, the zipkin-compact port Jaeger v2 and OTel collectors do not open.
    Port5775 {
        predictor: String,
        component: Component,
    },
    /// An unparsable `JAEGER_AGENT_PORT` that the Python client replaces by 6831.
    PythonPortFallback {
        predictor: String,
        component: String,
        value: String,
    },
    /// A `JAEGER_TRACE_PROPAGATION_TYPE` that looks like b3 but is not exactly `b3`.
    PropagationNotB3 { predictor: String, value: String },
    /// b3 on the executor: its root span shows as its own child (Seldon Core issue #3889).
    B3SelfParent { predictor: String },
    /// A remote sampler that records nothing until its first poll of `url` succeeds.
    RemoteSampling { predictor: String, url: String },
    /// The executor writes b3 headers; these components read only Jaeger headers.
    PropagationMismatch {
        predictor: String,
        components: Vec<String>,
        fix: String,
    },
    /// Components whose config file says `propagation: b3` behind an executor that sends Jaeger
    /// headers: their spans start traces of their own.
    B3Components {
        predictor: String,
        components: Vec<String>,
        fix: String,
    },
    /// A component traces while the executor is disabled: every request is a new root there.
    ExecutorDisabled {
        predictor: String,
        component: String,
    },
    /// The executor traces but this component does not.
    ComponentNotTraced {
        predictor: String,
        component: String,
    },
    /// `enable --propagation b3`: these components will not read b3 headers without a file.
    /// A component reads a config file of the user's, which the plugin never rewrites, while
    /// the change asks for something only a file gives a Python component.
    UserConfigFile {
        predictor: String,
        component: String,
        path: String,
        want: String,
    },
    /// A predictor without executor; `sampler` has nothing to change there.
    NoEngine { predictor: String, sampler: bool },
    /// A predictor without graph; `planned` when a write planned only its executor.
    NoGraph { predictor: String, planned: bool },
    /// `spec.predictors` is empty (`false`) or missing / not a list (`true`).
    NoPredictors { missing: bool },
    /// A graph node neither built in, prepackaged nor backed by a container.
    UnknownNode { predictor: String, node: String },
    /// An env that is not a list, at `place` (`svcOrchSpec`, `container NAME`).
    EnvNotList { predictor: String, place: String },
    /// Env entry number `index` (from 1) at `place` has no name.
    UnnamedEnv {
        predictor: String,
        place: String,
        index: usize,
    },
    /// Another server-side-apply manager owns `spec.predictors`.
    ManagedBy { manager: String },
    /// Argo CD's tracking annotation is on the object.
    ArgoCdTracked,
}

/// Which component a warning is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Component {
    Executor,
    Python(String),
}

impl Warning {
    /// The stable code json/yaml carry; several variants may share one.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::InvalidValue { .. } => "invalid-value",
            Warning::SamplesNothing { .. } => "samples-nothing",
            Warning::UnknownValue { .. } => "unknown-value",
            Warning::TracingIgnored { .. } => "tracing-ignored",
            Warning::SamplerIgnored { .. } => "sampler-ignored",
            Warning::EnabledIgnored { .. } => "enabled-ignored",
            Warning::Port5775 { .. } => "port-5775",
            Warning::PythonPortFallback { .. } => "python-port-fallback",
            Warning::PropagationNotB3 { .. } => "propagation-not-b3",
            Warning::B3SelfParent { .. } => "b3-self-parent",
            Warning::RemoteSampling { .. } => "remote-sampling",
            Warning::PropagationMismatch { .. } | Warning::B3Components { .. } => {
                "propagation-mismatch"
            }
            Warning::ExecutorDisabled { .. } => "executor-disabled",
            Warning::ComponentNotTraced { .. } => "component-not-traced",
            Warning::UserConfigFile { .. } => "user-config-file",
            Warning::NoEngine { .. } => "no-engine",
            Warning::NoGraph { .. } | Warning::NoPredictors { .. } => "malformed",
            Warning::UnknownNode { .. } => "unknown-node",
            Warning::EnvNotList { .. } => "env-not-list",
            Warning::UnnamedEnv { .. } => "unnamed-env",
            Warning::ManagedBy { .. } => "managed-by",
            Warning::ArgoCdTracked => "argocd-tracked",
        }
    }

    /// The predictor it is about, if one.
    pub fn predictor(&self) -> Option<&str> {
        match self {
            Warning::InvalidValue { predictor, .. }
            | Warning::SamplesNothing { predictor, .. }
            | Warning::UnknownValue { predictor, .. }
            | Warning::TracingIgnored { predictor }
            | Warning::SamplerIgnored { predictor, .. }
            | Warning::EnabledIgnored { predictor, .. }
            | Warning::Port5775 { predictor, .. }
            | Warning::PythonPortFallback { predictor, .. }
            | Warning::PropagationNotB3 { predictor, .. }
            | Warning::B3SelfParent { predictor }
            | Warning::RemoteSampling { predictor, .. }
            | Warning::PropagationMismatch { predictor, .. }
            | Warning::B3Components { predictor, .. }
            | Warning::ExecutorDisabled { predictor, .. }
            | Warning::ComponentNotTraced { predictor, .. }
            | Warning::UserConfigFile { predictor, .. }
            | Warning::NoEngine { predictor, .. }
            | Warning::NoGraph { predictor, .. }
            | Warning::UnknownNode { predictor, .. }
            | Warning::EnvNotList { predictor, .. }
            | Warning::UnnamedEnv { predictor, .. } => Some(predictor),
            Warning::NoPredictors { .. } | Warning::ManagedBy { .. } | Warning::ArgoCdTracked => {
                None
            }
        }
    }
}

/// Every code, with what it means, for docs/output.md and the tests that keep them in step.
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
        "python-port-fallback",
        "an unparsable port makes the Python client use 6831",
    ),
    (
        "propagation-not-b3",
        "a propagation value that is not exactly b3",
    ),
    (
        "b3-self-parent",
        "b3 on the executor: Seldon Core issue #3889",
    ),
    (
        "remote-sampling",
        "a remote sampler depends on a Jaeger v1 strategy endpoint",
    ),
    (
        "propagation-mismatch",
        "executor and component use different trace headers",
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
        "enabled-ignored",
        "a config file says enabled: false, which the Python client never reads",
    ),
    (
        "user-config-file",
        "a change a Python component can only get from its config file, which is the user's",
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
