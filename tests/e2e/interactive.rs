//! The guided flow in a real pseudo-terminal against the real API server: pick, confirm,
//! decline, a bad parameter re-asked, Ctrl-C; and no prompt at all without a terminal.

use std::process::Command;
use std::time::{Duration, Instant};

use rexpect::process::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::{PtySession, spawn_with_options};

use crate::support::*;

fn spawn(c: &Cluster, args: &[&str]) -> PtySession {
    spawn_raw(c, args, true, &[])
}

/// `strip`: drop escape codes from what the test reads (false to check the terminal codes).
pub(crate) fn spawn_raw(
    c: &Cluster,
    args: &[&str],
    strip: bool,
    env: &[(&str, &str)],
) -> PtySession {
    let mut cmd = Command::new(PLUGIN);
    cmd.arg("--kubeconfig")
        .arg(c.kubeconfig("admin"))
        .args(args);
    cmd.env("TERM", "xterm").env_remove("KUBECONFIG");
    cmd.envs(env.iter().copied());
    let options = Options::new()
        .timeout_ms(Some(20_000))
        .strip_ansi_escape_codes(strip);
    spawn_with_options(cmd, options).expect("spawn the plugin in a pty")
}

/// Types `keys` and flushes (rexpect buffers writes).
pub(crate) fn keys(p: &mut PtySession, keys: &str) {
    p.send(keys).expect("send keys");
    p.flush().expect("flush keys");
}

pub(crate) fn exit_code(p: &mut PtySession) -> i32 {
    match p.process_mut().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("plugin did not exit normally: {other:?}"),
    }
}

/// Picks `name` in the fuzzy list, adds no other, keeps the sampler; the preview follows.
fn pick_one(p: &mut PtySession, name: &str) {
    p.exp_string("SeldonDeployment (type to search)")
        .expect("deployment prompt");
    keys(p, name);
    keys(p, "\r");
    p.exp_string("Add another deployment?")
        .expect("another prompt");
    keys(p, "n");
    p.exp_string("Sampler").expect("sampler prompt");
    keys(p, "\r");
}

#[test]
fn pick_then_confirm_writes_the_change() {
    let c = atomic();
    let ns = c.namespace("pty-yes");
    c.samples(&ns, &["single-model", "graph"]);
    let mut p = spawn(&c, &["enable", "-n", &ns]);
    pick_one(&mut p, "iris");
    p.exp_string("+ default/classifier: TRACING=1")
        .expect("preview shows the diff");
    p.exp_string("Applying restarts the pods of 1 predictor in 1 SeldonDeployment")
        .expect("rollout note");
    p.exp_string("Apply?").expect("confirmation");
    keys(&mut p, "y");
    p.exp_string("seldondeployment/iris tracing enabled")
        .expect("result line");
    assert_eq!(exit_code(&mut p), 0);
    let env = env_pairs(&executor_env(&c.get(&ns, "iris"), 0));
    assert!(
        env.contains(&"JAEGER_SAMPLER_TYPE=const".to_string()),
        "{env:?}"
    );
    // The other deployment was not picked and is untouched.
    assert!(
        c.get(&ns, "fraud-graph")["spec"]["predictors"][0]
            .get("svcOrchSpec")
            .is_none()
    );
}

#[test]
fn typing_part_of_a_name_finds_that_deployment_first() {
    let c = atomic();
    let ns = c.namespace("pty-search");
    // churn sorts first; "tra" is in no other name (nor in any row's summary).
    c.samples(&ns, &["canary", "single-model", "traced-hostip"]);
    let mut p = spawn(&c, &["disable", "-n", &ns]);
    p.exp_string("SeldonDeployment (type to search)")
        .expect("deployment prompt");
    keys(&mut p, "tra");
    keys(&mut p, "\r");
    p.exp_string("Add another deployment?")
        .expect("another prompt");
    keys(&mut p, "n");
    p.exp_string("seldondeployment/traced (")
        .expect("preview of traced");
    p.exp_string("Apply?").expect("confirmation");
    keys(&mut p, "n");
    assert_eq!(exit_code(&mut p), 0);
}

