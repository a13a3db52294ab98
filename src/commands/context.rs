//! What the commands of every wing share: the connection and scope (`Ctx`), the paged printer of
//! `list`/`status`, stdout that treats a closed pipe as success, and `--expect`'s verdict.

use std::io::Write;

use serde::Serialize;

use crate::cluster::Cluster;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::options::{Expect, Output};
use crate::render::Streamer;

/// What every command that talks to the cluster needs.
pub struct Ctx {
    pub cluster: Cluster,
    /// `-n`, else the kubeconfig context's namespace.
    namespace: String,
    pub all_namespaces: bool,
    pub output: Output,
}

impl Ctx {
    pub fn new(cluster: Cluster, namespace: String, all_namespaces: bool, output: Output) -> Ctx {
        Ctx {
            cluster,
            namespace,
            all_namespaces,
            output,
        }
    }

    /// The namespace named by -n, else the kubeconfig context's.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// None means every namespace (-A).
    pub fn scope(&self) -> Option<&str> {
        (!self.all_namespaces).then_some(self.namespace.as_str())
    }

    pub fn print(&self, s: &str) -> Result<()> {
        print(s)
    }

    /// kubectl's message for an empty table (on stderr, exit 0).
    pub fn none_found(&self) -> ExitStatus {
        match self.scope() {
            Some(ns) => crate::say!("No SeldonDeployments found in {ns} namespace."),
            None => crate::say!("No SeldonDeployments found."),
        }
        ExitStatus::Success
    }
}

/// Prints a listing as its pages arrive: json/yaml item by item, tables a page at a time
/// (later pages keep the column widths of earlier ones).
pub struct Paged {
    stream: Option<Streamer>,
    printed: usize,
    widths: Vec<u16>,
}

impl Paged {
    pub fn new(output: Output, kind: &'static str) -> Paged {
        Paged {
            stream: Streamer::new(output, kind),
            printed: 0,
            widths: Vec::new(),
        }
    }

    pub fn structured(&self) -> bool {
        self.stream.is_some()
    }

    pub fn page<T: Serialize>(
        &mut self,
        items: &[T],
        table: impl Fn(&[T], &mut Vec<u16>) -> String,
    ) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let text = match &mut self.stream {
            Some(s) => items.iter().map(|i| s.item(i)).collect(),
            None if self.printed == 0 => table(items, &mut self.widths),
            // Later pages: the same columns without repeating the header.
            None => table(items, &mut self.widths)
                .split_once('\n')
                .map(|(_, rows)| rows.to_string())
                .unwrap_or_default(),
        };
        self.printed += items.len();
        print(&text)
    }

    /// Starts a new table (a second generation's rows, with their own header and widths);
    /// returns how many rows the one before had. A json/yaml document goes on.
    pub fn section(&mut self) -> usize {
        let printed = self.printed;
        if self.stream.is_none() {
            self.printed = 0;
            self.widths.clear();
        }
        printed
    }

    /// Ends the document; `none` says that nothing was found (tables only).
    pub fn finish(self, none: impl FnOnce() -> ExitStatus) -> Result<ExitStatus> {
        match self.stream {
            Some(s) => print(&s.finish()).map(|_| ExitStatus::Success),
            None if self.printed == 0 => Ok(none()),
            None => Ok(ExitStatus::Success),
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn print(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(()),
    }
}

pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `status --expect`: Failure with one line per component not in the expected state.
pub fn expectation(expect: Option<Expect>, unmet: &[String]) -> Option<ExitStatus> {
    let e = expect?;
    if unmet.is_empty() {
        return None;
    }
    let want = match e {
        Expect::On => "on",
        Expect::Off => "off",
    };
    crate::say!(
        "expected tracing {want}, but {} component(s) are not:",
        unmet.len()
    );
    for line in unmet {
        crate::say!("  {line}");
    }
    Some(ExitStatus::Failure)
}

/// A progress bar on stderr for a write of several `kind` (seldondeployments, seldonruntimes),
/// only when stderr is a terminal.
pub fn progress_bar(len: usize, kind: &str) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;
    if len < 2 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {kind} {{elapsed}}"))
    {
        bar.set_style(style);
    }
    bar
}
