//! The control plane behaves like the clusters the plugin targets: the CRD, RBAC, and the
//! server-side-apply semantics the plugin's design depends on.

use serde_json::Value;

use crate::support::*;

/// `kubectl apply --server-side --force-conflicts` of `body` as `manager`.
fn server_side_apply(c: &Cluster, ns: &str, manager: &str, body: &str) -> Run {
    c.kubectl_in(
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager",
            manager,
            "-n",
            ns,
            "-f",
            "-",
        ],
        body,
    )
}

#[test]
fn crd_is_established_and_objects_of_all_three_versions_read_back() {
    for c in both() {
        let est = c
            .kubectl(&[
                "get",
                "crd",
                "seldondeployments.machinelearning.seldon.io",
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Established\")].status}",
            ])
            .ok();
        assert_eq!(est.stdout, "True", "{}", c.variant);
        let ns = c.namespace("versions");
        for v in ["v1", "v1alpha2", "v1alpha3"] {
            let manifest = format!(
                "apiVersion: machinelearning.seldon.io/{v}\nkind: SeldonDeployment\nmetadata: {{name: m-{v}}}\n\
                 spec:\n  predictors:\n  - name: p\n    graph: {{name: m, type: MODEL}}\n"
            );
            c.kubectl_in(&["create", "-n", &ns, "-f", "-"], &manifest)
                .ok();
        }
        for written in ["v1", "v1alpha2", "v1alpha3"] {
            for read in ["v1", "v1alpha2", "v1alpha3"] {
                let res = format!("seldondeployments.{read}.machinelearning.seldon.io");
                let got = c
                    .kubectl(&[
                        "get",
                        &res,
                        "-n",
                        &ns,
                        &format!("m-{written}"),
                        "-o",
                        "json",
                    ])
                    .ok()
                    .json();
                assert_eq!(
                    got["apiVersion"],
                    format!("machinelearning.seldon.io/{read}")
                );
                assert_eq!(got["spec"]["predictors"][0]["graph"]["name"], "m");
            }
        }
    }
}

#[test]
fn restricted_user_can_list_but_is_forbidden_to_patch() {
    let c = atomic();
    let ns = c.namespace("rbac");
    c.samples(&ns, &["single-model"]);
    let kc = c.kubeconfig("restricted");
    let list = run(
        "kubectl",
        &["--kubeconfig", &kc, "get", "sdep", "-n", &ns, "-o", "name"],
        &[],
        None,
    )
    .ok();
    assert_eq!(
        list.stdout.trim(),
        "seldondeployment.machinelearning.seldon.io/iris"
    );
    run(
        "kubectl",
        &[
            "--kubeconfig",
            &kc,
            "patch",
            "sdep",
            "iris",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"name":"x"}}"#,
        ],
        &[],
        None,
    )
    .fails()
    .stderr_has("Forbidden");
    assert_eq!(c.get(&ns, "iris")["spec"]["name"], "iris");
}

