//! `-f … --local`: manifests in, manifests out. Run as the released binary is, on real files, with
//! a YAML 1.1 reader (PyYAML, from the harness venv) checking what the YAML writer produces, and
//! against the control plane to prove that offline and online changes are the same change.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

const SAMPLES: &[&str] = &[
    "single-model",
    "graph",
    "sklearn-prepackaged",
    "canary",
    "no-engine",
    "explainer",
    "kafka-env",
    "traced-hostip",
];

fn sample_text(stem: &str) -> String {
    std::fs::read_to_string(sample_path(stem)).expect("sample")
}

fn sample_name(stem: &str) -> String {
    let docs = parse(&sample_text(stem));
    docs[0]["metadata"]["name"]
        .as_str()
        .expect("name")
        .to_string()
}

/// The documents of a YAML stream, read by the plugin's own reader's library (serde_yaml).
fn parse(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).expect("yaml"))
        .collect()
}

/// The same stream read by PyYAML, a YAML 1.1 reader, as JSON.
fn pyyaml(text: &str) -> Vec<Value> {
    let python = std::env::var_os("SELDON_TRACING_TEST_HARNESS")
        .map(|d| PathBuf::from(d).join("venv/bin/python3"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "python3".into());
    let out = run(
        &python.display().to_string(),
        &[
            "-c",
            "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))",
        ],
        &[],
        Some(text),
    )
    .ok();
    serde_json::from_str(&out.stdout).expect("json from PyYAML")
}

fn plugin(args: &[&str], stdin: Option<&str>) -> Run {
    // No kubeconfig at all: --local must not need one.
    run(
        PLUGIN,
        args,
        &[("KUBECONFIG", "/nonexistent/kubeconfig")],
        stdin,
    )
}

/// Every env value in a document, wherever it is.
fn env_values(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if let (Some(Value::String(_)), Some(val)) = (m.get("name"), m.get("value")) {
                out.push(val.clone());
            }
            m.values().for_each(|x| env_values(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| env_values(x, out)),
        _ => {}
    }
}

/// A directory of 50 manifests: each a ConfigMap (with values a YAML 1.1 reader would turn into
/// booleans and numbers) and a SeldonDeployment, plus one JSON file; some with comments.
fn gitops_repo(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for i in 0..50 {
        let stem = SAMPLES[i % SAMPLES.len()];
        let sdep = sample_text(stem).replace(
            &format!("name: {}\n", sample_name(stem)),
            &format!("name: {}-{i}\n", sample_name(stem)),
        );
        let text = format!(
            "# model {i}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{i}\ndata:\n  flag: \"on\"\n  count: \"1\"\n  when: \"2001-12-14\"\n---\n{sdep}"
        );
        let sub = dir.join(format!("team-{}", i % 3));
        std::fs::create_dir_all(&sub).expect("dir");
        let f = sub.join(format!("m-{i:02}.yaml"));
        std::fs::write(&f, text).expect("write");
        files.push(f);
    }
    let json: Value = parse(&sample_text("single-model"))[0].clone();
    let mut json = json;
    json["metadata"]["name"] = Value::from("iris-json");
    let f = dir.join("iris.json");
    std::fs::write(&f, serde_json::to_string_pretty(&json).expect("json")).expect("write");
    files.push(f);
    files
}

#[test]
fn in_place_on_a_directory_of_50_manifests_and_the_expect_gate() {
    let dir = tempdir("gitops");
    let files = gitops_repo(&dir);
    let before: Vec<Vec<Value>> = files
        .iter()
        .map(|f| parse(&std::fs::read_to_string(f).expect("read")))
        .collect();
    let d = dir.display().to_string();
    // Before: one sample traces, the others do not; both gates fail, naming the components.
    let off = plugin(&["status", "-f", &d, "--local", "--expect", "off"], None).fails_with(1);
    assert!(
        off.stderr
            .contains("default/traced-7: predictor default: executor is on"),
        "{}",
        off.stderr
    );
    let gate = plugin(&["status", "-f", &d, "--local", "--expect", "on"], None).fails_with(1);
    assert!(
        gate.stderr.contains("expected tracing on, but")
            && gate
                .stderr
                .contains("iris-0: predictor default: executor is idle"),
        "{}",
        gate.stderr
    );

    let out = plugin(&["enable", "-f", &d, "--local", "--in-place"], None).ok();
    assert!(
        out.stderr
            .contains("note: comments are not kept in the output"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("file(s) rewritten"), "{}", out.stderr);
    for (f, was) in files.iter().zip(&before) {
        let text = std::fs::read_to_string(f).expect("read");
        let now = if f.extension().is_some_and(|e| e == "json") {
            vec![serde_json::from_str(&text).expect("json stays json")]
        } else {
            parse(&text)
        };
        assert_eq!(now.len(), was.len(), "{}", f.display());
        for (n, w) in now.iter().zip(was) {
            if w["kind"] != "SeldonDeployment" {
                assert_eq!(n, w, "{}: another kind changed", f.display());
            } else {
                // Outside spec.predictors nothing moved.
                let (mut a, mut b) = (n.clone(), w.clone());
                a["spec"]["predictors"] = Value::Null;
                b["spec"]["predictors"] = Value::Null;
                assert_eq!(a, b, "{}", f.display());
            }
        }
        if f.extension().is_some_and(|e| e == "yaml") {
            // What a YAML 1.1 reader makes of the file is what the plugin wrote.
            assert_eq!(pyyaml(&text), now, "{}", f.display());
        }
        let tmp_left = std::fs::read_dir(f.parent().expect("dir"))
            .expect("dir")
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with('.'));
        assert!(!tmp_left, "a temporary file was left in {}", f.display());
    }
    plugin(&["status", "-f", &d, "--local", "--expect", "on"], None).ok();
    // A second enable changes nothing and rewrites no file.
    let again = plugin(&["enable", "-f", &d, "--local", "--in-place"], None).ok();
    assert!(
        again.stderr.contains("0 file(s) rewritten"),
        "{}",
        again.stderr
    );
    plugin(&["disable", "-f", &d, "--local", "--in-place"], None).ok();
    plugin(&["status", "-f", &d, "--local", "--expect", "off"], None).ok();
}

#[test]
fn stdin_in_stdout_out_and_yaml_1_1_readers_keep_every_value_a_string() {
    let input = format!(
        "{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec: {{ports: [{{port: 80}}]}}\n",
        sample_text("kafka-env")
    );
    let out = plugin(
        &["enable", "-f", "-", "--local", "--sampler", "const:1"],
        Some(&input),
    )
    .ok();
    let docs = parse(&out.stdout);
    assert_eq!(docs.len(), 2, "{}", out.stdout);
    assert_eq!(docs[1], parse(&input)[1], "the Service changed");
    assert_eq!(pyyaml(&out.stdout), docs, "{}", out.stdout);
    let mut values = Vec::new();
    env_values(&docs[0], &mut values);
    assert!(values.len() >= 5, "{values:?}");
    assert!(values.iter().all(Value::is_string), "{values:?}");
    assert!(out.stdout.contains("value: \"1\""), "{}", out.stdout);
    // JSON out, and status reads stdin too.
    let json = plugin(
        &["disable", "-f", "-", "--local", "-o", "json"],
        Some(&input),
    )
    .ok();
    let v: Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(v["kind"], "List");
    let st = plugin(
        &["status", "-f", "-", "--local", "-o", "json"],
        Some(&out.stdout),
    )
    .ok();
    let st: Value = serde_json::from_str(&st.stdout).expect("json");
    assert_eq!(
        st["items"][0]["predictors"][0]["components"][0]["tracing"],
        "on"
    );
}

#[test]
fn a_file_that_does_not_parse_names_itself_and_nothing_is_written() {
    let dir = tempdir("gitops-bad");
    let good = dir.join("a.yaml");
    std::fs::write(&good, sample_text("single-model")).expect("write");
    let bad = dir.join("b.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: [\n").expect("write");
    let before = std::fs::read_to_string(&good).expect("read");
    let d = dir.display().to_string();
    let out = plugin(&["enable", "-f", &d, "--local", "--in-place"], None).fails_with(1);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(
        lines[0].contains(&format!(
            "{}: document 1 does not parse at line",
            bad.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&good).expect("read"), before);
    // A SeldonDeployment the planner refuses: the file and document are named.
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: broken}\nspec: {predictors: 3}\n",
    )
    .expect("write");
    let out = plugin(&["enable", "-f", &d, "--local", "--in-place"], None).fails_with(1);
    assert!(
        out.stderr.contains(&format!(
            "{}#2: seldondeployment \"broken\" spec.predictors is missing or not a list",
            bad.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&good).expect("read"), before);
}

#[test]
fn offline_and_online_changes_are_the_same_change() {
    let c = atomic();
    let ns = c.namespace("local-vs-online");
    let dir = tempdir("local-vs-online");
    for stem in SAMPLES {
        std::fs::copy(sample_path(stem), dir.join(format!("{stem}.yaml"))).expect("copy");
    }
    let d = dir.display().to_string();
    c.kubectl(&["create", "-n", &ns, "-f", &d]).ok();
    // -f without --local acts on the objects the files name.
    c.plugin(&[
        "enable",
        "-f",
        &d,
        "-n",
        &ns,
        "--sampler",
        "probabilistic:0.5",
    ])
    .ok();
    let offline = plugin(
        &[
            "enable",
            "-f",
            &d,
            "--local",
            "--sampler",
            "probabilistic:0.5",
        ],
        None,
    )
    .ok();
    let docs = parse(&offline.stdout);
    // The samplers of the no-engine sample's components go to their files: one more document,
    // the plugin's ConfigMap, after the inputs'.
    let (deployments, config_maps): (Vec<Value>, Vec<Value>) = docs
        .into_iter()
        .partition(|d| d["kind"] == "SeldonDeployment");
    assert_eq!(deployments.len(), SAMPLES.len());
    for doc in deployments {
        let name = doc["metadata"]["name"].as_str().expect("name");
        let live = c.get(&ns, name);
        assert_eq!(
            live["spec"]["predictors"], doc["spec"]["predictors"],
            "{name}: the offline plan differs from the one applied online"
        );
    }
    assert_eq!(config_maps.len(), 1, "{config_maps:?}");
    for cm in config_maps {
        let name = cm["metadata"]["name"].as_str().expect("name");
        let live = c
            .kubectl(&["get", "configmap", name, "-n", &ns, "-o", "json"])
            .ok()
            .json();
        assert_eq!(
            live["data"], cm["data"],
            "{name}: offline and online files differ"
        );
    }
    // status -f reads the named objects from the cluster; --expect works there too.
    c.plugin(&["status", "-f", &d, "-n", &ns, "--expect", "off"])
        .fails_with(1);
}
