//! `enable`, `disable`, `sampler`: read, plan on raw JSON, server-side apply with the
//! resourceVersion read (compare-and-swap), re-plan on conflict. Several targets run
//! concurrently; results print in the order the targets were given.

use std::io::IsTerminal;

use futures::{StreamExt, stream};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::cli::{
    DisableArgs, DryRun, EnableArgs, Mutation, Output, SamplerArgs, Targets, parse_name,
};
use crate::cluster::{Applied, Cluster};
use crate::domain::components::str_at;
use crate::domain::plan::{AgentHost, Intent, Plan, plan};
use crate::domain::sampler::Sampler;
use crate::domain::status::competing_managers;
use crate::error::{Error, Result};
use crate::render::{self, Outcome};

use super::Ctx;
use super::read::for_each_page;

/// Attempts per object before giving up on conflicts.
const MAX_ATTEMPTS: u32 = 5;

pub async fn enable(ctx: &Ctx, a: EnableArgs) -> Result<i32> {
    let agent_host = match (a.agent_host, a.agent_host_from_node) {
        (Some(h), _) => Some(AgentHost::Literal(h)),
        (None, true) => Some(AgentHost::FromNode),
        (None, false) => None,
    };
    let intent = Intent::Enable {
        sampler: a.sampler,
        agent_host,
        agent_port: a.agent_port,
    };
    mutate(ctx, &a.targets, &a.mutation, intent).await
}

pub async fn disable(ctx: &Ctx, a: DisableArgs) -> Result<i32> {
    mutate(ctx, &a.targets, &a.mutation, Intent::Disable).await
}

/// `sampler NAME... TYPE[:PARAM]`: the last positional is the sampler.
pub async fn sampler(ctx: &Ctx, a: SamplerArgs) -> Result<i32> {
    let mut args = a.args;
    let spec = args.pop().unwrap_or_default();
    let sampler: Sampler = spec.parse().map_err(Error::Usage)?;
    let names = args
        .iter()
        .map(|n| parse_name(n).map_err(Error::Usage))
        .collect::<Result<Vec<_>>>()?;
    if !names.is_empty() && (a.all || a.selector.is_some()) {
        return Err(Error::Usage(
            "give deployment names or --all/-l, not both".into(),
        ));
    }
    let targets = Targets {
        names,
        all: a.all,
        selector: a.selector,
        predictors: a.predictors,
    };
    mutate(ctx, &targets, &a.mutation, Intent::Sampler(sampler)).await
}

/// The (namespace, name) pairs a mutation acts on, in the order given or listed.
async fn resolve(ctx: &Ctx, api: &str, t: &Targets, m: &Mutation) -> Result<Vec<(String, String)>> {
    if !t.names.is_empty() {
        if ctx.global.all_namespaces {
            return Err(Error::Usage(
                "-A selects every namespace; with deployment names, pass -n NAMESPACE instead"
                    .into(),
            ));
        }
        let ns = ctx.namespace();
        let mut out: Vec<(String, String)> = Vec::new();
        for n in &t.names {
            if !out.iter().any(|(_, x)| x == n) {
                out.push((ns.clone(), n.clone()));
            }
        }
        return Ok(out);
    }
    if !t.all && t.selector.is_none() {
        return Err(Error::Usage(
            "no SeldonDeployment given: pass NAME..., --all or -l SELECTOR (see kubectl seldon-tracing list)".into(),
        ));
    }
    let mut out = Vec::new();
    for_each_page(
        &ctx.cluster,
        api,
        ctx.scope(),
        t.selector.as_deref(),
        m.chunk_size,
        |page| {
            for obj in page {
                let ns = str_at(&obj, &["metadata", "namespace"]).unwrap_or("");
                let name = str_at(&obj, &["metadata", "name"]).unwrap_or("");
                out.push((ns.to_string(), name.to_string()));
            }
            Ok(())
        },
    )
    .await?;
    Ok(out)
}

/// The apply body: only what the plugin owns, plus the resourceVersion that makes it a CAS.
fn apply_body(api: &str, obj: &Value, plan: &Plan) -> Value {
    json!({
        "apiVersion": api,
        "kind": "SeldonDeployment",
        "metadata": {
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "resourceVersion": obj["metadata"]["resourceVersion"],
        },
        "spec": {"predictors": plan.predictors},
    })
}

fn dry_run_label(d: DryRun) -> &'static str {
    match d {
        DryRun::None => "none",
        DryRun::Server => "server",
        DryRun::Client => "client",
    }
}

struct Job<'a> {
    cluster: &'a Cluster,
    api: &'a str,
    intent: &'a Intent,
    predictors: &'a [String],
    m: &'a Mutation,
}

