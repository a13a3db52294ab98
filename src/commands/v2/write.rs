//! `enable`/`disable`/`sampler --core v2`: server-side apply of a SeldonRuntime's four
//! `tracingConfig` scalars, retried on conflicts, then as asked `--restart` (annotate the runtime,
//! and Servers, so the operator rolls them) and `--wait` (until the new pods run).

use std::time::{Duration, Instant};

use serde::Serialize;

use std::collections::BTreeSet;

use futures::{StreamExt, stream};

use super::read::{InNamespaces, SeldonConfigs, name_of, named, status_now};
use crate::cluster::Applied;
use crate::commands::context::now_epoch;
use crate::commands::context::{Ctx, Paged, progress_bar};
use crate::domain::v2::CONFIG_MAP;
use crate::domain::v2::setting::ConfigMapRead;
use crate::domain::v2::status::RuntimeStatus;
use crate::domain::v2::workloads::{Freshness, Workload};
use crate::domain::v2::{plan, status};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::RuntimeWrite;
use crate::options::{DryRun, Output};
use crate::render::write::WriteResult;

/// Attempts per runtime before conflicts give up.
const MAX_ATTEMPTS: u32 = 5;

/// Applies per runtime whose answer may be lost (connection cut after sending) before the error
/// stands, should the server keep answering reads but not writes.
const MAX_LOST_ANSWERS: u32 = 10;

/// How long `--restart` without `--wait` gives the operator to write ConfigMap `seldon-tracing`.
const OPERATOR_GRACE: Duration = Duration::from_secs(60);

/// How often `--wait` and `--restart` read the cluster again.
const POLL: Duration = Duration::from_millis(500);

/// One runtime's outcome: the json/yaml item of `kind: RuntimeChangeList`.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeChange {
    pub core: &'static str,
    pub namespace: String,
    pub name: String,
    pub result: WriteResult,
    #[serde(rename = "dryRun")]
    pub dry_run: &'static str,
    pub changes: Vec<plan::FieldChange>,
    /// The workloads `--restart` rolled.
    pub restarted: Vec<String>,
    /// With `--wait`: seconds until every restarted workload ran the new setting.
    #[serde(rename = "waitedSeconds", skip_serializing_if = "Option::is_none")]
    pub waited: Option<f64>,
    /// Each reader's pods after the write (and the restart, with `--wait`).
    pub workloads: Vec<Workload>,
    pub warnings: Vec<status::Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The runtimes `w` names (every one in scope without names; on a terminal with several, the
/// user picks).
fn choose<'a>(
    ctx: &Ctx,
    w: &RuntimeWrite,
    runtimes: &'a [serde_json::Value],
) -> Result<Vec<&'a serde_json::Value>> {
    let mut chosen: Vec<&serde_json::Value> = Vec::new();
    for name in &w.names {
        // With -A, that name in every namespace.
        let named = named(runtimes, Some(name));
        match named.is_empty() {
            false => chosen.extend(named),
            true => {
                return Err(Error::Usage(format!(
                    "no SeldonRuntime named {name:?} in {}; see them with `kubectl seldon-tracing status --core v2`",
                    ctx.scope()
                        .map_or("any namespace".to_string(), |n| format!("namespace {n:?}"))
                )));
            }
        }
    }
    if !w.names.is_empty() {
        return Ok(chosen);
    }
    if w.interactive && runtimes.len() > 1 {
        let labels: Vec<String> = runtimes
            .iter()
            .map(|r| format!("{}/{}", name_of(r, "namespace"), name_of(r, "name")))
            .collect();
        let picked = crate::prompt::pick_many("SeldonRuntime", "runtime", &labels)?;
        return Ok(picked.into_iter().map(|i| &runtimes[i]).collect());
    }
    Ok(runtimes.iter().collect())
}

