//! Completion for kubectl ≥ 1.26, which runs `kubectl_complete-seldon_tracing ARGS...` (the words
//! after `kubectl seldon-tracing`, the last being the one typed so far) and expects cobra's format:
//! one candidate per line (`value<TAB>description`), then `:DIRECTIVE`. Candidates come from the
//! command definition and, for names, from the live cluster; an unreachable cluster gives none.

use std::time::Duration;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::cluster::Cluster;
use crate::options::Connection;

/// cobra's ShellCompDirectiveNoFileComp / ShellCompDirectiveDefault (files).
const NO_FILES: u8 = 4;
const FILES: u8 = 0;

const VALUE_FLAGS: &[&str] = &[
    "--kubeconfig",
    "--context",
    "-n",
    "--namespace",
    "-o",
    "--output",
    "--request-timeout",
    "-l",
    "--selector",
    "--chunk-size",
    "--predictor",
    "--sampler",
    "--agent-host",
    "--agent-port",
    "--field-manager",
    "--concurrency",
    "--timeout",
    "--jaeger",
    "--jaeger-service",
    "--jaeger-ca",
    "--jaeger-header",
    "--jaeger-token",
    "--via",
    "--data",
    "--since",
    "--limit",
    "--min-duration",
    "--core",
    "--seldon-namespace",
    "--propagation",
    "--collector-endpoint",
    "--expect",
];

/// What the words typed so far say about the cluster to ask and the command being completed.
#[derive(Default)]
struct Words {
    kubeconfig: Option<String>,
    context: Option<String>,
    namespace: Option<String>,
    /// `--core`'s value, when typed.
    core: Option<String>,
    /// `--pipeline` was typed (`verify`'s NAME is a Seldon Core 2 Pipeline).
    pipeline: bool,
    subcommand: Option<String>,
    positionals: Vec<String>,
}

fn parse(words: &[String]) -> Words {
    let mut w = Words::default();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let (flag, inline) = match word.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
            _ => (word.as_str(), None),
        };
        if VALUE_FLAGS.contains(&flag) {
            let value = inline.or_else(|| {
                i += 1;
                words.get(i).cloned()
            });
            match flag {
                "--kubeconfig" => w.kubeconfig = value,
                "--context" => w.context = value,
                "-n" | "--namespace" => w.namespace = value,
                "--core" => w.core = value,
                _ => {}
            }
        } else if flag == "--pipeline" {
            w.pipeline = true;
        } else if !word.starts_with('-') {
            if w.subcommand.is_none() {
                w.subcommand = Some(word.clone());
            } else {
                w.positionals.push(word.clone());
            }
        }
        i += 1;
    }
    w
}

fn lines(candidates: impl IntoIterator<Item = String>, prefix: &str, directive: u8) -> String {
    let mut out = String::new();
    for c in candidates {
        if c.starts_with(prefix) {
            out.push_str(&c);
            out.push('\n');
        }
    }
    out.push_str(&format!(":{directive}\n"));
    out
}

fn flags_of(sub: Option<&str>) -> Vec<String> {
    let root = Cli::command();
    let cmd = sub
        .and_then(|s| root.find_subcommand(s).cloned())
        .unwrap_or_else(|| root.clone());
    let mut out = Vec::new();
    for arg in cmd.get_arguments().chain(root.get_arguments()) {
        if arg.is_hide_set() {
            continue;
        }
        let help = arg.get_help().map(|h| format!("\t{h}")).unwrap_or_default();
        if let Some(l) = arg.get_long() {
            out.push(format!("--{l}{help}"));
        }
        if let Some(s) = arg.get_short() {
            out.push(format!("-{s}{help}"));
        }
    }
    out.dedup();
    out
}

async fn cluster(w: &Words) -> Option<(Cluster, String)> {
    let g = Connection {
        kubeconfig: w.kubeconfig.clone().map(Into::into),
        context: w.context.clone(),
        namespace: w.namespace.clone(),
        request_timeout: Duration::from_secs(3),
    };
    let c = Cluster::connect(&g).await.ok()?;
    let ns = w
        .namespace
        .clone()
        .unwrap_or_else(|| c.default_namespace.clone());
    Some((c, ns))
}

async fn deployments(w: &Words) -> Vec<serde_json::Value> {
    let Some((c, ns)) = cluster(w).await else {
        return Vec::new();
    };
    let Ok(api) = c.discover().await else {
        return Vec::new();
    };
    let q = crate::cluster::Query {
        namespace: Some(&ns),
        chunk_size: 500,
        ..Default::default()
    };
    c.list_page(&api, &q, None)
        .await
        .map(|p| p.items)
        .unwrap_or_default()
}

/// The names of the namespace's Seldon Core 2 `plural` (seldonruntimes, models, pipelines;
/// none where Seldon Core 2 is not served).
async fn v2_names(w: &Words, plural: &str) -> Vec<String> {
    let Some((c, ns)) = cluster(w).await else {
        return Vec::new();
    };
    let path = format!("/apis/{}/namespaces/{ns}/{plural}", crate::cluster::V2_API);
    c.names(&path).await.unwrap_or_default()
}

fn name_of(obj: &serde_json::Value) -> String {
    crate::domain::json::str_at(obj, &["metadata", "name"])
        .unwrap_or_default()
        .to_string()
}

