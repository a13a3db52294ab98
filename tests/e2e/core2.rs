//! Seldon Core 2 (issue 20, first step): `status --core v2` on the control plane that serves the
//! v2 CRDs beside v1's (tests/fixtures/seldon2-crds.yaml, the atomic cluster), and its one-line
//! refusals where they are not served or not readable.

use serde_json::{Value, json};

use crate::support::*;

fn core2_crds() -> String {
    std::path::Path::new(FIXTURES)
        .join("seldon2-crds.yaml")
        .display()
        .to_string()
}

/// Installs Seldon Core 2's test CRDs (tests/fixtures/seldon2-crds.yaml) on `c` and waits
/// until SeldonRuntimes are served: for the control planes made without them.
pub(crate) fn serve_core2(c: &Cluster) {
    c.kubectl(&["apply", "-f", &core2_crds()]).ok();
    let served = (0..120).any(|_| {
        let listed = c.kubectl(&["get", "seldonruntimes", "-A"]).code == Some(0);
        if !listed {
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        listed
    });
    assert!(served, "the v2 CRDs were not served within 60 s");
}

pub(crate) fn seldon_config(ns: &str, name: &str, tc: Value) -> Value {
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

/// Model `name` in `ns`, on Server `server` when given.
pub(crate) fn model(ns: &str, name: &str, server: Option<&str>) -> Value {
    let mut m = json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "Model",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"storageUri": "gs://seldon-models/scv2/samples/mlserver_1.7.1/iris-sklearn"}});
    if let Some(s) = server {
        m["spec"]["server"] = json!(s);
    }
    m
}

pub(crate) fn runtime(ns: &str, config: &str, tc: Value) -> Value {
    json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "SeldonRuntime",
           "metadata": {"name": "seldon", "namespace": ns},
           "spec": {"seldonConfig": config, "config": {"tracingConfig": tc}}})
}

pub(crate) fn apply(c: &Cluster, objs: &[Value]) {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objs});
    c.kubectl_in(&["apply", "-f", "-"], &list.to_string()).ok();
}

