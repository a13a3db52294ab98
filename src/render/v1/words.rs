//! The words of every warning. The domain finds a `Warning` with its data; this module says it
//! in one sentence, and writes it into json/yaml as `{code, message}` so scripts match the code.

use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::domain::v1::rollout::{GenerationAhead, Holdup};
use crate::domain::v1::warning::{Component, Warning};

const PORT_5775: &str = "sends spans to port 5775, Jaeger's deprecated zipkin-compact port: Jaeger v1 agents still take it, Jaeger v2 and OpenTelemetry collectors do not; use --agent-port 6831, which both Jaeger lines take";

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Component::Executor => f.write_str("the executor"),
            Component::Python(name) => f.write_str(name),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.predictor() {
            write!(f, "predictor {p}: ")?;
        }
        match self {
            Warning::InvalidValue {
                component,
                refusal: r,
                fix,
                ..
            } => {
                write!(
                    f,
                    "{component} exits at start: {}={:?} is refused ({}); ",
                    r.var, r.value, r.why
                )?;
                match fix {
                    Some(cmd) => write!(f, "fix it with `{cmd}`"),
                    None => f.write_str("use 1 or 0"),
                }
            }
            Warning::SamplesNothing { why, fix, .. } => {
                write!(f, "the executor records no spans: {why}; run `{fix}`")
            }
            Warning::UnknownValue { component, why, .. } => match component {
                Component::Executor => {
                    write!(f, "the executor's tracing is known only at run time: {why}")
                }
                Component::Python(name) => {
                    write!(f, "the tracing of {name} is known only at run time: {why}")
                }
            },
            Warning::TracingIgnored { .. } => f.write_str(
                "TRACING on the executor is ignored; it is switched off only by JAEGER_DISABLED=true",
            ),
            Warning::SamplerIgnored { component, .. } => write!(
                f,
                "JAEGER_SAMPLER_* on {component} is ignored (Python components read a sampler only from the file named by JAEGER_CONFIG_PATH)"
            ),
            Warning::EnabledIgnored { component, .. } => write!(
                f,
                "{component}: `enabled: false` in its JAEGER_CONFIG_PATH file is ignored (the Python client never reads it); switch it off with TRACING=0 (`kubectl seldon-tracing disable`)"
            ),
            Warning::Port5775 { component, .. } => match component {
                Component::Executor => write!(f, "executor {PORT_5775}"),
                Component::Python(name) => write!(f, "{name} {PORT_5775}"),
            },
            Warning::PythonPortFallback {
                component, value, ..
            } => write!(
                f,
                "{component}: JAEGER_AGENT_PORT {value:?} is not a number, so the Python client sends to its default port 6831"
            ),
            Warning::PropagationNotB3 { value, .. } => write!(
                f,
                "JAEGER_TRACE_PROPAGATION_TYPE={value:?} is not exactly \"b3\", so the executor uses Jaeger headers"
            ),
            Warning::B3SelfParent { .. } => f.write_str(
                "with b3 propagation the executor's root span shows as a child of itself in Jaeger (Seldon Core issue #3889)",
            ),
            Warning::RemoteSampling { url, .. } => write!(
                f,
                "the executor samples nothing until its first poll of {url} (every JAEGER_SAMPLER_REFRESH_INTERVAL, default 1m) returns a rate; only a Jaeger v1 agent or collector answers in a form it reads (Jaeger v2 does not)"
            ),
            Warning::PropagationMismatch {
                components, fix, ..
            } => write!(
                f,
                "the executor sends b3 headers but {} read(s) only Jaeger headers, so each request makes separate traces; give the component a JAEGER_CONFIG_PATH file with propagation: b3, or run `{fix}`",
                components.join(", ")
            ),
            Warning::B3Components {
                components, fix, ..
            } => write!(
                f,
                "{} read(s) B3 headers (`propagation: b3` in the JAEGER_CONFIG_PATH file) but the executor sends Jaeger headers, so each request makes separate traces; run `{fix}`",
                components.join(", ")
            ),
            Warning::ExecutorDisabled { component, .. } => write!(
                f,
                "{component} is traced while the executor is disabled; every request starts a new trace at {component} without the executor's span"
            ),
            Warning::ComponentNotTraced { component, .. } => write!(
                f,
                "the executor traces but {component} does not; its spans will be missing from each trace"
            ),
            Warning::UserConfigFile {
                component,
                path,
                want,
                ..
            } => write!(
                f,
                "{component} reads its own config file {path}, which the plugin does not rewrite: set {want} in it"
            ),
            Warning::NoEngine { sampler: false, .. } => f.write_str(
                "no executor (seldon.io/no-engine): each component's own sampler decides",
            ),
            Warning::NoEngine { sampler: true, .. } => f.write_str(
                "no executor (seldon.io/no-engine): the sampler applies only to the executor, so nothing changes there",
            ),
            Warning::NoGraph { planned: false, .. } => f.write_str(
                "has no graph; the object is malformed and only its executor is shown",
            ),
            Warning::NoGraph { planned: true, .. } => {
                f.write_str("has no graph: only its executor was planned")
            }
            Warning::NoPredictors { missing: false } => {
                f.write_str("spec.predictors is empty; there is nothing to trace")
            }
            Warning::NoPredictors { missing: true } => {
                f.write_str("spec.predictors is missing or not a list; the object is malformed")
            }
            Warning::UnknownNode { node, .. } => write!(
                f,
                "graph node {node} has no implementation and no container named {node} in componentSpecs; the plugin cannot tell what runs it and leaves it alone"
            ),
            Warning::EnvNotList { place, .. } => {
                write!(f, "env of {place} is not a list; fix it with kubectl edit")
            }
            Warning::UnnamedEnv { place, index, .. } => {
                write!(f, "env entry #{index} of {place} has no name (kept as it is)")
            }
            Warning::ManagedBy { manager } => write!(
                f,
                "spec.predictors is also managed by '{manager}'; its next sync or apply will revert tracing changes made with this plugin"
            ),
            Warning::ArgoCdTracked => f.write_str(
                "tracked by Argo CD (annotation argocd.argoproj.io/tracking-id): it shows tracing changes as drift from Git, and a sync can put Git's version back; make the change in Git too",
            ),
        }
    }
}

