//! `status --watch`: the status table (or json/yaml documents) first, then the rows of each
//! SeldonDeployment again whenever it or its Deployments change in a way the view shows, as
//! `kubectl get -w` does; until Ctrl-C (exit 0) or `--timeout`.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use serde_json::{Map, Value};

use super::live::{self, Key, Live, Touched, WatchScope};
use super::read::Which;
use crate::commands::context::{Ctx, Paged};
use crate::domain::v1::status::DeploymentStatus;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::Watch;
use crate::manifests;
use crate::options::Output;
use crate::render::{self, OUTPUT_API_VERSION};

/// One status as its own document (json or yaml), like each object of `kubectl get -w -o json`.
fn document(output: Output, st: &DeploymentStatus) -> String {
    let mut doc = Map::new();
    doc.insert("apiVersion".into(), OUTPUT_API_VERSION.into());
    doc.insert("kind".into(), "TracingStatus".into());
    if let Ok(Value::Object(fields)) = serde_json::to_value(st) {
        doc.extend(fields);
    }
    let doc = Value::Object(doc);
    match output {
        Output::Json => serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n",
        _ => format!("---\n{}", render::yaml(&doc)),
    }
}

pub async fn watch_status(ctx: &Ctx, which: Which<'_>, w: Watch) -> Result<ExitStatus> {
    let api = ctx.cluster.discover().await?;
    // -f: the objects the files name.
    let only: Option<BTreeSet<Key>> = match which.manifests {
        crate::invocation::Manifests::InCluster(paths) => {
            let inputs = manifests::read(paths).map_err(Error::Manifest)?;
            Some(
                manifests::names(&inputs, ctx.namespace())
                    .map_err(Error::Manifest)?
                    .into_iter()
                    .collect(),
            )
        }
        _ => None,
    };
    // The files may name other namespaces than -n: watch theirs (all when several).
    let namespaces: BTreeSet<&str> = only.iter().flatten().map(|(ns, _)| ns.as_str()).collect();
    let scope = WatchScope {
        namespace: match (&only, namespaces.len()) {
            (None, _) => ctx.scope(),
            (Some(_), 1) => namespaces.first().copied(),
            (Some(_), _) => None,
        },
        labels: which.selector,
        name: which.name,
    };
    let structured = matches!(ctx.output, Output::Json | Output::Yaml);
    let (wide, with_ns) = (ctx.output == Output::Wide, ctx.all_namespaces);
    let mut live = Live::default();
    let mut events = std::pin::pin!(live::events(&ctx.cluster, &api, &scope));
    let mut table = Paged::new(Output::Table, "TracingStatusList");
    // What each object showed last, to print only what changed.
    let mut shown: BTreeMap<Key, String> = BTreeMap::new();
    let mut listed = false;
    let stop = async {
        match w.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    let mut stop = std::pin::pin!(stop);
    let mut interrupt = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let event = tokio::select! {
            () = &mut stop => return Ok(ExitStatus::Success),
            _ = &mut interrupt => return Ok(ExitStatus::Success),
            event = events.next() => event,
        };
        let Some(event) = event else {
            return Ok(ExitStatus::Success);
        };
        let touched = live.apply(event?);
        if !live.ready() {
            continue;
        }
        let keys: Vec<Key> = match (listed, touched) {
            (false, _) | (true, Touched::All) => live.keys().cloned().collect(),
            (true, Touched::These(keys)) => keys,
        };
        let mut changed = Vec::new();
        for key in keys {
            if only.as_ref().is_some_and(|o| !o.contains(&key)) {
                continue;
            }
            let Some(st) = live.status(&key) else {
                shown.remove(&key);
                continue;
            };
            // What this output shows of it: a table prints again only when its rows read
            // differently (not when, say, ready goes from 1 to 2 inside `rolling 1/2`).
            let view = if structured {
                serde_json::to_string(&st).unwrap_or_default()
            } else {
                let rows = render::v1::status_table(
                    std::slice::from_ref(&st),
                    wide,
                    with_ns,
                    &mut Vec::new(),
                );
                rows.split_whitespace().collect::<Vec<_>>().join(" ")
            };
            if shown.get(&key) != Some(&view) {
                shown.insert(key, view);
                changed.push(st);
            }
        }
        if !listed {
            listed = true;
            if !live.deployments_readable() {
                crate::say!("note: you may not list Deployments here, so ROLLOUT is unknown");
            }
            if changed.is_empty() {
                ctx.none_found();
            }
        }
        if changed.is_empty() {
            continue;
        }
        if structured {
            let text: String = changed.iter().map(|st| document(ctx.output, st)).collect();
            ctx.print(&text)?;
        } else {
            table.page(&changed, |items, widths| {
                render::v1::status_table(items, wide, with_ns, widths)
            })?;
        }
    }
}
