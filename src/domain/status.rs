//! What tracing each component of a SeldonDeployment effectively has, read from its raw JSON.

use serde::Serialize;
use serde_json::Value;

use super::components::{self as c, Kind};
use super::env::{self, EnvValue};
use super::sampler::{self, SamplerKind};

/// Effective tracing of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    On,
    Off,
    /// Executor tracer running, but it samples nothing: remote sampler at its initial rate 0 and
    /// no agent to ask for a rate.
    Idle,
    /// Set through `valueFrom`: known only at run time.
    Unknown,
    /// A value that makes the component crash at start.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Env,
    Annotation,
    Default,
    None,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Env => "env",
            Source::Annotation => "annotation",
            Source::Default => "default",
            Source::None => "-",
        }
    }
}

/// A displayed value and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    pub value: String,
    pub source: Source,
}

impl Setting {
    fn none() -> Self {
        Setting {
            value: "-".into(),
            source: Source::None,
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
    pub agent: Setting,
    pub sampler: Setting,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictorStatus {
    pub name: String,
    pub engine: bool,
    pub components: Vec<ComponentStatus>,
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
    pub namespace: String,
    pub name: String,
    pub summary: Summary,
    /// The executor sampler shared by all predictors, `mixed`, or `-` without an executor.
    pub sampler: String,
    pub predictors: Vec<PredictorStatus>,
    pub warnings: Vec<String>,
}

/// Where the executor gets `var`: `svcOrchSpec.env` first, then a `seldon.io/engine-*` annotation.
fn executor_var(spec: &Value, p: &Value, var: &str) -> Option<(EnvValue, Source)> {
    let svc_env = p.get("svcOrchSpec").and_then(|s| s.get("env"));
    if let Some(v) = env::get(svc_env, var) {
        return Some((v, Source::Env));
    }
    c::engine_annotation(spec, var).map(|v| (EnvValue::Literal(v.to_string()), Source::Annotation))
}

/// Go's strconv.ParseBool, which the executor uses for JAEGER_DISABLED.
fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn join_sources(a: Source, b: Source) -> Source {
    if a == b || b == Source::Default {
        a
    } else if a == Source::Default {
        b
    } else {
        Source::Env
    }
}

fn agent(
    host: Option<(EnvValue, Source)>,
    port: Option<(EnvValue, Source)>,
    default_host: &str,
    default_port: &str,
) -> (Setting, Option<String>) {
    let (h, hs) = host.unwrap_or((EnvValue::Literal(default_host.into()), Source::Default));
    let (p, ps) = port.unwrap_or((EnvValue::Literal(default_port.into()), Source::Default));
    let setting = Setting {
        value: format!("{}:{}", h.display(), p.display()),
        source: join_sources(hs, ps),
    };
    (setting, p.literal().map(|s| s.trim().to_string()))
}

struct Ctx<'a> {
    deployment: &'a str,
    namespace: &'a str,
    warnings: Vec<String>,
}

impl Ctx<'_> {
    /// A plugin command line for this deployment, to paste: `kubectl seldon-tracing VERB NAME -n NS ARGS`.
    fn command(&self, verb: &str, args: &str) -> String {
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

    fn warn(&mut self, msg: String) {
        self.warnings.push(msg);
    }
}

fn executor_status(spec: &Value, p: &Value, ctx: &mut Ctx) -> ComponentStatus {
    let pname = c::predictor_name(p);
    let var = |v: &str| executor_var(spec, p, v);
    let (mut tracing, tracing_source) = match var("JAEGER_DISABLED") {
        None => (State::On, Source::Default),
        Some((EnvValue::Indirect(_), s)) => (State::Unknown, s),
        Some((EnvValue::Literal(v), s)) => match go_bool(v.trim()) {
            Some(true) => (State::Off, s),
            Some(false) => (State::On, s),
            None => {
                ctx.warn(format!(
                    "predictor {pname}: JAEGER_DISABLED={v:?} makes the executor fail at start; use true or false"
                ));
                (State::Invalid, s)
            }
        },
    };
    if env::get(p.get("svcOrchSpec").and_then(|s| s.get("env")), "TRACING").is_some() {
        ctx.warn(format!(
            "predictor {pname}: TRACING on the executor is ignored; it is switched off only by JAEGER_DISABLED=true"
        ));
    }
    let host = var("JAEGER_AGENT_HOST");
    let (agent, port) = match var("JAEGER_ENDPOINT") {
        Some((v, s)) => (
            Setting {
                value: format!("collector {}", v.display()),
                source: s,
            },
            None,
        ),
        None => agent(host.clone(), var("JAEGER_AGENT_PORT"), "localhost", "6831"),
    };
    let sampler_type = var("JAEGER_SAMPLER_TYPE");
    let sampler_param = var("JAEGER_SAMPLER_PARAM");
    let sampler = match (&sampler_type, &sampler_param) {
        (Some((EnvValue::Indirect(d), s)), _) | (_, Some((EnvValue::Indirect(d), s))) => Setting {
            value: d.clone(),
            source: *s,
        },
        (t, pa) => {
            let lit = |x: &Option<(EnvValue, Source)>| {
                x.as_ref()
                    .and_then(|(v, _)| v.literal().map(str::to_string))
            };
            let (tv, pv) = (lit(t), lit(pa));
            let source = t
                .as_ref()
                .or(pa.as_ref())
                .map_or(Source::Default, |(_, s)| *s);
            match sampler::from_env(tv.as_deref(), pv.as_deref()) {
                Some(s) => {
                    let idle = s.kind == SamplerKind::Remote
                        && s.param
                            .as_deref()
                            .is_none_or(|p| p.parse::<f64>() == Ok(0.0));
                    if idle
                        && host.is_none()
                        && var("JAEGER_SAMPLING_ENDPOINT").is_none()
                        && tracing == State::On
                    {
                        tracing = State::Idle;
                    }
                    let unset = t.is_none() && pa.is_none();
                    Setting {
                        value: if unset {
                            format!("{s} (default)")
                        } else {
                            s.to_string()
                        },
                        source,
                    }
                }
                None => {
                    ctx.warn(format!(
                        "predictor {pname}: sampler {}:{} makes the executor fail at start; set a valid one with `{}`",
                        tv.as_deref().unwrap_or("remote"),
                        pv.as_deref().unwrap_or(""),
                        ctx.command("sampler", " const:1")
                    ));
                    tracing = State::Invalid;
                    Setting {
                        value: format!(
                            "invalid ({}:{})",
                            tv.unwrap_or_default(),
                            pv.unwrap_or_default()
                        ),
                        source,
                    }
                }
            }
        }
    };
    if tracing == State::Idle {
        ctx.warn(format!(
            "predictor {pname}: the executor samples nothing: its sampler is remote with rate 0 and no JAEGER_AGENT_HOST to ask; run `{}`",
            ctx.command("enable", "")
        ));
    }
    if tracing == State::On && port.as_deref() == Some("5775") {
        ctx.warn(format!("predictor {pname}: executor {PORT_5775}"));
    }
    ComponentStatus {
        name: "executor".into(),
        kind: Kind::Executor.label(),
        tracing,
        tracing_source,
        agent,
        sampler,
    }
}

const PORT_5775: &str = "sends spans to port 5775, Jaeger's deprecated zipkin-compact port that Jaeger v2 and OpenTelemetry collectors do not open; use --agent-port 6831";

fn python_status(p: &Value, node: &c::Node, ctx: &mut Ctx) -> ComponentStatus {
    let pname = c::predictor_name(p);
    let env = node.container.and_then(|at| c::container_env(p, at));
    let get = |v: &str| env::get(env, v).map(|x| (x, Source::Env));
    let (tracing, tracing_source) = match get("TRACING") {
        None => (State::Off, Source::Default),
        Some((EnvValue::Indirect(_), s)) => (State::Unknown, s),
        Some((EnvValue::Literal(v), s)) => match v.trim().parse::<i64>() {
            Ok(0) => (State::Off, s),
            Ok(_) => (State::On, s),
            Err(_) => {
                ctx.warn(format!(
                    "predictor {pname}: TRACING={v:?} on {} crashes the Python wrapper at start; use 1 or 0",
                    node.name
                ));
                (State::Invalid, s)
            }
        },
    };
    let (agent, port) = agent(
        get("JAEGER_AGENT_HOST"),
        get("JAEGER_AGENT_PORT"),
        "0.0.0.0",
        "5775",
    );
    if tracing == State::On && port.as_deref() == Some("5775") {
        ctx.warn(format!("predictor {pname}: {} {PORT_5775}", node.name));
    }
    if get("JAEGER_SAMPLER_TYPE").is_some() || get("JAEGER_SAMPLER_PARAM").is_some() {
        ctx.warn(format!(
            "predictor {pname}: JAEGER_SAMPLER_* on {} is ignored (Python components read a sampler only from the file named by JAEGER_CONFIG_PATH)",
            node.name
        ));
    }
    let sampler = match get("JAEGER_CONFIG_PATH") {
        Some((v, s)) => Setting {
            value: format!("file {}", v.display()),
            source: s,
        },
        None => Setting {
            value: "const:1 (default)".into(),
            source: Source::Default,
        },
    };
    ComponentStatus {
        name: node.name.clone(),
        kind: node.kind.label(),
        tracing,
        tracing_source,
        agent,
        sampler,
    }
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
        agent: Setting::none(),
        sampler: Setting::none(),
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
            let cname = c::str_at(cont, &["name"]).unwrap_or("?");
            lists.push((format!("container {cname}"), cont.get("env")));
        }
    }
    for (place, list) in lists {
        if list.is_some_and(|l| !l.is_null() && !l.is_array()) {
            ctx.warn(format!(
                "predictor {pname}: env of {place} is not a list; fix it with kubectl edit"
            ));
        }
        for i in env::unnamed_entries(list) {
            ctx.warn(format!(
                "predictor {pname}: env entry #{} of {place} has no name (kept as it is)",
                i + 1
            ));
        }
    }
}

