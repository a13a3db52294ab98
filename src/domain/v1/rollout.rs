//! What runs: the Deployments the Seldon v1 operator makes of a predictor, and whether the ones
//! in the cluster carry the tracing env the SeldonDeployment asks for and have finished rolling.
//! Names follow operator v1.18.2 (`GetDeploymentName`, `GetServiceOrchestratorName`: a name over
//! 63 characters becomes `seldon-<md5 of it>`). Only the tracing variables are compared (the
//! executor also gets `ENGINE_PREDICTOR` and others); `valueFrom` entries compare as references.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::components as c;
use crate::domain::json::str_at;
use crate::domain::v1::EXECUTOR_CONTAINER;
use crate::domain::v1::clients::EffectiveEnv;
use crate::domain::v1::env::EnvValue;

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
///
/// As v1.18.2 does it: every graph node whose implementation is a prepackaged server
/// ([`c::is_prepack`], traceable or not: TRITON_SERVER and MLServer-backed servers too) and that
/// has no container gets one, appended to `componentSpecs[0]` (made when absent) in graph
/// order, before the Deployments are named. A componentSpec without containers makes no
/// Deployment (its index still counts). The executor sits in componentSpecs[0]'s Deployment;
/// only `seldon.io/engine-separate-pod: "true"` gives it one of its own (`-svc-orch`). A
/// predictor with neither containers nor prepackaged servers gets nothing: the operator refuses
/// it (no Deployment to put the executor in).
pub fn planned(obj: &Value, p: &Value) -> Vec<Planned> {
    let sdep = str_at(obj, &["metadata", "name"]).unwrap_or("");
    let null = Value::Null;
    let spec = obj.get("spec").unwrap_or(&null);
    let pname = c::predictor_name(p);
    let engine = c::has_engine(p);
    let separate = str_at(spec, &["annotations", c::SEPARATE_POD]) == Some("true");
    let mut specs: Vec<&Value> = p
        .get("componentSpecs")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut servers: Vec<String> = Vec::new();
    for n in c::nodes(spec, p) {
        let prepack = str_at(n.json, &["implementation"]).is_some_and(c::is_prepack);
        if prepack && n.container.is_none() && !servers.contains(&n.name) {
            servers.push(n.name);
        }
    }
    if specs.is_empty() && !servers.is_empty() {
        specs.push(&null);
    }
    let mut out = Vec::new();
    for (i, cs) in specs.iter().enumerate() {
        let mut containers: Vec<String> = cs
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|ct| str_at(ct, &["name"]).map(String::from))
            .collect();
        if i == 0 {
            containers.extend(servers.iter().cloned());
        }
        if containers.is_empty() {
            continue;
        }
        let base = match str_at(cs, &["metadata", "name"]).filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => containers.join("-"),
        };
        out.push(Planned {
            name: operator_name(format!("{sdep}-{pname}-{i}-{base}")),
            executor: engine && !separate && i == 0,
            containers,
        });
    }
    if engine && separate {
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
        if let Some(n) = str_at(e, &["name"])
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
    /// Every wanted pod runs the new template and is ready, and no old pod is left: judged from
    /// the ReplicaSets when they were read (the newest one's template and pods), else from the
    /// Deployment's own counters (`kubectl rollout status`'s test, with ready for available).
    #[serde(skip)]
    pub settled: bool,
    /// The Deployment controller has not made a ReplicaSet of the new template yet (or, without
    /// ReplicaSets, has not observed the new generation).
    #[serde(skip)]
    pub unobserved: bool,
    /// `metadata.generation` runs ahead of `status.observedGeneration` although the pods already
    /// run the new template: the Seldon operator's rewrite loop (docs/facts/seldon-core-1.md, "Generation churn"), worth a note, not
    /// a wait. Only known when the ReplicaSets were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_ahead: Option<GenerationAhead>,
}

/// A Deployment's generation running ahead of what its controller observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationAhead {
    pub generation: i64,
    pub observed_generation: i64,
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
    /// The Deployment controller has not seen the new template yet (no ReplicaSet of it).
    NotObserved { deployment: String },
    /// The predictor has no container and no prepackaged server: the operator makes nothing.
    NothingToRun,
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
    /// The Deployments whose generation runs ahead while their pods already run what is asked
    /// (the operator's rewrite loop).
    pub fn looping(&self) -> impl Iterator<Item = (&str, GenerationAhead)> {
        self.deployments
            .iter()
            .filter_map(|d| d.generation_ahead.map(|g| (d.name.as_str(), g)))
    }
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

