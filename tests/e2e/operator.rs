//! A stand-in for the Seldon Core v1 operator (v1.18.2), test-only: the operator is not served by
//! the Go module proxy. It reproduces what the operator makes of a SeldonDeployment for tracing
//! and rollouts, written here from its behaviour (operator/controllers and
//! apis/machinelearning.seldon.io/v1 at v1.18.2) and from what docs/facts/seldon-core-1.md
//! records of running it:
//! - one Deployment per `componentSpecs[i]` that has containers, named `<sdep>-<predictor>-<i>-
//!   <container names joined by ->` (or `componentSpecs[i].metadata.name`), labels
//!   `seldon-deployment-id`, `seldon-app` (`<sdep>-<predictor>`) and
//!   `app.kubernetes.io/managed-by: seldon-core`, an owner reference to the SeldonDeployment,
//!   `replicas` from the predictor; the componentSpec's containers (as given: env, volumeMounts)
//!   and `volumes` in the pod template;
//! - every graph node whose implementation is a prepackaged server (`IsPrepack`: anything but
//!   the built-in units and UNKNOWN_IMPLEMENTATION, whatever the protocol: SKLEARN_SERVER,
//!   TRITON_SERVER, MLServer-backed servers under v2, TF Serving, made-up names) and that has no
//!   container gets one, appended to componentSpecs[0] (made when absent) in graph order, so its
//!   name is part of that Deployment's name; a container of its name without an image (an
//!   env-only stub) gets the server's image and keeps its env;
//! - the executor container `seldon-container-engine` in componentSpecs[0]'s Deployment, its env
//!   `ENGINE_PREDICTOR` (base64 JSON of the predictor), `REQUEST_LOGGER_DEFAULT_ENDPOINT`, then
//!   `svcOrchSpec.env`, then the `seldon.io/engine-*` annotation variables not named yet; only
//!   with `seldon.io/engine-separate-pod: "true"` a Deployment of its own,
//!   `<sdep>-<predictor>-svc-orch` (label `seldon-deployment-contains-svcorch`); with the
//!   predictor annotation `seldon.io/no-engine: "true"`, no executor;
//! - `status`: `state` "" -> `Creating` -> `Available` (every Deployment ready with no
//!   unavailable replica), back to `Creating` when pods stop being ready; `deploymentStatus`
//!   per Deployment name with `replicas` and `availableReplicas` (absent while none is);
//!   `replicas` of the first Deployment; `address.url` of the first predictor's Service;
//! - [`Mode::Churn`]: the generation loop seen with the real operator on some objects.
//!
//! Not reproduced (no test here needs them): names over 63 characters, the servers' own env,
//! ports, probes and model initializers, Services and `serviceStatus`, explainers, conditions,
//! `Failed` (no progress deadline is judged), HPA/KEDA/PDB objects.
//! A test calls `reconcile` when the operator should act once, or starts an [`Operator`] that
//! reconciles continuously and can be held back (an operator that lags or is down).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::kube::Cluster;

