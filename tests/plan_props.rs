//! Property tests of the pure planning code over generated SeldonDeployments: random graphs,
//! predictors, env lists with `value`/`valueFrom`, unknown fields and engine annotations.

use std::collections::{BTreeMap, BTreeSet};

use kubectl_seldon_tracing::domain::v1::clients::{Destination, Propagation};
use kubectl_seldon_tracing::domain::v1::config_file::mount::{ConfigMap, ConfigMaps};
use kubectl_seldon_tracing::domain::v1::config_file::plugin_map as ownfile;
use kubectl_seldon_tracing::domain::v1::plan::{AgentHost, Intent, plan, plan_with};
use kubectl_seldon_tracing::domain::v1::sampler::Sampler;
use kubectl_seldon_tracing::domain::v1::status::{Origin, State, status, status_with};
use kubectl_seldon_tracing::domain::v1::warning::Warning;
use kubectl_seldon_tracing::{invariants, manifests};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const NAMES: &[&str] = &[
    "TRACING",
    "JAEGER_AGENT_HOST",
    "JAEGER_AGENT_PORT",
    "JAEGER_SAMPLER_TYPE",
    "JAEGER_SAMPLER_PARAM",
    "JAEGER_DISABLED",
    "JAEGER_ENDPOINT",
    "JAEGER_TRACE_PROPAGATION_TYPE",
    "KAFKA_BROKER",
    "LOG_LEVEL",
    "DB_URL",
];

fn env_entry() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        "[a-z0-9.:]{0,8}".prop_map(|v| json!({"value": v})),
        // Values the real clients refuse or that make them sample nothing.
        prop::sample::select(
            &[
                " true",
                "1 ",
                "const",
                "CONST",
                "0",
                "-1",
                "2",
                "abc",
                "99999",
                "",
                "host:6831",
                "probabilistic",
                "true",
                "1e400",
                "b3",
                "B3",
                "http://collector:14268/api/traces",
                "collector:14268/api/traces",
                "collector:14268",
                "udp://collector:6831"
            ][..]
        )
        .prop_map(|v| json!({"value": v})),
        Just(json!({"valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}})),
        Just(json!({"valueFrom": {"configMapKeyRef": {"name": "jaeger", "key": "host"}}})),
    ];
    (prop::sample::select(NAMES), value, any::<bool>()).prop_map(|(name, v, extra)| {
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        if let Value::Object(vm) = v {
            m.extend(vm);
        }
        if extra {
            m.insert("x-unknown".into(), json!({"kept": true}));
        }
        Value::Object(m)
    })
}

/// Env lists with unique names (Kubernetes allows duplicates; the property is about not adding any).
fn env_list() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(
        prop::collection::vec(env_entry(), 0..6).prop_map(|entries| {
            let mut seen = BTreeSet::new();
            let unique: Vec<Value> = entries
                .into_iter()
                .filter(|e| seen.insert(e["name"].as_str().unwrap_or("").to_string()))
                .collect();
            Value::Array(unique)
        }),
    )
}

fn implementation() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(
        &[
            "SKLEARN_SERVER",
            "RANDOM_ABTEST",
            "TRITON_SERVER",
            "XGBOOST_SERVER",
        ][..],
    ))
}

