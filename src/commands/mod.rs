//! One function per verb; each returns the process exit code.

pub mod read;
pub mod write;

use std::io::Write;

use serde::Serialize;

use crate::cli::{Cli, Command, Global, Output};
use crate::cluster::Cluster;
use crate::error::Result;
use crate::render::Streamer;

/// What every command that talks to the cluster needs.
pub struct Ctx {
    pub cluster: Cluster,
    pub global: Global,
}

impl Ctx {
    /// The namespace named by -n, else the kubeconfig context's.
    pub fn namespace(&self) -> String {
        self.global
            .namespace
            .clone()
            .unwrap_or_else(|| self.cluster.default_namespace.clone())
    }

    /// None means every namespace (-A).
    pub fn scope(&self) -> Option<&str> {
        if self.global.all_namespaces {
            None
        } else {
            Some(
                self.global
                    .namespace
                    .as_deref()
                    .unwrap_or(&self.cluster.default_namespace),
            )
        }
    }

    pub fn print(&self, s: &str) -> Result<i32> {
        print(s)
    }

    /// kubectl's message for an empty table (on stderr, exit 0).
    pub fn none_found(&self) -> Result<i32> {
        match self.scope() {
            Some(ns) => crate::say!("No SeldonDeployments found in {ns} namespace."),
            None => crate::say!("No SeldonDeployments found."),
        }
        Ok(0)
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
        print(&text).map(|_| ())
    }

    pub fn finish(self, ctx: &Ctx) -> Result<i32> {
        match self.stream {
            Some(s) => print(&s.finish()),
            None if self.printed == 0 => ctx.none_found(),
            None => Ok(0),
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn print(s: &str) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(0),
    }
}

pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub async fn run(cli: Cli) -> Result<i32> {
    let global = cli.global;
    match cli.command {
        Command::Completion { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "kubectl-seldon_tracing", &mut buf);
            print(&String::from_utf8_lossy(&buf))
        }
        Command::Version { client } => read::version(&global, client).await,
        command => {
            let cluster = Cluster::connect(&global).await?;
            let ctx = Ctx { cluster, global };
            match command {
                Command::List(a) => read::list(&ctx, &a).await,
                Command::Status(a) => read::show_status(&ctx, &a).await,
                Command::Enable(a) => write::enable(&ctx, a).await,
                Command::Disable(a) => write::disable(&ctx, a).await,
                Command::Sampler(a) => write::sampler(&ctx, a).await,
                Command::Completion { .. } | Command::Version { .. } => Ok(0),
            }
        }
    }
}