/// The operator's Deployments as read from the cluster, by namespace and name, and (when they
/// could be read) their ReplicaSets, by namespace and owning Deployment.
#[derive(Debug, Default, Clone)]
pub struct Deployments {
    by_namespace: HashMap<String, HashMap<String, Value>>,
    /// None: the ReplicaSets were not read (no permission), so rollouts are judged from the
    /// Deployments' counters.
    replica_sets: Option<HashMap<String, HashMap<String, Vec<Value>>>>,
}

/// The tracing env of a pod template's containers: `[{name, env}]`, other variables dropped.
fn trimmed_containers(template: Option<&Value>) -> Vec<Value> {
    template
        .and_then(|t| t.pointer("/spec/containers"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|ct| {
            let env: Vec<Value> = ct
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|e| str_at(e, &["name"]).is_some_and(is_tracing))
                .cloned()
                .collect();
            serde_json::json!({"name": ct.get("name"), "env": env})
        })
        .collect()
}

/// The Deployment a ReplicaSet belongs to: its controller owner reference of kind Deployment.
fn owner_of(rs: &Value) -> Option<&str> {
    rs.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|o| {
            str_at(o, &["kind"]) == Some("Deployment")
                && o.get("controller").and_then(Value::as_bool) == Some(true)
        })
        .and_then(|o| str_at(o, &["name"]))
}

impl Deployments {
    pub fn new(items: Vec<Value>) -> Deployments {
        let mut all = Deployments::default();
        all.set_deployments(items);
        all
    }

    /// The same with the ReplicaSets listed in the same scope.
    pub fn with_replica_sets(mut self, items: Vec<Value>) -> Deployments {
        self.set_replica_sets(items);
        self
    }

    /// Every Deployment, as listed again (the ReplicaSets stay).
    pub fn set_deployments(&mut self, items: Vec<Value>) {
        self.by_namespace.clear();
        for d in items {
            self.insert(d);
        }
    }

    /// Every ReplicaSet, as listed again.
    pub fn set_replica_sets(&mut self, items: Vec<Value>) {
        self.replica_sets = Some(HashMap::new());
        for rs in items {
            self.insert_replica_set(rs);
        }
    }

    fn key(d: &Value) -> (String, String) {
        let at = |f| str_at(d, &["metadata", f]).unwrap_or("").to_string();
        (at("namespace"), at("name"))
    }

    /// Keeps only what the rollout reads (names, generations, the containers' env, the status):
    /// a Deployment's managedFields and the executor's ENGINE_PREDICTOR dwarf it.
    pub fn insert(&mut self, d: Value) {
        let (ns, name) = Self::key(&d);
        let containers = trimmed_containers(d.pointer("/spec/template"));
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

    /// Keeps a ReplicaSet (its name, revision, tracing env and pod counts) under the
    /// Deployment that controls it; one without such an owner is not the operator's.
    pub fn insert_replica_set(&mut self, rs: Value) {
        let (ns, name) = Self::key(&rs);
        let Some(owner) = owner_of(&rs) else { return };
        let revision = str_at(&rs, &["metadata", "annotations", REVISION])
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0);
        let kept = serde_json::json!({
            "name": name,
            "revision": revision,
            "containers": trimmed_containers(rs.pointer("/spec/template")),
            "replicas": int_at(&rs, "/status/replicas"),
            "ready": int_at(&rs, "/status/readyReplicas"),
        });
        let owned = self
            .replica_sets
            .get_or_insert_with(HashMap::new)
            .entry(ns)
            .or_default()
            .entry(owner.to_string())
            .or_default();
        owned.retain(|x| x["name"] != name.as_str());
        owned.push(kept);
    }

    pub fn remove_replica_set(&mut self, rs: &Value) {
        let (ns, name) = Self::key(rs);
        let (Some(owner), Some(all)) = (owner_of(rs), self.replica_sets.as_mut()) else {
            return;
        };
        if let Some(owned) = all.get_mut(&ns).and_then(|m| m.get_mut(owner)) {
            owned.retain(|x| x["name"] != name.as_str());
        }
    }