/// `{code, message}`: the code for scripts, the sentence for people.
impl Serialize for Warning {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Warning", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

/// Why a predictor is not current, in one clause (after `stale: ` and the like).
impl fmt::Display for Holdup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holdup::OperatorFailed { description } if description.is_empty() => {
                f.write_str("the operator reports the SeldonDeployment Failed")
            }
            Holdup::OperatorFailed { description } => write!(
                f,
                "the operator reports the SeldonDeployment Failed: {description}"
            ),
            Holdup::NotMade { deployment } => write!(
                f,
                "the operator has not made Deployment {deployment} yet"
            ),
            Holdup::OldTemplate { deployment } => write!(
                f,
                "Deployment {deployment} still runs the old tracing env: the operator has not applied the change"
            ),
            Holdup::NotObserved { deployment } => write!(
                f,
                "the Deployment controller has not picked up the new template of {deployment} yet"
            ),
            Holdup::Rolling {
                deployment,
                updated,
                ready,
                replicas,
                old,
            } => {
                write!(
                    f,
                    "Deployment {deployment}: {updated} of {replicas} pods updated, {ready} ready"
                )?;
                match old {
                    0 => Ok(()),
                    1 => f.write_str(", 1 old pod still running"),
                    n => write!(f, ", {n} old pods still running"),
                }
            }
            Holdup::NothingToRun => f.write_str(
                "no graph node runs in a container and none is a prepackaged server: the operator makes no Deployment for this predictor (give a node a container in componentSpecs)",
            ),
            Holdup::NoneFound => f.write_str(
                "no Deployment of this predictor found: the operator has not made them (is it running?)",
            ),
            Holdup::NotPermitted => {
                f.write_str("you may not list Deployments in this namespace")
            }
        }
    }
}

/// The note on a Deployment whose generation runs ahead while its pods already run what is
/// asked: nothing to wait for, and where the loop comes from.
pub fn generation_ahead_note(deployment: &str, g: GenerationAhead) -> String {
    format!(
        "Deployment {deployment} is at generation {} but its controller observed {}, while its pods already run the asked-for template: the Seldon operator keeps rewriting it (a loop seen with v1.18.2; no pod restarts), so what runs was judged from its ReplicaSets",
        g.generation, g.observed_generation
    )
}

/// The sentence, as `rollout.reason` in json/yaml.
impl Serialize for Holdup {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::v1::clients::Refusal;
    use crate::domain::v1::warning::CODES;

