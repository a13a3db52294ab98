//! On a terminal, before writing: the changes each object would get (a client-side dry run),
//! what applying does to running pods, and the question.

use futures::StreamExt;

use super::apply::{Job, run_all};
use crate::error::Result;
use crate::options::DryRun;
use crate::prompt;
use crate::render::v1::{Outcome, WriteResult};

/// Shows what would change (on stderr) and asks before writing. Ok(false): declined.
pub async fn preview_and_confirm(job: &Job<'_>, targets: &[(String, String)]) -> Result<bool> {
    let preview = Job {
        dry_run: DryRun::Client,
        ..*job
    };
    let outcomes: Vec<Outcome> = run_all(&preview, targets).collect().await;
    let mut changes = 0;
    for o in &outcomes {
        match (o.result, &o.error) {
            (_, Some(e)) => crate::say!("seldondeployment/{}: cannot plan: {e}", o.name),
            (WriteResult::Unchanged, _) => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::v1::plan::Change;
    use crate::options::DryRun;

    fn outcome(ns: &str, name: &str, predictors: &[&str]) -> Outcome {
        Outcome {
            namespace: ns.into(),
            name: name.into(),
            result: WriteResult::Changed,
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
