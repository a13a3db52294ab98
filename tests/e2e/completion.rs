//! Shell completion through kubectl's plugin completion (`kubectl __complete seldon-tracing ...`,
//! which runs `kubectl_complete-seldon_tracing`) against the control plane, and the scripts
//! `completion SHELL` prints.

use crate::support::*;

/// Candidates (first field of each line) and the directive, from `kubectl __complete`.
fn complete(path: &str, kubeconfig: &str, words: &[&str]) -> (Vec<String>, String) {
    let mut args = vec!["__complete", "seldon-tracing", "--kubeconfig", kubeconfig];
    args.extend_from_slice(words);
    let out = run("kubectl", &args, &[("PATH", path)], None).ok();
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    let directive = lines.pop().unwrap_or_default().to_string();
    let values = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect();
    (values, directive)
}

#[test]
fn completes_subcommands_flags_and_live_names() {
    let c = atomic();
    let ns = c.namespace("complete");
    c.samples(&ns, &["canary", "single-model"]);
    let path = plugin_path();
    let kc = c.kubeconfig("admin");
    let (subs, directive) = complete(&path, &kc, &[""]);
    assert!(
        subs.contains(&"enable".to_string()) && subs.contains(&"status".to_string()),
        "{subs:?}"
    );
    assert_eq!(directive, ":4");
    let (flags, _) = complete(&path, &kc, &["enable", "--agent"]);
    assert_eq!(
        flags,
        ["--agent-host", "--agent-host-from-node", "--agent-port"]
    );
    let (names, _) = complete(&path, &kc, &["enable", "-n", &ns, ""]);
    assert_eq!(names, ["churn", "iris"]);
    let (names, _) = complete(&path, &kc, &["disable", "-n", &ns, "churn", ""]);
    assert_eq!(names, ["iris"], "names already typed are not offered again");
    let (predictors, _) = complete(
        &path,
        &kc,
        &["enable", "-n", &ns, "churn", "--predictor", ""],
    );
    assert_eq!(predictors, ["canary", "stable"]);
    let (namespaces, _) = complete(&path, &kc, &["list", "-n", &ns[..8]]);
    assert!(namespaces.contains(&ns), "{namespaces:?}");
    let (samplers, _) = complete(&path, &kc, &["enable", "iris", "--sampler", "prob"]);
    assert_eq!(samplers, ["probabilistic:0.1"]);
    // Seldon Core 2: the namespace's SeldonRuntime beside the SeldonDeployments for status,
    // alone with --core v2, never for v1 writes.
    let runtime = serde_json::json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "SeldonRuntime",
        "metadata": {"name": "seldon", "namespace": ns}, "spec": {"seldonConfig": "default"}});
    c.kubectl_in(&["apply", "-f", "-"], &runtime.to_string())
        .ok();
    let (names, _) = complete(&path, &kc, &["status", "-n", &ns, ""]);
    assert_eq!(names, ["churn", "iris", "seldon"]);
    let (names, _) = complete(&path, &kc, &["enable", "--core", "v2", "-n", &ns, ""]);
    assert_eq!(names, ["seldon"]);
    let (names, _) = complete(&path, &kc, &["enable", "-n", &ns, ""]);
    assert_eq!(names, ["churn", "iris"]);
    let (ratios, _) = complete(&path, &kc, &["sampler", "--core", "v2", "-n", &ns, "0."]);
    assert_eq!(ratios, ["0.1", "0.01"]);
    let (cores, _) = complete(&path, &kc, &["status", "--core", ""]);
    assert_eq!(cores, ["v1", "v2"]);
    // verify --core v2 offers the namespace's Models; with --pipeline its Pipelines.
    let model = crate::core2::model(&ns, "iris-v2", None);
    let pipeline = serde_json::json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "Pipeline",
        "metadata": {"name": "chain", "namespace": ns}, "spec": {"steps": [{"name": "iris-v2"}]}});
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [model, pipeline]});
    c.kubectl_in(&["apply", "-f", "-"], &list.to_string()).ok();
    let (names, _) = complete(&path, &kc, &["verify", "--core", "v2", "-n", &ns, ""]);
    assert_eq!(names, ["iris-v2"]);
    let (names, _) = complete(&path, &kc, &["verify", "--pipeline", "-n", &ns, ""]);
    assert_eq!(names, ["chain"]);
    let (names, _) = complete(&path, &kc, &["verify", "-n", &ns, ""]);
    assert_eq!(names, ["churn", "iris"]);
}

#[test]
fn respects_context_and_is_quiet_when_the_cluster_is_unreachable() {
    let c = atomic();
    let ns = c.namespace("complete-ctx");
    c.samples(&ns, &["single-model"]);
    // A kubeconfig with a second context pointing at a dead server.
    let kc = tempdir("complete-kc").join("config");
    std::fs::copy(c.kubeconfig("admin"), &kc).expect("copy kubeconfig");
    let k = kc.display().to_string();
    run(
        "kubectl",
        &[
            "--kubeconfig",
            &k,
            "config",
            "set-cluster",
            "dead",
            "--server",
            "https://127.0.0.1:1",
            "--insecure-skip-tls-verify",
        ],
        &[],
        None,
    )
    .ok();
    run(
        "kubectl",
        &[
            "--kubeconfig",
            &k,
            "config",
            "set-context",
            "dead",
            "--cluster",
            "dead",
            "--user",
            "admin",
        ],
        &[],
        None,
    )
    .ok();
    let path = plugin_path();
    let (names, _) = complete(&path, &k, &["status", "--context", "local", "-n", &ns, ""]);
    assert_eq!(names, ["iris"]);
    let (contexts, _) = complete(&path, &k, &["status", "--context", ""]);
    assert_eq!(contexts, ["dead", "local"]);
    let start = std::time::Instant::now();
    let (names, directive) = complete(&path, &k, &["status", "--context", "dead", "-n", &ns, ""]);
    assert!(names.is_empty(), "{names:?}");
    assert_eq!(directive, ":4");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "completion hung on a dead cluster"
    );
}

#[test]
fn completion_scripts_load_in_their_shells() {
    let bash = run(PLUGIN, &["completion", "bash"], &[], None).ok();
    assert!(
        bash.stdout.contains("kubectl-seldon_tracing"),
        "{}",
        bash.stdout.lines().next().unwrap_or_default()
    );
    // The bash script defines a completion function that bash accepts.
    let script = tempdir("bash-completion").join("c.bash");
    std::fs::write(&script, &bash.stdout).expect("write script");
    let check = run(
        "bash",
        &[
            "-c",
            &format!(
                "source {} && complete -p kubectl-seldon_tracing",
                script.display()
            ),
        ],
        &[],
        None,
    )
    .ok();
    assert!(
        check.stdout.starts_with("complete ")
            && check.stdout.contains(" -F ")
            && check.stdout.trim_end().ends_with(" kubectl-seldon_tracing"),
        "{}",
        check.stdout
    );
    for shell in ["zsh", "fish", "powershell"] {
        let out = run(PLUGIN, &["completion", shell], &[], None).ok();
        assert!(
            out.stdout.contains("enable"),
            "{shell} script lacks subcommands"
        );
    }
}
