//! Plans a tracing change on the raw JSON of a live SeldonDeployment: returns the complete,
//! edited `spec.predictors` (an atomic list for server-side apply) and the list of changes.
//! Only the env entries (and stub containers) the intent names are touched.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::domain::goparse;
use crate::domain::json::str_at;
use crate::domain::v1::clients as runtime;
use crate::domain::v1::clients::{Destination, EffectiveEnv, Propagation, Runtime, Verdict};
use crate::domain::v1::components as c;
use crate::domain::v1::components::Kind;
use crate::domain::v1::config_file::plugin_map as ownfile;
use crate::domain::v1::env;
use crate::domain::v1::env::{EnvEdit, EnvValue};
use crate::domain::v1::sampler::{Sampler, SamplerKind};
use crate::domain::v1::warning::Warning;

pub const DEFAULT_AGENT_PORT: u16 = 6831;

#[derive(Debug, Clone, PartialEq)]
pub enum AgentHost {
    Literal(String),
    FromNode,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Enable {
        sampler: Option<Sampler>,
        agent_host: Option<AgentHost>,
        agent_port: Option<u16>,
        /// Trace headers the executor reads and writes (`JAEGER_TRACE_PROPAGATION_TYPE`).
        propagation: Option<Propagation>,
        /// The executor's HTTP collector (`JAEGER_ENDPOINT`), already validated as the client
        /// validates it.
        collector: Option<String>,
    },
    Disable,
    Sampler(Sampler),
}

impl Intent {
    /// `enable` without options: the defaults for everything not set.
    pub fn enable() -> Intent {
        Intent::Enable {
            sampler: None,
            agent_host: None,
            agent_port: None,
            propagation: None,
            collector: None,
        }
    }