impl Job<'_> {
    async fn one(&self, ns: &str, name: &str) -> Outcome {
        let mut outcome = Outcome {
            namespace: ns.into(),
            name: name.into(),
            result: "failed",
            dry_run: dry_run_label(self.m.dry_run),
            changes: Vec::new(),
            warnings: Vec::new(),
            error: None,
        };
        match self.attempt(ns, name, &mut outcome).await {
            Ok(changed) => outcome.result = if changed { "changed" } else { "unchanged" },
            Err(e) => outcome.error = Some(e.to_string()),
        }
        outcome
    }

    /// Read, plan, apply; on a resourceVersion conflict start over from a fresh read.
    async fn attempt(&self, ns: &str, name: &str, out: &mut Outcome) -> Result<bool> {
        for attempt in 0..MAX_ATTEMPTS {
            let obj = self.cluster.get(self.api, ns, name).await?;
            let object_error = |message: String| Error::Object {
                namespace: ns.into(),
                name: name.into(),
                message,
            };
            let plan = plan(&obj, self.intent, self.predictors).map_err(object_error)?;
            out.warnings = plan.warnings.clone();
            out.warnings.extend(competing_managers(&obj, &self.m.field_manager).into_iter().map(|m| {
                format!("spec.predictors is also managed by '{m}'; its next sync or apply will revert this change")
            }));
            out.changes = plan.changes.clone();
            if plan.changes.is_empty() {
                return Ok(false);
            }
            if self.m.dry_run == DryRun::Client {
                return Ok(true);
            }
            let body = apply_body(self.api, &obj, &plan);
            run_test_hook(attempt);
            let server_dry = self.m.dry_run == DryRun::Server;
            match self
                .cluster
                .apply(self.api, ns, name, &body, &self.m.field_manager, server_dry)
                .await?
            {
                Applied::Done(_) => return Ok(true),
                Applied::Conflict => continue,
            }
        }
        Err(Error::Conflicts {
            namespace: ns.into(),
            name: name.into(),
            attempts: MAX_ATTEMPTS,
        })
    }
}

/// Test seam for the conflict-retry path: `SELDON_TRACING_TEST_HOOK_BEFORE_APPLY` names a shell
/// command run once, after the first read and before the first apply, so an end-to-end test can
/// change the object in exactly that window. Unset in normal use.
fn run_test_hook(attempt: u32) {
    if attempt > 0 {
        return;
    }
    if let Some(cmd) = std::env::var_os("SELDON_TRACING_TEST_HOOK_BEFORE_APPLY") {
        let _ = std::process::Command::new("sh").arg("-c").arg(cmd).status();
    }
}

/// A progress bar on stderr for several targets, only when stderr is a terminal.
fn progress_bar(len: usize) -> ProgressBar {
    if len < 2 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} seldondeployments {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

async fn mutate(ctx: &Ctx, t: &Targets, m: &Mutation, intent: Intent) -> Result<i32> {
    let api = ctx.cluster.discover().await?;
    let targets = resolve(ctx, &api, t, m).await?;
    if targets.is_empty() {
        return ctx.none_found();
    }
    let job = Job {
        cluster: &ctx.cluster,
        api: &api,
        intent: &intent,
        predictors: &t.predictors,
        m,
    };
    let structured = matches!(ctx.global.output, Output::Json | Output::Yaml);
    let with_ns = ctx.global.all_namespaces;
    let mut results = stream::iter(targets.iter())
        .map(|(ns, name)| job.one(ns, name))
        .buffered(usize::from(m.concurrency));
    let mut outcomes = Vec::new();
    let progress = progress_bar(targets.len());
    while let Some(o) = results.next().await {
        progress.suspend(|| -> Result<()> {
            for w in &o.warnings {
                eprintln!("Warning: seldondeployment/{}: {w}", o.name);
            }
            if !structured {
                let line = render::outcome_line(&o, intent.done(), with_ns);
                if o.result == "failed" {
                    eprint!("{line}");
                } else {
                    ctx.print(&line)?;
                }
            }
            Ok(())
        })?;
        progress.inc(1);
        outcomes.push(o);
    }
    progress.finish_and_clear();
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.result == "failed").collect();
    let changed = outcomes.iter().filter(|o| o.result == "changed").count();
    if outcomes.len() > 1 {
        eprintln!(
            "{changed} changed, {} unchanged, {} failed{}",
            outcomes.len() - changed - failed.len(),
            failed.len(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    failed
                        .iter()
                        .map(|o| format!("{}/{}", o.namespace, o.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    let code = if failed.is_empty() { 0 } else { 1 };
    if let Some(doc) = render::document(ctx.global.output, "TracingChangeList", &outcomes) {
        ctx.print(&doc)?;
    }
    Ok(code)
}
