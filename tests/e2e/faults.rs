//! A control plane that goes away in the middle of a bulk change: kube-apiserver is killed
//! (`scripts/testcluster stop-apiserver`, SIGKILL, connections reset) and started again on the
//! same port and data. A short restart must fail nothing; one longer than the plugin's outage
//! budget (30 s) fails what is left, truthfully, and a second run finishes the job.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// The tests here stop the same kube-apiserver: one at a time.
static SERVER: Mutex<()> = Mutex::new(());

fn testcluster(c: &Cluster, what: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/testcluster");
    let dir = c.dir.display().to_string();
    run(script, &[what, &dir], &[], None).ok();
}

/// Whether each object's executor has the sampler `enable` writes (JAEGER_SAMPLER_TYPE).
fn enabled(c: &Cluster, ns: &str) -> BTreeMap<String, bool> {
    let list = c
        .kubectl(&["get", "sdep", "-n", ns, "-o", "json"])
        .ok()
        .json();
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| {
            let env = env_pairs(&executor_env(o, 0));
            let name = o["metadata"]["name"].as_str().unwrap_or("").to_string();
            (
                name,
                env.iter().any(|e| e.starts_with("JAEGER_SAMPLER_TYPE=")),
            )
        })
        .collect()
}

/// A running `enable --all -n NS --concurrency 2 --yes -o json` whose pipes are drained while it
/// runs (a report that fills a pipe would block it from ending).
struct Running {
    child: std::process::Child,
    stdout: std::thread::JoinHandle<Vec<u8>>,
    stderr: std::thread::JoinHandle<Vec<u8>>,
}

/// How a run ended: its exit code, the report's items by name, and its stderr.
struct Ended {
    code: Option<i32>,
    report: BTreeMap<String, Value>,
    stderr: String,
}

impl Running {
    fn enable_all(c: &Cluster, ns: &str) -> Running {
        Running::start(c, &["enable", "--all", "-n", ns])
    }

    /// `sampler --core v2 -n NS 0.5` on every runtime of `ns` (their SeldonConfig is in `ns`).
    fn sample_runtimes(c: &Cluster, ns: &str) -> Running {
        let args = [
            "sampler",
            "--core",
            "v2",
            "-n",
            ns,
            "--seldon-namespace",
            ns,
            "0.5",
        ];
        Running::start(c, &args)
    }

    /// The plugin with `args`, `--concurrency 2 --yes -o json`.
    fn start(c: &Cluster, args: &[&str]) -> Running {
        let kc = c.kubeconfig("admin");
        let mut child = Command::new(PLUGIN)
            .args(["--kubeconfig", &kc])
            .args(args)
            .args(["--concurrency", "2", "--yes", "-o", "json"])
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the plugin");
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut all = Vec::new();
                pipe.read_to_end(&mut all)
                    .expect("read the plugin's output");
                all
            })
        };
        let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
        let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
        Running {
            child,
            stdout,
            stderr,
        }
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().expect("poll the plugin").is_none()
    }

    fn wait(mut self) -> Ended {
        let status = self.child.wait().expect("wait for the plugin");
        let stdout = self.stdout.join().expect("stdout");
        let stderr = String::from_utf8_lossy(&self.stderr.join().expect("stderr")).into_owned();
        let report: Value = serde_json::from_slice(&stdout)
            .unwrap_or_else(|e| panic!("the report is not JSON ({e}); stderr:\n{stderr}"));
        let report = report["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| (i["name"].as_str().unwrap_or("").to_string(), i.clone()))
            .collect();
        Ended {
            code: status.code(),
            report,
            stderr,
        }
    }
}

/// Runs `enable --all` on `ns`; after `cut_after` kills kube-apiserver and starts it again
/// `down_for` later. Also says when the plugin ended while the server was still down.
fn enable_through_an_outage(
    c: &Cluster,
    ns: &str,
    cut_after: Duration,
    down_for: Duration,
) -> (Ended, Option<Duration>) {
    through_an_outage(c, Running::enable_all(c, ns), cut_after, down_for)
}

