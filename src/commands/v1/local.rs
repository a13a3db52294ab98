//! `-f … --local`: `list`, `status` and the writes on manifest files, with no cluster and no
//! kubeconfig. The writes use the same planner as on live objects; the result is printed (YAML,
//! or JSON with `-o json`) or, with `--in-place`, replaces each changed file whole. Nothing is
//! written unless every input was read and every SeldonDeployment planned.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::read::list_item;
use crate::commands::context::expectation;
use crate::commands::context::{Paged, now_epoch, print};
use crate::domain::json::data_of;
use crate::domain::json::str_at;
use crate::domain::v1::config_file::mount;
use crate::domain::v1::config_file::mount::{ConfigMap, ConfigMaps};
use crate::domain::v1::config_file::plugin_map as ownfile;
use crate::domain::v1::plan::{Plan, drop_answered_user_files, plan_with};
use crate::domain::v1::status as domain_status;
use crate::domain::v1::status::{DeploymentStatus, Origin, unmet};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::LocalWrite;
use crate::manifests::{self, At, Input};
use crate::options::Connection;
use crate::options::{Expect, FIELD_MANAGER, Output};
use crate::render;
use crate::render::v1::ListItem;

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
    for (_, ns, name, obj) in manifests::config_maps(inputs, default_ns) {
        files.insert(&ns, &name, ConfigMap::from_object(obj));
    }
    for (ns, name) in objs.flat_map(mount::wanted) {
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
        render::v1::list_table(items, output == Output::Wide, true, now, w)
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
        render::v1::status_table(items, output == Output::Wide, true, w)
    })?;
    let warnings = render::v1::status_warnings(&items, true);
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

/// The plugin's ConfigMap among the inputs: where, and its data.
type OwnAmong = Option<(At, BTreeMap<String, String>)>;

/// One SeldonDeployment of the inputs, planned.
struct Planned {
    at: At,
    before: Value,
    plan: Plan,
    /// The plugin's ConfigMap for it among the inputs: where, and its data.
    own: OwnAmong,
}

/// The plugin's ConfigMap for `obj` among the inputs (same namespace as written, the name
/// `ownfile::config_map_name`); one of that name that is not the plugin's is an error.
fn own_among(inputs: &[Input], obj: &Value) -> std::result::Result<OwnAmong, String> {
    let ns = str_at(obj, &["metadata", "namespace"]).unwrap_or("");
    let want = ownfile::config_map_name(str_at(obj, &["metadata", "name"]).unwrap_or(""));
    let Some((at, _, _, cm)) = manifests::config_maps(inputs, "")
        .into_iter()
        .find(|(_, cns, cname, _)| *cns == ns && *cname == want)
    else {
        return Ok(None);
    };
    if !ownfile::is_ours(cm) {
        return Err(format!(
            "ConfigMap {want} ({}) is not the plugin's (no label {}={}), so Python components' config files cannot go there; rename it",
            manifests::place(inputs, at),
            ownfile::MANAGED_BY.0,
            ownfile::MANAGED_BY.1
        ));
    }
    Ok(Some((at, data_of(cm))))
}

/// Plans every SeldonDeployment in the inputs; the first that cannot be planned is the error.
fn plan_all(inputs: &[Input], w: &LocalWrite) -> Result<Vec<Planned>> {
    let mut plans = Vec::new();
    for (at, obj) in manifests::seldon_deployments(inputs) {
        let name = str_at(obj, &["metadata", "name"]).unwrap_or("?");
        let fail = |e: String| {
            Error::Manifest(format!(
                "{}: seldondeployment \"{name}\" {e}",
                manifests::place(inputs, at)
            ))
        };
        let own = own_among(inputs, obj).map_err(fail)?;
        let mut plan =
            plan_with(obj, &w.intent, &w.predictors, own.as_ref().map(|(_, d)| d)).map_err(fail)?;
        // A user's own file among the inputs that already says what is asked needs no warning.
        let ns = str_at(obj, &["metadata", "namespace"]).unwrap_or("");
        let files = config_files(inputs, std::iter::once(obj), ns);
        drop_answered_user_files(obj, &w.intent, &files, &mut plan.warnings);
        plans.push(Planned {
            at,
            before: obj.clone(),
            plan,
            own,
        });
    }
    Ok(plans)
}