pub(crate) fn item(c: &Cluster, ns: &str, mesh: &str) -> Value {
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

/// A namespace for the operator's SeldonConfigs, holding the Helm chart's `default`, and one
/// whose runtime `seldon` names it with `tc`, plus `more` objects made for that namespace.
fn mesh_and_runtime(
    c: &Cluster,
    prefix: &str,
    tc: Value,
    more: impl FnOnce(&str) -> Vec<Value>,
) -> (String, String) {
    let mesh = c.namespace(&format!("{prefix}-mesh"));
    let ns = c.namespace(prefix);
    let mut objs = vec![helm_default(&mesh, false), runtime(&ns, "default", tc)];
    objs.extend(more(&ns));
    apply(c, &objs);
    (mesh, ns)
}

/// The plugin with `args` and `--core v2 -n ns --seldon-namespace mesh`.
fn v2_in(c: &Cluster, ns: &str, mesh: &str, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend(["--core", "v2", "-n", ns, "--seldon-namespace", mesh]);
    c.plugin(&all)
}

/// The runtime `seldon` of `ns` as stored, managedFields included.
pub(crate) fn stored_runtime(c: &Cluster, ns: &str) -> Value {
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
    let table = v2_in(&c, &ns, &mesh, &["status"]).ok();
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
/// CRDs installed and removed here, with the bare cluster held: `support::bare_in_use`).
#[test]
fn each_generation_the_cluster_serves_is_read_and_neither_gets_one_sentence() {
    let _bare = crate::support::bare_in_use();
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
    serve_core2(&c);
    let (mesh, ns) = mesh_and_runtime(&c, "v2only", json!({"ratio": "0.25"}), |_| vec![]);
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
    // v1's verbs without --core: what to use instead.
    for v1 in [
        &["enable", "iris"][..],
        &["verify", "iris"],
        &["list", "--core", "v1"],
    ] {
        let r = c.plugin(v1).fails_with(1);
        assert!(
            r.stderr.contains("this cluster serves Seldon Core 2")
                && r.stderr.contains("--core v2")
                && r.stderr.trim().lines().count() == 1,
            "{v1:?}: {}",
            r.stderr
        );
    }
    c.kubectl(&["delete", "--wait", "-f", &core2_crds()]).ok();

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
    let (mesh, ns) = mesh_and_runtime(&c, "mixed", json!({}), |_| vec![]);
    c.samples(&ns, &["single-model"]);
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
    // --expect covers both: the runtime is on, so `off` fails naming it, `on` names iris's
    // components that are not on; -l is v1's alone.
    let gate = |want: &str| {
        c.plugin(&[
            "status",
            "-n",
            &ns,
            "--seldon-namespace",
            &mesh,
            "--expect",
            want,
        ])
        .fails_with(1)
        .stderr
    };
    let off = gate("off");
    assert!(
        off.contains(&format!("{ns}/seldon: SeldonRuntime is on")) && !off.contains("iris"),
        "{off}"
    );
    let on = gate("on");
    assert!(
        on.contains("iris: predictor default") && !on.contains("SeldonRuntime is"),
        "{on}"
    );
    v2_in(&c, &ns, &mesh, &["status", "--expect", "on"]).ok();
    let v1 = with_mesh(&["status", "-l", "app=none"]);
    assert!(!v1.stdout.contains("RUNTIME"), "{}", v1.stdout);
}

#[test]
fn enable_disable_and_sampler_own_only_the_four_scalars_and_refuse_what_would_exit() {
    let c = atomic();
    let (mesh, ns) = mesh_and_runtime(&c, "v2w-models", json!({}), |_| vec![]);
    let v2 = |args: &[&str]| v2_in(&c, &ns, &mesh, args);
    let spec = |c: &Cluster| stored_runtime(c, &ns);
    // sampler: the ratio only; the values from the SeldonConfig stay there.
    let r = v2(&["sampler", "0.1"]).ok();
    assert!(
        r.stdout.contains("seldonruntime/seldon")
            && r.stdout.contains("~ ratio: 1 (seldon-config) -> 0.1"),
        "{}",
        r.stdout
    );
    // No workload reads the setting here (no operator made any): no restart to name.
    assert!(!r.stderr.contains("old setting"), "{}", r.stderr);
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
        json!({"ratio": "0.1", "disable": false})
    );
    // A disable: true written by someone else (kubectl apply): enable still turns it off.
    c.kubectl(&[
        "patch",
        "seldonruntime/seldon",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"config":{"tracingConfig":{"disable":true}}}}"#,
    ])
    .ok();
    assert_eq!(item(&c, &ns, &mesh)["tracing"], "off");
    v2(&["enable"]).ok().stdout_has("~ disable: true -> false");
    assert_eq!(item(&c, &ns, &mesh)["tracing"], "on");
    // Nothing to do: unchanged. A dry run writes nothing.
    v2(&["sampler", "0.1"]).ok().stdout_has("unchanged");
    v2(&["sampler", "0.5", "--dry-run"])
        .ok()
        .stdout_has("(dry run)");
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
    // A name with -A: that runtime in every namespace (a dry run: others' runtimes share the
    // control plane, and some of theirs fail here for want of their SeldonConfig).
    let all = c.plugin(&[
        "sampler",
        "seldon",
        "0.3",
        "--core",
        "v2",
        "-A",
        "--seldon-namespace",
        &mesh,
        "--dry-run",
        "-o",
        "json",
    ]);
    let doc = all.json();
    let namespaces: Vec<&str> = doc["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["namespace"].as_str())
        .collect();
    assert!(
        namespaces.contains(&ns.as_str()) && namespaces.contains(&bare_ns.as_str()),
        "{doc}"
    );
    assert_eq!(
        stored_runtime(&c, &ns)["spec"]["config"]["tracingConfig"]["ratio"],
        "0.1"
    );
    // As text: a line per runtime in the order listed (namespace by namespace, as the API server
    // lists them), failures on stderr, then the summary counting them, from the same run (other
    // tests' runtimes come and go meanwhile).
    let text = c.plugin(&[
        "sampler",
        "seldon",
        "0.3",
        "--core",
        "v2",
        "-A",
        "--seldon-namespace",
        &mesh,
        "--dry-run",
    ]);
    let lines = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.starts_with("seldonruntime/"))
            .map(String::from)
            .collect()
    };
    let (done, failed) = (lines(&text.stdout), lines(&text.stderr));
    let unchanged = done.iter().filter(|l| l.ends_with(" unchanged")).count();
    let summary = text.stderr.lines().last().unwrap_or("").to_string();
    assert!(
        summary.starts_with(&format!(
            "{} changed, {unchanged} unchanged, {} failed",
            done.len() - unchanged,
            failed.len()
        )),
        "{}",
        text.stderr
    );
    let namespaces: Vec<&str> = done
        .iter()
        .filter_map(|l| l.split(['(', ')']).nth(1))
        .collect();
    let mut sorted = namespaces.clone();
    sorted.sort_unstable();
    assert_eq!(namespaces, sorted, "{}", text.stdout);
    assert!(namespaces.contains(&ns.as_str()), "{}", text.stdout);
}

