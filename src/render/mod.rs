//! Pure rendering: rows and documents to strings. Nothing here prints.

mod words;

use comfy_table::{CellAlignment, ColumnConstraint, Table, Width, presets};
use serde::Serialize;
use serde_json::Value;

use crate::cli::{DryRun, Output};
use crate::domain::plan::Change;
use crate::domain::status::{DeploymentStatus, Source};

/// The `apiVersion` of every json/yaml document the plugin prints (docs/output.md).
pub const OUTPUT_API_VERSION: &str = "seldon-tracing.kubectl.io/v1";

/// kubectl-style table: upper-case headers, no borders, columns three spaces apart.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    table_paged(headers, rows, &mut Vec::new())
}

/// A table printed a page at a time: `widths` carries the column widths of the pages already
/// printed, so later pages line up with earlier ones (a column only ever grows).
pub fn table_paged(headers: &[&str], rows: &[Vec<String>], widths: &mut Vec<u16>) -> String {
    let mut t = Table::new();
    t.load_style(presets::NOTHING);
    t.set_header(headers.iter().copied());
    for row in rows {
        t.add_row(row.iter().map(String::as_str));
    }
    let last = headers.len().saturating_sub(1);
    let content = t.column_max_content_widths();
    widths.resize(content.len(), 0);
    for (w, c) in widths.iter_mut().zip(&content) {
        *w = (*w).max(*c);
    }
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding((0, if i == last { 0 } else { 3 }));
        col.set_cell_alignment(CellAlignment::Left);
        col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(widths[i])));
    }
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Writes a json or yaml document `{apiVersion, kind, items}` one item at a time, so a long
/// list is printed as its pages arrive. The text equals a pretty-printed whole document.
pub struct Streamer {
    output: Output,
    kind: &'static str,
    count: usize,
}

impl Streamer {
    /// None for table formats.
    pub fn new(output: Output, kind: &'static str) -> Option<Streamer> {
        matches!(output, Output::Json | Output::Yaml).then_some(Streamer {
            output,
            kind,
            count: 0,
        })
    }

    fn header(&self) -> String {
        let (api, kind) = (Value::from(OUTPUT_API_VERSION), Value::from(self.kind));
        match self.output {
            Output::Json => {
                format!("{{\n  \"apiVersion\": {api},\n  \"kind\": {kind},\n  \"items\": ")
            }
            _ => format!("apiVersion: {api}\nkind: {kind}\nitems:"),
        }
    }

    pub fn item<T: Serialize>(&mut self, item: &T) -> String {
        let value = serde_json::to_value(item).unwrap_or(Value::Null);
        let mut out = match self.count {
            0 if self.output == Output::Json => self.header() + "[\n",
            0 => self.header() + "\n",
            _ if self.output == Output::Json => ",\n".to_string(),
            _ => String::new(),
        };
        self.count += 1;
        if self.output == Output::Json {
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            let lines: Vec<String> = text.lines().map(|l| format!("    {l}")).collect();
            out.push_str(&lines.join("\n"));
        } else {
            for (i, line) in yaml(&value).lines().enumerate() {
                out.push_str(if i == 0 { "- " } else { "  " });
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    pub fn finish(self) -> String {
        match (self.output, self.count) {
            (Output::Json, 0) => self.header() + "[]\n}\n",
            (Output::Json, _) => "\n  ]\n}\n".into(),
            (_, 0) => self.header() + " []\n",
            _ => String::new(),
        }
    }
}

/// A whole json or yaml document; None for table formats.
pub fn document<T: Serialize>(output: Output, kind: &'static str, items: &[T]) -> Option<String> {
    let mut s = Streamer::new(output, kind)?;
    let mut out = String::new();
    for i in items {
        out.push_str(&s.item(i));
    }
    out.push_str(&s.finish());
    Some(out)
}

/// Block-style YAML in which every string is double-quoted. A general YAML writer leaves
/// `on`, `off` and `no` bare, and YAML 1.1 readers (PyYAML, older yq) turn those into booleans:
/// the TRACING column would read back as `false`.
pub fn yaml(v: &Value) -> String {
    let mut out = String::new();
    write_yaml(v, 0, &mut out);
    out
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(Value::String(s.clone()).to_string()),
        Value::Array(a) if a.is_empty() => Some("[]".into()),
        Value::Object(o) if o.is_empty() => Some("{}".into()),
        _ => None,
    }
}

fn write_yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let key = Value::String(k.clone()).to_string();
                let key = if k.chars().all(|c| c.is_ascii_alphanumeric()) {
                    k.clone()
                } else {
                    key
                };
                match scalar(child) {
                    Some(s) => out.push_str(&format!("{pad}{key}: {s}\n")),
                    None => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        let next = if child.is_array() { indent } else { indent + 2 };
                        write_yaml(child, next, out);
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match scalar(item) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        let mut inner = String::new();
                        write_yaml(item, indent + 2, &mut inner);
                        // The first line of the item goes after the dash.
                        out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other).unwrap_or_default())),
    }
}