fn predictor_status(spec: &Value, p: &Value, ctx: &mut Ctx) -> PredictorStatus {
    let pname = c::predictor_name(p).to_string();
    let engine = c::has_engine(p);
    let mut components = Vec::new();
    if engine {
        components.push(executor_status(spec, p, ctx));
    } else {
        ctx.warn(format!(
            "predictor {pname}: no executor (seldon.io/no-engine): each component's own sampler decides"
        ));
    }
    if p.get("graph").is_none_or(|g| !g.is_object()) {
        ctx.warn(format!("predictor {pname}: has no graph; the object is malformed and only its executor is shown"));
    }
    for node in c::nodes(spec, p) {
        let st = if node.kind.is_python() {
            python_status(p, &node, ctx)
        } else {
            if node.kind == Kind::Unknown {
                ctx.warn(format!(
                    "predictor {pname}: graph node {} has no implementation and no container named {} in componentSpecs; the plugin cannot tell what runs it and leaves it alone",
                    node.name, node.name
                ));
            }
            other_status(node.name.clone(), &node.kind)
        };
        components.push(st);
    }
    if let Some(ex) = p.get("explainer").filter(|e| e.is_object()) {
        let kind = c::str_at(ex, &["type"]).unwrap_or("custom");
        let name = c::str_at(ex, &["containerSpec", "name"]).unwrap_or("explainer");
        components.push(other_status(
            name.into(),
            &Kind::Unsupported(format!("explainer {kind}")),
        ));
    }
    warn_unnamed(p, ctx);
    let exec = components
        .iter()
        .find(|s| s.kind == "executor")
        .map(|s| s.tracing);
    let py = components
        .iter()
        .filter(|s| s.tracing_source != Source::None && s.kind != "executor");
    for comp in py {
        match (exec, comp.tracing) {
            (Some(State::Off), State::On) => ctx.warn(format!(
                "predictor {pname}: {} is traced while the executor is disabled; its traces will start without the executor's span",
                comp.name
            )),
            (Some(State::On), State::Off) => ctx.warn(format!(
                "predictor {pname}: the executor traces but {} does not; its spans will be missing from each trace",
                comp.name
            )),
            _ => {}
        }
    }
    PredictorStatus {
        name: pname,
        engine,
        components,
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
pub fn competing_manager_warnings(obj: &Value, ours: &str) -> Vec<String> {
    let metadata = obj.get("metadata");
    let entries = metadata
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array);
    let mut warnings: Vec<String> = entries
        .into_iter()
        .flatten()
        .filter(|e| {
            let manager = c::str_at(e, &["manager"]).unwrap_or("");
            let apply = c::str_at(e, &["operation"]) == Some("Apply");
            let owns = e
                .get("fieldsV1")
                .and_then(|f| f.get("f:spec"))
                .and_then(|s| s.get("f:predictors"))
                .is_some();
            manager != ours && apply && owns
        })
        .filter_map(|e| c::str_at(e, &["manager"]))
        .map(|m| {
            format!("spec.predictors is also managed by '{m}'; its next sync or apply will revert tracing changes made with this plugin")
        })
        .collect();
    let argo_tracked = metadata
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get("argocd.argoproj.io/tracking-id"))
        .is_some();
    if argo_tracked && !warnings.iter().any(|w| w.contains("'argocd")) {
        warnings.push("tracked by Argo CD (annotation argocd.argoproj.io/tracking-id): it shows tracing changes as drift from Git, and a sync can put Git's version back; make the change in Git too".into());
    }
    warnings
}

