//! What tracing each component of a SeldonDeployment effectively has, read from its raw JSON.
//! The verdicts come from `runtime`, which follows the real clients; this module adds the
//! per-predictor picture (which component is where, how they join) and the warnings.

use serde::Serialize;
use serde_json::Value;

use crate::domain::json::str_at;
use crate::domain::v1::clients as runtime;
pub use crate::domain::v1::clients::Source;
use crate::domain::v1::clients::{
    Destination, EffectiveEnv, Note, Propagation, Runtime, SamplerSetting, Verdict,
};
use crate::domain::v1::components as c;
use crate::domain::v1::components::Kind;
use crate::domain::v1::config_file::mount;
use crate::domain::v1::config_file::mount::{ConfigMaps, File, Place};
use crate::domain::v1::env;
use crate::domain::v1::warning::{Component, Warning};

/// Effective tracing of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    On,
    Off,
    /// A tracer runs but no span leaves it (a sampler that samples nothing, an executor in front
    /// that samples nothing, spans with nowhere to go); `reason` says which.
    Idle,
    /// Set through `valueFrom`: known only at run time.
    Unknown,
    /// A value that makes the component exit at start.
    Invalid,
    Unsupported,
    /// Built-in unit traced by the executor's own tracer.
    InExecutor,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::On => "on",
            State::Off => "off",
            State::Idle => "idle",
            State::Unknown => "unknown",
            State::Invalid => "invalid",
            State::Unsupported => "unsupported",
            State::InExecutor => "in-executor",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentStatus {
    pub name: String,
    pub kind: String,
    pub tracing: State,
    #[serde(rename = "tracingSource")]
    pub tracing_source: Source,
    /// Where its spans go (executor and Python components).
    #[serde(rename = "spansTo", skip_serializing_if = "Option::is_none")]
    pub spans_to: Option<Destination>,
    /// Which sampler decides (executor and Python components).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampler: Option<SamplerSetting>,
    /// Why the component is idle, invalid or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Which trace headers it reads and writes (executor and Python components).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation: Option<Propagation>,
    /// The executor's `JAEGER_TAGS` stamp that `traces` searches by (`enable` writes it):
    /// `{deployment, predictor}`.
    #[serde(rename = "traceStamp", skip_serializing_if = "Option::is_none")]
    pub trace_stamp: Option<TraceStamp>,
    /// The file `JAEGER_CONFIG_PATH` names (Python components): where it comes from.
    #[serde(rename = "configFile", skip_serializing_if = "Option::is_none")]
    pub config_file: Option<ConfigFile>,
    /// The service its spans are recorded under, when its config file names one (else the
    /// interface name the image runs).
    #[serde(rename = "serviceName", skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
}

/// A Python component's `JAEGER_CONFIG_PATH` file and where the plugin found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigFile {
    pub path: String,
    /// The ConfigMap and key it comes from, when it comes from one.
    #[serde(rename = "configMap", skip_serializing_if = "Option::is_none")]
    pub config_map: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Whether its content was read and judged.
    pub read: bool,
}

/// The process tags that tie an executor's traces to its deployment and predictor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceStamp {
    pub deployment: String,
    pub predictor: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictorStatus {
    pub name: String,
    pub engine: bool,
    pub components: Vec<ComponentStatus>,
    /// What runs: the generated Deployments and whether they carry this tracing (cluster reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<crate::domain::v1::rollout::Rollout>,
}

/// Per deployment: on / off / partial / unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Summary {
    On,
    Off,
    Partial,
    Unknown,
}