/// One row of `list`, also its json/yaml item.
#[derive(Debug, Clone, Serialize)]
pub struct ListItem {
    pub namespace: String,
    pub name: String,
    pub predictors: Vec<String>,
    pub tracing: String,
    pub sampler: String,
    pub state: String,
    #[serde(rename = "creationTimestamp")]
    pub created: String,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    #[serde(rename = "warningCount")]
    pub warning_count: usize,
}

pub fn list_table(
    items: &[ListItem],
    wide: bool,
    with_namespace: bool,
    now: i64,
    widths: &mut Vec<u16>,
) -> String {
    let mut headers = vec![
        "NAMESPACE",
        "NAME",
        "PREDICTORS",
        "TRACING",
        "SAMPLER",
        "STATE",
        "AGE",
    ];
    if wide {
        headers.extend(["WARNINGS", "API-VERSION"]);
    }
    if !with_namespace {
        headers.remove(0);
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            let predictors = if wide {
                i.predictors.join(",")
            } else {
                i.predictors.len().to_string()
            };
            let mut row = vec![
                i.namespace.clone(),
                i.name.clone(),
                predictors,
                i.tracing.clone(),
                i.sampler.clone(),
                if i.state.is_empty() {
                    "-".into()
                } else {
                    i.state.clone()
                },
                age(&i.created, now),
            ];
            if wide {
                row.extend([i.warning_count.to_string(), i.api_version.clone()]);
            }
            if !with_namespace {
                row.remove(0);
            }
            row
        })
        .collect();
    table_paged(&headers, &rows, widths)
}

/// `status` table: one row per component.
pub fn status_table(
    items: &[DeploymentStatus],
    wide: bool,
    with_namespace: bool,
    widths: &mut Vec<u16>,
) -> String {
    let mut headers = vec![
        "NAMESPACE",
        "DEPLOYMENT",
        "PREDICTOR",
        "COMPONENT",
        "KIND",
        "TRACING",
        "AGENT",
        "SAMPLER",
    ];
    headers.extend(if wide {
        ["TRACING-FROM", "AGENT-FROM", "SAMPLER-FROM"].as_slice()
    } else {
        ["SOURCE"].as_slice()
    });
    let mut rows = Vec::new();
    for d in items {
        for p in &d.predictors {
            for c in &p.components {
                let mut row = vec![
                    d.namespace.clone(),
                    d.name.clone(),
                    p.name.clone(),
                    c.name.clone(),
                    c.kind.clone(),
                    c.tracing.as_str().to_string(),
                    c.agent.value.clone(),
                    c.sampler.value.clone(),
                ];
                let sources = [c.tracing_source, c.agent.source, c.sampler.source];
                if wide {
                    row.extend(sources.iter().map(|s| s.as_str().to_string()));
                } else {
                    row.push(source_summary(sources));
                }
                if !with_namespace {
                    row.remove(0);
                }
                rows.push(row);
            }
        }
    }
    if !with_namespace {
        headers.remove(0);
    }
    table_paged(&headers, &rows, widths)
}

