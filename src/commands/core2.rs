//! Seldon Core 2: `status`/`list` of SeldonRuntimes (each one's tracing, set once per namespace,
//! merged with the SeldonConfig it names; whether the operator has written it to ConfigMap
//! `seldon-tracing`; which workloads' pods run it) and `enable`/`disable`/`sampler --core v2`
//! (server-side apply of the four scalars, then as asked `--restart` and `--wait`).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cluster::{Applied, V2_API};
use crate::domain::json::str_at;
use crate::domain::v2;
use crate::domain::v2::CONFIG_MAP;
use crate::domain::v2::setting::Read;
use crate::domain::v2::status::RuntimeStatus;
use crate::domain::v2::workloads::{Loaded, Workload};
use crate::domain::v2::{plan, status};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::{DryRun, Expect, FIELD_MANAGER, Output, RuntimeWrite};
use crate::render;

use super::{Ctx, Paged};

/// A read whose refusal is an answer (`not read`), not an error.
async fn read(ctx: &Ctx, path: &str, namespace: &str, name: &str) -> Result<Read> {
    match ctx.cluster.get_optional(path, namespace, name).await {
        Ok(Some(v)) => Ok(Read::Found(v)),
        Ok(None) => Ok(Read::Missing),
        Err(Error::Forbidden { .. }) => Ok(Read::NotRead(format!(
            "you may not read it in namespace {namespace:?}"
        ))),
        Err(e) => Err(e),
    }
}

/// The SeldonConfigs runtimes name, read in the operator's namespace once each per run (every
/// runtime of a cluster usually names the same one).
struct SeldonConfigs<'a> {
    namespace: &'a str,
    read: std::collections::HashMap<String, Read>,
}

impl<'a> SeldonConfigs<'a> {
    fn new(namespace: &'a str) -> Self {
        SeldonConfigs {
            namespace,
            read: std::collections::HashMap::new(),
        }
    }

    /// The SeldonConfig `runtime` names.
    async fn of(&mut self, ctx: &Ctx, runtime: &serde_json::Value) -> Result<Read> {
        let sc_name = runtime
            .pointer("/spec/seldonConfig")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if sc_name.is_empty() {
            return Ok(Read::Missing);
        }
        if let Some(known) = self.read.get(sc_name) {
            return Ok(known.clone());
        }
        let ns = self.namespace;
        let path = format!("/apis/{V2_API}/namespaces/{ns}/seldonconfigs/{sc_name}");
        let answer = read(ctx, &path, ns, sc_name).await?;
        self.read.insert(sc_name.to_string(), answer.clone());
        Ok(answer)
    }
}

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

fn name_of(v: &serde_json::Value, field: &str) -> String {
    str_at(v, &["metadata", field]).unwrap_or("").to_string()
}

