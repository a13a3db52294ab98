//! `enable`, `disable`, `sampler`: read, plan on raw JSON, server-side apply with the
//! resourceVersion read (compare-and-swap), re-plan on conflict. Several targets run
//! concurrently; results print in the order the targets were given.

use std::io::IsTerminal;

use futures::{StreamExt, stream};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::cluster::{Applied, Cluster, Query};
use crate::domain::components::str_at;
use crate::domain::plan::{Intent, Plan, plan};
use crate::domain::status::{competing_manager_warnings, status};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::{AskSampler, DryRun, Output, Selection, Write};
use crate::prompt;
use crate::render::{self, Outcome, Verdict};

use super::Ctx;
use super::read::for_each_page;

/// Attempts per object before giving up on conflicts.
const MAX_ATTEMPTS: u32 = 5;

/// One deployment offered in the interactive picker.
struct Choice {
    namespace: String,
    name: String,
    predictors: Vec<String>,
    /// TRACING and SAMPLER as in `list`: "on      const:1"
    summary: String,
}

/// Lists the deployments in scope and lets the user pick one or more, then predictors.
async fn pick_targets(
    ctx: &Ctx,
    api: &str,
    w: &Write,
) -> Result<(Vec<(String, String)>, Vec<String>)> {
    let mut choices = Vec::new();
    let q = Query {
        namespace: ctx.scope(),
        chunk_size: w.chunk_size,
        ..Query::default()
    };
    for_each_page(&ctx.cluster, api, q, |page| {
        for obj in page {
            let st = status(&obj, &w.field_manager);
            // No words shared by every row ("tracing", "sampler"): the fuzzy search matches the
            // whole line, and "tra" must find `traced`, not the first row.
            let summary = format!("{:<8}{}", st.summary.as_str(), st.sampler);
            let predictors = st.predictors.iter().map(|p| p.name.clone()).collect();
            choices.push(Choice {
                namespace: st.namespace,
                name: st.name,
                predictors,
                summary,
            });
        }
        Ok(())
    })
    .await?;
    if choices.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    // NAMESPACE/NAME padded to one width, so the summaries line up like a table.
    let width = choices
        .iter()
        .map(|c| c.namespace.len() + 1 + c.name.len())
        .max()
        .unwrap_or(0);
    let labels: Vec<String> = choices
        .iter()
        .map(|c| {
            let id = format!("{}/{}", c.namespace, c.name);
            format!("{id:width$}   {}", c.summary)
        })
        .collect();
    let picked = prompt::pick_deployments(&labels)?;
    let targets: Vec<(String, String)> = picked
        .iter()
        .map(|&i| (choices[i].namespace.clone(), choices[i].name.clone()))
        .collect();
    let mut predictors = w.predictors.clone();
    if let [only] = picked.as_slice()
        && predictors.is_empty()
        && choices[*only].predictors.len() > 1
    {
        predictors = prompt::pick_predictors(&choices[*only].predictors)?;
    }
    Ok((targets, predictors))
}

/// The (namespace, name) pairs a mutation acts on, in the order given or listed.
async fn targets(ctx: &Ctx, api: &str, w: &Write) -> Result<Vec<(String, String)>> {
    let labels = match &w.selection {
        Selection::Names(names) => {
            let ns = ctx.namespace();
            return Ok(names.iter().map(|n| (ns.to_string(), n.clone())).collect());
        }
        Selection::Selector(s) => Some(s.as_str()),
        Selection::All | Selection::Guided => None,
    };
    let mut out = Vec::new();
    let q = Query {
        namespace: ctx.scope(),
        labels,
        name: None,
        chunk_size: w.chunk_size,
    };
    for_each_page(&ctx.cluster, api, q, |page| {
        for obj in page {
            let ns = str_at(&obj, &["metadata", "namespace"]).unwrap_or("");
            let name = str_at(&obj, &["metadata", "name"]).unwrap_or("");
            out.push((ns.to_string(), name.to_string()));
        }
        Ok(())
    })
    .await?;
    Ok(out)
}

/// The apply body: only what the plugin owns, plus the resourceVersion that makes it a CAS.
fn apply_body(api: &str, obj: &Value, plan: &Plan) -> Value {
    json!({
        "apiVersion": api,
        "kind": "SeldonDeployment",
        "metadata": {
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "resourceVersion": obj["metadata"]["resourceVersion"],
        },
        "spec": {"predictors": plan.predictors},
    })
}

pub(crate) struct Job<'a> {
    pub cluster: &'a Cluster,
    pub api: &'a str,
    pub intent: &'a Intent,
    pub predictors: &'a [String],
    pub field_manager: &'a str,
    pub concurrency: usize,
    pub dry_run: DryRun,
}