#[test]
fn a_deployment_with_several_predictors_asks_which() {
    let c = atomic();
    let ns = c.namespace("pty-predictors");
    c.samples(&ns, &["canary"]);
    let mut p = spawn(&c, &["enable", "-n", &ns]);
    p.exp_string("SeldonDeployment (type to search)")
        .expect("deployment prompt");
    keys(&mut p, "\r");
    p.exp_string("Predictors").expect("predictor prompt");
    // Both start checked: uncheck the first (stable), keep canary.
    keys(&mut p, " ");
    keys(&mut p, "\r");
    p.exp_string("Sampler").expect("sampler prompt");
    keys(&mut p, "\r");
    p.exp_string("+ canary/executor: JAEGER_SAMPLER_TYPE=const")
        .expect("preview of canary");
    p.exp_string("Apply?").expect("confirmation");
    keys(&mut p, "y");
    p.exp_string("seldondeployment/churn tracing enabled")
        .expect("result line");
    assert_eq!(exit_code(&mut p), 0);
    let obj = c.get(&ns, "churn");
    assert!(
        obj["spec"]["predictors"][0].get("svcOrchSpec").is_none(),
        "stable was changed"
    );
    assert!(executor_env(&obj, 1).is_array(), "canary was not changed");
}

#[test]
fn declining_writes_nothing() {
    let c = atomic();
    let ns = c.namespace("pty-no");
    c.samples(&ns, &["single-model"]);
    let before = c.get(&ns, "iris");
    let mut p = spawn(&c, &["disable", "-n", &ns]);
    p.exp_string("SeldonDeployment (type to search)")
        .expect("deployment prompt");
    keys(&mut p, "\r");
    p.exp_string("+ default/executor: JAEGER_DISABLED=true")
        .expect("preview");
    p.exp_string("Apply?").expect("confirmation");
    keys(&mut p, "n");
    p.exp_string("Not applied; nothing was changed.")
        .expect("declined");
    assert_eq!(exit_code(&mut p), 0);
    assert_eq!(c.get(&ns, "iris"), before);
}

#[test]
fn a_bad_sampler_parameter_is_asked_again() {
    let c = atomic();
    let ns = c.namespace("pty-param");
    c.samples(&ns, &["single-model"]);
    let mut p = spawn(&c, &["sampler", "iris", "-n", &ns]);
    p.exp_string("Sampler").expect("sampler prompt");
    keys(&mut p, "\x1b[B");
    keys(&mut p, "\r");
    p.exp_string("Fraction of requests to trace")
        .expect("parameter prompt");
    keys(&mut p, "1.5\r");
    p.exp_string("takes a number from 0 to 1, not '1.5'")
        .expect("validation message");
    keys(&mut p, "0.25\r");
    p.exp_string("Apply?").expect("confirmation");
    keys(&mut p, "y");
    p.exp_string("seldondeployment/iris sampler set")
        .expect("result");
    assert_eq!(exit_code(&mut p), 0);
    assert_eq!(
        env_pairs(&executor_env(&c.get(&ns, "iris"), 0)),
        [
            "JAEGER_SAMPLER_TYPE=probabilistic",
            "JAEGER_SAMPLER_PARAM=0.25"
        ]
    );
}

/// Where in the guided flow the user gives up.
#[derive(Clone, Copy)]
enum At {
    PickDeployment,
    Confirm,
}

/// Runs `disable` in a pty up to `at`, sends `key`, and expects exit 130 with the cursor shown
/// again and the object unchanged.
fn give_up(c: &Cluster, ns: &str, at: At, key: &str) {
    let before = c.get(ns, "iris");
    let mut p = spawn_raw(c, &["disable", "-n", ns], false, &[]);
    p.exp_string("SeldonDeployment (type to search)")
        .expect("deployment prompt");
    if let At::Confirm = at {
        keys(&mut p, "\r");
        p.exp_string("Apply?").expect("confirmation");
    }
    keys(&mut p, key);
    // The cursor is shown again before the process ends.
    p.exp_string("\x1b[?25h").expect("cursor restored");
    p.exp_string("cancelled; nothing was changed")
        .expect("cancel message");
    assert_eq!(exit_code(&mut p), 130);
    assert_eq!(c.get(ns, "iris"), before);
}

#[test]
fn ctrl_c_cancels_with_130_restores_the_cursor_and_writes_nothing() {
    let c = atomic();
    let ns = c.namespace("pty-ctrlc");
    c.samples(&ns, &["single-model"]);
    // Inside a prompt Ctrl-C reaches the plugin twice at once (a SIGINT and an error from the
    // raw-mode read); which one wins is down to thread timing, so each place is tried repeatedly.
    for _ in 0..4 {
        give_up(&c, &ns, At::PickDeployment, "\x03");
        give_up(&c, &ns, At::Confirm, "\x03");
    }
}

#[test]
fn escape_cancels_with_130_and_writes_nothing() {
    let c = atomic();
    let ns = c.namespace("pty-esc");
    c.samples(&ns, &["single-model"]);
    give_up(&c, &ns, At::PickDeployment, "\x1b");
    give_up(&c, &ns, At::Confirm, "\x1b");
}

