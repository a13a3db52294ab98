//! Command-line interface: the same global flags kubectl has, one subcommand per verb.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::v1::sampler::Sampler;
use crate::options::{DryRun, Expect, Output, Restart};

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-seldon_tracing",
    bin_name = "kubectl seldon-tracing",
    version,
    about = "See and change Jaeger tracing on Seldon Core v1 SeldonDeployments",
    long_about = "See and change Jaeger tracing on Seldon Core v1 SeldonDeployments.\n\n\
        Each predictor runs an executor (switched off only by JAEGER_DISABLED=true, its sampler \
        decides for the whole request) and Python components (switched by TRACING=1/0). This \
        plugin reads and writes those variables with server-side apply, changing nothing else.",
    after_help = "Examples:\n  kubectl seldon-tracing list -A\n  kubectl seldon-tracing status iris\n  \
        kubectl seldon-tracing enable iris --sampler probabilistic:0.1\n  kubectl seldon-tracing disable --all -n models"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace (default: the context's namespace)
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// Act on every namespace
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, default_value = "table")]
    pub output: Output,
    /// Time to wait for each request to the server, e.g. 10s, 1m; 0 waits forever
    #[arg(long, global = true, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub request_timeout: Duration,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List SeldonDeployments with a one-word tracing summary
    #[command(
        visible_alias = "ls",
        after_help = "Examples:\n  kubectl seldon-tracing list -A\n  kubectl seldon-tracing list -l team=fraud -o wide"
    )]
    List(ListCommand),
    /// Show tracing per predictor and component, with where each value comes from and warnings
    #[command(
        after_help = "Examples:\n  kubectl seldon-tracing status iris -n models\n  kubectl seldon-tracing status iris -A\n  kubectl seldon-tracing status -A -o json"
    )]
    Status(StatusArgs),
    /// Turn tracing on (executor and Python components)
    #[command(
        after_help = "Examples:\n  kubectl seldon-tracing enable iris\n  kubectl seldon-tracing enable iris --agent-host jaeger-agent.tracing --sampler const:1\n  kubectl seldon-tracing enable --all -n models --dry-run=server\n  kubectl seldon-tracing enable churn --predictor canary\n  kubectl seldon-tracing enable iris --collector-endpoint http://collector.tracing:14268/api/traces\n  kubectl seldon-tracing enable iris --propagation b3"
    )]
    Enable(EnableArgs),
    /// Turn tracing off, keeping the other tracing settings for a later enable
    #[command(
        after_help = "Examples:\n  kubectl seldon-tracing disable iris\n  kubectl seldon-tracing disable -l team=fraud -A --yes"
    )]
    Disable(DisableArgs),
    /// Change only the executor's sampler (it decides for requests that pass through it)
    #[command(
        after_help = "Samplers:\n  const:1 | const:0        every request | none\n  probabilistic:0.1        a random 10% of requests\n  ratelimiting:5           at most 5 traces per second\n  remote[:0.001]           ask the Jaeger agent (port 5778); optional initial rate\n\nExamples:\n  kubectl seldon-tracing sampler iris probabilistic:0.1\n  kubectl seldon-tracing sampler --all -n models ratelimiting:5"
    )]
    Sampler(SamplerArgs),
    /// Send one traced request through a predictor and show each hop's span: proves that spans reach Jaeger
    #[command(
        long_about = "Send one prediction request through a predictor's executor with a trace context the plugin makes and marks sampled (no sampler can drop it), fetch that trace from Jaeger, draw it as a waterfall and say, per component, whether its span arrived or why not.\n\nExit 0 when the executor and every Python component have a span in the trace, 1 when one has none, 2 on usage errors.",
        after_help = "Examples:\n  kubectl seldon-tracing verify iris -n models\n  kubectl seldon-tracing verify iris --jaeger http://localhost:16686\n  kubectl seldon-tracing verify iris --jaeger-service tracing/jaeger-query\n  kubectl seldon-tracing verify iris --via http://gw/seldon/models/iris --data @req.json\n  kubectl seldon-tracing verify iris --grpc\n  kubectl seldon-tracing verify iris --dry-run"
    )]
    Verify(VerifyArgs),
    /// Latency per hop of a deployment's recent traces (count, p50, p95, p99, max, errors) and its slowest trace
    #[command(
        after_help = "Examples:\n  kubectl seldon-tracing traces iris -n models\n  kubectl seldon-tracing traces iris --since 15m --min-duration 50ms\n  kubectl seldon-tracing traces iris --jaeger http://localhost:16686 -o json"
    )]
    Traces(TracesArgs),
    /// Print the plugin version and, when reachable, the server version
    Version {
        /// Only the plugin version; never contacts the cluster
        #[arg(long)]
        client: bool,
    },
    /// Print a shell completion script
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Manifests as input: the objects they name in the cluster, or, with --local, the files.
#[derive(Debug, Args)]
pub struct Files {
    /// A manifest file, a directory (read recursively for *.yaml, *.yml, *.json) or - for stdin; repeatable. Without --local it names the objects to act on in the cluster
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filename: Vec<PathBuf>,
    /// Work on the files only: no cluster, no kubeconfig. Writes print the changed manifests (YAML, or JSON with -o json) or rewrite them with --in-place; comments are not kept
    #[arg(long, requires = "filename")]
    pub local: bool,
}

