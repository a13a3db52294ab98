//! `-f … --local`: `list`, `status` and the writes on manifest files, with no cluster and no
//! kubeconfig. The writes use the same planner as on live objects; the result is printed (YAML,
//! or JSON with `-o json`) or, with `--in-place`, replaces each changed file whole. Nothing is
//! written unless every input was read and every SeldonDeployment planned.

use std::path::PathBuf;

use serde_json::Value;

use crate::domain::components::str_at;
use crate::domain::plan::{Plan, plan};
use crate::domain::pyconfig::{self, ConfigMap, ConfigMaps};
use crate::domain::status::{self as domain_status, DeploymentStatus, Origin, unmet};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::{Connection, Expect, FIELD_MANAGER, LocalWrite, Output};
use crate::manifests::{self, At, Input};
use crate::render::{self, ListItem};

use super::read::{expectation, list_item};
use super::{Paged, now_epoch, print};

fn read(paths: &[PathBuf]) -> Result<Vec<Input>> {
    manifests::read(paths).map_err(Error::Manifest)
}

/// One note on stderr when the comments of inputs that are written out will be lost.
fn note_comments<'a>(written: impl Iterator<Item = &'a Input>) {
    let commented: Vec<String> = written
        .filter(|i| i.had_comments)
        .map(Input::label)
        .collect();
    if !commented.is_empty() {
        crate::say!(
            "note: comments are not kept in the output ({})",
            commented.join(", ")
        );
    }
}

/// Each SeldonDeployment's status, its namespace filled in from `-n` (else `default`) when the
/// manifest has none, as `kubectl apply -f` would place it.
fn statuses(inputs: &[Input], connection: &Connection) -> Vec<(Value, DeploymentStatus)> {
    let ns = connection.namespace.as_deref().unwrap_or("default");
    let objs: Vec<(String, Value)> = manifests::seldon_deployments(inputs)
        .into_iter()
        .map(|(at, obj)| {
            let mut obj = obj.clone();
            if str_at(&obj, &["metadata", "namespace"]).is_none_or(str::is_empty)
                && let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut)
            {
                m.insert("namespace".into(), Value::from(ns));
            }
            (inputs[at.input].label(), obj)
        })
        .collect();
    let files = config_files(inputs, objs.iter().map(|(_, o)| o), ns);
    objs.into_iter()
        .map(|(file, obj)| {
            let st = domain_status::status_with(&obj, FIELD_MANAGER, Origin::File(&file), &files);
            (obj, st)
        })
        .collect()
}

/// The ConfigMaps among the inputs, and the ones `objs` read that are not (not read, and why).
fn config_files<'a>(
    inputs: &[Input],
    objs: impl Iterator<Item = &'a Value>,
    default_ns: &str,
) -> ConfigMaps {
    let mut files = ConfigMaps::new();
    for (ns, name, obj) in manifests::config_maps(inputs, default_ns) {
        files.insert(&ns, &name, ConfigMap::from_object(obj));
    }
    for (ns, name) in objs.flat_map(pyconfig::wanted) {
        if !files.contains(&ns, &name) {
            files.insert(
                &ns,
                &name,
                ConfigMap::NotRead(
                    "it is not among the -f inputs; add its manifest to read the file offline"
                        .into(),
                ),
            );
        }
    }
    files
}

fn none_found() -> ExitStatus {
    crate::say!("No SeldonDeployments found in the given files.");
    ExitStatus::Success
}

pub fn list(paths: &[PathBuf], connection: &Connection, output: Output) -> Result<ExitStatus> {
    let inputs = read(paths)?;
    let items: Vec<ListItem> = statuses(&inputs, connection)
        .iter()
        .map(|(obj, st)| list_item(obj, st))
        .collect();
    let now = now_epoch();
    let mut out = Paged::new(output, "DeploymentTracingList");
    out.page(&items, |items, w| {
        render::list_table(items, output == Output::Wide, true, now, w)
    })?;
    out.finish(none_found)
}