/// Waits until `status` says `pods` for the runtime (the controllers and the fake kubelet run).
fn until_pods(c: &Cluster, ns: &str, mesh: &str, pods: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let it = item(c, ns, mesh);
        if it["pods"] == pods {
            return it;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "pods never {pods}: {it}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

fn loaded(item: &Value) -> Vec<(String, String)> {
    item["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap_or("").to_string(),
                w["loaded"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub(crate) fn server(ns: &str, name: &str, replicas: u32, mlserver_env: Value) -> Value {
    json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "Server",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"serverConfig": "mlserver", "replicas": replicas,
                    "podSpec": {"containers": [{"name": "mlserver", "env": mlserver_env}]}}})
}

/// The operator stand-in makes the six core workloads and the Servers' StatefulSets; the
/// controllers and the fake kubelet run their pods. A change leaves them on the old setting
/// (restart needed, named with the command); `--restart --wait` rolls what must restart, after
/// the operator has written the ConfigMap, and waits for the new pods.
#[test]
fn which_pods_run_the_setting_and_restart_wait_roll_them() {
    use crate::operator2::{Operator2, reconcile};
    let c = atomic();
    let (mesh, ns) = mesh_and_runtime(&c, "v2r", json!({}), |ns| {
        vec![
            server(ns, "mlserver", 2, json!([])),
            server(
                ns,
                "traced",
                1,
                json!([{"name": "MLSERVER_TRACING_SERVER", "value": "seldon-collector.seldon-mesh:4317"}]),
            ),
        ]
    });
    reconcile(&c, &ns, &mesh);
    let it = until_pods(&c, &ns, &mesh, "current");
    assert_eq!(
        loaded(&it),
        [
            ("deployment/seldon-dataflow-engine", "current"),
            ("deployment/seldon-modelgateway", "current"),
            ("deployment/seldon-pipelinegateway", "current"),
            ("statefulset/seldon-scheduler", "current"),
            ("statefulset/mlserver", "current"),
            ("statefulset/traced", "current"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string())),
        "{it}"
    );
    assert_eq!(it["workloads"][4]["running"], 2);
    assert_eq!(it["workloads"][0]["reads"], "env");
    let codes: Vec<&str> = it["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert_eq!(codes, ["mlserver-no-spans"], "{it}");
    let text = v2_in(&c, &ns, &mesh, &["status"]).ok();
    assert!(
        text.stdout
            .contains("statefulset/mlserver (Server mlserver)")
            && text.stdout.contains("2/2")
            && text.stdout.contains("OTEL_* env"),
        "{}",
        text.stdout
    );

    // A change without --restart: every reader still runs the old setting, and says so.
    let v2 = |args: &[&str]| v2_in(&c, &ns, &mesh, args);
    let r = v2(&["sampler", "0.5"]).ok();
    assert!(
        r.stdout.contains("seldonruntime/seldon")
            && r.stdout.contains("~ ratio: 1 (seldon-config) -> 0.5"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains(
            "still on the old setting until they restart: deployment/seldon-dataflow-engine (1 pod)"
        ) && r.stderr.contains("statefulset/mlserver (2 pods)")
            && r.stderr.contains("seldon-tracing.kubectl.io/restartedAt="),
        "{}",
        r.stderr
    );
    // The operator writes the ConfigMap a second later: the pods started before it.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    reconcile(&c, &ns, &mesh);
    let it = item(&c, &ns, &mesh);
    assert_eq!(it["configMap"], "current", "{it}");
    assert_eq!(it["pods"], "restart-needed", "{it}");
    assert!(
        loaded(&it).iter().all(|(_, l)| l == "restart-needed"),
        "{it}"
    );
    let restart = it["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .find(|w| w["code"] == "restart-needed")
        .expect("restart-needed warning")["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        restart.contains("statefulset/mlserver (2 of 2)") && restart.contains("--restart=all"),
        "{restart}"
    );

    // --restart (core) with --wait: the core components roll, the Servers are named as left.
    let operator = Operator2::start(&c, &ns, &mesh);
    let r = v2(&[
        "enable",
        "--restart",
        "--wait",
        "--timeout",
        "120s",
        "-o",
        "json",
    ])
    .ok();
    let doc = r.json();
    assert_eq!(doc["kind"], "RuntimeChangeList", "{doc}");
    let it = &doc["items"][0];
    assert_eq!(it["result"], "unchanged", "{it}");
    assert_eq!(
        it["restarted"],
        json!([
            "deployment/seldon-dataflow-engine",
            "deployment/seldon-modelgateway",
            "deployment/seldon-pipelinegateway",
            "statefulset/seldon-scheduler"
        ]),
        "{it}"
    );
    assert!(
        it["warnings"].to_string().contains(
            "not restarted, still on the old setting: statefulset/mlserver, statefulset/traced"
        ),
        "{it}"
    );
    let after = loaded(it);
    assert!(
        after[..4].iter().all(|(_, l)| l == "current")
            && after[4..].iter().all(|(_, l)| l == "restart-needed"),
        "{it}"
    );
    // The operator copied the annotation into every core pod template, envoy's too.
    let annotated = c
        .kubectl(&[
            "get",
            "deployment/seldon-envoy",
            "-n",
            &ns,
            "-o",
            "jsonpath={.spec.template.metadata.annotations}",
        ])
        .ok();
    assert!(
        annotated
            .stdout
            .contains("seldon-tracing.kubectl.io/restartedAt"),
        "{}",
        annotated.stdout
    );
    // --restart=servers: the Servers now.
    let r = v2(&["enable", "--restart=servers", "--wait", "--timeout", "120s"]).ok();
    assert!(
        r.stdout.contains("seldonruntime/seldon (") && r.stdout.contains("unchanged"),
        "{}",
        r.stdout
    );
    let it = item(&c, &ns, &mesh);
    assert_eq!(it["pods"], "current", "{it}");

    // A change with --restart=all --wait: ConfigMap first, then everything rolls.
    let r = v2(&[
        "sampler",
        "0.25",
        "--restart=all",
        "--wait",
        "--timeout",
        "120s",
    ])
    .ok();
    assert!(r.stdout.contains("~ ratio: 0.5 -> 0.25"), "{}", r.stdout);
    let it = item(&c, &ns, &mesh);
    assert_eq!(it["pods"], "current", "{it}");
    assert!(it["ratio"]["value"] == "0.25", "{it}");
    drop(operator);

    // No operator: --restart gives up on the ConfigMap, restarts nothing, exit 1.
    let generation = || {
        c.kubectl(&[
            "get",
            "statefulset/seldon-scheduler",
            "-n",
            &ns,
            "-o",
            "jsonpath={.metadata.generation}",
        ])
        .ok()
        .stdout
    };
    let before = generation();
    let r = v2(&["sampler", "0.1", "--restart", "--wait", "--timeout", "3s"]).fails_with(1);
    assert!(
        r.stderr
            .contains("has not written ConfigMap seldon-tracing within 3s")
            && r.stderr.contains("nothing was restarted"),
        "{}",
        r.stderr
    );
    let after = generation();
    assert_eq!(before, after);
    v2(&["sampler", "0.1", "--restart", "--dry-run"]).fails_with(2);

    // A Helm-made runtime: helm upgrade puts the chart's values back.
    c.kubectl(&[
        "label",
        "seldonruntime/seldon",
        "-n",
        &ns,
        "app.kubernetes.io/managed-by=Helm",
    ])
    .ok();
    c.kubectl(&[
        "annotate",
        "seldonruntime/seldon",
        "-n",
        &ns,
        "meta.helm.sh/release-name=seldon-v2-runtime",
        &format!("meta.helm.sh/release-namespace={ns}"),
    ])
    .ok();
    let it = item(&c, &ns, &mesh);
    assert!(
        it["warnings"]
            .to_string()
            .contains("\"code\":\"helm-managed\"")
            && it["warnings"]
                .to_string()
                .contains("Helm release seldon-v2-runtime"),
        "{it}"
    );
}

/// With runtimes in several namespaces, `-A` reads what they need in a few cluster-wide lists;
/// each runtime's item must be exactly what reading its namespace alone gives: one namespace
/// with the operator's workloads and a Server (their pods found through the readers'
/// selectors), one with its ConfigMap only.
#[test]
fn all_namespaces_reads_each_runtime_as_its_namespace_alone_does() {
    use crate::operator2::{reconcile, write_config_maps};
    let c = atomic();
    let (mesh, full) = mesh_and_runtime(&c, "v2fleet", json!({"ratio": "0.2"}), |ns| {
        vec![server(ns, "mlserver", 1, json!([]))]
    });
    let bare = c.namespace("v2fleet-bare");
    apply(&c, &[runtime(&bare, "default", json!({"disable": true}))]);
    reconcile(&c, &full, &mesh);
    write_config_maps(&c, &bare, &mesh);
    let alone = until_pods(&c, &full, &mesh, "current");
    let bare_alone = item(&c, &bare, &mesh);
    let everywhere = c
        .plugin(&[
            "status",
            "--core",
            "v2",
            "-A",
            "--seldon-namespace",
            &mesh,
            "-o",
            "json",
        ])
        .ok()
        .json();
    let of = |ns: &str| {
        everywhere["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["namespace"] == ns)
            .cloned()
            .unwrap_or_else(|| panic!("no item for {ns} in {everywhere}"))
    };
    assert_eq!(of(&full), alone);
    assert_eq!(of(&bare), bare_alone);
    assert_eq!(
        alone["workloads"].as_array().map(Vec::len),
        Some(5),
        "{alone}"
    );
    assert_eq!(alone["workloads"][4]["running"], 1, "{alone}");
}