/// The warnings under a `status` table, one `Warning: NAME: ...` line each (`NS/NAME` with -A).
pub fn status_warnings(items: &[DeploymentStatus], with_namespace: bool) -> String {
    let mut out = String::new();
    for d in items {
        let who = if with_namespace {
            format!("{}/{}", d.namespace, d.name)
        } else {
            d.name.clone()
        };
        for w in &d.warnings {
            out.push_str(&format!("Warning: {who}: {w}\n"));
        }
    }
    out
}

/// What happened to one deployment in a mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Changed,
    Unchanged,
    Failed,
}

/// Result of one mutation, also its json/yaml item.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub namespace: String,
    pub name: String,
    pub result: Verdict,
    #[serde(rename = "dryRun")]
    pub dry_run: DryRun,
    pub changes: Vec<Change>,
    pub warnings: Vec<crate::domain::warning::Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The narrow SOURCE column: the source most of the three values (tracing, agent, sampler) share,
/// then the exceptions by name: `env (sampler: default)`. `-` when none has a source.
pub fn source_summary(sources: [Source; 3]) -> String {
    let named: Vec<(&str, Source)> = ["tracing", "agent", "sampler"]
        .into_iter()
        .zip(sources)
        .filter(|(_, s)| *s != Source::None)
        .collect();
    let count = |s: Source| named.iter().filter(|(_, x)| *x == s).count();
    // Ties go to the more specific source: what the user wrote before what is implied.
    let Some(main) = [Source::Env, Source::Annotation, Source::Default]
        .into_iter()
        .filter(|&s| count(s) > 0)
        .max_by_key(|&s| (count(s), std::cmp::Reverse(s as u8)))
    else {
        return "-".into();
    };
    let others: Vec<String> = named
        .iter()
        .filter(|(_, s)| *s != main)
        .map(|(what, s)| format!("{what}: {}", s.as_str()))
        .collect();
    if others.is_empty() {
        main.as_str().into()
    } else {
        format!("{} ({})", main.as_str(), others.join(", "))
    }
}

/// `seldondeployment/NAME tracing enabled (server dry run)`; prefixed by the namespace with -A.
pub fn outcome_line(o: &Outcome, done: &str, with_namespace: bool) -> String {
    let ns = if with_namespace {
        format!("{}  ", o.namespace)
    } else {
        String::new()
    };
    let suffix = match o.dry_run {
        DryRun::Client => " (dry run)",
        DryRun::Server => " (server dry run)",
        DryRun::None => "",
    };
    // The dry-run marker goes right after the verdict, before a failure's message.
    let what = match o.result {
        Verdict::Changed => format!("{done}{suffix}"),
        Verdict::Unchanged => format!("unchanged{suffix}"),
        Verdict::Failed => format!(
            "failed{suffix}: {}",
            o.error.as_deref().unwrap_or("unknown error")
        ),
    };
    let mut line = format!("{ns}seldondeployment/{} {what}\n", o.name);
    if o.dry_run != DryRun::None {
        for c in &o.changes {
            line.push_str(&format!("    {}\n", c.diff_line()));
        }
    }
    line
}

