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

/// A component's `tracing` is `state` and its `reason` says `why`.
fn assert_state_because(component: &Value, state: &str, why: &str) {
    assert_eq!(component["tracing"], state, "{component}");
    assert!(
        component["reason"]
            .as_str()
            .is_some_and(|r| r.contains(why)),
        "{component}"
    );
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
    assert_state_because(m, "unknown", "you may not get configmaps");
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
    assert_state_because(model(&st), "invalid", "Unknown sampler type remote");
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

/// `status -f PATH --local -o json`, parsed.
fn local_status(path: &std::path::Path) -> Value {
    let p = path.display().to_string();
    run(
        PLUGIN,
        &["status", "-f", &p, "--local", "-o", "json"],
        &[],
        None,
    )
    .ok()
    .json()
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
    let st = local_status(&both);
    let m = model(&st);
    assert_eq!(
        (m["tracing"].as_str(), m["sampler"]["source"].as_str()),
        (Some("on"), Some("file"))
    );
    assert_eq!(m["configFile"]["read"], true);
    let st = local_status(&only);
    let m = model(&st);
    assert_state_because(m, "unknown", "not among the -f inputs");
}

fn model_container(obj: &Value) -> &Value {
    &obj["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"][0]
}

fn model_env_value(obj: &Value, var: &str) -> Option<String> {
    model_container(obj)["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == var)
        .and_then(|e| e["value"].as_str().map(String::from))
}

fn config_map_json(c: &Cluster, ns: &str, name: &str) -> Option<Value> {
    let r = c.kubectl(&["get", "configmap", name, "-n", ns, "-o", "json"]);
    (r.code == Some(0)).then(|| r.json())
}

fn rv(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("resourceVersion")
}

#[test]
fn enable_b3_writes_the_config_map_first_owned_by_the_object_and_disable_keeps_it() {
    let c = atomic();
    let ns = c.namespace("cfgwrite");
    c.samples(&ns, &["single-model"]);
    c.plugin(&["enable", "iris", "-n", &ns, "--propagation", "b3", "--yes"])
        .ok();
    let obj = c.get(&ns, "iris");
    let cm = config_map_json(&c, &ns, "iris-tracing").expect("the plugin's ConfigMap");
    // Written before the object: a smaller etcd revision.
    assert!(
        rv(&cm) < rv(&obj),
        "ConfigMap rv {} >= object rv {}",
        rv(&cm),
        rv(&obj)
    );
    assert_eq!(
        cm["metadata"]["ownerReferences"][0]["uid"],
        obj["metadata"]["uid"]
    );
    assert_eq!(
        cm["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kubectl-seldon-tracing"
    );
    let path = model_env_value(&obj, "JAEGER_CONFIG_PATH").expect("JAEGER_CONFIG_PATH");
    let key = path
        .strip_prefix("/etc/seldon-tracing/")
        .expect("our mount");
    assert!(
        cm["data"][key]
            .as_str()
            .is_some_and(|t| t.contains("propagation: b3")),
        "{cm}"
    );
    assert_eq!(
        model_container(&obj)["volumeMounts"],
        json!([{"name": "seldon-tracing", "mountPath": "/etc/seldon-tracing", "readOnly": true}])
    );
    // status reads it back: the model reads B3 headers, so no mismatch with the executor.
    let st = c
        .plugin(&["status", "iris", "-n", &ns, "-o", "json"])
        .ok()
        .json();
    let model = &st["items"][0]["predictors"][0]["components"][1];
    assert_eq!(model["propagation"], "b3", "{model}");
    assert!(!st.to_string().contains("propagation-mismatch"), "{st}");
    // Jaeger headers again: a new file under a new key; the old key stays until the next change.
    c.plugin(&["enable", "iris", "-n", &ns, "--propagation", "jaeger"])
        .ok();
    let obj = c.get(&ns, "iris");
    let path2 = model_env_value(&obj, "JAEGER_CONFIG_PATH").expect("path");
    assert_ne!(path, path2);
    let cm = config_map_json(&c, &ns, "iris-tracing").expect("cm");
    assert_eq!(cm["data"].as_object().map(|d| d.len()), Some(2), "{cm}");
    // disable leaves the mount and the file; enable reuses them.
    c.plugin(&["disable", "iris", "-n", &ns]).ok();
    let off = c.get(&ns, "iris");
    assert_eq!(model_env_value(&off, "TRACING").as_deref(), Some("0"));
    assert_eq!(
        model_env_value(&off, "JAEGER_CONFIG_PATH"),
        Some(path2.clone())
    );
    c.plugin(&["enable", "iris", "-n", &ns]).ok();
    let on = c.get(&ns, "iris");
    assert_eq!(model_env_value(&on, "TRACING").as_deref(), Some("1"));
    assert_eq!(model_env_value(&on, "JAEGER_CONFIG_PATH"), Some(path2));
    // Deleted with its SeldonDeployment (the garbage collector follows the owner reference).
    c.kubectl(&["delete", "sdep", "iris", "-n", &ns]).ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while config_map_json(&c, &ns, "iris-tracing").is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the ConfigMap outlived its SeldonDeployment by 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[test]
fn a_user_who_may_not_write_config_maps_gets_one_line_and_nothing_changes() {
    let c = atomic();
    let ns = c.namespace("cfgrbac");
    c.samples(&ns, &["single-model"]);
    let before = c.get(&ns, "iris");
    let writer = c.impersonating(&ns, "sdep-writer", "get,list,patch");
    let r = c
        .plugin_as(
            &writer,
            &["enable", "iris", "-n", &ns, "--propagation", "b3"],
        )
        .fails_with(1);
    let err = r.stderr.trim();
    assert!(
        err.contains("configmaps") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.contains("configmaps")).count(),
        1,
        "{err}"
    );
    let after = c.get(&ns, "iris");
    assert_eq!(rv(&after), rv(&before), "the object changed");
    assert!(config_map_json(&c, &ns, "iris-tracing").is_none());
    // Without anything that needs a file, the same user enables as before.
    c.plugin_as(&writer, &["enable", "iris", "-n", &ns]).ok();
}

#[test]
#[cfg_attr(
    not(feature = "test-seams"),
    ignore = "needs the test-seams feature (make test turns it on)"
)]
fn a_config_map_changed_between_read_and_apply_is_read_again() {
    let c = atomic();
    let ns = c.namespace("cfgconflict");
    c.samples(&ns, &["single-model"]);
    c.plugin(&["enable", "iris", "-n", &ns, "--propagation", "b3"])
        .ok();
    let kc = c.kubeconfig("admin");
    let other =
        format!("kubectl --kubeconfig {kc} label configmap iris-tracing -n {ns} team=fraud");
    run(
        PLUGIN,
        &[
            "--kubeconfig",
            &kc,
            "enable",
            "iris",
            "-n",
            &ns,
            "--propagation",
            "jaeger",
        ],
        &[("SELDON_TRACING_TEST_HOOK_BEFORE_APPLY", &other)],
        None,
    )
    .ok();
    let cm = config_map_json(&c, &ns, "iris-tracing").expect("cm");
    assert_eq!(
        cm["metadata"]["labels"]["team"], "fraud",
        "the other writer's label was lost"
    );
    let obj = c.get(&ns, "iris");
    let key = model_env_value(&obj, "JAEGER_CONFIG_PATH").expect("path");
    let key = key.rsplit('/').next().expect("key");
    assert!(
        cm["data"][key].as_str().is_some_and(|t| !t.contains("b3")),
        "{cm}"
    );
}

#[test]
fn local_and_online_writes_are_the_same_and_in_place_puts_the_config_map_beside() {
    let c = atomic();
    let online = c.namespace("cfgonline");
    c.samples(&online, &["single-model"]);
    c.plugin(&["enable", "iris", "-n", &online, "--propagation", "b3"])
        .ok();
    let live = c.get(&online, "iris");
    let live_cm = config_map_json(&c, &online, "iris-tracing").expect("cm");
    // Offline, on the same manifest.
    let dir = tempdir("cfgfile-gitops");
    let manifest = dir.join("iris.yaml");
    std::fs::copy(sample_path("single-model"), &manifest).expect("copy");
    let m = manifest.display().to_string();
    let out = run(
        PLUGIN,
        &["enable", "-f", &m, "--local", "--propagation", "b3"],
        &[],
        None,
    )
    .ok();
    let docs: Vec<Value> = serde_yaml::Deserializer::from_str(&out.stdout)
        .map(|d| serde::Deserialize::deserialize(d).expect("yaml"))
        .collect();
    assert_eq!(docs.len(), 2, "{}", out.stdout);
    assert_eq!(docs[0]["spec"]["predictors"], live["spec"]["predictors"]);
    assert_eq!(docs[1]["kind"], "ConfigMap");
    assert_eq!(docs[1]["data"], live_cm["data"]);
    assert!(docs[1]["metadata"].get("ownerReferences").is_none());
    // --in-place: the ConfigMap goes to a file of its own beside the manifest, and a second run
    // (reading both) changes nothing.
    run(
        PLUGIN,
        &[
            "enable",
            "-f",
            &m,
            "--local",
            "--in-place",
            "--propagation",
            "b3",
        ],
        &[],
        None,
    )
    .ok()
    .stderr_has("configmap/iris-tracing created in");
    let beside = dir.join("iris-tracing.yaml");
    assert!(beside.exists());
    let again = run(
        PLUGIN,
        &[
            "enable",
            "-f",
            &dir.display().to_string(),
            "--local",
            "--in-place",
            "--propagation",
            "b3",
        ],
        &[],
        None,
    )
    .ok();
    assert!(again.stderr.contains("unchanged"), "{}", again.stderr);
    // status offline reads the file it wrote.
    let st = local_status(&dir);
    assert_eq!(
        st["items"][0]["predictors"][0]["components"][1]["propagation"],
        "b3"
    );
}

#[test]
fn the_rollout_is_current_once_the_operator_has_applied_the_new_volume() {
    use crate::operator::reconcile;
    use crate::rollout::settled;
    let c = atomic();
    let ns = c.namespace("cfgrollout");
    c.samples(&ns, &["single-model"]);
    reconcile(&c, &ns, "iris");
    settled(&c, &ns, "iris", "current");
    c.plugin(&["enable", "iris", "-n", &ns, "--propagation", "b3"])
        .ok();
    reconcile(&c, &ns, "iris");
    let r = settled(&c, &ns, "iris", "current");
    assert_eq!(r["deployments"][0]["envMatches"], true);
    let d = c
        .kubectl(&[
            "get",
            "deployment",
            "iris-default-0-classifier",
            "-n",
            &ns,
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(
        d["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"],
        "iris-tracing"
    );
}
