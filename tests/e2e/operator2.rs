//! A stand-in for the Seldon Core 2 operator (v2.10.2), test-only: the operator is not served by
//! the Go module proxy. Written here from its behaviour (operator/controllers/reconcilers/seldon
//! and .../server, operator/apis/mlops/v1alpha1 at v2.10.2, read) and from what
//! docs/facts/seldon-core-2.md records of running it. Per SeldonRuntime of a namespace, each round:
//! - the SeldonConfig `spec.seldonConfig` names is read from the operator's namespace; when it
//!   does not exist nothing is made (the real operator fails the reconcile);
//! - tracing: the runtime's non-empty `ratio`, `otelExporterEndpoint`, `otelExporterProtocol`,
//!   else the SeldonConfig's (`TracingConfig.addDefaults`); `disable` from the runtime only;
//! - ConfigMap `seldon-tracing`, owned by the runtime, with `tracing.json` (Go's `json.Marshal` of
//!   the struct: `disable` only when true, then the three strings when non-empty, in that order),
//!   `OTEL_JAVAAGENT_ENABLED` (`!disable`), `OTEL_EXPORTER_OTLP_ENDPOINT` (`http://` + endpoint)
//!   and `OTEL_EXPORTER_OTLP_PROTOCOL`; written only when its data differs (so its last write of
//!   `data` is the last change);
//! - the six core workloads, owned by the runtime, labelled `app.kubernetes.io/name=<name>` and
//!   selecting their pods by it: StatefulSet `seldon-scheduler` and Deployments
//!   `seldon-modelgateway`, `seldon-pipelinegateway` (each mounting `seldon-tracing` at
//!   /mnt/tracing), `seldon-dataflow-engine` (the three `OTEL_*` env from its keys), `seldon-envoy`
//!   and `hodometer` (no tracing); the pod templates carry the runtime's `metadata.annotations`
//!   without `kubectl.kubernetes.io/last-applied-configuration` and `meta.helm.sh/*` (so annotating
//!   the runtime rolls all six, as seen with the real operator); a change of `tracingConfig`
//!   changes no workload;
//! - one StatefulSet per Server, named after it, owned by it, `podManagementPolicy: Parallel`,
//!   pods labelled `seldon-server-name=<server>` with containers `rclone`, `agent` (mounting
//!   `seldon-tracing`) and `mlserver`, whose env is the Server's `spec.podSpec` container
//!   `mlserver`'s (merged by container name), and the Server's annotations on the pod template;
//! - Service `seldon-mesh`: port 80 to envoy's container port named `http` (9000).
//!
//! Not reproduced (no test here needs them): ServerConfig objects (the `mlserver` shape above
//! stands for the default one), the scheduler's Service, Kafka and envoy configuration, scaling,
//! overrides, status conditions, finalizers, `disableAutoUpdate`, `--use-deployments-for-servers`.
//! Workloads are written by server-side apply under the manager `seldon-v2-operator`, so an
//! unchanged round changes nothing (no generation moves).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::kube::Cluster;

const MANAGER: &str = "seldon-v2-operator";

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The merged tracing, as the operator computes it: (disable, endpoint, protocol, ratio).
fn merged(runtime: &Value, config: &Value) -> (bool, String, String, String) {
    let pick = |field: &str| {
        let own = text(runtime, &format!("/spec/config/tracingConfig/{field}"));
        if own.is_empty() {
            text(config, &format!("/spec/config/tracingConfig/{field}")).to_string()
        } else {
            own.to_string()
        }
    };
    let disable = runtime
        .pointer("/spec/config/tracingConfig/disable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    (
        disable,
        pick("otelExporterEndpoint"),
        pick("otelExporterProtocol"),
        pick("ratio"),
    )
}

/// `json.Marshal` of v2.10.2's TracingConfig (field order, omitempty), built by hand.
fn tracing_json(disable: bool, endpoint: &str, protocol: &str, ratio: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    if disable {
        parts.push("\"disable\":true".into());
    }
    for (k, v) in [
        ("otelExporterEndpoint", endpoint),
        ("otelExporterProtocol", protocol),
        ("ratio", ratio),
    ] {
        if !v.is_empty() {
            parts.push(format!("\"{k}\":{}", Value::from(v)));
        }
    }
    format!("{{{}}}", parts.join(","))
}

fn owner(obj: &Value, kind: &str) -> Value {
    json!([{"apiVersion": "mlops.seldon.io/v1alpha1", "kind": kind,
            "name": text(obj, "/metadata/name"), "uid": text(obj, "/metadata/uid"),
            "controller": true, "blockOwnerDeletion": true}])
}