pub fn status(
    paths: &[PathBuf],
    connection: &Connection,
    output: Output,
    expect: Option<Expect>,
) -> Result<ExitStatus> {
    let inputs = read(paths)?;
    let items: Vec<DeploymentStatus> = statuses(&inputs, connection)
        .into_iter()
        .map(|(_, st)| st)
        .collect();
    let mut out = Paged::new(output, "TracingStatusList");
    out.page(&items, |items, w| {
        render::status_table(items, output == Output::Wide, true, w)
    })?;
    let warnings = render::status_warnings(&items, true);
    if !out.structured() && !warnings.is_empty() {
        print(&format!("\n{warnings}"))?;
    }
    let unmet: Vec<String> = expect
        .map(|e| {
            items
                .iter()
                .flat_map(|d| unmet(d, e == Expect::On))
                .collect()
        })
        .unwrap_or_default();
    let done = out.finish(none_found)?;
    Ok(expectation(expect, &unmet).unwrap_or(done))
}

/// Plans every SeldonDeployment in the inputs; the first that cannot be planned is the error.
fn plan_all(inputs: &[Input], w: &LocalWrite) -> Result<Vec<(At, Plan)>> {
    let mut plans = Vec::new();
    for (at, obj) in manifests::seldon_deployments(inputs) {
        let name = str_at(obj, &["metadata", "name"]).unwrap_or("?");
        let p = plan(obj, &w.intent, &w.predictors).map_err(|e| {
            Error::Manifest(format!(
                "{}: seldondeployment \"{name}\" {e}",
                manifests::place(inputs, at)
            ))
        })?;
        plans.push((at, p));
    }
    Ok(plans)
}

pub fn write(w: &LocalWrite, output: Output) -> Result<ExitStatus> {
    let mut inputs = read(&w.paths)?;
    let plans = plan_all(&inputs, w)?;
    if plans.is_empty() {
        return Ok(none_found());
    }
    let mut changed_inputs = vec![false; inputs.len()];
    for (at, p) in &plans {
        let place = manifests::place(&inputs, *at);
        let obj = manifests::object_mut(&mut inputs, *at).ok_or_else(|| {
            Error::Manifest(format!("{place}: the document moved while it was planned"))
        })?;
        let name = str_at(obj, &["metadata", "name"])
            .unwrap_or("?")
            .to_string();
        for warning in &p.warnings {
            crate::say!("Warning: seldondeployment/{name} ({place}): {warning}");
        }
        if p.changes.is_empty() {
            crate::say!("seldondeployment/{name} ({place}) unchanged");
            continue;
        }
        if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("predictors".into(), p.predictors.clone());
        }
        changed_inputs[at.input] = true;
        crate::say!("seldondeployment/{name} ({place}) {}", w.intent.done());
    }
    if !w.in_place {
        note_comments(inputs.iter());
        let docs: Vec<Value> = inputs.iter().flat_map(|i| i.docs.clone()).collect();
        let text = match output {
            Output::Json => manifests::to_json(&docs),
            _ => manifests::to_yaml(&docs),
        }
        .map_err(Error::Manifest)?;
        print(&text)?;
        return Ok(ExitStatus::Success);
    }
    note_comments(
        inputs
            .iter()
            .zip(&changed_inputs)
            .filter(|(_, c)| **c)
            .map(|(i, _)| i),
    );
    // Every file's new text first; then the replacements, each one atomic.
    let mut texts = Vec::new();
    for (input, changed) in inputs.iter().zip(&changed_inputs) {
        let (Some(path), true) = (&input.path, *changed) else {
            continue;
        };
        let text = if input.json {
            manifests::to_json(&input.docs)
        } else {
            manifests::to_yaml(&input.docs)
        }
        .map_err(|e| Error::Manifest(format!("{}: {e}", path.display())))?;
        texts.push((path.clone(), text));
    }
    for (path, text) in &texts {
        manifests::write_atomic(path, text).map_err(|e| {
            Error::Manifest(format!(
                "{}: cannot replace it ({e}); the file is as it was",
                path.display()
            ))
        })?;
    }
    crate::say!("{} file(s) rewritten", texts.len());
    Ok(ExitStatus::Success)
}