/// The completion output for `words` (the last one is being typed).
/// The shell's own completion script (`completion SHELL`), generated from the command definition.
pub fn script(shell: clap_complete::Shell) -> String {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kubectl-seldon_tracing", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

pub async fn complete(words: &[String]) -> String {
    let (current, before) = match words.split_last() {
        Some((c, b)) => (c.as_str(), b),
        None => ("", &[][..]),
    };
    let w = parse(before);
    let prev = before.last().map(String::as_str).unwrap_or("");
    if let Some(v) = current.strip_prefix("--dry-run=") {
        let modes = ["none", "server", "client"].map(|m| format!("--dry-run={m}"));
        return lines(modes, &format!("--dry-run={v}"), NO_FILES);
    }
    match prev {
        "--kubeconfig" | "--jaeger-ca" => return lines([], current, FILES),
        "-o" | "--output" => {
            return lines(
                ["table", "wide", "json", "yaml"].map(String::from),
                current,
                NO_FILES,
            );
        }
        "--sampler" => return lines(sampler_examples(), current, NO_FILES),
        "--core" => return lines(["v1", "v2"].map(String::from), current, NO_FILES),
        "--protocol" => {
            return lines(
                ["grpc", "http/protobuf"].map(String::from),
                current,
                NO_FILES,
            );
        }
        "--context" => {
            let path = w.kubeconfig.as_ref().map(std::path::PathBuf::from);
            let kc = match path {
                Some(p) => kube::config::Kubeconfig::read_from(p).ok(),
                None => kube::config::Kubeconfig::read().ok(),
            };
            let names = kc.map(|k| k.contexts.into_iter().map(|c| c.name).collect::<Vec<_>>());
            return lines(names.unwrap_or_default(), current, NO_FILES);
        }
        "-n" | "--namespace" => {
            let names = match cluster(&w).await {
                Some((c, _)) => c.names("/api/v1/namespaces").await.unwrap_or_default(),
                None => Vec::new(),
            };
            return lines(names, current, NO_FILES);
        }
        "--predictor" => {
            let objs = deployments(&w).await;
            let mut names: Vec<String> = objs
                .iter()
                .filter(|o| w.positionals.is_empty() || w.positionals.contains(&name_of(o)))
                .flat_map(|o| {
                    o["spec"]["predictors"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect();
            names.sort();
            names.dedup();
            return lines(names, current, NO_FILES);
        }
        p if VALUE_FLAGS.contains(&p) => return lines([], current, NO_FILES),
        _ => {}
    }
    if current.starts_with('-') {
        return lines(flags_of(w.subcommand.as_deref()), current, NO_FILES);
    }
    match w.subcommand.as_deref() {
        None => {
            let subs = Cli::command()
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| {
                    let about = s.get_about().map(|a| format!("\t{a}")).unwrap_or_default();
                    format!("{}{about}", s.get_name())
                })
                .collect::<Vec<_>>();
            lines(subs, current, NO_FILES)
        }
        Some("status" | "verify" | "traces") if !w.positionals.is_empty() => {
            lines([], current, NO_FILES)
        }
        Some(sub @ ("status" | "enable" | "disable" | "sampler" | "verify" | "traces")) => {
            let core = if w.pipeline {
                Some("v2")
            } else {
                w.core.as_deref()
            };
            let v2_verb = matches!(sub, "status" | "enable" | "disable" | "sampler");
            let mut names: Vec<String> = Vec::new();
            if core != Some("v2") {
                names.extend(deployments(&w).await.iter().map(name_of));
            }
            // verify --core v2: a Model, or with --pipeline a Pipeline.
            if sub == "verify" && core == Some("v2") {
                let plural = if w.pipeline { "pipelines" } else { "models" };
                names.extend(v2_names(&w, plural).await);
            }
            // SeldonRuntimes: with --core v2, and beside SeldonDeployments for status, which
            // shows both generations.
            if v2_verb && (core == Some("v2") || (core.is_none() && sub == "status")) {
                let label = if core.is_none() {
                    "\tSeldonRuntime (Seldon Core 2)"
                } else {
                    ""
                };
                names.extend(
                    v2_names(&w, "seldonruntimes")
                        .await
                        .into_iter()
                        .map(|n| format!("{n}{label}")),
                );
            }
            names.retain(|n| {
                !w.positionals
                    .iter()
                    .any(|p| n.split('\t').next() == Some(p))
            });
            // v2's ratio may come first (`sampler --core v2 -n models 0.1`: the namespace's runtime).
            if sub == "sampler" && core == Some("v2") {
                names.extend(["1", "0.1", "0.01", "0"].map(String::from));
            } else if sub == "sampler" && !w.positionals.is_empty() {
                names.extend(sampler_examples());
            }
            lines(names, current, NO_FILES)
        }
        Some("completion") => lines(
            ["bash", "zsh", "fish", "powershell", "elvish"].map(String::from),
            current,
            NO_FILES,
        ),
        Some(_) => lines([], current, NO_FILES),
    }
}

fn sampler_examples() -> Vec<String> {
    [
        "const:1",
        "const:0",
        "probabilistic:0.1",
        "ratelimiting:5",
        "remote",
    ]
    .map(String::from)
    .to_vec()
}