/// The plan for one runtime: Ok(None) unchanged, Ok(Some((tracingConfig, fields))) a change,
/// Err a refusal (nothing written).
async fn plan_one(
    ctx: &Ctx,
    configs: &SeldonConfigs<'_>,
    obj: &serde_json::Value,
    change: &plan::Intent,
) -> Result<std::result::Result<Option<(serde_json::Value, Vec<plan::FieldChange>)>, String>> {
    let config = configs.of(ctx, obj).await?;
    if let ConfigMapRead::NotRead(why) = &config {
        return Ok(Err(format!(
            "its SeldonConfig was not read ({why}), so the result cannot be judged; nothing was changed"
        )));
    }
    let sc = match &config {
        ConfigMapRead::Found(v) => Some(v),
        _ => None,
    };
    Ok(match plan::plan(obj, sc, change) {
        Ok((_, fields)) if fields.is_empty() => Ok(None),
        Ok(p) => Ok(Some(p)),
        Err(why) => Err(why),
    })
}

/// `enable`, `disable`, `sampler` with `--core v2`: plan each runtime's `tracingConfig`, refuse
/// what the core components would exit on, server-side apply with the resourceVersion read (on a
/// conflict read again), `--concurrency` runtimes at a time; then, as asked, wait for the
/// operator's ConfigMap, restart the pods that run an older setting and wait for the new ones.
///
/// What the plans and reports need besides the runtimes is read once for the whole scope: the
/// SeldonConfigs they name, and (when nothing is restarted or waited for) each namespace's
/// ConfigMap and pods. A write changes no pod, so the pods read before it are those after it.
pub async fn write(ctx: &Ctx, w: &RuntimeWrite) -> Result<ExitStatus> {
    Ok(write_all(ctx, w).await?.0)
}

/// [`write`], with each runtime's result and `namespace/name`.
pub(crate) async fn write_all(
    ctx: &Ctx,
    w: &RuntimeWrite,
) -> Result<(ExitStatus, Vec<(WriteResult, String)>)> {
    let Some(runtimes) = ctx.cluster.seldon_runtimes(ctx.scope()).await? else {
        return Err(Error::Core2Missing {
            server: ctx.cluster.server.clone(),
        });
    };
    let chosen = choose(ctx, w, &runtimes)?;
    if chosen.is_empty() {
        crate::say!(
            "No SeldonRuntime found{}.",
            ctx.scope()
                .map(|n| format!(" in {n} namespace"))
                .unwrap_or_default()
        );
        return Ok((ExitStatus::Success, Vec::new()));
    }
    let mut change = w.change.clone();
    if w.ask_ratio {
        change.ratio = Some(crate::prompt::ask_ratio()?);
    }
    let configs = SeldonConfigs::new(&w.seldon_namespace);
    let namespaces: BTreeSet<String> = chosen.iter().map(|rt| name_of(rt, "namespace")).collect();
    let report_reads = w.dry_run == DryRun::None && w.restart.is_none() && w.wait.is_none();
    let read_around = || async {
        match report_reads {
            true => InNamespaces::read(ctx, &namespaces).await.map(Some),
            false => Ok(None),
        }
    };
    let around = if w.interactive && w.dry_run == DryRun::None {
        // The pods are read once the user has said yes, not before a question that may wait.
        configs.read_for(ctx, &chosen).await?;
        if !preview_and_confirm(ctx, w, &configs, &chosen, &change).await? {
            crate::say!("nothing changed");
            return Ok((ExitStatus::Success, Vec::new()));
        }
        read_around().await?
    } else {
        let (read, around) = tokio::join!(configs.read_for(ctx, &chosen), read_around());
        read?;
        around?
    };
    let job = Job {
        ctx,
        w,
        change: &change,
        configs: &configs,
        around: around.as_ref(),
    };
    crate::prompt::writing_started();
    let mut results = std::pin::pin!(
        stream::iter(chosen.iter())
            // After Ctrl-C no further runtime is started (see `prompt::stopping`).
            .take_while(|_| std::future::ready(!crate::prompt::stopping()))
            .map(|rt| job.one(rt))
            .buffered(w.concurrency)
    );
    let mut report = Report::new(ctx, w, chosen.len());
    let mut seen = 0;
    while let Some(item) = results.next().await {
        report.add(item)?;
        seen += 1;
    }
    // After Ctrl-C the rest was never started: reported, not left out.
    for rt in &chosen[seen..] {
        let mut item = job.item(rt);
        item.result = WriteResult::Interrupted;
        item.error = Some(Error::Interrupted.to_string());
        report.add(item)?;
    }
    crate::prompt::writing_finished();
    report.finish()
}

