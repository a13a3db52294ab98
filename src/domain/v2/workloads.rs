//! Seldon Core 2: which setting each workload's pods run. The scheduler, the gateways and every
//! Server's agent read `tracing.json` from ConfigMap `seldon-tracing` once, at start; the
//! dataflow engine gets `OTEL_*` env from it, also at start; nothing restarts them when the
//! operator rewrites it (docs/facts/seldon-core-2.md, "Who reads it, and when"). No annotation says which setting a pod loaded, so a pod
//! whose reading container started before the ConfigMap's last write of `data` runs the old one.
//!
//! The readers are found from the pod templates, not from a list of names: every Deployment and
//! StatefulSet of the namespace whose template mounts the ConfigMap or takes env from it (so a
//! Server of any runtime, and a user's override, count). Times are the API server's, to the
//! second: a container started in the same second as the write counts as running it.

use serde::Serialize;
use serde_json::Value;

use crate::domain::clock::parse_rfc3339;
use crate::domain::v2::CONFIG_MAP;

/// MLServer's own tracing switch (it ignores `seldon-tracing`).
pub const MLSERVER_TRACING: &str = "MLSERVER_TRACING_SERVER";

/// When the ConfigMap's `data` was last written: the newest `managedFields` entry that owns
/// `data` (the operator's), else its creation. None when neither can be read.
pub fn written_at(cm: &Value) -> Option<i64> {
    let owns_data = |e: &&Value| e.pointer("/fieldsV1/f:data").is_some();
    let entries = cm
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array);
    entries
        .into_iter()
        .flatten()
        .filter(owns_data)
        .filter_map(|e| {
            e.get("time")
                .and_then(Value::as_str)
                .and_then(parse_rfc3339)
        })
        .max()
        .or_else(|| {
            cm.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str)
                .and_then(parse_rfc3339)
        })
}

/// How a container takes the setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reads {
    /// `tracing.json` from a ConfigMap volume (`--tracing-config-path`).
    File,
    /// `OTEL_*` env from the ConfigMap's keys (the Java agent of the dataflow engine).
    Env,
}

/// Whether a workload's pods run the ConfigMap's current setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Freshness {
    /// Every pod's reading container started after the last write, and all are running.
    Current,
    /// Some pod's reading container started before the last write: it runs the old setting.
    RestartNeeded,
    /// No pod runs the old setting, but fewer than the desired replicas run at all.
    Starting,
    /// No pod is desired (scaled to zero).
    NoPods,
    /// The ConfigMap does not hold the runtime's setting yet (the operator is behind or not
    /// running): whatever the pods run, it is not that one. A runtime's summary only.
    AwaitingOperator,
    /// The ConfigMap's last write, or the pods, could not be read.
    Unknown,
}

impl Freshness {
    pub fn as_str(self) -> &'static str {
        match self {
            Freshness::Current => "current",
            Freshness::RestartNeeded => "restart needed",
            Freshness::Starting => "starting",
            Freshness::NoPods => "no pods",
            Freshness::AwaitingOperator => "awaiting operator",
            Freshness::Unknown => "unknown",
        }
    }
}

/// MLServer in a Server's pod template: whether it exports spans of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MlServer {
    /// `MLSERVER_TRACING_SERVER`'s literal value; `set` for a valueFrom; None: unset (no spans).
    #[serde(rename = "tracingServer")]
    pub tracing_server: Option<String>,
    /// The variable on another container of the pod (v2.10.2's Helm setup chart puts it on
    /// `agent`), where MLServer's process never sees it: that container's name.
    #[serde(rename = "setOn", skip_serializing_if = "Option::is_none")]
    pub set_on: Option<String>,
}

/// One Deployment or StatefulSet that reads the setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// `statefulset/seldon-scheduler`, `deployment/seldon-modelgateway`, ...
    pub name: String,
    /// The Server that owns it; None for the runtime's core components.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The container that reads the setting.
    pub container: String,
    pub reads: Reads,
    /// Desired replicas.
    pub replicas: i64,
    /// Pods (not terminating) whose reading container runs.
    pub running: usize,
    /// Of those, started before the last write.
    pub stale: usize,
    pub loaded: Freshness,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mlserver: Option<MlServer>,
}