impl Summary {
    pub fn as_str(self) -> &'static str {
        match self {
            Summary::On => "on",
            Summary::Off => "off",
            Summary::Partial => "partial",
            Summary::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentStatus {
    /// The Seldon generation this item describes: always `v1` here (`core2::RuntimeStatus` is
    /// `v2`), so a listing of both can be told apart.
    pub core: &'static str,
    pub namespace: String,
    pub name: String,
    pub summary: Summary,
    /// The executors' samplers, each distinct one once, in predictor order (empty without
    /// an executor; more than one means the predictors differ).
    pub samplers: Vec<SamplerSetting>,
    pub predictors: Vec<PredictorStatus>,
    pub warnings: Vec<Warning>,
}

/// Where the object was read, so the fixes warnings suggest act on the same thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    /// The cluster: fixes name the object.
    Live,
    /// A manifest file (`--local`): fixes rewrite that file.
    File(&'a str),
}

struct Ctx<'a> {
    deployment: &'a str,
    namespace: &'a str,
    origin: Origin<'a>,
    files: &'a ConfigMaps,
    warnings: Vec<Warning>,
}

impl Ctx<'_> {
    /// A plugin command line to paste: `kubectl seldon-tracing VERB NAME ARGS -n NS` for a live
    /// object, `kubectl seldon-tracing VERB -f FILE --local --in-place ARGS` for a manifest.
    fn command(&self, verb: &str, args: &str) -> String {
        match self.origin {
            // stdin cannot be rewritten: the result goes to stdout.
            Origin::File("-") => {
                return format!("kubectl seldon-tracing {verb} -f - --local{args}");
            }
            Origin::File(file) => {
                return format!("kubectl seldon-tracing {verb} -f {file} --local --in-place{args}");
            }
            Origin::Live => {}
        }
        let ns = if self.namespace.is_empty() {
            String::new()
        } else {
            format!(" -n {}", self.namespace)
        };
        format!(
            "kubectl seldon-tracing {verb} {}{args}{ns}",
            self.deployment
        )
    }

    fn warn(&mut self, w: Warning) {
        self.warnings.push(w);
    }
}

/// The state a verdict shows as, and the reason beside it.
fn state_of(v: &Verdict) -> (State, Option<String>) {
    match v {
        Verdict::On => (State::On, None),
        Verdict::Off => (State::Off, None),
        Verdict::Idle(why) => (State::Idle, Some(why.clone())),
        Verdict::Unknown(why) => (State::Unknown, Some(why.clone())),
        Verdict::Invalid(r) => (
            State::Invalid,
            Some(format!("{}={:?}: {}", r.var, r.value, r.why)),
        ),
    }
}

fn executor_status(spec: &Value, p: &Value, rt: &Runtime, ctx: &mut Ctx) -> ComponentStatus {
    let pname = c::predictor_name(p);
    let env = EffectiveEnv::executor(spec, p);
    let (tracing, reason) = state_of(&rt.verdict);
    let tracing_source = env
        .get("JAEGER_DISABLED")
        .map_or(Source::Default, |v| v.source);
    let predictor = pname.to_string();
    match &rt.verdict {
        Verdict::Invalid(r) => ctx.warn(Warning::InvalidValue {
            predictor: predictor.clone(),
            component: Component::Executor,
            refusal: r.clone(),
            fix: Some(ctx.command("enable", "")),
        }),
        Verdict::Idle(why) => ctx.warn(Warning::SamplesNothing {
            predictor: predictor.clone(),
            why: why.clone(),
            fix: ctx.command("enable", ""),
        }),
        Verdict::Unknown(why) => ctx.warn(Warning::UnknownValue {
            predictor: predictor.clone(),
            component: Component::Executor,
            why: why.clone(),
        }),
        _ => {}
    }
    if env::get(p.get("svcOrchSpec").and_then(|s| s.get("env")), "TRACING").is_some() {
        ctx.warn(Warning::TracingIgnored {
            predictor: predictor.clone(),
        });
    }
    let live = matches!(rt.verdict, Verdict::On);
    if live && rt.udp_port == Some(5775) {
        ctx.warn(Warning::Port5775 {
            predictor: predictor.clone(),
            component: Component::Executor,
        });
    }
    if live && rt.propagation == Propagation::B3 {
        ctx.warn(Warning::B3SelfParent {
            predictor: predictor.clone(),
        });
    }
    for note in &rt.notes {
        if let Note::NotExactlyB3(value) = note {
            ctx.warn(Warning::PropagationNotB3 {
                predictor: predictor.clone(),
                value: value.clone(),
            });
        }
    }
    if live
        && env
            .get("JAEGER_SAMPLER_PARAM")
            .is_none_or(|v| v.value.literal() == Some(""))
        && let Some(url) = &rt.sampling_url
    {
        ctx.warn(Warning::RemoteSampling {
            predictor,
            url: url.clone(),
        });
    }
    ComponentStatus {
        name: "executor".into(),
        kind: Kind::Executor.label(),
        tracing,
        tracing_source,
        spans_to: Some(rt.destination.clone()),
        sampler: Some(rt.sampler.clone()),
        reason,
        propagation: Some(rt.propagation),
        trace_stamp: env
            .go("JAEGER_TAGS")
            .and_then(crate::domain::v1::stamp::stamp_in)
            .map(|(deployment, predictor)| TraceStamp {
                deployment,
                predictor,
            }),
        config_file: None,
        service_name: None,
    }
}

