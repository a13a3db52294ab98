//! What runs: `status` reads the Deployments the operator made (the stand-in in operator.rs) on
//! the control plane whose controllers and kwok really roll them out.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::interactive::{exit_code, spawn_raw};
use crate::operator::{Operator, reconcile};
use crate::support::*;

fn rollout(c: &Cluster, ns: &str, name: &str) -> Value {
    let st = c
        .plugin(&["status", name, "-n", ns, "-o", "json"])
        .ok()
        .json();
    st["items"][0]["predictors"][0]["rollout"].clone()
}

/// The rollout state once the controllers have caught up (they act within a second here).
fn settled(c: &Cluster, ns: &str, name: &str, want: &str) -> Value {
    for _ in 0..60 {
        let r = rollout(c, ns, name);
        if r["state"] == want {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    panic!(
        "rollout of {name} never became {want}: {}",
        rollout(c, ns, name)
    );
}

#[test]
fn status_follows_the_operator_and_the_rollout() {
    let c = atomic();
    let ns = c.namespace("rollout-status");
    c.samples(&ns, &["single-model"]);
    // Nothing made yet: unknown.
    assert_eq!(rollout(&c, &ns, "iris")["state"], "unknown");
    reconcile(&c, &ns, "iris");
    let r = settled(&c, &ns, "iris", "current");
    assert_eq!(r["deployments"][0]["name"], "iris-default-0-classifier");
    assert_eq!(r["deployments"][0]["envMatches"], true);
    // The change is written; the operator has not acted yet: stale, and the table says so.
    c.plugin(&["enable", "iris", "-n", &ns]).ok();
    assert_eq!(rollout(&c, &ns, "iris")["state"], "stale");
    let table = c.plugin(&["status", "iris", "-n", &ns]).ok();
    assert!(
        table
            .stdout
            .lines()
            .next()
            .unwrap_or("")
            .ends_with("ROLLOUT"),
        "{}",
        table.stdout
    );
    assert_has(&table.stdout, "stale");
    // The operator applies it; the pods roll; current again, on the new env.
    reconcile(&c, &ns, "iris");
    let r = settled(&c, &ns, "iris", "current");
    assert_eq!(r["deployments"][0]["ready"], 1);
    // The restricted user reads Deployments too (a user who may not: see below).
    let st = c
        .plugin_as("restricted", &["status", "iris", "-n", &ns, "-o", "json"])
        .ok()
        .json();
    assert_eq!(
        st["items"][0]["predictors"][0]["rollout"]["state"],
        "current"
    );
}

#[test]
fn only_the_changed_predictor_goes_stale_and_list_wide_shows_the_worst() {
    let c = atomic();
    let ns = c.namespace("rollout-two");
    c.samples(&ns, &["canary"]);
    reconcile(&c, &ns, "churn");
    let states = |c: &Cluster| -> Vec<String> {
        let st = c
            .plugin(&["status", "churn", "-n", &ns, "-o", "json"])
            .ok()
            .json();
        st["items"][0]["predictors"]
            .as_array()
            .expect("predictors")
            .iter()
            .map(|p| p["rollout"]["state"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let mut settled = false;
    for _ in 0..60 {
        if states(&c) == ["current", "current"] {
            settled = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(settled, "{:?}", states(&c));
    c.plugin(&["enable", "churn", "-n", &ns, "--predictor", "canary"])
        .ok();
    assert_eq!(states(&c), ["current", "stale"]);
    let wide = c.plugin(&["list", "-n", &ns, "-o", "wide"]).ok();
    let header = wide.stdout.lines().next().unwrap_or("");
    assert!(header.ends_with("ROLLOUT"), "{}", wide.stdout);
    assert!(
        wide.stdout.lines().nth(1).unwrap_or("").ends_with("stale"),
        "{}",
        wide.stdout
    );
    // The plain list does not read Deployments and has no ROLLOUT.
    let plain = c.plugin(&["list", "-n", &ns]).ok();
    assert!(!plain.stdout.contains("ROLLOUT"), "{}", plain.stdout);
}

/// Fails showing `text` when it lacks `needle`.
fn assert_has(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} not in:\n{text}");
}

/// A new namespace holding the single-model sample `iris`, made by the stand-in and rolled out.
fn rolled_out_iris(c: &Cluster, prefix: &str) -> String {
    let ns = c.namespace(prefix);
    c.samples(&ns, &["single-model"]);
    reconcile(c, &ns, "iris");
    settled(c, &ns, "iris", "current");
    ns
}

/// [`rolled_out_iris`] with the stand-in started but held back (the operator is down).
fn iris_with_operator_down(c: &Cluster, prefix: &str) -> (String, Operator) {
    let ns = rolled_out_iris(c, prefix);
    let operator = Operator::start(c, &ns, &["iris"], true);
    (ns, operator)
}

fn deployment(c: &Cluster, ns: &str, name: &str) -> Value {
    c.kubectl(&["get", "deploy", "-n", ns, name, "-o", "json"])
        .ok()
        .json()
}

#[test]
fn enable_wait_returns_only_after_the_operator_applied_and_the_pods_rolled() {
    let c = atomic();
    let ns = rolled_out_iris(&c, "rollout-wait");
    let before = deployment(&c, &ns, "iris-default-0-classifier");
    // The operator lags: held back until 2 s after the command starts.
    let operator = Operator::start(&c, &ns, &["iris"], true);
    operator.release_after(Duration::from_secs(2));
    let started = Instant::now();
    let run = c
        .plugin(&["enable", "iris", "-n", &ns, "--wait", "--timeout", "60s"])
        .ok();
    let took = started.elapsed();
    // It returned after the operator acted: the template changed, and no sooner than the release.
    assert!(
        took >= Duration::from_secs(2),
        "returned after {took:?}:\n{}",
        run.stderr
    );
    assert!(operator.reconciles() >= 1);
    drop(operator);
    let after = deployment(&c, &ns, "iris-default-0-classifier");
    assert!(
        after["metadata"]["generation"].as_i64() > before["metadata"]["generation"].as_i64(),
        "the Deployment was not changed"
    );
    // ... and the pods rolled: every replica updated and ready on the new generation.
    assert_eq!(
        after["status"]["observedGeneration"],
        after["metadata"]["generation"]
    );
    assert_eq!(
        after["status"]["updatedReplicas"],
        after["spec"]["replicas"]
    );
    assert_eq!(after["status"]["readyReplicas"], after["spec"]["replicas"]);
    // No pod of the old template is left (it would still serve with the old env).
    assert_eq!(after["status"]["replicas"], after["spec"]["replicas"]);
    assert_eq!(rollout(&c, &ns, "iris")["state"], "current");
    // Without a terminal: one line per Deployment state, from stale to current.
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("deployment iris-default-0-classifier"))
        .collect();
    assert!(
        lines
            .first()
            .is_some_and(|l| l.ends_with("stale (old tracing env)")),
        "{}",
        run.stderr
    );
    assert!(
        lines.last().is_some_and(|l| l.ends_with("current")),
        "{}",
        run.stderr
    );
    assert_has(&run.stderr, "rolled out: 1 predictor(s) current");
}

#[test]
fn wait_times_out_naming_the_stale_predictor_when_the_operator_is_down() {
    let c = atomic();
    // No operator runs after this: nothing applies the change.
    let ns = rolled_out_iris(&c, "rollout-timeout");
    let started = Instant::now();
    let run = c
        .plugin(&[
            "sampler",
            "iris",
            "probabilistic:0.5",
            "-n",
            &ns,
            "--wait",
            "--timeout",
            "8s",
        ])
        .fails_with(1);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(8) && took < Duration::from_secs(20),
        "{took:?}"
    );
    // The write itself happened and is reported; the wait says where the predictor stands.
    assert_has(&run.stdout, "iris");
    assert_has(&run.stderr, "timed out after 8s");
    assert_has(
        &run.stderr,
        &format!(
            "{ns}/iris: predictor default: stale: Deployment iris-default-0-classifier still runs the old tracing env"
        ),
    );
}

#[test]
fn a_separate_pod_executor_rolls_out_on_its_own_deployment() {
    let c = atomic();
    let ns = c.namespace("rollout-separate");
    c.samples(&ns, &["single-model"]);
    // The operator reads spec.annotations (not metadata.annotations) for this key.
    c.kubectl(&[
        "patch",
        "sdep",
        "iris",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"annotations":{"seldon.io/engine-separate-pod":"true"}}}"#,
    ])
    .ok();
    reconcile(&c, &ns, "iris");
    let r = settled(&c, &ns, "iris", "current");
    let names: Vec<&str> = r["deployments"]
        .as_array()
        .expect("deployments")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["iris-default-0-classifier", "iris-default-svc-orch"]
    );
    // A sampler change touches only the executor, which runs in the svc-orch Deployment.
    c.plugin(&["sampler", "iris", "probabilistic:0.5", "-n", &ns])
        .ok();
    let r = rollout(&c, &ns, "iris");
    assert_eq!(r["state"], "stale");
    assert_eq!(r["deployments"][0]["envMatches"], true);
    assert_eq!(r["deployments"][1]["envMatches"], false);
    let operator = Operator::start(&c, &ns, &["iris"], false);
    c.plugin(&["enable", "iris", "-n", &ns, "--wait", "--timeout", "60s"])
        .ok()
        .stderr_has("rolled out");
    drop(operator);
    let exec = deployment(&c, &ns, "iris-default-svc-orch");
    let env = exec["spec"]["template"]["spec"]["containers"][0]["env"].to_string();
    assert!(
        env.contains(r#"{"name":"JAEGER_SAMPLER_PARAM","value":"0.5"}"#),
        "{env}"
    );
    assert_eq!(rollout(&c, &ns, "iris")["state"], "current");
}

#[test]
fn a_failed_seldon_deployment_is_named_as_the_reason() {
    let c = atomic();
    let ns = rolled_out_iris(&c, "rollout-failed");
    c.plugin(&["enable", "iris", "-n", &ns, "--sampler", "const:0"])
        .ok();
    let status = r#"{"status":{"state":"Failed","description":"Deployment.apps \"iris-default-0-classifier\" is invalid"}}"#;
    c.kubectl(&[
        "patch",
        "sdep",
        "iris",
        "-n",
        &ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        status,
    ])
    .ok();
    let r = rollout(&c, &ns, "iris");
    assert_eq!(r["state"], "stale");
    assert_eq!(
        r["reason"],
        "the operator reports the SeldonDeployment Failed: Deployment.apps \"iris-default-0-classifier\" is invalid"
    );
    let table = c.plugin(&["status", "iris", "-n", &ns]).ok();
    assert_has(&table.stdout, "stale (Failed)");
    assert_has(
        &table.stdout,
        "Rollout: iris: predictor default: stale: the operator reports the SeldonDeployment Failed",
    );
}

#[test]
fn a_user_who_may_not_list_deployments_gets_unknown_and_exit_0() {
    let c = atomic();
    let ns = c.namespace("rollout-noperm");
    c.samples(&ns, &["single-model"]);
    reconcile(&c, &ns, "iris");
    // An identity allowed to read SeldonDeployments in this namespace and nothing else.
    let reader = c.impersonating(&ns, "sdep-reader", "get,list,watch");
    let run = c
        .plugin_as(&reader, &["status", "iris", "-n", &ns, "-o", "json"])
        .ok();
    assert_has(&run.stderr, "may not list Deployments");
    let st = run.json();
    assert_eq!(
        st["items"][0]["predictors"][0]["rollout"]["state"],
        "unknown"
    );
    assert_eq!(
        st["items"][0]["predictors"][0]["rollout"]["reason"],
        "you may not list Deployments in this namespace"
    );
    // --wait cannot follow what it may not read: the change is written, the wait says why it
    // cannot confirm it, exit 1.
    let writer = c.impersonating(&ns, "sdep-writer", "get,list,watch,patch");
    let run = c
        .plugin_as(
            &writer,
            &[
                "enable",
                "iris",
                "-n",
                &ns,
                "--sampler",
                "const:0",
                "--wait",
            ],
        )
        .fails_with(1);
    assert_has(
        &run.stderr,
        &format!("cannot --wait: you may not list Deployments in namespace {ns}"),
    );
    assert!(
        c.get(&ns, "iris")
            .to_string()
            .contains("JAEGER_SAMPLER_PARAM")
    );
}

#[test]
fn watch_in_a_terminal_shows_the_change_and_ends_on_ctrl_c() {
    let c = atomic();
    // The operator is down: nothing applies the change.
    let (ns, operator) = iris_with_operator_down(&c, "rollout-watch");
    let mut p = spawn_raw(&c, &["status", "iris", "-n", &ns, "--watch"], true, &[]);
    p.exp_string("ROLLOUT").expect("the table's header");
    p.exp_string("current").expect("the first rows");
    c.plugin(&["disable", "iris", "-n", &ns]).ok();
    p.exp_string("stale")
        .expect("the rows again after the write");
    operator.release();
    p.exp_string("rolling").expect("the pods rolling");
    // Under a loaded CI machine the rollout has taken longer than one expect's 20 s.
    let deadline = Instant::now() + Duration::from_secs(90);
    while p.exp_string("current").is_err() {
        assert!(Instant::now() < deadline, "never current");
    }
    p.send_control('c').expect("ctrl-c");
    assert_eq!(exit_code(&mut p), 0);
    drop(operator);
}
