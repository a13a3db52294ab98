//! Bad input: a clear one-line error, a non-zero exit, and no object changed.

use crate::support::*;

#[test]
fn every_bad_input_is_refused_and_changes_nothing() {
    let c = atomic();
    let ns = c.namespace("badinput");
    c.samples(&ns, &["canary"]);
    let before = c.get(&ns, "churn");
    // Exit 2: arguments the plugin refuses before reading anything; 1: the cluster says no.
    let cases: &[(&[&str], &str, i32)] = &[
        (
            &["enable", "churn", "--sampler", "const:2"],
            "takes 0 or 1",
            2,
        ),
        (
            &["enable", "churn", "--sampler", "probabilistic:1.5"],
            "from 0 to 1",
            2,
        ),
        (
            &["enable", "churn", "--sampler", "probabilistic:-0.1"],
            "from 0 to 1",
            2,
        ),
        (
            &["enable", "churn", "--sampler", "ratelimiting:0"],
            "greater than 0",
            2,
        ),
        (
            &["enable", "churn", "--sampler", "foo:1"],
            "unknown type 'foo'",
            2,
        ),
        (&["enable", "churn", "--sampler", "const:"], "empty", 2),
        (
            &["enable", "churn", "--sampler", ":1"],
            "type is missing",
            2,
        ),
        (
            &["enable", "churn", "--sampler", "probabilistic:abc"],
            "not 'abc'",
            2,
        ),
        (&["sampler", "churn", "remote:2"], "from 0 to 1", 2),
        (&["sampler", "churn", "const:1:2"], "one colon", 2),
        (&["enable", "churn", "--agent-port", "0"], "--agent-port", 2),
        (
            &[
                "enable",
                "churn",
                "--collector-endpoint",
                "127.0.0.1:14268/api/traces",
            ],
            "refused by the Jaeger client (not an absolute URL",
            2,
        ),
        (
            &[
                "enable",
                "churn",
                "--collector-endpoint",
                "udp://collector:6831",
            ],
            "not an http(s) URL",
            2,
        ),
        (
            &["enable", "churn", "--propagation", "zipkin"],
            "--propagation",
            2,
        ),
        (
            &["enable", "churn", "--agent-port", "70000"],
            "--agent-port",
            2,
        ),
        (
            &["enable", "churn", "--agent-port", "abc"],
            "--agent-port",
            2,
        ),
        (
            &["enable", "churn", "--agent-host", "jaeger agent"],
            "not a host name",
            2,
        ),
        (
            &["enable", "Churn_1"],
            "not a valid SeldonDeployment name",
            2,
        ),
        (&["disable", "nope"], "not found in namespace", 1),
        (
            &["enable", "churn", "--predictor", "blue"],
            "has no predictor 'blue' (it has: stable, canary)",
            1,
        ),
        (&["enable"], "pass NAME..., --all or -l SELECTOR", 2),
        // Names with odd characters, refused before anything is read.
        (
            &["enable", "churn;rm"],
            "not a valid SeldonDeployment name",
            2,
        ),
        (
            &["enable", "../churn"],
            "not a valid SeldonDeployment name",
            2,
        ),
        (&["enable", "chürn"], "not a valid SeldonDeployment name", 2),
        (&["status", "-churn"], "unexpected argument '-c'", 2),
        // More arguments refused before any I/O.
        (
            &["enable", "churn", "--wait", "--dry-run"],
            "no rollout to --wait for",
            2,
        ),
        (
            &["enable", "churn", "--timeout", "1m"],
            "the following required arguments were not provided: --wait",
            2,
        ),
        (
            &["status", "--watch", "--expect", "on"],
            "cannot be used with",
            2,
        ),
        (&["list", "-o", "xml"], "invalid value 'xml'", 2),
        (
            &["enable", "churn", "--concurrency", "0"],
            "--concurrency",
            2,
        ),
        (
            &["status", "--request-timeout", "soon"],
            "is not a duration",
            2,
        ),
        // What only the server can judge: a label selector it cannot parse; a file that is not there.
        (
            &["enable", "-l", "team in (a"],
            "failed to list seldondeployments",
            1,
        ),
        (
            &["enable", "-f", "/nonexistent/deploy.yaml"],
            "/nonexistent/deploy.yaml",
            1,
        ),
    ];
    for (args, want, code) in cases {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-n", &ns]);
        let out = c.plugin(&all).fails_with(*code).stderr_has(want);
        // One line, and it is the one that says what is wrong.
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{args:?}: not a one-line error:\n{}",
            out.stderr
        );
        assert!(lines[0].contains(want), "{args:?}: {}", out.stderr);
        assert_eq!(c.get(&ns, "churn"), before, "{args:?} changed the object");
    }
}

