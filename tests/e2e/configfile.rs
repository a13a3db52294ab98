//! Python components' `JAEGER_CONFIG_PATH` files (issue 19): read from the ConfigMap the
//! container mounts, in the real control plane and from `-f` inputs. What the wrapper does with
//! each file is proven against the real wrapper in conformance.rs; these tests prove where the
//! plugin finds the file and what it says when it cannot.

use serde_json::{Value, json};

use crate::support::*;

const FILE: &str =
    "sampler:\n  type: probabilistic\n  param: 0.01\npropagation: b3\nservice_name: fraud-model\n";

fn config_map(ns: &str, text: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "fraud-jaeger", "namespace": ns},
        "data": {"model.yaml": text},
    })
}

/// A no-engine deployment (requests go straight to the model, so its own sampler decides)
/// whose model mounts ConfigMap fraud-jaeger at /etc/jaeger.
fn deployment(ns: &str) -> Value {
    json!({
        "apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
        "metadata": {"name": "fraud", "namespace": ns},
        "spec": {"predictors": [{
            "name": "default",
            "annotations": {"seldon.io/no-engine": "true"},
            "graph": {"name": "model", "type": "MODEL"},
            "componentSpecs": [{"spec": {
                "volumes": [{"name": "jaeger", "configMap": {"name": "fraud-jaeger"}}],
                "containers": [{
                    "name": "model", "image": "example/fraud:1",
                    "env": [
                        {"name": "TRACING", "value": "1"},
                        {"name": "JAEGER_CONFIG_PATH", "value": "/etc/jaeger/model.yaml"},
                        {"name": "JAEGER_AGENT_HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}
                    ],
                    "volumeMounts": [{"name": "jaeger", "mountPath": "/etc/jaeger", "readOnly": true}]
                }]
            }}]
        }]}
    })
}

fn model(status: &Value) -> &Value {
    let item = status.get("items").and_then(|i| i.get(0)).unwrap_or(status);
    &item["predictors"][0]["components"][0]
}

#[test]
fn status_reads_the_file_from_the_mounted_config_map() {
    let c = atomic();
    let ns = c.namespace("cfgfile");
    let list = json!({"apiVersion": "v1", "kind": "List",
        "items": [config_map(&ns, FILE), deployment(&ns)]});
    c.kubectl_in(&["apply", "-f", "-"], &list.to_string()).ok();
    let st = c
        .plugin(&["status", "fraud", "-n", &ns, "-o", "json"])
        .ok()
        .json();
    let m = model(&st);
    assert_eq!(m["tracing"], "on", "{m}");
    assert_eq!(
        m["sampler"],
        json!({"type": "probabilistic", "param": "0.01", "default": false, "source": "file"})
    );
    assert_eq!(m["propagation"], "b3");
    assert_eq!(m["serviceName"], "fraud-model");
    assert_eq!(
        m["configFile"],
        json!({"path": "/etc/jaeger/model.yaml", "configMap": "fraud-jaeger", "key": "model.yaml", "read": true})
    );
    // The host stays the node's IP from env; with a file the client's default port is 6831.
    assert_eq!(m["spansTo"]["port"], "6831");
    assert_eq!(m["spansTo"]["source"], "env");
    let text = c.plugin(&["status", "fraud", "-n", &ns]).ok();
    assert!(
        text.stdout.contains("probabilistic:0.01") && text.stdout.contains("(sampler: file)"),
        "{}",
        text.stdout
    );

    // A user who may read SeldonDeployments but not ConfigMaps: unknown, with why; not a failure.
    let reader = c.impersonating(&ns, "sdep-reader", "get,list");
    let st = c
        .plugin_as(&reader, &["status", "fraud", "-n", &ns, "-o", "json"])
        .ok()
        .json();
    let m = model(&st);
    assert_eq!(m["tracing"], "unknown", "{m}");
    assert!(
        m["reason"]
            .as_str()
            .is_some_and(|r| r.contains("you may not get configmaps")),
        "{m}"
    );
    assert_eq!(m["configFile"]["read"], false);

    // A file the wrapper refuses, then no ConfigMap at all: invalid, each with its reason.
    c.kubectl_in(
        &["apply", "-f", "-"],
        &config_map(&ns, "sampler: {type: remote}\n").to_string(),
    )
    .ok();
    let st = c
        .plugin(&["status", "fraud", "-n", &ns, "-o", "json"])
        .ok()
        .json();
    let m = model(&st);
    assert_eq!(m["tracing"], "invalid");
    assert!(
        m["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Unknown sampler type remote")),
        "{m}"
    );
    c.kubectl(&["delete", "configmap", "fraud-jaeger", "-n", &ns])
        .ok();
    let r = c
        .plugin(&["status", "fraud", "-n", &ns, "--expect", "on"])
        .fails_with(1);
    assert!(
        r.stderr
            .contains("ConfigMap fraud-jaeger does not exist, so the pod cannot start"),
        "{}",
        r.stderr
    );
    // `list` judges from the file too: its one component is invalid, so the summary is unknown.
    let l = c.plugin(&["list", "-n", &ns, "-o", "json"]).ok().json();
    assert_eq!(l["items"][0]["tracing"], "unknown", "{l}");
}

#[test]
fn local_status_reads_config_maps_among_the_inputs() {
    let dir = tempdir("cfgfile-local");
    let both = dir.join("both.yaml");
    let docs = [config_map("models", FILE), deployment("models")];
    let text: Vec<String> = docs
        .iter()
        .map(|d| serde_yaml::to_string(d).expect("yaml"))
        .collect();
    std::fs::write(&both, text.join("---\n")).expect("write");
    let only = dir.join("only.yaml");
    std::fs::write(&only, &text[1]).expect("write");
    let path = |p: &std::path::Path| p.display().to_string();
    let st = run(
        PLUGIN,
        &["status", "-f", &path(&both), "--local", "-o", "json"],
        &[],
        None,
    )
    .ok()
    .json();
    let m = model(&st);
    assert_eq!(
        (m["tracing"].as_str(), m["sampler"]["source"].as_str()),
        (Some("on"), Some("file"))
    );
    assert_eq!(m["configFile"]["read"], true);
    let st = run(
        PLUGIN,
        &["status", "-f", &path(&only), "--local", "-o", "json"],
        &[],
        None,
    )
    .ok()
    .json();
    let m = model(&st);
    assert_eq!(m["tracing"], "unknown", "{m}");
    assert!(
        m["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not among the -f inputs")),
        "{m}"
    );
}