#[derive(Debug, Args)]
pub struct ListCommand {
    #[command(flatten)]
    pub list: ListArgs,
    #[command(flatten)]
    pub core: CoreArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only deployments whose labels match this selector (e.g. team=fraud)
    #[arg(
        short = 'l',
        long,
        value_name = "SELECTOR",
        conflicts_with = "filename"
    )]
    pub selector: Option<String>,
    /// Objects per list request (pagination); 0 reads everything at once
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub chunk_size: u32,
    #[command(flatten)]
    pub files: Files,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// SeldonDeployment name (all in the namespace when omitted; in every namespace with -A)
    #[arg(value_parser = parse_name, conflicts_with_all = ["selector", "filename"])]
    pub name: Option<String>,
    /// Exit 1, naming each one, when an executor or Python component (or a Seldon Core 2 SeldonRuntime) is not in this state (on: on; off: off or idle); a CI gate
    #[arg(long, value_enum, value_name = "on|off")]
    pub expect: Option<Expect>,
    /// Keep watching: print the rows of each SeldonDeployment again when it or its Deployments change, until Ctrl-C or --timeout
    #[arg(short = 'w', long, conflicts_with = "expect")]
    pub watch: bool,
    /// With --watch: stop after this long, e.g. 10m (default: until Ctrl-C)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "watch")]
    pub timeout: Option<Duration>,
    #[command(flatten)]
    pub core: CoreArgs,
    #[command(flatten)]
    pub list: ListArgs,
}

/// Which Seldon generation a command acts on.
#[derive(Debug, Args)]
pub struct CoreArgs {
    /// Seldon generation: v1 (SeldonDeployments) or v2 (SeldonRuntimes: one tracing setting per namespace; NAME is then a runtime). list and status show both when the cluster serves both; enable, disable and sampler default to v1
    #[arg(long, value_enum, value_name = "v1|v2")]
    pub core: Option<Core>,
    /// Seldon Core 2: the namespace the Seldon operator reads SeldonConfigs from
    #[arg(long, value_name = "NS", default_value = "seldon-mesh")]
    pub seldon_namespace: String,
}

/// A Seldon Core generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Core {
    V1,
    V2,
}

#[derive(Debug, Args)]
pub struct Targets {
    /// SeldonDeployment names
    #[arg(value_parser = parse_name, conflicts_with = "filename")]
    pub names: Vec<String>,
    /// Every SeldonDeployment in the namespace (or every namespace with -A)
    #[arg(long, conflicts_with_all = ["names", "filename"])]
    pub all: bool,
    /// Deployments whose labels match this selector
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with_all = ["names", "filename"])]
    pub selector: Option<String>,
    /// Only these predictors (repeatable; default: all)
    #[arg(long = "predictor", value_name = "NAME")]
    pub predictors: Vec<String>,
    #[command(flatten)]
    pub files: Files,
}

