//! `status --core v2` and `list --core v2` (and Seldon Core 2's part of a plain `list`/`status`):
//! each SeldonRuntime in scope merged with the SeldonConfig it names, whether the operator has
//! written it to ConfigMap `seldon-tracing`, and which workloads' pods run it.

use std::collections::{BTreeSet, HashMap};

use futures::{StreamExt, stream};

use crate::cluster::{RuntimeWorkloads, V2_API};
use crate::commands::context::expectation;
use crate::commands::context::print;
use crate::commands::context::{Ctx, Paged};
use crate::domain::json::str_at;
use crate::domain::v2;
use crate::domain::v2::CONFIG_MAP;
use crate::domain::v2::setting::ConfigMapRead;
use crate::domain::v2::status;
use crate::domain::v2::status::RuntimeStatus;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::options::{Expect, FIELD_MANAGER};
use crate::render;

/// A read whose refusal is an answer (`not read`), not an error.
pub async fn read(ctx: &Ctx, path: &str, namespace: &str, name: &str) -> Result<ConfigMapRead> {
    match ctx.cluster.get_optional(path, namespace, name).await {
        Ok(Some(v)) => Ok(ConfigMapRead::Found(v)),
        Ok(None) => Ok(ConfigMapRead::Missing),
        Err(Error::Forbidden { .. }) => Ok(ConfigMapRead::NotRead(format!(
            "you may not read it in namespace {namespace:?}"
        ))),
        Err(e) => Err(e),
    }
}

/// The SeldonConfigs runtimes name, read in the operator's namespace once each per run (every
/// runtime of a cluster usually names the same one). Shared by concurrent writes.
pub struct SeldonConfigs<'a> {
    namespace: &'a str,
    read: std::sync::Mutex<HashMap<String, ConfigMapRead>>,
}

