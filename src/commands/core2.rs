//! `status --core v2`: each SeldonRuntime's tracing (Seldon Core 2 sets it once per namespace),
//! the SeldonConfig it takes defaults from, and whether the operator has written it to ConfigMap
//! `seldon-tracing`.

use crate::cluster::V2_API;
use crate::domain::core2::{self, CONFIG_MAP, Read, RuntimeStatus};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
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

pub async fn status(ctx: &Ctx, name: Option<&str>, seldon_namespace: &str) -> Result<ExitStatus> {
    let Some(runtimes) = ctx.cluster.seldon_runtimes(ctx.scope()).await? else {
        return Err(Error::Core2Missing {
            server: ctx.cluster.server.clone(),
        });
    };
    let mut items: Vec<RuntimeStatus> = Vec::new();
    for rt in runtimes.iter().filter(|r| {
        name.is_none_or(|n| r.pointer("/metadata/name").and_then(|v| v.as_str()) == Some(n))
    }) {
        let ns = rt
            .pointer("/metadata/namespace")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let sc_name = rt
            .pointer("/spec/seldonConfig")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let config = if sc_name.is_empty() {
            Read::Missing
        } else {
            let path =
                format!("/apis/{V2_API}/namespaces/{seldon_namespace}/seldonconfigs/{sc_name}");
            read(ctx, &path, seldon_namespace, sc_name).await?
        };
        let cm_path = format!("/api/v1/namespaces/{ns}/configmaps/{CONFIG_MAP}");
        let cm = read(ctx, &cm_path, ns, CONFIG_MAP).await?;
        items.push(core2::runtime_status(rt, &config, seldon_namespace, &cm));
    }
    let with_ns = ctx.all_namespaces;
    let mut out = Paged::new(ctx.output, "RuntimeTracingList");
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
    out.finish(|| {
        match (name, ctx.scope()) {
            (Some(n), Some(ns)) => crate::say!("No SeldonRuntime named {n} in {ns} namespace."),
            (_, Some(ns)) => crate::say!("No SeldonRuntime found in {ns} namespace."),
            (_, None) => crate::say!("No SeldonRuntimes found."),
        }
        ExitStatus::Success
    })
}
