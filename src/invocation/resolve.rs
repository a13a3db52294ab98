//! `resolve`, per verb: what clap parsed, judged into an [`Invocation`](super::Invocation) or a
//! usage error, with no I/O.

use std::path::PathBuf;

use super::{
    Action, AskSampler, Core2Target, Data, Generations, Invocation, JaegerAt, LocalWrite,
    Manifests, RuntimeWrite, Scope, Selection, Traced, Traces, Transport, Usage, Verify, Watch,
    Write,
};
use crate::cli::{
    Cli, Command, Core, CoreArgs, DisableArgs, EnableArgs, Headers, JaegerArgs, ListArgs,
    ListCommand, Mutation, SamplerArgs, StatusArgs, Targets, TracedPredictor, TracesArgs,
    VerifyArgs, parse_name,
};
use crate::domain::v1::clients::Propagation;
use crate::domain::v1::plan::{AgentHost, Intent};
use crate::domain::v1::sampler::{Sampler, SamplerKind};
use crate::domain::v2::plan;
use crate::jaeger::Access;
use crate::jaeger::Endpoint;
use crate::options::Connection;
use crate::options::DryRun;
use crate::web::Secret;
use crate::web::TlsOptions;

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

fn jaeger_at(a: &JaegerArgs) -> Result<JaegerAt, Usage> {
    match (&a.jaeger, &a.jaeger_service) {
        (Some(url), _) => Endpoint::parse(url)
            .map(JaegerAt::Url)
            .map_err(|e| format!("--jaeger: {e}")),
        (None, Some(svc)) => Ok(JaegerAt::Service(svc.clone())),
        (None, None) => Ok(JaegerAt::Discover),
    }
}

/// TLS checks and the headers to send to Jaeger. A header's value is never shown, also not in
/// its error.
fn jaeger_access(a: &JaegerArgs) -> Result<Access, Usage> {
    let mut headers = Vec::new();
    for h in &a.jaeger_headers {
        // Without a colon nothing tells name from value: none of it is echoed.
        let (name, value) = h.split_once(':').ok_or_else(|| {
            "--jaeger-header: give NAME: VALUE, e.g. 'X-Scope-OrgID: team-a'".to_string()
        })?;
        let name = name.trim();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            return Err(format!(
                "--jaeger-header: {name:?} is not a header name (letters, digits, - and _)"
            ));
        }
        headers.push((name.to_ascii_lowercase(), Secret::new(value.trim())));
    }
    if let Some(token) = a.jaeger_token.as_deref().filter(|t| !t.trim().is_empty()) {
        if headers.iter().any(|(k, _)| k == "authorization") {
            return Err(
                "give either --jaeger-token ($SELDON_TRACING_JAEGER_TOKEN) or an Authorization --jaeger-header, not both"
                    .into(),
            );
        }
        headers.push((
            "authorization".into(),
            Secret::new(format!("Bearer {}", token.trim())),
        ));
    }
    if a.insecure_skip_tls_verify && a.jaeger_ca.is_some() {
        return Err("give either --jaeger-ca or --insecure-skip-tls-verify, not both".into());
    }
    Ok(Access {
        tls: TlsOptions {
            ca_file: a.jaeger_ca.clone(),
            insecure: a.insecure_skip_tls_verify,
        },
        headers,
    })
}