/// Standard base64 with padding (also the tests' way to write kubeconfig data).
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The executor's env as the operator writes it.
fn executor_env(sdep: &Value, p: &Value) -> Vec<Value> {
    let mut env = vec![
        json!({"name": "ENGINE_PREDICTOR", "value": base64(p.to_string().as_bytes())}),
        json!({"name": "REQUEST_LOGGER_DEFAULT_ENDPOINT", "value": "http://default-broker"}),
    ];
    let declared: Vec<Value> = p["svcOrchSpec"]["env"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let named: Vec<String> = declared
        .iter()
        .filter_map(|e| e["name"].as_str().map(String::from))
        .collect();
    env.extend(declared);
    let mut annotations: Vec<(&String, &Value)> = sdep["spec"]["annotations"]
        .as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    annotations.sort_by(|a, b| a.0.cmp(b.0));
    let mut added: Vec<String> = Vec::new();
    for (key, value) in annotations {
        let Some(suffix) = key.strip_prefix("seldon.io/engine-") else {
            continue;
        };
        if key == "seldon.io/engine-separate-pod" {
            continue;
        }
        let var = suffix.to_ascii_uppercase().replace('-', "_");
        if !named.contains(&var) && !added.contains(&var) {
            env.push(json!({"name": var, "value": value}));
            added.push(var);
        }
    }
    env
}

fn executor(sdep: &Value, p: &Value) -> Value {
    json!({
        "name": "seldon-container-engine",
        "image": "docker.io/seldonio/seldon-core-executor:1.18.2",
        "env": executor_env(sdep, p),
    })
}

/// A Deployment of `sdep`'s predictor `pname` running `containers`.
fn deployment(
    sdep: &Value,
    pname: &str,
    dep_name: &str,
    replicas: i64,
    containers: Vec<Value>,
) -> Value {
    let name = sdep["metadata"]["name"].as_str().expect("name");
    let labels = json!({
        "seldon-deployment-id": name,
        "seldon-app": format!("{name}-{pname}"),
        "app.kubernetes.io/managed-by": "seldon-core",
    });
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": dep_name,
            "namespace": sdep["metadata"]["namespace"],
            "labels": labels,
            "ownerReferences": [{
                "apiVersion": sdep["apiVersion"], "kind": "SeldonDeployment",
                "name": name, "uid": sdep["metadata"]["uid"], "controller": true,
            }],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"seldon-app": format!("{name}-{pname}"), "seldon-deployment-id": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": containers},
            },
        },
    })
}

/// Built-in units that run inside the executor: no container.
const BUILT_IN: &[&str] = &[
    "SIMPLE_MODEL",
    "SIMPLE_ROUTER",
    "RANDOM_ABTEST",
    "AVERAGE_COMBINER",
];

/// The operator's `IsPrepack`: any implementation but the built-in units and
/// UNKNOWN_IMPLEMENTATION is a prepackaged server, whether or not it can trace.
fn is_prepack(implementation: &str) -> bool {
    !implementation.is_empty()
        && implementation != "UNKNOWN_IMPLEMENTATION"
        && !BUILT_IN.contains(&implementation)
}

/// The image the chart's `predictor_servers` gives a server (for the protocol), else a
/// made-up one: only the name matters to the tests.
fn server_image(implementation: &str, protocol: &str) -> String {
    match (implementation, protocol) {
        ("TRITON_SERVER", _) => "nvcr.io/nvidia/tritonserver:21.08-py3".into(),
        ("TENSORFLOW_SERVER", "tensorflow") => "tensorflow/serving:2.1.0".into(),
        (_, "v2" | "kfserving") => "seldonio/mlserver:1.3.5".into(),
        (imp, _) => format!(
            "seldonio/{}:1.18.2",
            imp.to_ascii_lowercase().replace('_', "")
        ),
    }
}