impl<'a> SeldonConfigs<'a> {
    pub fn new(namespace: &'a str) -> Self {
        SeldonConfigs {
            namespace,
            read: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn name_in(runtime: &serde_json::Value) -> &str {
        runtime
            .pointer("/spec/seldonConfig")
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }

    fn known(&self, sc_name: &str) -> Option<ConfigMapRead> {
        let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        read.get(sc_name).cloned()
    }

    /// Reads, a few at a time, every SeldonConfig `runtimes` name, so that planning them asks
    /// nothing more.
    pub async fn read_for(&self, ctx: &Ctx, runtimes: &[&serde_json::Value]) -> Result<()> {
        let names: BTreeSet<&str> = runtimes.iter().map(|rt| Self::name_in(rt)).collect();
        let mut reads = stream::iter(names)
            .map(|n| self.of_name(ctx, n))
            .buffer_unordered(READS_AT_ONCE);
        while let Some(r) = reads.next().await {
            r?;
        }
        Ok(())
    }

    /// The SeldonConfig `runtime` names.
    pub async fn of(&self, ctx: &Ctx, runtime: &serde_json::Value) -> Result<ConfigMapRead> {
        self.of_name(ctx, Self::name_in(runtime)).await
    }

    async fn of_name(&self, ctx: &Ctx, sc_name: &str) -> Result<ConfigMapRead> {
        if sc_name.is_empty() {
            return Ok(ConfigMapRead::Missing);
        }
        if let Some(known) = self.known(sc_name) {
            return Ok(known);
        }
        let ns = self.namespace;
        let path = format!("/apis/{V2_API}/namespaces/{ns}/seldonconfigs/{sc_name}");
        let answer = read(ctx, &path, ns, sc_name).await?;
        let mut known = self.read.lock().unwrap_or_else(|e| e.into_inner());
        known.insert(sc_name.to_string(), answer.clone());
        Ok(answer)
    }
}

/// How many namespaces, or SeldonConfigs, are read at once when they are read one by one.
const READS_AT_ONCE: usize = 8;

/// What a runtime's status reads in its namespace beside the runtime itself: the operator's
/// ConfigMap `seldon-tracing` and the workloads and pods that run there; for every namespace of
/// a scope, read before the statuses are made.
pub struct InNamespaces {
    config_maps: HashMap<String, ConfigMapRead>,
    running: HashMap<String, Option<RuntimeWorkloads>>,
}

impl InNamespaces {
    /// Several namespaces in a few cluster-wide lists, so that the requests do not grow with the
    /// runtimes (docs/seldon2.md, "At fleet scale"); one namespace, or lists the user may not
    /// read cluster-wide: namespace by namespace, a few at a time.
    pub async fn read(ctx: &Ctx, namespaces: &BTreeSet<String>) -> Result<Self> {
        let fleet = if namespaces.len() > 1 {
            ctx.cluster.fleet(namespaces).await?
        } else {
            None
        };
        if let Some(f) = fleet {
            let mut config_maps: HashMap<String, ConfigMapRead> = f
                .config_maps
                .into_iter()
                .map(|(ns, cm)| (ns, ConfigMapRead::Found(cm)))
                .collect();
            for ns in namespaces {
                config_maps
                    .entry(ns.clone())
                    .or_insert(ConfigMapRead::Missing);
            }
            let running = f.running.into_iter().map(|(ns, r)| (ns, Some(r))).collect();
            return Ok(InNamespaces {
                config_maps,
                running,
            });
        }
        let mut reads = stream::iter(namespaces)
            .map(|ns| async move {
                let (cm, running) =
                    tokio::join!(read_config_map(ctx, ns), ctx.cluster.runtime_running(ns));
                Ok::<_, Error>((ns.clone(), cm?, running?))
            })
            .buffer_unordered(READS_AT_ONCE);
        let mut here = InNamespaces {
            config_maps: HashMap::new(),
            running: HashMap::new(),
        };
        while let Some(r) = reads.next().await {
            let (ns, cm, running) = r?;
            here.config_maps.insert(ns.clone(), cm);
            here.running.insert(ns, running);
        }
        Ok(here)
    }

    /// The status of `runtime`, over its SeldonConfig and what its namespace holds; with
    /// `field_manager`, warned of other managers of its fields.
    pub fn status_of(
        &self,
        runtime: &serde_json::Value,
        config: &ConfigMapRead,
        seldon_namespace: &str,
        field_manager: Option<&str>,
    ) -> RuntimeStatus {
        let ns = name_of(runtime, "namespace");
        let cm = self
            .config_maps
            .get(&ns)
            .cloned()
            .unwrap_or(ConfigMapRead::Missing);
        let mut st = status::runtime_status(runtime, config, seldon_namespace, &cm);
        if let Some(fm) = field_manager {
            st.warnings.extend(status::managed_warnings(runtime, fm));
        }
        let running = self.running.get(&ns).and_then(Option::as_ref);
        status::attach_running(&mut st, &cm, running.map(|r| r.view()).as_ref());
        st
    }
}

pub fn name_of(v: &serde_json::Value, field: &str) -> String {
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

/// The runtime's status now: its SeldonConfig, ConfigMap and workloads read again.
pub async fn status_now(
    ctx: &Ctx,
    configs: &SeldonConfigs<'_>,
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

async fn read_config_map(ctx: &Ctx, ns: &str) -> Result<ConfigMapRead> {
    let cm_path = format!("/api/v1/namespaces/{ns}/configmaps/{CONFIG_MAP}");
    read(ctx, &cm_path, ns, CONFIG_MAP).await
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
    Ok(expectation(expect, &unmet(&items, expect)).unwrap_or(done))
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
    let configs = SeldonConfigs::new(seldon_namespace);
    let namespaces: BTreeSet<String> = runtimes.iter().map(|rt| name_of(rt, "namespace")).collect();
    let (read, around) = tokio::join!(
        configs.read_for(ctx, runtimes),
        InNamespaces::read(ctx, &namespaces)
    );
    read?;
    let around = around?;
    let mut items: Vec<RuntimeStatus> = Vec::new();
    for rt in runtimes {
        let config = configs.of(ctx, rt).await?;
        items.push(around.status_of(rt, &config, seldon_namespace, Some(FIELD_MANAGER)));
    }
    let with_ns = ctx.all_namespaces;
    out.page(&items, |items, w| {
        render::v2::runtime_table(items, with_ns, w)
    })?;
    if !out.structured() {
        let workloads = render::v2::runtime_workloads_table(&items, with_ns);
        if detail && !workloads.is_empty() {
            print(&format!("\n{workloads}"))?;
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
            print(&format!("\n{warnings}"))?;
        }
    }
    Ok(items)
}