#[test]
fn missing_crd_and_unreachable_server_get_one_clear_sentence() {
    let c = atomic();
    // A kubeconfig pointing at a port nobody listens on.
    let kc = std::fs::read_to_string(c.kubeconfig("admin")).expect("kubeconfig");
    let server = std::fs::read_to_string(c.dir.join("server")).expect("server file");
    let dead = kc.replace(server.trim(), "https://127.0.0.1:1");
    let path = tempdir("dead").join("dead.kubeconfig");
    std::fs::write(&path, dead).expect("write kubeconfig");
    let p = path.display().to_string();
    run(PLUGIN, &["--kubeconfig", &p, "list"], &[], None)
        .fails()
        .stderr_has("cannot reach the Kubernetes API server at https://127.0.0.1:1");
    // Usage is judged before connecting: the same exit 2 and sentence as with a live cluster.
    let usage: &[(&[&str], &str)] = &[
        (&["enable", "iris", "-A"], "-A selects every namespace"),
        (&["disable", "--yes"], "no SeldonDeployment given"),
        (&["sampler", "iris"], "missing the sampler"),
        (
            &["sampler", "Iris", "const:1"],
            "not a valid SeldonDeployment name",
        ),
        (
            &["enable", "iris", "--collector-endpoint", "x"],
            "refused by the Jaeger client",
        ),
    ];
    for (args, want) in usage {
        let mut argv = vec!["--kubeconfig", p.as_str()];
        argv.extend_from_slice(args);
        let out = run(PLUGIN, &argv, &[], None).fails_with(2).stderr_has(want);
        assert!(
            !out.stderr.contains("cannot reach"),
            "{args:?}: {}",
            out.stderr
        );
    }
    let version = run(PLUGIN, &["--kubeconfig", &p, "version"], &[], None).ok();
    assert!(version.stdout.starts_with("kubectl-seldon-tracing v"));
    assert!(version.stderr.contains("Server Version: unavailable"));
}

#[test]
fn a_cluster_without_the_crd_is_named_as_such() {
    // `list` and `status` on it: core2::each_generation_the_cluster_serves_is_read...
    let _bare = crate::support::bare_in_use();
    let c = bare();
    c.plugin(&["list", "--core", "v1"])
        .fails()
        .stderr_has("Seldon Core's SeldonDeployment CRD is not installed in this cluster");
    c.plugin(&["enable", "iris"])
        .fails()
        .stderr_has("Seldon Core's SeldonDeployment CRD is not installed in this cluster");
}

#[test]
fn a_server_that_never_answers_times_out_with_request_timeout() {
    let c = atomic();
    // Accepts TCP connections (the kernel's backlog) but never speaks TLS.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr");
    let kc = std::fs::read_to_string(c.kubeconfig("admin")).expect("kubeconfig");
    let server = std::fs::read_to_string(c.dir.join("server")).expect("server file");
    let path = tempdir("silent").join("silent.kubeconfig");
    std::fs::write(&path, kc.replace(server.trim(), &format!("https://{addr}"))).expect("write");
    let p = path.display().to_string();
    let start = std::time::Instant::now();
    run(
        PLUGIN,
        &["--kubeconfig", &p, "--request-timeout", "1s", "list"],
        &[],
        None,
    )
    .fails()
    .stderr_has("timed out after 1s");
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    // `version --client` never contacts the cluster.
    let v = run(
        PLUGIN,
        &["--kubeconfig", &p, "version", "--client"],
        &[],
        None,
    )
    .ok();
    assert_eq!(
        v.stdout,
        format!("kubectl-seldon-tracing v{}\n", env!("CARGO_PKG_VERSION"))
    );
    assert!(v.stderr.is_empty(), "{}", v.stderr);
}

#[test]
fn malformed_env_entries_are_reported_and_kept() {
    let c = atomic();
    let ns = c.namespace("malformed");
    let manifest = "apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: odd}\n\
        spec:\n  predictors:\n  - name: p\n    graph: {name: m, type: MODEL}\n    svcOrchSpec:\n      env:\n      - {value: orphan}\n      - {name: LOG_LEVEL, value: DEBUG}\n";
    c.kubectl_in(&["create", "-n", &ns, "-f", "-"], manifest)
        .ok();
    c.plugin(&["status", "odd", "-n", &ns])
        .ok()
        .stdout_has("env entry #1 of svcOrchSpec has no name (kept as it is)");
    c.plugin(&["enable", "odd", "-n", &ns]).ok();
    let env = c.get(&ns, "odd")["spec"]["predictors"][0]["svcOrchSpec"]["env"].clone();
    assert_eq!(env[0], serde_json::json!({"value": "orphan"}));
    assert_eq!(
        env[1],
        serde_json::json!({"name": "LOG_LEVEL", "value": "DEBUG"})
    );
}

