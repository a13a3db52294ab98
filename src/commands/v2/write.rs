//! `enable`/`disable`/`sampler --core v2`: server-side apply of a SeldonRuntime's four
//! `tracingConfig` scalars, retried on conflicts, then as asked `--restart` (annotate the runtime,
//! and Servers, so the operator rolls them) and `--wait` (until the new pods run).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::read::{SeldonConfigs, name_of, named, status_now};
use crate::cluster::Applied;
use crate::commands::context::now_epoch;
use crate::commands::context::{Ctx, Paged};
use crate::domain::v2::CONFIG_MAP;
use crate::domain::v2::setting::ConfigMapRead;
use crate::domain::v2::status::RuntimeStatus;
use crate::domain::v2::workloads::{Freshness, Workload};
use crate::domain::v2::{plan, status};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::RuntimeWrite;
use crate::options::{DryRun, Output};

/// Attempts per runtime before conflicts give up.
const MAX_ATTEMPTS: u32 = 5;

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
    /// changed | unchanged | failed
    pub result: &'static str,
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
    configs: &mut SeldonConfigs<'_>,
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
/// conflict read again); then, as asked, wait for the operator's ConfigMap, restart the pods
/// that run an older setting and wait for the new ones.
pub async fn write(ctx: &Ctx, w: &RuntimeWrite) -> Result<ExitStatus> {
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
        return Ok(ExitStatus::Success);
    }
    let mut change = w.change.clone();
    if w.ask_ratio {
        change.ratio = Some(crate::prompt::ask_ratio()?);
    }
    let mut configs = SeldonConfigs::new(&w.seldon_namespace);
    if w.interactive && w.dry_run == DryRun::None {
        let mut any = false;
        for rt in &chosen {
            let head = format!(
                "seldonruntime/{} ({})",
                name_of(rt, "name"),
                name_of(rt, "namespace")
            );
            match plan_one(ctx, &mut configs, rt, &change).await? {
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
            return Ok(ExitStatus::Success);
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
        if !crate::prompt::confirm_apply()? {
            crate::say!("nothing changed");
            return Ok(ExitStatus::Success);
        }
    }
    let structured = matches!(ctx.output, Output::Json | Output::Yaml);
    let mut out = Paged::new(ctx.output, "RuntimeChangeList");
    let mut failed = 0;
    for listed in chosen {
        let item = write_one(ctx, w, &change, &mut configs, listed).await?;
        if item.result == "failed" {
            failed += 1;
        }
        if structured {
            out.page(std::slice::from_ref(&item), |_, _| String::new())?;
        } else {
            report(ctx, w, &item)?;
        }
    }
    if structured {
        out.finish(|| ExitStatus::Success)?;
    }
    Ok(if failed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
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
        "changed" => format!("{head} {}{dry}\n", w.done),
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
    if item.result != "failed" {
        ctx.print(&text)?;
    }
    for wn in &item.warnings {
        crate::say!("Warning: {}/{}: {}", item.namespace, item.name, wn.message);
    }
    if let Some(e) = &item.error {
        crate::say!("{head}: {e}");
    }
    Ok(())
}

async fn write_one(
    ctx: &Ctx,
    w: &RuntimeWrite,
    change: &plan::Intent,
    configs: &mut SeldonConfigs<'_>,
    listed: &serde_json::Value,
) -> Result<RuntimeChange> {
    let (ns, name) = (name_of(listed, "namespace"), name_of(listed, "name"));
    let mut item = RuntimeChange {
        core: "v2",
        namespace: ns.clone(),
        name: name.clone(),
        result: "unchanged",
        dry_run: match w.dry_run {
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
    };
    let mut obj = listed.clone();
    let mut attempt = 0;
    let outcome: std::result::Result<Option<Vec<plan::FieldChange>>, String> = loop {
        attempt += 1;
        let (tc, fields) = match plan_one(ctx, configs, &obj, change).await? {
            Ok(None) => break Ok(None),
            Ok(Some(p)) => p,
            Err(why) => break Err(why),
        };
        if w.dry_run == DryRun::Client {
            break Ok(Some(fields));
        }
        let body = plan::apply_body(&obj, &tc);
        match ctx
            .cluster
            .apply_runtime(&body, &w.field_manager, w.dry_run == DryRun::Server)
            .await?
        {
            // What the server kept, planned again, must need nothing more: otherwise another
            // field manager holds a field the change needed.
            Applied::Done(kept) => match plan_one(ctx, configs, &kept, change).await? {
                Ok(Some((_, left))) => {
                    let lines: Vec<String> = left.iter().map(|f| f.diff_line()).collect();
                    break Err(format!(
                        "written, but the runtime still differs ({}): another field manager holds these fields (see its managedFields)",
                        lines.join("; ")
                    ));
                }
                _ => break Ok(Some(fields)),
            },
            Applied::Conflict if attempt < MAX_ATTEMPTS => {
                match ctx.cluster.seldon_runtime(&ns, &name).await? {
                    Some(fresh) => obj = fresh,
                    None => break Err("it was deleted meanwhile".into()),
                }
            }
            Applied::Conflict => {
                break Err(format!(
                    "it kept changing under {MAX_ATTEMPTS} attempts; run the command again"
                ));
            }
        }
    };
    let changed = match outcome {
        Err(why) => {
            item.result = "failed";
            item.error = Some(why);
            return Ok(item);
        }
        Ok(None) => false,
        Ok(Some(fields)) => {
            item.result = "changed";
            item.changes = fields;
            true
        }
    };
    item.warnings = status::managed_warnings(&obj, &w.field_manager);
    if w.dry_run == DryRun::None {
        after_write(ctx, w, configs, &mut item, changed).await?;
    }
    Ok(item)
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
    configs: &mut SeldonConfigs<'_>,
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
                item.result = "failed";
                item.error = Some("it was deleted meanwhile".into());
                return Ok(());
            };
            if st.config_map == "current" {
                break;
            }
            if started.elapsed() >= limit {
                item.result = "failed";
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
    if st.warnings.iter().any(|wn| wn.code == "pods-unread") {
        item.warnings.extend(
            st.warnings
                .iter()
                .filter(|wn| wn.code == "pods-unread")
                .cloned(),
        );
        item.workloads = st.workloads;
        return Ok(());
    }
    let Some(restart) = w.restart else {
        // Right after a change every reader runs the old setting, whatever the operator has
        // written yet; without a change, those started before the last write.
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
                    plan::restart_command(&ns, &name)
                ),
            });
        }
        item.workloads = st.workloads;
        return Ok(());
    };
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
            item.result = "failed";
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
