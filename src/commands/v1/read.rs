//! `list` and `status` of SeldonDeployments: paginated reads, rows computed page by page, with
//! the Python components' config files and, where asked, the rollout.

use futures::StreamExt;
use serde_json::Value;

use crate::cluster::{Cluster, Query};
use crate::commands::context::{Ctx, Paged, now_epoch};
use crate::domain::json::str_at;
use crate::domain::v1::config_file::mount;
use crate::domain::v1::config_file::mount::ConfigMaps;
use crate::domain::v1::rollout::{Deployments, RolloutState};
use crate::domain::v1::status::{DeploymentStatus, Origin, attach_rollout, status_with, unmet};
use crate::error::{Error, Result};
use crate::invocation::Manifests;
use crate::manifests;
use crate::options::{Expect, FIELD_MANAGER, Output};
use crate::render;
use crate::render::v1::ListItem;

/// The pages of SeldonDeployments `q` selects, read one request at a time as they are pulled
/// (waiting out a server restart, see `Cluster::patiently`); ends after the last page or the
/// first error.
pub fn pages<'a>(
    cluster: &'a Cluster,
    api_version: &'a str,
    q: Query<'a>,
) -> impl futures::Stream<Item = Result<Vec<Value>>> + 'a {
    // None: done; Some(None): the first page; Some(Some(token)): the next one.
    futures::stream::unfold(Some(None::<String>), move |state| async move {
        let cont = state?;
        let page = cluster
            .patiently(|| cluster.list_page(api_version, &q, cont.as_deref()))
            .await;
        match page {
            Ok(page) => {
                let next = page.next().map(|c| Some(c.to_string()));
                Some((Ok(page.items), next))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// Calls `each` with every page of SeldonDeployments `q` selects: one page in memory at a time.
pub async fn for_each_page(
    cluster: &Cluster,
    api_version: &str,
    q: Query<'_>,
    mut each: impl FnMut(Vec<Value>) -> Result<()>,
) -> Result<()> {
    let mut all = std::pin::pin!(pages(cluster, api_version, q));
    while let Some(page) = all.next().await {
        each(page?)?;
    }
    Ok(())
}

/// The `list` row of one object, from its status.
pub fn list_item(obj: &Value, st: &DeploymentStatus) -> ListItem {
    ListItem {
        core: st.core,
        namespace: st.namespace.clone(),
        name: st.name.clone(),
        predictors: st.predictors.iter().map(|p| p.name.clone()).collect(),
        tracing: st.summary.as_str().into(),
        samplers: st.samplers.clone(),
        state: str_at(obj, &["status", "state"]).unwrap_or("").into(),
        created: str_at(obj, &["metadata", "creationTimestamp"])
            .unwrap_or("")
            .into(),
        api_version: str_at(obj, &["apiVersion"]).unwrap_or("").into(),
        warning_count: st.warnings.len(),
        rollout: RolloutState::worst(
            st.predictors
                .iter()
                .filter_map(|p| p.rollout.as_ref().map(|r| r.state)),
        ),
    }
}

/// The ConfigMaps the Python components of `objs` read their `JAEGER_CONFIG_PATH` files
/// from: none requested when no component names one.
pub async fn config_files(cluster: &Cluster, objs: &[Value]) -> Result<ConfigMaps> {
    let wanted: Vec<(String, String)> = objs.iter().flat_map(mount::wanted).collect();
    cluster.config_maps(&wanted).await
}

/// Calls `each` with `objs` and the config files they read.
async fn with_files(
    cluster: &Cluster,
    objs: Vec<Value>,
    each: &mut impl FnMut(Vec<Value>, &ConfigMaps) -> Result<()>,
) -> Result<()> {
    let files = config_files(cluster, &objs).await?;
    each(objs, &files)
}

/// The objects `-f` names, read from the cluster, one page each, with their config files.
async fn named_in_files(
    ctx: &Ctx,
    api: &str,
    paths: &[std::path::PathBuf],
    mut each: impl FnMut(Vec<Value>, &ConfigMaps) -> Result<()>,
) -> Result<()> {
    let inputs = manifests::read(paths).map_err(Error::Manifest)?;
    for (ns, name) in manifests::names(&inputs, ctx.namespace()).map_err(Error::Manifest)? {
        let objs = vec![ctx.cluster.get(api, &ns, &name).await?];
        with_files(&ctx.cluster, objs, &mut each).await?;
    }
    Ok(())
}

/// Calls `each` with every page `q` selects and the config files its objects read.
async fn each_page_with_files(
    cluster: &Cluster,
    api_version: &str,
    q: Query<'_>,
    mut each: impl FnMut(Vec<Value>, &ConfigMaps) -> Result<()>,
) -> Result<()> {
    let mut all = std::pin::pin!(pages(cluster, api_version, q));
    while let Some(page) = all.next().await {
        with_files(cluster, page?, &mut each).await?;
    }
    Ok(())
}

pub async fn list_v1(
    ctx: &Ctx,
    api: &str,
    out: &mut Paged,
    selector: Option<&str>,
    chunk_size: u32,
    files: &Manifests,
) -> Result<()> {
    let wide = ctx.output == Output::Wide;
    let (with_ns, now) = (ctx.all_namespaces, now_epoch());
    // ROLLOUT only in -o wide: the plain list stays one request per page.
    let live = if wide {
        workloads(&ctx.cluster, ctx.scope(), None).await?
    } else {
        None
    };
    let page = |objs: Vec<Value>, files: &ConfigMaps| {
        let items: Vec<ListItem> = objs
            .iter()
            .map(|o| {
                let mut st = status_with(o, FIELD_MANAGER, Origin::Live, files);
                if wide {
                    attach_rollout(&mut st, o, live.as_ref());
                }
                list_item(o, &st)
            })
            .collect();
        out.page(&items, |items, w| {
            render::v1::list_table(items, wide, with_ns, now, w)
        })
    };
    match files {
        Manifests::InCluster(paths) => named_in_files(ctx, api, paths, page).await,
        _ => {
            let q = Query {
                namespace: ctx.scope(),
                labels: selector,
                name: None,
                chunk_size,
            };
            each_page_with_files(&ctx.cluster, api, q, page).await
        }
    }
}

/// What runs in `namespace` (all when None), of the SeldonDeployment `owner` only when given:
/// the operator's Deployments, and their ReplicaSets when a Deployment's controller has not
/// observed its latest generation. None when the user may not list Deployments.
///
/// A Deployment whose controller has observed its generation says in its own counters what its
/// pods run (`kubectl rollout status`'s test), so the ReplicaSets, as many bytes again as the
/// Deployments, are read only when one has not: a rollout just written, or the operator's
/// rewrite loop, where only the ReplicaSets tell. Without permission for ReplicaSets the
/// counters decide.
pub async fn workloads(
    cluster: &crate::cluster::Cluster,
    namespace: Option<&str>,
    owner: Option<&str>,
) -> Result<Option<Deployments>> {
    let Some(deployments) = cluster.seldon_deployments(namespace, owner).await? else {
        return Ok(None);
    };
    let live = Deployments::new(deployments);
    if !live.any_unobserved() {
        return Ok(Some(live));
    }
    Ok(Some(
        match cluster.seldon_replica_sets(namespace, owner).await? {
            Some(sets) => live.with_replica_sets(sets),
            None => live,
        },
    ))
}

/// Pages of SeldonDeployments `status` reads ahead while the Deployments and ReplicaSets lists
/// are read: they overlap, at the cost of holding at most this many pages. 4 pages held 34.5 MB
/// peak at 5,000 objects; 2 hold 23.9 MB with the same wall time (issue 17, measured here).
const READ_AHEAD: usize = 2;

/// Which objects `status` reads from the cluster.
pub struct Which<'a> {
    pub name: Option<&'a str>,
    pub selector: Option<&'a str>,
    pub chunk_size: u32,
    pub manifests: &'a Manifests,
}

/// v1's part of `status`: the rows, then the warnings (tables); the components not in the
/// expected state. `missing_ok`: a named object that does not exist is no error.
pub async fn status_v1(
    ctx: &Ctx,
    api: &str,
    which: Which<'_>,
    expect: Option<Expect>,
    out: &mut Paged,
    missing_ok: bool,
) -> Result<Vec<String>> {
    let wide = ctx.output == Output::Wide;
    let with_ns = ctx.all_namespaces;
    let mut warnings = String::new();
    let mut not_met = Vec::new();
    let Which {
        name,
        selector,
        chunk_size,
        manifests,
    } = which;
    let q = Query {
        namespace: ctx.scope(),
        labels: selector,
        name,
        chunk_size,
    };
    // What runs: one paged list of the operator's Deployments for the whole scope (of the one
    // object when a name is given in one namespace), read while the first pages of
    // SeldonDeployments are: the two lists overlap instead of adding up.
    let owner = name.filter(|_| !with_ns);
    let deployments = workloads(&ctx.cluster, ctx.scope(), owner);
    let listing = !matches!(manifests, Manifests::InCluster(_)) && (name.is_none() || with_ns);
    let mut rest = std::pin::pin!(pages(&ctx.cluster, api, q).fuse());
    let (live, ahead, one) = match (listing, name) {
        (true, _) => {
            let read_ahead = async {
                let mut ahead = Vec::new();
                while ahead.len() < READ_AHEAD {
                    match rest.next().await {
                        Some(page) => ahead.push(page),
                        None => break,
                    }
                }
                ahead
            };
            let (live, ahead) = tokio::join!(deployments, read_ahead);
            (live?, ahead, None)
        }
        (false, Some(name)) if !matches!(manifests, Manifests::InCluster(_)) => {
            let get = ctx.cluster.get(api, ctx.namespace(), name);
            let (live, obj) = tokio::join!(deployments, get);
            match obj {
                Err(Error::NotFound { .. }) if missing_ok => return Ok(Vec::new()),
                obj => (live?, Vec::new(), Some(obj?)),
            }
        }
        (false, _) => (deployments.await?, Vec::new(), None),
    };
    if live.is_none() {
        crate::say!("note: you may not list Deployments here, so ROLLOUT is unknown");
    }
    let mut page = |objs: Vec<Value>, files: &ConfigMaps| {
        let items: Vec<DeploymentStatus> = objs
            .iter()
            .map(|o| {
                let mut st = status_with(o, FIELD_MANAGER, Origin::Live, files);
                attach_rollout(&mut st, o, live.as_ref());
                st
            })
            .collect();
        warnings.push_str(&render::v1::status_warnings(&items, with_ns));
        if let Some(e) = expect {
            not_met.extend(items.iter().flat_map(|d| unmet(d, e == Expect::On)));
        }
        out.page(&items, |items, w| {
            render::v1::status_table(items, wide, with_ns, w)
        })
    };
    match (manifests, one) {
        (Manifests::InCluster(paths), _) => named_in_files(ctx, api, paths, page).await?,
        (_, Some(obj)) => with_files(&ctx.cluster, vec![obj], &mut page).await?,
        (_, None) => {
            let mut found = 0;
            for objs in ahead {
                let objs = objs?;
                found += objs.len();
                with_files(&ctx.cluster, objs, &mut page).await?;
            }
            while let Some(objs) = rest.next().await {
                let objs = objs?;
                found += objs.len();
                with_files(&ctx.cluster, objs, &mut page).await?;
            }
            // A name with -A: that name in every namespace (kubectl refuses; an incident wants it).
            if let Some(name) = name.filter(|_| found == 0 && !missing_ok) {
                return Err(Error::NotFoundAnywhere { name: name.into() });
            }
        }
    }
    if !out.structured() && !warnings.is_empty() {
        ctx.print(&format!("\n{warnings}"))?;
    }
    Ok(not_met)
}