/// On a terminal: each runtime's plan, then the question. False: not to be applied.
async fn preview_and_confirm(
    ctx: &Ctx,
    w: &RuntimeWrite,
    configs: &SeldonConfigs<'_>,
    chosen: &[&serde_json::Value],
    change: &plan::Intent,
) -> Result<bool> {
    let mut any = false;
    for rt in chosen {
        let head = format!(
            "seldonruntime/{} ({})",
            name_of(rt, "name"),
            name_of(rt, "namespace")
        );
        match plan_one(ctx, configs, rt, change).await? {
            Ok(None) => crate::say!("{head}: unchanged"),
            Ok(Some((_, fields))) => {
                any = true;
                crate::say!("{head}:");
                for f in &fields {
                    crate::say!("    {}", f.diff_line());
                }
            }
            Err(why) => crate::say!("{head}: {why}"),
        }
    }
    if !any && w.restart.is_none() {
        return Ok(false);
    }
    if let Some(r) = w.restart {
        crate::say!(
            "then, once the operator has written it, restart the {} whose pods run an older setting",
            match r {
                crate::options::Restart::Core => "core components",
                crate::options::Restart::Servers => "Servers",
                crate::options::Restart::All => "core components and Servers",
            }
        );
    }
    crate::prompt::confirm_apply()
}

/// Prints each runtime's outcome as it comes (a progress bar on a terminal meanwhile), then the
/// `N changed, M unchanged, K failed` line and the json/yaml document.
struct Report<'a> {
    ctx: &'a Ctx,
    w: &'a RuntimeWrite,
    progress: indicatif::ProgressBar,
    out: Paged,
    results: Vec<(WriteResult, String)>,
}

impl<'a> Report<'a> {
    fn new(ctx: &'a Ctx, w: &'a RuntimeWrite, targets: usize) -> Self {
        Report {
            ctx,
            w,
            progress: progress_bar(targets, "seldonruntimes"),
            out: Paged::new(ctx.output, "RuntimeChangeList"),
            results: Vec::new(),
        }
    }

    fn add(&mut self, item: RuntimeChange) -> Result<()> {
        let structured = matches!(self.ctx.output, Output::Json | Output::Yaml);
        let (ctx, w, out) = (self.ctx, self.w, &mut self.out);
        self.progress.suspend(|| match structured {
            true => out.page(std::slice::from_ref(&item), |_, _| String::new()),
            false => report(ctx, w, &item),
        })?;
        self.progress.inc(1);
        self.results
            .push((item.result, format!("{}/{}", item.namespace, item.name)));
        Ok(())
    }

    fn finish(self) -> Result<(ExitStatus, Vec<(WriteResult, String)>)> {
        self.progress.finish_and_clear();
        if let Some(line) = crate::render::write::summary(&self.results) {
            crate::say!("{line}");
        }
        let any = |v: WriteResult| self.results.iter().any(|(r, _)| *r == v);
        let status = if any(WriteResult::Interrupted) {
            ExitStatus::Cancelled
        } else if any(WriteResult::Failed) {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        };
        if matches!(self.ctx.output, Output::Json | Output::Yaml) {
            self.out.finish(|| ExitStatus::Success)?;
        }
        Ok((status, self.results))
    }
}

/// The text report of one runtime: its line and changes on stdout, a failure on stderr.
fn report(ctx: &Ctx, w: &RuntimeWrite, item: &RuntimeChange) -> Result<()> {
    let head = format!("seldonruntime/{} ({})", item.name, item.namespace);
    let dry = match w.dry_run {
        DryRun::None => "",
        DryRun::Client => " (dry run)",
        DryRun::Server => " (server dry run)",
    };
    let mut text = match item.result {
        WriteResult::Changed => format!("{head} {}{dry}\n", w.done),
        _ => format!("{head} unchanged\n"),
    };
    for f in &item.changes {
        text.push_str(&format!("    {}\n", f.diff_line()));
    }
    if !item.restarted.is_empty() {
        text.push_str(&format!("    restarted: {}\n", item.restarted.join(", ")));
    }
    match item.waited {
        Some(s) => text.push_str(&format!(
            "    every restarted pod runs the new setting after {s:.1}s\n"
        )),
        None if !item.restarted.is_empty() => text.push_str(&format!(
            "    rolling (not waited for): `kubectl seldon-tracing status -n {}` shows when the pods run it\n",
            item.namespace
        )),
        None => {}
    }
    if !matches!(item.result, WriteResult::Failed | WriteResult::Interrupted) {
        ctx.print(&text)?;
    }
    for wn in &item.warnings {
        crate::say!("Warning: {}/{}: {}", item.namespace, item.name, wn.message);
    }
    match (item.result, &item.error) {
        (WriteResult::Interrupted, _) => {
            crate::say!("{head} not changed: interrupted before its write")
        }
        (_, Some(e)) => crate::say!("{head}: {e}"),
        _ => {}
    }
    Ok(())
}

