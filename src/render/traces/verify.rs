//! `verify` as text: the request and its trace as a waterfall, then one line per component and
//! the result; or, with `--dry-run`, what would be sent where.

use std::time::Duration;

use super::waterfall::{duration_text, waterfall};
use crate::domain::traces::core2;
use crate::domain::traces::model::{Hop, Trace};
use crate::domain::traces::stats::{TracesReport, trace_duration};
use crate::domain::traces::verdict::{Expectation, Verification};
use crate::render::table::table;

/// The width of the waterfall's bars.
const BAR: usize = 30;

fn headers_text(v: &Verification) -> String {
    v.request
        .headers
        .iter()
        .map(|(k, val)| format!("{k}: {val}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `--dry-run` prints.
pub fn dry_run(
    v: &Verification,
    body: &str,
    expected: &[Expectation],
    timeout: Duration,
) -> String {
    let head = format!(
        "Would send {} {} to the executor of seldondeployment {}/{} (predictor {})\n",
        v.request.method, v.request.url, v.namespace, v.name, v.predictor
    );
    let parts: Vec<(&str, bool, Option<&str>)> = expected
        .iter()
        .map(|e| (e.name.as_str(), e.expected, e.why_not.as_deref()))
        .collect();
    dry_run_text(head, v, body, &parts, timeout)
}

/// `verify --core v2 --dry-run`: where the request would go, with what, and what should join
/// its trace.
pub fn dry_run_core2(
    v: &Verification,
    body: &str,
    expected: &[core2::Expectation],
    timeout: Duration,
) -> String {
    let head = format!(
        "Would send {} {} to {}\n",
        v.request.method,
        v.request.url,
        v.subject()
    );
    let parts: Vec<(&str, bool, Option<&str>)> = expected
        .iter()
        .map(|e| (e.name, e.expected, e.why_not.as_deref()))
        .collect();
    dry_run_text(head, v, body, &parts, timeout)
}

/// A dry run after its `head` line: how the request goes and what it carries, where its trace
/// is read, and what should join it (`parts`: name, expected, why not).
fn dry_run_text(
    head: String,
    v: &Verification,
    body: &str,
    parts: &[(&str, bool, Option<&str>)],
    timeout: Duration,
) -> String {
    let mut out = head;
    out.push_str(&format!("  through:  {}\n", v.request.through));
    if v.request.is_grpc() {
        out.push_str(&format!("  metadata: {}\n", headers_text(v)));
        out.push_str(&format!("  message:  SeldonMessage of {body}\n"));
    } else {
        out.push_str(&format!(
            "  headers:  {}, content-type: application/json\n",
            headers_text(v)
        ));
        out.push_str(&format!("  body:     {body}\n"));
    }
    out.push_str(&format!(
        "then read trace {} from Jaeger at {} for up to {}s.\n",
        v.trace_id,
        v.jaeger,
        timeout.as_secs()
    ));
    out.push_str(&expected_text(parts));
    out
}

/// `Expected in the trace: a, b` and a `Not expected` line per part that will not join, from
/// (name, expected, why not).
fn expected_text(parts: &[(&str, bool, Option<&str>)]) -> String {
    let joins: Vec<&str> = parts.iter().filter(|p| p.1).map(|p| p.0).collect();
    let mut out = format!(
        "Expected in the trace: {}\n",
        if joins.is_empty() {
            "nothing".to_string()
        } else {
            joins.join(", ")
        }
    );
    for (name, _, why) in parts.iter().filter(|p| !p.1) {
        if let Some(why) = why {
            out.push_str(&format!("Not expected: {name}: {why}\n"));
        }
    }
    out
}

/// A line under the waterfall for spans whose parent is not in the trace, drawn at the top.
pub fn orphan_note(t: &Trace) -> String {
    let orphans = t.orphans();
    match orphans.len() {
        0 => String::new(),
        n => format!(
            "Note: {n} span(s) ({}) name a parent that is not in the trace (lost, not sent yet, or reported elsewhere); drawn at the top level.\n",
            orphans
                .iter()
                .map(|s| format!("{} {}", s.service, s.operation))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn verification(v: &Verification, trace: Option<&Trace>, hops: &[Hop]) -> String {
    let status = v.request.answered();
    let mut out = format!(
        "Trace {} of {}: {} {} answered {status} ({})\n",
        v.trace_id,
        v.subject(),
        v.request.method,
        v.request.url,
        v.request.through
    );
    if let Some(e) = &v.request.error {
        out.push_str(&format!("  the answer: {e}\n"));
    }
    match trace {
        Some(t) => {
            out.push_str(&format!(
                "{} spans from {} in {} (Jaeger at {})\n\n",
                t.spans.len(),
                services(t),
                duration_text(trace_duration(t)),
                v.jaeger
            ));
            out.push_str(&waterfall(t, hops, BAR));
            out.push_str(&orphan_note(t));
        }
        None => out.push_str(&format!(
            "Jaeger at {} never returned the trace.\n",
            v.jaeger
        )),
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = v
        .components
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.kind.clone(),
                if c.expected { "yes" } else { "no" }.into(),
                c.spans.to_string(),
                match (c.arrived, c.traces) {
                    (true, _) => "arrived".into(),
                    (false, true) => "MISSING".into(),
                    (false, false) => "-".into(),
                },
            ]
        })
        .collect();
    out.push_str(&table(
        &["COMPONENT", "KIND", "EXPECTED", "SPANS", "RESULT"],
        &rows,
    ));
    for c in &v.components {
        if let Some(r) = &c.reason {
            let label = match (c.fails(), c.traces, v.core) {
                (true, _, _) => "missing",
                // Seldon Core 2: a part listed on the path whose spans are not judged.
                (false, false, Some(_)) => "not judged",
                _ => "not traced",
            };
            out.push_str(&format!("{} {label}: {r}\n", c.name));
        }
        if let Some(n) = &c.note {
            out.push_str(&format!("Note: {}: {n}\n", c.name));
        }
    }
    out.push_str(&if v.result == "passed" {
        format!(
            "PASSED: {} spans in trace {}\n",
            match v.core {
                // Seldon Core 2: the parts that can trace, by name (`agent and mlserver have`).
                Some(_) => {
                    let names: Vec<&str> = v
                        .components
                        .iter()
                        .filter(|c| c.traces)
                        .map(|c| c.name.as_str())
                        .collect();
                    match names.split_last() {
                        Some((last, [])) => format!("{last} has"),
                        Some((last, rest)) => format!("{} and {last} have", rest.join(", ")),
                        None => "every part has".into(),
                    }
                }
                None => "the executor and every Python component have".to_string(),
            },
            v.trace_id
        )
    } else {
        format!(
            "FAILED: {} of the components that can trace have no span in trace {}\n",
            v.components.iter().filter(|c| c.fails()).count(),
            v.trace_id
        )
    });
    out
}

/// `executor (2), MeanClassifier (1)`, as Jaeger's UI counts spans per service.
fn services(t: &Trace) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for s in &t.spans {
        match counts.iter_mut().find(|(n, _)| *n == s.service) {
            Some((_, c)) => *c += 1,
            None => counts.push((s.service.clone(), 1)),
        }
    }
    counts
        .iter()
        .map(|(n, c)| format!("{n} ({c})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `traces` as a person reads it: the hops' latency table, then the slowest trace.
pub fn summary(s: &TracesReport, slowest: Option<&Trace>, hops: &[Hop]) -> String {
    let mut out = format!(
        "{} traces of {} in the last {} (Jaeger at {}; found by {})\n\n",
        s.traces,
        s.subject(),
        s.window.since,
        s.jaeger,
        s.found_by
    );
    let rows: Vec<Vec<String>> = s
        .hops
        .iter()
        .map(|h| {
            vec![
                h.node.clone(),
                h.service.clone(),
                h.operation.clone(),
                h.count.to_string(),
                duration_text(h.p50_us),
                duration_text(h.p95_us),
                duration_text(h.p99_us),
                duration_text(h.max_us),
                h.errors.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "NODE",
            "SERVICE",
            "OPERATION",
            "COUNT",
            "P50",
            "P95",
            "P99",
            "MAX",
            "ERRORS",
        ],
        &rows,
    ));
    if let (Some(t), Some(info)) = (slowest, &s.slowest) {
        out.push_str(&format!(
            "\nSlowest: trace {} ({})\n",
            info.trace_id,
            duration_text(info.duration_us)
        ));
        out.push_str(&waterfall(t, hops, BAR));
        out.push_str(&orphan_note(t));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::traces::model::Span;

    fn span(id: u64, parent: Option<u64>, service: &str, operation: &str) -> Span {
        Span {
            id,
            parent,
            service: service.into(),
            operation: operation.into(),
            start_us: id as i64,
            duration_us: 1,
            error: false,
            tags: Vec::new(),
            process: Default::default(),
        }
    }

    #[test]
    fn spans_with_a_missing_parent_get_a_note_under_the_waterfall() {
        let whole = Trace {
            id: 1,
            spans: vec![
                span(1, Some(99), "executor", "predictions"),
                span(2, Some(1), "executor", "/predict"),
            ],
        };
        assert_eq!(orphan_note(&whole), "");
        let broken = Trace {
            id: 1,
            spans: vec![
                span(1, Some(99), "executor", "predictions"),
                span(3, Some(2), "MeanClassifier", "Predict"),
            ],
        };
        let note = orphan_note(&broken);
        assert!(
            note.starts_with("Note: 1 span(s) (MeanClassifier Predict) name a parent")
                && note.contains("top level"),
            "{note}"
        );
    }
}