/// Whether any componentSpec has a container named `name`.
fn has_container(p: &Value, name: &str) -> bool {
    p["componentSpecs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|cs| cs["spec"]["containers"].as_array().into_iter().flatten())
        .any(|c| c["name"] == name)
}

/// The graph nodes (pre-order, as `GetPredictiveUnitList`) the operator gives a server
/// container: a prepackaged implementation and no container of their name yet; with the
/// image for it.
fn servers(p: &Value, protocol: &str, node: &Value, out: &mut Vec<(String, String)>) {
    if let (Some(name), Some(imp)) = (node["name"].as_str(), node["implementation"].as_str())
        && is_prepack(imp)
        && !has_container(p, name)
        && !out.iter().any(|(n, _)| n == name)
    {
        out.push((name.to_string(), server_image(imp, protocol)));
    }
    for child in node["children"].as_array().into_iter().flatten() {
        servers(p, protocol, child, out);
    }
}

/// A prepackaged server node's image, for a container of its name without one (a stub).
fn stub_image(protocol: &str, node: &Value, name: &str) -> Option<String> {
    if node["name"] == name
        && let Some(imp) = node["implementation"].as_str().filter(|i| is_prepack(i))
    {
        return Some(server_image(imp, protocol));
    }
    node["children"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|c| stub_image(protocol, c, name))
}

/// The Deployments the operator makes of `sdep` (as read from the cluster).
pub fn deployments(sdep: &Value) -> Vec<Value> {
    let name = sdep["metadata"]["name"].as_str().expect("name");
    let separate = sdep["spec"]["annotations"]["seldon.io/engine-separate-pod"] == "true";
    let protocol = sdep["spec"]["protocol"]
        .as_str()
        .unwrap_or("seldon")
        .to_ascii_lowercase();
    let mut out = Vec::new();
    for p in sdep["spec"]["predictors"].as_array().into_iter().flatten() {
        let pname = p["name"].as_str().expect("predictor name");
        let replicas = p["replicas"].as_i64().unwrap_or(1);
        let engine = p["annotations"]["seldon.io/no-engine"] != "true";
        let mut added = Vec::new();
        servers(p, &protocol, &p["graph"], &mut added);
        let mut specs: Vec<Value> = p["componentSpecs"].as_array().cloned().unwrap_or_default();
        // A prepackaged server's container joins componentSpecs[0], made when absent.
        if specs.is_empty() && !added.is_empty() {
            specs.push(json!({}));
        }
        for (i, cs) in specs.iter().enumerate() {
            let mut containers: Vec<Value> = cs["spec"]["containers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // A container of a server's name without an image (an env-only stub) gets the
            // server's image.
            for c in containers.iter_mut() {
                if c["image"].is_null()
                    && let Some(image) =
                        stub_image(&protocol, &p["graph"], c["name"].as_str().unwrap_or(""))
                {
                    c["image"] = json!(image);
                }
            }
            if i == 0 {
                for (server, image) in &added {
                    containers.push(json!({"name": server, "image": image}));
                }
            }
            // No containers: no Deployment (the index still counts).
            if containers.is_empty() {
                continue;
            }
            let names: Vec<&str> = containers
                .iter()
                .filter_map(|c| c["name"].as_str())
                .collect();
            let dep_name = match cs["metadata"]["name"].as_str() {
                Some(n) => format!("{name}-{pname}-{i}-{n}"),
                None => format!("{name}-{pname}-{i}-{}", names.join("-")),
            };
            if i == 0 && engine && !separate {
                containers.push(executor(sdep, p));
            }
            let mut d = deployment(sdep, pname, &dep_name, replicas, containers);
            // The pod spec's volumes come along (the ConfigMap the plugin mounts, for one).
            if let Some(volumes) = cs["spec"]["volumes"].as_array() {
                d["spec"]["template"]["spec"]["volumes"] = json!(volumes);
            }
            out.push(d);
        }
        if engine && separate {
            let dep_name = format!("{name}-{pname}-svc-orch");
            let mut d = deployment(sdep, pname, &dep_name, replicas, vec![executor(sdep, p)]);
            d["metadata"]["labels"]["seldon-deployment-contains-svcorch"] = json!("true");
            out.push(d);
        }
    }
    out
}

/// The prediction path of the first predictor, as `GetPredictionPath`.
fn prediction_path(sdep: &Value) -> String {
    let graph = sdep["spec"]["predictors"][0]["graph"]["name"]
        .as_str()
        .unwrap_or("");
    match sdep["spec"]["protocol"].as_str().unwrap_or("seldon") {
        "v2" | "kfserving" => format!("/v2/models/{graph}/infer"),
        "tensorflow" => format!("/v1/models/{graph}:predict"),
        _ => "/api/v1.0/predictions".into(),
    }
}

/// The `status` the operator writes, from the Deployments it made as they are now: every one
/// available (as many available replicas as wanted) makes the SeldonDeployment `Available`, else
/// `Creating` (also when pods stop being ready, as the real operator does).
pub fn status_of(sdep: &Value, made: &[Value], live: &[Value]) -> Value {
    let name = sdep["metadata"]["name"].as_str().expect("name");
    let ns = sdep["metadata"]["namespace"].as_str().unwrap_or("default");
    let mut deployment_status = serde_json::Map::new();
    let mut all_available = !made.is_empty();
    let mut replicas = 0;
    for (i, d) in made.iter().enumerate() {
        let dname = d["metadata"]["name"].as_str().unwrap_or("");
        let found = live.iter().find(|l| l["metadata"]["name"] == dname);
        let st = found.map(|l| &l["status"]);
        let have = st.and_then(|s| s["replicas"].as_i64()).unwrap_or(0);
        let available = st.and_then(|s| s["availableReplicas"].as_i64());
        let wanted = d["spec"]["replicas"].as_i64().unwrap_or(1);
        let ready = st.and_then(|s| s["readyReplicas"].as_i64()).unwrap_or(0);
        let unavailable = st
            .and_then(|s| s["unavailableReplicas"].as_i64())
            .unwrap_or(0);
        if found.is_none() || (wanted > 0 && (ready == 0 || unavailable > 0)) {
            all_available = false;
        }
        let mut entry = json!({"replicas": have});
        if let Some(a) = available.filter(|a| *a > 0) {
            entry["availableReplicas"] = json!(a);
        }
        deployment_status.insert(dname.to_string(), entry);
        if i == 0 {
            replicas = have;
        }
    }
    let first = sdep["spec"]["predictors"][0]["name"].as_str().unwrap_or("");
    json!({
        "state": if all_available { "Available" } else { "Creating" },
        "description": "",
        "replicas": replicas,
        "deploymentStatus": deployment_status,
        "address": {"url": format!("http://{name}-{first}.{ns}.svc.cluster.local:8000{}", prediction_path(sdep))},
    })
}

/// One reconcile: what the operator would write now, applied (server-side) to the cluster, then
/// the SeldonDeployment's `status` from the Deployments as they are (written only when it
/// differs, as the operator's `updateStatus` does).
pub fn reconcile(c: &Cluster, ns: &str, name: &str) {
    reconcile_round(c, ns, name, None);
}

/// [`reconcile`], with every Deployment's `progressDeadlineSeconds` set to `deadline` when
/// given: a change outside the pod template, which moves the generation and restarts no pod.
fn reconcile_round(c: &Cluster, ns: &str, name: &str, deadline: Option<i64>) {
    let sdep = c.get(ns, name);
    let made = deployments(&sdep);
    for mut d in made.clone() {
        if let Some(seconds) = deadline {
            d["spec"]["progressDeadlineSeconds"] = json!(seconds);
        }
        c.kubectl_in(
            &[
                "apply",
                "--server-side",
                "--force-conflicts",
                "--field-manager",
                "seldon-operator-stand-in",
                "-f",
                "-",
            ],
            &d.to_string(),
        )
        .ok();
    }
    let listed = c.kubectl(&[
        "get",
        "deployments",
        "-n",
        ns,
        "-l",
        &format!("seldon-deployment-id={name}"),
        "-o",
        "json",
    ]);
    let Ok(live) = serde_json::from_str::<Value>(&listed.stdout) else {
        return;
    };
    let live = live["items"].as_array().cloned().unwrap_or_default();
    let status = status_of(&sdep, &made, &live);
    if sdep["status"] != status {
        // A SeldonDeployment deleted meanwhile answers 404: nothing to write then.
        c.kubectl(&[
            "patch",
            "sdep",
            name,
            "-n",
            ns,
            "--subresource=status",
            "--type=merge",
            "-p",
            &json!({"status": status}).to_string(),
        ]);
    }
}

/// Every SeldonDeployment's name in `ns`.
fn every_name(c: &Cluster, ns: &str) -> Vec<String> {
    let list = c
        .kubectl(&[
            "get",
            "sdep",
            "-n",
            ns,
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
        .ok();
    list.stdout.split_whitespace().map(String::from).collect()
}

/// The stand-in running continuously: it reconciles the named SeldonDeployments (every one in
/// the namespace when `names` is empty) every 200 ms unless held back; stopped when dropped.
pub struct Operator {
    held: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    reconciles: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How the running stand-in writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Writes what the SeldonDeployment asks; an unchanged write changes nothing.
    Steady,
    /// Like the real operator on some SeldonDeployments (docs/facts/seldon-core-1.md, "Generation churn"): once
    /// a SeldonDeployment has changed after the stand-in first saw it, every round rewrites its
    /// Deployments with a field outside the pod template flipped (`progressDeadlineSeconds`),
    /// so their generation climbs on every round while the template, and so the pods, stay
    /// as they are.
    Churn,
}

impl Operator {
    pub fn start(c: &Cluster, ns: &str, names: &[&str], held: bool) -> Operator {
        Operator::start_in(c, ns, names, held, Mode::Steady)
    }

    pub fn start_in(c: &Cluster, ns: &str, names: &[&str], held: bool, mode: Mode) -> Operator {
        let held = Arc::new(AtomicBool::new(held));
        let stop = Arc::new(AtomicBool::new(false));
        let reconciles = Arc::new(AtomicUsize::new(0));
        let (h, s, r) = (held.clone(), stop.clone(), reconciles.clone());
        let c = c.clone();
        let ns = ns.to_string();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let generation_of = |c: &Cluster, ns: &str, n: &str| {
            c.kubectl(&[
                "get",
                "sdep",
                n,
                "-n",
                ns,
                "-o",
                "jsonpath={.metadata.generation}",
            ])
            .stdout
            .trim()
            .parse::<i64>()
            .unwrap_or(0)
        };
        // The generation each SeldonDeployment has now, read before this returns (churn starts
        // with the next change).
        let mut first_seen: std::collections::HashMap<String, i64> = Default::default();
        if mode == Mode::Churn {
            let all = if names.is_empty() {
                every_name(&c, &ns)
            } else {
                names.clone()
            };
            for n in all {
                let g = generation_of(&c, &ns, &n);
                first_seen.insert(n, g);
            }
        }
        let thread = std::thread::spawn(move || {
            let mut round: i64 = 0;
            while !s.load(Ordering::SeqCst) {
                if !h.load(Ordering::SeqCst) {
                    let all = if names.is_empty() {
                        every_name(&c, &ns)
                    } else {
                        names.clone()
                    };
                    round += 1;
                    r.fetch_add(1, Ordering::SeqCst);
                    for n in &all {
                        let deadline = (mode == Mode::Churn)
                            .then(|| {
                                let generation = generation_of(&c, &ns, n);
                                let first = *first_seen.entry(n.clone()).or_insert(generation);
                                (generation > first).then_some(600 + round % 2)
                            })
                            .flatten();
                        reconcile_round(&c, &ns, n, deadline);
                    }
                }
                // Churning, the rounds run back to back (about two writes a second here, as
                // the real operator's loop).
                if mode == Mode::Steady || first_seen.is_empty() {
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        });
        Operator {
            held,
            stop,
            reconciles,
            thread: Some(thread),
        }
    }

    pub fn release(&self) {
        self.held.store(false, Ordering::SeqCst);
    }

    /// Lets it go `after` from now (from another thread).
    pub fn release_after(&self, after: Duration) {
        let held = self.held.clone();
        std::thread::spawn(move || {
            std::thread::sleep(after);
            held.store(false, Ordering::SeqCst);
        });
    }

    /// Reconcile rounds begun so far (a round writes the Deployments, then the status).
    pub fn reconciles(&self) -> usize {
        self.reconciles.load(Ordering::SeqCst)
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn the_stand_in_encodes_like_the_operator() {
    assert_eq!(base64(b"{}"), "e30=");
    assert_eq!(base64(b"seldon"), "c2VsZG9u");
    assert_eq!(base64(b"ab"), "YWI=");
}