#[test]
#[cfg_attr(
    not(feature = "test-seams"),
    ignore = "needs the test-seams feature (make test turns it on)"
)]
fn ctrl_c_while_writing_does_not_claim_nothing_changed() {
    let c = atomic();
    let ns = c.namespace("pty-ctrlc-writing");
    c.samples(&ns, &["single-model", "graph"]);
    // One at a time: the first object is applied, then the hook holds the second one back
    // (before its apply) long enough for Ctrl-C to land while the plugin is writing. The hook
    // ignores the Ctrl-C itself (the whole foreground group gets it): were it to end, the
    // plugin would race its own exit to apply the second object.
    let mark = std::env::temp_dir().join(format!("seldon-tracing-{ns}.mark"));
    let _ = std::fs::remove_file(&mark);
    let hook = format!(
        "if [ -e {m} ]; then trap '' INT; echo held-back; sleep 10; else touch {m}; fi",
        m = mark.display()
    );
    let mut p = spawn_raw(
        &c,
        &["disable", "--all", "-n", &ns, "--concurrency", "1"],
        true,
        &[("SELDON_TRACING_TEST_HOOK_BEFORE_APPLY", &hook)],
    );
    p.exp_string("Apply?").expect("confirmation");
    keys(&mut p, "y");
    p.exp_string("held-back").expect("second object held back");
    p.send_control('c').expect("ctrl-c");
    p.exp_string("interrupted while writing; objects already applied keep the change")
        .expect("honest message");
    assert_eq!(exit_code(&mut p), 130);
    let _ = std::fs::remove_file(&mark);
    let disabled = |name: &str| {
        env_pairs(&executor_env(&c.get(&ns, name), 0)).contains(&"JAEGER_DISABLED=true".into())
    };
    // Names are handled in a stable (sorted) order: fraud-graph first, then iris.
    assert!(disabled("fraud-graph"), "the first object was not applied");
    assert!(!disabled("iris"), "the held-back object was applied");
}

#[test]
fn without_a_terminal_a_missing_name_fails_at_once() {
    let c = atomic();
    let ns = c.namespace("no-tty");
    c.samples(&ns, &["single-model"]);
    // stdin is an open pipe nobody writes to: a prompt would wait forever.
    let mut child = Command::new(PLUGIN)
        .args(["--kubeconfig", &c.kubeconfig("admin"), "enable", "-n", &ns])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the plugin waited for input without a terminal"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no SeldonDeployment given: pass NAME..., --all or -l SELECTOR"),
        "{err}"
    );
    c.plugin(&["sampler", "iris", "-n", &ns])
        .fails()
        .stderr_has("missing the sampler");
}

#[test]
fn bulk_changes_show_progress_on_a_terminal_only() {
    let c = atomic();
    let ns = c.namespace("pty-progress");
    c.samples(&ns, &["single-model", "graph", "canary"]);
    let mut p = spawn(&c, &["disable", "--all", "-n", &ns, "--yes"]);
    p.exp_string("/3 seldondeployments").expect("progress bar");
    p.exp_string("3 changed, 0 unchanged, 0 failed")
        .expect("summary");
    assert_eq!(exit_code(&mut p), 0);
    // The same on pipes: results and summary, no bar.
    let out = c.plugin(&["enable", "--all", "-n", &ns]).ok();
    assert!(!out.stderr.contains("seldondeployments"), "{}", out.stderr);
    assert!(
        out.stderr.contains("3 changed, 0 unchanged, 0 failed"),
        "{}",
        out.stderr
    );
}