fn python_status(
    p: &Value,
    node: &c::Node,
    executor: Option<&Runtime>,
    ctx: &mut Ctx,
) -> ComponentStatus {
    let pname = c::predictor_name(p);
    let list = node.container.and_then(|at| c::container_env(p, at));
    let env = EffectiveEnv::container(list);
    let (file, config_file) = config_file(p, node, ctx);
    let rt = runtime::python_with(&env, &file);
    let mut verdict = rt.verdict.clone();
    let same_headers = executor.is_some_and(|e| e.propagation == rt.propagation);
    // A child span follows its parent's sampling decision: behind an executor that samples
    // nothing, a component that reads the executor's headers records nothing either; behind
    // one that samples, its own sampler (which decides only the traces it starts) does not
    // matter for requests through the executor.
    match executor {
        Some(exec)
            if verdict == Verdict::On
                && matches!(exec.verdict, Verdict::Idle(_))
                && !exec.samples
                && same_headers =>
        {
            verdict = Verdict::Idle(
                "the executor in front of it samples nothing and passes that decision on".into(),
            );
        }
        Some(exec)
            if matches!(verdict, Verdict::Idle(_))
                && rt.sampler.source == Source::File
                && exec.samples
                && same_headers =>
        {
            verdict = Verdict::On;
        }
        _ => {}
    }
    let (tracing, reason) = state_of(&verdict);
    let tracing_source = env.get("TRACING").map_or(Source::Default, |v| v.source);
    let predictor = pname.to_string();
    let me = || Component::Python(node.name.clone());
    match &verdict {
        Verdict::Invalid(r) => ctx.warn(Warning::InvalidValue {
            predictor: predictor.clone(),
            component: me(),
            refusal: r.clone(),
            fix: None,
        }),
        Verdict::Unknown(why) => ctx.warn(Warning::UnknownValue {
            predictor: predictor.clone(),
            component: me(),
            why: why.clone(),
        }),
        _ => {}
    }
    if tracing == State::On && rt.udp_port == Some(5775) {
        ctx.warn(Warning::Port5775 {
            predictor: predictor.clone(),
            component: me(),
        });
    }
    for note in &rt.notes {
        if let Note::PortNotANumber(value) = note {
            ctx.warn(Warning::PythonPortFallback {
                predictor: predictor.clone(),
                component: node.name.clone(),
                value: value.clone(),
            });
        }
    }
    if rt.notes.contains(&Note::EnabledIgnored) && tracing == State::On {
        ctx.warn(Warning::EnabledIgnored {
            predictor: predictor.clone(),
            component: node.name.clone(),
        });
    }
    if env.get("JAEGER_SAMPLER_TYPE").is_some() || env.get("JAEGER_SAMPLER_PARAM").is_some() {
        ctx.warn(Warning::SamplerIgnored {
            predictor,
            component: node.name.clone(),
        });
    }
    ComponentStatus {
        name: node.name.clone(),
        kind: node.kind.label(),
        tracing,
        tracing_source,
        spans_to: Some(rt.destination),
        sampler: Some(rt.sampler),
        reason,
        propagation: Some(rt.propagation),
        trace_stamp: None,
        config_file,
        service_name: rt.service_name,
    }
}

/// The file a Python component's literal `JAEGER_CONFIG_PATH` names, as its container finds it.
fn config_file(p: &Value, node: &c::Node, ctx: &Ctx) -> (File, Option<ConfigFile>) {
    let Some((path, place)) = node.container.and_then(|at| mount::place_at(p, at)) else {
        return (File::Unread, None);
    };
    let file = mount::file(ctx.files, ctx.namespace, &place);
    let (config_map, key) = match (&place, &file) {
        (Place::ConfigMaps(cands), _) if cands.len() == 1 => {
            (Some(cands[0].name.clone()), Some(cands[0].key.clone()))
        }
        (
            _,
            File::Text {
                config_map, key, ..
            },
        ) => (Some(config_map.clone()), Some(key.clone())),
        _ => (None, None),
    };
    let read = matches!(file, File::Text { .. });
    (
        file,
        Some(ConfigFile {
            path,
            config_map,
            key,
            read,
        }),
    )
}

fn other_status(name: String, kind: &Kind) -> ComponentStatus {
    let tracing = match kind {
        Kind::BuiltIn(_) => State::InExecutor,
        Kind::Unknown => State::Unknown,
        _ => State::Unsupported,
    };
    ComponentStatus {
        name,
        kind: kind.label(),
        tracing,
        tracing_source: Source::None,
        spans_to: None,
        sampler: None,
        reason: None,
        propagation: None,
        trace_stamp: None,
        config_file: None,
        service_name: None,
    }
}