/// One write, shared by every runtime of the run.
struct Job<'a> {
    ctx: &'a Ctx,
    w: &'a RuntimeWrite,
    change: &'a plan::Intent,
    configs: &'a SeldonConfigs<'a>,
    /// Each namespace's ConfigMap and pods, when the report needs nothing newer.
    around: Option<&'a InNamespaces>,
}

impl Job<'_> {
    /// The outcome of `listed` before anything is done.
    fn item(&self, listed: &serde_json::Value) -> RuntimeChange {
        RuntimeChange {
            core: "v2",
            namespace: name_of(listed, "namespace"),
            name: name_of(listed, "name"),
            result: WriteResult::Unchanged,
            dry_run: match self.w.dry_run {
                DryRun::None => "none",
                DryRun::Client => "client",
                DryRun::Server => "server",
            },
            changes: Vec::new(),
            restarted: Vec::new(),
            waited: None,
            workloads: Vec::new(),
            warnings: Vec::new(),
            error: None,
        }
    }

    /// Writes `listed` and reports it; an error is that runtime's failure, not the run's.
    async fn one(&self, listed: &serde_json::Value) -> RuntimeChange {
        let mut item = self.item(listed);
        if let Err(e) = self.write(listed, &mut item).await {
            item.result = match e {
                Error::Interrupted => WriteResult::Interrupted,
                _ => WriteResult::Failed,
            };
            item.error = Some(e.to_string());
        }
        item
    }

    /// Plan, apply, plan again on what the server kept; on a conflict read again. An apply whose
    /// answer was lost (the server went away) is decided by the next read, as for v1.
    async fn write(&self, listed: &serde_json::Value, item: &mut RuntimeChange) -> Result<()> {
        let (ctx, w) = (self.ctx, self.w);
        let (ns, name) = (item.namespace.clone(), item.name.clone());
        let mut obj = listed.clone();
        let mut conflicts = 0;
        let mut lost = 0;
        // The changes of an apply whose answer never came.
        let mut unanswered: Option<Vec<plan::FieldChange>> = None;
        let outcome: std::result::Result<Option<Vec<plan::FieldChange>>, String> = loop {
            let (tc, fields) = match plan_one(ctx, self.configs, &obj, self.change).await? {
                // As asked now; after an apply that got no answer, that apply made it so.
                Ok(None) => break Ok(unanswered),
                Ok(Some(p)) => p,
                Err(why) => break Err(why),
            };
            if w.dry_run == DryRun::Client {
                break Ok(Some(fields));
            }
            if crate::prompt::stopping() {
                return Err(Error::Interrupted);
            }
            let body = plan::apply_body(&obj, &tc);
            let applied = ctx
                .cluster
                .apply_runtime(&body, &w.field_manager, w.dry_run == DryRun::Server)
                .await;
            match applied {
                // What the server kept, planned again, must need nothing more: otherwise another
                // field manager holds a field the change needed.
                Ok(Applied::Done(kept)) => {
                    match plan_one(ctx, self.configs, &kept, self.change).await? {
                        Ok(Some((_, left))) => {
                            let lines: Vec<String> = left.iter().map(|f| f.diff_line()).collect();
                            break Err(format!(
                                "written, but the runtime still differs ({}): another field manager holds these fields (see its managedFields)",
                                lines.join("; ")
                            ));
                        }
                        _ => {
                            obj = kept;
                            break Ok(Some(fields));
                        }
                    }
                }
                Ok(Applied::Conflict) => conflicts += 1,
                // Sent, maybe carried out, answer lost: the next read tells.
                Err(e) if e.is_transient() && lost < MAX_LOST_ANSWERS => {
                    lost += 1;
                    unanswered = Some(fields);
                }
                Err(e) => return Err(e),
            }
            if conflicts == MAX_ATTEMPTS {
                break Err(format!(
                    "it kept changing under {MAX_ATTEMPTS} attempts; run the command again"
                ));
            }
            match ctx.cluster.seldon_runtime(&ns, &name).await {
                Ok(Some(fresh)) => obj = fresh,
                Ok(None) => break Err("it was deleted meanwhile".into()),
                Err(e) if unanswered.is_some() => {
                    break Err(format!(
                        "may have been changed: an apply was sent but its answer was lost, then {e}; run the command again to see (it changes only what is not yet as asked)"
                    ));
                }
                Err(e) => return Err(e),
            }
        };
        let changed = match outcome {
            Err(why) => {
                item.result = WriteResult::Failed;
                item.error = Some(why);
                return Ok(());
            }
            Ok(None) => false,
            Ok(Some(fields)) => {
                item.result = WriteResult::Changed;
                item.changes = fields;
                true
            }
        };
        if w.dry_run != DryRun::None {
            item.warnings = status::managed_warnings(&obj, &w.field_manager);
            return Ok(());
        }
        match self.around {
            Some(around) => {
                let config = self.configs.of(ctx, &obj).await?;
                let st = around.status_of(&obj, &config, &w.seldon_namespace, None);
                item.warnings = status::managed_warnings(&obj, &w.field_manager);
                not_restarted(item, st, changed);
            }
            None => {
                item.warnings = status::managed_warnings(&obj, &w.field_manager);
                after_write(ctx, w, self.configs, item, changed).await?;
            }
        }
        Ok(())
    }
}