/// Seldon Core 2 on a terminal: several runtimes in scope are picked from, a missing ratio is
/// asked (a bad one asked again), the change is previewed and confirmed.
#[test]
fn seldon_core_2_picks_a_runtime_asks_the_ratio_and_confirms() {
    let c = atomic();
    let mesh = c.namespace("pty-v2-mesh");
    let (a, b) = (c.namespace("pty-v2-a"), c.namespace("pty-v2-b"));
    use crate::core2::{apply, runtime, seldon_config};
    let tc = serde_json::json!({"otelExporterEndpoint": "c:4317", "ratio": "1"});
    let none = serde_json::json!({});
    apply(
        &c,
        &[
            seldon_config(&mesh, "default", tc),
            runtime(&a, "default", none.clone()),
            runtime(&b, "default", none),
        ],
    );
    let mut p = spawn(
        &c,
        &["sampler", "--core", "v2", "-A", "--seldon-namespace", &mesh],
    );
    p.exp_string("SeldonRuntime (type to search)")
        .expect("runtime prompt");
    keys(&mut p, &b);
    keys(&mut p, "\r");
    p.exp_string("Add another runtime?")
        .expect("another prompt");
    keys(&mut p, "n");
    p.exp_string("Ratio of traces to sample")
        .expect("ratio prompt");
    // Clear the default, type a bad ratio, then a good one.
    keys(&mut p, "\x7f\x7f\x7f1.5\r");
    p.exp_string("is not a number from 0 to 1")
        .expect("bad ratio re-asked");
    keys(&mut p, "\x7f\x7f\x7f0.3\r");
    p.exp_string(&format!("seldonruntime/seldon ({b}):"))
        .expect("preview");
    p.exp_string("~ ratio: 1 (seldon-config) -> 0.3")
        .expect("preview line");
    p.exp_string("Apply?").expect("confirmation");
    keys(&mut p, "y");
    p.exp_string("ratio set").expect("result line");
    assert_eq!(exit_code(&mut p), 0);
    let ratio = |ns: &str| {
        crate::core2::stored_runtime(&c, ns)["spec"]["config"]["tracingConfig"]["ratio"].clone()
    };
    assert_eq!(ratio(&b), "0.3");
    assert_eq!(
        ratio(&a),
        serde_json::Value::Null,
        "the runtime not picked was changed"
    );
}

/// Guided, with nothing named and no --core, where the namespace has both generations: the
/// first question is which; Seldon Core 2 then goes to its runtime.
#[test]
fn the_guided_flow_asks_which_generation_where_both_are_served() {
    use crate::core2::{apply, runtime, seldon_config};
    let c = atomic();
    let mesh = c.namespace("pty-gen-mesh");
    let ns = c.namespace("pty-gen");
    c.samples(&ns, &["single-model"]);
    let tc = serde_json::json!({"otelExporterEndpoint": "c:4317", "ratio": "1"});
    apply(
        &c,
        &[
            seldon_config(&mesh, "default", tc),
            runtime(&ns, "default", serde_json::json!({})),
        ],
    );
    let mut p = spawn(&c, &["disable", "-n", &ns, "--seldon-namespace", &mesh]);
    p.exp_string("Which Seldon").expect("generation prompt");
    // Down to Seldon Core 2.
    keys(&mut p, "\x1b[B\r");
    p.exp_string(&format!("seldonruntime/seldon ({ns}):"))
        .expect("preview");
    p.exp_string("~ disable: false -> true")
        .expect("preview line");
    p.exp_string("Apply?").expect("confirmation");
    keys(&mut p, "y");
    p.exp_string("tracing disabled").expect("result line");
    assert_eq!(exit_code(&mut p), 0);
    assert_eq!(
        crate::core2::stored_runtime(&c, &ns)["spec"]["config"]["tracingConfig"]["disable"],
        true
    );
    // The SeldonDeployment was not touched.
    assert!(
        c.get(&ns, "iris")["spec"]["predictors"][0]
            .get("svcOrchSpec")
            .is_none()
    );
}

/// `verify --core v2` on a terminal without a name: the namespace's Models to pick from.
#[test]
fn verify_core_v2_picks_a_model() {
    let c = atomic();
    let mesh = c.namespace("pty-v2v-mesh");
    let ns = c.namespace("pty-v2v");
    use crate::core2::{apply, runtime, seldon_config};
    apply(
        &c,
        &[
            seldon_config(
                &mesh,
                "default",
                serde_json::json!({"otelExporterEndpoint": "c:4317", "ratio": "1"}),
            ),
            runtime(&ns, "default", serde_json::json!({})),
            crate::core2::model(&ns, "churn", None),
            crate::core2::model(&ns, "iris", None),
        ],
    );
    // A dry run with --via and --jaeger sends nothing and reaches no pod.
    let mut p = spawn(
        &c,
        &[
            "verify",
            "--core",
            "v2",
            "-n",
            &ns,
            "--seldon-namespace",
            &mesh,
            "--dry-run",
            "--via",
            "http://127.0.0.1:9",
            "--jaeger",
            "http://127.0.0.1:9",
        ],
    );
    p.exp_string("Model (type to search)")
        .expect("model prompt");
    keys(&mut p, "iri");
    keys(&mut p, "\r");
    p.exp_string("Would send POST http://127.0.0.1:9/v2/models/iris/infer to model")
        .expect("the picked model's request");
    assert_eq!(exit_code(&mut p), 0);
}