/// A predictor with a graph of up to 7 nodes (names unique within it), containers for some
/// nodes, a sidecar container, optional no-engine, svcOrchSpec and unknown fields.
fn predictor(index: usize) -> impl Strategy<Value = Value> {
    let nodes = prop::collection::vec(
        (implementation(), any::<bool>(), env_list(), 0usize..3),
        1..7,
    );
    (nodes, env_list(), any::<bool>(), any::<bool>(), env_list(), any::<bool>()).prop_map(
        move |(nodes, svc_env, no_engine, sidecar, sidecar_env, unknown)| {
            let mut graph_nodes: Vec<Value> = Vec::new();
            let mut containers: Vec<Value> = Vec::new();
            for (i, (imp, has_container, env, _)) in nodes.iter().enumerate() {
                let mut node = json!({"name": format!("n{i}"), "type": "MODEL"});
                if let Some(imp) = imp {
                    node["implementation"] = json!(imp);
                }
                graph_nodes.push(node);
                if *has_container {
                    let mut c = json!({"name": format!("n{i}"), "image": format!("img/n{i}:1")});
                    if let Some(e) = env {
                        c["env"] = e.clone();
                    }
                    containers.push(c);
                }
            }
            // Build the tree bottom-up: node i's parent is chosen among earlier nodes.
            for i in (1..nodes.len()).rev() {
                let parent = nodes[i].3 % i;
                let child = graph_nodes[i].clone();
                let children = graph_nodes[parent]
                    .as_object_mut()
                    .map(|o| o.entry("children").or_insert_with(|| json!([])));
                if let Some(Value::Array(list)) = children {
                    list.insert(0, child);
                }
            }
            if sidecar {
                let mut c = json!({"name": "sidecar", "image": "envoy"});
                if let Some(e) = sidecar_env {
                    c["env"] = e;
                }
                containers.push(c);
            }
            let mut p = json!({"name": format!("p{index}"), "graph": graph_nodes[0].clone()});
            if !containers.is_empty() {
                p["componentSpecs"] = json!([{"spec": {"containers": containers, "terminationGracePeriodSeconds": 20}}]);
            }
            if let Some(e) = svc_env {
                p["svcOrchSpec"] = json!({"env": e, "resources": {"requests": {"cpu": "100m"}}});
            }
            if no_engine {
                p["annotations"] = json!({"seldon.io/no-engine": "true"});
            }
            if unknown {
                p["x-future-field"] = json!([1, {"a": "b"}]);
            }
            p
        },
    )
}

fn deployment() -> impl Strategy<Value = Value> {
    let annotations = prop::collection::btree_map(
        prop::sample::select(
            &[
                "seldon.io/engine-jaeger-disabled",
                "seldon.io/engine-jaeger-sampler-type",
                "seldon.io/engine-jaeger-agent-host",
                "seldon.io/engine-jaeger-trace-propagation-type",
                "seldon.io/engine-jaeger-endpoint",
                "team",
            ][..],
        ),
        prop::sample::select(
            &[
                "true",
                "false",
                "const",
                "agent",
                "b3",
                "http://c/api/traces",
            ][..],
        ),
        0..3,
    );
    (predictor(0), prop::option::of(predictor(1)), annotations).prop_map(|(a, b, ann)| {
        let mut predictors = vec![a];
        predictors.extend(b);
        json!({
            "apiVersion": "machinelearning.seldon.io/v1",
            "kind": "SeldonDeployment",
            "metadata": {"name": "gen", "namespace": "ns", "resourceVersion": "7"},
            "spec": {"name": "gen", "annotations": ann, "predictors": predictors, "unknownSpecField": {"x": 1}},
            "status": {"state": "Available"}
        })
    })
}

fn intent() -> impl Strategy<Value = Intent> {
    let sampler = prop::option::of(prop::sample::select(
        &[
            "const:1",
            "const:0",
            "probabilistic:0.25",
            "ratelimiting:5",
            "remote",
        ][..],
    ));
    let host = prop::option::of(prop_oneof![
        Just(AgentHost::FromNode),
        Just(AgentHost::Literal("jaeger-agent".into()))
    ]);
    let port = prop::option::of(prop::sample::select(&[6831u16, 6832][..]));
    let propagation = prop::option::of(prop_oneof![
        Just(Propagation::B3),
        Just(Propagation::Jaeger)
    ]);
    let collector = prop::option::of(Just("http://jaeger-collector:14268/api/traces".to_string()));
    (sampler, host, port, propagation, collector).prop_map(
        |(s, agent_host, agent_port, propagation, collector)| Intent::Enable {
            sampler: s.map(|s| s.parse::<Sampler>().expect("valid sampler")),
            agent_host,
            agent_port,
            propagation,
            collector,
        },
    )
}

/// The object after a planned change was stored (and the plugin's ConfigMap as it then holds
/// the files of the object's Python components).
fn stored(
    obj: &Value,
    own: &BTreeMap<String, String>,
    intent: &Intent,
) -> (Value, BTreeMap<String, String>) {
    let p = plan_with(obj, intent, &[], Some(own)).expect("plan");
    let mut out = obj.clone();
    out["spec"]["predictors"] = p.predictors.clone();
    let files = ownfile::desired_data(obj, &out, &p.files, Some(own));
    (out, files)
}

