//! One function per verb; each returns how the process ends.

pub mod core2;
pub mod live;
pub mod local;
pub mod read;
pub mod traces;
pub mod verify;
pub mod watch;
pub mod write;

use std::io::Write;

use serde::Serialize;

use crate::cluster::Cluster;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::invocation::{Action, Invocation, Manifests, Output, Scope};
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

pub async fn run(inv: Invocation) -> Result<ExitStatus> {
    let Invocation {
        action,
        connection,
        scope,
        output,
    } = inv;
    match action {
        Action::Completion { shell } => {
            print(&crate::complete::script(shell)).map(|_| ExitStatus::Success)
        }
        Action::Version { client } => read::version(&connection, client).await,
        // Manifests on their own: no kubeconfig, no cluster.
        Action::List {
            manifests: Manifests::Local(paths),
            ..
        } => local::list(&paths, &connection, output),
        Action::Status {
            manifests: Manifests::Local(paths),
            expect,
            ..
        } => local::status(&paths, &connection, output, expect),
        Action::LocalWrite(w) => local::write(&w, output),
        action => {
            let cluster = Cluster::connect(&connection).await?;
            let namespace = connection
                .namespace
                .clone()
                .unwrap_or_else(|| cluster.default_namespace.clone());
            let ctx = Ctx {
                cluster,
                namespace,
                all_namespaces: scope == Scope::AllNamespaces,
                output,
            };
            match action {
                Action::List {
                    selector,
                    chunk_size,
                    manifests,
                    core,
                } => read::list(&ctx, selector.as_deref(), chunk_size, &manifests, &core).await,
                Action::Status {
                    name,
                    selector,
                    chunk_size,
                    manifests,
                    expect,
                    watch,
                    core,
                } => {
                    let which = read::Which {
                        name: name.as_deref(),
                        selector: selector.as_deref(),
                        chunk_size,
                        manifests: &manifests,
                    };
                    match watch {
                        Some(w) => watch::watch_status(&ctx, which, w).await,
                        None => read::show_status(&ctx, which, expect, &core).await,
                    }
                }
                Action::Write(w) => write::mutate(&ctx, w).await,
                Action::Traces(t) => {
                    crate::prompt::install_interrupt_handler();
                    traces::traces(&ctx, &t, crate::prompt::interactive()).await
                }
                Action::Verify(v) => {
                    crate::prompt::install_interrupt_handler();
                    let ask = crate::prompt::interactive();
                    verify::verify(&ctx, &v, ask).await
                }
                Action::RuntimeWrite(w) => core2::write(&ctx, &w).await,
                Action::RuntimeStatus {
                    name,
                    seldon_namespace,
                    detail,
                    expect,
                } => core2::status(&ctx, name.as_deref(), &seldon_namespace, detail, expect).await,
                Action::LocalWrite(_) | Action::Completion { .. } | Action::Version { .. } => {
                    Ok(ExitStatus::Success)
                }
            }
        }
    }
}
