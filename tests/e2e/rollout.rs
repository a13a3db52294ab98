//! What runs: `status` reads the Deployments the operator made (the stand-in in operator.rs) on
//! the control plane whose controllers and kwok really roll them out.

use serde_json::Value;

use crate::operator::reconcile;
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
    assert!(table.stdout.contains("stale"), "{}", table.stdout);
    // The operator applies it; the pods roll; current again, on the new env.
    reconcile(&c, &ns, "iris");
    let r = settled(&c, &ns, "iris", "current");
    assert_eq!(r["deployments"][0]["ready"], 1);
    // The restricted user reads Deployments too (a user who may not is a mock test).
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