fn warn_unnamed(p: &Value, ctx: &mut Ctx) {
    let pname = c::predictor_name(p);
    let mut lists: Vec<(String, Option<&Value>)> = vec![(
        "svcOrchSpec".into(),
        p.get("svcOrchSpec").and_then(|s| s.get("env")),
    )];
    for cs in p
        .get("componentSpecs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let containers = cs
            .get("spec")
            .and_then(|s| s.get("containers"))
            .and_then(Value::as_array);
        for cont in containers.into_iter().flatten() {
            let cname = str_at(cont, &["name"]).unwrap_or("?");
            lists.push((format!("container {cname}"), cont.get("env")));
        }
    }
    for (place, list) in lists {
        if list.is_some_and(|l| !l.is_null() && !l.is_array()) {
            ctx.warn(Warning::EnvNotList {
                predictor: pname.to_string(),
                place: place.clone(),
            });
        }
        for i in env::unnamed_entries(list) {
            ctx.warn(Warning::UnnamedEnv {
                predictor: pname.to_string(),
                place: place.clone(),
                index: i + 1,
            });
        }
    }
}

fn predictor_status(spec: &Value, p: &Value, ctx: &mut Ctx) -> PredictorStatus {
    let pname = c::predictor_name(p).to_string();
    let engine = c::has_engine(p);
    let mut components = Vec::new();
    let exec_rt = engine.then(|| runtime::executor(&EffectiveEnv::executor(spec, p)));
    if let Some(rt) = &exec_rt {
        components.push(executor_status(spec, p, rt, ctx));
    } else {
        ctx.warn(Warning::NoEngine {
            predictor: pname.clone(),
            sampler: false,
        });
    }
    if p.get("graph").is_none_or(|g| !g.is_object()) {
        ctx.warn(Warning::NoGraph {
            predictor: pname.clone(),
            planned: false,
        });
    }
    for node in c::nodes(spec, p) {
        let st = if node.kind.is_python() {
            python_status(p, &node, exec_rt.as_ref(), ctx)
        } else {
            if node.kind == Kind::Unknown {
                ctx.warn(Warning::UnknownNode {
                    predictor: pname.clone(),
                    node: node.name.clone(),
                });
            }
            other_status(node.name.clone(), &node.kind)
        };
        components.push(st);
    }
    if let Some(ex) = p.get("explainer").filter(|e| e.is_object())
        && let Some(kind) = str_at(ex, &["type"]).filter(|t| !t.is_empty())
    {
        let name = str_at(ex, &["containerSpec", "name"]).unwrap_or("explainer");
        components.push(other_status(
            name.into(),
            &Kind::Unsupported(format!("explainer {kind}")),
        ));
    }
    warn_unnamed(p, ctx);
    warn_joins(&pname, &components, ctx);
    PredictorStatus {
        name: pname,
        engine,
        components,
        rollout: None,
    }
}

/// How the executor and its Python components join into one trace per request.
fn warn_joins(pname: &str, components: &[ComponentStatus], ctx: &mut Ctx) {
    let Some(exec) = components.iter().find(|s| s.kind == "executor") else {
        return;
    };
    let py: Vec<&ComponentStatus> = components
        .iter()
        .filter(|s| s.propagation.is_some() && s.kind != "executor")
        .collect();
    let mismatched: Vec<&str> = py
        .iter()
        .filter(|s| {
            exec.tracing == State::On
                && s.tracing == State::On
                && exec.propagation == Some(Propagation::B3)
                && s.propagation == Some(Propagation::Jaeger)
        })
        .map(|s| s.name.as_str())
        .collect();
    if !mismatched.is_empty() {
        ctx.warn(Warning::PropagationMismatch {
            predictor: pname.to_string(),
            components: mismatched.iter().map(|s| s.to_string()).collect(),
            fix: ctx.command("enable", " --propagation jaeger"),
        });
    }
    let b3_only: Vec<String> = py
        .iter()
        .filter(|s| {
            exec.tracing == State::On
                && s.tracing == State::On
                && exec.propagation == Some(Propagation::Jaeger)
                && s.propagation == Some(Propagation::B3)
        })
        .map(|s| s.name.clone())
        .collect();
    if !b3_only.is_empty() {
        ctx.warn(Warning::B3Components {
            predictor: pname.to_string(),
            components: b3_only,
            fix: ctx.command("enable", " --propagation b3"),
        });
    }
    for comp in py {
        let (predictor, component) = (pname.to_string(), comp.name.clone());
        match (exec.tracing, comp.tracing) {
            (State::Off, State::On) => ctx.warn(Warning::ExecutorDisabled {
                predictor,
                component,
            }),
            (State::On, State::Off) => ctx.warn(Warning::ComponentNotTraced {
                predictor,
                component,
            }),
            _ => {}
        }
    }
}

