//! A busy control plane sheds load: API Priority and Fairness answers 429 with `Retry-After: 1`.
//! Here a user gets a priority level of about three seats that rejects instead of queueing, and a
//! bulk change by that user must still finish, every object changed.

use std::process::Command;

use crate::support::*;

const PRIORITY: &str = r#"
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata:
  name: e2e-throttled
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 1
    lendablePercent: 0
    borrowingLimitPercent: 0
    limitResponse:
      type: Reject
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: e2e-throttled
spec:
  matchingPrecedence: 100
  priorityLevelConfiguration:
    name: e2e-throttled
  rules:
  - subjects:
    - kind: User
      user:
        name: e2e-throttled
    resourceRules:
    - verbs: ["*"]
      apiGroups: ["*"]
      resources: ["*"]
      namespaces: ["*"]
      clusterScope: true
    nonResourceRules:
    - verbs: ["*"]
      nonResourceURLs: ["*"]
"#;

fn sh(cmd: &mut Command) {
    let out = cmd.output().expect("run a setup command");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A client certificate for user `e2e-throttled`, signed by the test cluster's CA, and a
/// kubeconfig that uses it.
fn throttled_kubeconfig(c: &Cluster) -> String {
    let dir = tempdir("throttled");
    let pki = c.dir.join("pki");
    let (key, csr, crt) = (dir.join("t.key"), dir.join("t.csr"), dir.join("t.crt"));
    sh(Command::new("openssl")
        .args(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .args(["-subj", "/CN=e2e-throttled", "-out"])
        .arg(&csr));
    sh(Command::new("openssl")
        .args(["x509", "-req", "-days", "1", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(pki.join("ca.crt"))
        .arg("-CAkey")
        .arg(pki.join("ca.key"))
        .arg("-CAcreateserial")
        .arg("-extfile")
        .arg(pki.join("client.ext"))
        .arg("-out")
        .arg(&crt));
    let kc = dir.join("kubeconfig");
    std::fs::copy(c.kubeconfig("admin"), &kc).expect("copy kubeconfig");
    let kc = kc.display().to_string();
    sh(Command::new("kubectl").args([
        "--kubeconfig",
        &kc,
        "config",
        "set-credentials",
        "admin",
        "--embed-certs",
        &format!("--client-certificate={}", crt.display()),
        &format!("--client-key={}", key.display()),
    ]));
    kc
}

/// Requests rejected so far at the test's priority level, from the server's own metrics.
fn rejected(c: &Cluster) -> u64 {
    let level = r#"priority_level="e2e-throttled""#;
    c.metric("apiserver_flowcontrol_rejected_requests_total", &[level])
}

/// Objects changed by the throttled user in one bulk run.
const OBJECTS: usize = 200;

/// Sets up the throttled user (cluster-admin, at the `e2e-throttled` priority level) and waits
/// until the server classifies its requests there; returns its kubeconfig.
fn throttled_user(c: &Cluster, ns: &str) -> String {
    c.kubectl_in(&["apply", "-f", "-"], PRIORITY).ok();
    c.kubectl(&[
        "create",
        "clusterrolebinding",
        &format!("{ns}-admin"),
        "--clusterrole=cluster-admin",
        "--user=e2e-throttled",
    ])
    .ok();
    c.wait_allowed("e2e-throttled", "patch", "seldondeployments", Some(ns));
    let kc = throttled_kubeconfig(c);
    // The server applies new flow-control objects asynchronously: wait until the user's
    // requests are classified into the new priority level.
    let uid = c
        .kubectl(&[
            "get",
            "flowschema",
            "e2e-throttled",
            "-o",
            "jsonpath={.metadata.uid}",
        ])
        .ok()
        .stdout;
    let classified = (0..100).any(|_| {
        let out = run(
            "kubectl",
            &["--kubeconfig", &kc, "get", "--raw", "/version", "-v=8"],
            &[],
            None,
        );
        if out
            .stderr
            .contains(&format!("X-Kubernetes-Pf-Flowschema-Uid: {uid}"))
        {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        false
    });
    assert!(classified, "the test FlowSchema never took effect");
    kc
}

#[test]
fn a_bulk_change_finishes_when_the_server_sheds_load() {
    let c = atomic();
    let ns = c.namespace("throttled");
    let kc = throttled_user(&c, &ns);
    c.many(&ns, OBJECTS);

    let before = rejected(&c);
    let started = std::time::Instant::now();
    let out = run(
        PLUGIN,
        &[
            "--kubeconfig",
            &kc,
            "enable",
            "--all",
            "-n",
            &ns,
            "--concurrency",
            "32",
        ],
        &[],
        None,
    )
    .ok();
    let took = started.elapsed();
    assert!(
        out.stderr
            .contains(&format!("{OBJECTS} changed, 0 unchanged, 0 failed")),
        "{}",
        out.stderr
    );
    let shed = rejected(&c) - before;
    assert!(shed > 0, "the server shed nothing, so nothing was retried");
    // A figure for the notes, not a timed assertion.
    eprintln!(
        "throttling: {OBJECTS} objects enabled in {:.1} s with {shed} requests shed by the server",
        took.as_secs_f64()
    );
    for i in [0, 42, OBJECTS - 1] {
        let obj = c.get(&ns, &format!("m-{i}"));
        assert!(
            env_pairs(&executor_env(&obj, 0)).contains(&"JAEGER_SAMPLER_TYPE=const".to_string()),
            "m-{i} was not enabled"
        );
    }
}

fn env_number(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The soak: repeated enable / sampler / disable cycles over many objects by the throttled user
/// while an admin relabels every object in a loop, checking after every step that every object is
/// in the state the step asked for and nothing else was lost. `make test` runs a short form (200
/// objects, 1 cycle); `make soak` the long one (SELDON_TRACING_SOAK_OBJECTS=5000, _CYCLES=3).
#[test]
fn soak_cycles_under_throttling_with_a_background_writer() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let objects = env_number("SELDON_TRACING_SOAK_OBJECTS", 200);
    let cycles = env_number("SELDON_TRACING_SOAK_CYCLES", 1);
    let c = atomic();
    let ns = c.namespace("soak");
    let kc = throttled_user(&c, &ns);
    c.many(&ns, objects);
    let (shed0, conflicts0) = (rejected(&c), c.conflicts());
    let started = std::time::Instant::now();
    let stop = AtomicBool::new(false);
    let rounds = AtomicUsize::new(0);
    std::thread::scope(|s| {
        // The background writer: relabels every object, round after round, as admin.
        s.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                let round = rounds.load(Ordering::SeqCst) + 1;
                c.relabel_all(&ns, &format!("soak=r{round}"));
                rounds.store(round, Ordering::SeqCst);
            }
        });
        let steps: [(&[&str], &str); 3] = [
            (&["enable", "--all"], "on"),
            (&["sampler", "--all", "probabilistic:0.25"], "on"),
            (&["disable", "--all"], "off"),
        ];
        for cycle in 0..cycles {
            for (args, want) in steps {
                let mut all = vec!["--kubeconfig", kc.as_str()];
                all.extend_from_slice(args);
                all.extend(["-n", &ns, "--yes"]);
                let out = run(PLUGIN, &all, &[], None).ok();
                assert!(
                    out.stderr.contains(", 0 failed"),
                    "cycle {cycle} {args:?}: {}",
                    out.stderr
                );
                // Every object in the state asked for, as the real clients would read it.
                c.plugin(&["status", "-n", &ns, "--expect", want]).ok();
            }
        }
        stop.store(true, Ordering::SeqCst);
    });
    let took = started.elapsed();
    // Nothing the writer did was lost: its last round's label is on every object; the plugin
    // left replicas and every other field alone.
    let last = format!("r{}", rounds.load(Ordering::SeqCst));
    let list = c
        .kubectl(&["get", "sdep", "-n", &ns, "-o", "json"])
        .ok()
        .json();
    for o in list["items"].as_array().expect("items") {
        let name = o["metadata"]["name"].as_str().unwrap_or("?");
        assert_eq!(o["metadata"]["labels"]["soak"], last.as_str(), "{name}");
        assert_eq!(o["spec"]["predictors"][0]["replicas"], 1, "{name}");
        let exec = env_pairs(&executor_env(o, 0));
        assert!(
            exec.contains(&"JAEGER_SAMPLER_PARAM=0.25".to_string()),
            "{name}: {exec:?}"
        );
    }
    eprintln!(
        "soak: {objects} objects, {cycles} cycles of enable/sampler/disable in {:.1} s; {} requests shed, {} conflicts retried, {} relabel rounds, 0 failures",
        took.as_secs_f64(),
        rejected(&c) - shed0,
        c.conflicts() - conflicts0,
        rounds.load(Ordering::SeqCst),
    );
}