    /// Past-tense verb for result lines (`tracing enabled`).
    pub fn done(&self) -> &'static str {
        match self {
            Intent::Enable { .. } => "tracing enabled",
            Intent::Disable => "tracing disabled",
            Intent::Sampler(_) => "sampler set",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub predictor: String,
    pub component: String,
    /// Env variable name, or None for an added stub container.
    pub var: Option<String>,
    /// The value before (a string, or `{valueFrom}`); None when the variable was absent.
    pub before: Option<EnvValue>,
    /// The value after; None when the variable is removed.
    pub after: Option<EnvValue>,
}

impl Change {
    /// One diff line: `+ VAR=v`, `- VAR=v`, `~ VAR: a -> b`, or the stub container.
    pub fn diff_line(&self) -> String {
        let at = format!("{}/{}", self.predictor, self.component);
        let before = self.before.as_ref().map(EnvValue::display);
        let after = self.after.as_ref().map(EnvValue::display);
        match (&self.var, &before, &after) {
            (None, _, _) => format!("+ {at}: stub container (env only) for the prepackaged server"),
            (Some(v), None, Some(a)) => format!("+ {at}: {v}={a}"),
            (Some(v), Some(b), None) => format!("- {at}: {v}={b}"),
            (Some(v), Some(b), Some(a)) => format!("~ {at}: {v}: {b} -> {a}"),
            (Some(v), None, None) => format!("~ {at}: {v}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub predictors: Value,
    pub changes: Vec<Change>,
    pub warnings: Vec<Warning>,
    /// Files of the plugin's ConfigMap the new predictors read that it must hold: (key,
    /// content). Written before the object (see `ownfile`).
    pub files: Vec<(String, String)>,
}

fn edit_value(edit: &EnvEdit) -> Option<EnvValue> {
    match edit {
        EnvEdit::Set(v) => Some(EnvValue::Literal(v.clone())),
        EnvEdit::FromNodeIp => Some(EnvValue::Indirect(
            json!({"fieldRef": {"fieldPath": "status.hostIP"}}),
        )),
        EnvEdit::Remove => None,
    }
}

/// Applies `edits` to `holder.env` and records the changes. `holder` is created only when
/// something changes, so a no-op plan leaves the object byte-for-byte as it was.
fn edit_env(
    holder: &mut Value,
    edits: &[(&str, EnvEdit)],
    predictor: &str,
    component: &str,
    place: &str,
    changes: &mut Vec<Change>,
) -> Result<(), String> {
    let mut env_list = holder.get("env").cloned().unwrap_or(Value::Null);
    let mut changed = false;
    for (var, edit) in edits {
        let before = env::get(Some(&env_list), var);
        if env::apply(&mut env_list, var, edit).map_err(|e| format!("{place}: {e}"))? {
            changed = true;
            changes.push(Change {
                predictor: predictor.into(),
                component: component.into(),
                var: Some((*var).into()),
                before,
                after: edit_value(edit),
            });
        }
    }
    if changed {
        if holder.is_null() {
            *holder = Value::Object(Map::new());
        }
        let obj = holder
            .as_object_mut()
            .ok_or_else(|| format!("{place} is not an object"))?;
        obj.insert("env".into(), env_list);
    }
    Ok(())
}

fn host_edit(intent_host: &Option<AgentHost>, present: bool) -> Option<EnvEdit> {
    match intent_host {
        Some(AgentHost::Literal(h)) => Some(EnvEdit::Set(h.clone())),
        Some(AgentHost::FromNode) => Some(EnvEdit::FromNodeIp),
        None if present => None,
        None => Some(EnvEdit::FromNodeIp),
    }
}

fn port_edit(port: Option<u16>, present: bool) -> Option<EnvEdit> {
    match port {
        Some(p) => Some(EnvEdit::Set(p.to_string())),
        None if present => None,
        None => Some(EnvEdit::Set(DEFAULT_AGENT_PORT.to_string())),
    }
}

fn sampler_edits(s: &Sampler) -> Vec<(&'static str, EnvEdit)> {
    vec![
        ("JAEGER_SAMPLER_TYPE", EnvEdit::Set(s.kind.as_str().into())),
        (
            "JAEGER_SAMPLER_PARAM",
            s.param.clone().map_or(EnvEdit::Remove, EnvEdit::Set),
        ),
    ]
}

/// Takes `var` out of the executor's effective env: removed from env, or, when a
/// `seldon.io/engine-*` annotation would then supply it, set in env (which wins) to `neutral`.
fn unset(spec: &Value, var: &str, neutral: &str) -> EnvEdit {
    if c::engine_annotation(spec, var).is_some() {
        EnvEdit::Set(neutral.into())
    } else {
        EnvEdit::Remove
    }
}

/// `JAEGER_TAGS` with the stamp `traces` finds a deployment's traces by (process tags
/// `seldon.deployment`, `seldon.predictor`, which outlive pods), merged into the executor's
/// effective value (env, else a `seldon.io/engine-*` annotation) without dropping any of its
/// items; None when that value is a `valueFrom` (not mergeable) or the object has no name.
fn stamp(spec: &Value, p: &Value, sdep: Option<&str>) -> Option<String> {
    let sdep = sdep.filter(|s| !s.is_empty())?;
    let current = match EffectiveEnv::executor(spec, p).get("JAEGER_TAGS") {
        None => None,
        Some(v) => Some(v.value.literal()?.to_string()),
    };
    Some(crate::domain::v1::stamp::stamped(
        current.as_deref(),
        sdep,
        c::predictor_name(p),
    ))
}

/// The executor's edits: its env wins over `seldon.io/engine-*` annotations, so a value set only
/// by annotation counts as present, and "off" set by annotation is overridden in env.
fn executor_edits(spec: &Value, p: &Value, intent: &Intent) -> Vec<(&'static str, EnvEdit)> {
    let effective = EffectiveEnv::executor(spec, p);
    let present = |v: &str| effective.get(v).is_some();
    let mut edits = Vec::new();
    match intent {
        Intent::Enable {
            sampler,
            agent_host,
            agent_port,
            propagation,
            collector,
        } => {
            let annotation_off = c::engine_annotation(spec, "JAEGER_DISABLED")
                .is_some_and(|v| goparse::parse_bool(v) != Ok(false));
            let off = if annotation_off {
                EnvEdit::Set("false".into())
            } else {
                EnvEdit::Remove
            };
            edits.push(("JAEGER_DISABLED", off));
            // FromEnv prefers a non-empty JAEGER_ENDPOINT to the agent: asking for an agent
            // host or port means spans go to the agent again.
            let endpoint = effective
                .get("JAEGER_ENDPOINT")
                .filter(|v| v.value.literal() != Some(""));
            let has_endpoint = endpoint.is_some();
            // A literal URL the client refuses or cannot post to is replaced by the agent.
            let unusable = endpoint
                .and_then(|v| v.value.literal())
                .is_some_and(|url| !runtime::usable_collector(url));
            let wants_agent = agent_host.is_some() || agent_port.is_some();
            let to_collector = match collector {
                Some(url) => {
                    edits.push(("JAEGER_ENDPOINT", EnvEdit::Set(url.clone())));
                    true
                }
                None if has_endpoint && (wants_agent || unusable) => {
                    edits.push(("JAEGER_ENDPOINT", unset(spec, "JAEGER_ENDPOINT", "")));
                    false
                }
                None => has_endpoint,
            };
            if !to_collector {
                if let Some(e) = host_edit(agent_host, present("JAEGER_AGENT_HOST")) {
                    edits.push(("JAEGER_AGENT_HOST", e));
                }
                if let Some(e) = port_edit(*agent_port, present("JAEGER_AGENT_PORT")) {
                    edits.push(("JAEGER_AGENT_PORT", e));
                }
            }
            match propagation {
                Some(Propagation::B3) => {
                    edits.push(("JAEGER_TRACE_PROPAGATION_TYPE", EnvEdit::Set("b3".into())))
                }
                Some(_) => edits.push((
                    "JAEGER_TRACE_PROPAGATION_TYPE",
                    unset(spec, "JAEGER_TRACE_PROPAGATION_TYPE", "jaeger"),
                )),
                None => {}
            }
            match sampler {
                Some(s) => edits.extend(sampler_edits(s)),
                None if present("JAEGER_SAMPLER_TYPE") || present("JAEGER_SAMPLER_PARAM") => {}
                None => edits.extend(sampler_edits(&Sampler::const_on())),
            }
        }
        Intent::Disable => edits.push(("JAEGER_DISABLED", EnvEdit::Set("true".into()))),
        Intent::Sampler(s) => edits.extend(sampler_edits(s)),
    }
    if !matches!(intent, Intent::Sampler(_)) {
        repair(spec, p, intent, &mut edits);
    }
    edits
}

/// What the executor would do with `edits` applied on top of what it gets now.
fn simulate(spec: &Value, p: &Value, edits: &[(&'static str, EnvEdit)]) -> Runtime {
    let mut trial = p.clone();
    let mut list = trial
        .get("svcOrchSpec")
        .and_then(|s| s.get("env"))
        .cloned()
        .unwrap_or(Value::Null);
    for (var, edit) in edits {
        let _ = env::apply(&mut list, var, edit);
    }
    if let Some(obj) = trial.as_object_mut() {
        obj.insert("svcOrchSpec".into(), json!({"env": list}));
    }
    runtime::executor(&EffectiveEnv::executor(spec, &trial))
}

/// Keeps replacing the values this plugin owns until the real client would do what the intent
/// says: `enable` ends `on` (a sampler that samples nothing becomes const:1, a value the client
/// refuses is replaced, a port spans cannot go to becomes 6831), `disable` ends `off` (FromEnv
/// still parses every value of a disabled executor). Values it does not own are left for the
/// user, and status names them.
fn repair(spec: &Value, p: &Value, intent: &Intent, edits: &mut Vec<(&'static str, EnvEdit)>) {
    let enable = matches!(intent, Intent::Enable { .. });
    for _ in 0..6 {
        let rt = simulate(spec, p, edits);
        let endpoint = || vec![("JAEGER_ENDPOINT", unset(spec, "JAEGER_ENDPOINT", ""))];
        let fix: Vec<(&'static str, EnvEdit)> = match &rt.verdict {
            // Sampled but undeliverable: a collector URL Go cannot post to goes (spans then go
            // to the agent), else the port is made usable.
            Verdict::Idle(_) if enable && rt.samples => match &rt.destination {
                Destination::Collector { .. } => endpoint(),
                _ => vec![(
                    "JAEGER_AGENT_PORT",
                    EnvEdit::Set(DEFAULT_AGENT_PORT.to_string()),
                )],
            },
            Verdict::Idle(_) if enable => sampler_edits(&Sampler::const_on()),
            Verdict::Invalid(r) => match r.var.as_str() {
                "JAEGER_SAMPLER_TYPE" | "JAEGER_SAMPLER_PARAM" if enable => {
                    sampler_edits(&Sampler::const_on())
                }
                "JAEGER_SAMPLER_PARAM" => vec![("JAEGER_SAMPLER_PARAM", EnvEdit::Remove)],
                "JAEGER_AGENT_PORT" => {
                    vec![(
                        "JAEGER_AGENT_PORT",
                        EnvEdit::Set(DEFAULT_AGENT_PORT.to_string()),
                    )]
                }
                "JAEGER_AGENT_HOST" => vec![("JAEGER_AGENT_HOST", EnvEdit::FromNodeIp)],
                // FromEnv parses it even when tracing is disabled.
                "JAEGER_ENDPOINT" => endpoint(),
                "JAEGER_DISABLED" => vec![(
                    "JAEGER_DISABLED",
                    EnvEdit::Set(if enable { "false" } else { "true" }.into()),
                )],
                _ => return,
            },
            _ => return,
        };
        let before = edits.clone();
        for (var, edit) in fix {
            match edits.iter_mut().find(|(v, _)| *v == var) {
                Some(slot) => slot.1 = edit,
                None => edits.push((var, edit)),
            }
        }
        if *edits == before {
            return;
        }
    }
}

fn component_edits(env: Option<&Value>, intent: &Intent) -> Vec<(&'static str, EnvEdit)> {
    let present = |v: &str| env::get(env, v).is_some();
    match intent {
        Intent::Enable {
            agent_host,
            agent_port,
            ..
        } => {
            let mut edits = vec![("TRACING", EnvEdit::Set("1".into()))];
            if let Some(e) = host_edit(agent_host, present("JAEGER_AGENT_HOST")) {
                edits.push(("JAEGER_AGENT_HOST", e));
            }
            if let Some(e) = port_edit(*agent_port, present("JAEGER_AGENT_PORT")) {
                edits.push(("JAEGER_AGENT_PORT", e));
            }
            edits
        }
        Intent::Disable => vec![("TRACING", EnvEdit::Set("0".into()))],
        Intent::Sampler(_) => Vec::new(),
    }
}

/// `componentSpecs[si].spec.containers[ci]` of predictor `p`, mutably.
fn container_mut(p: &mut Value, (si, ci): (usize, usize)) -> Option<&mut Value> {
    p.get_mut("componentSpecs")?
        .get_mut(si)?
        .get_mut("spec")?
        .get_mut("containers")?
        .get_mut(ci)
}

/// Appends a stub container `{name, env}` to `componentSpecs[0].spec.containers`, creating the
/// path when absent: the place the operator itself would add the container.
fn add_stub(p: &mut Value, stub: Value) -> Result<(), String> {
    let obj = p.as_object_mut().ok_or("predictor is not an object")?;
    let specs = obj.entry("componentSpecs").or_insert_with(|| json!([]));
    let specs = specs.as_array_mut().ok_or("componentSpecs is not a list")?;
    if specs.is_empty() {
        specs.push(json!({"spec": {"containers": []}}));
    }
    let spec = specs[0]
        .as_object_mut()
        .ok_or("componentSpecs[0] is not an object")?
        .entry("spec")
        .or_insert_with(|| json!({}));
    let containers = spec
        .as_object_mut()
        .ok_or("componentSpecs[0].spec is not an object")?
        .entry("containers")
        .or_insert_with(|| json!([]));
    containers
        .as_array_mut()
        .ok_or("componentSpecs[0].spec.containers is not a list")?
        .push(stub);
    Ok(())
}

/// What `intent` asks of Python components' own files: B3 headers (Some(true)) or Jaeger ones
/// (Some(false)), and the sampler of the traces they start, which decides only where no
/// executor starts them (`seldon.io/no-engine`).
fn file_intent(intent: &Intent, engine: bool) -> (Option<bool>, Option<Sampler>) {
    match intent {
        Intent::Enable {
            propagation,
            sampler,
            ..
        } => (
            propagation.map(|p| p == Propagation::B3),
            // `enable` ends on, as for the executor: a sampler that samples nothing is const:1.
            sampler.clone().filter(|_| !engine).map(|s| {
                let zero = s
                    .param
                    .as_deref()
                    .and_then(|p| p.trim().parse::<f64>().ok())
                    == Some(0.0);
                if zero && s.kind != SamplerKind::Remote {
                    Sampler::const_on()
                } else {
                    s
                }
            }),
        ),
        Intent::Sampler(s) if !engine => (None, Some(s.clone())),
        _ => (None, None),
    }
}

/// Where one component's own file stands and what it needs.
struct FileJob<'a> {
    predictor: &'a str,
    component: &'a str,
    config_map: &'a str,
    own: Option<&'a std::collections::BTreeMap<String, String>>,
    b3: Option<bool>,
    sampler: Option<Sampler>,
    repair: bool,
}

/// Gives the container at `pos` of `target` the plugin's file its settings need: the file
/// (returned as key and content), `JAEGER_CONFIG_PATH` and the mount. A container reading a file
/// of the user's is never changed: a warning says what to set in it.
fn plan_file(
    job: &FileJob,
    target: &mut Value,
    pos: (usize, usize),
    changes: &mut Vec<Change>,
    warnings: &mut Vec<Warning>,
) -> Result<Option<(String, String)>, String> {
    let (pod, container) = match (
        target.pointer(&format!("/componentSpecs/{}/spec", pos.0)),
        c::container_at(target, pos),
    ) {
        (Some(pod), Some(container)) => (pod, container),
        _ => return Ok(None),
    };
    let path_now = env::get(container.get("env"), "JAEGER_CONFIG_PATH");
    let ours = ownfile::own_key(pod, container, job.config_map);
    let asked = job.b3.is_some() || job.sampler.is_some();
    if ours.is_none() && path_now.is_some() {
        if asked {
            let mut want = Vec::new();
            if job.b3 == Some(true) {
                want.push("`propagation: b3`".to_string());
            }
            if let Some(s) = &job.sampler {
                want.push(format!("the sampler {s}"));
            }
            warnings.push(Warning::UserConfigFile {
                predictor: job.predictor.into(),
                component: job.component.into(),
                path: path_now.map(|v| v.display()).unwrap_or_default(),
                want: want.join(" and "),
            });
        }
        return Ok(None);
    }
    if !(asked || job.repair && ours.is_some()) {
        return Ok(None);
    }
    let current = ours
        .as_ref()
        .and_then(|k| job.own.and_then(|d| d.get(k)))
        .and_then(|text| ownfile::OwnFileSettings::parse(text));
    let mut new = current.clone().unwrap_or_default();
    if let Some(b3) = job.b3 {
        new.b3 = b3;
    }
    if let Some(s) = &job.sampler {
        new.sampler = Sampler {
            kind: s.kind,
            // The Python client's remote sampler has no initial rate.
            param: s.param.clone().filter(|_| s.kind != SamplerKind::Remote),
        };
    }
    if ours.is_none() && new.render() == ownfile::OwnFileSettings::default().render() {
        return Ok(None);
    }
    let content = new.render();
    let key = ownfile::key(job.predictor, job.component, &content);
    if ours.as_deref() == Some(key.as_str()) && current.is_some() {
        return Ok(None);
    }
    let place = |e: String| format!("container {}: {e}", job.component);
    let holder = container_mut(target, pos).ok_or_else(|| place("missing".into()))?;
    edit_env(
        holder,
        &[("JAEGER_CONFIG_PATH", EnvEdit::Set(ownfile::path(&key)))],
        job.predictor,
        job.component,
        &place("env".into()),
        changes,
    )?;
    if ownfile::add_mount(holder).map_err(place)? {
        changes.push(Change {
            predictor: job.predictor.into(),
            component: job.component.into(),
            var: Some("volumeMount".into()),
            before: None,
            after: Some(EnvValue::Literal(format!(
                "{} (ConfigMap {}, read-only)",
                ownfile::MOUNT_PATH,
                job.config_map
            ))),
        });
    }
    let pod = target
        .pointer_mut(&format!("/componentSpecs/{}/spec", pos.0))
        .ok_or_else(|| place("pod spec missing".into()))?;
    ownfile::add_volume(pod, job.config_map).map_err(place)?;
    changes.push(Change {
        predictor: job.predictor.into(),
        component: job.component.into(),
        var: Some("config file".into()),
        before: current.map(|s| EnvValue::Literal(s.describe())),
        after: Some(EnvValue::Literal(new.describe())),
    });
    Ok(Some((key, content)))
}

/// Whether planning `intent` on `obj` may read or write the plugin's ConfigMap: it asks
/// something of Python components' own files, or (`enable`) the object already reads one,
/// which enable repairs when its key is gone.
pub fn touches_own_files(obj: &Value, intent: &Intent, only: &[String]) -> bool {
    let predictors = obj.pointer("/spec/predictors").and_then(Value::as_array);
    let asks = predictors.into_iter().flatten().any(|p| {
        let addressed = only.is_empty() || only.iter().any(|o| o == c::predictor_name(p));
        let (b3, sampler) = file_intent(intent, c::has_engine(p));
        addressed && (b3.is_some() || sampler.is_some())
    });
    asks || (matches!(intent, Intent::Enable { .. }) && !ownfile::referenced_keys(obj).is_empty())
}

/// Drops the `user-config-file` warnings a user's own file already answers: the change asks
/// only for headers, and the file (read from `files`, the ConfigMaps the object mounts) already
/// says them. A file that could not be read keeps its warning.
pub fn drop_answered_user_files(
    obj: &Value,
    intent: &Intent,
    files: &crate::domain::v1::config_file::mount::ConfigMaps,
    warnings: &mut Vec<Warning>,
) {
    let ns = str_at(obj, &["metadata", "namespace"]).unwrap_or("");
    let null = Value::Null;
    let spec = obj.get("spec").unwrap_or(&null);
    let predictors = spec.get("predictors").and_then(Value::as_array);
    warnings.retain(|w| {
        let Warning::UserConfigFile {
            predictor,
            component,
            ..
        } = w
        else {
            return true;
        };
        let Some(p) = predictors
            .into_iter()
            .flatten()
            .find(|p| c::predictor_name(p) == predictor)
        else {
            return true;
        };
        let (b3, sampler) = file_intent(intent, c::has_engine(p));
        let (Some(b3), None) = (b3, sampler) else {
            return true;
        };
        let Some((_, place)) = c::nodes(spec, p)
            .into_iter()
            .find(|n| n.name == *component)
            .and_then(|n| n.container)
            .and_then(|at| crate::domain::v1::config_file::mount::place_at(p, at))
        else {
            return true;
        };
        match crate::domain::v1::config_file::mount::file(files, ns, &place) {
            crate::domain::v1::config_file::mount::File::Text { text, .. } => {
                match crate::domain::v1::config_file::python::load(&text, None) {
                    crate::domain::v1::config_file::python::Startup::Settings(s) => s.b3 != b3,
                    _ => true,
                }
            }
            _ => true,
        }
    });
}

/// Plans `intent` for the predictors named in `only` (all when empty), as if the plugin's
/// ConfigMap held no file.
pub fn plan(obj: &Value, intent: &Intent, only: &[String]) -> Result<Plan, String> {
    plan_with(obj, intent, only, None)
}

/// [`plan`] with the data of the plugin's ConfigMap for the object (None: it does not exist).
pub fn plan_with(
    obj: &Value,
    intent: &Intent,
    only: &[String],
    own: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<Plan, String> {
    let null = Value::Null;
    let spec = obj.get("spec").unwrap_or(&null);
    let live = spec
        .get("predictors")
        .and_then(Value::as_array)
        .ok_or("spec.predictors is missing or not a list")?;
    if live.is_empty() {
        return Err(
            "has no predictors: Seldon runs nothing for it; add one to spec.predictors".into(),
        );
    }
    let names: Vec<&str> = live.iter().map(c::predictor_name).collect();
    for want in only {
        if !names.contains(&want.as_str()) {
            return Err(format!(
                "has no predictor '{want}' (it has: {})",
                names.join(", ")
            ));
        }
    }
    let mut out = live.clone();
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    let mut files = Vec::new();
    let config_map = ownfile::config_map_name(str_at(obj, &["metadata", "name"]).unwrap_or(""));
    for (i, p) in live.iter().enumerate() {
        let pname = c::predictor_name(p);
        if !only.is_empty() && !only.iter().any(|o| o == pname) {
            continue;
        }
        let at = |what: &str| format!("spec.predictors[{i}] ({pname}) {what}");
        let target = &mut out[i];
        if c::has_engine(p) {
            let mut edits = executor_edits(spec, p, intent);
            // The stamp rides along with a change: an executor already as asked is not rolled
            // only to gain it.
            let env_now = p.get("svcOrchSpec").and_then(|s| s.get("env"));
            let mut probe = env_now.cloned().unwrap_or(Value::Null);
            let changes_env = edits
                .iter()
                .any(|(var, edit)| env::apply(&mut probe, var, edit).unwrap_or(false));
            if matches!(intent, Intent::Enable { .. })
                && changes_env
                && let Some(tags) = stamp(spec, p, str_at(obj, &["metadata", "name"]))
            {
                edits.push(("JAEGER_TAGS", EnvEdit::Set(tags)));
            }
            let holder = target
                .as_object_mut()
                .ok_or_else(|| at("is not an object"))?
                .entry("svcOrchSpec")
                .or_insert(Value::Null);
            edit_env(
                holder,
                &edits,
                pname,
                "executor",
                &at("svcOrchSpec.env"),
                &mut changes,
            )?;
        }
        if p.get("graph").is_none_or(|g| !g.is_object()) {
            warnings.push(Warning::NoGraph {
                predictor: pname.into(),
                planned: true,
            });
        }
        let (want_b3, want_sampler) = file_intent(intent, c::has_engine(p));
        let mut sampled = 0;
        for node in c::nodes(spec, p) {
            if !node.kind.is_python() {
                continue;
            }
            let pos = match node.container {
                Some(pos) => {
                    let env_now = c::container_env(p, pos);
                    let edits = component_edits(env_now, intent);
                    let place = at(&format!("container {} env", node.name));
                    let holder = container_mut(target, pos).ok_or_else(|| place.clone())?;
                    edit_env(holder, &edits, pname, &node.name, &place, &mut changes)?;
                    Some(pos)
                }
                None if matches!(intent, Intent::Enable { .. })
                    && matches!(node.kind, Kind::Prepackaged(_)) =>
                {
                    changes.push(Change {
                        predictor: pname.into(),
                        component: node.name.clone(),
                        var: None,
                        before: None,
                        after: None,
                    });
                    let mut stub = json!({"name": node.name});
                    let edits = component_edits(None, intent);
                    edit_env(&mut stub, &edits, pname, &node.name, "stub", &mut changes)?;
                    add_stub(target, stub).map_err(|e| at(&e))?;
                    // The stub is the last container of componentSpecs[0].
                    target
                        .pointer("/componentSpecs/0/spec/containers")
                        .and_then(Value::as_array)
                        .map(|cs| (0, cs.len() - 1))
                }
                None => None,
            };
            let Some(pos) = pos else { continue };
            let job = FileJob {
                predictor: pname,
                component: &node.name,
                config_map: &config_map,
                own,
                b3: want_b3,
                sampler: want_sampler.clone(),
                repair: matches!(intent, Intent::Enable { .. }),
            };
            if want_sampler.is_some() {
                sampled += 1;
            }
            if let Some(file) =
                plan_file(&job, target, pos, &mut changes, &mut warnings).map_err(|e| at(&e))?
            {
                files.push(file);
            }
        }
        if matches!(intent, Intent::Sampler(_)) && !c::has_engine(p) && sampled == 0 {
            warnings.push(Warning::NoEngine {
                predictor: pname.into(),
                sampler: true,
            });
        }
    }
    Ok(Plan {
        predictors: Value::Array(out),
        changes,
        warnings,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enable() -> Intent {
        Intent::enable()
    }

    fn sdep(executor_env: Value) -> Value {
        json!({"metadata": {"name": "iris"}, "spec": {"predictors": [{
            "name": "default",
            "graph": {"name": "classifier", "type": "MODEL"},
            "componentSpecs": [{"spec": {"containers": [{"name": "classifier", "image": "m:1",
                "env": [{"name": "TRACING", "value": "1"}, {"name": "JAEGER_AGENT_HOST", "value": "a"}, {"name": "JAEGER_AGENT_PORT", "value": "6831"}]}]}}],
            "svcOrchSpec": {"env": executor_env}
        }]}})
    }

    fn executor_tags(plan: &Plan) -> Option<String> {
        env::get(
            plan.predictors[0].pointer("/svcOrchSpec/env"),
            "JAEGER_TAGS",
        )
        .and_then(|v| v.literal().map(str::to_string))
    }

    #[test]
    fn enable_stamps_the_executor_only_along_with_a_change_keeping_user_tags() {
        let fresh = plan(
            &sdep(json!([{"name": "JAEGER_TAGS", "value": "team=fraud"}])),
            &enable(),
            &[],
        )
        .unwrap();
        assert_eq!(
            executor_tags(&fresh).as_deref(),
            Some("team=fraud,seldon.deployment=iris,seldon.predictor=default")
        );
        // Already as asked: nothing to change, so no rollout only for the stamp.
        let on = json!([
            {"name": "JAEGER_AGENT_HOST", "value": "a"},
            {"name": "JAEGER_AGENT_PORT", "value": "6831"},
            {"name": "JAEGER_SAMPLER_TYPE", "value": "const"},
            {"name": "JAEGER_SAMPLER_PARAM", "value": "1"}
        ]);
        let quiet = plan(&sdep(on), &enable(), &[]).unwrap();
        assert!(quiet.changes.is_empty(), "{:?}", quiet.changes);
        // A valueFrom cannot be merged into: left alone.
        let from = json!([{"name": "JAEGER_TAGS", "valueFrom": {"configMapKeyRef": {"name": "t", "key": "k"}}}]);
        let p = plan(&sdep(from), &enable(), &[]).unwrap();
        assert!(
            p.changes
                .iter()
                .all(|c| c.var.as_deref() != Some("JAEGER_TAGS"))
        );
        // disable and sampler never stamp.
        let off = plan(&sdep(json!([])), &Intent::Disable, &[]).unwrap();
        assert_eq!(executor_tags(&off), None);
    }

    fn with_b3(b3: Option<Propagation>) -> Intent {
        Intent::Enable {
            sampler: None,
            agent_host: None,
            agent_port: None,
            propagation: b3,
            collector: None,
        }
    }

    /// The object with `plan`'s predictors, and the plugin's ConfigMap holding `plan`'s files.
    fn applied(obj: &Value, plan: &Plan) -> (Value, std::collections::BTreeMap<String, String>) {
        let mut after = obj.clone();
        after["spec"]["predictors"] = plan.predictors.clone();
        let data = ownfile::desired_data(obj, &after, &plan.files, None);
        (after, data)
    }

    fn model_env(obj: &Value, var: &str) -> Option<String> {
        env::get(
            obj.pointer("/spec/predictors/0/componentSpecs/0/spec/containers/0/env"),
            var,
        )
        .and_then(|v| v.literal().map(str::to_string))
    }

    #[test]
    fn b3_gives_python_components_the_plugins_file_once_and_jaeger_takes_it_back() {
        let obj = sdep(json!([]));
        let p = plan_with(&obj, &with_b3(Some(Propagation::B3)), &[], None).unwrap();
        assert_eq!(p.files.len(), 1);
        let (key, content) = &p.files[0];
        assert!(content.contains("propagation: b3") && content.contains("type: const"));
        let (after, data) = applied(&obj, &p);
        assert_eq!(
            model_env(&after, "JAEGER_CONFIG_PATH"),
            Some(ownfile::path(key))
        );
        let pod = after
            .pointer("/spec/predictors/0/componentSpecs/0/spec")
            .unwrap();
        assert_eq!(
            pod["volumes"],
            json!([{"name": "seldon-tracing", "configMap": {"name": "iris-tracing"}}])
        );
        assert_eq!(
            pod["containers"][0]["volumeMounts"],
            json!([{"name": "seldon-tracing", "mountPath": "/etc/seldon-tracing", "readOnly": true}])
        );
        assert!(
            p.changes
                .iter()
                .any(|c| c.var.as_deref() == Some("config file"))
        );
        // The same again changes nothing; the file is read back from the ConfigMap.
        let again = plan_with(&after, &with_b3(Some(Propagation::B3)), &[], Some(&data)).unwrap();
        assert!(
            again.changes.is_empty() && again.files.is_empty(),
            "{:?}",
            again.changes
        );
        // Jaeger headers: a new file (new key), the mount stays; both keys kept until the next change.
        let back = plan_with(
            &after,
            &with_b3(Some(Propagation::Jaeger)),
            &[],
            Some(&data),
        )
        .unwrap();
        assert_eq!(back.files.len(), 1);
        assert!(!back.files[0].1.contains("propagation"));
        let (later, _) = applied(&after, &back);
        let kept = ownfile::desired_data(&after, &later, &back.files, Some(&data));
        assert_eq!(kept.len(), 2);
        // disable sets TRACING=0 and leaves file and mount; enable reuses them.
        let off = plan_with(&later, &Intent::Disable, &[], Some(&kept)).unwrap();
        assert!(off.files.is_empty());
        let (off_obj, _) = applied(&later, &off);
        assert_eq!(
            model_env(&off_obj, "JAEGER_CONFIG_PATH"),
            model_env(&later, "JAEGER_CONFIG_PATH")
        );
        assert_eq!(model_env(&off_obj, "TRACING").as_deref(), Some("0"));
    }

    #[test]
    fn a_users_own_file_is_never_rewritten_and_no_engine_samplers_go_to_files() {
        let mut obj = sdep(json!([]));
        obj["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"][0]["env"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "JAEGER_CONFIG_PATH", "value": "/etc/jaeger/config.yaml"}));
        let p = plan_with(&obj, &with_b3(Some(Propagation::B3)), &[], None).unwrap();
        assert!(p.files.is_empty());
        assert!(
            p.warnings.iter().any(|w| w.code() == "user-config-file"),
            "{:?}",
            p.warnings
        );
        let mut alone = sdep(json!([]));
        alone["spec"]["predictors"][0]["annotations"] = json!({"seldon.io/no-engine": "true"});
        let s: Sampler = "probabilistic:0.01".parse().unwrap();
        let p = plan_with(&alone, &Intent::Sampler(s.clone()), &[], None).unwrap();
        assert_eq!(p.files.len(), 1);
        assert!(p.files[0].1.contains("type: probabilistic\n  param: 0.01"));
        assert!(!p.warnings.iter().any(|w| w.code() == "no-engine"));
        // With an executor, its sampler decides: the components' files are not touched.
        let p = plan_with(&sdep(json!([])), &Intent::Sampler(s), &[], None).unwrap();
        assert!(p.files.is_empty());
    }

    #[test]
    fn a_users_file_that_already_says_b3_needs_no_warning() {
        use crate::domain::v1::config_file::mount::{ConfigMap, ConfigMaps};
        let mut obj = sdep(json!([]));
        obj["metadata"]["namespace"] = json!("ns");
        let pod = &mut obj["spec"]["predictors"][0]["componentSpecs"][0]["spec"];
        pod["volumes"] = json!([{"name": "cfg", "configMap": {"name": "user-cfg"}}]);
        pod["containers"][0]["volumeMounts"] = json!([{"name": "cfg", "mountPath": "/etc/jaeger"}]);
        pod["containers"][0]["env"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "JAEGER_CONFIG_PATH", "value": "/etc/jaeger/config.yaml"}));
        let intent = with_b3(Some(Propagation::B3));
        let judged = |text: &str| {
            let mut maps = ConfigMaps::new();
            maps.insert(
                "ns",
                "user-cfg",
                ConfigMap::from_object(&json!({"data": {"config.yaml": text}})),
            );
            let mut warnings = plan_with(&obj, &intent, &[], None).unwrap().warnings;
            drop_answered_user_files(&obj, &intent, &maps, &mut warnings);
            warnings
                .iter()
                .filter(|w| w.code() == "user-config-file")
                .count()
        };
        assert_eq!(
            judged("propagation: b3\nsampler: {type: const, param: 1}"),
            0
        );
        assert_eq!(judged("sampler: {type: const, param: 1}"), 1);
        let mut unread = plan_with(&obj, &intent, &[], None).unwrap().warnings;
        drop_answered_user_files(&obj, &intent, &ConfigMaps::unread(), &mut unread);
        assert_eq!(
            unread
                .iter()
                .filter(|w| w.code() == "user-config-file")
                .count(),
            1
        );
    }

    #[test]
    fn a_prepackaged_stub_gets_the_mount_in_component_specs_0() {
        let obj = json!({"metadata": {"name": "sk"}, "spec": {"predictors": [{
            "name": "default",
            "graph": {"name": "clf", "implementation": "SKLEARN_SERVER", "modelUri": "gs://m"},
        }]}});
        let p = plan_with(&obj, &with_b3(Some(Propagation::B3)), &[], None).unwrap();
        let pod = &p.predictors[0]["componentSpecs"][0]["spec"];
        assert_eq!(pod["containers"][0]["name"], "clf");
        assert_eq!(
            pod["containers"][0]["volumeMounts"][0]["name"],
            "seldon-tracing"
        );
        assert_eq!(pod["volumes"][0]["configMap"]["name"], "sk-tracing");
        assert_eq!(p.files.len(), 1);
    }
}
