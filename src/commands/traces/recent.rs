//! `traces`: a predictor's recent traces from Jaeger, as latency per hop (graph node and
//! operation) and the slowest one drawn. Percentiles come from the traces themselves: Jaeger's
//! metrics API needs a metrics store most installs lack (docs/facts/traces.md).

use std::time::Duration;

use serde_json::Value;

use super::verify::{find_jaeger, object_error, one_predictor, predictor, seconds_text};
use crate::commands::context::Ctx;
use crate::commands::context::print;
use crate::domain::traces::endpoints as reach;
use crate::domain::traces::model::Trace;
use crate::domain::traces::model::span_rows;
use crate::domain::traces::stats::{Finding, Slowest, TracesReport, Window};
use crate::domain::traces::{attribution, model, stats};
use crate::domain::v1::clients::EffectiveEnv;
use crate::domain::v1::components as c;
use crate::domain::v1::stamp;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::JaegerAt;
use crate::invocation::Traces;
use crate::jaeger::{Jaeger, Search};
use crate::options::Output;
use crate::render;

/// Jaeger as `traces` asks for it, and the window of `--since` up to now (µs since the epoch).
pub(super) async fn jaeger_and_window(ctx: &Ctx, args: &Traces) -> Result<(Jaeger, i64, i64)> {
    let jaeger = find_jaeger(
        ctx,
        &args.target.jaeger,
        &args.target.access,
        Duration::from_secs(30),
        true,
    )
    .await?;
    let end_us = now_us();
    Ok((jaeger, end_us - args.since.as_micros() as i64, end_us))
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

pub async fn traces(ctx: &Ctx, args: &Traces, ask: bool) -> Result<ExitStatus> {
    let (ns, name, obj, pname) = one_predictor(ctx, &args.target, ask).await?;
    let p = predictor(&obj, &pname);
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    if !c::has_engine(p) {
        return Err(object_error(
            &ns,
            &name,
            format!(
                "predictor \"{pname}\" runs without an executor (seldon.io/no-engine: \"true\"): there are no executor traces to read; look for the model's own service in Jaeger"
            ),
        ));
    }
    let graph = attribution::graph(p)
        .ok_or_else(|| object_error(&ns, &name, format!("predictor \"{pname}\" has no graph")))?;
    let env = EffectiveEnv::executor(spec, p);
    let executor_service = env
        .go("JAEGER_SERVICE_NAME")
        .unwrap_or("executor")
        .to_string();
    // A stamp naming another deployment (a manifest copied with it) would read that one's traces.
    let stamp = env
        .go("JAEGER_TAGS")
        .and_then(stamp::stamp_in)
        .filter(|(d, p)| *d == name && *p == pname);
    let finding = match stamp {
        Some((deployment, predictor)) => Finding::Stamp {
            deployment,
            predictor,
        },
        None => {
            let pods = ctx
                .cluster
                .pods(&ns, &reach::predictor_selector(&name, &pname))
                .await?;
            let names: Vec<String> = pods
                .iter()
                .filter(|pod| reach::runs_engine(pod))
                .filter_map(|pod| pod.pointer("/metadata/name").and_then(Value::as_str))
                .map(str::to_string)
                .collect();
            if names.is_empty() {
                return Err(object_error(
                    &ns,
                    &name,
                    format!(
                        "predictor \"{pname}\": no executor pod runs now, and without the tags `enable` stamps (JAEGER_TAGS seldon.deployment, seldon.predictor) its traces can only be found by the hostname of running pods"
                    ),
                ));
            }
            Finding::Pods(names)
        }
    };
    let (jaeger, start_us, end_us) = jaeger_and_window(ctx, args).await?;
    let search = |tags: Vec<(String, String)>| Search {
        service: executor_service.clone(),
        operation: None,
        tags,
        start_us,
        end_us,
        limit: args.limit,
        min_duration_us: args.min_duration.map(|d| d.as_micros() as i64),
    };
    let searches: Vec<Search> = match &finding {
        Finding::Stamp {
            deployment,
            predictor,
        } => vec![search(vec![
            ("seldon.deployment".into(), deployment.clone()),
            ("seldon.predictor".into(), predictor.clone()),
        ])],
        Finding::Pods(pods) => pods
            .iter()
            .map(|pod| search(vec![("hostname".into(), pod.clone())]))
            .collect(),
    };
    // A trace's URL from Jaeger's UI names one trace: that one, tied to this predictor's graph.
    let named = match &args.target.jaeger {
        JaegerAt::Url(e) => e.trace,
        _ => None,
    };
    let mut all: Vec<Trace> = Vec::new();
    if let Some(id) = named {
        let t = jaeger
            .trace(id)
            .await
            .map_err(|e| Error::Reach(e.to_string()))?
            .ok_or_else(|| {
                Error::Reach(format!(
                    "Jaeger at {} has no trace {}",
                    jaeger.at,
                    model::trace_id_text(id)
                ))
            })?;
        all.push(t);
    } else {
        for q in &searches {
            all.extend(
                jaeger
                    .search_traces(q)
                    .await
                    .map_err(|e| Error::Reach(e.to_string()))?,
            );
        }
    }
    let traces = stats::merge(all, args.limit as usize);
    let hops = stats::hop_stats(&traces, &graph, &executor_service);
    let slowest = stats::slowest(&traces);
    let slowest_hops = slowest
        .map(|t| attribution::attribute(t, &graph, &executor_service))
        .unwrap_or_default();
    let summary = TracesReport {
        core: None,
        kind: None,
        namespace: ns.clone(),
        name: name.clone(),
        predictor: pname.clone(),
        jaeger: jaeger.at.clone(),
        window: Window {
            since: seconds_text(args.since),
            start_us,
            end_us,
        },
        found_by: match (&finding, named) {
            (_, Some(id)) => format!("trace {} named by --jaeger", model::trace_id_text(id)),
            (
                Finding::Stamp {
                    deployment,
                    predictor,
                },
                None,
            ) => format!("tags seldon.deployment={deployment}, seldon.predictor={predictor}"),
            (Finding::Pods(p), None) => format!("hostname of executor pods {}", p.join(", ")),
        },
        search: match named {
            Some(_) => "trace id".into(),
            None => jaeger.search_words().into(),
        },
        traces: traces.len(),
        hops,
        slowest: slowest.map(|t| Slowest {
            trace_id: model::trace_id_text(t.id),
            duration_us: stats::trace_duration(t),
            spans: span_rows(t, &slowest_hops),
        }),
    };
    print_report(ctx, &summary, slowest, &slowest_hops)
}

/// The report as asked (`-o json|yaml` as `kind: TraceSummary`), or one line on stderr when no
/// trace was found.
pub(super) fn print_report(
    ctx: &Ctx,
    summary: &TracesReport,
    slowest: Option<&Trace>,
    slowest_hops: &[model::Hop],
) -> Result<ExitStatus> {
    let text = match ctx.output {
        Output::Json | Output::Yaml => {
            render::document(ctx.output, "TraceSummary", &[summary]).unwrap_or_default()
        }
        _ => {
            if summary.traces == 0 {
                crate::say!(
                    "No traces of {} in the last {} (Jaeger at {}, found by {}).",
                    summary.subject(),
                    summary.window.since,
                    summary.jaeger,
                    summary.found_by
                );
                return Ok(ExitStatus::Success);
            }
            render::traces::verify::summary(summary, slowest, slowest_hops)
        }
    };
    print(&text).map(|_| ExitStatus::Success)
}