/// Whether the pods could not be read: said in the warnings, the workloads kept as they are.
fn unread(item: &mut RuntimeChange, st: &RuntimeStatus) -> bool {
    let unread: Vec<status::Warning> = st
        .warnings
        .iter()
        .filter(|wn| wn.code == "pods-unread")
        .cloned()
        .collect();
    let any = !unread.is_empty();
    item.warnings.extend(unread);
    any
}

/// The report of a runtime nothing restarts: its workloads, and a warning naming those whose pods
/// run the old setting. Right after a change every reader runs it, whatever the operator has
/// written yet; without a change, those started before the last write.
fn not_restarted(item: &mut RuntimeChange, st: RuntimeStatus, changed: bool) {
    if !item.warnings.iter().any(|wn| wn.code == "pods-unread") && !unread(item, &st) {
        let old: Vec<String> = st
            .workloads
            .iter()
            .filter(|wl| wl.running > 0 && (changed || wl.loaded == Freshness::RestartNeeded))
            .map(|wl| {
                format!(
                    "{} ({} pod{})",
                    wl.name,
                    wl.running,
                    if wl.running == 1 { "" } else { "s" }
                )
            })
            .collect();
        if !old.is_empty() {
            item.warnings.push(status::Warning {
                code: "restart-needed",
                message: format!(
                    "still on the old setting until they restart: {}; add --restart (--restart=all for Servers too), or `{}`",
                    old.join(", "),
                    plan::restart_command(&item.namespace, &item.name)
                ),
            });
        }
    }
    item.workloads = st.workloads;
}

fn stale(st: &RuntimeStatus, servers: bool) -> Vec<&Workload> {
    st.workloads
        .iter()
        .filter(|wl| wl.loaded == Freshness::RestartNeeded && wl.server.is_some() == servers)
        .collect()
}