#[derive(Debug, Clone, Args)]
pub struct Mutation {
    /// none: write; server: ask the server to validate without storing; client: only print the plan
    #[arg(long, value_enum, default_value = "none", num_args = 0..=1, default_missing_value = "client", require_equals = true)]
    pub dry_run: DryRun,
    /// Field manager recorded in managedFields
    #[arg(long, default_value = "kubectl-seldon-tracing", value_name = "NAME")]
    pub field_manager: String,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Objects (SeldonDeployments, or SeldonRuntimes with --core v2) written at the same time
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256), value_name = "N")]
    pub concurrency: u16,
    /// Objects per list request when selecting with --all or -l
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub chunk_size: u32,
    /// With --local: rewrite the files instead of printing (each one replaced whole, never half-written)
    #[arg(long, requires = "local")]
    pub in_place: bool,
    /// After writing, wait until the pods of every predictor addressed run the new tracing env; exit 1 at --timeout
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, e.g. 90s, 5m
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration, requires = "wait")]
    pub timeout: Duration,
    /// With --core v2: once the operator has written the setting, restart the pods that run an older one (core: the runtime's components; servers: the Servers' pods; all: both). Nothing else restarts them
    #[arg(long, value_enum, value_name = "core|servers|all", num_args = 0..=1, default_missing_value = "core", require_equals = true)]
    pub restart: Option<Restart>,
}

#[derive(Debug, Args)]
pub struct EnableArgs {
    #[command(flatten)]
    pub targets: Targets,
    /// Executor sampler TYPE[:PARAM] (default: keep the current one, else const:1)
    #[arg(long, value_name = "TYPE[:PARAM]", value_parser = parse_sampler)]
    pub sampler: Option<Sampler>,
    /// Send spans to this agent host (a Service name or IP)
    #[arg(long, value_name = "HOST", value_parser = parse_host, conflicts_with = "agent_host_from_node")]
    pub agent_host: Option<String>,
    /// Send spans to the agent on each pod's node (valueFrom fieldRef status.hostIP); the default when no host is set
    #[arg(long)]
    pub agent_host_from_node: bool,
    /// Agent UDP port (default: keep the current one, else 6831)
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub agent_port: Option<u16>,
    /// Trace headers of the executor: jaeger (uber-trace-id, the default) or b3 (X-B3-*). Python components read Jaeger headers unless their JAEGER_CONFIG_PATH file says `propagation: b3`
    #[arg(long, value_enum, value_name = "HEADERS")]
    pub propagation: Option<Headers>,
    /// With --core v2: the sampling ratio from 0 to 1 (tracingConfig.ratio)
    #[arg(long, value_name = "RATIO")]
    pub ratio: Option<String>,
    /// With --core v2: the OTLP gRPC collector the core components export to, HOST:PORT (tracingConfig.otelExporterEndpoint)
    #[arg(long, value_name = "HOST:PORT")]
    pub endpoint: Option<String>,
    /// With --core v2: grpc or http/protobuf (tracingConfig.otelExporterProtocol, read by the dataflow engine)
    #[arg(long, value_name = "PROTOCOL")]
    pub protocol: Option<String>,
    #[command(flatten)]
    pub core: CoreArgs,
    /// Send the executor's spans to a Jaeger collector over HTTP (JAEGER_ENDPOINT) instead of the agent, e.g. http://jaeger-collector.tracing:14268/api/traces; Python components keep the agent. --agent-host/--agent-port without it switch the executor back to the agent
    #[arg(long, value_name = "URL", value_parser = parse_collector)]
    pub collector_endpoint: Option<String>,
    #[command(flatten)]
    pub mutation: Mutation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Headers {
    Jaeger,
    B3,
}

#[derive(Debug, Args)]
pub struct DisableArgs {
    #[command(flatten)]
    pub targets: Targets,
    #[command(flatten)]
    pub core: CoreArgs,
    #[command(flatten)]
    pub mutation: Mutation,
}

#[derive(Debug, Args)]
pub struct SamplerArgs {
    /// SeldonDeployment names, then the sampler TYPE[:PARAM] as the last argument
    #[arg(value_name = "NAME... TYPE[:PARAM]")]
    pub args: Vec<String>,
    /// Every SeldonDeployment in the namespace (or every namespace with -A)
    #[arg(long)]
    pub all: bool,
    /// Deployments whose labels match this selector
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Only these predictors (repeatable; default: all)
    #[arg(long = "predictor", value_name = "NAME")]
    pub predictors: Vec<String>,
    #[command(flatten)]
    pub files: Files,
    #[command(flatten)]
    pub core: CoreArgs,
    #[command(flatten)]
    pub mutation: Mutation,
}

/// Where Jaeger's query API is (`verify`, `traces`).
#[derive(Debug, Clone, Args)]
pub struct JaegerArgs {
    /// Jaeger's query API at this URL, e.g. http://localhost:16686 (default: $SELDON_TRACING_JAEGER, else found in the cluster)
    #[arg(
        long,
        value_name = "URL",
        env = "SELDON_TRACING_JAEGER",
        conflicts_with = "jaeger_service"
    )]
    pub jaeger: Option<String>,
    /// Reach Jaeger's query API through a port-forward to a ready pod behind this Service; PORT defaults to 16686 or the port named http-query
    #[arg(long, value_name = "[NS/]SVC[:PORT][/BASE]", value_parser = parse_service_ref)]
    pub jaeger_service: Option<crate::domain::traces::endpoints::ServiceRef>,
    /// Trust these PEM certificates (besides the system's) for an https --jaeger (and --via)
    #[arg(long, value_name = "FILE")]
    pub jaeger_ca: Option<PathBuf>,
    /// Do not check the certificate of an https --jaeger (or --via): for tests only
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// A header sent to Jaeger with every request, e.g. 'X-Scope-OrgID: team-a' (repeatable)
    #[arg(long = "jaeger-header", value_name = "NAME: VALUE")]
    pub jaeger_headers: Vec<String>,
    /// Sent to Jaeger as `Authorization: Bearer TOKEN`; set it in the environment, not on the command line
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SELDON_TRACING_JAEGER_TOKEN",
        hide_env_values = true
    )]
    pub jaeger_token: Option<String>,
}