    /// One of every variant (the match below fails to compile when a variant is added).
    fn every_variant() -> Vec<Warning> {
        let p = || "default".to_string();
        let all = vec![
            Warning::InvalidValue {
                predictor: p(),
                component: Component::Executor,
                refusal: Refusal {
                    var: "JAEGER_AGENT_PORT".into(),
                    value: "jaeger".into(),
                    why: "not a number".into(),
                },
                fix: Some("kubectl seldon-tracing enable iris -n models".into()),
            },
            Warning::SamplesNothing {
                predictor: p(),
                why: "const without a param".into(),
                fix: "kubectl seldon-tracing enable iris".into(),
            },
            Warning::UnknownValue {
                predictor: p(),
                component: Component::Python("m".into()),
                why: "TRACING comes from ConfigMap c".into(),
            },
            Warning::TracingIgnored { predictor: p() },
            Warning::SamplerIgnored {
                predictor: p(),
                component: "m".into(),
            },
            Warning::Port5775 {
                predictor: p(),
                component: Component::Executor,
            },
            Warning::PythonPortFallback {
                predictor: p(),
                component: "m".into(),
                value: "jaeger".into(),
            },
            Warning::PropagationNotB3 {
                predictor: p(),
                value: "B3".into(),
            },
            Warning::B3SelfParent { predictor: p() },
            Warning::RemoteSampling {
                predictor: p(),
                url: "http://localhost:5778/sampling".into(),
            },
            Warning::PropagationMismatch {
                predictor: p(),
                components: vec!["m".into()],
                fix: "kubectl seldon-tracing enable iris --propagation jaeger".into(),
            },
            Warning::ExecutorDisabled {
                predictor: p(),
                component: "m".into(),
            },
            Warning::ComponentNotTraced {
                predictor: p(),
                component: "m".into(),
            },
            Warning::UserConfigFile {
                predictor: p(),
                component: "m".into(),
                path: "/etc/jaeger/config.yaml".into(),
                want: "`propagation: b3`".into(),
            },
            Warning::NoEngine {
                predictor: p(),
                sampler: true,
            },
            Warning::NoGraph {
                predictor: p(),
                planned: false,
            },
            Warning::NoPredictors { missing: true },
            Warning::UnknownNode {
                predictor: p(),
                node: "m".into(),
            },
            Warning::EnvNotList {
                predictor: p(),
                place: "svcOrchSpec".into(),
            },
            Warning::UnnamedEnv {
                predictor: p(),
                place: "container m".into(),
                index: 2,
            },
            Warning::ManagedBy {
                manager: "flux".into(),
            },
            Warning::ArgoCdTracked,
            Warning::EnabledIgnored {
                predictor: p(),
                component: "m".into(),
            },
            Warning::B3Components {
                predictor: p(),
                components: vec!["m".into()],
                fix: "kubectl seldon-tracing enable iris --propagation b3".into(),
            },
        ];
        for w in &all {
            match w {
                Warning::InvalidValue { .. }
                | Warning::SamplesNothing { .. }
                | Warning::UnknownValue { .. }
                | Warning::TracingIgnored { .. }
                | Warning::SamplerIgnored { .. }
                | Warning::EnabledIgnored { .. }
                | Warning::Port5775 { .. }
                | Warning::PythonPortFallback { .. }
                | Warning::PropagationNotB3 { .. }
                | Warning::B3SelfParent { .. }
                | Warning::RemoteSampling { .. }
                | Warning::PropagationMismatch { .. }
                | Warning::B3Components { .. }
                | Warning::ExecutorDisabled { .. }
                | Warning::ComponentNotTraced { .. }
                | Warning::UserConfigFile { .. }
                | Warning::NoEngine { .. }
                | Warning::NoGraph { .. }
                | Warning::NoPredictors { .. }
                | Warning::UnknownNode { .. }
                | Warning::EnvNotList { .. }
                | Warning::UnnamedEnv { .. }
                | Warning::ManagedBy { .. }
                | Warning::ArgoCdTracked => {}
            }
        }
        all
    }

    #[test]
    fn every_warning_is_one_line_with_a_documented_code_and_its_data() {
        let docs = include_str!("../../../docs/output.md");
        let codes: Vec<&str> = CODES.iter().map(|(c, _)| *c).collect();
        for w in every_variant() {
            let text = w.to_string();
            assert!(codes.contains(&w.code()), "{} is not in CODES", w.code());
            assert!(!text.contains('\n') && text.len() > 20, "{text}");
            if let Some(p) = w.predictor() {
                assert!(text.starts_with(&format!("predictor {p}: ")), "{text}");
            }
            let json = serde_json::to_value(&w).expect("json");
            assert_eq!(json, serde_json::json!({"code": w.code(), "message": text}));
        }
        for (code, _) in CODES {
            assert!(
                docs.contains(&format!("| `{code}` |")),
                "docs/output.md does not list {code}"
            );
        }
    }

    #[test]
    fn fixes_and_values_appear_in_the_words() {
        let all = every_variant();
        assert!(all[0].to_string().contains(
            "the executor exits at start: JAEGER_AGENT_PORT=\"jaeger\" is refused (not a number); fix it with `kubectl seldon-tracing enable iris -n models`"
        ));
        assert!(
            all[10]
                .to_string()
                .contains("or run `kubectl seldon-tracing enable iris --propagation jaeger`")
        );
        assert!(
            all[13].to_string().starts_with(
                "predictor default: m reads its own config file /etc/jaeger/config.yaml"
            )
        );
        assert!(
            all[19]
                .to_string()
                .contains("env entry #2 of container m has no name")
        );
    }
}
