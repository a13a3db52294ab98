//! `list` and `status` over every generation the cluster serves: which ones it serves (asked at
//! once), then v1's rows, then Seldon Core 2's, as one table or one json/yaml document.

use serde_json::Value;

use crate::commands::context::expectation;
use crate::commands::context::{Ctx, Paged};
use crate::commands::v1::read::Which;
use crate::commands::{v1, v2};
use crate::domain::v2::status::RuntimeStatus;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::Selection;
use crate::invocation::Write;
use crate::invocation::{Generations, Manifests};
use crate::options::Expect;
use crate::prompt;

/// What `list` and `status` read: v1's API version where the cluster serves SeldonDeployments,
/// the SeldonRuntimes in scope where it serves Seldon Core 2.
pub struct Served {
    pub v1: Option<String>,
    pub v2: Option<Vec<Value>>,
}

/// Finds out which generations the cluster serves (both asked at once), as `core` allows.
pub async fn served(ctx: &Ctx, core: &Generations) -> Result<Served> {
    if *core == Generations::V1 {
        let api = ctx.cluster.discover().await?;
        return Ok(Served {
            v1: Some(api),
            v2: None,
        });
    }
    // v1's discovery without its Seldon Core 2 probe: the runtime list says that already.
    let (v1, v2) = tokio::join!(
        ctx.cluster.discover_v1(),
        ctx.cluster.seldon_runtimes(ctx.scope())
    );
    let v1 = match v1 {
        Ok(api) => Some(api),
        Err(Error::CrdMissing { .. }) => None,
        Err(e) => return Err(e),
    };
    let v2 = match v2 {
        Ok(runtimes) => runtimes,
        // A v1 user who may not list SeldonRuntimes still gets v1, told once what is left out.
        Err(e @ Error::Rbac { .. }) if v1.is_some() => {
            crate::say!("note: Seldon Core 2 left out: {e}");
            None
        }
        Err(e) => return Err(e),
    };
    if v1.is_none() && v2.is_none() {
        return Err(Error::NoSeldon {
            server: ctx.cluster.server.clone(),
        });
    }
    Ok(Served { v1, v2 })
}

impl Served {
    /// The document's kind: v1's when v1 is served (v2 items then follow with `core: v2`).
    fn kind(&self, v1_kind: &'static str) -> &'static str {
        match self.v1 {
            Some(_) => v1_kind,
            None => crate::domain::v2::RUNTIME_LIST_KIND,
        }
    }

    /// After v1's rows: the SeldonRuntimes (those named `name` only, when given; with `detail`,
    /// `status`, each one's workloads), then the end of the document or table; the runtimes
    /// shown.
    async fn finish(
        self,
        ctx: &Ctx,
        mut out: Paged,
        name: Option<&str>,
        core: &Generations,
        detail: bool,
    ) -> Result<(ExitStatus, Vec<RuntimeStatus>)> {
        let (Some(runtimes), Generations::Served { seldon_namespace }) = (&self.v2, core) else {
            return Ok((out.finish(|| ctx.none_found())?, Vec::new()));
        };
        let runtimes = v2::read::named(runtimes, name);
        if self.v1.is_some() {
            // No runtime here (or none of that name): v1's answer alone, as on a v1 cluster.
            if runtimes.is_empty() {
                return Ok((out.finish(|| ctx.none_found())?, Vec::new()));
            }
            let v1_rows = out.section();
            if !out.structured() {
                match (v1_rows, name) {
                    (0, None) => {
                        ctx.none_found();
                    }
                    (0, Some(_)) => {}
                    _ => ctx.print("\n")?,
                }
            }
        }
        let items =
            v2::read::runtimes_into(ctx, &runtimes, seldon_namespace, detail, &mut out).await?;
        Ok((out.finish(|| v2::read::none_found(ctx, name))?, items))
    }
}

pub async fn list(
    ctx: &Ctx,
    selector: Option<&str>,
    chunk_size: u32,
    files: &Manifests,
    core: &Generations,
) -> Result<ExitStatus> {
    let served = served(ctx, core).await?;
    let mut out = Paged::new(ctx.output, served.kind("DeploymentTracingList"));
    if let Some(api) = &served.v1 {
        v1::read::list_v1(ctx, api, &mut out, selector, chunk_size, files).await?;
    }
    let (done, _) = served.finish(ctx, out, None, core, false).await?;
    Ok(done)
}

pub async fn show_status(
    ctx: &Ctx,
    which: Which<'_>,
    expect: Option<Expect>,
    core: &Generations,
) -> Result<ExitStatus> {
    let served = served(ctx, core).await?;
    let name = which.name;
    let mut out = Paged::new(ctx.output, served.kind("TracingStatusList"));
    let mut not_met = Vec::new();
    if let Some(api) = &served.v1 {
        // A name that is a SeldonRuntime's is not looked for as a SeldonDeployment only.
        let runtime_named = name.is_some()
            && served
                .v2
                .as_deref()
                .is_some_and(|r| !v2::read::named(r, name).is_empty());
        not_met = v1::read::status_v1(ctx, api, which, expect, &mut out, runtime_named).await?;
    }
    let (done, runtimes) = served.finish(ctx, out, name, core, true).await?;
    not_met.extend(v2::read::unmet(&runtimes, expect));
    Ok(expectation(expect, &not_met).unwrap_or(done))
}

/// `enable`, `disable`, `sampler` without `--core v2`: on SeldonDeployments, except where a guided
/// run (nothing named, on a terminal) finds only Seldon Core 2, or both and the user picks it.
pub async fn write(ctx: &Ctx, w: Write) -> Result<ExitStatus> {
    let guided = w.selection == Selection::Guided;
    let api = match (ctx.cluster.discover().await, &w.or_core2) {
        (Ok(api), _) => api,
        // Guided on a cluster with only Seldon Core 2: its runtimes.
        (Err(Error::OnlyCore2 { .. }), Some(v2)) if guided => {
            return v2::write::write(ctx, v2).await;
        }
        (Err(e), _) => return Err(e),
    };
    // Guided on a cluster that serves both: which generation.
    if let Some(v2) = w.or_core2.as_ref().filter(|_| guided)
        && ctx
            .cluster
            .seldon_runtimes(ctx.scope())
            .await
            .ok()
            .flatten()
            .is_some_and(|r| !r.is_empty())
    {
        let choice = prompt::pick_one(
            "Which Seldon",
            &[
                "SeldonDeployments (Seldon Core v1)".to_string(),
                "SeldonRuntimes (Seldon Core 2: one per namespace)".to_string(),
            ],
        )?;
        if choice == 1 {
            return v2::write::write(ctx, v2).await;
        }
    }
    v1::write::mutate(ctx, api, w).await
}
