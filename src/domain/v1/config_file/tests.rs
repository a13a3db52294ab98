//! Tests of the config file: where it comes from in a pod, and what the Python client makes of it.

use serde_json::{Value, json};

use super::mount::*;
use super::python::*;

fn settings(text: &str) -> FileSettings {
    match load(text, None) {
        Startup::Settings(s) => *s,
        other => panic!("{text:?}: {other:?}"),
    }
}

fn refused(text: &str, tags: Option<&str>) -> String {
    match load(text, tags) {
        Startup::Refused(why) => why,
        other => panic!("{text:?}: {other:?}"),
    }
}

#[test]
fn samplers_read_as_the_python_client_reads_them() {
    let s = |t: &str| settings(t).sampler;
    assert_eq!(
        s("sampler: {type: const, param: 1}"),
        FileSampler::Const(true)
    );
    assert_eq!(
        s("sampler: {type: const, param: true}"),
        FileSampler::Const(true)
    );
    assert_eq!(
        s("sampler: {type: const, param: 'TRUE'}"),
        FileSampler::Const(true)
    );
    // get_boolean(str(x)): only true/1 are true; 2 and 1.0 fall back to False.
    for t in [
        "sampler: {type: const, param: 2}",
        "sampler: {type: const, param: 1.0}",
        "sampler: {type: const}",
        "sampler: {type: const, param: 0}",
    ] {
        assert_eq!(s(t), FileSampler::Const(false), "{t}");
    }
    assert_eq!(
        s("sampler: {type: probabilistic, param: '0.01'}"),
        FileSampler::Probabilistic(0.01)
    );
    assert_eq!(
        s("sampler: {type: rate_limiting, param: 5}"),
        FileSampler::RateLimiting(5.0)
    );
    assert_eq!(s("logging: true"), FileSampler::Remote);
    assert_eq!(s("sampler: {type: ''}"), FileSampler::Remote);
    assert_eq!(s("sampler: {}"), FileSampler::Remote);
}

#[test]
fn what_the_client_refuses_at_start_is_named() {
    for (text, needle) in [
        ("sampler: {type: remote}", "Unknown sampler type remote"),
        (
            "sampler: {type: Const, param: 1}",
            "Unknown sampler type Const",
        ),
        ("sampler: {type: probabilistic}", "float() refuses"),
        (
            "sampler: {type: probabilistic, param: 2}",
            "not from 0 to 1",
        ),
        (
            "sampler: {type: probabilistic, param: .nan}",
            "not from 0 to 1",
        ),
        ("sampler: {type: ratelimiting, param: -1}", "negative"),
        ("sampler: {type: ratelimiting, param: abc}", "float()"),
        ("sampler: const", "calls .get"),
        ("sampler:", "calls .get"),
        ("metrics: false", "Unexpected keys found in config:metrics"),
        ("a: 1\nb: 2\nlogging: true", "config:a,b"),
        ("service_name: ''", "service_name required"),
        ("", "empty"),
        ("- a\n- b", "a list"),
        ("sampler: {type: const\n", "not YAML"),
        ("reporter_queue_size: lots", "int() refuses"),
        ("tags: [a, b]", "not a mapping"),
    ] {
        let why = refused(text, None);
        assert!(why.contains(needle), "{text:?}: {why}");
    }
    assert!(refused("logging: true", Some("a=1,b=2=3")).contains("\"b=2=3\""));
    assert!(refused("logging: true", Some("a=1,")).contains("\"\""));
    assert!(refused("tags:\n", Some("a=1")).contains("null"));
    assert!(matches!(
        load("tags: {x: y}", Some("a=1")),
        Startup::Settings(_)
    ));
}

#[test]
fn yaml_1_1_booleans_and_duplicates_are_not_guessed() {
    for text in [
        "sampler: {type: const, param: yes}",
        "sampler: {type: probabilistic, param: on}",
        "logging: true\nlogging: false",
    ] {
        assert!(matches!(load(text, None), Startup::Unsure(_)), "{text}");
    }
}

#[test]
fn agent_propagation_and_service_name_come_from_the_file() {
    let s = settings(
        "local_agent: {reporting_host: jaeger.tracing, reporting_port: '6832', sampling_port: 5779}\npropagation: b3\nservice_name: fraud\nenabled: false\n",
    );
    assert_eq!(s.host.as_deref(), Some("jaeger.tracing"));
    assert_eq!(s.port, Some(6832));
    assert_eq!(s.sampling_port, 5779);
    assert!(s.b3 && s.enabled_false);
    assert_eq!(s.service_name.as_deref(), Some("fraud"));
    let s = settings("local_agent: {reporting_port: x}\npropagation: B3");
    assert_eq!((s.host, s.port), (None, None));
    assert_eq!((s.b3, s.not_b3.as_deref()), (false, Some("B3")));
}

#[test]
fn python_float_follows_cpython() {
    for (s, v) in [
        (" 0.5 ", 0.5),
        ("1_0", 10.0),
        ("1e-2", 0.01),
        (".5", 0.5),
        ("-0", 0.0),
    ] {
        assert_eq!(python_float(s), Ok(v), "{s}");
    }
    assert!(python_float("inf").unwrap().is_infinite());
    assert!(python_float("NaN").unwrap().is_nan());
    for s in ["", "_1", "1_", "1__0", "0x1p-1", "1,5", "--1", "one"] {
        assert!(python_float(s).is_err(), "{s}");
    }
}

