//! The command line judged before any I/O: [`resolve`] turns what clap parsed into an
//! `Invocation` (what to do, on which objects, how to connect, how to print) or a usage error.
//! It is pure, so every usage error exits 2 whether or not a cluster answers, and table tests
//! cover argv -> Invocation without one. This module holds the resolved types; `resolve.rs` the
//! judging, verb by verb. It reads `cli` (and `options`, which `cli` shares); nothing below it
//! reads `cli`.

mod resolve;
#[cfg(test)]
mod tests;

pub use resolve::resolve;

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Core, Files};
use crate::domain::traces::endpoints::ServiceRef;
use crate::domain::v1::plan::Intent;
use crate::domain::v2::plan;
use crate::jaeger::Access;
use crate::jaeger::Endpoint;
use crate::options::Connection;
use crate::options::DryRun;
use crate::options::Expect;
use crate::options::Output;

/// Where the objects of `list` and `status` come from besides the cluster's lists.
#[derive(Debug, Clone, PartialEq)]
pub enum Manifests {
    /// Names, a selector or everything in scope, read from the cluster.
    None,
    /// `-f` without `--local`: the objects the manifests name, read from the cluster.
    InCluster(Vec<PathBuf>),
    /// `-f --local`: the manifests themselves; no cluster.
    Local(Vec<PathBuf>),
}

impl Manifests {
    fn of(files: Files) -> Manifests {
        match (files.filename.is_empty(), files.local) {
            (true, _) => Manifests::None,
            (false, false) => Manifests::InCluster(files.filename),
            (false, true) => Manifests::Local(files.filename),
        }
    }
}

/// Which namespaces a command looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `-n NS`, else the context's namespace.
    Namespace,
    /// `-A`.
    AllNamespaces,
}

/// Which SeldonDeployments a write acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// Names in the one namespace (duplicates removed, order kept).
    Names(Vec<String>),
    /// `--all`: every deployment in scope.
    All,
    /// `-l SELECTOR` in scope.
    Selector(String),
    /// No target on a terminal: the user picks from a list.
    Guided,
    /// `-f`: the objects the manifests name (namespace from each, else `-n`).
    Manifests(Vec<PathBuf>),
}

/// Whether to ask for the sampler interactively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskSampler {
    No,
    /// `enable` in the guided flow: the first choice keeps the current sampler.
    Optional,
    /// `sampler` without TYPE[:PARAM] on a terminal.
    Required,
}

/// A write: the intent, its targets and how to carry it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub intent: Intent,
    pub ask_sampler: AskSampler,
    pub selection: Selection,
    /// Only these predictors; empty means all.
    pub predictors: Vec<String>,
    pub dry_run: DryRun,
    pub field_manager: String,
    /// Prompts and the preview are allowed (a terminal, no `--yes`).
    pub interactive: bool,
    pub concurrency: usize,
    pub chunk_size: u32,
    /// `--wait`: how long to wait for the rollout after writing.
    pub wait: Option<Duration>,
    /// The guided flow with no `--core` and nothing v1-only asked: the same change for Seldon
    /// Core 2, offered when the cluster serves SeldonRuntimes.
    pub or_core2: Option<Box<RuntimeWrite>>,
}

/// A change to SeldonRuntimes' tracing (`--core v2`).
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeWrite {
    /// Runtime names; empty: every one in scope.
    pub names: Vec<String>,
    pub change: plan::Intent,
    /// Past tense for result lines.
    pub done: &'static str,
    pub seldon_namespace: String,
    pub dry_run: DryRun,
    pub field_manager: String,
    /// A terminal and no `--yes`: pick runtimes, ask the ratio, preview and confirm.
    pub interactive: bool,
    /// `sampler --core v2` without a ratio on a terminal: ask for it.
    pub ask_ratio: bool,
    pub restart: Option<crate::options::Restart>,
    /// `--wait`: for the operator's ConfigMap, and with `--restart` for the new pods.
    pub wait: Option<Duration>,
    /// Runtimes written at the same time.
    pub concurrency: usize,
}

/// `status --watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watch {
    /// Stop after this long; None: until Ctrl-C.
    pub timeout: Option<Duration>,
}

/// Where Jaeger's query API is.
#[derive(Debug, Clone, PartialEq)]
pub enum JaegerAt {
    /// `--jaeger URL` (or `$SELDON_TRACING_JAEGER`).
    Url(Endpoint),
    /// `--jaeger-service`: port-forward to a pod behind it.
    Service(ServiceRef),
    /// Neither: look for a query Service in the namespace, then the cluster.
    Discover,
}