/// The SeldonDeployment and predictor `verify` or `traces` reads (one, in one namespace; named
/// unless a terminal can ask), and the Jaeger to read from. `what` says what the verb does with
/// it, for the refusal of -A.
fn traced(
    verb: &str,
    what: &str,
    a: TracedPredictor,
    scope: Scope,
    terminal: bool,
) -> Result<Traced, Usage> {
    if scope == Scope::AllNamespaces {
        return Err(format!("{verb} {what}: give -n NAMESPACE instead of -A"));
    }
    let core2 = (a.pipeline || a.core == Some(Core::V2)).then(|| Core2Target {
        pipeline: a.pipeline,
        seldon_namespace: a.seldon_namespace.clone(),
    });
    if a.pipeline && a.core == Some(Core::V1) {
        return Err("--pipeline is a Seldon Core 2 Pipeline: drop --core v1".into());
    }
    if core2.is_some() && a.predictor.is_some() {
        return Err(
            "--predictor is a SeldonDeployment's: a Seldon Core 2 Model has none (drop --predictor or --core v2)"
                .into(),
        );
    }
    if a.name.is_none() && !terminal {
        return Err(match &core2 {
            Some(t) if t.pipeline => format!(
                "{verb} --pipeline needs a Pipeline name: kubectl seldon-tracing {verb} --pipeline NAME -n NAMESPACE"
            ),
            Some(_) => format!(
                "{verb} --core v2 needs a Model name: kubectl seldon-tracing {verb} --core v2 NAME -n NAMESPACE"
            ),
            None => format!(
                "{verb} needs a SeldonDeployment name: kubectl seldon-tracing {verb} NAME -n NAMESPACE"
            ),
        });
    }
    Ok(Traced {
        jaeger: jaeger_at(&a.jaeger)?,
        access: jaeger_access(&a.jaeger)?,
        name: a.name,
        predictor: a.predictor,
        core2,
    })
}

fn traces(a: TracesArgs, scope: Scope, terminal: bool) -> Result<Action, Usage> {
    let target = traced(
        "traces",
        "reads one SeldonDeployment's traces",
        a.target,
        scope,
        terminal,
    )?;
    if a.since.is_zero() {
        return Err("--since must be more than 0, e.g. 1h".into());
    }
    Ok(Action::Traces(Traces {
        target,
        since: a.since,
        limit: a.limit,
        min_duration: a.min_duration,
    }))
}

/// Whether `--via url` asks for gRPC (`grpc://`, `grpcs://`), and the URL with the scheme that
/// names the same stream (`http://`, `https://`).
fn via_grpc(url: &str) -> (bool, String) {
    match url.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("grpc") => (true, format!("http://{rest}")),
        Some((s, rest)) if s.eq_ignore_ascii_case("grpcs") => (true, format!("https://{rest}")),
        _ => (false, url.to_string()),
    }
}

fn verify(a: VerifyArgs, scope: Scope, terminal: bool) -> Result<Action, Usage> {
    let target = traced(
        "verify",
        "sends one request through one SeldonDeployment",
        a.target,
        scope,
        terminal,
    )?;
    let mut transport = match (a.grpc, a.rest) {
        (true, _) => Transport::Grpc,
        (_, true) => Transport::Rest,
        _ => Transport::Auto,
    };
    let via = match a.via {
        Some(url) => {
            let (grpc, as_http) = via_grpc(&url);
            let shown = crate::jaeger::redacted(&url);
            match (grpc, transport) {
                (true, Transport::Rest) => {
                    return Err(format!(
                        "--rest and --via {shown} disagree: a grpc:// URL takes gRPC; give an http(s):// URL for REST"
                    ));
                }
                (false, Transport::Grpc) => {
                    return Err(format!(
                        "--grpc and --via {shown} disagree: give --via grpc://HOST:PORT (or grpcs://) for gRPC"
                    ));
                }
                (true, _) => transport = Transport::Grpc,
                (false, _) => transport = Transport::Rest,
            }
            let endpoint = Endpoint::parse(&as_http).map_err(|e| match e {
                crate::jaeger::JaegerError::BadUrl { why, .. } => {
                    format!("--via {shown} is not a URL the plugin can send to: {why}")
                }
                other => other.to_string(),
            })?;
            if grpc && !endpoint.base_path.trim_matches('/').is_empty() {
                return Err(format!(
                    "--via {shown}: a gRPC address has no path (the method is seldon.protos.Seldon/Predict); give grpc://HOST:PORT"
                ));
            }
            Some(endpoint)
        }
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
        target,
        via,
        transport,
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
        concurrency: usize::from(mutation.concurrency),
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
        concurrency: usize::from(mutation.concurrency),
    }));
}