/// The runtimes named `name` (every one without a name).
pub fn named<'a>(
    runtimes: &'a [serde_json::Value],
    name: Option<&str>,
) -> Vec<&'a serde_json::Value> {
    runtimes
        .iter()
        .filter(|r| name.is_none_or(|n| str_at(r, &["metadata", "name"]) == Some(n)))
        .collect()
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
    change: &plan::Change,
) -> Result<std::result::Result<Option<(serde_json::Value, Vec<plan::FieldChange>)>, String>> {
    let config = configs.of(ctx, obj).await?;
    if let Read::NotRead(why) = &config {
        return Ok(Err(format!(
            "its SeldonConfig was not read ({why}), so the result cannot be judged; nothing was changed"
        )));
    }
    let sc = match &config {
        Read::Found(v) => Some(v),
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
                    crate::cli::Restart::Core => "core components",
                    crate::cli::Restart::Servers => "Servers",
                    crate::cli::Restart::All => "core components and Servers",
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
    change: &plan::Change,
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

/// The runtime's status now: its SeldonConfig, ConfigMap and workloads read again.
async fn status_now(
    ctx: &Ctx,
    configs: &mut SeldonConfigs<'_>,
    ns: &str,
    name: &str,
    with_pods: bool,
) -> Result<Option<RuntimeStatus>> {
    let Some(rt) = ctx.cluster.seldon_runtime(ns, name).await? else {
        return Ok(None);
    };
    let config = configs.of(ctx, &rt).await?;
    let cm = read_config_map(ctx, ns).await?;
    let mut st = status::runtime_status(&rt, &config, configs.namespace, &cm);
    if with_pods {
        let running = ctx.cluster.runtime_running(ns).await?;
        status::attach_running(&mut st, &cm, running.as_ref().map(|r| r.view()).as_ref());
    }
    Ok(Some(st))
}

async fn read_config_map(ctx: &Ctx, ns: &str) -> Result<Read> {
    let cm_path = format!("/api/v1/namespaces/{ns}/configmaps/{CONFIG_MAP}");
    read(ctx, &cm_path, ns, CONFIG_MAP).await
}

fn stale(st: &RuntimeStatus, servers: bool) -> Vec<&Workload> {
    st.workloads
        .iter()
        .filter(|wl| wl.loaded == Loaded::RestartNeeded && wl.server.is_some() == servers)
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
            .filter(|wl| wl.running > 0 && (changed || wl.loaded == Loaded::RestartNeeded))
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
    let stamp = crate::domain::clock::format_rfc3339(super::now_epoch());
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
        .filter(|wl| wl.loaded == Loaded::RestartNeeded && !item.restarted.contains(&wl.name))
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
            .filter(|wl| !matches!(wl.loaded, Loaded::Current | Loaded::NoPods))
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

/// `status --core v2` (and `list --core v2`): the SeldonRuntimes in scope, `name` only when given.
pub async fn status(
    ctx: &Ctx,
    name: Option<&str>,
    seldon_namespace: &str,
    detail: bool,
    expect: Option<Expect>,
) -> Result<ExitStatus> {
    let Some(runtimes) = ctx.cluster.seldon_runtimes(ctx.scope()).await? else {
        return Err(Error::Core2Missing {
            server: ctx.cluster.server.clone(),
        });
    };
    let chosen = named(&runtimes, name);
    let mut out = Paged::new(ctx.output, v2::RUNTIME_LIST_KIND);
    let items = runtimes_into(ctx, &chosen, seldon_namespace, detail, &mut out).await?;
    let done = out.finish(|| none_found(ctx, name))?;
    Ok(super::read::expectation(expect, &unmet(&items, expect)).unwrap_or(done))
}

/// `--expect`: the runtimes not in the state asked.
pub fn unmet(items: &[RuntimeStatus], expect: Option<Expect>) -> Vec<String> {
    let Some(e) = expect else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|st| status::unmet(st, e == Expect::On))
        .collect()
}

/// kubectl's message for no runtime (on stderr, exit 0).
pub fn none_found(ctx: &Ctx, name: Option<&str>) -> ExitStatus {
    match (name, ctx.scope()) {
        (Some(n), Some(ns)) => crate::say!("No SeldonRuntime named {n} in {ns} namespace."),
        (Some(n), None) => crate::say!("No SeldonRuntime named {n} in any namespace."),
        (None, Some(ns)) => crate::say!("No SeldonRuntime found in {ns} namespace."),
        (None, None) => crate::say!("No SeldonRuntimes found."),
    }
    ExitStatus::Success
}

/// The rows of `runtimes` (their SeldonConfigs, ConfigMaps and workloads read), then (tables)
/// with `detail` (`status`) the workloads, and the warnings.
pub async fn runtimes_into(
    ctx: &Ctx,
    runtimes: &[&serde_json::Value],
    seldon_namespace: &str,
    detail: bool,
    out: &mut Paged,
) -> Result<Vec<RuntimeStatus>> {
    let mut items: Vec<RuntimeStatus> = Vec::new();
    let mut configs = SeldonConfigs::new(seldon_namespace);
    for rt in runtimes {
        let ns = name_of(rt, "namespace");
        let config = configs.of(ctx, rt).await?;
        let (cm, running) =
            tokio::join!(read_config_map(ctx, &ns), ctx.cluster.runtime_running(&ns));
        let (cm, running) = (cm?, running?);
        let mut st = status::runtime_status(rt, &config, seldon_namespace, &cm);
        st.warnings
            .extend(status::managed_warnings(rt, FIELD_MANAGER));
        status::attach_running(&mut st, &cm, running.as_ref().map(|r| r.view()).as_ref());
        items.push(st);
    }
    let with_ns = ctx.all_namespaces;
    out.page(&items, |items, w| render::runtime_table(items, with_ns, w))?;
    if !out.structured() {
        let workloads = render::runtime_workloads_table(&items, with_ns);
        if detail && !workloads.is_empty() {
            super::print(&format!("\n{workloads}"))?;
        }
        let mut warnings = String::new();
        for st in &items {
            for w in &st.warnings {
                warnings.push_str(&format!(
                    "Warning: {}/{}: {}\n",
                    st.namespace, st.name, w.message
                ));
            }
            if let Some(why) = &st.reason {
                warnings.push_str(&format!(
                    "{}/{} is {}: {why}\n",
                    st.namespace, st.name, st.tracing
                ));
            }
        }
        if !warnings.is_empty() {
            super::print(&format!("\n{warnings}"))?;
        }
    }
    Ok(items)
}
