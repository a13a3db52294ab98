//! What runs: the Deployments the Seldon v1 operator makes of a predictor, and whether the ones
//! in the cluster carry the tracing env the SeldonDeployment asks for and have finished rolling.
//! Names follow operator v1.18.2 (`GetDeploymentName`, `GetServiceOrchestratorName`: a name over
//! 63 characters becomes `seldon-<md5 of it>`). Only the tracing variables are compared (the
//! executor also gets `ENGINE_PREDICTOR` and others); `valueFrom` entries compare as references.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::components::{self as c, Kind};
use super::env::EnvValue;
use super::runtime::EffectiveEnv;

/// The executor's container in a generated Deployment.
pub const EXECUTOR_CONTAINER: &str = "seldon-container-engine";

/// One Deployment the operator makes for a predictor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub name: String,
    /// It runs the executor's container.
    pub executor: bool,
    /// The component containers (by name) it runs.
    pub containers: Vec<String>,
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A Kubernetes name the way the operator shortens one over 63 characters.
fn operator_name(name: String) -> String {
    if name.len() > 63 {
        format!("seldon-{}", md5_hex(&name))
    } else {
        name
    }
}

/// The Deployments the operator makes for predictor `p` of `obj`, in componentSpecs order.
pub fn planned(obj: &Value, p: &Value) -> Vec<Planned> {
    let sdep = c::str_at(obj, &["metadata", "name"]).unwrap_or("");
    let null = Value::Null;
    let spec = obj.get("spec").unwrap_or(&null);
    let pname = c::predictor_name(p);
    let engine = c::has_engine(p);
    let separate = c::str_at(spec, &["annotations", c::SEPARATE_POD]) == Some("true");
    let mut specs: Vec<&Value> = p
        .get("componentSpecs")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    // Prepackaged servers: the operator adds them to componentSpecs[0] (making it if absent).
    let prepackaged: Vec<String> = c::nodes(spec, p)
        .into_iter()
        .filter(|n| matches!(n.kind, Kind::Prepackaged(_)))
        .map(|n| n.name)
        .collect();
    if specs.is_empty() && !prepackaged.is_empty() {
        specs.push(&null);
    }
    let mut out = Vec::new();
    for (i, cs) in specs.iter().enumerate() {
        let mut containers: Vec<String> = cs
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|ct| c::str_at(ct, &["name"]).map(String::from))
            .collect();
        // The server of a prepackaged node without a container joins componentSpecs[0]
        // before the operator names the Deployment.
        if i == 0 {
            for name in &prepackaged {
                if !containers.contains(name) {
                    containers.push(name.clone());
                }
            }
        }
        let base = match c::str_at(cs, &["metadata", "name"]).filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => containers.join("-"),
        };
        out.push(Planned {
            name: operator_name(format!("{sdep}-{pname}-{i}-{base}")),
            executor: engine && !separate && i == 0,
            containers,
        });
    }
    if engine && (separate || out.is_empty()) {
        out.push(Planned {
            name: operator_name(format!("{sdep}-{pname}-svc-orch")),
            executor: true,
            containers: Vec::new(),
        });
    }
    out
}

/// A `valueFrom` as the API server stores it in a pod template: `fieldRef.apiVersion` defaults to
/// `v1` there, while the SeldonDeployment keeps what the user wrote.
fn defaulted(v: EnvValue) -> EnvValue {
    match v {
        EnvValue::Indirect(mut from) => {
            if let Some(f) = from.get_mut("fieldRef").and_then(Value::as_object_mut) {
                f.entry("apiVersion").or_insert_with(|| Value::from("v1"));
            }
            EnvValue::Indirect(from)
        }
        literal => literal,
    }
}

/// The tracing variables of an effective env: `TRACING` and `JAEGER_*`, each once.
fn tracing_vars(env: &EffectiveEnv, names: &[&str]) -> Vec<(String, Option<EnvValue>)> {
    names
        .iter()
        .map(|n| {
            (
                n.to_string(),
                env.get(n).map(|v| defaulted(v.value.clone())),
            )
        })
        .collect()
}

fn is_tracing(name: &str) -> bool {
    name == "TRACING" || name.starts_with("JAEGER_")
}