    /// From now on, judge without ReplicaSets (they may not be read).
    pub fn forget_replica_sets(&mut self) {
        self.replica_sets = None;
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<&Value> {
        self.by_namespace.get(namespace)?.get(name)
    }

    /// Whether a Deployment's controller has not observed its latest generation yet: only then
    /// do its counters not say what its pods run, and the ReplicaSets must be read.
    pub fn any_unobserved(&self) -> bool {
        self.by_namespace
            .values()
            .flat_map(HashMap::values)
            .any(|d| int_at(d, "/status/observedGeneration") < int_at(d, "/metadata/generation"))
    }

    /// The ReplicaSets of Deployment `name`: None when ReplicaSets were not read.
    fn replica_sets_of(&self, namespace: &str, name: &str) -> Option<&[Value]> {
        let all = self.replica_sets.as_ref()?;
        Some(
            all.get(namespace)
                .and_then(|m| m.get(name))
                .map_or(&[][..], Vec::as_slice),
        )
    }
}

/// The Deployment controller's revision annotation on a ReplicaSet.
const REVISION: &str = "deployment.kubernetes.io/revision";

fn int_at(v: &Value, path: &str) -> i64 {
    v.pointer(path).and_then(Value::as_i64).unwrap_or(0)
}

/// The SeldonDeployment's `status.description` when its `status.state` is Failed.
fn failed(obj: &Value) -> Option<String> {
    (str_at(obj, &["status", "state"]) == Some("Failed")).then(|| {
        str_at(obj, &["status", "description"])
            .unwrap_or("")
            .to_string()
    })
}

/// Where predictor `p` of `obj` stands, given the operator's Deployments `live`.
pub fn rollout(obj: &Value, p: &Value, live: &Deployments) -> Rollout {
    let namespace = str_at(obj, &["metadata", "namespace"]).unwrap_or("");
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
    // Whether a pod template's containers (trimmed: `[{name, env}]`) carry the tracing env the
    // SeldonDeployment asks for `want`'s containers.
    let carries = |want: &Planned, containers: Option<&Vec<Value>>| {
        let live_container = |name: &str| {
            containers
                .into_iter()
                .flatten()
                .find(|ct| str_at(ct, &["name"]) == Some(name))
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
        matches
    };
    let planned = planned(obj, p);
    let mut deployments = Vec::new();
    for want in &planned {
        let Some(d) = live.get(namespace, &want.name) else {
            deployments.push(DeploymentRollout {
                name: want.name.clone(),
                replicas: 0,
                updated: 0,
                ready: 0,
                env_matches: false,
                missing: true,
                old: 0,
                settled: false,
                unobserved: false,
                generation_ahead: None,
            });
            continue;
        };
        let env_matches = carries(
            want,
            d.pointer("/spec/template/spec/containers")
                .and_then(Value::as_array),
        );
        let replicas = int_at(d, "/spec/replicas");
        let generation = int_at(d, "/metadata/generation");
        let observed_generation = int_at(d, "/status/observedGeneration");
        let mut r = DeploymentRollout {
            name: want.name.clone(),
            replicas,
            updated: 0,
            ready: 0,
            env_matches,
            missing: false,
            old: 0,
            settled: false,
            unobserved: false,
            generation_ahead: None,
        };
        match live.replica_sets_of(namespace, &want.name) {
            // What the pods run: the newest ReplicaSet's template and its pods, and whether any
            // older ReplicaSet still has pods. Generation counters do not enter: the real
            // operator can keep a Deployment's generation running ahead for good.
            Some(sets) => {
                let newest = sets.iter().max_by_key(|rs| int_at(rs, "/revision"));
                let new_matches = newest.is_some_and(|rs| {
                    carries(want, rs.get("containers").and_then(Value::as_array))
                });
                if new_matches && let Some(rs) = newest {
                    r.updated = int_at(rs, "/replicas");
                    r.ready = int_at(rs, "/ready");
                }
                r.old = sets
                    .iter()
                    .filter(|rs| newest.is_none_or(|n| !std::ptr::eq(*rs, n)))
                    .map(|rs| int_at(rs, "/replicas"))
                    .sum();
                r.unobserved = !new_matches;
                r.settled = env_matches
                    && new_matches
                    && r.updated == replicas
                    && r.ready >= replicas
                    && r.old == 0;
                if r.settled && generation > observed_generation {
                    r.generation_ahead = Some(GenerationAhead {
                        generation,
                        observed_generation,
                    });
                }
            }
            None => {
                r.updated = int_at(d, "/status/updatedReplicas");
                r.ready = int_at(d, "/status/readyReplicas");
                let total = int_at(d, "/status/replicas");
                r.old = (total - r.updated).max(0);
                r.unobserved = observed_generation < generation;
                r.settled =
                    !r.unobserved && r.updated == replicas && r.old == 0 && r.ready >= r.updated;
            }
        }
        deployments.push(r);
    }
    let (state, reason) = if planned.is_empty() {
        (RolloutState::Unknown, Some(Holdup::NothingToRun))
    } else {
        judge(obj, &deployments)
    };
    Rollout {
        state,
        reason,
        deployments,
    }
}

/// The predictor's state from its Deployments', and the first thing holding it up.
fn judge(obj: &Value, deployments: &[DeploymentRollout]) -> (RolloutState, Option<Holdup>) {
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
            if d.unobserved {
                Holdup::NotObserved {
                    deployment: d.name.clone(),
                }
            } else {
                Holdup::Rolling {
                    deployment: d.name.clone(),
                    updated: d.updated,
                    ready: d.ready,
                    replicas: d.replicas,
                    old: d.old,
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

    fn names(obj: &Value) -> Vec<(String, bool, Vec<String>)> {
        planned(obj, &obj["spec"]["predictors"][0])
            .into_iter()
            .map(|d| (d.name, d.executor, d.containers))
            .collect()
    }

    fn one(name: &str, executor: bool, containers: &[&str]) -> (String, bool, Vec<String>) {
        (
            name.into(),
            executor,
            containers.iter().map(|c| c.to_string()).collect(),
        )
    }

    /// The three predictors the real v1.18.2 operator named differently from this planner
    /// (docs/facts/seldon-core-1.md, "What the operator makes"; issue 17): prepackaged servers that cannot trace still join componentSpecs[0].
    #[test]
    fn every_prepackaged_server_joins_the_first_deployment_whatever_the_protocol() {
        let v2 = |graph: Value, specs: Value| {
            let mut p = json!({"name": "default", "graph": graph});
            if !specs.is_null() {
                p["componentSpecs"] = specs;
            }
            json!({"metadata": {"name": "iris", "namespace": "models"},
                   "spec": {"protocol": "v2", "predictors": [p]}})
        };
        let sklearn = v2(
            json!({"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "gs://m"}),
            Value::Null,
        );
        assert_eq!(
            names(&sklearn),
            [one("iris-default-0-classifier", true, &["classifier"])]
        );
        let triton = v2(
            json!({"name": "mnist", "implementation": "TRITON_SERVER", "modelUri": "gs://m"}),
            Value::Null,
        );
        assert_eq!(
            names(&triton),
            [one("iris-default-0-mnist", true, &["mnist"])]
        );
        let mut gpt2 = v2(
            json!({"name": "tokeniser-encoder", "children": [
                {"name": "gpt2", "implementation": "TRITON_SERVER", "modelUri": "gs://m", "children": [
                    {"name": "tokeniser-decoder"}]}]}),
            json!([{"spec": {"containers": [
                {"name": "tokeniser-encoder", "image": "me/tok:1"},
                {"name": "tokeniser-decoder", "image": "me/tok:1"}]}}]),
        );
        gpt2["metadata"]["name"] = json!("gpt2");
        assert_eq!(
            names(&gpt2),
            [one(
                "gpt2-default-0-tokeniser-encoder-tokeniser-decoder-gpt2",
                true,
                &["tokeniser-encoder", "tokeniser-decoder", "gpt2"]
            )]
        );
        // Servers that cannot trace stay unsupported for tracing all the same.
        let nodes = c::nodes(&gpt2["spec"], &gpt2["spec"]["predictors"][0]);
        assert!(matches!(nodes[1].kind, c::Kind::Unsupported(_)));
        // TF Serving under the tensorflow protocol and any implementation the plugin does not
        // know are prepackaged servers to the operator too.
        let mut tf = triton.clone();
        tf["spec"]["protocol"] = json!("tensorflow");
        tf["spec"]["predictors"][0]["graph"]["implementation"] = json!("TENSORFLOW_SERVER");
        assert_eq!(names(&tf), [one("iris-default-0-mnist", true, &["mnist"])]);
        let mut custom = triton;
        custom["spec"]["predictors"][0]["graph"]["implementation"] = json!("MY_OWN_SERVER");
        assert_eq!(
            names(&custom),
            [one("iris-default-0-mnist", true, &["mnist"])]
        );
    }

    #[test]
    fn the_executor_gets_a_deployment_of_its_own_only_when_asked() {
        let separate = json!({"metadata": {"name": "iris", "namespace": "models"},
            "spec": {"annotations": {"seldon.io/engine-separate-pod": "true"}, "predictors": [
                {"name": "default", "graph": {"name": "classifier", "implementation": "SKLEARN_SERVER"}}]}});
        assert_eq!(
            names(&separate),
            [
                one("iris-default-0-classifier", false, &["classifier"]),
                one("iris-default-svc-orch", true, &[])
            ]
        );
        // No container and no prepackaged server: the operator makes nothing (it refuses to
        // place the executor), and no `-svc-orch` is invented.
        let built_in = json!({"metadata": {"name": "iris", "namespace": "models"},
            "spec": {"predictors": [{"name": "default", "graph": {"name": "m", "implementation": "SIMPLE_MODEL"}}]}});
        assert!(names(&built_in).is_empty());
        let r = rollout(
            &built_in,
            &built_in["spec"]["predictors"][0],
            &Deployments::default(),
        );
        assert_eq!(
            (r.state, r.reason),
            (RolloutState::Unknown, Some(Holdup::NothingToRun))
        );
        // The no-engine annotation: the model's Deployment without the executor.
        let no_engine = json!({"metadata": {"name": "iris", "namespace": "models"},
            "spec": {"predictors": [{"name": "default", "annotations": {"seldon.io/no-engine": "true"},
                "graph": {"name": "classifier", "implementation": "XGBOOST_SERVER"}}]}});
        assert_eq!(
            names(&no_engine),
            [one("iris-default-0-classifier", false, &["classifier"])]
        );
    }

    #[test]
    fn a_mixed_graph_keeps_containers_where_they_are_and_appends_servers_in_graph_order() {
        // An A/B test (built in) over a stubbed SKLEARN_SERVER, a Triton server and a custom
        // model that lives in componentSpecs[1]: only the server without a container is
        // appended, after componentSpecs[0]'s own containers; the stub keeps its place; a
        // componentSpec without containers makes no Deployment but keeps its index.
        let obj = json!({"metadata": {"name": "ab", "namespace": "models"}, "spec": {"predictors": [{
            "name": "main",
            "graph": {"name": "split", "implementation": "RANDOM_ABTEST", "children": [
                {"name": "sk", "implementation": "SKLEARN_SERVER", "modelUri": "gs://a"},
                {"name": "tr", "implementation": "TRITON_SERVER", "modelUri": "gs://b"},
                {"name": "custom", "type": "MODEL"},
                {"name": "tr", "implementation": "TRITON_SERVER", "modelUri": "gs://b"}]},
            "componentSpecs": [
                {"spec": {"containers": [{"name": "sk", "env": [{"name": "TRACING", "value": "1"}]}]}},
                {"spec": {"containers": []}},
                {"spec": {"containers": [{"name": "custom", "image": "me/m:1"}]}}]}]}});
        assert_eq!(
            names(&obj),
            [
                one("ab-main-0-sk-tr", true, &["sk", "tr"]),
                one("ab-main-2-custom", false, &["custom"])
            ]
        );
    }

    /// A ReplicaSet of `owner` (trimmed or not: the same reader) at `revision`, its template
    /// carrying `model_env` for the model and `exec_env` for the executor.
    fn replica_set(
        revision: i64,
        exec_env: Value,
        model_env: Value,
        pods: i64,
        ready: i64,
    ) -> Value {
        json!({"metadata": {"name": format!("iris-default-0-classifier-{revision}"), "namespace": "models",
                            "annotations": {"deployment.kubernetes.io/revision": revision.to_string()},
                            "ownerReferences": [{"kind": "Deployment", "name": "iris-default-0-classifier", "controller": true}]},
               "spec": {"template": {"spec": {"containers": [
                   {"name": "classifier", "env": model_env},
                   {"name": "seldon-container-engine", "env": exec_env}]}}},
               "status": {"replicas": pods, "readyReplicas": ready}})
    }

    #[test]
    fn what_runs_is_judged_from_the_replica_sets_not_the_generation() {
        let model_env = json!([{"name": "TRACING", "value": "1"}]);
        let old_env = json!([{"name": "TRACING", "value": "0"}]);
        let exec = json!([{"name": "JAEGER_SAMPLER_TYPE", "value": "const"}, {"name": "JAEGER_SAMPLER_PARAM", "value": "1"}]);
        let obj = sdep(json!({}), model(model_env.clone()));
        let p = &obj["spec"]["predictors"][0];
        // The operator's loop: generation far ahead of what the controller observed, while
        // the newest ReplicaSet runs the asked-for env on every pod and no old pod is left.
        let churning = deployment(
            exec.clone(),
            model_env.clone(),
            json!({"observedGeneration": 60, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2}),
        );
        let mut churning = churning;
        churning["metadata"]["generation"] = json!(512);
        let sets = |rs: Vec<Value>| live([churning.clone()]).with_replica_sets(rs);
        let settled = sets(vec![
            replica_set(1, exec.clone(), old_env.clone(), 0, 0),
            replica_set(2, exec.clone(), model_env.clone(), 2, 2),
        ]);
        let r = rollout(&obj, p, &settled);
        assert_eq!((r.state, r.reason.clone()), (RolloutState::Current, None));
        assert_eq!(
            r.looping().collect::<Vec<_>>(),
            [(
                "iris-default-0-classifier",
                GenerationAhead {
                    generation: 512,
                    observed_generation: 60
                }
            )]
        );
        // Without ReplicaSets the same Deployment would wait for the controller for ever; so
        // its generation running ahead is what makes `status` read them.
        let r = rollout(&obj, p, &live([churning.clone()]));
        assert_eq!(r.state, RolloutState::Rolling);
        assert!(live([churning.clone()]).any_unobserved());
        assert!(!live([deployment(exec.clone(), model_env.clone(), done())]).any_unobserved());
        // The old ReplicaSet still has a pod: rolling, naming it.
        let r = rollout(
            &obj,
            p,
            &sets(vec![
                replica_set(1, exec.clone(), old_env.clone(), 1, 1),
                replica_set(2, exec.clone(), model_env.clone(), 2, 2),
            ]),
        );
        assert_eq!(r.state, RolloutState::Rolling);
        assert!(matches!(
            r.reason,
            Some(Holdup::Rolling {
                old: 1,
                updated: 2,
                ..
            })
        ));
        assert_eq!(r.looping().count(), 0, "no note while pods roll");
        // A new pod not ready yet.
        let r = rollout(
            &obj,
            p,
            &sets(vec![replica_set(2, exec.clone(), model_env.clone(), 2, 1)]),
        );
        assert!(matches!(r.reason, Some(Holdup::Rolling { ready: 1, .. })));
        // The Deployment carries the new env but its newest ReplicaSet is still the old
        // template: the controller has not made the new one yet.
        let r = rollout(
            &obj,
            p,
            &sets(vec![replica_set(1, exec.clone(), old_env.clone(), 2, 2)]),
        );
        assert_eq!(
            (r.state, r.reason),
            (
                RolloutState::Rolling,
                Some(Holdup::NotObserved {
                    deployment: "iris-default-0-classifier".into()
                })
            )
        );
        // No ReplicaSet at all: the same.
        assert_eq!(rollout(&obj, p, &sets(vec![])).state, RolloutState::Rolling);
        // The Deployment's template is old: stale, whatever the ReplicaSets say.
        let old_template = live([deployment(exec.clone(), old_env.clone(), done())])
            .with_replica_sets(vec![replica_set(2, exec.clone(), model_env.clone(), 2, 2)]);
        assert_eq!(rollout(&obj, p, &old_template).state, RolloutState::Stale);
        // A ReplicaSet of another Deployment (or none) does not count; removing one does.
        let mut other = replica_set(3, exec.clone(), old_env.clone(), 5, 0);
        other["metadata"]["ownerReferences"][0]["name"] = json!("someone-else");
        let mut with_other = sets(vec![replica_set(2, exec.clone(), model_env.clone(), 2, 2)]);
        with_other.insert_replica_set(other);
        assert_eq!(rollout(&obj, p, &with_other).state, RolloutState::Current);
        let stray = replica_set(3, exec.clone(), old_env.clone(), 1, 1);
        with_other.insert_replica_set(stray.clone());
        assert_eq!(rollout(&obj, p, &with_other).state, RolloutState::Rolling);
        with_other.remove_replica_set(&stray);
        assert_eq!(rollout(&obj, p, &with_other).state, RolloutState::Current);
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
