//! The command line judged before any I/O: `resolve` turns what clap parsed into an
//! `Invocation` (what to do, on which objects, how to connect, how to print) or a usage error.
//! It is pure, so every usage error exits 2 whether or not a cluster answers, and table tests
//! cover argv -> Invocation without one. Only this module reads `cli`.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{
    Cli, Command, Core, CoreArgs, DisableArgs, EnableArgs, Files, Headers, JaegerArgs, ListArgs,
    ListCommand, Mutation, SamplerArgs, StatusArgs, Targets, TracesArgs, VerifyArgs, parse_name,
};
use crate::domain::traces::endpoints::ServiceRef;
use crate::domain::v1::clients::Propagation;
use crate::domain::v1::plan::{AgentHost, Intent};
use crate::domain::v1::sampler::{Sampler, SamplerKind};
use crate::domain::v2::plan;
use crate::jaeger::Endpoint;

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
    pub restart: Option<crate::cli::Restart>,
    /// `--wait`: for the operator's ConfigMap, and with `--restart` for the new pods.
    pub wait: Option<Duration>,
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
    /// None: asked for on a terminal.
    pub name: Option<String>,
    pub predictor: Option<String>,
    pub jaeger: JaegerAt,
    /// `--via URL`: the request goes there instead of a port-forward to the executor pod.
    pub via: Option<Endpoint>,
    pub data: Data,
    pub timeout: Duration,
    pub dry_run: bool,
}