fn summarize(predictors: &[PredictorStatus]) -> Summary {
    let mut on = 0;
    let mut off = 0;
    for st in predictors.iter().flat_map(|p| &p.components) {
        match st.tracing {
            State::On => on += 1,
            State::Off | State::Idle => off += 1,
            State::Unknown | State::Invalid if st.tracing_source != Source::None => {
                return Summary::Unknown;
            }
            _ => {}
        }
    }
    match (on, off) {
        (0, 0) => Summary::Unknown,
        (_, 0) => Summary::On,
        (0, _) => Summary::Off,
        _ => Summary::Partial,
    }
}

/// Managers other than `ours` that own `spec.predictors` through server-side apply (Flux,
/// Argo CD with server-side apply, `kubectl apply --server-side`): their next apply reverts it.
/// One warning per such manager, worded for `status` and mutations alike.
/// Argo CD applies client-side by default, which leaves no Apply entry; its tracking annotation
/// still says Git is the source of truth, so that gets a warning too.
/// Plain client-side `kubectl apply` is left out: it only rewrites predictors when the manifest's
/// predictors change, and then it replaces the whole list whoever owns it.
pub fn competing_manager_warnings(obj: &Value, ours: &str) -> Vec<Warning> {
    let metadata = obj.get("metadata");
    let entries = metadata
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array);
    let mut warnings: Vec<Warning> = entries
        .into_iter()
        .flatten()
        .filter(|e| {
            let manager = str_at(e, &["manager"]).unwrap_or("");
            let apply = str_at(e, &["operation"]) == Some("Apply");
            let owns = e
                .get("fieldsV1")
                .and_then(|f| f.get("f:spec"))
                .and_then(|s| s.get("f:predictors"))
                .is_some();
            manager != ours && apply && owns
        })
        .filter_map(|e| str_at(e, &["manager"]))
        .map(|m| Warning::ManagedBy {
            manager: m.to_string(),
        })
        .collect();
    let argo_tracked = metadata
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get("argocd.argoproj.io/tracking-id"))
        .is_some();
    let argo_applies = warnings
        .iter()
        .any(|w| matches!(w, Warning::ManagedBy { manager } if manager.starts_with("argocd")));
    if argo_tracked && !argo_applies {
        warnings.push(Warning::ArgoCdTracked);
    }
    warnings
}

/// The executors and Python components of `d` not in the state `status --expect` asks for
/// (`on`: on; `off`: off or idle), one line each: `ns/name: predictor P: C is S (reason)`.
pub fn unmet(d: &DeploymentStatus, want_on: bool) -> Vec<String> {
    let mut out = Vec::new();
    for p in &d.predictors {
        for c in p.components.iter().filter(|c| c.propagation.is_some()) {
            let ok = match c.tracing {
                State::On => want_on,
                State::Off | State::Idle => !want_on,
                _ => false,
            };
            if !ok {
                let why = c
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                let ns = if d.namespace.is_empty() {
                    String::new()
                } else {
                    format!("{}/", d.namespace)
                };
                out.push(format!(
                    "{ns}{}: predictor {}: {} is {}{why}",
                    d.name,
                    p.name,
                    c.name,
                    c.tracing.as_str()
                ));
            }
        }
    }
    out
}

/// Fills in each predictor's rollout from the operator's Deployments (`None`: they could not be
/// listed, so the state is unknown).
pub fn attach_rollout(
    st: &mut DeploymentStatus,
    obj: &Value,
    live: Option<&crate::domain::v1::rollout::Deployments>,
) {
    use crate::domain::v1::rollout::{Rollout, rollout};
    let raw = obj.pointer("/spec/predictors").and_then(Value::as_array);
    for p in st.predictors.iter_mut() {
        let Some(praw) = raw
            .into_iter()
            .flatten()
            .find(|x| c::predictor_name(x) == p.name)
        else {
            continue;
        };
        p.rollout = Some(match live {
            Some(live) => rollout(obj, praw, live),
            None => Rollout::not_permitted(),
        });
    }
}

/// Reads the whole tracing picture of one SeldonDeployment.
pub fn status(obj: &Value, field_manager: &str) -> DeploymentStatus {
    status_from(obj, field_manager, Origin::Live)
}

