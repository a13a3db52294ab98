//! While and after writing: a progress bar on a terminal, one line per object as it finishes
//! (failures on stderr), the warnings, the `N changed, M unchanged, K failed` summary and the
//! json/yaml document of all outcomes.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::commands::context::Ctx;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::options::Output;
use crate::render;
use crate::render::v1::{Outcome, WriteResult};

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

/// Prints outcomes as they arrive and the summary at the end.
pub struct Report<'a> {
    ctx: &'a Ctx,
    done: &'static str,
    progress: ProgressBar,
    outcomes: Vec<Outcome>,
}

impl<'a> Report<'a> {
    pub fn new(ctx: &'a Ctx, done: &'static str, targets: usize) -> Self {
        Report {
            ctx,
            done,
            progress: progress_bar(targets),
            outcomes: Vec::new(),
        }
    }

    /// One finished object: its warnings and its line.
    pub fn add(&mut self, o: Outcome) -> Result<()> {
        let structured = matches!(self.ctx.output, Output::Json | Output::Yaml);
        let with_ns = self.ctx.all_namespaces;
        let (ctx, done) = (self.ctx, self.done);
        self.progress.suspend(|| -> Result<()> {
            for w in &o.warnings {
                crate::say!("Warning: seldondeployment/{}: {w}", o.name);
            }
            if !structured {
                let line = render::v1::outcome_line(&o, done, with_ns);
                if matches!(o.result, WriteResult::Failed | WriteResult::Interrupted) {
                    crate::say_raw!("{line}");
                } else {
                    ctx.print(&line)?;
                }
            }
            Ok(())
        })?;
        self.progress.inc(1);
        self.outcomes.push(o);
        Ok(())
    }

    /// The summary line (several objects), the json/yaml document, and how the run ends, with
    /// the outcomes.
    pub fn finish(self) -> Result<(ExitStatus, Vec<Outcome>)> {
        self.progress.finish_and_clear();
        if let Some(line) = summary(&self.outcomes) {
            crate::say!("{line}");
        }
        if let Some(doc) = render::document(self.ctx.output, "TracingChangeList", &self.outcomes) {
            self.ctx.print(&doc)?;
        }
        let any = |v: WriteResult| self.outcomes.iter().any(|o| o.result == v);
        let status = if any(WriteResult::Interrupted) {
            ExitStatus::Cancelled
        } else if any(WriteResult::Failed) {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        };
        Ok((status, self.outcomes))
    }
}

/// `3 changed, 1 unchanged, 1 failed: models/x` for more than one object.
fn summary(outcomes: &[Outcome]) -> Option<String> {
    if outcomes.len() < 2 {
        return None;
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.result == WriteResult::Failed)
        .map(|o| format!("{}/{}", o.namespace, o.name))
        .collect();
    let count = |v: WriteResult| outcomes.iter().filter(|o| o.result == v).count();
    let (changed, unchanged) = (count(WriteResult::Changed), count(WriteResult::Unchanged));
    let interrupted = match count(WriteResult::Interrupted) {
        0 => String::new(),
        n => format!(", {n} not written (interrupted)"),
    };
    let names = if failed.is_empty() {
        String::new()
    } else {
        format!(": {}", failed.join(", "))
    };
    Some(format!(
        "{changed} changed, {unchanged} unchanged, {} failed{interrupted}{names}",
        failed.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::DryRun;

    fn outcome(name: &str, result: WriteResult) -> Outcome {
        Outcome {
            namespace: "models".into(),
            name: name.into(),
            result,
            dry_run: DryRun::None,
            changes: Vec::new(),
            warnings: Vec::new(),
            error: None,
        }
    }

    #[test]
    fn the_summary_counts_each_result_and_names_the_failures() {
        assert_eq!(summary(&[outcome("a", WriteResult::Changed)]), None);
        let all = [
            outcome("a", WriteResult::Changed),
            outcome("b", WriteResult::Unchanged),
            outcome("c", WriteResult::Failed),
            outcome("d", WriteResult::Failed),
        ];
        assert_eq!(
            summary(&all).as_deref(),
            Some("1 changed, 1 unchanged, 2 failed: models/c, models/d")
        );
        let stopped = [
            outcome("a", WriteResult::Changed),
            outcome("b", WriteResult::Interrupted),
            outcome("c", WriteResult::Interrupted),
        ];
        assert_eq!(
            summary(&stopped).as_deref(),
            Some("1 changed, 0 unchanged, 0 failed, 2 not written (interrupted)")
        );
    }
}