#[test]
fn a_gitops_manager_owning_predictors_is_named_in_warnings() {
    let c = atomic();
    let ns = c.namespace("gitops");
    let path = sample_path("single-model").display().to_string();
    c.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager",
        "argocd-controller",
        "-n",
        &ns,
        "-f",
        &path,
    ])
    .ok();
    c.plugin(&["status", "iris", "-n", &ns])
        .ok()
        .stdout_has("spec.predictors is also managed by 'argocd-controller'");
    c.plugin(&["enable", "iris", "-n", &ns])
        .ok()
        .stderr_has("Warning: seldondeployment/iris: spec.predictors is also managed by 'argocd-controller'; its next sync or apply will revert tracing changes made with this plugin");
    // Argo CD's default client-side sync leaves no Apply entry, only its tracking annotation.
    c.samples(&ns, &["graph"]);
    c.kubectl(&[
        "annotate",
        "sdep",
        "fraud-graph",
        "-n",
        &ns,
        "argocd.argoproj.io/tracking-id=models:machinelearning.seldon.io/SeldonDeployment:ns/fraud-graph",
    ])
    .ok();
    c.plugin(&["status", "fraud-graph", "-n", &ns])
        .ok()
        .stdout_has(
            "Warning: fraud-graph: tracked by Argo CD (annotation argocd.argoproj.io/tracking-id)",
        );
    c.plugin(&["disable", "fraud-graph", "-n", &ns])
        .ok()
        .stderr_has("Warning: seldondeployment/fraud-graph: tracked by Argo CD");
}

#[test]
fn kubeconfig_problems_say_what_to_pass() {
    let c = atomic();
    let kc = c.kubeconfig("admin");
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            &["--kubeconfig", &kc, "--context", "nope", "list"],
            &[],
            "cannot load kubeconfig: context \"nope\" is not in it; list them with `kubectl config get-contexts`",
        ),
        (
            &["--kubeconfig", "/nonexistent/config", "list"],
            &[],
            "cannot read /nonexistent/config: No such file or directory",
        ),
        (
            &["list"],
            &[("KUBECONFIG", "/nonexistent/config")],
            "pass --kubeconfig FILE or set KUBECONFIG",
        ),
    ];
    for (args, env, want) in cases {
        let out = run(PLUGIN, args, env, None).fails_with(1).stderr_has(want);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
    // A kubeconfig without current-context.
    let path = tempdir("nocontext").join("config");
    std::fs::write(&path, "apiVersion: v1\nkind: Config\nclusters: []\n").expect("write");
    run(
        PLUGIN,
        &["--kubeconfig", &path.display().to_string(), "list"],
        &[],
        None,
    )
    .fails_with(1)
    .stderr_has("it sets no current-context; pass --context");
}

/// Objects the CRD lets through but Seldon would refuse: a one-line error naming the object and
/// what is wrong, exit 1, and the object stays exactly as it was. (The test CRD's schema already
/// refuses predictors or env that are not lists; `plan` covers those too, see its unit tests.)
#[test]
fn objects_seldon_would_refuse_get_one_line_and_stay_as_they_were() {
    let c = atomic();
    let ns = c.namespace("badobjects");
    let objects: &[(&str, &str, &str)] = &[(
        "no-predictors",
        r#"{"predictors": []}"#,
        "has no predictors",
    )];
    for (name, spec, want) in objects {
        let obj = format!(
            r#"{{"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment", "metadata": {{"name": "{name}"}}, "spec": {spec}}}"#
        );
        c.kubectl_in(&["create", "-n", &ns, "-f", "-"], &obj).ok();
        let before = c.get(&ns, name);
        let out = c
            .plugin(&["enable", name, "-n", &ns])
            .fails_with(1)
            .stderr_has(want)
            .stderr_has(name);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert_eq!(c.get(&ns, name), before, "{name} changed");
    }
}

/// Very large objects are handled, not refused: 1,000 predictors, and one of about 1 MiB.
#[test]
fn a_thousand_predictors_and_a_one_mebibyte_object_are_enabled_whole() {
    let c = atomic();
    let ns = c.namespace("bigobjects");
    let predictor = |i: usize| {
        format!(
            r#"{{"name": "p{i}", "graph": {{"name": "m", "type": "MODEL"}}, "componentSpecs": [{{"spec": {{"containers": [{{"name": "m", "image": "x"}}]}}}}]}}"#
        )
    };
    let many: Vec<String> = (0..1000).map(predictor).collect();
    let wide = format!(
        r#"{{"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment", "metadata": {{"name": "wide"}}, "spec": {{"predictors": [{}]}}}}"#,
        many.join(",")
    );
    // About 1 MiB: one predictor whose model carries a large unrelated env value.
    let blob = "x".repeat(1 << 20);
    let big = format!(
        r#"{{"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment", "metadata": {{"name": "big"}}, "spec": {{"predictors": [{{"name": "default", "graph": {{"name": "m", "type": "MODEL"}}, "componentSpecs": [{{"spec": {{"containers": [{{"name": "m", "image": "x", "env": [{{"name": "BLOB", "value": "{blob}"}}]}}]}}}}]}}]}}}}"#
    );
    for obj in [&wide, &big] {
        c.kubectl_in(&["create", "-n", &ns, "-f", "-"], obj).ok();
    }
    c.plugin(&["enable", "wide", "big", "-n", &ns]).ok();
    let st = c
        .plugin(&["status", "-n", &ns, "--expect", "on", "-o", "json"])
        .ok()
        .json();
    let predictors: usize = st["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["predictors"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(predictors, 1001);
    // The large value is kept byte for byte.
    let big_after = c.get(&ns, "big");
    let env =
        &big_after["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"][0]["env"];
    assert_eq!(env[0]["value"].as_str().map(str::len), Some(1 << 20));
}