/// The container of `template` (a pod template) that reads ConfigMap `seldon-tracing`, and how.
fn reader(template: &Value) -> Option<(String, Reads)> {
    let spec = template.get("spec")?;
    let volumes: Vec<&str> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.pointer("/configMap/name").and_then(Value::as_str) == Some(CONFIG_MAP))
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    let containers = spec.get("containers").and_then(Value::as_array)?;
    containers.iter().find_map(|c| {
        let name = c.get("name").and_then(Value::as_str)?.to_string();
        let mounts = c
            .get("volumeMounts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        let mounted = mounts
            .filter_map(|m| m.get("name").and_then(Value::as_str))
            .any(|m| volumes.contains(&m));
        if mounted {
            return Some((name, Reads::File));
        }
        let env = c.get("env").and_then(Value::as_array).into_iter().flatten();
        let from_env = env
            .filter_map(|e| e.pointer("/valueFrom/configMapKeyRef/name"))
            .any(|n| n.as_str() == Some(CONFIG_MAP));
        let env_from = c
            .get("envFrom")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|e| e.pointer("/configMapRef/name").and_then(Value::as_str) == Some(CONFIG_MAP));
        (from_env || env_from).then_some((name, Reads::Env))
    })
}

/// `MLSERVER_TRACING_SERVER` in `container`'s env: its value, `set` for a valueFrom, None when
/// absent or empty.
fn tracing_server_of(container: &Value) -> Option<String> {
    let var = container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(MLSERVER_TRACING))?;
    match var.get("value").and_then(Value::as_str) {
        Some(v) => Some(v.to_string()).filter(|v| !v.is_empty()),
        None if var.get("valueFrom").is_some() => Some("set".into()),
        None => None,
    }
}

fn mlserver(template: &Value) -> Option<MlServer> {
    let containers = template
        .pointer("/spec/containers")
        .and_then(Value::as_array)?;
    let name = |c: &&Value| {
        c.get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let c = containers.iter().find(|c| name(c) == "mlserver")?;
    let tracing_server = tracing_server_of(c);
    let set_on = if tracing_server.is_none() {
        containers
            .iter()
            .find(|o| name(o) != "mlserver" && tracing_server_of(o).is_some())
            .map(|o| name(&o))
    } else {
        None
    };
    Some(MlServer {
        tracing_server,
        set_on,
    })
}

/// The Server owning `obj`, from its controller reference.
fn owning_server(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|o| {
            o.get("kind").and_then(Value::as_str) == Some("Server")
                && o.get("apiVersion")
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.starts_with("mlops.seldon.io/"))
        })
        .and_then(|o| o.get("name").and_then(Value::as_str))
        .map(String::from)
}

