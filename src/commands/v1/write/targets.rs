//! Which SeldonDeployments a write acts on: the names given, a list by `--all` or `-l`, or the
//! ones the user picks from a list on a terminal.

use super::apply::Listed;
use crate::cluster::Query;
use crate::commands::context::Ctx;
use crate::commands::v1::read::for_each_page;
use crate::domain::json::str_at;
use crate::domain::v1::status::status;
use crate::error::{Error, Result};
use crate::invocation::{Selection, Write};
use crate::manifests;
use crate::prompt;

/// One deployment offered in the interactive picker.
struct Choice {
    namespace: String,
    name: String,
    predictors: Vec<String>,
    /// TRACING and SAMPLER as in `list`: "on      const:1"
    summary: String,
}

/// Lists the deployments in scope and lets the user pick one or more, then predictors.
pub async fn pick(ctx: &Ctx, api: &str, w: &Write) -> Result<(Vec<(String, String)>, Vec<String>)> {
    let mut choices = Vec::new();
    let q = Query {
        namespace: ctx.scope(),
        chunk_size: w.chunk_size,
        ..Query::default()
    };
    for_each_page(&ctx.cluster, api, q, |page| {
        for obj in page {
            let st = status(&obj, &w.field_manager);
            // No words shared by every row ("tracing", "sampler"): the fuzzy search matches the
            // whole line, and "tra" must find `traced`, not the first row.
            let sampler = crate::render::v1::samplers_text(&st.samplers);
            let summary = format!("{:<8}{sampler}", st.summary.as_str());
            let predictors = st.predictors.iter().map(|p| p.name.clone()).collect();
            choices.push(Choice {
                namespace: st.namespace,
                name: st.name,
                predictors,
                summary,
            });
        }
        Ok(())
    })
    .await?;
    if choices.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    // NAMESPACE/NAME padded to one width, so the summaries line up like a table.
    let width = choices
        .iter()
        .map(|c| c.namespace.len() + 1 + c.name.len())
        .max()
        .unwrap_or(0);
    let labels: Vec<String> = choices
        .iter()
        .map(|c| {
            let id = format!("{}/{}", c.namespace, c.name);
            format!("{id:width$}   {}", c.summary)
        })
        .collect();
    let picked = prompt::pick_deployments(&labels)?;
    let targets: Vec<(String, String)> = picked
        .iter()
        .map(|&i| (choices[i].namespace.clone(), choices[i].name.clone()))
        .collect();
    let mut predictors = w.predictors.clone();
    if let [only] = picked.as_slice()
        && predictors.is_empty()
        && choices[*only].predictors.len() > 1
    {
        predictors = prompt::pick_predictors(&choices[*only].predictors)?;
    }
    Ok((targets, predictors))
}

/// The (namespace, name) pairs a mutation acts on, in the order given or listed, and the objects
/// as listed when the selection was a list (`--all`, `-l`): the writes start from those instead
/// of reading each object again (half the requests of a bulk change).
pub async fn listed(ctx: &Ctx, api: &str, w: &Write) -> Result<(Vec<(String, String)>, Listed)> {
    let labels = match &w.selection {
        Selection::Names(names) => {
            let ns = ctx.namespace();
            let targets = names.iter().map(|n| (ns.to_string(), n.clone())).collect();
            return Ok((targets, Listed::new()));
        }
        Selection::Manifests(paths) => {
            let inputs = manifests::read(paths).map_err(Error::Manifest)?;
            let targets = manifests::names(&inputs, ctx.namespace()).map_err(Error::Manifest)?;
            return Ok((targets, Listed::new()));
        }
        Selection::Selector(s) => Some(s.as_str()),
        Selection::All | Selection::Guided => None,
    };
    let mut out = Vec::new();
    let mut objects = Listed::new();
    let q = Query {
        namespace: ctx.scope(),
        labels,
        name: None,
        chunk_size: w.chunk_size,
    };
    for_each_page(&ctx.cluster, api, q, |page| {
        for obj in page {
            let ns = str_at(&obj, &["metadata", "namespace"]).unwrap_or("");
            let name = str_at(&obj, &["metadata", "name"]).unwrap_or("");
            let key = (ns.to_string(), name.to_string());
            out.push(key.clone());
            objects.insert(key, obj);
        }
        Ok(())
    })
    .await?;
    Ok((out, objects))
}
