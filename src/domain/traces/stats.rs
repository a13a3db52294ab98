//! `traces`: many traces of one predictor, merged from several searches, as per-hop counts,
//! percentiles and errors, and the slowest of them.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::traces::attribution::GraphNode;
use crate::domain::traces::attribution::attribute;
use crate::domain::traces::model::Trace;
use crate::domain::traces::model::{Hop, Role};

/// Nearest-rank percentile `p` (0 < p <= 100) of `sorted` (ascending); 0 for none.
pub fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Latency of one hop (a node's operation in one service) over many traces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HopStats {
    /// The graph node, `executor` for the entry span, `?` when it cannot be told.
    pub node: String,
    pub service: String,
    pub operation: String,
    pub count: usize,
    pub p50_us: i64,
    pub p95_us: i64,
    pub p99_us: i64,
    pub max_us: i64,
    pub errors: usize,
}

/// Per hop (node, service, operation) over `traces`: count, percentiles, max and errors, in the
/// order hops first appear (the entry first, then the graph's order of calls).
pub fn hop_stats(traces: &[Trace], graph: &GraphNode, executor_service: &str) -> Vec<HopStats> {
    hop_stats_by(traces, |t| attribute(t, graph, executor_service))
}

/// [`hop_stats`] with the spans of each trace tied to their hops by `attribute` (a SeldonDeployment's
/// graph, or the parts of a Seldon Core 2 Model's path).
pub fn hop_stats_by(traces: &[Trace], attribute: impl Fn(&Trace) -> Vec<Hop>) -> Vec<HopStats> {
    type Key = (String, String, String);
    let mut order: Vec<Key> = Vec::new();
    let mut seen: HashMap<Key, (Vec<i64>, usize)> = HashMap::new();
    for t in traces {
        for hop in attribute(t) {
            if hop.role == Role::Other {
                continue;
            }
            let s = &t.spans[hop.span];
            let key = (
                hop.node.clone().unwrap_or_else(|| "?".into()),
                s.service.clone(),
                s.operation.clone(),
            );
            let entry = seen.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                (Vec::new(), 0)
            });
            entry.0.push(s.duration_us);
            entry.1 += usize::from(s.error);
        }
    }
    order
        .into_iter()
        .map(|key| {
            let (mut durations, errors) = seen.remove(&key).unwrap_or_default();
            durations.sort_unstable();
            HopStats {
                count: durations.len(),
                p50_us: percentile(&durations, 50.0),
                p95_us: percentile(&durations, 95.0),
                p99_us: percentile(&durations, 99.0),
                max_us: durations.last().copied().unwrap_or(0),
                errors,
                node: key.0,
                service: key.1,
                operation: key.2,
            }
        })
        .collect()
}

/// The trace's own length: from its first span's start to the last span's end (µs).
pub fn trace_duration(t: &Trace) -> i64 {
    let start = t.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
    let end = t
        .spans
        .iter()
        .map(|s| s.start_us + s.duration_us)
        .max()
        .unwrap_or(0);
    end - start
}

/// How `traces` finds a deployment's traces in Jaeger: by the tags the plugin stamps into the
/// executor's `JAEGER_TAGS` (`seldon.deployment`, `seldon.predictor`), which outlive pods; else
/// by the process tag `hostname` (the pod name) of each executor pod running now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Stamp {
        deployment: String,
        predictor: String,
    },
    Pods(Vec<String>),
}

/// `traces` for one predictor: how many, per hop, and the slowest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TracesReport {
    /// `v2` for a Seldon Core 2 Model; absent for a SeldonDeployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub core: Option<&'static str>,
    /// Seldon Core 2: what `name` is (`Model`); absent for a SeldonDeployment.
    #[serde(rename = "targetKind", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub namespace: String,
    pub name: String,
    /// A SeldonDeployment's predictor; empty (and absent) for Seldon Core 2.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub predictor: String,
    pub jaeger: String,
    pub window: Window,
    /// `tag seldon.deployment=...`, or `hostname of pods a, b`.
    pub found_by: String,
    /// How Jaeger was asked: `/api/v3 query.attributes`, `old API tags`, `/api/v3 matched here`,
    /// `trace id`.
    pub search: String,
    pub traces: usize,
    pub hops: Vec<HopStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slowest: Option<Slowest>,
}

impl TracesReport {
    /// Whose traces these are, as a person reads it.
    pub fn subject(&self) -> String {
        crate::domain::traces::verdict::subject(
            self.kind,
            &self.namespace,
            &self.name,
            &self.predictor,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// As asked: `1h`.
    pub since: String,
    /// µs since the epoch.
    pub start_us: i64,
    pub end_us: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Slowest {
    #[serde(rename = "traceID")]
    pub trace_id: String,
    pub duration_us: i64,
    pub spans: Vec<crate::domain::traces::model::SpanRow>,
}

/// Traces of several searches as one list: each trace once (the one with more spans when two
/// answers differ), newest first, at most `limit`.
pub fn merge(mut traces: Vec<Trace>, limit: usize) -> Vec<Trace> {
    let start = |t: &Trace| t.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
    traces.sort_by(|a, b| a.id.cmp(&b.id).then(b.spans.len().cmp(&a.spans.len())));
    traces.dedup_by(|later, first| later.id == first.id);
    traces.sort_by_key(|t| std::cmp::Reverse(start(t)));
    traces.truncate(limit);
    traces
}

/// The longest trace.
pub fn slowest(traces: &[Trace]) -> Option<&Trace> {
    traces
        .iter()
        .max_by_key(|t| (trace_duration(t), std::cmp::Reverse(t.id)))
}