/// After a write: with `--restart` or `--wait`, wait for the operator's ConfigMap; restart what
/// runs an older setting (`--restart`); wait for the new pods (`--wait`); say which pods still
/// run the old setting.
async fn after_write(
    ctx: &Ctx,
    w: &RuntimeWrite,
    configs: &SeldonConfigs<'_>,
    item: &mut RuntimeChange,
    changed: bool,
) -> Result<()> {
    let (ns, name) = (item.namespace.clone(), item.name.clone());
    let started = Instant::now();
    let limit = w.wait.unwrap_or(OPERATOR_GRACE);
    if w.restart.is_some() || w.wait.is_some() {
        // The ConfigMap first: pods restarted before the operator writes it load the old setting.
        loop {
            let Some(st) = status_now(ctx, configs, &ns, &name, false).await? else {
                item.result = WriteResult::Failed;
                item.error = Some("it was deleted meanwhile".into());
                return Ok(());
            };
            if st.config_map == "current" {
                break;
            }
            if started.elapsed() >= limit {
                item.result = WriteResult::Failed;
                item.error = Some(format!(
                    "the Seldon operator has not written ConfigMap {CONFIG_MAP} within {}s (configMap: {}; is it running?), so nothing was restarted",
                    limit.as_secs(),
                    st.config_map
                ));
                return Ok(());
            }
            tokio::time::sleep(POLL).await;
        }
    }
    let Some(st) = status_now(ctx, configs, &ns, &name, true).await? else {
        return Ok(());
    };
    let Some(restart) = w.restart.filter(|_| !unread(item, &st)) else {
        not_restarted(item, st, changed);
        return Ok(());
    };
    if crate::prompt::stopping() {
        item.warnings.push(status::Warning {
            code: "restart-needed",
            message: format!(
                "written, not restarted: interrupted; `{}`",
                plan::restart_command(&ns, &name)
            ),
        });
        item.workloads = st.workloads;
        return Ok(());
    }
    let stamp = crate::domain::clock::format_rfc3339(now_epoch());
    let mut rolled: Vec<&Workload> = Vec::new();
    let core_stale = stale(&st, false);
    if restart.core() && !core_stale.is_empty() {
        ctx.cluster
            .annotate_v2(
                "seldonruntimes",
                "SeldonRuntime",
                &ns,
                &name,
                &stamp,
                &w.field_manager,
            )
            .await?;
        rolled.extend(core_stale);
    }
    let server_stale = stale(&st, true);
    if restart.servers() {
        let mut servers: Vec<&str> = server_stale
            .iter()
            .filter_map(|wl| wl.server.as_deref())
            .collect();
        servers.dedup();
        for server in servers {
            ctx.cluster
                .annotate_v2("servers", "Server", &ns, server, &stamp, &w.field_manager)
                .await?;
        }
        rolled.extend(server_stale);
    }
    item.restarted = rolled.iter().map(|wl| wl.name.clone()).collect();
    let left: Vec<String> = st
        .workloads
        .iter()
        .filter(|wl| wl.loaded == Freshness::RestartNeeded && !item.restarted.contains(&wl.name))
        .map(|wl| wl.name.clone())
        .collect();
    if !left.is_empty() {
        item.warnings.push(status::Warning {
            code: "restart-needed",
            message: format!(
                "not restarted, still on the old setting: {} (add --restart=all)",
                left.join(", ")
            ),
        });
    }
    let restarted = item.restarted.clone();
    let Some(wait) = w.wait.filter(|_| !restarted.is_empty()) else {
        item.workloads = st.workloads;
        return Ok(());
    };
    loop {
        let Some(now) = status_now(ctx, configs, &ns, &name, true).await? else {
            return Ok(());
        };
        let pending: Vec<String> = now
            .workloads
            .iter()
            .filter(|wl| restarted.contains(&wl.name))
            .filter(|wl| !matches!(wl.loaded, Freshness::Current | Freshness::NoPods))
            .map(|wl| {
                format!(
                    "{} {} ({} of {} running, {} old)",
                    wl.name,
                    wl.loaded.as_str(),
                    wl.running,
                    wl.replicas,
                    wl.stale
                )
            })
            .collect();
        item.workloads = now.workloads;
        if pending.is_empty() {
            item.waited = Some((started.elapsed().as_secs_f64() * 10.0).round() / 10.0);
            return Ok(());
        }
        if started.elapsed() >= wait {
            item.result = WriteResult::Failed;
            item.error = Some(format!(
                "timed out after {}s waiting for the restarted pods: {}",
                wait.as_secs(),
                pending.join(", ")
            ));
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}