/// Whether `pod` matches `selector`'s matchLabels (a selector with expressions matches none:
/// the operator writes matchLabels only).
fn selects(selector: &Value, pod: &Value) -> bool {
    if selector.get("matchExpressions").is_some() {
        return false;
    }
    let Some(want) = selector.get("matchLabels").and_then(Value::as_object) else {
        return false;
    };
    let labels = pod.pointer("/metadata/labels");
    !want.is_empty()
        && want
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// When `container` of `pod` started running; None when it does not run.
fn started(pod: &Value, container: &str) -> Option<i64> {
    pod.pointer("/status/containerStatuses")
        .and_then(Value::as_array)?
        .iter()
        .find(|s| s.get("name").and_then(Value::as_str) == Some(container))?
        .pointer("/state/running/startedAt")
        .and_then(Value::as_str)
        .and_then(parse_rfc3339)
}

/// The readers among `deployments` and `statefulsets` (list items carry no kind, so the list
/// says which) and the state of their pods against
/// `written` (None: the ConfigMap's last write is unknown). `pods`: None when they could not be
/// listed. Sorted: core components first, then Servers, each by name.
pub fn workloads(
    deployments: &[Value],
    statefulsets: &[Value],
    pods: Option<&[Value]>,
    written: Option<i64>,
) -> Vec<Workload> {
    let kinds = [("deployment", deployments), ("statefulset", statefulsets)];
    let mut out: Vec<Workload> = kinds
        .iter()
        .flat_map(|(kind, list)| list.iter().map(move |w| (*kind, w)))
        .filter_map(|(kind, w)| {
            let template = w.pointer("/spec/template")?;
            let (container, reads) = reader(template)?;
            let name = w.pointer("/metadata/name").and_then(Value::as_str)?;
            let replicas = w
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let selector = w.pointer("/spec/selector").cloned().unwrap_or(Value::Null);
            let mine: Vec<&Value> = pods
                .into_iter()
                .flatten()
                .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
                .filter(|p| selects(&selector, p))
                .collect();
            let starts: Vec<i64> = mine.iter().filter_map(|p| started(p, &container)).collect();
            let stale = written.map_or(0, |t| starts.iter().filter(|s| **s < t).count());
            let loaded = match (pods, written) {
                (None, _) | (_, None) => Freshness::Unknown,
                _ if stale > 0 => Freshness::RestartNeeded,
                _ if replicas == 0 && starts.is_empty() => Freshness::NoPods,
                _ if (starts.len() as i64) < replicas => Freshness::Starting,
                _ => Freshness::Current,
            };
            Some(Workload {
                name: format!("{kind}/{name}"),
                server: owning_server(w),
                container,
                reads,
                replicas,
                running: starts.len(),
                stale,
                loaded,
                mlserver: mlserver(template),
            })
        })
        .collect();
    out.sort_by(|a, b| (a.server.is_some(), &a.name).cmp(&(b.server.is_some(), &b.name)));
    out
}

/// The runtime's pods in one word: the worst of its workloads (`unknown` without any).
pub fn summary(workloads: &[Workload]) -> Freshness {
    let rank = |l: Freshness| match l {
        Freshness::AwaitingOperator => 5,
        Freshness::Unknown => 4,
        Freshness::RestartNeeded => 3,
        Freshness::Starting => 2,
        Freshness::Current => 1,
        Freshness::NoPods => 0,
    };
    workloads
        .iter()
        .map(|w| w.loaded)
        .max_by_key(|l| rank(*l))
        .unwrap_or(Freshness::Unknown)
}

/// The pod selectors (matchLabels) of the workloads among `workloads` that read the setting:
/// the only pods [`workloads`] looks at.
pub fn reader_selectors<'a>(
    workloads: impl IntoIterator<Item = &'a Value>,
) -> Vec<std::collections::BTreeMap<String, String>> {
    workloads
        .into_iter()
        .filter(|w| w.pointer("/spec/template").and_then(reader).is_some())
        .filter_map(|w| w.pointer("/spec/selector"))
        .filter(|s| s.get("matchExpressions").is_none())
        .filter_map(|s| s.get("matchLabels").and_then(Value::as_object))
        .filter(|m| !m.is_empty())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .collect()
}

