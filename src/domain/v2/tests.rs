//! Tests of Seldon Core 2's domain: the merge and verdict, status and warnings, the write plan
//! (they share the runtime and SeldonConfig fixtures).

use serde_json::{Value, json};

use super::plan::*;
use super::setting::*;
use super::status::*;
use super::*;
use crate::domain::v2::workloads::Freshness;

fn runtime(tc: Value) -> Value {
    json!({"metadata": {"name": "seldon", "namespace": "models"},
           "spec": {"seldonConfig": "default", "config": {"tracingConfig": tc}}})
}

fn config(tc: Value) -> Value {
    json!({"metadata": {"name": "default", "namespace": "seldon-mesh"},
           "spec": {"config": {"tracingConfig": tc}}})
}

fn helm_default() -> Value {
    config(
        json!({"otelExporterEndpoint": "seldon-collector.seldon-mesh:4317", "otelExporterProtocol": "grpc", "ratio": "1"}),
    )
}

#[test]
fn the_runtime_wins_each_empty_field_comes_from_the_config_and_disable_only_from_the_runtime() {
    let e = effective(
        &runtime(json!({"ratio": "0.1", "otelExporterEndpoint": ""})),
        Some(&helm_default()),
    );
    assert_eq!(
        e.ratio,
        Setting {
            value: Some("0.1".into()),
            from: Source::Runtime
        }
    );
    assert_eq!(e.endpoint.from, Source::SeldonConfig);
    assert_eq!(e.protocol.value.as_deref(), Some("grpc"));
    assert_eq!(verdict(&e), Verdict::On);
    assert_eq!(
        e.tracing_json(),
        json!({"otelExporterEndpoint": "seldon-collector.seldon-mesh:4317", "otelExporterProtocol": "grpc", "ratio": "0.1"})
    );
    let off_in_config =
        config(json!({"disable": true, "ratio": "1", "otelExporterEndpoint": "c:4317"}));
    let e = effective(&runtime(json!({})), Some(&off_in_config));
    assert!(!e.disable);
    assert_eq!(verdict(&e), Verdict::On);
    let e = effective(&runtime(json!({"disable": true})), None);
    assert_eq!(verdict(&e), Verdict::Off);
    assert_eq!(e.tracing_json(), json!({"disable": true}));
}

#[test]
fn settings_the_components_exit_on_are_invalid_and_ratio_zero_is_idle() {
    for (tc, needle) in [
        (json!({"otelExporterEndpoint": "c:4317"}), "ratio is empty"),
        (
            json!({"ratio": "1", "otelExporterEndpoint": ""}),
            "Endpoint is empty",
        ),
        (
            json!({"ratio": "lots", "otelExporterEndpoint": "c:4317"}),
            "not a number",
        ),
        (
            json!({"ratio": " 1", "otelExporterEndpoint": "c:4317"}),
            "not a number",
        ),
    ] {
        match verdict(&effective(&runtime(tc.clone()), None)) {
            Verdict::Invalid(why) => assert!(why.contains(needle), "{tc}: {why}"),
            v => panic!("{tc}: {v:?}"),
        }
    }
    let idle = effective(
        &runtime(json!({"ratio": "0", "otelExporterEndpoint": "c:4317"})),
        None,
    );
    assert!(matches!(verdict(&idle), Verdict::Idle(_)));
    // The harness saw: a ratio under 2^-63 samples nothing, NaN everything (amd64), as do
    // hexadecimal floats and ratios above 1 what their value says.
    let word = |r: &str| {
        verdict(&effective(
            &runtime(json!({"ratio": r, "otelExporterEndpoint": "c:4317"})),
            None,
        ))
        .words()
        .0
    };
    for (r, w) in [
        ("1e-20", "idle"),
        ("1.1e-19", "on"),
        ("-1", "idle"),
        ("NaN", "on"),
        ("0x1p-1", "on"),
        ("2", "on"),
        ("10%", "invalid"),
    ] {
        assert_eq!(word(r), w, "{r}");
    }
    let nan = runtime_status(
        &runtime(json!({"ratio": "NaN", "otelExporterEndpoint": "c:4317"})),
        &ConfigMapRead::Missing,
        "seldon-mesh",
        &ConfigMapRead::Missing,
    );
    assert!(nan.warnings.iter().any(|w| w.code == "ratio-nan"));
    // Off skips the checks, as loadConfig does.
    let off = effective(&runtime(json!({"disable": true, "ratio": "x"})), None);
    assert_eq!(verdict(&off), Verdict::Off);
}