/// `run`; after `cut_after` kills kube-apiserver and starts it again `down_for` later.
fn through_an_outage(
    c: &Cluster,
    mut run: Running,
    cut_after: Duration,
    down_for: Duration,
) -> (Ended, Option<Duration>) {
    std::thread::sleep(cut_after);
    assert!(
        run.running(),
        "the run ended before the server was cut: nothing was tested"
    );
    let stopped = Instant::now();
    testcluster(c, "stop-apiserver");
    let mut gave_up = None;
    while stopped.elapsed() < down_for {
        if gave_up.is_none() && !run.running() {
            gave_up = Some(stopped.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    testcluster(c, "start-apiserver");
    eprintln!(
        "kube-apiserver was down for {:?}; the plugin ended {gave_up:?} into the outage",
        stopped.elapsed()
    );
    (run.wait(), gave_up)
}

#[test]
fn a_three_second_restart_during_a_bulk_enable_fails_no_object() {
    let _one = SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let c = faults();
    let ns = c.namespace("fault-short");
    c.many(&ns, 600);
    let started = Instant::now();
    let (
        Ended {
            code,
            report,
            stderr,
        },
        gave_up,
    ) = enable_through_an_outage(&c, &ns, Duration::from_millis(1500), Duration::from_secs(3));
    eprintln!("600 objects through a restart in {:?}", started.elapsed());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(gave_up, None, "it must wait for the server: {stderr}");
    assert_eq!(report.len(), 600);
    let states = enabled(&c, &ns);
    for (name, item) in &report {
        assert_eq!(item["result"], "changed", "{name}: {item}");
        assert_eq!(states.get(name), Some(&true), "{name} is not enabled");
    }
}

#[test]
fn a_restart_longer_than_the_budget_fails_the_rest_truthfully_and_a_rerun_finishes() {
    let _one = SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let c = faults();
    let ns = c.namespace("fault-long");
    c.many(&ns, 600);
    let before = enabled(&c, &ns);
    assert!(before.values().all(|on| !on));
    let (
        Ended {
            code,
            report,
            stderr,
        },
        gave_up,
    ) = enable_through_an_outage(
        &c,
        &ns,
        Duration::from_millis(1500),
        Duration::from_secs(40),
    );
    assert_eq!(code, Some(1), "{stderr}");
    // The run gave up about 30 s into the outage (the budget is the run's, not each object's),
    // while the server was still down. The latest it can end: a request that fails just inside
    // the 30 s budget sleeps its wait (at most SHED_MAX_WAIT, 4 s) plus up to as much again at
    // random, so its last try comes just before 38 s; the run then fails the rest at once and
    // prints its report. 38 s as the bound was hit twice on this machine (38.11 s, 38.44 s), so
    // the bound is 38 s plus a second for that ending and for this test's 100 ms polling.
    let gave_up = gave_up.expect("the plugin was still waiting when the server came back");
    assert!(
        gave_up >= Duration::from_secs(29) && gave_up <= Duration::from_secs(39),
        "{gave_up:?}"
    );
    assert_eq!(report.len(), 600);
    let states = enabled(&c, &ns);
    let mut failed = 0;
    for (name, item) in &report {
        let on = states.get(name) == Some(&true);
        match item["result"].as_str() {
            Some("changed") => assert!(on, "{name} reported changed but is not enabled"),
            Some("failed") => {
                failed += 1;
                let error = item["error"].as_str().unwrap_or("");
                // Untouched, unless its apply went out just before the cut: then it says so.
                assert!(
                    !on || error.contains("may have been changed"),
                    "{name} failed but is enabled: {error}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(
        failed > 0,
        "nothing failed: the outage was shorter than the run"
    );
    eprintln!(
        "outage past the budget: exit 1 {gave_up:?} into it, {} changed and {failed} failed of 600",
        600 - failed
    );
    // Everything is back: a second run changes exactly the objects still off, and finishes.
    let off = states.values().filter(|on| !**on).count();
    let rerun = c.plugin(&["enable", "--all", "-n", &ns, "--yes"]).ok();
    let summary = format!("{off} changed, {} unchanged, 0 failed", 600 - off);
    assert!(
        rerun.stderr.contains(&summary),
        "{summary}:\n{}",
        rerun.stderr
    );
    assert!(enabled(&c, &ns).values().all(|on| *on));
}

#[test]
fn ctrl_c_stops_further_writes_and_reports_what_was_done() {
    let _one = SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let c = faults();
    let ns = c.namespace("fault-ctrl-c");
    c.many(&ns, 400);
    let mut run = Running::enable_all(&c, &ns);
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        run.running(),
        "the run ended before Ctrl-C: nothing was tested"
    );
    let pid = run.child.id().to_string();
    crate::support::run("kill", &["-INT", &pid], &[], None).ok();
    let Ended {
        code,
        report,
        stderr,
    } = run.wait();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted while writing; objects already applied keep the change"),
        "{stderr}"
    );
    // Every object is in the report, written or not, and the cluster agrees with it.
    assert_eq!(report.len(), 400);
    let states = enabled(&c, &ns);
    agrees_after_ctrl_c(&report, &stderr, |name| {
        Some(states.get(name) == Some(&true))
    });
}

/// After Ctrl-C, every item of `report` is `changed` or `interrupted`, some of each, `written`
/// (whether the cluster holds the change; None: neither the old nor the new value) agrees with
/// each, and the summary on `stderr` counts them.
fn agrees_after_ctrl_c(
    report: &BTreeMap<String, Value>,
    stderr: &str,
    written: impl Fn(&str) -> Option<bool>,
) {
    let (mut changed, mut stopped) = (0, 0);
    for (name, item) in report {
        match item["result"].as_str() {
            Some("changed") => {
                changed += 1;
                assert_eq!(written(name), Some(true), "{name} reported changed");
            }
            Some("interrupted") => {
                stopped += 1;
                assert_eq!(written(name), Some(false), "{name} reported not written");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(
        changed > 0 && stopped > 0,
        "{changed} changed, {stopped} stopped"
    );
    assert!(
        stderr.contains(&format!(
            "{changed} changed, 0 unchanged, 0 failed, {stopped} not written (interrupted)"
        )),
        "{stderr}"
    );
}

/// `n` SeldonRuntimes `rt-<i>` in `ns` at ratio 0.1, over a SeldonConfig `default` in `ns`.
fn many_runtimes(c: &Cluster, ns: &str, n: usize) {
    let config = serde_json::json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "SeldonConfig",
        "metadata": {"name": "default", "namespace": ns},
        "spec": {"config": {"tracingConfig": {"otelExporterEndpoint": "collector:4317", "ratio": "1"}}}});
    let mut docs = vec![config];
    docs.extend((0..n).map(|i| {
        serde_json::json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "SeldonRuntime",
            "metadata": {"name": format!("rt-{i}"), "namespace": ns},
            "spec": {"seldonConfig": "default", "config": {"tracingConfig": {"ratio": "0.1"}}}})
    }));
    for chunk in docs.chunks(500) {
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": chunk});
        c.kubectl_in(&["create", "-n", ns, "-f", "-"], &list.to_string())
            .ok();
    }
}

/// Each runtime's stored ratio.
fn ratios(c: &Cluster, ns: &str) -> BTreeMap<String, String> {
    let list = c
        .kubectl(&["get", "seldonruntimes", "-n", ns, "-o", "json"])
        .ok()
        .json();
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| {
            (
                o["metadata"]["name"].as_str().unwrap_or("").to_string(),
                o["spec"]["config"]["tracingConfig"]["ratio"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn seldon_core_2_runtimes_ride_through_a_restart_and_stop_on_ctrl_c() {
    let _one = SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let c = faults();
    // This control plane is made without Seldon Core 2's CRDs (scripts/run-tests).
    crate::core2::serve_core2(&c);
    // A three-second restart in the middle: nothing fails, every runtime is written.
    let ns = c.namespace("fault-v2");
    many_runtimes(&c, &ns, 800);
    let (
        Ended {
            code,
            report,
            stderr,
        },
        gave_up,
    ) = through_an_outage(
        &c,
        Running::sample_runtimes(&c, &ns),
        Duration::from_millis(1500),
        Duration::from_secs(3),
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(gave_up, None, "it must wait for the server: {stderr}");
    assert_eq!(report.len(), 800);
    let stored = ratios(&c, &ns);
    for (name, item) in &report {
        assert_eq!(item["result"], "changed", "{name}: {item}");
        assert_eq!(stored.get(name).map(String::as_str), Some("0.5"), "{name}");
    }
    // Ctrl-C: no further runtime is started; the report and the cluster agree.
    let ns = c.namespace("fault-v2-ctrl-c");
    many_runtimes(&c, &ns, 800);
    let mut run = Running::sample_runtimes(&c, &ns);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        run.running(),
        "the run ended before Ctrl-C: nothing was tested"
    );
    crate::support::run("kill", &["-INT", &run.child.id().to_string()], &[], None).ok();
    let Ended {
        code,
        report,
        stderr,
    } = run.wait();
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(report.len(), 800);
    let stored = ratios(&c, &ns);
    agrees_after_ctrl_c(&report, &stderr, |name| {
        match stored.get(name).map(String::as_str) {
            Some("0.5") => Some(true),
            Some("0.1") => Some(false),
            _ => None,
        }
    });
}
