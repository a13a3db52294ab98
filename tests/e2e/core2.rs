//! Seldon Core 2 (issue 20, first step): `status --core v2` on the control plane that serves the
//! v2 CRDs beside v1's (tests/fixtures/seldon2-crds.yaml, the atomic cluster), and its one-line
//! refusals where they are not served or not readable.

use serde_json::{Value, json};

use crate::support::*;

fn seldon_config(ns: &str, name: &str, tc: Value) -> Value {
    json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "SeldonConfig",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"components": [], "config": {"tracingConfig": tc}}})
}

fn runtime(ns: &str, config: &str, tc: Value) -> Value {
    json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "SeldonRuntime",
           "metadata": {"name": "seldon", "namespace": ns},
           "spec": {"seldonConfig": config, "config": {"tracingConfig": tc}}})
}

fn apply(c: &Cluster, objs: &[Value]) {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objs});
    c.kubectl_in(&["apply", "-f", "-"], &list.to_string()).ok();
}

fn item(c: &Cluster, ns: &str, mesh: &str) -> Value {
    let st = c
        .plugin(&[
            "status",
            "--core",
            "v2",
            "-n",
            ns,
            "--seldon-namespace",
            mesh,
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(st["kind"], "RuntimeTracingList", "{st}");
    st["items"][0].clone()
}

fn codes(item: &Value) -> Vec<String> {
    item["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["code"].as_str().map(String::from))
        .collect()
}

#[test]
fn a_runtime_is_judged_over_its_seldon_config_and_the_operators_config_map() {
    let c = atomic();
    let mesh = c.namespace("v2-mesh");
    let ns = c.namespace("v2-models");
    apply(
        &c,
        &[
            seldon_config(
                &mesh,
                "default",
                json!({"otelExporterEndpoint": "seldon-collector.seldon-mesh:4317", "otelExporterProtocol": "grpc", "ratio": "1", "disable": true}),
            ),
            runtime(&ns, "default", json!({"ratio": "0.1"})),
        ],
    );
    let it = item(&c, &ns, &mesh);
    assert_eq!(it["core"], "v2");
    assert_eq!(it["tracing"], "on", "{it}");
    assert_eq!(it["ratio"], json!({"value": "0.1", "from": "runtime"}));
    assert_eq!(
        it["otelExporterEndpoint"],
        json!({"value": "seldon-collector.seldon-mesh:4317", "from": "seldon-config"})
    );
    assert_eq!(it["disable"], false);
    assert_eq!(it["configMap"], "missing");
    assert_eq!(
        codes(&it),
        ["config-disable-ignored", "operator-not-applied"]
    );
    // The operator's ConfigMap as it would write it: current, nothing to warn about but the
    // SeldonConfig's ignored disable.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "seldon-tracing", "namespace": ns},
        "data": {"tracing.json": "{\"otelExporterEndpoint\":\"seldon-collector.seldon-mesh:4317\",\"otelExporterProtocol\":\"grpc\",\"ratio\":\"0.1\"}"}});
    apply(&c, &[cm]);
    let it = item(&c, &ns, &mesh);
    assert_eq!(it["configMap"], "current");
    assert_eq!(codes(&it), ["config-disable-ignored"]);
    let table = c
        .plugin(&[
            "status",
            "--core",
            "v2",
            "-n",
            &ns,
            "--seldon-namespace",
            &mesh,
        ])
        .ok();
    assert!(
        table.stdout.starts_with("RUNTIME")
            && table.stdout.contains("runtime+seldon-config")
            && table.stdout.contains("current"),
        "{}",
        table.stdout
    );
    // Without a ratio anywhere the components exit at their next start.
    apply(
        &c,
        &[
            seldon_config(&mesh, "bare", json!({"otelExporterEndpoint": "c:4317"})),
            runtime(&ns, "bare", json!({})),
        ],
    );
    let it = item(&c, &ns, &mesh);
    assert_eq!(it["tracing"], "invalid", "{it}");
    assert!(
        it["reason"]
            .as_str()
            .is_some_and(|r| r.contains("ratio is empty")),
        "{it}"
    );
}

#[test]
fn where_v2_is_not_served_or_not_readable_one_line_says_so() {
    for c in [
        bare(),
        cluster_from("SELDON_TRACING_TEST_ENVMAP", "env-map"),
    ] {
        let r = c.plugin(&["status", "--core", "v2", "-A"]).fails_with(1);
        assert!(
            r.stderr
                .contains("Seldon Core 2 is not installed in this cluster")
                && r.stderr.trim().lines().count() == 1,
            "{}",
            r.stderr
        );
    }
    let c = atomic();
    let ns = c.namespace("v2-rbac");
    let r = c
        .plugin_as("restricted", &["status", "--core", "v2", "-n", &ns])
        .fails_with(1);
    assert!(
        r.stderr.contains("[\"seldonruntimes\"]") && r.stderr.trim().lines().count() == 1,
        "{}",
        r.stderr
    );
    c.plugin(&["status", "--core", "v2", "--watch"])
        .fails_with(2);
}