/// [`status`] of an object read from `origin`, its config files unread.
pub fn status_from(obj: &Value, field_manager: &str, origin: Origin) -> DeploymentStatus {
    status_with(obj, field_manager, origin, &ConfigMaps::unread())
}

/// [`status_from`] with the ConfigMaps `files` as read, so each Python component's
/// `JAEGER_CONFIG_PATH` file is judged from its content.
pub fn status_with(
    obj: &Value,
    field_manager: &str,
    origin: Origin,
    files: &ConfigMaps,
) -> DeploymentStatus {
    let name = str_at(obj, &["metadata", "name"]).unwrap_or("").to_string();
    let namespace = str_at(obj, &["metadata", "namespace"])
        .unwrap_or("")
        .to_string();
    let null = Value::Null;
    let spec = obj.get("spec").unwrap_or(&null);
    let mut ctx = Ctx {
        deployment: &name,
        namespace: &namespace,
        origin,
        files,
        warnings: Vec::new(),
    };
    let predictors: Vec<PredictorStatus> = match spec.get("predictors") {
        Some(Value::Array(ps)) if ps.is_empty() => {
            ctx.warn(Warning::NoPredictors { missing: false });
            Vec::new()
        }
        Some(Value::Array(ps)) => ps
            .iter()
            .map(|p| predictor_status(spec, p, &mut ctx))
            .collect(),
        _ => {
            ctx.warn(Warning::NoPredictors { missing: true });
            Vec::new()
        }
    };
    ctx.warnings
        .extend(competing_manager_warnings(obj, field_manager));
    let mut samplers: Vec<SamplerSetting> = Vec::new();
    for exec in predictors
        .iter()
        .flat_map(|p| p.components.iter().filter(|s| s.kind == "executor"))
    {
        if let Some(sm) = &exec.sampler
            && !samplers.contains(sm)
        {
            samplers.push(sm.clone());
        }
    }
    let warnings = ctx.warnings;
    DeploymentStatus {
        core: "v1",
        summary: summarize(&predictors),
        namespace,
        name,
        samplers,
        predictors,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::v1::env::EnvValue;
    use serde_json::json;

    fn one(executor_env: Value, model_env: Value, annotations: Value) -> DeploymentStatus {
        let obj = json!({
            "metadata": {"name": "d", "namespace": "ns"},
            "spec": {"annotations": annotations, "predictors": [{
                "name": "p",
                "graph": {"name": "m"},
                "svcOrchSpec": {"env": executor_env},
                "componentSpecs": [{"spec": {"containers": [{"name": "m", "image": "me/m:1", "env": model_env}]}}]
            }]}
        });
        status(&obj, "kubectl-seldon-tracing")
    }

    fn states(d: &DeploymentStatus) -> Vec<State> {
        d.predictors[0]
            .components
            .iter()
            .map(|c| c.tracing)
            .collect()
    }

    #[test]
    fn a_node_without_container_or_implementation_and_an_empty_predictor_list_are_named() {
        let obj = json!({
            "metadata": {"name": "d", "namespace": "ns"},
            "spec": {"predictors": [{
                "name": "p",
                "graph": {"name": "m", "type": "MODEL"},
                "componentSpecs": [{"spec": {"containers": [{"image": "me/m:1"}]}}]
            }]}
        });
        let d = status(&obj, "kubectl-seldon-tracing");
        assert_eq!(states(&d), [State::Idle, State::Unknown]);
        assert!(
            d.warnings
                .iter()
                .any(|w| matches!(w, Warning::UnknownNode { node, .. } if node == "m")),
            "{:?}",
            d.warnings
        );
        let empty = json!({"metadata": {"name": "e"}, "spec": {"predictors": []}});
        assert_eq!(
            status(&empty, "kubectl-seldon-tracing").warnings,
            [Warning::NoPredictors { missing: false }]
        );
    }

    #[test]
    fn argo_cd_tracking_is_warned_about_once() {
        let tracked = json!({"metadata": {"name": "d", "annotations": {
            "argocd.argoproj.io/tracking-id": "models:machinelearning.seldon.io/SeldonDeployment:ns/d"
        }}});
        let w = competing_manager_warnings(&tracked, "kubectl-seldon-tracing");
        assert_eq!(w, [Warning::ArgoCdTracked]);
        // Argo CD syncing with server-side apply is already named by its manager entry.
        let mut ssa = tracked.clone();
        ssa["metadata"]["managedFields"] = json!([{
            "manager": "argocd-controller", "operation": "Apply",
            "fieldsV1": {"f:spec": {"f:predictors": {}}}
        }]);
        let w = competing_manager_warnings(&ssa, "kubectl-seldon-tracing");
        assert_eq!(
            w,
            [Warning::ManagedBy {
                manager: "argocd-controller".into()
            }]
        );
        let plain = json!({"metadata": {"name": "d", "annotations": {"team": "fraud"}}});
        assert!(competing_manager_warnings(&plain, "kubectl-seldon-tracing").is_empty());
    }

    #[test]
    fn an_untouched_executor_is_idle_and_counts_as_off() {
        let d = one(json!([]), json!([]), json!({}));
        assert_eq!(states(&d), [State::Idle, State::Off]);
        assert_eq!(d.summary, Summary::Off);
        assert_eq!(
            d.samplers,
            [SamplerSetting {
                kind: Some(EnvValue::Literal("remote".into())),
                param: None,
                default: true,
                source: Source::Default
            }]
        );
        assert!(
            d.warnings
                .iter()
                .any(|w| matches!(w, Warning::SamplesNothing { fix, .. } if fix == "kubectl seldon-tracing enable d -n ns"))
        );
    }

    #[test]
    fn a_remote_sampler_with_somewhere_to_ask_is_on() {
        let endpoint =
            json!([{"name": "JAEGER_SAMPLING_ENDPOINT", "value": "http://agent:5778/sampling"}]);
        assert_eq!(states(&one(endpoint, json!([]), json!({})))[0], State::On);
        let host = json!([{"name": "JAEGER_AGENT_HOST", "value": "agent"}]);
        assert_eq!(states(&one(host, json!([]), json!({})))[0], State::On);
        let annotated = one(
            json!([]),
            json!([]),
            json!({"seldon.io/engine-jaeger-sampler-type": "const", "seldon.io/engine-jaeger-sampler-param": "1"}),
        );
        let exec = &annotated.predictors[0].components[0];
        let lit = |v: &str| Some(EnvValue::Literal(v.into()));
        assert_eq!(exec.tracing, State::On);
        assert_eq!(
            exec.sampler,
            Some(SamplerSetting {
                kind: lit("const"),
                param: lit("1"),
                default: false,
                source: Source::Annotation
            })
        );
    }

    #[test]
    fn bad_and_indirect_values_are_invalid_or_unknown() {
        let d = one(
            json!([{"name": "JAEGER_DISABLED", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]),
            json!([{"name": "TRACING", "value": "true"}]),
            json!({}),
        );
        assert_eq!(states(&d), [State::Unknown, State::Invalid]);
        assert_eq!(d.summary, Summary::Unknown);
        assert!(d.warnings.iter().any(|w| matches!(w,
            Warning::InvalidValue { component: Component::Python(m), refusal, fix: None, .. }
                if m == "m" && refusal.var == "TRACING" && refusal.value == "true")));
    }

    #[test]
    fn a_traced_component_under_a_disabled_executor_is_partial_and_warned() {
        let d = one(
            json!([{"name": "JAEGER_DISABLED", "value": "true"}]),
            json!([{"name": "TRACING", "value": "1"}, {"name": "JAEGER_AGENT_PORT", "value": "5775"}]),
            json!({}),
        );
        assert_eq!(states(&d), [State::Off, State::On]);
        assert_eq!(d.summary, Summary::Partial);
        assert!(
            d.warnings.iter().any(
                |w| matches!(w, Warning::ExecutorDisabled { component, .. } if component == "m")
            )
        );
        assert!(d.warnings.iter().any(
            |w| matches!(w, Warning::Port5775 { component: Component::Python(m), .. } if m == "m")
        ));
    }

    fn with_file(executor_env: Value, tracing: &str, no_engine: bool) -> Value {
        let mut p = json!({
            "name": "p",
            "graph": {"name": "m"},
            "svcOrchSpec": {"env": executor_env},
            "componentSpecs": [{"spec": {
                "volumes": [{"name": "jaeger", "configMap": {"name": "d-tracing"}}],
                "containers": [{"name": "m", "image": "me/m:1",
                    "env": [{"name": "TRACING", "value": tracing},
                            {"name": "JAEGER_CONFIG_PATH", "value": "/etc/jaeger/m.yaml"},
                            {"name": "JAEGER_AGENT_HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}],
                    "volumeMounts": [{"name": "jaeger", "mountPath": "/etc/jaeger", "readOnly": true}]}]
            }}]
        });
        if no_engine {
            p["annotations"] = json!({"seldon.io/no-engine": "true"});
        }
        json!({"metadata": {"name": "d", "namespace": "ns"}, "spec": {"predictors": [p]}})
    }

    fn read(obj: &Value, file: Option<&str>) -> DeploymentStatus {
        let mut maps = ConfigMaps::new();
        let cm = match file {
            Some(text) => mount::ConfigMap::from_object(&json!({"data": {"m.yaml": text}})),
            None => mount::ConfigMap::Missing,
        };
        maps.insert("ns", "d-tracing", cm);
        status_with(obj, "kubectl-seldon-tracing", Origin::Live, &maps)
    }

    #[test]
    fn a_config_file_is_read_from_its_config_map_and_judged() {
        let const1 = json!([{"name": "JAEGER_SAMPLER_TYPE", "value": "const"}, {"name": "JAEGER_SAMPLER_PARAM", "value": "1"}]);
        let zero = "sampler: {type: probabilistic, param: 0}\nservice_name: fraud\n";
        // Its own sampler decides only the traces it starts: behind a sampling executor it is on.
        let behind = read(&with_file(const1.clone(), "1", false), Some(zero));
        let m = &behind.predictors[0].components[1];
        assert_eq!(m.tracing, State::On);
        assert_eq!(m.service_name.as_deref(), Some("fraud"));
        assert_eq!(
            m.config_file,
            Some(ConfigFile {
                path: "/etc/jaeger/m.yaml".into(),
                config_map: Some("d-tracing".into()),
                key: Some("m.yaml".into()),
                read: true
            })
        );
        let sampler = m.sampler.as_ref().expect("sampler");
        assert_eq!(
            (
                sampler.source,
                sampler.param.as_ref().and_then(|p| p.literal())
            ),
            (Source::File, Some("0"))
        );
        // With requests straight to it, it starts every trace: idle.
        let alone = read(&with_file(json!([]), "1", true), Some(zero));
        assert_eq!(states(&alone), [State::Idle]);
        // The host stays the node's IP from env; the port is the client's default with a file.
        let on = read(
            &with_file(json!([]), "1", true),
            Some("sampler: {type: const, param: 1}"),
        );
        match &on.predictors[0].components[0].spans_to {
            Some(Destination::Agent { host, port, source }) => {
                assert!(matches!(host, env::EnvValue::Indirect(_)));
                assert_eq!((port.literal(), *source), (Some("6831"), Source::Env));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn b3_from_the_file_joins_a_b3_executor_and_a_missing_config_map_stops_the_pod() {
        let b3 = json!([{"name": "JAEGER_SAMPLER_TYPE", "value": "const"}, {"name": "JAEGER_SAMPLER_PARAM", "value": "1"},
                        {"name": "JAEGER_TRACE_PROPAGATION_TYPE", "value": "b3"}]);
        let codes = |d: &DeploymentStatus| d.warnings.iter().map(Warning::code).collect::<Vec<_>>();
        let joined = read(&with_file(b3.clone(), "1", false), Some("propagation: b3"));
        assert_eq!(
            joined.predictors[0].components[1].propagation,
            Some(Propagation::B3)
        );
        assert!(
            !codes(&joined).contains(&"propagation-mismatch"),
            "{:?}",
            joined.warnings
        );
        let apart = read(
            &with_file(b3.clone(), "1", false),
            Some("propagation: jaeger\nenabled: false"),
        );
        assert!(codes(&apart).contains(&"propagation-mismatch"));
        assert!(codes(&apart).contains(&"enabled-ignored"));
        // The kubelet cannot mount a missing ConfigMap, whatever TRACING says.
        let gone = read(&with_file(b3.clone(), "0", false), None);
        assert_eq!(states(&gone)[1], State::Invalid);
        let bad = read(
            &with_file(b3.clone(), "1", false),
            Some("sampler: {type: remote}"),
        );
        let m = &bad.predictors[0].components[1];
        assert_eq!(m.tracing, State::Invalid);
        assert!(
            m.reason.as_deref().is_some_and(
                |r| r.contains("ConfigMap d-tracing key m.yaml: Unknown sampler type remote")
            ),
            "{:?}",
            m.reason
        );
        // Unread (the old view, e.g. while waiting for a rollout): on, from the file.
        let unread = status(&with_file(b3, "1", false), "kubectl-seldon-tracing");
        assert_eq!(
            unread.predictors[0].components[1].propagation,
            Some(Propagation::FromFile)
        );
        assert_eq!(
            unread.predictors[0].components[1]
                .config_file
                .as_ref()
                .map(|f| f.read),
            Some(false)
        );
    }
}
