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

/// The Helm setup chart's SeldonConfig `default` (endpoint, grpc, ratio 1), with `disable`.
fn helm_default(ns: &str, disable: bool) -> Value {
    seldon_config(
        ns,
        "default",
        json!({"otelExporterEndpoint": "seldon-collector.seldon-mesh:4317", "otelExporterProtocol": "grpc", "ratio": "1", "disable": disable}),
    )
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

/// The runtime `seldon` of `ns` as stored, managedFields included.
fn stored_runtime(c: &Cluster, ns: &str) -> Value {
    c.kubectl(&[
        "get",
        "seldonruntime",
        "seldon",
        "-n",
        ns,
        "-o",
        "json",
        "--show-managed-fields",
    ])
    .ok()
    .json()
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
            helm_default(&mesh, true),
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

/// The bare cluster serves neither generation; for a while it serves Seldon Core 2 alone (its
/// CRDs installed and removed here, in the one test that uses the bare cluster for reads).
#[test]
fn each_generation_the_cluster_serves_is_read_and_neither_gets_one_sentence() {
    let c = bare();
    let neither = "this cluster serves neither Seldon Core v1 SeldonDeployments (machinelearning.seldon.io) nor Seldon Core 2 SeldonRuntimes (mlops.seldon.io)";
    for read in [&["list"][..], &["status", "-A"], &["status", "iris"]] {
        let r = c.plugin(read).fails_with(1);
        assert!(
            r.stderr.contains(neither) && r.stderr.trim().lines().count() == 1,
            "{read:?}: {}",
            r.stderr
        );
    }
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
    c.plugin(&["list", "--core", "v1"])
        .fails_with(1)
        .stderr_has("Seldon Core's SeldonDeployment CRD is not installed");

    // v1 only (the env-map cluster): exactly what --core v1 prints, and nothing more asked for.
    let v1 = cluster_from("SELDON_TRACING_TEST_ENVMAP", "env-map");
    let ns = v1.namespace("v1only");
    v1.samples(&ns, &["single-model"]);
    let plain = v1.plugin(&["status", "-n", &ns]).ok();
    let told = v1.plugin(&["status", "--core", "v1", "-n", &ns]).ok();
    assert_eq!(plain.stdout, told.stdout);
    assert_eq!(plain.stderr, told.stderr);
    let json = v1.plugin(&["list", "-n", &ns, "-o", "json"]).ok().json();
    assert_eq!(json["kind"], "DeploymentTracingList");
    assert_eq!(json["items"][0]["core"], "v1", "{json}");

    // v2 only: the bare cluster with Seldon Core 2's CRDs.
    let crds = std::path::Path::new(FIXTURES)
        .join("seldon2-crds.yaml")
        .display()
        .to_string();
    c.kubectl(&["apply", "-f", &crds]).ok();
    let served = (0..120).any(|_| {
        let listed = c.kubectl(&["get", "seldonruntimes", "-A"]).code == Some(0);
        if !listed {
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        listed
    });
    assert!(served, "the v2 CRDs were not served within 60 s");
    let mesh = c.namespace("v2only-mesh");
    let ns = c.namespace("v2only");
    apply(
        &c,
        &[
            helm_default(&mesh, false),
            runtime(&ns, "default", json!({"ratio": "0.25"})),
        ],
    );
    let table = c
        .plugin(&["list", "-n", &ns, "--seldon-namespace", &mesh])
        .ok();
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(
        lines[0].starts_with("RUNTIME")
            && lines[1].starts_with("seldon ")
            && lines[1].contains("0.25"),
        "{}",
        table.stdout
    );
    let doc = c
        .plugin(&[
            "status",
            "seldon",
            "-n",
            &ns,
            "--seldon-namespace",
            &mesh,
            "-o",
            "yaml",
        ])
        .ok();
    let doc: Value = serde_yaml::from_str(&doc.stdout).expect("yaml");
    assert_eq!(doc["kind"], "RuntimeTracingList");
    assert_eq!(doc["items"][0]["core"], "v2");
    assert_eq!(doc["items"][0]["tracing"], "on");
    c.plugin(&["status", "other", "-n", &ns])
        .ok()
        .stderr_has("No SeldonRuntime named other in");
    c.kubectl(&["delete", "--wait", "-f", &crds]).ok();

    // Who may not list SeldonRuntimes still gets v1, told once what is left out.
    let c = atomic();
    let ns = c.namespace("v2-rbac");
    c.samples(&ns, &["single-model"]);
    let r = c
        .plugin_as("restricted", &["status", "--core", "v2", "-n", &ns])
        .fails_with(1);
    assert!(
        r.stderr.contains("[\"seldonruntimes\"]") && r.stderr.trim().lines().count() == 1,
        "{}",
        r.stderr
    );
    let r = c.plugin_as("restricted", &["list", "-n", &ns]).ok();
    assert!(
        r.stdout.starts_with("NAME") && r.stdout.contains("iris"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.starts_with("note: Seldon Core 2 left out:")
            && r.stderr.contains("seldonruntimes")
            && r.stderr.trim().lines().count() == 1,
        "{}",
        r.stderr
    );
    c.plugin(&["status", "--core", "v2", "--watch"])
        .fails_with(2);
}

/// Both generations in one namespace (a migration): one command shows both, v1 first.
#[test]
fn a_mixed_cluster_shows_both_generations_in_one_listing() {
    let c = atomic();
    let mesh = c.namespace("mixed-mesh");
    let ns = c.namespace("mixed");
    c.samples(&ns, &["single-model"]);
    apply(
        &c,
        &[
            helm_default(&mesh, false),
            runtime(&ns, "default", json!({})),
        ],
    );
    let with_mesh = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["-n", &ns, "--seldon-namespace", &mesh]);
        c.plugin(&all).ok()
    };
    for verb in ["list", "status"] {
        let text = with_mesh(&[verb]);
        let lines: Vec<&str> = text.stdout.lines().collect();
        let at = lines.iter().position(|l| l.starts_with("RUNTIME"));
        assert!(
            (lines[0].starts_with("NAME") || lines[0].starts_with("DEPLOYMENT"))
                && lines[1].starts_with("iris ")
                && at.is_some_and(|i| lines[i - 1].is_empty() && lines[i + 1].starts_with("seldon ")),
            "{}",
            text.stdout
        );
    }
    let json = with_mesh(&["status", "-o", "json"]).json();
    assert_eq!(json["kind"], "TracingStatusList");
    let cores: Vec<&str> = json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["core"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(cores, ["v1", "v2"], "{json}");
    assert_eq!(json["items"][1]["ratio"]["value"], "1", "{json}");
    // A name: the SeldonDeployment, or the runtime when that is what it names.
    let one = with_mesh(&["status", "iris", "-o", "json"]).json();
    assert_eq!(one["items"].as_array().map(Vec::len), Some(1), "{one}");
    assert_eq!(one["items"][0]["core"], "v1");
    let rt = with_mesh(&["status", "seldon", "-o", "json"]).json();
    assert_eq!(rt["items"].as_array().map(Vec::len), Some(1), "{rt}");
    assert_eq!(rt["items"][0]["core"], "v2");
    // -l, --expect: v1 alone.
    let gate = with_mesh(&["status", "--expect", "off"]);
    assert!(!gate.stdout.contains("RUNTIME"), "{}", gate.stdout);
}

#[test]
fn enable_disable_and_sampler_own_only_the_four_scalars_and_refuse_what_would_exit() {
    let c = atomic();
    let mesh = c.namespace("v2w-mesh");
    let ns = c.namespace("v2w-models");
    apply(
        &c,
        &[
            helm_default(&mesh, false),
            runtime(&ns, "default", json!({})),
        ],
    );
    let v2 = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--core", "v2", "-n", &ns, "--seldon-namespace", &mesh]);
        c.plugin(&all)
    };
    let spec = |c: &Cluster| stored_runtime(c, &ns);
    // sampler: the ratio only; the values from the SeldonConfig stay there.
    let r = v2(&["sampler", "0.1"]).ok();
    assert!(
        r.stderr.contains("seldonruntime/seldon")
            && r.stderr.contains("~ ratio: 1 (seldon-config) -> 0.1"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("kubectl rollout restart statefulset/seldon-scheduler"),
        "{}",
        r.stderr
    );
    let obj = spec(&c);
    assert_eq!(
        obj["spec"]["config"]["tracingConfig"],
        json!({"ratio": "0.1"})
    );
    assert_eq!(
        obj["spec"]["seldonConfig"], "default",
        "a field the plugin does not own changed"
    );
    let owned: Vec<&Value> = obj["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .filter(|m| m["manager"] == "kubectl-seldon-tracing")
        .collect();
    assert_eq!(owned.len(), 1);
    let fields = owned[0]["fieldsV1"]["f:spec"].to_string();
    assert!(
        fields.contains("\"f:ratio\"")
            && !fields.contains("f:seldonConfig")
            && !fields.contains("f:otelExporter"),
        "the plugin must own exactly the scalars it set: {fields}"
    );
    // disable, then enable: disable: true, then gone; status follows.
    v2(&["disable"]).ok();
    assert_eq!(spec(&c)["spec"]["config"]["tracingConfig"]["disable"], true);
    assert_eq!(item(&c, &ns, &mesh)["tracing"], "off");
    v2(&["enable"]).ok();
    assert_eq!(
        spec(&c)["spec"]["config"]["tracingConfig"],
        json!({"ratio": "0.1"})
    );
    assert_eq!(item(&c, &ns, &mesh)["tracing"], "on");
    // Nothing to do: unchanged. A dry run writes nothing.
    v2(&["sampler", "0.1"]).ok().stderr_has("unchanged");
    v2(&["sampler", "0.5", "--dry-run"])
        .ok()
        .stderr_has("(dry run)");
    assert_eq!(spec(&c)["spec"]["config"]["tracingConfig"]["ratio"], "0.1");
    // Refused before anything is read: values the components cannot use, v1 flags.
    v2(&["sampler", "1.5"]).fails_with(2);
    v2(&["enable", "--endpoint", "http://collector:4317"]).fails_with(2);
    v2(&["enable", "--propagation", "b3"]).fails_with(2);
    c.plugin(&["enable", "x", "--ratio", "0.1"]).fails_with(2);
    // A runtime whose SeldonConfig gives no endpoint: enable is refused, nothing changes.
    let bare_ns = c.namespace("v2w-bare");
    apply(
        &c,
        &[
            seldon_config(&mesh, "empty", json!({})),
            runtime(&bare_ns, "empty", json!({})),
        ],
    );
    let before = stored_runtime(&c, &bare_ns);
    let r = c
        .plugin(&[
            "enable",
            "--core",
            "v2",
            "-n",
            &bare_ns,
            "--seldon-namespace",
            &mesh,
        ])
        .fails_with(1);
    assert!(r.stderr.contains("--endpoint HOST:PORT"), "{}", r.stderr);
    let after = stored_runtime(&c, &bare_ns);
    assert_eq!(
        before["metadata"]["resourceVersion"],
        after["metadata"]["resourceVersion"]
    );
    c.plugin(&[
        "enable",
        "--core",
        "v2",
        "-n",
        &bare_ns,
        "--seldon-namespace",
        &mesh,
        "--endpoint",
        "otel.tracing:4317",
    ])
    .ok();
    let after = stored_runtime(&c, &bare_ns);
    assert_eq!(
        after["spec"]["config"]["tracingConfig"],
        json!({"otelExporterEndpoint": "otel.tracing:4317", "ratio": "1"})
    );
}