/// One predictor of one SeldonDeployment, and where Jaeger is (`verify`, `traces`).
#[derive(Debug, Args)]
pub struct TracedPredictor {
    /// SeldonDeployment name (asked for on a terminal when omitted)
    #[arg(value_parser = parse_name)]
    pub name: Option<String>,
    /// The predictor (default: the only one, else the one with the most traffic; a terminal asks)
    #[arg(long, value_name = "NAME")]
    pub predictor: Option<String>,
    /// Seldon generation: v2 makes NAME a Seldon Core 2 Model (a Pipeline with --pipeline)
    #[arg(long, value_enum, value_name = "v1|v2")]
    pub core: Option<Core>,
    /// Seldon Core 2: NAME is a Pipeline (implies --core v2)
    #[arg(long, conflicts_with = "predictor")]
    pub pipeline: bool,
    /// Seldon Core 2: the namespace the Seldon operator reads SeldonConfigs from
    #[arg(long, value_name = "NS", default_value = "seldon-mesh")]
    pub seldon_namespace: String,
    #[command(flatten)]
    pub jaeger: JaegerArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub target: TracedPredictor,
    /// Send the request to this base URL (an ingress, a local port-forward) instead of a port-forward to the executor pod; grpc://HOST:PORT (or grpcs://) sends it over gRPC
    #[arg(long, value_name = "URL")]
    pub via: Option<String>,
    /// Send one gRPC seldon.protos.Seldon/Predict call to the executor's gRPC port (the default for a predictor whose transport is grpc)
    #[arg(long, conflicts_with = "rest")]
    pub grpc: bool,
    /// Send a REST request to the executor's HTTP port, also when the predictor's transport is grpc
    #[arg(long)]
    pub rest: bool,
    /// The request body: JSON, or @FILE (default: the smallest valid request for the predictor's protocol)
    #[arg(long, value_name = "JSON|@FILE")]
    pub data: Option<String>,
    /// How long to wait for the spans, e.g. 30s, 2m
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Show the request and where it would go; send nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct TracesArgs {
    #[command(flatten)]
    pub target: TracedPredictor,
    /// How far back to look, e.g. 15m, 1h, 24h
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub since: Duration,
    /// At most this many traces (the newest)
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10000), value_name = "N")]
    pub limit: u32,
    /// Only traces at least this long, e.g. 50ms
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub min_duration: Option<Duration>,
}

