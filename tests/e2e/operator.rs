//! A stand-in for the Seldon Core v1 operator (v1.18.2), test-only: the operator is not served by
//! the Go module proxy. It reproduces what the operator makes of a SeldonDeployment for tracing
//! and rollouts, written here from its behaviour (operator/controllers and
//! apis/machinelearning.seldon.io/v1 at v1.18.2):
//! - one Deployment per `componentSpecs[i]`, named `<sdep>-<predictor>-<i>-<container names
//!   joined by ->` (or `componentSpecs[i].metadata.name`), labels `seldon-deployment-id`,
//!   `seldon-app` (`<sdep>-<predictor>`) and `app.kubernetes.io/managed-by: seldon-core`, an
//!   owner reference to the SeldonDeployment, `replicas` from the predictor;
//! - the executor container `seldon-container-engine` in componentSpecs[0]'s Deployment, its env
//!   `ENGINE_PREDICTOR` (base64 JSON of the predictor), `REQUEST_LOGGER_DEFAULT_ENDPOINT`, then
//!   `svcOrchSpec.env`, then the `seldon.io/engine-*` annotation variables not named yet;
//! - the component containers with their env as declared.
//!
//! - with `seldon.io/engine-separate-pod: "true"` (or no componentSpecs at all), the executor in
//!   a Deployment of its own, `<sdep>-<predictor>-svc-orch`; with the predictor annotation
//!   `seldon.io/no-engine: "true"`, no executor;
//! - a prepackaged Python server's container (SKLEARN/XGBOOST/MLFLOW/TENSORFLOW_SERVER) added to
//!   componentSpecs[0] (made when absent) unless a container of its name is there, which is
//!   merged (its env kept, the server image filled in).
//!
//! Not reproduced (no test here needs them): names over 63 characters, the server's own env and
//! model-initializer, services, explainers, status.deploymentStatus.
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

/// Prepackaged servers running Seldon's Python wrapper: the operator adds their container.
const PREPACKAGED: &[&str] = &[
    "SKLEARN_SERVER",
    "XGBOOST_SERVER",
    "MLFLOW_SERVER",
    "TENSORFLOW_SERVER",
];

/// The graph nodes (depth first) that name a prepackaged server.
fn prepackaged(node: &Value, out: &mut Vec<String>) {
    if let (Some(name), Some(imp)) = (node["name"].as_str(), node["implementation"].as_str())
        && PREPACKAGED.contains(&imp)
    {
        out.push(name.to_string());
    }
    for child in node["children"].as_array().into_iter().flatten() {
        prepackaged(child, out);
    }
}

/// The Deployments the operator makes of `sdep` (as read from the cluster).
pub fn deployments(sdep: &Value) -> Vec<Value> {
    let name = sdep["metadata"]["name"].as_str().expect("name");
    let separate = sdep["spec"]["annotations"]["seldon.io/engine-separate-pod"] == "true";
    let mut out = Vec::new();
    for p in sdep["spec"]["predictors"].as_array().into_iter().flatten() {
        let pname = p["name"].as_str().expect("predictor name");
        let replicas = p["replicas"].as_i64().unwrap_or(1);
        let engine = p["annotations"]["seldon.io/no-engine"] != "true";
        let mut servers = Vec::new();
        prepackaged(&p["graph"], &mut servers);
        let mut specs: Vec<Value> = p["componentSpecs"].as_array().cloned().unwrap_or_default();
        // A prepackaged server's container joins componentSpecs[0], made when absent.
        if specs.is_empty() && !servers.is_empty() {
            specs.push(json!({}));
        }
        for (i, cs) in specs.iter().enumerate() {
            let mut containers: Vec<Value> = cs["spec"]["containers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if i == 0 {
                for server in &servers {
                    match containers.iter_mut().find(|c| c["name"] == server.as_str()) {
                        // A container of that name (e.g. an env-only stub) is merged in.
                        Some(c) if c["image"].is_null() => {
                            c["image"] = json!("seldonio/sklearnserver:1.18.2");
                        }
                        Some(_) => {}
                        None => containers.push(json!({
                            "name": server,
                            "image": "seldonio/sklearnserver:1.18.2",
                        })),
                    }
                }
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
            out.push(deployment(sdep, pname, &dep_name, replicas, containers));
        }
        if engine && (separate || specs.is_empty()) {
            let dep_name = format!("{name}-{pname}-svc-orch");
            out.push(deployment(
                sdep,
                pname,
                &dep_name,
                replicas,
                vec![executor(sdep, p)],
            ));
        }
    }
    out
}

/// One reconcile: what the operator would write now, applied (server-side) to the cluster.
pub fn reconcile(c: &Cluster, ns: &str, name: &str) {
    let sdep = c.get(ns, name);
    for d in deployments(&sdep) {
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

impl Operator {
    pub fn start(c: &Cluster, ns: &str, names: &[&str], held: bool) -> Operator {
        let held = Arc::new(AtomicBool::new(held));
        let stop = Arc::new(AtomicBool::new(false));
        let reconciles = Arc::new(AtomicUsize::new(0));
        let (h, s, r) = (held.clone(), stop.clone(), reconciles.clone());
        let c = c.clone();
        let ns = ns.to_string();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                if !h.load(Ordering::SeqCst) {
                    let all = if names.is_empty() {
                        every_name(&c, &ns)
                    } else {
                        names.clone()
                    };
                    for n in &all {
                        reconcile(&c, &ns, n);
                    }
                    r.fetch_add(1, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(200));
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

    /// Reconcile rounds finished so far.
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
