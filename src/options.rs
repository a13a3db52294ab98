//! The values of options that both the command line (`cli`, what clap parses) and the resolved
//! invocation (`invocation`) speak of. They live apart from both so that imports run one way:
//! `cli` and `invocation` read this module, and `invocation` reads `cli`, never the reverse.
//! `Connection` is here too: the cluster layer reads it, and must not read `invocation`.

use std::path::PathBuf;
use std::time::Duration;

/// How results are printed (`-o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Table,
    Wide,
    Json,
    Yaml,
}

/// `status --expect`: the state every executor and Python component must be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Expect {
    /// `on`.
    On,
    /// `off` or `idle` (no span leaves it).
    Off,
}

/// `--dry-run`: none writes; server asks the server to validate without storing; client only
/// prints the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DryRun {
    None,
    Server,
    Client,
}

/// The field manager every read compares against and writes record by default.
pub const FIELD_MANAGER: &str = "kubectl-seldon-tracing";

/// What `--restart` rolls (Seldon Core 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Restart {
    /// The runtime's core components (annotating the SeldonRuntime rolls them).
    Core,
    /// Every Server's pods (annotating each Server rolls them).
    Servers,
    /// Both.
    All,
}

impl Restart {
    pub fn core(self) -> bool {
        matches!(self, Restart::Core | Restart::All)
    }

    pub fn servers(self) -> bool {
        matches!(self, Restart::Servers | Restart::All)
    }
}

/// How to reach the cluster: kubectl's connection flags and nothing else.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Connection {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// `-n`; None means the kubeconfig context's namespace.
    pub namespace: Option<String>,
    /// Zero waits forever.
    pub request_timeout: Duration,
}