impl Job<'_> {
    pub(crate) async fn one(&self, ns: &str, name: &str) -> Outcome {
        let mut outcome = Outcome {
            namespace: ns.into(),
            name: name.into(),
            result: Verdict::Failed,
            dry_run: self.dry_run,
            changes: Vec::new(),
            warnings: Vec::new(),
            error: None,
        };
        match self.attempt(ns, name, &mut outcome).await {
            Ok(true) => outcome.result = Verdict::Changed,
            Ok(false) => outcome.result = Verdict::Unchanged,
            Err(e) => outcome.error = Some(e.to_string()),
        }
        outcome
    }

    /// Read, plan, apply; on a resourceVersion conflict start over from a fresh read.
    async fn attempt(&self, ns: &str, name: &str, out: &mut Outcome) -> Result<bool> {
        for attempt in 0..MAX_ATTEMPTS {
            let obj = self.cluster.get(self.api, ns, name).await?;
            let object_error = |message: String| Error::Object {
                namespace: ns.into(),
                name: name.into(),
                message,
            };
            let plan = plan(&obj, self.intent, self.predictors).map_err(object_error)?;
            out.warnings = plan.warnings.clone();
            out.warnings
                .extend(competing_manager_warnings(&obj, self.field_manager));
            out.changes = plan.changes.clone();
            if plan.changes.is_empty() {
                return Ok(false);
            }
            if self.dry_run == DryRun::Client {
                return Ok(true);
            }
            let body = apply_body(self.api, &obj, &plan);
            run_test_hook(attempt);
            let server_dry = self.dry_run == DryRun::Server;
            match self
                .cluster
                .apply(self.api, ns, name, &body, self.field_manager, server_dry)
                .await?
            {
                Applied::Done(_) => return Ok(true),
                Applied::Conflict => continue,
            }
        }
        Err(Error::Conflicts {
            namespace: ns.into(),
            name: name.into(),
            attempts: MAX_ATTEMPTS,
        })
    }
}

/// Test seam for the end-to-end tests, compiled only with the `test-seams` feature:
/// `SELDON_TRACING_TEST_HOOK_BEFORE_APPLY` names a shell command run once, after the first read
/// and before the first apply, so a test can change the object or hold the plugin in exactly
/// that window. The conflict loop itself is covered in-process by `mock_tests`.
#[cfg(feature = "test-seams")]
fn run_test_hook(attempt: u32) {
    if attempt > 0 {
        return;
    }
    if let Some(cmd) = std::env::var_os("SELDON_TRACING_TEST_HOOK_BEFORE_APPLY") {
        let _ = std::process::Command::new("sh").arg("-c").arg(cmd).status();
    }
}

#[cfg(not(feature = "test-seams"))]
fn run_test_hook(_attempt: u32) {}

/// A progress bar on stderr for several targets, only when stderr is a terminal.
fn progress_bar(len: usize) -> ProgressBar {
    if len < 2 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} seldondeployments {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

/// Runs `job` on every target, at most `--concurrency` at a time, yielding in target order.
fn run_all<'a>(
    job: &'a Job<'a>,
    targets: &'a [(String, String)],
) -> impl futures::Stream<Item = Outcome> + 'a {
    stream::iter(targets.iter())
        .map(move |(ns, name)| job.one(ns, name))
        .buffered(job.concurrency)
}

/// Shows what would change (on stderr) and asks before writing. Ok(false): declined.
async fn preview_and_confirm(job: &Job<'_>, targets: &[(String, String)]) -> Result<bool> {
    let preview = Job {
        dry_run: DryRun::Client,
        ..*job
    };
    let outcomes: Vec<Outcome> = run_all(&preview, targets).collect().await;
    let mut changes = 0;
    for o in &outcomes {
        match (o.result, &o.error) {
            (_, Some(e)) => crate::say!("seldondeployment/{}: cannot plan: {e}", o.name),
            (Verdict::Unchanged, _) => {
                crate::say!("seldondeployment/{} ({}): unchanged", o.name, o.namespace)
            }
            _ => {
                changes += 1;
                crate::say!("seldondeployment/{} ({}):", o.name, o.namespace);
                for c in &o.changes {
                    crate::say!("    {}", c.diff_line());
                }
            }
        }
        for w in &o.warnings {
            crate::say!("    Warning: {w}");
        }
    }
    if changes == 0 {
        return Ok(true);
    }
    crate::say!("{}", rollout_note(&outcomes));
    prompt::confirm_apply()
}