fn env_names(list: Option<&Value>, out: &mut Vec<String>) {
    for e in list.and_then(Value::as_array).into_iter().flatten() {
        if let Some(n) = c::str_at(e, &["name"])
            && is_tracing(n)
            && !out.iter().any(|x| x == n)
        {
            out.push(n.to_string());
        }
    }
}

/// Whether `live` (a container of a running Deployment) has exactly the tracing variables of
/// `want` (the effective env the SeldonDeployment asks for), as values or references.
fn same_tracing(want: &EffectiveEnv, want_list: &[String], live: Option<&Value>) -> bool {
    let live_env = EffectiveEnv::container(live.and_then(|c| c.get("env")));
    let mut names: Vec<String> = want_list.to_vec();
    env_names(live.and_then(|c| c.get("env")), &mut names);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    tracing_vars(want, &names) == tracing_vars(&live_env, &names)
}

/// The state of what runs for one predictor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RolloutState {
    /// Every Deployment carries the asked-for tracing env and has finished rolling out.
    Current,
    /// The templates carry it; pods are still being replaced.
    Rolling,
    /// A template does not carry it yet: the operator has not applied the change.
    Stale,
    /// No generated Deployment found.
    Unknown,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::Current => "current",
            RolloutState::Rolling => "rolling",
            RolloutState::Stale => "stale",
            RolloutState::Unknown => "unknown",
        }
    }

    /// The state of several predictors together: stale before rolling before unknown before
    /// current.
    pub fn worst(states: impl IntoIterator<Item = RolloutState>) -> Option<RolloutState> {
        let rank = |s: &RolloutState| match s {
            RolloutState::Stale => 3,
            RolloutState::Rolling => 2,
            RolloutState::Unknown => 1,
            RolloutState::Current => 0,
        };
        states.into_iter().max_by_key(rank)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRollout {
    pub name: String,
    pub replicas: i64,
    pub updated: i64,
    pub ready: i64,
    pub env_matches: bool,
    /// The operator has not made this Deployment (yet).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
    /// Pods of an older template still running (being replaced or terminating).
    #[serde(skip)]
    pub old: i64,
    /// The Deployment controller has seen the template, every pod runs it and is ready, and no
    /// old pod is left (`kubectl rollout status`'s test, with ready for available).
    #[serde(skip)]
    pub settled: bool,
}

impl DeploymentRollout {
    /// The state of this one Deployment.
    pub fn state(&self) -> RolloutState {
        match (self.missing, self.env_matches, self.settled) {
            (true, _, _) | (false, false, _) => RolloutState::Stale,
            (false, true, false) => RolloutState::Rolling,
            (false, true, true) => RolloutState::Current,
        }
    }
}

/// Why a predictor is not `current` (worded in `render::words`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holdup {
    /// The SeldonDeployment's `status.state` is Failed: the operator refused or could not apply it.
    OperatorFailed { description: String },
    /// The operator has not made this Deployment.
    NotMade { deployment: String },
    /// This Deployment's pod template lacks the asked-for tracing env: not applied yet.
    OldTemplate { deployment: String },
    /// The Deployment controller has not seen the new template yet.
    NotObserved { deployment: String },
    /// Pods are being replaced.
    Rolling {
        deployment: String,
        updated: i64,
        ready: i64,
        replicas: i64,
        /// Pods of the old template still running.
        old: i64,
    },
    /// No Deployment of the predictor was found.
    NoneFound,
    /// The user may not list Deployments.
    NotPermitted,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rollout {
    pub state: RolloutState,
    /// Why it is not current; None when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Holdup>,
    pub deployments: Vec<DeploymentRollout>,
}

impl Rollout {
    /// What the user may not see: no permission to list Deployments.
    pub fn not_permitted() -> Rollout {
        Rollout {
            state: RolloutState::Unknown,
            reason: Some(Holdup::NotPermitted),
            deployments: Vec::new(),
        }
    }
}

/// The operator's Deployments as read from the cluster, by namespace and name.
#[derive(Debug, Default, Clone)]
pub struct Deployments {
    by_namespace: HashMap<String, HashMap<String, Value>>,
}

impl Deployments {
    pub fn new(items: Vec<Value>) -> Deployments {
        let mut all = Deployments::default();
        for d in items {
            all.insert(d);
        }
        all
    }

    fn key(d: &Value) -> (String, String) {
        let at = |f| c::str_at(d, &["metadata", f]).unwrap_or("").to_string();
        (at("namespace"), at("name"))
    }

    /// Keeps only what the rollout reads (names, generations, the containers' env, the status):
    /// a Deployment's managedFields and the executor's ENGINE_PREDICTOR dwarf it.
    pub fn insert(&mut self, d: Value) {
        let (ns, name) = Self::key(&d);
        let containers: Vec<Value> = d
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|ct| {
                let env: Vec<Value> = ct
                    .get("env")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|e| c::str_at(e, &["name"]).is_some_and(is_tracing))
                    .cloned()
                    .collect();
                serde_json::json!({"name": ct.get("name"), "env": env})
            })
            .collect();
        let status = |f: &str| d.pointer(&format!("/status/{f}")).cloned();
        let kept = serde_json::json!({
            "metadata": {"name": name, "namespace": ns, "generation": d.pointer("/metadata/generation")},
            "spec": {"replicas": d.pointer("/spec/replicas"), "template": {"spec": {"containers": containers}}},
            "status": {
                "observedGeneration": status("observedGeneration"),
                "replicas": status("replicas"),
                "updatedReplicas": status("updatedReplicas"),
                "readyReplicas": status("readyReplicas"),
            },
        });
        self.by_namespace.entry(ns).or_default().insert(name, kept);
    }

    pub fn remove(&mut self, d: &Value) {
        let (ns, name) = Self::key(d);
        if let Some(m) = self.by_namespace.get_mut(&ns) {
            m.remove(&name);
        }
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<&Value> {
        self.by_namespace.get(namespace)?.get(name)
    }
}

