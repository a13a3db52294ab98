//! Where `verify` and `traces` connect, chosen from listed objects (pure): the executor pod of a
//! predictor, and Jaeger's query port behind a Service (`--jaeger-service`, or found by looking).
//!
//! Facts (docs/facts/traces.md, "Reaching the executor and Jaeger" and "Jaeger's query API"): the
//! operator labels a predictor's pods `seldon-app=<sdep>-<predictor>` (what its Service
//! `<sdep>-<predictor>` selects); the executor is the container `seldon-container-engine`, REST on
//! 8000. Jaeger's query API listens on 16686; the Jaeger Operator names the Service
//! `<name>-query` with the port `http-query`.

use serde_json::Value;

use crate::domain::v1::EXECUTOR_CONTAINER;
use crate::domain::v1::EXECUTOR_GRPC_PORT;

pub const QUERY_PORT: u16 = 16686;

/// The label selector of a predictor's pods.
pub fn predictor_selector(sdep: &str, predictor: &str) -> String {
    format!("seldon-app={sdep}-{predictor}")
}

fn str_of<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k))?.as_str()
}

/// Ready (its Ready condition True) and not being deleted.
pub fn ready(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp").is_none()
        && pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn containers(pod: &Value) -> impl Iterator<Item = &Value> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Whether `pod` runs the executor (the container `seldon-container-engine`).
pub fn runs_engine(pod: &Value) -> bool {
    containers(pod).any(|c| c["name"] == EXECUTOR_CONTAINER)
}

/// The executor's gRPC port in pod `name` of `pods`: its container port named `grpc` (the
/// operator's `EXECUTOR_SERVER_GRPC_PORT` may move it), else the default 5001.
pub fn engine_grpc_port(pods: &[Value], name: &str) -> u16 {
    pods.iter()
        .filter(|p| str_of(p, &["metadata", "name"]) == Some(name))
        .flat_map(containers)
        .filter(|c| c["name"] == EXECUTOR_CONTAINER)
        .flat_map(|c| {
            c.get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .find(|p| p["name"] == "grpc")
        .and_then(|p| p["containerPort"].as_u64())
        .and_then(|n| u16::try_from(n).ok())
        .unwrap_or(EXECUTOR_GRPC_PORT)
}

/// The newest ready pod among `pods` that runs the executor, or why there is none (a sentence
/// to finish "predictor P of NS/NAME: ...").
pub fn engine_pod(pods: &[Value]) -> Result<String, String> {
    let with_engine: Vec<&Value> = pods.iter().filter(|p| runs_engine(p)).collect();
    if with_engine.is_empty() {
        return Err(format!(
            "no pod runs the executor (container {EXECUTOR_CONTAINER}) yet; is the Seldon operator running, and has it made the predictor's Deployments?"
        ));
    }
    let mut ready_ones: Vec<&Value> = with_engine.iter().copied().filter(|p| ready(p)).collect();
    ready_ones.sort_by(|a, b| {
        let key = |p: &Value| {
            (
                str_of(p, &["metadata", "creationTimestamp"])
                    .unwrap_or("")
                    .to_string(),
                str_of(p, &["metadata", "name"]).unwrap_or("").to_string(),
            )
        };
        key(b).cmp(&key(a))
    });
    match ready_ones.first() {
        Some(p) => Ok(str_of(p, &["metadata", "name"]).unwrap_or("").to_string()),
        None => {
            let names: Vec<String> = with_engine
                .iter()
                .take(3)
                .map(|p| {
                    format!(
                        "{} {}",
                        str_of(p, &["metadata", "name"]).unwrap_or("?"),
                        str_of(p, &["status", "phase"]).unwrap_or("Pending")
                    )
                })
                .collect();
            Err(format!(
                "none of its {} executor pods is ready ({}); wait for the rollout, e.g. `kubectl seldon-tracing status NAME --watch`",
                with_engine.len(),
                names.join(", ")
            ))
        }
    }
}

/// A Service port: by number or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl PortRef {
    fn parse(s: &str) -> PortRef {
        match s.parse::<u16>() {
            Ok(n) => PortRef::Number(n),
            Err(_) => PortRef::Name(s.to_string()),
        }
    }

    fn of(v: &Value) -> Option<PortRef> {
        match v {
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .map(PortRef::Number),
            Value::String(s) => Some(PortRef::parse(s)),
            _ => None,
        }
    }
}

/// `--jaeger-service [NS/]NAME[:PORT][/BASE-PATH]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    pub namespace: Option<String>,
    pub name: String,
    pub port: Option<PortRef>,
    /// Jaeger's `--query.base-path`, e.g. `/jaeger`; empty when served at the root.
    pub base_path: String,
}

impl std::str::FromStr for ServiceRef {
    type Err = String;

    fn from_str(s: &str) -> Result<ServiceRef, String> {
        let bad = |why: &str| {
            format!(
                "'{s}' is not [NAMESPACE/]SERVICE[:PORT][/BASE-PATH] ({why}), e.g. tracing/jaeger-query:16686"
            )
        };
        let (ns, rest) = match s.split_once('/') {
            Some((ns, rest)) if !ns.contains(':') => (Some(ns), rest),
            _ => (None, s),
        };
        let (svc_port, base) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (name, port) = match svc_port.split_once(':') {
            Some((n, p)) if !p.is_empty() => (n, Some(PortRef::parse(p))),
            Some(_) => return Err(bad("an empty port")),
            None => (svc_port, None),
        };
        let dns = |x: &str| {
            !x.is_empty()
                && x.len() <= 63
                && x.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !x.starts_with('-')
                && !x.ends_with('-')
        };
        if !dns(name) {
            return Err(bad("the Service name is not a DNS label"));
        }
        if let Some(ns) = ns
            && !dns(ns)
        {
            return Err(bad("the namespace is not a DNS label"));
        }
        Ok(ServiceRef {
            namespace: ns.map(str::to_string),
            name: name.to_string(),
            port,
            base_path: base.trim_end_matches('/').to_string(),
        })
    }
}

/// The Service port that serves Jaeger's query API, as (port, targetPort): the one asked for,
/// else 16686, else one named `http-query`, else a port whose target is 16686, else the only
/// port.
pub fn query_port(svc: &Value, want: Option<&PortRef>) -> Result<(u16, PortRef), String> {
    let ports: Vec<&Value> = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let number = |p: &Value| p["port"].as_u64().and_then(|n| u16::try_from(n).ok());
    let target = |p: &Value| {
        p.get("targetPort")
            .and_then(PortRef::of)
            .or_else(|| number(p).map(PortRef::Number))
    };
    let pick = match want {
        Some(PortRef::Number(n)) => ports.iter().find(|p| number(p) == Some(*n)),
        Some(PortRef::Name(n)) => ports.iter().find(|p| p["name"] == n.as_str()),
        None => ports
            .iter()
            .find(|p| number(p) == Some(QUERY_PORT))
            .or_else(|| ports.iter().find(|p| p["name"] == "http-query"))
            .or_else(|| {
                ports
                    .iter()
                    .find(|p| target(p) == Some(PortRef::Number(QUERY_PORT)))
            })
            .or_else(|| (ports.len() == 1).then(|| &ports[0])),
    };
    let listed = || {
        ports
            .iter()
            .map(|p| match p["name"].as_str() {
                Some(n) => format!("{n} {}", p["port"]),
                None => p["port"].to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match pick {
        Some(p) => match (number(p), target(p)) {
            (Some(n), Some(t)) => Ok((n, t)),
            _ => Err("its port has no number".into()),
        },
        None if want.is_some() => Err(format!("it has no such port (it has: {})", listed())),
        None => Err(format!(
            "none of its ports is Jaeger's query port 16686 or named http-query (it has: {}); name one with :PORT",
            listed()
        )),
    }
}

/// A Service's selector as a label selector; None for a Service without one.
pub fn selector(svc: &Value) -> Option<String> {
    let m = svc.pointer("/spec/selector")?.as_object()?;
    if m.is_empty() {
        return None;
    }
    Some(
        m.iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// The container port of `pod` a targetPort names.
pub fn container_port(pod: &Value, target: &PortRef) -> Option<u16> {
    match target {
        PortRef::Number(n) => Some(*n),
        PortRef::Name(name) => containers(pod)
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .find(|p| p["name"] == name.as_str())
            .and_then(|p| p["containerPort"].as_u64())
            .and_then(|n| u16::try_from(n).ok()),
    }
}

/// The newest ready pod among `pods`.
pub fn newest_ready(pods: &[Value]) -> Option<&Value> {
    pods.iter().filter(|p| ready(p)).max_by(|a, b| {
        str_of(a, &["metadata", "creationTimestamp"])
            .cmp(&str_of(b, &["metadata", "creationTimestamp"]))
    })
}

/// Services that look like Jaeger's query API, as `namespace/name`: a port 16686 (or one
/// targeting it), a port named `http-query`, or a name ending in `-query` next to "jaeger".
pub fn query_services(services: &[Value]) -> Vec<String> {
    services
        .iter()
        .filter(|s| {
            let name = str_of(s, &["metadata", "name"]).unwrap_or("");
            let by_name = name.ends_with("-query") && name.contains("jaeger");
            let by_port = s
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|p| {
                    p["port"] == QUERY_PORT
                        || p["targetPort"] == QUERY_PORT
                        || p["name"] == "http-query"
                });
            (by_name || by_port) && selector(s).is_some()
        })
        .map(|s| {
            format!(
                "{}/{}",
                str_of(s, &["metadata", "namespace"]).unwrap_or(""),
                str_of(s, &["metadata", "name"]).unwrap_or("")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, created: &str, ready: bool, engine: bool) -> Value {
        let mut containers = vec![json!({"name": "classifier"})];
        if engine {
            containers.push(json!({"name": EXECUTOR_CONTAINER}));
        }
        json!({"metadata": {"name": name, "creationTimestamp": created},
               "spec": {"containers": containers},
               "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})
    }

    #[test]
    fn the_newest_ready_executor_pod_is_chosen() {
        let pods = [
            pod("a", "2026-01-01T00:00:00Z", true, true),
            pod("b", "2026-01-02T00:00:00Z", true, true),
            pod("c", "2026-01-03T00:00:00Z", false, true),
            pod("d", "2026-01-04T00:00:00Z", true, false),
        ];
        assert_eq!(engine_pod(&pods).unwrap(), "b");
        let e = engine_pod(&pods[2..3]).unwrap_err();
        assert!(
            e.starts_with("none of its 1 executor pods is ready (c Running)"),
            "{e}"
        );
        let e = engine_pod(&pods[3..]).unwrap_err();
        assert!(e.contains(EXECUTOR_CONTAINER), "{e}");
        let mut gone = pods[1].clone();
        gone["metadata"]["deletionTimestamp"] = json!("2026-01-05T00:00:00Z");
        assert!(engine_pod(&[gone]).is_err());
    }

    #[test]
    fn service_references_parse() {
        let r: ServiceRef = "tracing/jaeger-query:http-query/jaeger/".parse().unwrap();
        assert_eq!(
            r,
            ServiceRef {
                namespace: Some("tracing".into()),
                name: "jaeger-query".into(),
                port: Some(PortRef::Name("http-query".into())),
                base_path: "/jaeger".into()
            }
        );
        let r: ServiceRef = "jaeger:16686".parse().unwrap();
        assert_eq!((r.namespace, r.port), (None, Some(PortRef::Number(16686))));
        for bad in ["", "Jaeger", "ns/", "/x", "a:", "a b"] {
            assert!(bad.parse::<ServiceRef>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_query_port_is_found_by_number_name_or_target() {
        let svc = |ports: Value| json!({"spec": {"selector": {"app": "jaeger"}, "ports": ports}});
        let helm = svc(
            json!([{"name": "http", "port": 80, "targetPort": 16686}, {"name": "grpc", "port": 16685}]),
        );
        assert_eq!(
            query_port(&helm, None).unwrap(),
            (80, PortRef::Number(16686))
        );
        let op = svc(json!([{"name": "http-query", "port": 16686, "targetPort": "query"}]));
        assert_eq!(
            query_port(&op, None).unwrap(),
            (16686, PortRef::Name("query".into()))
        );
        let other = svc(json!([{"name": "a", "port": 1}, {"name": "b", "port": 2}]));
        assert!(
            query_port(&other, None)
                .unwrap_err()
                .contains("it has: a 1, b 2")
        );
        assert_eq!(
            query_port(&other, Some(&PortRef::Name("b".into()))).unwrap(),
            (2, PortRef::Number(2))
        );
        assert_eq!(selector(&op).unwrap(), "app=jaeger");
        let p = json!({"spec": {"containers": [{"ports": [{"name": "query", "containerPort": 16686}]}]}});
        assert_eq!(
            container_port(&p, &PortRef::Name("query".into())),
            Some(16686)
        );
        assert_eq!(container_port(&p, &PortRef::Name("nope".into())), None);
    }

    #[test]
    fn jaeger_query_services_are_recognised() {
        let svcs = [
            json!({"metadata": {"namespace": "tracing", "name": "simplest-query"}, "spec": {"selector": {"a": "b"}, "ports": [{"name": "http-query", "port": 16686}]}}),
            json!({"metadata": {"namespace": "tracing", "name": "jaeger"}, "spec": {"selector": {"a": "b"}, "ports": [{"port": 80, "targetPort": 16686}]}}),
            json!({"metadata": {"namespace": "tracing", "name": "jaeger-collector"}, "spec": {"selector": {"a": "b"}, "ports": [{"port": 14268}]}}),
            json!({"metadata": {"namespace": "x", "name": "jaeger-query"}, "spec": {"ports": [{"port": 16686}]}}),
        ];
        assert_eq!(
            query_services(&svcs),
            ["tracing/simplest-query", "tracing/jaeger"]
        );
    }

    #[test]
    fn the_grpc_port_is_the_engine_containers_port_named_grpc() {
        let mut p = pod("a", "2026-01-01T00:00:00Z", true, true);
        assert_eq!(
            engine_grpc_port(std::slice::from_ref(&p), "a"),
            5001,
            "no ports declared"
        );
        p["spec"]["containers"][1]["ports"] = json!([
            {"name": "http", "containerPort": 8000},
            {"name": "grpc", "containerPort": 5005}]);
        // A model container's port named grpc is not the executor's.
        p["spec"]["containers"][0]["ports"] = json!([{"name": "grpc", "containerPort": 9500}]);
        let pods = [p];
        assert_eq!(engine_grpc_port(&pods, "a"), 5005);
        assert_eq!(engine_grpc_port(&pods, "other"), 5001);
    }
}