/// What applying does to running pods: every predictor whose env changes gets new pods.
fn rollout_note(outcomes: &[Outcome]) -> String {
    let mut predictors: Vec<(&str, &str, &str)> = outcomes
        .iter()
        .flat_map(|o| {
            o.changes
                .iter()
                .map(|c| (o.namespace.as_str(), o.name.as_str(), c.predictor.as_str()))
        })
        .collect();
    predictors.sort_unstable();
    predictors.dedup();
    let deployments = {
        let mut d: Vec<(&str, &str)> = predictors.iter().map(|&(ns, n, _)| (ns, n)).collect();
        d.dedup();
        d.len()
    };
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "Applying restarts the pods of {} in {} (their env changes).",
        plural(predictors.len(), "predictor"),
        plural(deployments, "SeldonDeployment")
    )
}

/// `enable`, `disable`, `sampler`: select, maybe ask and preview, then apply to each target.
pub async fn mutate(ctx: &Ctx, w: Write) -> Result<ExitStatus> {
    let api = ctx.cluster.discover().await?;
    if w.interactive {
        prompt::install_interrupt_handler();
    }
    let guided = w.selection == Selection::Guided;
    let (targets, predictors) = if guided {
        pick_targets(ctx, &api, &w).await?
    } else {
        (targets(ctx, &api, &w).await?, w.predictors.clone())
    };
    if targets.is_empty() {
        return Ok(ctx.none_found());
    }
    let mut intent = w.intent.clone();
    match (w.ask_sampler, &mut intent) {
        (AskSampler::Required, Intent::Sampler(s)) => {
            if let Some(chosen) = prompt::pick_sampler(None)? {
                *s = chosen;
            }
        }
        (AskSampler::Optional, Intent::Enable { sampler, .. }) => {
            *sampler =
                prompt::pick_sampler(Some("keep the current sampler (const:1 when none is set)"))?;
        }
        _ => {}
    }
    let job = Job {
        cluster: &ctx.cluster,
        api: &api,
        intent: &intent,
        predictors: &predictors,
        field_manager: &w.field_manager,
        concurrency: w.concurrency,
        dry_run: w.dry_run,
    };
    if w.interactive && w.dry_run == DryRun::None && !preview_and_confirm(&job, &targets).await? {
        crate::say!("Not applied; nothing was changed.");
        return Ok(ExitStatus::Success);
    }
    prompt::writing_started();
    let structured = matches!(ctx.output, Output::Json | Output::Yaml);
    let with_ns = ctx.all_namespaces;
    let mut results = std::pin::pin!(run_all(&job, &targets));
    let mut outcomes = Vec::new();
    let progress = progress_bar(targets.len());
    while let Some(o) = results.next().await {
        progress.suspend(|| -> Result<()> {
            for w in &o.warnings {
                crate::say!("Warning: seldondeployment/{}: {w}", o.name);
            }
            if !structured {
                let line = render::outcome_line(&o, intent.done(), with_ns);
                if o.result == Verdict::Failed {
                    crate::say_raw!("{line}");
                } else {
                    ctx.print(&line)?;
                }
            }
            Ok(())
        })?;
        progress.inc(1);
        outcomes.push(o);
    }
    progress.finish_and_clear();
    let failed: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.result == Verdict::Failed)
        .collect();
    let changed = outcomes
        .iter()
        .filter(|o| o.result == Verdict::Changed)
        .count();
    if outcomes.len() > 1 {
        crate::say!(
            "{changed} changed, {} unchanged, {} failed{}",
            outcomes.len() - changed - failed.len(),
            failed.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    failed
                        .iter()
                        .map(|o| format!("{}/{}", o.namespace, o.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    let code = if failed.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    };
    if let Some(doc) = render::document(ctx.output, "TracingChangeList", &outcomes) {
        ctx.print(&doc)?;
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan::Change;

    fn outcome(ns: &str, name: &str, predictors: &[&str]) -> Outcome {
        Outcome {
            namespace: ns.into(),
            name: name.into(),
            result: Verdict::Changed,
            dry_run: DryRun::Client,
            changes: predictors
                .iter()
                .map(|p| Change {
                    predictor: (*p).into(),
                    component: "executor".into(),
                    var: Some("JAEGER_DISABLED".into()),
                    before: None,
                    after: Some("true".into()),
                })
                .collect(),
            warnings: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn the_rollout_note_counts_each_changed_predictor_once() {
        let one = [outcome("a", "iris", &["default", "default"])];
        assert_eq!(
            rollout_note(&one),
            "Applying restarts the pods of 1 predictor in 1 SeldonDeployment (their env changes)."
        );
        let several = [
            outcome("a", "churn", &["stable", "canary", "canary"]),
            outcome("b", "churn", &["stable"]),
            outcome("b", "iris", &[]),
        ];
        assert_eq!(
            rollout_note(&several),
            "Applying restarts the pods of 3 predictors in 2 SeldonDeployments (their env changes)."
        );
    }
}
