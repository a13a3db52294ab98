//! The views of Seldon Core 2: the SeldonRuntime table of `list`/`status` and the workloads table
//! of `status`.

use super::table_paged;

/// `status --core v2`: one row per SeldonRuntime.
pub fn runtime_table(
    items: &[crate::domain::v2::status::RuntimeStatus],
    with_namespace: bool,
    widths: &mut Vec<u16>,
) -> String {
    use crate::domain::v2::setting::Source;
    let mut headers = vec![
        "NAMESPACE",
        "RUNTIME",
        "TRACING",
        "RATIO",
        "ENDPOINT",
        "PROTOCOL",
        "FROM",
        "CONFIGMAP",
        "PODS",
    ];
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|st| {
            let e = &st.effective;
            let value = |s: &crate::domain::v2::setting::Setting| {
                s.value.clone().unwrap_or_else(|| "-".into())
            };
            let mut from: Vec<&str> = Vec::new();
            for s in [&e.ratio, &e.endpoint, &e.protocol] {
                let word = match s.from {
                    Source::Runtime => "runtime",
                    Source::SeldonConfig => "seldon-config",
                    Source::Unset => continue,
                };
                if !from.contains(&word) {
                    from.push(word);
                }
            }
            let mut row = vec![
                st.namespace.clone(),
                st.name.clone(),
                st.tracing.to_string(),
                value(&e.ratio),
                value(&e.endpoint),
                value(&e.protocol),
                if from.is_empty() {
                    "-".into()
                } else {
                    from.join("+")
                },
                st.config_map.to_string(),
                st.pods.as_str().to_string(),
            ];
            if !with_namespace {
                row.remove(0);
            }
            row
        })
        .collect();
    if !with_namespace {
        headers.remove(0);
    }
    table_paged(&headers, &rows, widths)
}

/// `status` of SeldonRuntimes: one row per workload that reads the setting.
pub fn runtime_workloads_table(
    items: &[crate::domain::v2::status::RuntimeStatus],
    with_namespace: bool,
) -> String {
    use crate::domain::v2::workloads::{Freshness, Reads};
    let mut headers = vec![
        "NAMESPACE",
        "RUNTIME",
        "WORKLOAD",
        "READS",
        "PODS",
        "LOADED",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for st in items {
        for w in &st.workloads {
            let loaded = match w.loaded {
                Freshness::RestartNeeded => format!("restart needed ({} old)", w.stale),
                l => l.as_str().to_string(),
            };
            let mut row = vec![
                st.namespace.clone(),
                st.name.clone(),
                match &w.server {
                    Some(s) => format!("{} (Server {s})", w.name),
                    None => w.name.clone(),
                },
                match w.reads {
                    Reads::File => "tracing.json".into(),
                    Reads::Env => "OTEL_* env".into(),
                },
                format!("{}/{}", w.running, w.replicas),
                loaded,
            ];
            if !with_namespace {
                row.remove(0);
            }
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    if !with_namespace {
        headers.remove(0);
    }
    table_paged(&headers, &rows, &mut Vec::new())
}