fn pod(volumes: Value) -> Value {
    json!({"volumes": volumes})
}

fn container(mounts: Value) -> Value {
    json!({"name": "m", "volumeMounts": mounts})
}

#[test]
fn the_longest_mount_holding_the_path_decides() {
    let pod = pod(json!([
        {"name": "outer", "emptyDir": {}},
        {"name": "cfg", "configMap": {"name": "tracing"}},
        {"name": "sec", "secret": {"secretName": "s"}}
    ]));
    let c = container(json!([
        {"name": "outer", "mountPath": "/etc"},
        {"name": "cfg", "mountPath": "/etc/jaeger/"},
        {"name": "sec", "mountPath": "/secret"}
    ]));
    let cand = |key: &str| {
        Place::ConfigMaps(vec![Candidate {
            name: "tracing".into(),
            key: key.into(),
            optional: false,
            listed: false,
        }])
    };
    assert_eq!(
        locate(&pod, &c, "/etc/jaeger/config.yaml"),
        cand("config.yaml")
    );
    assert_eq!(
        locate(&pod, &c, "/etc/jaeger/./x//config.yaml"),
        Place::ConfigMaps(vec![])
    );
    assert_eq!(locate(&pod, &c, "/etc/x/../jaeger/a.yaml"), cand("a.yaml"));
    assert!(
        matches!(locate(&pod, &c, "/etc/other.yaml"), Place::Volume { kind, .. } if kind == "emptyDir")
    );
    assert_eq!(
        locate(&pod, &c, "/secret/c.yaml"),
        Place::Secret("s".into())
    );
    assert_eq!(locate(&pod, &c, "/opt/c.yaml"), Place::Image);
    assert_eq!(locate(&pod, &c, "c.yaml"), Place::Image);
}

#[test]
fn items_sub_paths_and_projected_sources_map_paths_to_keys() {
    let pod = pod(json!([
        {"name": "cfg", "configMap": {"name": "t", "optional": true,
            "items": [{"key": "model.yaml", "path": "jaeger/config.yaml"}]}},
        {"name": "proj", "projected": {"sources": [
            {"configMap": {"name": "a", "items": [{"key": "k", "path": "other"}]}},
            {"configMap": {"name": "b"}},
            {"secret": {"name": "s", "items": [{"key": "x", "path": "x.yaml"}]}}
        ]}}
    ]));
    let c = container(json!([
        {"name": "cfg", "mountPath": "/cfg"},
        {"name": "cfg", "mountPath": "/one/config.yaml", "subPath": "jaeger/config.yaml"},
        {"name": "proj", "mountPath": "/proj"},
        {"name": "gone", "mountPath": "/gone"}
    ]));
    let listed = Place::ConfigMaps(vec![Candidate {
        name: "t".into(),
        key: "model.yaml".into(),
        optional: true,
        listed: true,
    }]);
    assert_eq!(locate(&pod, &c, "/cfg/jaeger/config.yaml"), listed);
    assert_eq!(locate(&pod, &c, "/one/config.yaml"), listed);
    assert_eq!(
        locate(&pod, &c, "/proj/c.yaml"),
        Place::ConfigMaps(vec![Candidate {
            name: "b".into(),
            key: "c.yaml".into(),
            optional: false,
            listed: false
        }])
    );
    assert_eq!(locate(&pod, &c, "/proj/x.yaml"), Place::Secret("s".into()));
    assert!(matches!(locate(&pod, &c, "/gone/c.yaml"), Place::Broken(_)));
}

#[test]
fn a_missing_config_map_or_key_is_told_apart_from_one_not_read() {
    let cand = |optional, listed| {
        Place::ConfigMaps(vec![Candidate {
            name: "t".into(),
            key: "c.yaml".into(),
            optional,
            listed,
        }])
    };
    let mut maps = ConfigMaps::new();
    assert!(matches!(
        file(&maps, "ns", &cand(false, false)),
        File::Unknown(_)
    ));
    assert_eq!(
        file(&ConfigMaps::unread(), "ns", &cand(false, false)),
        File::Unread
    );
    maps.insert("ns", "t", ConfigMap::Missing);
    assert!(matches!(
        file(&maps, "ns", &cand(false, false)),
        File::MountFails(_)
    ));
    assert!(matches!(
        file(&maps, "ns", &cand(true, true)),
        File::Missing(_)
    ));
    maps.insert(
        "ns",
        "t",
        ConfigMap::from_object(&json!({"data": {"other": "x"}, "binaryData": {"b.yaml": ""}})),
    );
    assert!(matches!(
        file(&maps, "ns", &cand(false, true)),
        File::MountFails(_)
    ));
    assert!(matches!(
        file(&maps, "ns", &cand(false, false)),
        File::Missing(_)
    ));
    maps.insert(
        "ns",
        "t",
        ConfigMap::from_object(&json!({"data": {"c.yaml": "logging: true"}})),
    );
    assert_eq!(
        file(&maps, "ns", &cand(false, false)),
        File::Text {
            text: "logging: true".into(),
            config_map: "t".into(),
            key: "c.yaml".into()
        }
    );
    maps.insert("ns", "t", ConfigMap::NotRead("forbidden".into()));
    assert!(
        matches!(file(&maps, "ns", &cand(false, false)), File::Unknown(w) if w.contains("forbidden"))
    );
}