/// A ConfigMap the inputs do not hold yet: its document, and the file it goes to with
/// `--in-place` (beside the manifest of its SeldonDeployment).
struct NewFile {
    doc: Value,
    path: Option<PathBuf>,
    json: bool,
}

pub fn write(w: &LocalWrite, output: Output) -> Result<ExitStatus> {
    let mut inputs = read(&w.paths)?;
    let plans = plan_all(&inputs, w)?;
    if plans.is_empty() {
        return Ok(none_found());
    }
    let mut changed_inputs = vec![false; inputs.len()];
    let mut new_files: Vec<NewFile> = Vec::new();
    for Planned {
        at,
        before,
        plan: p,
        own,
    } in &plans
    {
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
        let after = obj.clone();
        changed_inputs[at.input] = true;
        crate::say!("seldondeployment/{name} ({place}) {}", w.intent.done());
        let current = own.as_ref().map(|(_, d)| d);
        let data = ownfile::desired_data(before, &after, &p.files, current);
        if data.is_empty() || Some(&data) == current {
            continue;
        }
        let cm_name = ownfile::config_map_name(&name);
        match own {
            Some((cm_at, _)) => {
                let cm_place = manifests::place(&inputs, *cm_at);
                if let Some(cm) = manifests::object_mut(&mut inputs, *cm_at) {
                    cm["data"] = serde_json::to_value(&data).unwrap_or_default();
                }
                changed_inputs[cm_at.input] = true;
                crate::say!("configmap/{cm_name} ({cm_place}) updated");
            }
            None => {
                let input = &inputs[at.input];
                let path = input.path.as_ref().map(|p| {
                    let ext = if input.json { "json" } else { "yaml" };
                    p.with_file_name(format!("{cm_name}.{ext}"))
                });
                new_files.push(NewFile {
                    doc: ownfile::config_map(before, &data, None),
                    path,
                    json: input.json,
                });
            }
        }
    }
    if !w.in_place {
        note_comments(inputs.iter());
        let mut docs: Vec<Value> = inputs.iter().flat_map(|i| i.docs.clone()).collect();
        for f in &new_files {
            crate::say!(
                "configmap/{} created (the last document)",
                str_at(&f.doc, &["metadata", "name"]).unwrap_or("?")
            );
            docs.push(f.doc.clone());
        }
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
    // A ConfigMap the inputs lack goes to a file of its own beside its SeldonDeployment's
    // manifest, never over a file that was not read.
    let mut created = Vec::new();
    for f in &new_files {
        let name = str_at(&f.doc, &["metadata", "name"]).unwrap_or("?");
        let Some(path) = &f.path else {
            return Err(Error::Manifest(format!(
                "configmap/{name} would be new, and stdin has no directory to put it in; write it without --in-place, or pass its file with -f"
            )));
        };
        if path.exists() {
            return Err(Error::Manifest(format!(
                "{}: configmap/{name} would go there, but the file exists and is not among the -f inputs; pass it with -f (nothing was written)",
                path.display()
            )));
        }
        let docs = [f.doc.clone()];
        let text = if f.json {
            manifests::to_json(&docs)
        } else {
            manifests::to_yaml(&docs)
        }
        .map_err(|e| Error::Manifest(format!("{}: {e}", path.display())))?;
        created.push(format!("configmap/{name} created in {}", path.display()));
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
    for line in created {
        crate::say!("{line}");
    }
    crate::say!("{} file(s) rewritten", texts.len());
    Ok(ExitStatus::Success)
}