/// One predictor of one SeldonDeployment, and the Jaeger to read its traces from (`verify`,
/// `traces`).
#[derive(Debug, Clone, PartialEq)]
pub struct Traced {
    /// None: asked for on a terminal.
    pub name: Option<String>,
    pub predictor: Option<String>,
    /// `--core v2` (or `--pipeline`): NAME is a Seldon Core 2 Model or Pipeline.
    pub core2: Option<Core2Target>,
    pub jaeger: JaegerAt,
    /// TLS checks and headers for Jaeger.
    pub access: Access,
}

/// A Seldon Core 2 Model or Pipeline to trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Core2Target {
    /// NAME is a Pipeline (else a Model).
    pub pipeline: bool,
    /// Where the operator reads SeldonConfigs.
    pub seldon_namespace: String,
}

/// The request body `verify` sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// The smallest valid request for the predictor's protocol.
    Default,
    Inline(serde_json::Value),
    /// `@FILE`, read when the command runs.
    File(PathBuf),
}

/// `verify`.
#[derive(Debug, Clone, PartialEq)]
pub struct Verify {
    /// TLS checks in `target.access` apply to `--via` too.
    pub target: Traced,
    /// `--via URL`: the request goes there instead of a port-forward to the executor pod
    /// (`grpc://` and `grpcs://` are kept as `http://` and `https://` with `transport` Grpc).
    pub via: Option<Endpoint>,
    pub transport: Transport,
    pub data: Data,
    pub timeout: Duration,
    pub dry_run: bool,
}

/// How `verify` sends its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// gRPC when the predictor's `transport` is grpc (and its protocol is seldon), else REST.
    Auto,
    /// `--rest`, or `--via http(s)://`.
    Rest,
    /// `--grpc`, or `--via grpc(s)://`: one `seldon.protos.Seldon/Predict` call.
    Grpc,
}

/// `traces`.
#[derive(Debug, Clone, PartialEq)]
pub struct Traces {
    pub target: Traced,
    pub since: Duration,
    pub limit: u32,
    pub min_duration: Option<Duration>,
}

/// A write on manifest files: the same planner as on live objects.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalWrite {
    pub intent: Intent,
    pub predictors: Vec<String>,
    pub paths: Vec<PathBuf>,
    /// Rewrite the files instead of printing the result.
    pub in_place: bool,
}

/// Which Seldon generations `list` and `status` read.
#[derive(Debug, Clone, PartialEq)]
pub enum Generations {
    /// v1 SeldonDeployments only: `--core v1`, or an option only v1 has (`-f`, `-l`,
    /// `--watch`).
    V1,
    /// Each generation the cluster serves: v1 SeldonDeployments and v2 SeldonRuntimes, one
    /// after the other when both are (a migration), whichever is alone otherwise.
    Served {
        /// Where the v2 operator reads SeldonConfigs.
        seldon_namespace: String,
    },
}

impl Generations {
    /// No `--core` and no v1-only option: whatever the cluster serves.
    fn of(core: Option<Core>, v1_only_option: bool, seldon_namespace: String) -> Generations {
        match core {
            None if !v1_only_option => Generations::Served { seldon_namespace },
            _ => Generations::V1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    List {
        selector: Option<String>,
        chunk_size: u32,
        manifests: Manifests,
        core: Generations,
    },
    Status {
        name: Option<String>,
        selector: Option<String>,
        chunk_size: u32,
        manifests: Manifests,
        expect: Option<Expect>,
        watch: Option<Watch>,
        core: Generations,
    },
    Write(Write),
    /// `-f --local`: plan on the manifests and print or rewrite them; no cluster.
    LocalWrite(LocalWrite),
    Verify(Verify),
    Traces(Traces),
    /// `enable`, `disable`, `sampler` with `--core v2`.
    RuntimeWrite(RuntimeWrite),
    /// `status --core v2`: SeldonRuntimes (one, when named) and their tracing.
    RuntimeStatus {
        name: Option<String>,
        /// Where the operator reads SeldonConfigs.
        seldon_namespace: String,
        /// `status` (each workload's pods) rather than `list`.
        detail: bool,
        /// `status --expect`: a runtime not in that state fails the run.
        expect: Option<Expect>,
    },
    Version {
        client: bool,
    },
    Completion {
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub action: Action,
    pub connection: Connection,
    pub scope: Scope,
    pub output: Output,
}

/// A usage error: one line, exit 2.
pub type Usage = String;
