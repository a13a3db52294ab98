//! Every command against the real API server, under both test CRD variants.

use serde_json::Value;

use crate::support::*;

const ALL_SAMPLES: &[&str] = &[
    "single-model",
    "graph",
    "sklearn-prepackaged",
    "canary",
    "explainer",
    "no-engine",
    "traced-hostip",
    "kafka-env",
];

fn is_tracing_var(name: &str) -> bool {
    name == "TRACING" || name.starts_with("JAEGER_")
}

/// The spec with every tracing env entry and every stub container (name + env only) removed:
/// what must be identical before and after any plugin command.
fn without_tracing(spec: &Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Array(env)) = map.get_mut("env") {
                    env.retain(|e| !e["name"].as_str().is_some_and(is_tracing_var));
                }
                if let Some(Value::Array(cs)) = map.get_mut("containers") {
                    cs.retain(|c| {
                        let keys: Vec<&String> = c
                            .as_object()
                            .map(|o| o.keys().collect())
                            .unwrap_or_default();
                        !(keys.len() == 2 && c.get("name").is_some() && c.get("env").is_some())
                    });
                }
                for (_, child) in map.iter_mut() {
                    strip(child);
                }
                // An env list that only held tracing variables, or a svcOrchSpec made for them.
                map.retain(|k, v| !(k == "env" && v.as_array().is_some_and(Vec::is_empty)));
                map.retain(|k, v| {
                    !(k == "svcOrchSpec" && v.as_object().is_some_and(|o| o.is_empty()))
                });
                // The componentSpecs path created to hold a stub.
                let only_empty = serde_json::json!([{"spec": {"containers": []}}]);
                map.retain(|k, v| !(k == "componentSpecs" && *v == only_empty));
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut s = spec.clone();
    strip(&mut s);
    s
}