/// kubectl's AGE: 45s, 12m, 5h, 3d; `<unknown>` when the timestamp cannot be read.
pub fn age(created: &str, now: i64) -> String {
    let Some(t) = parse_rfc3339(created) else {
        return "<unknown>".into();
    };
    let s = (now - t).max(0);
    match s {
        0..120 => format!("{s}s"),
        120..7200 => format!("{}m", s / 60),
        7200..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SSZ` (the form the API server writes).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_lines_put_the_dry_run_marker_after_the_verdict() {
        let mut o = Outcome {
            namespace: "models".into(),
            name: "iris".into(),
            result: Verdict::Changed,
            dry_run: DryRun::Server,
            changes: vec![Change {
                predictor: "default".into(),
                component: "executor".into(),
                var: Some("JAEGER_DISABLED".into()),
                before: None,
                after: Some("true".into()),
            }],
            warnings: Vec::new(),
            error: None,
        };
        assert_eq!(
            outcome_line(&o, "tracing disabled", true),
            "models  seldondeployment/iris tracing disabled (server dry run)\n    + default/executor: JAEGER_DISABLED=true\n"
        );
        o.result = Verdict::Failed;
        o.changes.clear();
        o.dry_run = DryRun::Client;
        o.error = Some("seldondeployment \"models/iris\" has no predictor 'blue'".into());
        assert_eq!(
            outcome_line(&o, "tracing disabled", false),
            "seldondeployment/iris failed (dry run): seldondeployment \"models/iris\" has no predictor 'blue'\n"
        );
        o.dry_run = DryRun::None;
        o.result = Verdict::Unchanged;
        o.error = None;
        assert_eq!(
            outcome_line(&o, "tracing disabled", false),
            "seldondeployment/iris unchanged\n"
        );
    }

    #[test]
    fn the_source_column_names_the_common_source_and_the_exceptions() {
        use Source::{Annotation, Default, Env, None};
        let cases = [
            ([Default, Env, Env], "env (tracing: default)"),
            ([Env, Env, Default], "env (sampler: default)"),
            ([Default, Default, Default], "default"),
            ([Env, Env, Env], "env"),
            ([None, None, None], "-"),
            (
                [Env, Default, Annotation],
                "env (agent: default, sampler: annotation)",
            ),
            (
                [Default, Annotation, Annotation],
                "annotation (tracing: default)",
            ),
            ([None, Default, Env], "env (agent: default)"),
        ];
        for (sources, want) in cases {
            assert_eq!(source_summary(sources), want, "{sources:?}");
        }
    }

    #[test]
    fn ages_read_like_kubectl() {
        let t = parse_rfc3339("2026-11-25T13:55:23Z").unwrap();
        assert_eq!(t, 1_795_614_923);
        assert_eq!(age("2026-11-25T13:55:23Z", t + 5), "5s");
        assert_eq!(age("2026-11-25T13:55:23Z", t + 600), "10m");
        assert_eq!(age("2026-11-25T13:55:23Z", t + 3 * 86400), "3d");
        assert_eq!(age("garbage", t), "<unknown>");
    }

    #[test]
    fn streamed_documents_equal_whole_documents() {
        let items = [
            serde_json::json!({"name": "a", "n": [1, {"x": "on"}]}),
            serde_json::json!({"name": "b"}),
        ];
        for n in 0..=items.len() {
            let doc = serde_json::json!({"apiVersion": OUTPUT_API_VERSION, "kind": "K", "items": items[..n]});
            let json = document(Output::Json, "K", &items[..n]).unwrap();
            assert_eq!(json, serde_json::to_string_pretty(&doc).unwrap() + "\n");
            assert_eq!(
                document(Output::Yaml, "K", &items[..n]).unwrap(),
                yaml(&doc)
            );
        }
        assert!(document(Output::Wide, "K", &items).is_none());
    }

    #[test]
    fn yaml_quotes_every_string_and_nests_lists() {
        let v = serde_json::json!({"kind": "X", "items": [{"tracing": "off", "n": 2, "list": ["a"], "empty": []}], "weird key": null});
        let want = "kind: \"X\"\nitems:\n- tracing: \"off\"\n  n: 2\n  list:\n  - \"a\"\n  empty: []\n\"weird key\": null\n";
        assert_eq!(yaml(&v), want);
    }

    #[test]
    fn tables_have_no_borders_and_align_columns() {
        let out = table(
            &["NAME", "TRACING"],
            &[
                vec!["iris".into(), "on".into()],
                vec!["fraud-graph".into(), "off".into()],
            ],
        );
        assert_eq!(
            out,
            "NAME          TRACING\niris          on\nfraud-graph   off\n"
        );
    }
}
