//! `status --core v2`: each SeldonRuntime's tracing (Seldon Core 2 sets it once per namespace),
//! the SeldonConfig it takes defaults from, and whether the operator has written it to ConfigMap
//! `seldon-tracing`.

use crate::cluster::{Applied, V2_API};
use crate::domain::core2::{self, CONFIG_MAP, Read, RuntimeStatus};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::{DryRun, RuntimeWrite};
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

/// `enable`, `disable`, `sampler` with `--core v2`: plan each runtime's `tracingConfig`, refuse
/// what the core components would exit on, server-side apply with the resourceVersion read, and
/// on a conflict read again.
pub async fn write(ctx: &Ctx, w: &RuntimeWrite) -> Result<ExitStatus> {
    let Some(runtimes) = ctx.cluster.seldon_runtimes(ctx.scope()).await? else {
        return Err(Error::Core2Missing {
            server: ctx.cluster.server.clone(),
        });
    };
    let mut chosen: Vec<&serde_json::Value> = Vec::new();
    for name in &w.names {
        let found = runtimes
            .iter()
            .find(|r| r.pointer("/metadata/name").and_then(|v| v.as_str()) == Some(name));
        match found {
            Some(r) => chosen.push(r),
            None => {
                return Err(Error::Usage(format!(
                    "no SeldonRuntime named {name:?} in {}; see them with `kubectl seldon-tracing status --core v2`",
                    ctx.scope()
                        .map_or("any namespace".to_string(), |n| format!("namespace {n:?}"))
                )));
            }
        }
    }
    if w.names.is_empty() {
        chosen = runtimes.iter().collect();
    }
    if chosen.is_empty() {
        crate::say!(
            "No SeldonRuntime found{}.",
            ctx.scope()
                .map(|n| format!(" in {n} namespace"))
                .unwrap_or_default()
        );
        return Ok(ExitStatus::Success);
    }
    let mut failed = 0;
    let mut configs = SeldonConfigs::new(&w.seldon_namespace);
    for listed in chosen {
        let ns = listed
            .pointer("/metadata/namespace")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        let name = listed
            .pointer("/metadata/name")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        let mut obj = listed.clone();
        let mut attempt = 0;
        let outcome: std::result::Result<Option<Vec<core2::FieldChange>>, String> = loop {
            attempt += 1;
            let config = configs.of(ctx, &obj).await?;
            let sc = match &config {
                Read::Found(v) => Some(v),
                _ => None,
            };
            if let Read::NotRead(why) = &config {
                break Err(format!(
                    "its SeldonConfig was not read ({why}), so the result cannot be judged; nothing was changed"
                ));
            }
            let (tc, fields) = match core2::plan(&obj, sc, &w.change) {
                Ok(p) => p,
                Err(why) => break Err(why),
            };
            if fields.is_empty() {
                break Ok(None);
            }
            if w.dry_run == DryRun::Client {
                break Ok(Some(fields));
            }
            let body = core2::apply_body(&obj, &tc);
            match ctx
                .cluster
                .apply_runtime(&body, &w.field_manager, w.dry_run == DryRun::Server)
                .await?
            {
                Applied::Done(_) => break Ok(Some(fields)),
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
        let dry = match w.dry_run {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        };
        match outcome {
            Ok(None) => crate::say!("seldonruntime/{name} ({ns}) unchanged"),
            Ok(Some(fields)) => {
                crate::say!("seldonruntime/{name} ({ns}) {}{dry}", w.done);
                for f in &fields {
                    crate::say!("    {}", f.diff_line());
                }
                if w.dry_run == DryRun::None {
                    crate::say!(
                        "    the running pods keep the old setting until they restart: {}",
                        core2::restart_command(&ns)
                    );
                }
            }
            Err(why) => {
                failed += 1;
                crate::say!("seldonruntime/{name} ({ns}): {why}");
            }
        }
    }
    Ok(if failed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// `status --core v2` (and `list --core v2`): the SeldonRuntimes in scope, `name` only when given.
pub async fn status(ctx: &Ctx, name: Option<&str>, seldon_namespace: &str) -> Result<ExitStatus> {
    let Some(runtimes) = ctx.cluster.seldon_runtimes(ctx.scope()).await? else {
        return Err(Error::Core2Missing {
            server: ctx.cluster.server.clone(),
        });
    };
    let chosen: Vec<&serde_json::Value> = runtimes
        .iter()
        .filter(|r| {
            name.is_none_or(|n| r.pointer("/metadata/name").and_then(|v| v.as_str()) == Some(n))
        })
        .collect();
    let mut out = Paged::new(ctx.output, core2::RUNTIME_LIST_KIND);
    runtimes_into(ctx, &chosen, seldon_namespace, &mut out).await?;
    out.finish(|| none_found(ctx, name))
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

/// The rows of `runtimes` (their SeldonConfigs and ConfigMaps read), then their warnings
/// (tables).
pub async fn runtimes_into(
    ctx: &Ctx,
    runtimes: &[&serde_json::Value],
    seldon_namespace: &str,
    out: &mut Paged,
) -> Result<()> {
    let mut items: Vec<RuntimeStatus> = Vec::new();
    let mut configs = SeldonConfigs::new(seldon_namespace);
    for rt in runtimes {
        let ns = rt
            .pointer("/metadata/namespace")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let config = configs.of(ctx, rt).await?;
        let cm_path = format!("/api/v1/namespaces/{ns}/configmaps/{CONFIG_MAP}");
        let cm = read(ctx, &cm_path, ns, CONFIG_MAP).await?;
        items.push(core2::runtime_status(rt, &config, seldon_namespace, &cm));
    }
    let with_ns = ctx.all_namespaces;
    out.page(&items, |items, w| render::runtime_table(items, with_ns, w))?;
    if !out.structured() {
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
    Ok(())
}