fn int_at(v: &Value, path: &str) -> i64 {
    v.pointer(path).and_then(Value::as_i64).unwrap_or(0)
}

/// The SeldonDeployment's `status.description` when its `status.state` is Failed.
fn failed(obj: &Value) -> Option<String> {
    (c::str_at(obj, &["status", "state"]) == Some("Failed")).then(|| {
        c::str_at(obj, &["status", "description"])
            .unwrap_or("")
            .to_string()
    })
}

/// Where predictor `p` of `obj` stands, given the operator's Deployments `live`.
pub fn rollout(obj: &Value, p: &Value, live: &Deployments) -> Rollout {
    let namespace = c::str_at(obj, &["metadata", "namespace"]).unwrap_or("");
    let null = Value::Null;
    let spec = obj.get("spec").unwrap_or(&null);
    let exec_env = EffectiveEnv::executor(spec, p);
    let mut exec_names = Vec::new();
    env_names(p.pointer("/svcOrchSpec/env"), &mut exec_names);
    for (key, _) in spec
        .get("annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(var) = c::engine_annotation_var(key).filter(|v| is_tracing(v))
            && key != c::SEPARATE_POD
            && !exec_names.contains(&var)
        {
            exec_names.push(var);
        }
    }
    let nodes = c::nodes(spec, p);
    let mut deployments = Vec::new();
    for want in planned(obj, p) {
        let Some(d) = live.get(namespace, &want.name) else {
            deployments.push(DeploymentRollout {
                name: want.name,
                replicas: 0,
                updated: 0,
                ready: 0,
                env_matches: false,
                missing: true,
                old: 0,
                settled: false,
            });
            continue;
        };
        let containers = d
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array);
        let live_container = |name: &str| {
            containers
                .into_iter()
                .flatten()
                .find(|ct| c::str_at(ct, &["name"]) == Some(name))
        };
        let mut matches = true;
        if want.executor {
            matches &= same_tracing(&exec_env, &exec_names, live_container(EXECUTOR_CONTAINER));
        }
        for name in &want.containers {
            let declared = nodes
                .iter()
                .find(|n| &n.name == name)
                .and_then(|n| n.container)
                .and_then(|at| c::container_env(p, at));
            let wanted = EffectiveEnv::container(declared);
            let mut names = Vec::new();
            env_names(declared, &mut names);
            matches &= same_tracing(&wanted, &names, live_container(name));
        }
        let replicas = int_at(d, "/spec/replicas");
        let updated = int_at(d, "/status/updatedReplicas");
        let ready = int_at(d, "/status/readyReplicas");
        let total = int_at(d, "/status/replicas");
        let observed = int_at(d, "/status/observedGeneration") >= int_at(d, "/metadata/generation");
        let old = (total - updated).max(0);
        deployments.push(DeploymentRollout {
            name: want.name,
            replicas,
            updated,
            ready,
            env_matches: matches,
            missing: false,
            old,
            settled: observed && updated == replicas && old == 0 && ready >= updated,
        });
    }
    let (state, reason) = judge(obj, |name| live.get(namespace, name), &deployments);
    Rollout {
        state,
        reason,
        deployments,
    }
}

