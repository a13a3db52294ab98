//! Golden tests of every output format on the sample deployments. `UPDATE_GOLDEN=1 cargo test
//! --test golden` rewrites the files; review the diff before committing it.

use std::path::Path;

use kubectl_seldon_tracing::commands::v1::read::list_item;
use kubectl_seldon_tracing::domain::v1::status::status;
use kubectl_seldon_tracing::options::Output;
use kubectl_seldon_tracing::render;
use serde_json::{Value, json};

const SAMPLES: &[&str] = &[
    "canary",
    "explainer",
    "graph",
    "kafka-env",
    "no-engine",
    "single-model",
    "sklearn-prepackaged",
    "traced-hostip",
];
/// 2026-11-25T12:00:00Z: the samples are "created" 1h55m before it.
const NOW: i64 = 1_795_608_000;

fn samples() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/samples");
    SAMPLES
        .iter()
        .map(|s| {
            let text = std::fs::read_to_string(dir.join(format!("{s}.yaml"))).expect("sample");
            let mut obj: Value = serde_yaml::from_str(&text).expect("sample yaml");
            obj["metadata"]["namespace"] = json!("models");
            obj["metadata"]["creationTimestamp"] = json!("2026-11-25T10:05:00Z");
            obj["status"] = json!({"state": "Available"});
            obj
        })
        .collect()
}

fn check(file: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert!(
        want == got,
        "{file} differs from the golden file.\n--- want ---\n{want}\n--- got ---\n{got}"
    );
}

#[test]
fn list_output_in_every_format_matches_the_golden_files() {
    let objs = samples();
    let items: Vec<_> = objs
        .iter()
        .map(|o| list_item(o, &status(o, "kubectl-seldon-tracing")))
        .collect();
    check(
        "list.txt",
        &render::v1::list_table(&items, false, false, NOW, &mut Vec::new()),
    );
    check(
        "list-all-namespaces-wide.txt",
        &render::v1::list_table(&items, true, true, NOW, &mut Vec::new()),
    );
    check(
        "list.json",
        &render::document(Output::Json, "DeploymentTracingList", &items).expect("json"),
    );
    check(
        "list.yaml",
        &render::document(Output::Yaml, "DeploymentTracingList", &items).expect("yaml"),
    );
}

#[test]
fn status_output_in_every_format_matches_the_golden_files() {
    let objs = samples();
    let items: Vec<_> = objs
        .iter()
        .map(|o| status(o, "kubectl-seldon-tracing"))
        .collect();
    let table = render::v1::status_table(&items, false, false, &mut Vec::new());
    let warnings = render::v1::status_warnings(&items, false);
    check("status.txt", &format!("{table}\n{warnings}"));
    let wide = render::v1::status_table(&items, true, true, &mut Vec::new());
    let warnings = render::v1::status_warnings(&items, true);
    check("status-wide.txt", &format!("{wide}\n{warnings}"));
    check(
        "status.json",
        &render::document(Output::Json, "TracingStatusList", &items).expect("json"),
    );
    check(
        "status.yaml",
        &render::document(Output::Yaml, "TracingStatusList", &items).expect("yaml"),
    );
}

#[test]
fn yaml_output_reads_back_as_the_json_output() {
    for name in ["list", "status"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let y: Value = serde_yaml::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.yaml"))).expect("yaml"),
        )
        .expect("parse yaml");
        let j: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("json"),
        )
        .expect("parse json");
        assert_eq!(y, j, "{name}.yaml and {name}.json disagree");
    }
}