/// The annotations the operator copies into pod templates.
fn copied_annotations(obj: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(a) = obj
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (k, v) in a {
            if k == "kubectl.kubernetes.io/last-applied-configuration"
                || k.starts_with("meta.helm.sh/")
            {
                continue;
            }
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

fn tracing_volume() -> Value {
    json!({"name": "tracing-config-volume", "configMap": {"name": "seldon-tracing"}})
}

fn tracing_mount() -> Value {
    json!({"name": "tracing-config-volume", "mountPath": "/mnt/tracing"})
}

/// A core component's workload.
fn core_workload(runtime: &Value, name: &str) -> Value {
    let ns = text(runtime, "/metadata/namespace");
    let (kind, container, reads_file, reads_env) = match name {
        "seldon-scheduler" => ("StatefulSet", "scheduler", true, false),
        "seldon-modelgateway" => ("Deployment", "modelgateway", true, false),
        "seldon-pipelinegateway" => ("Deployment", "pipelinegateway", true, false),
        "seldon-dataflow-engine" => ("Deployment", "dataflow-engine", false, true),
        "seldon-envoy" => ("Deployment", "envoy", false, false),
        _ => ("Deployment", "hodometer", false, false),
    };
    let mut c = json!({"name": container, "image": format!("docker.io/seldonio/{name}:2.10.2")});
    if name == "seldon-envoy" {
        // operator/config/seldonconfigs/default.yaml: the data port the Service leads to.
        c["ports"] = json!([{"name": "http", "containerPort": 9000},
                            {"name": "envoy-stats", "containerPort": 9003}]);
    }
    if reads_file {
        c["args"] = json!(["--tracing-config-path=/mnt/tracing/tracing.json"]);
        c["volumeMounts"] = json!([tracing_mount()]);
    }
    if reads_env {
        let key = |k: &str| json!({"name": k, "valueFrom": {"configMapKeyRef": {"name": "seldon-tracing", "key": k}}});
        c["env"] = json!([
            key("OTEL_JAVAAGENT_ENABLED"),
            key("OTEL_EXPORTER_OTLP_ENDPOINT"),
            key("OTEL_EXPORTER_OTLP_PROTOCOL")
        ]);
    }
    let labels = json!({"app.kubernetes.io/name": name});
    let mut spec = json!({
        "replicas": 1,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels, "annotations": copied_annotations(runtime)},
            "spec": {"containers": [c], "volumes": if reads_file { json!([tracing_volume()]) } else { json!([]) }}
        }
    });
    if kind == "StatefulSet" {
        spec["serviceName"] = json!(name);
    }
    json!({"apiVersion": "apps/v1", "kind": kind,
           "metadata": {"name": name, "namespace": ns, "labels": labels,
                        "ownerReferences": owner(runtime, "SeldonRuntime")},
           "spec": spec})
}

/// Service `seldon-mesh` in front of envoy (service_reconciler.go's getSeldonMeshService: port
/// 80 to the container port named `http`, selecting `app.kubernetes.io/name=seldon-envoy`;
/// ClusterIP here, LoadBalancer by default there, which changes nothing a port-forward uses).
fn mesh_service(runtime: &Value) -> Value {
    let labels = json!({"app.kubernetes.io/name": "seldon-envoy"});
    json!({"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "seldon-mesh", "namespace": text(runtime, "/metadata/namespace"),
                        "labels": labels, "ownerReferences": owner(runtime, "SeldonRuntime")},
           "spec": {"selector": labels,
                    "ports": [{"name": "data", "port": 80, "targetPort": "http", "protocol": "TCP"},
                              {"name": "stats", "port": 9003, "targetPort": "envoy-stats", "protocol": "TCP"}]}})
}

/// A Server's StatefulSet.
fn server_workload(server: &Value) -> Value {
    let (ns, name) = (
        text(server, "/metadata/namespace"),
        text(server, "/metadata/name"),
    );
    let replicas = server
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let mlserver_env = server
        .pointer("/spec/podSpec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "mlserver")
        .and_then(|c| c.get("env").cloned())
        .unwrap_or(json!([]));
    let labels = json!({"seldon-server-name": name});
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
    "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/name": "seldon-server"},
                 "ownerReferences": owner(server, "Server")},
    "spec": {
        "replicas": replicas,
        "serviceName": name,
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels, "annotations": copied_annotations(server)},
            "spec": {
                "containers": [
                    {"name": "rclone", "image": "docker.io/seldonio/seldon-rclone:2.10.2"},
                    {"name": "agent", "image": "docker.io/seldonio/seldon-agent:2.10.2",
                     "args": ["--tracing-config-path=/mnt/tracing/tracing.json"],
                     "volumeMounts": [tracing_mount()]},
                    {"name": "mlserver", "image": "docker.io/seldonio/mlserver:1.7.1", "env": mlserver_env}
                ],
                "volumes": [tracing_volume()]
            }
        }
    }})
}