/// `traces`.
#[derive(Debug, Clone, PartialEq)]
pub struct Traces {
    /// None: asked for on a terminal.
    pub name: Option<String>,
    pub predictor: Option<String>,
    pub jaeger: JaegerAt,
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

/// Judges the parsed command line. `terminal`: stdin and stderr are terminals, so questions can
/// be asked (the caller finds out; this function does no I/O).
pub fn resolve(cli: Cli, terminal: bool) -> Result<Invocation, Usage> {
    let g = cli.global;
    let scope = if g.all_namespaces {
        Scope::AllNamespaces
    } else {
        Scope::Namespace
    };
    let action = match cli.command {
        Command::List(ListCommand {
            list:
                ListArgs {
                    selector,
                    chunk_size,
                    files,
                },
            core: CoreArgs {
                core,
                seldon_namespace,
            },
        }) => {
            let manifests = Manifests::of(files);
            if core == Some(Core::V2) {
                if selector.is_some() || manifests != Manifests::None {
                    return Err(
                        "--core v2 lists SeldonRuntimes from the cluster: -f and -l are for v1 SeldonDeployments; leave them out"
                            .into(),
                    );
                }
                Action::RuntimeStatus {
                    name: None,
                    seldon_namespace,
                    detail: false,
                    expect: None,
                }
            } else {
                let v1_only = selector.is_some() || manifests != Manifests::None;
                Action::List {
                    selector,
                    chunk_size,
                    manifests,
                    core: Generations::of(core, v1_only, seldon_namespace),
                }
            }
        }
        Command::Status(StatusArgs {
            name,
            list,
            expect,
            watch,
            timeout,
            core: CoreArgs {
                core,
                seldon_namespace,
            },
        }) => {
            let manifests = Manifests::of(list.files);
            if core == Some(Core::V2) {
                if watch || list.selector.is_some() || manifests != Manifests::None {
                    return Err(
                        "--core v2 reads SeldonRuntimes from the cluster: -f, -l and --watch are for v1 SeldonDeployments; leave them out"
                            .into(),
                    );
                }
                Action::RuntimeStatus {
                    name,
                    seldon_namespace,
                    detail: true,
                    expect,
                }
            } else {
                if watch && matches!(manifests, Manifests::Local(_)) {
                    return Err(
                        "--watch follows the cluster; --local reads only the files: leave one out"
                            .into(),
                    );
                }
                let v1_only = watch || list.selector.is_some() || manifests != Manifests::None;
                Action::Status {
                    name,
                    selector: list.selector,
                    chunk_size: list.chunk_size,
                    manifests,
                    expect,
                    watch: watch.then_some(Watch { timeout }),
                    core: Generations::of(core, v1_only, seldon_namespace),
                }
            }
        }
        Command::Enable(a) => enable(a, scope, terminal)?,
        Command::Disable(DisableArgs {
            targets,
            core,
            mutation,
        }) if core.core == Some(Core::V2) => runtime_write(
            &targets.names,
            &targets,
            plan::Intent {
                disable: Some(true),
                ..plan::Intent::default()
            },
            "tracing disabled",
            core.seldon_namespace,
            &mutation,
            terminal,
        )?,
        Command::Disable(DisableArgs {
            targets,
            mutation,
            core,
        }) => {
            let offered = plan::Intent {
                disable: Some(true),
                ..plan::Intent::default()
            };
            let mut action = write(
                Intent::Disable,
                AskSampler::No,
                targets,
                mutation.clone(),
                scope,
                terminal,
            )?;
            offer_core2(&mut action, &core, offered, "tracing disabled", &mutation);
            action
        }
        Command::Sampler(a) => sampler(a, scope, terminal)?,
        Command::Verify(a) => verify(a, scope, terminal)?,
        Command::Traces(a) => traces(a, scope, terminal)?,
        Command::Version { client } => Action::Version { client },
        Command::Completion { shell } => Action::Completion { shell },
    };
    Ok(Invocation {
        action,
        connection: Connection {
            kubeconfig: g.kubeconfig,
            context: g.context,
            namespace: g.namespace,
            request_timeout: g.request_timeout,
        },
        scope,
        output: g.output,
    })
}

fn jaeger_at(a: JaegerArgs) -> Result<JaegerAt, Usage> {
    match (a.jaeger, a.jaeger_service) {
        (Some(url), _) => Endpoint::parse(&url)
            .map(JaegerAt::Url)
            .map_err(|e| format!("--jaeger: {e}")),
        (None, Some(svc)) => Ok(JaegerAt::Service(svc)),
        (None, None) => Ok(JaegerAt::Discover),
    }
}

fn traces(a: TracesArgs, scope: Scope, terminal: bool) -> Result<Action, Usage> {
    if scope == Scope::AllNamespaces {
        return Err(
            "traces reads one SeldonDeployment's traces: give -n NAMESPACE instead of -A".into(),
        );
    }
    if a.target.name.is_none() && !terminal {
        return Err(
            "traces needs a SeldonDeployment name: kubectl seldon-tracing traces NAME -n NAMESPACE"
                .into(),
        );
    }
    if a.since.is_zero() {
        return Err("--since must be more than 0, e.g. 1h".into());
    }
    Ok(Action::Traces(Traces {
        name: a.target.name,
        predictor: a.target.predictor,
        jaeger: jaeger_at(a.target.jaeger)?,
        since: a.since,
        limit: a.limit,
        min_duration: a.min_duration,
    }))
}

fn verify(a: VerifyArgs, scope: Scope, terminal: bool) -> Result<Action, Usage> {
    if scope == Scope::AllNamespaces {
        return Err("verify sends one request through one SeldonDeployment: give -n NAMESPACE instead of -A".into());
    }
    if a.target.name.is_none() && !terminal {
        return Err(
            "verify needs a SeldonDeployment name: kubectl seldon-tracing verify NAME -n NAMESPACE"
                .into(),
        );
    }
    let via = match a.via {
        Some(url) if url.to_ascii_lowercase().starts_with("https://") => {
            return Err(format!(
                "--via {url}: https is not spoken yet; leave --via out to reach the executor through a port-forward, or give an http:// address"
            ));
        }
        Some(url) => Some(Endpoint::parse(&url).map_err(|e| match e {
            crate::jaeger::JaegerError::BadUrl { why, .. } => {
                format!("--via {url} is not a URL the plugin can send to: {why}")
            }
            other => other.to_string(),
        })?),
        None => None,
    };
    let data = match a.data.as_deref() {
        None => Data::Default,
        Some(s) => match s.strip_prefix('@') {
            Some("") => return Err("--data @FILE needs a file name after @".into()),
            Some(file) => Data::File(PathBuf::from(file)),
            None => Data::Inline(serde_json::from_str(s).map_err(|e| {
                format!("--data is not JSON ({e}); give JSON such as '{{\"data\": {{\"ndarray\": [[1.0, 2.0]]}}}}' or @FILE")
            })?),
        },
    };
    if a.timeout.is_zero() {
        return Err("--timeout must be more than 0, e.g. 30s".into());
    }
    Ok(Action::Verify(Verify {
        name: a.target.name,
        predictor: a.target.predictor,
        jaeger: jaeger_at(a.target.jaeger)?,
        via,
        data,
        timeout: a.timeout,
        dry_run: a.dry_run,
    }))
}

fn enable(a: EnableArgs, scope: Scope, terminal: bool) -> Result<Action, Usage> {
    let v2_only = a.ratio.is_some() || a.endpoint.is_some() || a.protocol.is_some();
    if a.core.core == Some(Core::V2) {
        let v1_only = a.sampler.is_some()
            || a.agent_host.is_some()
            || a.agent_host_from_node
            || a.agent_port.is_some()
            || a.propagation.is_some()
            || a.collector_endpoint.is_some();
        if v1_only {
            return Err("--core v2 sets --ratio, --endpoint and --protocol; --sampler, --agent-*, --propagation and --collector-endpoint are for v1 SeldonDeployments".into());
        }
        return runtime_write(
            &a.targets.names,
            &a.targets,
            plan::Intent {
                disable: Some(false),
                ratio: a.ratio,
                endpoint: a.endpoint,
                protocol: a.protocol,
                enable: true,
            },
            "tracing enabled",
            a.core.seldon_namespace,
            &a.mutation,
            terminal,
        );
    }
    if v2_only {
        return Err(
            "--ratio, --endpoint and --protocol set a Seldon Core 2 SeldonRuntime: add --core v2"
                .into(),
        );
    }
    let agent_host = match (a.agent_host, a.agent_host_from_node) {
        (Some(h), _) => Some(AgentHost::Literal(h)),
        (None, true) => Some(AgentHost::FromNode),
        (None, false) => None,
    };
    let ask = if a.sampler.is_none() {
        AskSampler::Optional
    } else {
        AskSampler::No
    };
    let intent = Intent::Enable {
        sampler: a.sampler,
        agent_host,
        agent_port: a.agent_port,
        propagation: a.propagation.map(|h| match h {
            Headers::Jaeger => Propagation::Jaeger,
            Headers::B3 => Propagation::B3,
        }),
        collector: a.collector_endpoint,
    };
    // Only a plain `enable` has a Seldon Core 2 counterpart to offer.
    let plain = matches!(
        &intent,
        Intent::Enable {
            sampler: None,
            agent_host: None,
            agent_port: None,
            propagation: None,
            collector: None
        }
    );
    let mut action = write(intent, ask, a.targets, a.mutation.clone(), scope, terminal)?;
    if plain {
        let offered = plan::Intent {
            disable: Some(false),
            enable: true,
            ..plan::Intent::default()
        };
        offer_core2(
            &mut action,
            &a.core,
            offered,
            "tracing enabled",
            &a.mutation,
        );
    }
    // The sampler is asked for only while guiding the whole choice.
    if let Action::Write(w) = &mut action
        && w.selection != Selection::Guided
    {
        w.ask_sampler = AskSampler::No;
    }
    Ok(action)
}

/// `enable`, `disable`, `sampler` with `--core v2`: the SeldonRuntimes named (all in scope when
/// none), one change to their `tracingConfig`. Flags of v1 are refused, with the reason.
fn runtime_write(
    names: &[String],
    targets: &Targets,
    change: plan::Intent,
    done: &'static str,
    seldon_namespace: String,
    mutation: &Mutation,
    terminal: bool,
) -> Result<Action, Usage> {
    if targets.all
        || targets.selector.is_some()
        || !targets.predictors.is_empty()
        || !targets.files.filename.is_empty()
    {
        return Err("--core v2 changes SeldonRuntimes (one per namespace): --all, -l, --predictor and -f are for v1 SeldonDeployments; name the runtimes or give -n / -A".into());
    }
    if mutation.in_place {
        return Err("--core v2 has no files: leave out --in-place".into());
    }
    if mutation.restart.is_some() && mutation.dry_run != DryRun::None {
        return Err("--restart rolls pods, which a dry run cannot: leave one out".into());
    }
    for (check, value) in [
        (
            plan::check_ratio as fn(&str) -> Result<(), String>,
            &change.ratio,
        ),
        (plan::check_endpoint, &change.endpoint),
        (plan::check_protocol, &change.protocol),
    ] {
        if let Some(v) = value {
            check(v)?;
        }
    }
    Ok(Action::RuntimeWrite(RuntimeWrite {
        names: names.to_vec(),
        change,
        done,
        seldon_namespace,
        dry_run: mutation.dry_run,
        field_manager: mutation.field_manager.clone(),
        interactive: terminal && !mutation.yes,
        ask_ratio: false,
        restart: mutation.restart,
        wait: mutation.wait.then_some(mutation.timeout),
    }))
}

/// `sampler NAME... TYPE[:PARAM]`: the last positional is the sampler when it looks like one
/// (has a ':' or is a type name), so `sampler iris` means "ask me" on a terminal and "missing
/// the sampler" elsewhere. With `--core v2`: `sampler [RUNTIME...] RATIO`.
fn sampler(a: SamplerArgs, scope: Scope, terminal: bool) -> Result<Action, Usage> {
    if a.core.core == Some(Core::V2) {
        let can_ask = terminal && !a.mutation.yes;
        let mut args = a.args.clone();
        // The last argument is the ratio when it is a number; else, on a terminal, it is asked.
        let ratio = match args.last() {
            Some(last) if last.trim().parse::<f64>().is_ok() => args.pop(),
            Some(_) | None if can_ask => None,
            Some(last) => {
                // Not a number: the one-line reason check_ratio gives.
                plan::check_ratio(last)?;
                args.pop()
            }
            None => {
                return Err("missing the ratio: pass [RUNTIME...] RATIO, e.g. `kubectl seldon-tracing sampler --core v2 -n models 0.1`".into());
            }
        };
        let targets = Targets {
            names: args.clone(),
            all: a.all,
            selector: a.selector,
            predictors: a.predictors,
            files: a.files,
        };
        let ask_ratio = ratio.is_none();
        let mut action = runtime_write(
            &args,
            &targets,
            plan::Intent {
                ratio,
                ..plan::Intent::default()
            },
            "ratio set",
            a.core.seldon_namespace,
            &a.mutation,
            terminal,
        )?;
        if let Action::RuntimeWrite(w) = &mut action {
            w.ask_ratio = ask_ratio;
        }
        return Ok(action);
    }
    let mut args = a.args;
    let looks_like_sampler = |s: &str| {
        s.contains(':')
            || SamplerKind::ALL
                .iter()
                .any(|k| k.as_str().eq_ignore_ascii_case(s))
    };
    let can_ask = terminal && !a.mutation.yes && !a.files.local;
    let sampler = match args.last() {
        Some(last) if looks_like_sampler(last) => {
            let s: Sampler = last.parse()?;
            args.pop();
            Some(s)
        }
        _ if can_ask => None,
        _ => {
            return Err(
                "missing the sampler: pass NAME... TYPE[:PARAM], e.g. `kubectl seldon-tracing sampler iris probabilistic:0.1`".into(),
            );
        }
    };
    let names = args
        .iter()
        .map(|n| parse_name(n))
        .collect::<Result<Vec<_>, _>>()?;
    if !names.is_empty() && (a.all || a.selector.is_some()) {
        return Err("give deployment names or --all/-l, not both".into());
    }
    if !a.files.filename.is_empty() && (!names.is_empty() || a.all || a.selector.is_some()) {
        return Err("give -f FILE or deployment names, --all or -l, not both".into());
    }
    let targets = Targets {
        names,
        all: a.all,
        selector: a.selector,
        predictors: a.predictors,
        files: a.files,
    };
    let ask = if sampler.is_none() {
        AskSampler::Required
    } else {
        AskSampler::No
    };
    // The placeholder is replaced by the answer before anything is planned.
    let intent = Intent::Sampler(sampler.unwrap_or_else(Sampler::const_on));
    let mut action = write(intent, ask, targets, a.mutation.clone(), scope, terminal)?;
    // Asked for on a terminal: the ratio is asked too if Seldon Core 2 is chosen.
    if ask == AskSampler::Required {
        offer_core2(
            &mut action,
            &a.core,
            plan::Intent::default(),
            "ratio set",
            &a.mutation,
        );
    }
    Ok(action)
}

fn write(
    intent: Intent,
    ask_sampler: AskSampler,
    t: Targets,
    m: Mutation,
    scope: Scope,
    terminal: bool,
) -> Result<Action, Usage> {
    let wait = m.wait.then_some(m.timeout);
    if m.restart.is_some() {
        return Err("--restart is for --core v2: v1's operator rolls a SeldonDeployment's pods itself when their tracing env changes (add --wait to wait for it)".into());
    }
    if wait.is_some() && t.files.local {
        return Err(
            "--wait follows a rollout in the cluster; --local writes only files: leave out --wait"
                .into(),
        );
    }
    if wait.is_some() && m.dry_run != DryRun::None {
        return Err("--dry-run changes nothing, so there is no rollout to --wait for".into());
    }
    if t.files.local {
        if m.dry_run != DryRun::None {
            return Err(
                "--local never writes to a cluster: leave out --dry-run (without --in-place the result is only printed)".into(),
            );
        }
        if m.in_place && t.files.filename.iter().any(|p| p.as_os_str() == "-") {
            return Err("--in-place cannot rewrite stdin: pass files or directories".into());
        }
        return Ok(Action::LocalWrite(LocalWrite {
            intent,
            predictors: t.predictors,
            paths: t.files.filename,
            in_place: m.in_place,
        }));
    }
    let interactive = terminal && !m.yes;
    if !t.files.filename.is_empty() {
        return Ok(Action::Write(Write {
            intent,
            ask_sampler: AskSampler::No,
            selection: Selection::Manifests(t.files.filename),
            predictors: t.predictors,
            dry_run: m.dry_run,
            field_manager: m.field_manager,
            interactive,
            concurrency: usize::from(m.concurrency),
            chunk_size: m.chunk_size,
            wait,
            or_core2: None,
        }));
    }
    let selection = match (t.names.is_empty(), t.all, t.selector) {
        (false, _, _) if scope == Scope::AllNamespaces => {
            return Err(
                "-A selects every namespace; with deployment names, pass -n NAMESPACE instead"
                    .into(),
            );
        }
        (false, _, _) => {
            let mut names: Vec<String> = Vec::new();
            for n in t.names {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            Selection::Names(names)
        }
        (true, _, Some(sel)) => Selection::Selector(sel),
        (true, true, None) => Selection::All,
        (true, false, None) if interactive => Selection::Guided,
        (true, false, None) => {
            return Err(
                "no SeldonDeployment given: pass NAME..., --all or -l SELECTOR (see kubectl seldon-tracing list)".into(),
            );
        }
    };
    Ok(Action::Write(Write {
        intent,
        ask_sampler,
        selection,
        predictors: t.predictors,
        dry_run: m.dry_run,
        field_manager: m.field_manager,
        interactive,
        concurrency: usize::from(m.concurrency),
        chunk_size: m.chunk_size,
        wait,
        or_core2: None,
    }))
}

/// In the guided flow (a terminal, nothing named, no `--core`), the same change for Seldon Core
/// 2 beside v1's, for the picker to offer when the cluster serves SeldonRuntimes.
fn offer_core2(
    action: &mut Action,
    core: &CoreArgs,
    change: plan::Intent,
    done: &'static str,
    mutation: &Mutation,
) {
    let Action::Write(w) = action else { return };
    if w.selection != Selection::Guided || core.core.is_some() || mutation.wait {
        return;
    }
    let ask_ratio = change.ratio.is_none() && change.disable.is_none();
    w.or_core2 = Some(Box::new(RuntimeWrite {
        names: Vec::new(),
        change,
        done,
        seldon_namespace: core.seldon_namespace.clone(),
        dry_run: mutation.dry_run,
        field_manager: mutation.field_manager.clone(),
        interactive: true,
        ask_ratio,
        restart: None,
        wait: None,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn argv(line: &str, terminal: bool) -> Result<Invocation, Usage> {
        let cli = Cli::try_parse_from(
            std::iter::once("kubectl-seldon_tracing").chain(line.split_whitespace()),
        )
        .map_err(|e| format!("clap: {:?}", e.kind()))?;
        resolve(cli, terminal)
    }

    /// `line` must be refused with an error containing `want`.
    fn assert_refused(line: &str, terminal: bool, want: &str) {
        match argv(line, terminal) {
            Err(e) => assert!(e.contains(want), "{line}: {e}"),
            Ok(i) => panic!("{line}: accepted as {i:?}"),
        }
    }

    fn write_of(line: &str, terminal: bool) -> Write {
        match argv(line, terminal).expect(line).action {
            Action::Write(w) => w,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn selections() {
        let table: &[(&str, bool, Selection)] = &[
            (
                "enable iris churn iris",
                false,
                Selection::Names(vec!["iris".into(), "churn".into()]),
            ),
            ("disable --all -n models", false, Selection::All),
            ("disable --all -A --yes", true, Selection::All),
            (
                "enable -l team=fraud -A",
                false,
                Selection::Selector("team=fraud".into()),
            ),
            ("enable", true, Selection::Guided),
            ("sampler const:1", true, Selection::Guided),
            (
                "sampler iris churn ratelimiting:5",
                false,
                Selection::Names(vec!["iris".into(), "churn".into()]),
            ),
        ];
        for (line, terminal, want) in table {
            assert_eq!(&write_of(line, *terminal).selection, want, "{line}");
        }
    }

    #[test]
    fn usage_errors_need_no_cluster() {
        let table: &[(&str, bool, &str)] = &[
            ("enable iris -A", false, "-A selects every namespace"),
            ("disable --yes", true, "no SeldonDeployment given"),
            ("disable", false, "no SeldonDeployment given"),
            ("sampler iris", false, "missing the sampler"),
            ("sampler iris --yes", true, "missing the sampler"),
            ("sampler --all iris const:1", false, "not both"),
            (
                "sampler Iris const:1",
                false,
                "not a valid SeldonDeployment name",
            ),
            ("sampler iris const:2", false, "takes 0 or 1"),
            (
                "enable iris --sampler const:2",
                false,
                "clap: ValueValidation",
            ),
            ("enable iris --all", false, "clap: ArgumentConflict"),
            (
                "enable iris --collector-endpoint udp://c:1",
                false,
                "clap: ValueValidation",
            ),
            (
                "enable iris --wait --dry-run",
                false,
                "no rollout to --wait for",
            ),
            ("enable -f d --local --wait", false, "leave out --wait"),
            (
                "enable iris --timeout 1m",
                false,
                "clap: MissingRequiredArgument",
            ),
            (
                "disable iris --wait --timeout soon",
                false,
                "clap: ValueValidation",
            ),
            (
                "status --watch --expect on",
                false,
                "clap: ArgumentConflict",
            ),
            (
                "status --timeout 1m",
                false,
                "clap: MissingRequiredArgument",
            ),
            (
                "status -w -f d --local",
                false,
                "--local reads only the files",
            ),
        ];
        for (line, terminal, want) in table {
            assert_refused(line, *terminal, want);
        }
    }

    #[test]
    fn waiting_and_watching() {
        assert_eq!(write_of("enable iris", false).wait, None);
        assert_eq!(
            write_of("enable iris --wait", false).wait,
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            write_of("sampler iris const:1 --wait --timeout 90s", false).wait,
            Some(Duration::from_secs(90))
        );
        let watch = |line: &str| match argv(line, false).expect(line).action {
            Action::Status { watch, .. } => watch,
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(watch("status"), None);
        assert_eq!(watch("status -w"), Some(Watch { timeout: None }));
        assert_eq!(
            watch("status iris --watch --timeout 10m"),
            Some(Watch {
                timeout: Some(Duration::from_secs(600))
            })
        );
    }

    #[test]
    fn intents_and_prompts() {
        let w = write_of(
            "enable iris --sampler probabilistic:0.5 --agent-host-from-node --propagation b3",
            false,
        );
        assert_eq!(
            w.intent,
            Intent::Enable {
                sampler: Some("probabilistic:0.5".parse().unwrap()),
                agent_host: Some(AgentHost::FromNode),
                agent_port: None,
                propagation: Some(Propagation::B3),
                collector: None,
            }
        );
        assert_eq!((w.ask_sampler, w.interactive), (AskSampler::No, false));
        // Guided enable on a terminal asks for the sampler; with names it keeps the current one.
        assert_eq!(write_of("enable", true).ask_sampler, AskSampler::Optional);
        assert_eq!(write_of("enable iris", true).ask_sampler, AskSampler::No);
        assert_eq!(
            write_of("sampler iris", true).ask_sampler,
            AskSampler::Required
        );
        assert!(!write_of("enable iris --yes", true).interactive);
        let w = write_of(
            "disable iris --dry-run --field-manager me --concurrency 3 --predictor canary",
            false,
        );
        assert_eq!(
            (
                w.intent,
                w.dry_run,
                w.field_manager.as_str(),
                w.concurrency,
                w.predictors
            ),
            (
                Intent::Disable,
                DryRun::Client,
                "me",
                3,
                vec!["canary".to_string()]
            )
        );
    }

    #[test]
    fn manifests_select_objects_or_stand_alone() {
        let i = argv(
            "enable -f deploy -f extra.yaml --local --in-place --sampler const:1",
            true,
        )
        .unwrap();
        match i.action {
            Action::LocalWrite(w) => {
                assert_eq!(
                    w.paths,
                    [PathBuf::from("deploy"), PathBuf::from("extra.yaml")]
                );
                assert!(w.in_place);
                assert!(matches!(
                    w.intent,
                    Intent::Enable {
                        sampler: Some(_),
                        ..
                    }
                ));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            write_of("disable -f deploy -n models", false).selection,
            Selection::Manifests(vec!["deploy".into()])
        );
        let i = argv("status -f deploy --local --expect on", false).unwrap();
        assert!(matches!(
            i.action,
            Action::Status {
                manifests: Manifests::Local(_),
                expect: Some(Expect::On),
                ..
            }
        ));
        let i = argv("list -f a.yaml", false).unwrap();
        assert!(matches!(
            i.action,
            Action::List {
                manifests: Manifests::InCluster(_),
                ..
            }
        ));
        let refused: &[(&str, &str)] = &[
            ("enable -f deploy --local --dry-run", "leave out --dry-run"),
            ("enable -f - --local --in-place", "cannot rewrite stdin"),
            ("sampler -f deploy --local", "missing the sampler"),
            ("sampler iris -f deploy const:1", "not both"),
            ("enable iris -f deploy", "clap: ArgumentConflict"),
            (
                "enable --in-place -f deploy",
                "clap: MissingRequiredArgument",
            ),
            ("status --local", "clap: MissingRequiredArgument"),
            ("status iris -f deploy", "clap: ArgumentConflict"),
        ];
        for (line, want) in refused {
            assert_refused(line, true, want);
        }
    }

    #[test]
    fn connection_scope_and_output() {
        let i = argv(
            "status iris -n models --context kind --kubeconfig /k --request-timeout 5s -o json",
            false,
        )
        .unwrap();
        assert_eq!(
            i.connection,
            Connection {
                kubeconfig: Some("/k".into()),
                context: Some("kind".into()),
                namespace: Some("models".into()),
                request_timeout: Duration::from_secs(5),
            }
        );
        assert_eq!((i.scope, i.output), (Scope::Namespace, Output::Json));
        assert_eq!(
            i.action,
            Action::Status {
                name: Some("iris".into()),
                selector: None,
                chunk_size: 500,
                manifests: Manifests::None,
                expect: None,
                watch: None,
                core: Generations::Served {
                    seldon_namespace: "seldon-mesh".into()
                },
            }
        );
        let i = argv("list -A -l team=fraud --chunk-size 50", false).unwrap();
        assert_eq!(i.scope, Scope::AllNamespaces);
        assert_eq!(
            i.action,
            Action::List {
                selector: Some("team=fraud".into()),
                chunk_size: 50,
                manifests: Manifests::None,
                core: Generations::V1,
            }
        );
    }

    #[test]
    fn the_guided_flow_carries_the_seldon_core_2_change_to_offer() {
        let offered = |line: &str| {
            write_of(line, true)
                .or_core2
                .map(|w| (w.change, w.ask_ratio))
        };
        let disable = plan::Intent {
            disable: Some(true),
            ..plan::Intent::default()
        };
        assert_eq!(offered("disable"), Some((disable, false)));
        assert_eq!(
            offered("enable").map(|(c, _)| (c.disable, c.enable)),
            Some((Some(false), true))
        );
        assert_eq!(offered("sampler"), Some((plan::Intent::default(), true)));
        for v1_only in [
            "disable iris",
            "disable --core v1",
            "enable --sampler const:1",
            "enable --propagation b3",
            "disable --wait",
            "sampler probabilistic:0.1",
        ] {
            assert_eq!(offered(v1_only), None, "{v1_only}");
        }
        // Without a terminal nothing is guided: a name is needed.
        assert!(argv("disable", false).is_err());
    }

    #[test]
    fn list_and_status_read_both_generations_unless_told_or_v1_only() {
        let core = |line: &str| match argv(line, false).expect(line).action {
            Action::Status { core, .. } | Action::List { core, .. } => Some(core),
            Action::RuntimeStatus { .. } => None,
            other => panic!("{line}: {other:?}"),
        };
        let served = |ns: &str| {
            Some(Generations::Served {
                seldon_namespace: ns.into(),
            })
        };
        assert_eq!(core("list"), served("seldon-mesh"));
        assert_eq!(core("status -A"), served("seldon-mesh"));
        assert_eq!(core("status iris"), served("seldon-mesh"));
        assert_eq!(core("list --seldon-namespace ops"), served("ops"));
        assert_eq!(core("status --expect on"), served("seldon-mesh"));
        for v1_only in [
            "list --core v1",
            "status --core v1",
            "list -l team=fraud",
            "list -f a.yaml",
            "status -f a.yaml",
            "status -w",
            "status -l a=b",
        ] {
            assert_eq!(core(v1_only), Some(Generations::V1), "{v1_only}");
        }
        assert_eq!(core("list --core v2"), None);
        assert_eq!(core("status --core v2 seldon"), None);
        assert_refused("list --core v2 -l a=b", false, "are for v1");
    }
}
