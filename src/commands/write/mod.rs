//! `enable`, `disable`, `sampler`: choose the targets, maybe ask and preview, then apply to each
//! and report. Each step is its own module: `targets` (selection and the picker), `apply` (the
//! read-plan-apply loop of one object), `preview` (the dry run shown before asking), `report`
//! (progress, result lines, summary, exit status).

mod apply;
mod preview;
mod report;
mod targets;
mod wait;

use futures::StreamExt;

use crate::domain::v1::plan::Intent;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::{AskSampler, DryRun, Selection, Write};
use crate::prompt;
use crate::render::{Outcome, Verdict};

use super::Ctx;
use apply::run_all;
pub(crate) use apply::{Job, Listed};
use preview::preview_and_confirm;
use report::Report;

/// `enable`, `disable`, `sampler`: select, maybe ask and preview, then apply to each target.
pub async fn mutate(ctx: &Ctx, w: Write) -> Result<ExitStatus> {
    let guided = w.selection == Selection::Guided;
    let api = match (ctx.cluster.discover().await, &w.or_core2) {
        (Ok(api), _) => api,
        // Guided on a cluster with only Seldon Core 2: its runtimes.
        (Err(Error::OnlyCore2 { .. }), Some(v2)) if guided => {
            return super::core2::write(ctx, v2).await;
        }
        (Err(e), _) => return Err(e),
    };
    // Guided on a cluster that serves both: which generation.
    if let Some(v2) = w.or_core2.as_ref().filter(|_| guided)
        && ctx
            .cluster
            .seldon_runtimes(ctx.scope())
            .await
            .ok()
            .flatten()
            .is_some_and(|r| !r.is_empty())
    {
        let choice = prompt::pick_one(
            "Which Seldon",
            &[
                "SeldonDeployments (Seldon Core v1)".to_string(),
                "SeldonRuntimes (Seldon Core 2: one per namespace)".to_string(),
            ],
        )?;
        if choice == 1 {
            return super::core2::write(ctx, v2).await;
        }
    }
    if w.interactive {
        prompt::install_interrupt_handler();
    }
    let (targets, predictors, listed) = if guided {
        let (targets, predictors) = targets::pick(ctx, &api, &w).await?;
        (targets, predictors, Listed::new())
    } else {
        let (targets, listed) = targets::listed(ctx, &api, &w).await?;
        (targets, w.predictors.clone(), listed)
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
        listed: Some(&listed),
    };
    if w.interactive && w.dry_run == DryRun::None && !preview_and_confirm(&job, &targets).await? {
        crate::say!("Not applied; nothing was changed.");
        return Ok(ExitStatus::Success);
    }
    prompt::writing_started();
    let mut results = std::pin::pin!(run_all(&job, &targets));
    let mut report = Report::new(ctx, intent.done(), targets.len());
    let mut seen = 0;
    while let Some(o) = results.next().await {
        report.add(o)?;
        seen += 1;
    }
    // After Ctrl-C the rest was never started: reported, not left out.
    for (ns, name) in &targets[seen..] {
        report.add(Outcome {
            namespace: ns.clone(),
            name: name.clone(),
            result: Verdict::Interrupted,
            dry_run: w.dry_run,
            changes: Vec::new(),
            warnings: Vec::new(),
            error: Some(crate::error::Error::Interrupted.to_string()),
        })?;
    }
    prompt::writing_finished();
    let (status, outcomes) = report.finish()?;
    let Some(timeout) = w.wait.filter(|_| status != ExitStatus::Cancelled) else {
        return Ok(status);
    };
    // Wait for every object written or already as asked; a failed one has already failed the run.
    let waiting: Vec<(String, String)> = outcomes
        .iter()
        .filter(|o| o.result != Verdict::Failed)
        .map(|o| (o.namespace.clone(), o.name.clone()))
        .collect();
    let rolled = wait::until_current(ctx, &api, &waiting, &predictors, timeout).await?;
    Ok(if status == ExitStatus::Success {
        rolled
    } else {
        status
    })
}