fn parse_service_ref(s: &str) -> Result<crate::domain::traces::endpoints::ServiceRef, String> {
    s.parse()
}

fn parse_sampler(s: &str) -> Result<Sampler, String> {
    s.parse()
}

/// Kubernetes object names are DNS-1123 subdomains.
pub fn parse_name(s: &str) -> Result<String, String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !s.is_empty()
        && s.len() <= 253
        && s.chars().all(ok_char)
        && edge(s.chars().next())
        && edge(s.chars().last())
    {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a valid SeldonDeployment name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
        ))
    }
}

/// An agent host: a DNS name or an IP address, nothing with spaces or schemes.
fn parse_host(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '_'));
    if ok && !s.contains("://") {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a host name or IP address (e.g. jaeger-agent.observability or 10.0.0.5)"
        ))
    }
}

/// A collector URL the executor's client accepts (`url.ParseRequestURI`, as `FromEnv` checks
/// `JAEGER_ENDPOINT`) and can post spans to (http or https).
fn parse_collector(s: &str) -> Result<String, String> {
    let example = "e.g. http://jaeger-collector.tracing:14268/api/traces";
    crate::domain::goparse::parse_request_uri(s)
        .map_err(|why| format!("'{s}' is refused by the Jaeger client ({why}); {example}"))?;
    let (scheme, rest) = s.split_once("://").unwrap_or(("", ""));
    let web = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    match rest.split(['/', '?']).next() {
        Some(host) if web && !host.is_empty() => Ok(s.to_string()),
        _ => Err(format!(
            "'{s}' is not an http(s) URL the executor can post spans to; {example}"
        )),
    }
}

/// kubectl's --request-timeout: a bare number of seconds or a duration like 500ms, 10s, 1m, 1h.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("'{s}' is not a duration (e.g. 0, 30, 10s, 1m)");
    let t = s.trim();
    let (num, unit) = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((t, "s"), |i| t.split_at(i));
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_in_the_help_parses() {
        use clap::CommandFactory;
        let mut root = Cli::command();
        let mut helps = vec![root.render_long_help().to_string()];
        for sub in root.get_subcommands_mut() {
            helps.push(sub.render_long_help().to_string());
        }
        let examples: Vec<String> = helps
            .iter()
            .flat_map(|h| h.lines())
            .filter_map(|l| l.trim().strip_prefix("kubectl seldon-tracing "))
            .map(str::to_string)
            .collect();
        assert!(examples.len() >= 15, "{examples:?}");
        for e in examples {
            let args = std::iter::once("kubectl-seldon_tracing").chain(e.split_whitespace());
            if let Err(err) = Cli::try_parse_from(args) {
                panic!("`{e}`: {err}");
            }
        }
    }

    #[test]
    fn names_must_be_dns_subdomains() {
        assert!(parse_name("iris-v1.prod").is_ok());
        for bad in ["Iris", "iris_v1", "-iris", "iris-", "", "a b"] {
            assert!(parse_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts_reject_spaces_and_urls() {
        assert!(parse_host("jaeger-agent.observability").is_ok());
        assert!(parse_host("10.0.0.5").is_ok());
        assert!(parse_host("jaeger agent").is_err());
        assert!(parse_host("http://jaeger").is_err());
    }

    #[test]
    fn collector_endpoints_are_http_urls_the_client_accepts() {
        assert!(parse_collector("http://jaeger-collector.tracing:14268/api/traces").is_ok());
        assert!(parse_collector("HTTPS://collector/api/traces").is_ok());
        for bad in [
            "jaeger-collector:14268/api/traces",
            "udp://jaeger:6831",
            "http://",
            " http://jaeger:14268/api/traces",
            "http://jaeger:14268/api/%zz",
            "",
        ] {
            assert!(parse_collector(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_follow_kubectl() {
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