#[test]
fn server_side_apply_records_the_field_manager() {
    let c = atomic();
    let ns = c.namespace("ssa");
    c.samples(&ns, &["single-model"]);
    let body = "apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: iris}\n\
                spec:\n  predictors:\n  - name: default\n    graph: {name: classifier, type: MODEL}\n";
    server_side_apply(&c, &ns, "kubectl-seldon-tracing", body).ok();
    let obj = c.get(&ns, "iris");
    let managers: Vec<(&str, &str)> = obj["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap_or(""),
                m["operation"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        managers.contains(&("kubectl-seldon-tracing", "Apply")),
        "{managers:?}"
    );
}

#[test]
fn partial_apply_of_predictors_replaces_the_whole_atomic_list() {
    // The hazard the plugin must avoid: an apply carrying one predictor drops the other.
    let c = atomic();
    let ns = c.namespace("atomic");
    c.samples(&ns, &["canary"]);
    let body = "apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: churn}\n\
                spec:\n  predictors:\n  - name: canary\n    graph: {name: churn-model, type: MODEL}\n";
    server_side_apply(&c, &ns, "naive", body).ok();
    let names: Vec<String> = c.get(&ns, "churn")["spec"]["predictors"]
        .as_array()
        .expect("predictors")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(names, vec!["canary"]);
}

#[test]
fn apply_with_a_stale_resource_version_is_refused_with_409() {
    let c = atomic();
    let ns = c.namespace("cas");
    c.samples(&ns, &["single-model"]);
    let rv = c.get(&ns, "iris")["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .to_string();
    c.kubectl(&["label", "sdep", "iris", "-n", &ns, "bumped=yes"])
        .ok();
    let body = format!(
        "apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {{name: iris, resourceVersion: \"{rv}\"}}\n\
         spec:\n  predictors:\n  - name: default\n    graph: {{name: classifier, type: MODEL}}\n"
    );
    server_side_apply(&c, &ns, "kubectl-seldon-tracing", &body)
        .fails()
        .stderr_has("the object has been modified");
    let live = c.get(&ns, "iris");
    assert!(
        live["spec"]["predictors"][0]["componentSpecs"].is_array(),
        "object changed: {live}"
    );
}

#[test]
fn version_runs_through_kubectl_plugin_discovery() {
    let c = atomic();
    let path = plugin_path();
    let kc = c.kubeconfig("admin");
    let out = run(
        "kubectl",
        &["seldon-tracing", "version", "--kubeconfig", &kc],
        &[("PATH", &path)],
        None,
    )
    .ok();
    assert!(
        out.stdout.starts_with(&format!(
            "kubectl-seldon-tracing v{}\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Server Version: v1.36.3"),
        "{}",
        out.stdout
    );
    let listed = run("kubectl", &["plugin", "list"], &[("PATH", &path)], None);
    assert!(
        listed.stdout.contains("kubectl-seldon_tracing"),
        "{}",
        listed.stdout
    );
}

#[test]
fn deployments_roll_out_on_the_fake_node_and_namespaces_finish_deleting() {
    let c = atomic();
    let ns = c.namespace("rollout");
    let k = |args: &[&str]| {
        let mut all = vec!["-n", ns.as_str()];
        all.extend_from_slice(args);
        c.kubectl(&all).ok()
    };
    k(&[
        "create",
        "deployment",
        "web",
        "--image=example/web:1",
        "--replicas=3",
    ]);
    k(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    // A changed pod template rolls: new ReplicaSet, old pods gone, all new pods ready.
    k(&["set", "env", "deployment/web", "TRACING=1"]);
    k(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    let d: Value =
        serde_json::from_str(&k(&["get", "deployment", "web", "-o", "json"]).stdout).expect("json");
    let st = &d["status"];
    assert_eq!(
        st["observedGeneration"], d["metadata"]["generation"],
        "{st}"
    );
    for field in [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
    ] {
        assert_eq!(st[field], 3, "{field}: {st}");
    }
    let pods = k(&["get", "pods", "-o", "jsonpath={range .items[*]}{.spec.nodeName} {.status.phase} {.spec.containers[0].env[0].value}{\"\\n\"}{end}"]).stdout;
    let lines: Vec<&str> = pods.lines().collect();
    assert_eq!(lines, ["kwok-node-0 Running 1"; 3], "{pods}");
    // The restricted user reads Deployments (rollout state) but cannot change them.
    let r = c.kubeconfig("restricted");
    c.kubectl(&["--kubeconfig", &r, "-n", &ns, "get", "deployments"])
        .ok();
    c.kubectl(&[
        "--kubeconfig",
        &r,
        "-n",
        &ns,
        "scale",
        "deployment/web",
        "--replicas=1",
    ])
    .fails();
    // With the namespace controller running, a namespace really goes away.
    c.kubectl(&["delete", "namespace", &ns, "--wait=true", "--timeout=60s"])
        .ok();
    let gone = c.kubectl(&["get", "namespace", &ns, "--ignore-not-found", "-o", "name"]);
    assert_eq!(gone.stdout.trim(), "", "namespace {ns} is still there");
}

/// The fake node keeps a lease (kwok renews it as a kubelet would), so kube-controller-manager
/// never marks it unhealthy: a pod that became Ready is still Ready at twice the node-monitor
/// grace period (shortened in the test control plane so this takes seconds). Without the lease
/// every pod turned unready about one grace period after `up`.
#[test]
fn the_fake_node_keeps_its_lease_and_pods_stay_ready_past_the_grace_period() {
    let c = atomic();
    let grace: u64 = std::fs::read_to_string(c.dir.join("node-grace-seconds"))
        .expect("testcluster writes the grace period it starts kube-controller-manager with")
        .trim()
        .parse()
        .expect("seconds");
    let ns = c.namespace("lease");
    let k = |args: &[&str]| {
        let mut all = vec!["-n", ns.as_str()];
        all.extend_from_slice(args);
        c.kubectl(&all).ok()
    };
    k(&["create", "deployment", "steady", "--image=example/steady:1"]);
    k(&["rollout", "status", "deployment/steady", "--timeout=60s"]);
    let ready_since = std::time::Instant::now();
    let ready = |what: &str| {
        k(&[
            "get",
            what,
            "-o",
            "jsonpath={range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}",
        ])
        .stdout
    };
    std::thread::sleep(std::time::Duration::from_secs(2 * grace));
    assert!(ready_since.elapsed().as_secs() >= 2 * grace);
    assert_eq!(ready("pods").trim(), "True", "the pod lost Ready");
    let node = c
        .kubectl(&[
            "get",
            "node",
            "kwok-node-0",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status} {.spec.taints}",
        ])
        .ok()
        .stdout;
    assert_eq!(node.trim(), "True", "node Ready and untainted: {node}");
    // The lease exists and was renewed within the grace period.
    let lease: Value = serde_json::from_str(
        &c.kubectl(&[
            "get",
            "lease",
            "kwok-node-0",
            "-n",
            "kube-node-lease",
            "-o",
            "json",
        ])
        .ok()
        .stdout,
    )
    .expect("lease json");
    let renewed = lease["spec"]["renewTime"].as_str().expect("renewTime");
    let now = run("date", &["-u", "+%s"], &[], None).ok().stdout;
    let at = run("date", &["-u", "-d", renewed, "+%s"], &[], None)
        .ok()
        .stdout;
    let since: i64 = now.trim().parse::<i64>().unwrap() - at.trim().parse::<i64>().unwrap();
    assert!(
        since <= grace as i64,
        "lease last renewed {since}s ago ({renewed})"
    );
    let st: Value = serde_json::from_str(&k(&["get", "deployment", "steady", "-o", "json"]).stdout)
        .expect("json");
    assert_eq!(st["status"]["availableReplicas"], 1, "{}", st["status"]);
}
