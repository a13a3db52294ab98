//! A trace as terminal lines, like the Jaeger UI's timeline: one line per span, indented under
//! its parent, with the graph node it belongs to, where it starts, how long it takes and a bar
//! drawn to scale across the trace.

use std::collections::HashMap;

use crate::domain::traces::model::{Hop, Trace};
use crate::domain::traces::stats::trace_duration;

/// A duration in µs as people read it: `850µs`, `2.6ms`, `1.25s`.
pub fn duration_text(us: i64) -> String {
    match us {
        i64::MIN..1_000 => format!("{us}µs"),
        1_000..1_000_000 => format!("{:.1}ms", us as f64 / 1_000.0),
        _ => format!("{:.2}s", us as f64 / 1_000_000.0),
    }
}

/// The bar of a span starting `offset` µs into a trace of `total` µs and lasting `duration`, in
/// `width` cells: spaces before, then `█` (at least one, so a span too short for a cell still
/// shows where it is).
fn bar(offset: i64, duration: i64, total: i64, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    let total = total.max(1) as f64;
    let cell = |us: i64| ((us.max(0) as f64 / total) * width as f64).floor() as usize;
    let start = cell(offset).min(width - 1);
    let end = cell(offset + duration).clamp(start + 1, width);
    format!("{}{}", " ".repeat(start), "█".repeat(end - start))
}

/// The trace as lines: SERVICE, OPERATION (indented by depth), NODE, START (offset from the
/// trace's start), DURATION and a bar `bar_width` cells wide. `hops` come from
/// [`crate::domain::traces::attribution::attribute`] (one per span, any order); a node picked by start order
/// among siblings shows with a `?`.
pub fn waterfall(trace: &Trace, hops: &[Hop], bar_width: usize) -> String {
    let node_of: HashMap<usize, String> = hops
        .iter()
        .filter_map(|h| {
            h.node.as_ref().map(|n| {
                (
                    h.span,
                    if h.guessed {
                        format!("{n}?")
                    } else {
                        n.clone()
                    },
                )
            })
        })
        .collect();
    let by_id = trace.index_by_id();
    // Depth in the span tree (parents outside the trace count as none), with a guard against
    // a reference cycle in bad data.
    let depth = |mut i: usize| {
        let mut d = 0;
        while let Some(p) = trace.spans[i].parent.and_then(|p| by_id.get(&p)) {
            if d > trace.spans.len() {
                break;
            }
            d += 1;
            i = *p;
        }
        d
    };
    let start = trace.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
    let total = trace_duration(trace);
    let rows: Vec<[String; 5]> = trace
        .spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mark = if s.error { " !" } else { "" };
            [
                s.service.clone(),
                format!("{}{}{mark}", "  ".repeat(depth(i)), s.operation),
                node_of.get(&i).cloned().unwrap_or_else(|| "-".into()),
                format!("+{}", duration_text(s.start_us - start)),
                duration_text(s.duration_us),
            ]
        })
        .collect();
    let header = ["SERVICE", "OPERATION", "NODE", "START", "DURATION"];
    let widths: Vec<usize> = (0..5)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 5], tail: &str| {
        let mut out = String::new();
        for (c, cell) in cells.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            // START and DURATION are numbers: right-aligned.
            if c >= 3 {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(pad));
            }
            out.push_str("   ");
        }
        out.push_str(tail);
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header, "");
    for (i, r) in rows.iter().enumerate() {
        let s = &trace.spans[i];
        let cells = [&r[0], &r[1], &r[2], &r[3], &r[4]].map(String::as_str);
        out.push_str(&line(
            cells,
            &bar(s.start_us - start, s.duration_us, total, bar_width),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::traces::attribution::{attribute, graph};
    use crate::domain::traces::model::{Role, Span};
    use serde_json::json;

    fn span(id: u64, parent: Option<u64>, service: &str, op: &str, start: i64, dur: i64) -> Span {
        Span {
            id,
            parent,
            service: service.into(),
            operation: op.into(),
            start_us: 1_000_000 + start,
            duration_us: dur,
            error: false,
            tags: Vec::new(),
            process: Default::default(),
        }
    }

    #[test]
    fn durations_read_like_the_jaeger_ui() {
        assert_eq!(duration_text(850), "850µs");
        assert_eq!(duration_text(2_600), "2.6ms");
        assert_eq!(duration_text(1_250_000), "1.25s");
        assert_eq!(bar(0, 100, 100, 10), "██████████");
        assert_eq!(bar(50, 1, 100, 10), "     █");
        assert_eq!(bar(99, 1, 100, 10), "         █");
        assert_eq!(bar(0, 0, 0, 4), "█");
        assert_eq!(bar(0, 10, 10, 0), "");
    }

    #[test]
    fn the_seed_pages_trace_as_lines() {
        let mut model = span(3, Some(2), "MeanClassifier", "Predict", 400, 1_500);
        model.tags = vec![("http.url".into(), "http://0.0.0.0:9000/predict".into())];
        let trace = Trace {
            id: 1,
            spans: vec![
                span(1, None, "executor", "predictions", 0, 2_600),
                span(2, Some(1), "executor", "/predict", 200, 2_100),
                model,
            ],
        };
        let p = json!({"name": "default", "graph": {"name": "classifier", "type": "MODEL"},
                       "componentSpecs": [{"spec": {"containers": [{"name": "classifier"}]}}]});
        let g = graph(&p).unwrap();
        let hops = attribute(&trace, &g, "executor");
        assert_eq!(hops[2].role, Role::Component);
        let text = waterfall(&trace, &hops, 26);
        let want = "\
SERVICE          OPERATION     NODE          START   DURATION
executor         predictions   executor       +0µs      2.6ms   ██████████████████████████
executor           /predict    classifier   +200µs      2.1ms     █████████████████████
MeanClassifier       Predict   classifier   +400µs      1.5ms       ███████████████
";
        assert_eq!(text, want, "\n{text}");
        // An error and a guess are marked.
        let mut hops = hops;
        hops[1].guessed = true;
        let mut trace = trace;
        trace.spans[2].error = true;
        let text = waterfall(&trace, &hops, 10);
        assert!(text.contains("classifier?"), "{text}");
        assert!(text.contains("Predict !"), "{text}");
    }
}
