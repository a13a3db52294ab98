//! `enable`, `disable`, `sampler`: choose the targets, maybe ask and preview, then apply to each
//! and report. Each step is its own module: `targets` (selection and the picker), `apply` (the
//! read-plan-apply loop of one object), `preview` (the dry run shown before asking), `report`
//! (progress, result lines, summary, exit status).

mod apply;
mod preview;
mod report;
mod targets;
mod wait;

use apply::run_all;
use futures::StreamExt;

use crate::commands::context::Ctx;
use crate::domain::v1::plan::Intent;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::invocation::{AskSampler, Selection, Write};
use crate::options::DryRun;
use crate::prompt;
use crate::render::v1::{Outcome, WriteResult};
pub(crate) use apply::{Job, Listed};
use preview::preview_and_confirm;
use report::Report;

/// `enable`, `disable`, `sampler` on SeldonDeployments served at `api`: select, maybe ask and
/// preview, then apply to each target.
pub async fn mutate(ctx: &Ctx, api: String, w: Write) -> Result<ExitStatus> {
    let guided = w.selection == Selection::Guided;
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
            result: WriteResult::Interrupted,
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
        .filter(|o| o.result != WriteResult::Failed)
        .map(|o| (o.namespace.clone(), o.name.clone()))
        .collect();
    let rolled = wait::until_current(ctx, &api, &waiting, &predictors, timeout).await?;
    Ok(if status == ExitStatus::Success {
        rolled
    } else {
        status
    })
}