fn items(c: &Cluster, args: &[&str]) -> Vec<Value> {
    let out = c.kubectl(args);
    serde_json::from_str::<Value>(&out.stdout)
        .ok()
        .and_then(|l| l["items"].as_array().cloned())
        .unwrap_or_default()
}

fn apply(c: &Cluster, objs: &[Value]) {
    if objs.is_empty() {
        return;
    }
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objs});
    c.kubectl_in(
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager",
            MANAGER,
            "-f",
            "-",
        ],
        &list.to_string(),
    )
    .ok();
}

/// One round over the runtimes and Servers of `ns`, SeldonConfigs read from `mesh`.
pub fn reconcile(c: &Cluster, ns: &str, mesh: &str) {
    reconcile_in(c, ns, mesh, true);
}

/// The round without workloads: ConfigMap `seldon-tracing` only (the conformance harness runs
/// the components itself, and the fake node's pod capacity is shared by every test).
pub fn write_config_maps(c: &Cluster, ns: &str, mesh: &str) {
    reconcile_in(c, ns, mesh, false);
}

fn reconcile_in(c: &Cluster, ns: &str, mesh: &str, workloads: bool) {
    for runtime in items(c, &["get", "seldonruntimes", "-n", ns, "-o", "json"]) {
        let config_name = text(&runtime, "/spec/seldonConfig");
        let config = c.kubectl(&["get", "seldonconfig", config_name, "-n", mesh, "-o", "json"]);
        let Ok(config) = serde_json::from_str::<Value>(&config.stdout) else {
            continue;
        };
        let (disable, endpoint, protocol, ratio) = merged(&runtime, &config);
        let data = json!({
            "tracing.json": tracing_json(disable, &endpoint, &protocol, &ratio),
            "OTEL_JAVAAGENT_ENABLED": (!disable).to_string(),
            "OTEL_EXPORTER_OTLP_ENDPOINT": format!("http://{endpoint}"),
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        });
        let held = c.kubectl(&["get", "configmap", "seldon-tracing", "-n", ns, "-o", "json"]);
        let held = serde_json::from_str::<Value>(&held.stdout).unwrap_or(Value::Null);
        let mut objs = Vec::new();
        if held["data"] != data {
            objs.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "seldon-tracing", "namespace": ns,
                             "ownerReferences": owner(&runtime, "SeldonRuntime")},
                "data": data}));
        }
        for name in [
            "seldon-scheduler",
            "seldon-modelgateway",
            "seldon-pipelinegateway",
            "seldon-dataflow-engine",
            "seldon-envoy",
            "hodometer",
        ]
        .iter()
        .filter(|_| workloads)
        {
            objs.push(core_workload(&runtime, name));
        }
        if workloads {
            objs.push(mesh_service(&runtime));
        }
        apply(c, &objs);
    }
    if !workloads {
        return;
    }
    let servers: Vec<Value> = items(c, &["get", "servers", "-n", ns, "-o", "json"])
        .iter()
        .map(server_workload)
        .collect();
    apply(c, &servers);
}

/// The stand-in reconciling `ns` every 300 ms until dropped.
pub struct Operator2 {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Operator2 {
    pub fn start(c: &Cluster, ns: &str, mesh: &str) -> Operator2 {
        let stop = Arc::new(AtomicBool::new(false));
        let (s, c, ns, mesh) = (stop.clone(), c.clone(), ns.to_string(), mesh.to_string());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                reconcile(&c, &ns, &mesh);
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        Operator2 {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Operator2 {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracing_json_is_gos_marshal_of_the_struct() {
        assert_eq!(
            tracing_json(false, "c:4317", "grpc", "1"),
            r#"{"otelExporterEndpoint":"c:4317","otelExporterProtocol":"grpc","ratio":"1"}"#
        );
        assert_eq!(tracing_json(true, "", "", ""), r#"{"disable":true}"#);
        let rt = json!({"spec": {"config": {"tracingConfig": {"ratio": "0.5", "otelExporterEndpoint": ""}}}});
        let sc = json!({"spec": {"config": {"tracingConfig": {"ratio": "1", "otelExporterEndpoint": "e:1", "disable": true}}}});
        assert_eq!(
            merged(&rt, &sc),
            (false, "e:1".into(), String::new(), "0.5".into())
        );
    }
}