/// The predictor's state from its Deployments', and the first thing holding it up.
fn judge<'a>(
    obj: &Value,
    live: impl Fn(&str) -> Option<&'a Value>,
    deployments: &[DeploymentRollout],
) -> (RolloutState, Option<Holdup>) {
    if deployments.iter().all(|d| d.missing) {
        return (RolloutState::Unknown, Some(Holdup::NoneFound));
    }
    let state = RolloutState::worst(deployments.iter().map(DeploymentRollout::state))
        .unwrap_or(RolloutState::Unknown);
    let first = |s: RolloutState| deployments.iter().find(|d| d.state() == s);
    let reason = match state {
        RolloutState::Current | RolloutState::Unknown => None,
        RolloutState::Stale => Some(match (failed(obj), first(RolloutState::Stale)) {
            (Some(description), _) => Holdup::OperatorFailed { description },
            (None, Some(d)) if d.missing => Holdup::NotMade {
                deployment: d.name.clone(),
            },
            (None, d) => Holdup::OldTemplate {
                deployment: d.map(|d| d.name.clone()).unwrap_or_default(),
            },
        }),
        RolloutState::Rolling => first(RolloutState::Rolling).map(|d| {
            let raw = live(&d.name);
            let observed = raw.is_none_or(|x| {
                int_at(x, "/status/observedGeneration") >= int_at(x, "/metadata/generation")
            });
            if observed {
                Holdup::Rolling {
                    deployment: d.name.clone(),
                    updated: d.updated,
                    ready: d.ready,
                    replicas: d.replicas,
                    old: d.old,
                }
            } else {
                Holdup::NotObserved {
                    deployment: d.name.clone(),
                }
            }
        }),
    };
    (state, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sdep(annotations: Value, predictor: Value) -> Value {
        json!({"metadata": {"name": "iris", "namespace": "models"},
               "spec": {"annotations": annotations, "predictors": [predictor]}})
    }

    fn model(env: Value) -> Value {
        json!({"name": "default",
               "graph": {"name": "classifier", "type": "MODEL"},
               "componentSpecs": [{"spec": {"containers": [{"name": "classifier", "image": "me/iris:1", "env": env}]}}],
               "svcOrchSpec": {"env": [{"name": "JAEGER_SAMPLER_TYPE", "value": "const"}, {"name": "JAEGER_SAMPLER_PARAM", "value": "1"}]}})
    }

    /// A Deployment as the operator would write it for `model`, with `status`.
    fn deployment(exec_env: Value, model_env: Value, status: Value) -> Value {
        json!({"metadata": {"name": "iris-default-0-classifier", "generation": 2},
               "spec": {"replicas": 2, "template": {"spec": {"containers": [
                   {"name": "classifier", "env": model_env},
                   {"name": "seldon-container-engine", "env": exec_env}]}}},
               "status": status})
    }

    /// The Deployments of namespace `models`.
    fn live<const N: usize>(items: [Value; N]) -> Deployments {
        Deployments::new(
            items
                .into_iter()
                .map(|mut d| {
                    d["metadata"]["namespace"] = json!("models");
                    d
                })
                .collect(),
        )
    }

    fn done() -> Value {
        json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2})
    }

    #[test]
    fn names_follow_the_operator() {
        let obj = sdep(json!({}), model(json!([])));
        let p = &obj["spec"]["predictors"][0];
        assert_eq!(
            planned(&obj, p),
            [Planned {
                name: "iris-default-0-classifier".into(),
                executor: true,
                containers: vec!["classifier".into()]
            }]
        );
        let sklearn = sdep(
            json!({}),
            json!({"name": "default", "graph": {"name": "income", "implementation": "SKLEARN_SERVER"}}),
        );
        assert_eq!(
            planned(&sklearn, &sklearn["spec"]["predictors"][0]),
            [Planned {
                name: "iris-default-0-income".into(),
                executor: true,
                containers: vec!["income".into()]
            }]
        );
        let sep = sdep(
            json!({"seldon.io/engine-separate-pod": "true"}),
            model(json!([])),
        );
        let names: Vec<String> = planned(&sep, &sep["spec"]["predictors"][0])
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(
            names,
            ["iris-default-0-classifier", "iris-default-svc-orch"]
        );
        // Over 63 characters: seldon-<md5 of the long name>; the digest was computed with
        // Python's hashlib, as Go's crypto/md5 would give it.
        let mut long = model(json!([]));
        long["name"] = json!("a-very-long-predictor-name-that-goes-on-and-on");
        let obj = sdep(json!({}), long);
        let d = &planned(&obj, &obj["spec"]["predictors"][0])[0];
        assert_eq!(d.name, "seldon-9ad7b9bd6f97dc055da1eeab92821054");
    }

    #[test]
    fn states_come_from_the_templates_and_the_rollout() {
        let want_model = json!([{"name": "TRACING", "value": "1"}, {"name": "JAEGER_AGENT_HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}]);
        let obj = sdep(json!({}), model(want_model.clone()));
        let p = &obj["spec"]["predictors"][0];
        let exec = json!([{"name": "ENGINE_PREDICTOR", "value": "e30="}, {"name": "JAEGER_SAMPLER_TYPE", "value": "const"}, {"name": "JAEGER_SAMPLER_PARAM", "value": "1"}]);
        let current = rollout(
            &obj,
            p,
            &live([deployment(exec.clone(), want_model.clone(), done())]),
        );
        assert_eq!(current.state, RolloutState::Current);
        assert!(current.deployments[0].env_matches);
        let rolling = rollout(
            &obj,
            p,
            &live([deployment(
                exec.clone(),
                want_model.clone(),
                json!({"observedGeneration": 2, "updatedReplicas": 1, "readyReplicas": 2}),
            )]),
        );
        assert_eq!(rolling.state, RolloutState::Rolling);
        let old_model = json!([{"name": "TRACING", "value": "0"}, {"name": "JAEGER_AGENT_HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}]);
        let stale = rollout(
            &obj,
            p,
            &live([deployment(exec.clone(), old_model, done())]),
        );
        assert_eq!(stale.state, RolloutState::Stale);
        assert!(!stale.deployments[0].env_matches);
        // A tracing variable the live executor has and the object no longer asks for: stale.
        let mut extra = exec.as_array().unwrap().clone();
        extra.push(json!({"name": "JAEGER_DISABLED", "value": "true"}));
        let stale = rollout(
            &obj,
            p,
            &live([deployment(json!(extra), want_model.clone(), done())]),
        );
        assert_eq!(stale.state, RolloutState::Stale);
        // Other variables do not count; a reference is compared as a reference.
        let host_literal = json!([{"name": "TRACING", "value": "1"}, {"name": "JAEGER_AGENT_HOST", "value": "10.0.0.5"}, {"name": "LOG_LEVEL", "value": "DEBUG"}]);
        assert_eq!(
            rollout(
                &obj,
                p,
                &live([deployment(exec.clone(), host_literal, done())])
            )
            .state,
            RolloutState::Stale
        );
        assert_eq!(
            rollout(&obj, p, &Deployments::default()).state,
            RolloutState::Unknown
        );
        use RolloutState::*;
        assert_eq!(
            RolloutState::worst([Current, Unknown, Rolling]),
            Some(Rolling)
        );
        assert_eq!(RolloutState::worst([Current, Stale, Rolling]), Some(Stale));
        assert_eq!(RolloutState::worst([]), None);
        // The API server writes fieldRef.apiVersion: v1 into pod templates.
        let defaulted_model = json!([{"name": "TRACING", "value": "1"}, {"name": "JAEGER_AGENT_HOST", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.hostIP"}}}]);
        assert_eq!(
            rollout(
                &obj,
                p,
                &live([deployment(exec.clone(), defaulted_model, done())])
            )
            .state,
            RolloutState::Current
        );
    }

    #[test]
    fn annotations_reach_the_executor_after_its_env() {
        let obj = sdep(
            json!({"seldon.io/engine-jaeger-agent-port": "6832"}),
            model(json!([{"name": "TRACING", "value": "1"}])),
        );
        let p = &obj["spec"]["predictors"][0];
        let model_env = json!([{"name": "TRACING", "value": "1"}]);
        let with = json!([{"name": "JAEGER_SAMPLER_TYPE", "value": "const"}, {"name": "JAEGER_SAMPLER_PARAM", "value": "1"}, {"name": "JAEGER_AGENT_PORT", "value": "6832"}]);
        let without = json!([{"name": "JAEGER_SAMPLER_TYPE", "value": "const"}, {"name": "JAEGER_SAMPLER_PARAM", "value": "1"}]);
        assert_eq!(
            rollout(
                &obj,
                p,
                &live([deployment(with, model_env.clone(), done())])
            )
            .state,
            RolloutState::Current
        );
        assert_eq!(
            rollout(&obj, p, &live([deployment(without, model_env, done())])).state,
            RolloutState::Stale
        );
    }

    #[test]
    fn the_reason_names_what_holds_the_predictor_up() {
        let model_env = json!([{"name": "TRACING", "value": "1"}]);
        let exec = json!([{"name": "JAEGER_SAMPLER_TYPE", "value": "const"}, {"name": "JAEGER_SAMPLER_PARAM", "value": "1"}]);
        let mut obj = sdep(
            json!({"seldon.io/engine-separate-pod": "true"}),
            model(model_env.clone()),
        );
        let p = obj["spec"]["predictors"][0].clone();
        // The model's Deployment is there, the executor's is not made yet.
        let mut model_only = deployment(exec.clone(), model_env.clone(), done());
        model_only["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .pop();
        let r = rollout(&obj, &p, &live([model_only.clone()]));
        assert_eq!(r.state, RolloutState::Stale);
        assert_eq!(
            r.reason,
            Some(Holdup::NotMade {
                deployment: "iris-default-svc-orch".into()
            })
        );
        assert!(r.deployments[1].missing);
        // The operator says why: Failed wins over the Deployment-level reason.
        obj["status"] = json!({"state": "Failed", "description": "admission webhook refused it"});
        assert_eq!(
            rollout(&obj, &p, &live([model_only.clone()])).reason,
            Some(Holdup::OperatorFailed {
                description: "admission webhook refused it".into()
            })
        );
        // A template the controller has not seen yet, then pods rolling.
        let obj = sdep(json!({}), model(model_env.clone()));
        let p = &obj["spec"]["predictors"][0];
        let unseen = deployment(
            exec.clone(),
            model_env.clone(),
            json!({"observedGeneration": 1, "updatedReplicas": 2, "readyReplicas": 2}),
        );
        let r = rollout(&obj, p, &live([unseen]));
        assert_eq!(r.state, RolloutState::Rolling);
        assert_eq!(
            r.reason,
            Some(Holdup::NotObserved {
                deployment: "iris-default-0-classifier".into()
            })
        );
        let rolling = deployment(
            exec.clone(),
            model_env.clone(),
            json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "readyReplicas": 1}),
        );
        assert_eq!(
            rollout(&obj, p, &live([rolling])).reason,
            Some(Holdup::Rolling {
                deployment: "iris-default-0-classifier".into(),
                updated: 1,
                ready: 1,
                replicas: 2,
                old: 1,
            })
        );
        // Every wanted pod updated and ready, but an old one still runs (surge): not current.
        let surge = deployment(
            exec.clone(),
            model_env.clone(),
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "readyReplicas": 3}),
        );
        let r = rollout(&obj, p, &live([surge]));
        assert_eq!(r.state, RolloutState::Rolling);
        assert!(matches!(r.reason, Some(Holdup::Rolling { old: 1, .. })));
        let r = rollout(&obj, p, &live([deployment(exec, model_env, done())]));
        assert_eq!((r.state, r.reason), (RolloutState::Current, None));
        let none = rollout(&obj, p, &Deployments::default());
        assert_eq!(none.reason, Some(Holdup::NoneFound));
        // Another namespace's Deployment of the same name is not this one.
        let mut elsewhere = deployment(json!([]), json!([]), done());
        elsewhere["metadata"]["namespace"] = json!("other");
        assert_eq!(
            rollout(&obj, p, &Deployments::new(vec![elsewhere])).state,
            RolloutState::Unknown
        );
    }
}