/// Set-based label selectors that together select every pod one of `selectors` selects (and
/// maybe more, which [`workloads`] then leaves out): one per distinct set of keys, each key
/// `in` every value seen for it. Their number follows the kinds of workloads (the operator's
/// six, one label per Server name), not how many namespaces run them.
pub fn covering_selectors(selectors: &[std::collections::BTreeMap<String, String>]) -> Vec<String> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut by_keys: BTreeMap<Vec<&str>, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for sel in selectors {
        let keys: Vec<&str> = sel.keys().map(String::as_str).collect();
        let values = by_keys.entry(keys).or_default();
        for (k, v) in sel {
            values.entry(k.as_str()).or_default().insert(v.as_str());
        }
    }
    by_keys
        .values()
        .map(|values| {
            values
                .iter()
                .map(|(k, vs)| {
                    format!(
                        "{k} in ({})",
                        vs.iter().copied().collect::<Vec<_>>().join(",")
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T: &str = "2026-11-30T12:00:00Z";

    fn template(containers: Value) -> Value {
        json!({"metadata": {"labels": {"app": "x"}}, "spec": {
            "volumes": [{"name": "tracing-config-volume", "configMap": {"name": "seldon-tracing"}},
                        {"name": "other", "configMap": {"name": "seldon-kafka"}}],
            "containers": containers}})
    }

    fn workload(name: &str, replicas: i64, containers: Value, owner: Option<&str>) -> Value {
        let owners: Vec<Value> = owner
            .map(|s| json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "Server", "name": s, "controller": true}))
            .into_iter()
            .collect();
        json!({"metadata": {"name": name, "ownerReferences": owners},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                        "template": template(containers)}})
    }

    fn pod(app: &str, container: &str, started: Option<&str>, terminating: bool) -> Value {
        let state = match started {
            Some(t) => json!({"running": {"startedAt": t}}),
            None => json!({"waiting": {"reason": "CrashLoopBackOff"}}),
        };
        let mut p = json!({"metadata": {"labels": {"app.kubernetes.io/name": app}},
                           "status": {"containerStatuses": [{"name": container, "state": state}]}});
        if terminating {
            p["metadata"]["deletionTimestamp"] = json!(T);
        }
        p
    }

    fn file_reader(name: &str) -> Value {
        json!([{"name": name, "volumeMounts": [{"name": "tracing-config-volume", "mountPath": "/mnt/tracing"}]}])
    }

    #[test]
    fn the_last_write_of_data_is_the_operators_not_a_label_edit() {
        let cm = json!({"metadata": {"creationTimestamp": "2026-11-30T10:00:00Z", "managedFields": [
            {"manager": "seldon-operator", "time": "2026-11-30T11:00:00Z", "fieldsV1": {"f:data": {}}},
            {"manager": "kubectl-label", "time": "2026-11-30T12:30:00Z", "fieldsV1": {"f:metadata": {"f:labels": {}}}}]}});
        assert_eq!(written_at(&cm), parse_rfc3339("2026-11-30T11:00:00Z"));
        let bare = json!({"metadata": {"creationTimestamp": "2026-11-30T10:00:00Z"}});
        assert_eq!(written_at(&bare), parse_rfc3339("2026-11-30T10:00:00Z"));
        assert_eq!(written_at(&json!({})), None);
    }

    #[test]
    fn readers_are_found_by_mount_or_env_and_others_left_out() {
        let scheduler = workload("seldon-scheduler", 1, file_reader("scheduler"), None);
        let dataflow = workload(
            "seldon-dataflow-engine",
            1,
            json!([{"name": "dataflow-engine", "env": [{"name": "OTEL_JAVAAGENT_ENABLED",
                "valueFrom": {"configMapKeyRef": {"name": "seldon-tracing", "key": "OTEL_JAVAAGENT_ENABLED"}}}]}]),
            None,
        );
        let envoy = workload("seldon-envoy", 1, json!([{"name": "envoy"}]), None);
        let server = workload(
            "mlserver",
            2,
            json!([{"name": "rclone"}, {"name": "agent", "volumeMounts": [{"name": "tracing-config-volume", "mountPath": "/mnt/tracing"}]},
                   {"name": "mlserver", "env": [{"name": "MLSERVER_TRACING_SERVER", "value": "collector:4317"}]}]),
            Some("mlserver"),
        );
        let ws = workloads(
            &[dataflow, envoy],
            &[scheduler, server],
            Some(&[]),
            parse_rfc3339(T),
        );
        let names: Vec<(&str, &str, Reads)> = ws
            .iter()
            .map(|w| (w.name.as_str(), w.container.as_str(), w.reads))
            .collect();
        assert_eq!(
            names,
            [
                (
                    "deployment/seldon-dataflow-engine",
                    "dataflow-engine",
                    Reads::Env
                ),
                ("statefulset/seldon-scheduler", "scheduler", Reads::File),
                ("statefulset/mlserver", "agent", Reads::File),
            ]
        );
        assert_eq!(ws[2].server.as_deref(), Some("mlserver"));
        assert_eq!(
            ws[2].mlserver,
            Some(MlServer {
                tracing_server: Some("collector:4317".into()),
                set_on: None
            })
        );
        assert_eq!(ws[0].mlserver, None);
    }

    #[test]
    fn pods_started_before_the_write_need_a_restart() {
        let w = [workload(
            "seldon-modelgateway",
            2,
            file_reader("modelgateway"),
            None,
        )];
        let written = parse_rfc3339(T);
        let state = |pods: &[Value]| {
            let ws = workloads(&w, &[], Some(pods), written);
            (ws[0].loaded, ws[0].running, ws[0].stale)
        };
        let app = "seldon-modelgateway";
        let before = pod(app, "modelgateway", Some("2026-11-30T11:59:59Z"), false);
        let same = pod(app, "modelgateway", Some(T), false);
        let after = pod(app, "modelgateway", Some("2026-11-30T12:00:05Z"), false);
        let crashing = pod(app, "modelgateway", None, false);
        let going = pod(app, "modelgateway", Some("2026-11-30T11:00:00Z"), true);
        let elsewhere = pod(
            "seldon-envoy",
            "modelgateway",
            Some("2026-11-30T11:00:00Z"),
            false,
        );
        assert_eq!(
            state(&[before.clone(), after.clone()]),
            (Freshness::RestartNeeded, 2, 1)
        );
        assert_eq!(
            state(&[same.clone(), after.clone(), going, elsewhere]),
            (Freshness::Current, 2, 0)
        );
        assert_eq!(
            state(&[after.clone(), crashing]),
            (Freshness::Starting, 1, 0)
        );
        let ws = workloads(&w, &[], None, written);
        assert_eq!(ws[0].loaded, Freshness::Unknown);
        let ws = workloads(&w, &[], Some(&[after]), None);
        assert_eq!(ws[0].loaded, Freshness::Unknown);
        let zero = [workload(
            "seldon-modelgateway",
            0,
            file_reader("modelgateway"),
            None,
        )];
        assert_eq!(
            workloads(&zero, &[], Some(&[]), written)[0].loaded,
            Freshness::NoPods
        );
        assert_eq!(summary(&[]), Freshness::Unknown);
    }

    #[test]
    fn mlserver_without_its_switch_or_from_a_secret() {
        let t = |env: Value| template(json!([{"name": "mlserver", "env": env}]));
        assert_eq!(
            mlserver(&t(json!([]))),
            Some(MlServer {
                tracing_server: None,
                set_on: None
            })
        );
        // As v2.10.2's Helm setup chart writes the ServerConfig: on the agent, not on MLServer.
        let helm = template(json!([
            {"name": "agent", "env": [{"name": MLSERVER_TRACING, "value": "seldon-collector.seldon-mesh:4317"}]},
            {"name": "mlserver", "env": [{"name": "MLSERVER_HTTP_PORT", "value": "9000"}]}]));
        assert_eq!(
            mlserver(&helm),
            Some(MlServer {
                tracing_server: None,
                set_on: Some("agent".into())
            })
        );
        assert_eq!(mlserver(&template(json!([{"name": "triton"}]))), None);
        assert_eq!(
            mlserver(&t(json!([{"name": MLSERVER_TRACING, "value": ""}]))),
            Some(MlServer {
                tracing_server: None,
                set_on: None
            })
        );
        assert_eq!(
            mlserver(&t(
                json!([{"name": MLSERVER_TRACING, "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}])
            )),
            Some(MlServer {
                tracing_server: Some("set".into()),
                set_on: None
            })
        );
    }

    #[test]
    fn the_readers_selectors_are_covered_by_one_selector_per_key_set() {
        let reads = |labels: Value| {
            json!({"spec": {"selector": {"matchLabels": labels},
                "template": {"spec": {"volumes": [{"name": "t", "configMap": {"name": CONFIG_MAP}}],
                    "containers": [{"name": "c", "volumeMounts": [{"name": "t", "mountPath": "/t"}]}]}}}})
        };
        let other = json!({"spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "web"}]}}}});
        let found = reader_selectors([
            &reads(json!({"app.kubernetes.io/name": "seldon-scheduler"})),
            &reads(json!({"app.kubernetes.io/name": "seldon-modelgateway"})),
            &reads(json!({"seldon-server-name": "mlserver"})),
            &reads(json!({"seldon-server-name": "mlserver"})),
            &reads(json!({"a": "1", "b": "2"})),
            &reads(json!({"a": "3", "b": "2"})),
            &other,
        ]);
        assert_eq!(found.len(), 6, "the web app does not read it");
        assert_eq!(
            covering_selectors(&found),
            [
                "a in (1,3),b in (2)",
                "app.kubernetes.io/name in (seldon-modelgateway,seldon-scheduler)",
                "seldon-server-name in (mlserver)",
            ]
        );
        assert!(covering_selectors(&[]).is_empty());
    }

    proptest::proptest! {
        /// Every pod a reader's selector selects is selected by one covering selector.
        #[test]
        fn covering_selectors_miss_no_pod(
            sels in proptest::collection::vec(
                proptest::collection::btree_map("[ab]", "[xyz]", 1..3), 0..8)
        ) {
            let covering = covering_selectors(&sels);
            // A pod labelled exactly as a selector asks.
            for pod in &sels {
                let hit = covering.iter().any(|c| {
                    c.split("),").all(|term| {
                        let (key, values) = term.split_once(" in (").unwrap();
                        let values = values.trim_end_matches(')');
                        pod.get(key).is_some_and(|v| values.split(',').any(|x| x == v))
                    })
                });
                proptest::prop_assert!(hit, "{pod:?} not selected by {covering:?}");
            }
        }
    }
}