/// Reads the whole tracing picture of one SeldonDeployment.
pub fn status(obj: &Value, field_manager: &str) -> DeploymentStatus {
    let name = c::str_at(obj, &["metadata", "name"])
        .unwrap_or("")
        .to_string();
    let namespace = c::str_at(obj, &["metadata", "namespace"])
        .unwrap_or("")
        .to_string();
    let null = Value::Null;
    let spec = obj.get("spec").unwrap_or(&null);
    let mut ctx = Ctx {
        deployment: &name,
        namespace: &namespace,
        warnings: Vec::new(),
    };
    let predictors: Vec<PredictorStatus> = match spec.get("predictors") {
        Some(Value::Array(ps)) if ps.is_empty() => {
            ctx.warn("spec.predictors is empty; there is nothing to trace".into());
            Vec::new()
        }
        Some(Value::Array(ps)) => ps
            .iter()
            .map(|p| predictor_status(spec, p, &mut ctx))
            .collect(),
        _ => {
            ctx.warn("spec.predictors is missing or not a list; the object is malformed".into());
            Vec::new()
        }
    };
    ctx.warnings
        .extend(competing_manager_warnings(obj, field_manager));
    let samplers: Vec<&str> = predictors
        .iter()
        .flat_map(|p| p.components.iter().filter(|s| s.kind == "executor"))
        .map(|s| s.sampler.value.as_str())
        .collect();
    let sampler = match samplers.split_first() {
        None => "-".to_string(),
        Some((first, rest)) if rest.iter().all(|s| s == first) => first.to_string(),
        Some(_) => "mixed".to_string(),
    };
    let warnings = ctx.warnings;
    DeploymentStatus {
        summary: summarize(&predictors),
        namespace,
        name,
        sampler,
        predictors,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            d.warnings.iter().any(|w| w.contains(
                "graph node m has no implementation and no container named m in componentSpecs"
            )),
            "{:?}",
            d.warnings
        );
        let empty = json!({"metadata": {"name": "e"}, "spec": {"predictors": []}});
        assert_eq!(
            status(&empty, "kubectl-seldon-tracing").warnings,
            ["spec.predictors is empty; there is nothing to trace"]
        );
    }

    #[test]
    fn argo_cd_tracking_is_warned_about_once() {
        let tracked = json!({"metadata": {"name": "d", "annotations": {
            "argocd.argoproj.io/tracking-id": "models:machinelearning.seldon.io/SeldonDeployment:ns/d"
        }}});
        let w = competing_manager_warnings(&tracked, "kubectl-seldon-tracing");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("tracked by Argo CD"), "{w:?}");
        // Argo CD syncing with server-side apply is already named by its manager entry.
        let mut ssa = tracked.clone();
        ssa["metadata"]["managedFields"] = json!([{
            "manager": "argocd-controller", "operation": "Apply",
            "fieldsV1": {"f:spec": {"f:predictors": {}}}
        }]);
        let w = competing_manager_warnings(&ssa, "kubectl-seldon-tracing");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("'argocd-controller'"), "{w:?}");
        let plain = json!({"metadata": {"name": "d", "annotations": {"team": "fraud"}}});
        assert!(competing_manager_warnings(&plain, "kubectl-seldon-tracing").is_empty());
    }

    #[test]
    fn an_untouched_executor_is_idle_and_counts_as_off() {
        let d = one(json!([]), json!([]), json!({}));
        assert_eq!(states(&d), [State::Idle, State::Off]);
        assert_eq!(d.summary, Summary::Off);
        assert_eq!(d.sampler, "remote (default)");
        assert!(
            d.warnings
                .iter()
                .any(|w| w.contains("samples nothing") && w.contains("enable d -n ns"))
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
        assert_eq!(
            (
                exec.tracing,
                exec.sampler.value.as_str(),
                exec.sampler.source
            ),
            (State::On, "const:1", Source::Annotation)
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
        assert!(
            d.warnings
                .iter()
                .any(|w| w.contains("TRACING=\"true\" on m crashes the Python wrapper"))
        );
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
            d.warnings
                .iter()
                .any(|w| w.contains("traced while the executor is disabled"))
        );
        assert!(d.warnings.iter().any(|w| w.contains("port 5775")));
    }
}
