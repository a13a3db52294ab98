//! While and after writing: a progress bar on a terminal, one line per object as it finishes
//! (failures on stderr), the warnings, the `N changed, M unchanged, K failed` summary and the
//! json/yaml document of all outcomes.

use indicatif::ProgressBar;

use crate::commands::context::{Ctx, progress_bar};
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::options::Output;
use crate::render;
use crate::render::v1::{Outcome, WriteResult};

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
            progress: progress_bar(targets, "seldondeployments"),
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
        let results: Vec<(WriteResult, String)> = self
            .outcomes
            .iter()
            .map(|o| (o.result, format!("{}/{}", o.namespace, o.name)))
            .collect();
        if let Some(line) = render::write::summary(&results) {
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