fn rv(obj: &Value) -> String {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn enable_and_disable_change_only_tracing_env_on_every_sample_under_both_crds() {
    for c in both() {
        let ns = c.namespace("roundtrip");
        c.samples(&ns, ALL_SAMPLES);
        let names = [
            "iris",
            "fraud-graph",
            "sklearn-iris",
            "churn",
            "income",
            "direct",
            "traced",
            "streaming",
        ];
        let before: Vec<Value> = names.iter().map(|n| c.get(&ns, n)).collect();
        let mut args = vec!["enable", "-n", &ns];
        args.extend(names);
        let out = c.plugin(&args).ok();
        assert!(
            out.stdout
                .contains("seldondeployment/iris tracing enabled\n"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains("seldondeployment/traced unchanged\n"),
            "{}",
            out.stdout
        );
        let enabled: Vec<Value> = names.iter().map(|n| c.get(&ns, n)).collect();
        for (b, a) in before.iter().zip(&enabled) {
            assert_eq!(
                without_tracing(&spec(b)),
                without_tracing(&spec(a)),
                "{}: non-tracing spec changed",
                c.variant
            );
            assert_eq!(b["metadata"]["labels"], a["metadata"]["labels"]);
            assert_eq!(b["metadata"]["annotations"], a["metadata"]["annotations"]);
        }
        // Executor of a fresh deployment: agent from the node, port 6831, const:1, and the
        // stamp `traces` finds its traces by.
        assert_eq!(
            env_pairs(&executor_env(&enabled[0], 0)),
            [
                "JAEGER_AGENT_HOST=<from>",
                "JAEGER_AGENT_PORT=6831",
                "JAEGER_SAMPLER_TYPE=const",
                "JAEGER_SAMPLER_PARAM=1",
                "JAEGER_TAGS=seldon.deployment=iris,seldon.predictor=default"
            ]
        );
        // Kafka settings stay first and in order; the secret-backed entry is untouched.
        let streaming = &enabled[7];
        assert_eq!(
            env_pairs(&executor_env(streaming, 0))[..4],
            [
                "KAFKA_BROKER=kafka.streaming.svc:9092",
                "KAFKA_INPUT_TOPIC=requests",
                "KAFKA_OUTPUT_TOPIC=scores",
                "LOG_LEVEL=INFO"
            ]
        );
        let scorer_env = &streaming["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"]
            [0]["env"];
        assert_eq!(
            scorer_env[0]["valueFrom"]["secretKeyRef"]["name"],
            "scorer-db"
        );
        assert_eq!(
            env_pairs(scorer_env)[..3],
            [
                "DB_PASSWORD=<from>",
                "DB_URL=postgres://scorer:$(DB_PASSWORD)@db:5432/scores",
                "TRACING=1"
            ]
        );
        // The prepackaged node gets a stub container where the operator would put one.
        let stub =
            &enabled[2]["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"][0];
        assert_eq!(stub["name"], "classifier");
        assert!(stub.get("image").is_none());
        assert_eq!(
            env_pairs(&stub["env"]),
            [
                "TRACING=1",
                "JAEGER_AGENT_HOST=<from>",
                "JAEGER_AGENT_PORT=6831"
            ]
        );
        // The existing hostIP setup survives untouched (same resourceVersion: nothing sent).
        assert_eq!(rv(&before[6]), rv(&enabled[6]));
        // The no-engine predictor gets no svcOrchSpec.
        assert!(
            enabled[5]["spec"]["predictors"][0]
                .get("svcOrchSpec")
                .is_none()
        );

        // Enabling again sends nothing.
        let again = c.plugin(&args).ok();
        assert_eq!(
            again.stdout.matches(" unchanged\n").count(),
            names.len(),
            "{}",
            again.stdout
        );
        assert_eq!(rv(&c.get(&ns, "iris")), rv(&enabled[0]));

        // Disable keeps every other tracing variable; enable restores exactly the enabled spec.
        args[0] = "disable";
        c.plugin(&args).ok();
        let disabled = c.get(&ns, "iris");
        assert_eq!(
            env_pairs(&executor_env(&disabled, 0)),
            [
                "JAEGER_AGENT_HOST=<from>",
                "JAEGER_AGENT_PORT=6831",
                "JAEGER_SAMPLER_TYPE=const",
                "JAEGER_SAMPLER_PARAM=1",
                "JAEGER_TAGS=seldon.deployment=iris,seldon.predictor=default",
                "JAEGER_DISABLED=true"
            ]
        );
        args[0] = "enable";
        c.plugin(&args).ok();
        // ... apart from the stamp, which rides along with this enable's change on executors
        // the first one left untouched (`traced` was already on).
        let unstamped = |v: &Value| {
            let text = v.to_string();
            let stamp = |n: &str| {
                format!(
                    r#",{{"name":"JAEGER_TAGS","value":"seldon.deployment={n},seldon.predictor=default"}}"#
                )
            };
            names.iter().fold(text, |t, n| t.replace(&stamp(n), ""))
        };
        for (n, e) in names.iter().zip(&enabled) {
            let after = c.get(&ns, n);
            assert_eq!(
                unstamped(&spec(&after)),
                unstamped(&spec(e)),
                "{}: enable after disable differs for {n}",
                c.variant
            );
            if c.variant == "atomic" && *n == "traced" {
                assert!(
                    env_pairs(&executor_env(&after, 0)).contains(
                        &"JAEGER_TAGS=seldon.deployment=traced,seldon.predictor=default".into()
                    ),
                    "{after}"
                );
            }
        }
        // The plugin's field manager owns spec.predictors now.
        let mf = c.get(&ns, "iris")["metadata"]["managedFields"].to_string();
        assert!(
            mf.contains("\"manager\":\"kubectl-seldon-tracing\""),
            "{mf}"
        );
    }
}

#[test]
fn list_and_status_report_each_component_in_every_output_format() {
    for c in both() {
        let ns = c.namespace("read");
        c.samples(&ns, ALL_SAMPLES);
        let table = c.plugin(&["list", "-n", &ns]).ok();
        let lines: Vec<&str> = table.stdout.lines().collect();
        assert_eq!(lines.len(), 9, "{}", table.stdout);
        assert!(
            lines[0].starts_with("NAME")
                && lines[0].contains("TRACING")
                && lines[0].contains("SAMPLER")
        );
        assert!(
            table
                .stdout
                .contains("traced         1            on        probabilistic:0.1"),
            "{}",
            table.stdout
        );
        let json = c.plugin(&["list", "-n", &ns, "-o", "json"]).ok().json();
        assert_eq!(json["kind"], "DeploymentTracingList");
        let churn = json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == "churn")
            .unwrap();
        assert_eq!(churn["predictors"], serde_json::json!(["stable", "canary"]));
        assert_eq!(churn["tracing"], "off");
        let yaml = c
            .plugin(&["status", "traced", "-n", &ns, "-o", "yaml"])
            .ok()
            .stdout_has("kind: \"TracingStatusList\"");
        let doc: Value = serde_yaml::from_str(&yaml.stdout).expect("yaml");
        let comps = &doc["items"][0]["predictors"][0]["components"];
        assert_eq!(doc["apiVersion"], "seldon-tracing.kubectl.io/v2");
        assert_eq!(
            comps[0]["spansTo"],
            serde_json::json!({"kind": "agent", "host": {"valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}, "port": "6831", "source": "env"})
        );
        assert_eq!(
            comps[0]["sampler"],
            serde_json::json!({"type": "probabilistic", "param": "0.1", "default": false, "source": "env"})
        );
        assert_eq!(comps[1]["tracing"], "on");
        let wide = c.plugin(&["status", "-n", &ns, "-o", "wide"]).ok();
        assert!(wide.stdout.contains("SAMPLER-FROM"), "{}", wide.stdout);
        assert!(
            wide.stdout
                .contains("Warning: direct: predictor default: no executor"),
            "{}",
            wide.stdout
        );
        let all = c.plugin(&["list", "-A"]).ok();
        assert!(all.stdout.starts_with("NAMESPACE"), "{}", all.stdout);
        assert!(all.stdout.contains(&ns));
        // After the plugin's own apply, list counts exactly the warnings status prints: its own
        // field manager is never taken for a competitor.
        c.plugin(&["enable", "--all", "-n", &ns]).ok();
        let list = c.plugin(&["list", "-n", &ns, "-o", "json"]).ok().json();
        let status = c.plugin(&["status", "-n", &ns, "-o", "json"]).ok().json();
        let counts = |doc: &Value, count: &dyn Fn(&Value) -> usize| -> Vec<(String, usize)> {
            doc["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| (i["name"].as_str().unwrap().to_string(), count(i)))
                .collect()
        };
        let from_list = counts(&list, &|i| i["warningCount"].as_u64().unwrap() as usize);
        let from_status = counts(&status, &|i| i["warnings"].as_array().unwrap().len());
        assert_eq!(from_list.len(), 8);
        assert_eq!(from_list, from_status);
    }
}

#[test]
fn dry_runs_show_the_change_and_store_nothing() {
    let c = atomic();
    let ns = c.namespace("dryrun");
    c.samples(&ns, &["single-model"]);
    let before = c.get(&ns, "iris");
    for mode in ["--dry-run=server", "--dry-run=client"] {
        let out = c.plugin(&["enable", "iris", "-n", &ns, mode]).ok();
        let suffix = if mode.ends_with("server") {
            "(server dry run)"
        } else {
            "(dry run)"
        };
        assert!(
            out.stdout
                .starts_with(&format!("seldondeployment/iris tracing enabled {suffix}\n")),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains("+ default/classifier: TRACING=1"),
            "{}",
            out.stdout
        );
        assert_eq!(rv(&c.get(&ns, "iris")), rv(&before));
    }
    // The structured result of a mutation says the same.
    let doc = c
        .plugin(&[
            "enable",
            "iris",
            "-n",
            &ns,
            "--dry-run=server",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(doc["kind"], "TracingChangeList");
    let item = &doc["items"][0];
    assert_eq!(
        (item["result"].as_str(), item["dryRun"].as_str()),
        (Some("changed"), Some("server"))
    );
    let tracing = item["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|ch| ch["component"] == "classifier" && ch["var"] == "TRACING")
        .expect("TRACING change");
    assert_eq!(
        (tracing["before"].is_null(), tracing["after"].as_str()),
        (true, Some("1"))
    );
    assert_eq!(rv(&c.get(&ns, "iris")), rv(&before));
}

#[test]
fn restricted_user_gets_the_403_message_and_nothing_changes() {
    let c = atomic();
    let ns = c.namespace("forbidden");
    c.samples(&ns, &["single-model"]);
    let before = c.get(&ns, "iris");
    c.plugin_as("restricted", &["enable", "iris", "-n", &ns])
        .fails()
        .stderr_has("forbidden: you may not patch seldondeployments in namespace")
        .stderr_has(&format!(
            "kubectl auth can-i patch seldondeployments -n {ns}"
        ));
    assert_eq!(c.get(&ns, "iris"), before);
    // Reading is allowed.
    c.plugin_as("restricted", &["status", "iris", "-n", &ns])
        .ok();
}

#[test]
#[cfg_attr(
    not(feature = "test-seams"),
    ignore = "needs the test-seams feature (make test turns it on)"
)]
fn a_concurrent_edit_between_read_and_apply_is_retried_and_both_changes_kept() {
    for c in both() {
        let ns = c.namespace("conflict");
        c.samples(&ns, &["single-model"]);
        let kc = c.kubeconfig("admin");
        let other = format!(
            "kubectl --kubeconfig {kc} patch sdep iris -n {ns} --type json -p '[{{\"op\":\"replace\",\"path\":\"/spec/predictors/0/replicas\",\"value\":3}}]'"
        );
        let args = ["--kubeconfig", &kc, "enable", "iris", "-n", &ns];
        run(
            PLUGIN,
            &args,
            &[("SELDON_TRACING_TEST_HOOK_BEFORE_APPLY", &other)],
            None,
        )
        .ok();
        let after = c.get(&ns, "iris");
        assert_eq!(
            after["spec"]["predictors"][0]["replicas"], 3,
            "{}: the other writer's change was lost",
            c.variant
        );
        assert_eq!(
            env_pairs(&executor_env(&after, 0))[3],
            "JAEGER_SAMPLER_PARAM=1"
        );
    }
}

#[test]
fn selection_by_all_and_selector_and_one_failure_does_not_stop_the_others() {
    let c = atomic();
    let ns = c.namespace("bulk");
    c.samples(&ns, &["single-model", "graph", "canary"]);
    let out = c
        .plugin(&["disable", "-n", &ns, "-l", "team=payments"])
        .ok();
    assert_eq!(
        out.stdout,
        "seldondeployment/fraud-graph tracing disabled\n"
    );
    let out = c
        .plugin(&["sampler", "--all", "-n", &ns, "probabilistic:0.25"])
        .ok();
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    assert_eq!(
        env_pairs(&executor_env(&c.get(&ns, "churn"), 1)),
        [
            "JAEGER_SAMPLER_TYPE=probabilistic",
            "JAEGER_SAMPLER_PARAM=0.25"
        ]
    );
    let out = c
        .plugin(&["enable", "iris", "missing", "churn", "-n", &ns])
        .fails();
    assert_eq!(
        out.stdout,
        "seldondeployment/iris tracing enabled\nseldondeployment/churn tracing enabled\n"
    );
    assert!(
        out.stderr
            .contains("seldondeployment/missing failed: seldondeployment \"missing\" not found"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("2 changed, 0 unchanged, 1 failed: {ns}/missing")),
        "{}",
        out.stderr
    );
}

#[test]
fn status_of_a_name_with_all_namespaces_finds_it_everywhere() {
    let c = atomic();
    let (a, b) = (c.namespace("byname-a"), c.namespace("byname-b"));
    c.samples(&a, &["single-model", "graph"]);
    c.samples(&b, &["single-model"]);
    // Other tests create `iris` too, at the same time: only the name is certain everywhere.
    let out = c
        .plugin(&["status", "iris", "-A", "-o", "json", "--chunk-size", "1"])
        .ok();
    let items = serde_json::from_str::<Value>(&out.stdout).expect("json")["items"].clone();
    let items = items.as_array().expect("items");
    assert!(items.iter().all(|i| i["name"] == "iris"), "{}", out.stdout);
    for ns in [&a, &b] {
        assert_eq!(
            items
                .iter()
                .filter(|i| i["namespace"] == ns.as_str())
                .count(),
            1,
            "{ns}: {}",
            out.stdout
        );
    }
    c.plugin(&["status", "no-such-model", "-A"])
        .fails_with(1)
        .stderr_has("no seldondeployment named \"no-such-model\" in any namespace");
    c.plugin(&["status", "iris", "-l", "team=payments", "-n", &a])
        .fails_with(2)
        .stderr_has("cannot be used with");
}

#[test]
fn a_closed_output_pipe_neither_crashes_nor_stops_a_bulk_change() {
    let c = atomic();
    let ns = c.namespace("epipe");
    c.samples(&ns, &["single-model", "graph", "canary"]);
    // `| true` closes the pipe at once, so every line, warning and the summary meet EPIPE.
    let script =
        r#"kc=$1; shift; "$0" --kubeconfig "$kc" "$@" 2>&1 | true; exit "${PIPESTATUS[0]}""#;
    let kc = c.kubeconfig("admin");
    for args in [
        &["enable", "--all", "-n", &ns][..],
        &["status", "-A"][..],
        &["list", "-A", "-o", "yaml"][..],
    ] {
        let mut all = vec!["-c", script, PLUGIN, &kc];
        all.extend_from_slice(args);
        run("bash", &all, &[], None).ok();
    }
    for name in ["iris", "fraud-graph", "churn"] {
        assert!(
            env_pairs(&executor_env(&c.get(&ns, name), 0))
                .contains(&"JAEGER_SAMPLER_TYPE=const".to_string()),
            "{name} was not enabled"
        );
    }
}

#[test]
fn enable_through_kubectl_plugin_discovery_with_options() {
    let c = atomic();
    let ns = c.namespace("discovery");
    c.samples(&ns, &["canary"]);
    let path = plugin_path();
    let kc = c.kubeconfig("admin");
    run(
        "kubectl",
        &[
            "seldon-tracing",
            "enable",
            "churn",
            "--kubeconfig",
            &kc,
            "-n",
            &ns,
            "--predictor",
            "canary",
            "--agent-host",
            "jaeger-agent.tracing",
            "--agent-port",
            "6832",
            "--sampler",
            "ratelimiting:5",
        ],
        &[("PATH", &path)],
        None,
    )
    .ok();
    let obj = c.get(&ns, "churn");
    assert!(
        obj["spec"]["predictors"][0].get("svcOrchSpec").is_none(),
        "stable predictor was touched"
    );
    assert_eq!(
        env_pairs(&executor_env(&obj, 1)),
        [
            "JAEGER_AGENT_HOST=jaeger-agent.tracing",
            "JAEGER_AGENT_PORT=6832",
            "JAEGER_SAMPLER_TYPE=ratelimiting",
            "JAEGER_SAMPLER_PARAM=5",
            "JAEGER_TAGS=seldon.deployment=churn,seldon.predictor=canary"
        ]
    );
}