/// The object after a planned change was stored.
fn applied(obj: &Value, intent: &Intent) -> Value {
    stored(obj, &BTreeMap::new(), intent).0
}

/// `spec` without the executor's JAEGER_TAGS, which `enable` stamps only along with a change.
fn unstamped(obj: &Value) -> Value {
    let mut spec = obj["spec"].clone();
    for p in spec["predictors"].as_array_mut().into_iter().flatten() {
        if let Some(env) = p
            .pointer_mut("/svcOrchSpec/env")
            .and_then(Value::as_array_mut)
        {
            env.retain(|e| e["name"] != "JAEGER_TAGS");
        }
    }
    spec
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn enable_twice_changes_nothing_the_second_time(obj in deployment(), i in intent()) {
        let (once, files) = stored(&obj, &BTreeMap::new(), &i);
        let second = plan_with(&once, &i, &[], Some(&files)).expect("plan");
        prop_assert!(second.changes.is_empty(), "second enable changed: {:?}", second.changes);
        prop_assert_eq!(second.predictors, once["spec"]["predictors"].clone());
    }

    #[test]
    fn enable_disable_enable_equals_enable(obj in deployment(), i in intent()) {
        let (enabled, files) = stored(&obj, &BTreeMap::new(), &i);
        let (disabled, files) = stored(&enabled, &files, &Intent::Disable);
        let (again, files) = stored(&disabled, &files, &i);
        // Equal but for the stamp, which rides along only with a change of the executor.
        prop_assert_eq!(unstamped(&again), unstamped(&enabled));
        let disabled_twice = plan_with(&stored(&again, &files, &Intent::Disable).0, &Intent::Disable, &[], Some(&files)).expect("plan");
        prop_assert!(disabled_twice.changes.is_empty());
    }

    #[test]
    fn after_enable_every_switchable_component_traces(obj in deployment(), i in intent()) {
        let st = status(&applied(&obj, &i), "kubectl-seldon-tracing");
        for c in st.predictors.iter().flat_map(|p| &p.components).filter(|c| c.propagation.is_some()) {
            let ok = match c.tracing {
                State::On => true,
                // A sampler from a ConfigMap is the user's to change; status says so.
                State::Unknown => c.reason.as_deref().is_some_and(|r| r.contains("comes from")),
                _ => false,
            };
            prop_assert!(ok, "{} is {:?} after enable ({:?})", c.name, c.tracing, c.reason);
        }
    }

    #[test]
    fn after_enable_b3_python_components_read_b3_from_the_plugins_file(obj in deployment(), i in intent()) {
        let Intent::Enable { propagation: Some(Propagation::B3), .. } = &i else { return Ok(()) };
        let (after, files) = stored(&obj, &BTreeMap::new(), &i);
        let ns = after["metadata"]["namespace"].as_str().unwrap_or("");
        let cm = ownfile::config_map_name(after["metadata"]["name"].as_str().unwrap_or(""));
        let mut maps = ConfigMaps::new();
        maps.insert(ns, &cm, ConfigMap::from_object(&json!({"data": files})));
        let st = status_with(&after, "kubectl-seldon-tracing", Origin::Live, &maps);
        for c in st.predictors.iter().flat_map(|p| &p.components).filter(|c| c.kind != "executor") {
            let Some(file) = &c.config_file else { continue };
            if file.config_map.as_deref() == Some(cm.as_str()) {
                prop_assert_eq!(c.propagation, Some(Propagation::B3), "{} ({:?})", c.name, c.reason);
            }
        }
        // Every Python component without a file of its own gets the plugin's.
        for c in st.predictors.iter().flat_map(|p| &p.components).filter(|c| c.propagation.is_some() && c.kind != "executor") {
            prop_assert!(c.config_file.is_some(), "{} has no config file after enable --propagation b3", c.name);
        }
    }

    #[test]
    fn enable_puts_the_executor_on_the_asked_headers_and_destination(obj in deployment(), i in intent()) {
        let Intent::Enable { propagation, collector, agent_host, agent_port, .. } = &i else { unreachable!() };
        let st = status(&applied(&obj, &i), "kubectl-seldon-tracing");
        for c in st.predictors.iter().flat_map(|p| &p.components).filter(|c| c.name == "executor") {
            if let Some(want) = propagation {
                prop_assert_eq!(c.propagation, Some(*want));
            }
            if let Some(url) = collector {
                let to_collector = matches!(&c.spans_to, Some(Destination::Collector { url: u, .. }) if u.literal() == Some(url.as_str()));
                prop_assert!(to_collector, "{:?}", c.spans_to);
            } else if agent_host.is_some() || agent_port.is_some() {
                prop_assert!(!matches!(c.spans_to, Some(Destination::Collector { .. })), "{:?}", c.spans_to);
            }
        }
    }

    #[test]
    fn after_disable_nothing_traces(obj in deployment(), i in intent()) {
        let off = applied(&applied(&obj, &i), &Intent::Disable);
        let st = status(&off, "kubectl-seldon-tracing");
        for c in st.predictors.iter().flat_map(|p| &p.components) {
            prop_assert!(c.tracing != State::On, "{} is on after disable", c.name);
        }
        let st = status(&applied(&obj, &Intent::Disable), "kubectl-seldon-tracing");
        for c in st.predictors.iter().flat_map(|p| &p.components) {
            prop_assert!(c.tracing != State::On, "{} is on after disable", c.name);
        }
    }

    #[test]
    fn everything_the_plan_does_not_name_is_preserved(obj in deployment(), i in prop_oneof![intent(), Just(Intent::Disable), Just(Intent::Sampler("probabilistic:0.5".parse().expect("sampler")))]) {
        let p = plan(&obj, &i, &[]).expect("plan");
        // Outside env lists and stub containers not a byte differs; entries the plan does not
        // name stay identical and in order; no name appears more often than before.
        let kept = invariants::plan_preserves(&obj, &p);
        prop_assert!(kept.is_ok(), "{:?}", kept);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// `--local` plans on what the YAML writer and reader make of an object: that must be the
    /// object itself, so the offline plan equals the planner on the live JSON.
    #[test]
    fn offline_plans_equal_plans_on_the_json(obj in deployment(), i in intent()) {
        let text = manifests::to_yaml(std::slice::from_ref(&obj)).expect("yaml");
        let back = manifests::parse(&text).expect("parse");
        prop_assert_eq!(back.len(), 1);
        prop_assert_eq!(&back[0], &obj, "{}", text);
        prop_assert_eq!(plan(&back[0], &i, &[]).expect("plan"), plan(&obj, &i, &[]).expect("plan"));
        // And the written result reads back as written.
        let enabled = applied(&obj, &i);
        let again = manifests::to_yaml(std::slice::from_ref(&enabled)).expect("yaml");
        prop_assert_eq!(manifests::parse(&again).expect("parse"), vec![enabled]);
    }
}

#[test]
fn unknown_predictor_lists_the_ones_there_are() {
    let obj = json!({"spec": {"predictors": [{"name": "a", "graph": {"name": "m"}}, {"name": "b", "graph": {"name": "m"}}]}});
    let err = plan(&obj, &Intent::Disable, &["c".into()]).unwrap_err();
    assert_eq!(err, "has no predictor 'c' (it has: a, b)");
}

#[test]
fn malformed_objects_are_reported_not_crashed_on() {
    let no_graph = json!({"spec": {"predictors": [{"name": "a", "svcOrchSpec": {"env": [{"value": "orphan"}]}}]}});
    let p = plan(&no_graph, &Intent::Disable, &[]).expect("plan");
    assert!(
        p.warnings
            .iter()
            .any(|w| matches!(w, Warning::NoGraph { planned: true, .. })),
        "{:?}",
        p.warnings
    );
    // The nameless entry is kept, first, untouched.
    assert_eq!(
        p.predictors[0]["svcOrchSpec"]["env"][0],
        json!({"value": "orphan"})
    );
    let bad_env = json!({"spec": {"predictors": [{"name": "a", "graph": {"name": "m"}, "svcOrchSpec": {"env": "x"}}]}});
    let err = plan(&bad_env, &Intent::Disable, &[]).unwrap_err();
    assert!(
        err.contains("spec.predictors[0] (a) svcOrchSpec.env: env is not a list"),
        "{err}"
    );
    assert!(plan(&json!({"spec": {}}), &Intent::Disable, &[]).is_err());
}