#[test]
fn a_runtime_is_judged_with_its_config_and_the_operators_config_map() {
    let rt = runtime(json!({"ratio": "0.1"}));
    let mut sc = helm_default();
    sc["spec"]["config"]["tracingConfig"]["disable"] = json!(true);
    let cm = ConfigMapRead::Found(json!({"data": {"tracing.json": r#"{"ratio":"1"}"#}}));
    let st = runtime_status(&rt, &ConfigMapRead::Found(sc), "seldon-mesh", &cm);
    assert_eq!((st.tracing, st.config_map), ("on", "differs"));
    let codes: Vec<&str> = st.warnings.iter().map(|w| w.code).collect();
    // The ConfigMap as it is has no endpoint: a pod starting now would exit.
    assert_eq!(
        codes,
        [
            "config-disable-ignored",
            "operator-not-applied",
            "config-map-invalid"
        ]
    );
    assert_eq!(
        st.config_map_tracing.as_ref().map(|f| f.tracing),
        Some("invalid")
    );
    let unread = runtime_status(
        &rt,
        &ConfigMapRead::NotRead("forbidden".into()),
        "seldon-mesh",
        &ConfigMapRead::Missing,
    );
    assert_eq!(unread.tracing, "unknown");
    assert_eq!(unread.config_map, "missing");
    let json = serde_json::to_value(&st).unwrap();
    assert_eq!(json["core"], "v2");
    assert_eq!(json["ratio"], json!({"value": "0.1", "from": "runtime"}));
    assert_eq!(json["otelExporterEndpoint"]["from"], "seldon-config");
}

#[test]
fn changes_keep_what_the_runtime_holds_and_refuse_what_the_components_exit_on() {
    let sc = helm_default();
    let rt = runtime(json!({"ratio": "0.5", "otelExporterProtocol": "grpc"}));
    let set = |ratio: &str| Intent {
        ratio: Some(ratio.into()),
        ..Intent::default()
    };
    let (tc, fields) = plan(&rt, Some(&sc), &set("0.1")).unwrap();
    assert_eq!(tc, json!({"ratio": "0.1", "otelExporterProtocol": "grpc"}));
    assert_eq!(fields[0].diff_line(), "~ ratio: 0.5 -> 0.1");
    // disable owns only disable: true; enable takes it out again.
    let (off, _) = plan(
        &rt,
        Some(&sc),
        &Intent {
            disable: Some(true),
            ..Intent::default()
        },
    )
    .unwrap();
    assert_eq!(off["disable"], true);
    let off_rt = runtime(off);
    let enable = Intent {
        disable: Some(false),
        enable: true,
        ..Intent::default()
    };
    let (on, fields) = plan(&off_rt, Some(&sc), &enable).unwrap();
    // disable: false, not left out: a `disable: true` another manager owns would survive.
    assert_eq!(on["disable"], false);
    assert!(fields.iter().any(|f| f.field == "disable"));
    let (untouched, _) = plan(&runtime(json!({"ratio": "0.5"})), Some(&sc), &enable).unwrap();
    assert_eq!(untouched, json!({"ratio": "0.5"}));
    // Nowhere an endpoint: enable is refused with the fix; a ratio is filled in.
    let bare = runtime(json!({}));
    let err = plan(
        &bare,
        None,
        &Intent {
            enable: true,
            disable: Some(false),
            ..Intent::default()
        },
    )
    .unwrap_err();
    assert!(err.contains("--endpoint HOST:PORT"), "{err}");
    let (tc, _) = plan(
        &bare,
        None,
        &Intent {
            enable: true,
            endpoint: Some("c:4317".into()),
            ..Intent::default()
        },
    )
    .unwrap();
    assert_eq!(tc, json!({"otelExporterEndpoint": "c:4317", "ratio": "1"}));
    for bad in ["http://c:4317", "c", "c:0", ":4317", "c:4317/v1"] {
        assert!(check_endpoint(bad).is_err(), "{bad}");
    }
    for bad in ["1.5", "-0.1", " 0.1", "x"] {
        assert!(check_ratio(bad).is_err(), "{bad}");
    }
    assert!(check_protocol("http").is_err());
}

#[test]
fn every_code_is_documented() {
    let docs = include_str!("../../../docs/output.md");
    for (code, _) in CODES {
        assert!(
            docs.contains(&format!("| `{code}` |")),
            "docs/output.md lacks {code}"
        );
    }
}

#[test]
fn the_config_map_is_compared_as_json() {
    let e = effective(&runtime(json!({})), Some(&helm_default()));
    let cm = |text: &str| json!({"data": {"tracing.json": text}});
    assert_eq!(applied(&e, None), ConfigMapState::Missing);
    assert_eq!(
        applied(
            &e,
            Some(&cm(
                r#"{"ratio":"1","otelExporterProtocol":"grpc","otelExporterEndpoint":"seldon-collector.seldon-mesh:4317"}"#
            ))
        ),
        ConfigMapState::Same
    );
    assert!(matches!(
        applied(&e, Some(&cm(r#"{"ratio":"0.5"}"#))),
        ConfigMapState::Differs { .. }
    ));
}

#[test]
fn helm_gitops_and_other_appliers_are_named() {
    let mut rt = runtime(json!({"ratio": "0.1"}));
    assert!(managed_warnings(&rt, "kubectl-seldon-tracing").is_empty());
    rt["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "Helm"});
    rt["metadata"]["annotations"] = json!({"meta.helm.sh/release-name": "runtime",
        "meta.helm.sh/release-namespace": "models",
        "argocd.argoproj.io/tracking-id": "app:mlops.seldon.io/SeldonRuntime:models/seldon"});
    rt["metadata"]["managedFields"] = json!([
        {"manager": "kubectl-seldon-tracing", "operation": "Apply",
         "fieldsV1": {"f:spec": {"f:config": {"f:tracingConfig": {"f:ratio": {}}}}}},
        {"manager": "kustomize-controller", "operation": "Apply",
         "fieldsV1": {"f:spec": {"f:config": {"f:tracingConfig": {"f:ratio": {}}}}}},
        {"manager": "kubectl-client-side-apply", "operation": "Update",
         "fieldsV1": {"f:spec": {"f:config": {"f:tracingConfig": {"f:ratio": {}}}}}},
        {"manager": "other", "operation": "Apply",
         "fieldsV1": {"f:spec": {"f:overrides": {}}}}]);
    let warnings = managed_warnings(&rt, "kubectl-seldon-tracing");
    let codes: Vec<&str> = warnings.iter().map(|w| w.code).collect();
    assert_eq!(codes, ["helm-managed", "managed-by", "argocd-tracked"]);
    assert!(
        warnings[0]
            .message
            .contains("Helm release runtime (namespace models)")
    );
    assert!(
        warnings[1]
            .message
            .contains("field manager kustomize-controller")
    );
}

fn reader_sts(name: &str, owner: Option<&str>) -> Value {
    let owners: Vec<Value> = owner
        .map(|s| json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "Server", "name": s}))
        .into_iter()
        .collect();
    json!({"metadata": {"name": name, "ownerReferences": owners}, "spec": {"replicas": 1,
        "selector": {"matchLabels": {"app": name}},
        "template": {"spec": {"volumes": [{"name": "t", "configMap": {"name": CONFIG_MAP}}],
            "containers": [{"name": "agent", "volumeMounts": [{"name": "t", "mountPath": "/mnt/tracing"}]},
                           {"name": "mlserver"}]}}}})
}

fn started_pod(app: &str, at: &str) -> Value {
    json!({"metadata": {"labels": {"app": app}}, "status": {"containerStatuses": [
        {"name": "agent", "state": {"running": {"startedAt": at}}}]}})
}

#[test]
fn pods_before_the_write_owe_a_restart_and_a_config_map_behind_is_awaited() {
    let rt = runtime(json!({}));
    let sc = ConfigMapRead::Found(helm_default());
    let e = effective(&rt, Some(&helm_default()));
    let cm = ConfigMapRead::Found(json!({"metadata": {"managedFields": [
        {"manager": "manager", "time": "2026-11-30T12:00:00Z", "fieldsV1": {"f:data": {}}}]},
        "data": {"tracing.json": e.tracing_json().to_string()}}));
    let sts = [
        reader_sts("seldon-scheduler", None),
        reader_sts("mlserver", Some("mlserver")),
    ];
    let pods = [
        started_pod("seldon-scheduler", "2026-11-30T11:00:00Z"),
        started_pod("mlserver", "2026-11-30T12:00:01Z"),
    ];
    let running = Running {
        deployments: &[],
        statefulsets: &sts,
        pods: Some(&pods),
    };
    let mut st = runtime_status(&rt, &sc, "seldon-mesh", &cm);
    attach_running(&mut st, &cm, Some(&running));
    assert_eq!(st.config_map, "current");
    assert_eq!(st.pods, Freshness::RestartNeeded);
    let codes: Vec<&str> = st.warnings.iter().map(|w| w.code).collect();
    assert_eq!(codes, ["restart-needed", "mlserver-no-spans"]);
    assert!(
        st.warnings[0]
            .message
            .contains("statefulset/seldon-scheduler (1 of 1)")
            && st.warnings[0]
                .message
                .contains("enable --core v2 -n models --restart`"),
        "{}",
        st.warnings[0].message
    );
    // The operator has not written the setting: the pods cannot run it yet.
    let behind = ConfigMapRead::Found(json!({"data": {"tracing.json": "{\"ratio\":\"0.5\"}"}}));
    let mut st = runtime_status(&rt, &sc, "seldon-mesh", &behind);
    attach_running(&mut st, &behind, Some(&running));
    assert_eq!(st.pods, Freshness::AwaitingOperator);
    // Tracing off: MLServer's silence is what was asked, no warning.
    let off_rt = runtime(json!({"disable": true}));
    let mut st = runtime_status(&off_rt, &sc, "seldon-mesh", &cm);
    attach_running(&mut st, &cm, Some(&running));
    assert!(
        !st.warnings.iter().any(|w| w.code == "mlserver-no-spans"),
        "{:?}",
        st.warnings
    );
    // Pods not listable: unknown, said once.
    let mut st = runtime_status(&rt, &sc, "seldon-mesh", &cm);
    attach_running(&mut st, &cm, None);
    assert_eq!(st.pods, Freshness::Unknown);
    assert!(st.warnings.iter().any(|w| w.code == "pods-unread"));
}

#[test]
fn a_file_is_judged_as_encoding_json_decodes_it_strictly() {
    let word = |t: &str| file_verdict(t).words().0;
    let ep = r#""otelExporterEndpoint":"c:4317""#;
    assert_eq!(word(&format!(r#"{{{ep},"ratio":"1"}}"#)), "on");
    assert_eq!(word(&format!(r#"{{{ep},"ratio":"0"}}"#)), "idle");
    // Keys match case-insensitively (the struct tag is "Ratio"); the last repeat wins.
    assert_eq!(word(&format!(r#"{{{ep},"RATIO":"0.5"}}"#)), "on");
    assert_eq!(
        word(&format!(r#"{{{ep},"ratio":"1","ratio":"0"}}"#)),
        "idle"
    );
    // null leaves a field as it was: no ratio.
    assert_eq!(word(&format!(r#"{{{ep},"ratio":null}}"#)), "invalid");
    assert_eq!(word("null"), "invalid");
    // Fatal at start: an unknown key, a number for a string, a string for a bool.
    for bad in [
        format!(r#"{{{ep},"ratio":"1","enable":true}}"#),
        format!(r#"{{{ep},"ratio":1}}"#),
        format!(r#"{{{ep},"ratio":"1","disable":"false"}}"#),
        "[]".to_string(),
        String::new(),
        "{".to_string(),
    ] {
        assert_eq!(word(&bad), "invalid", "{bad}");
    }
    assert!(
        file_verdict(r#"{"ratio":1}"#)
            .words()
            .1
            .is_some_and(|w| w.contains("write it quoted"))
    );
    // Disabled: nothing else is checked.
    assert_eq!(word(r#"{"disable":true}"#), "off");
    // Only the first value is read.
    assert_eq!(word(&format!(r#"{{{ep},"ratio":"1"}} trailing"#)), "on");
}
