//! Plans a tracing change on the raw JSON of a live SeldonDeployment: returns the complete,
//! edited `spec.predictors` (an atomic list for server-side apply) and the list of changes.
//! Only the env entries (and stub containers) the intent names are touched.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::components::{self as c, Kind};
use super::env::{self, EnvEdit, EnvValue};
use super::goparse;
use super::runtime::{self, Destination, EffectiveEnv, Propagation, Runtime, Verdict};
use super::sampler::Sampler;
use super::warning::Warning;

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
    Some(super::trace::stamped(
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

/// Plans `intent` for the predictors named in `only` (all when empty).
pub fn plan(obj: &Value, intent: &Intent, only: &[String]) -> Result<Plan, String> {
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
                && let Some(tags) = stamp(spec, p, c::str_at(obj, &["metadata", "name"]))
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
        } else if matches!(intent, Intent::Sampler(_)) {
            warnings.push(Warning::NoEngine {
                predictor: pname.into(),
                sampler: true,
            });
        }
        if p.get("graph").is_none_or(|g| !g.is_object()) {
            warnings.push(Warning::NoGraph {
                predictor: pname.into(),
                planned: true,
            });
        }
        // Only `enable --propagation b3` warns about components that read Jaeger headers.
        let b3 = matches!(
            intent,
            Intent::Enable {
                propagation: Some(Propagation::B3),
                ..
            }
        ) && c::has_engine(p);
        let mut jaeger_headers = Vec::new();
        for node in c::nodes(spec, p) {
            if !node.kind.is_python() {
                continue;
            }
            if b3 {
                let own =
                    EffectiveEnv::container(node.container.and_then(|at| c::container_env(p, at)));
                if runtime::python(&own).propagation == Propagation::Jaeger {
                    jaeger_headers.push(node.name.clone());
                }
            }
            match node.container {
                Some(pos) => {
                    let env_now = c::container_env(p, pos);
                    let edits = component_edits(env_now, intent);
                    let place = at(&format!("container {} env", node.name));
                    let holder = container_mut(target, pos).ok_or_else(|| place.clone())?;
                    edit_env(holder, &edits, pname, &node.name, &place, &mut changes)?;
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
                }
                None => {}
            }
        }
        if b3 && !jaeger_headers.is_empty() {
            warnings.push(Warning::PythonNeedsConfigFile {
                predictor: pname.into(),
                components: jaeger_headers,
            });
        }
    }
    Ok(Plan {
        predictors: Value::Array(out),
        changes,
        warnings,
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
}
