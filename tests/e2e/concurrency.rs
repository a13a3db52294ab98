//! Concurrent writers on the same objects: two plugin runs at once (`enable` and `sampler`),
//! while kubectl relabels every object and changes replicas inside `spec.predictors` (the very
//! list the plugin applies). Nothing may be lost: every label and replica edit survives, and every
//! object ends in the one state either order of the two runs gives.

use std::time::Duration;

use crate::support::*;

#[test]
fn two_runs_and_kubectl_at_once_lose_nothing() {
    let c = atomic();
    let ns = c.namespace("concurrent");
    const N: usize = 120;
    const REPLICA_EDITS: usize = 12;
    c.many(&ns, N);
    let conflicts_before = c.conflicts();
    let writers = std::thread::scope(|s| {
        let enable =
            s.spawn(|| c.plugin(&["enable", "--all", "-n", &ns, "--concurrency", "1", "--yes"]));
        let sampler = s.spawn(|| {
            c.plugin(&[
                "sampler",
                "--all",
                "probabilistic:0.3",
                "-n",
                &ns,
                "--concurrency",
                "1",
                "--yes",
            ])
        });
        // kubectl relabels every object, three rounds, while the runs go on.
        let labels = s.spawn(|| {
            for round in 0..3 {
                c.relabel_all(&ns, &format!("round=r{round}"));
            }
        });
        // ... and edits replicas inside spec.predictors on some objects, one at a time.
        let replicas = s.spawn(|| {
            for i in 0..REPLICA_EDITS {
                let patch = format!(
                    r#"[{{"op": "replace", "path": "/spec/predictors/0/replicas", "value": {}}}]"#,
                    2 + i
                );
                c.kubectl(&[
                    "patch",
                    "sdep",
                    &format!("m-{}", i * 7 % N),
                    "-n",
                    &ns,
                    "--type",
                    "json",
                    "-p",
                    &patch,
                ])
                .ok();
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        labels.join().expect("labels");
        replicas.join().expect("replicas");
        (
            enable.join().expect("enable"),
            sampler.join().expect("sampler"),
        )
    });
    let (enable, sampler) = writers;
    // The writers did collide: the server refused stale writes, and they were done again.
    let collided = c.conflicts() - conflicts_before;
    eprintln!("409 Conflict answers during the run: {collided}");
    // Both runs finished every object (conflicts were re-read and re-planned, not failed).
    for run in [&enable, &sampler] {
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(run.stderr.contains(", 0 failed"), "{}", run.stderr);
    }
    let list = c
        .kubectl(&["get", "sdep", "-n", &ns, "-o", "json"])
        .ok()
        .json();
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), N);
    for o in items {
        let name = o["metadata"]["name"].as_str().unwrap_or("?");
        // Every label edit survived.
        assert_eq!(o["metadata"]["labels"]["round"], "r2", "{name}");
        // One consistent tracing state: enabled, with the sampler the sampler run set.
        let exec = env_pairs(&executor_env(o, 0));
        assert!(
            exec.contains(&"JAEGER_SAMPLER_TYPE=probabilistic".to_string()),
            "{name}: {exec:?}"
        );
        assert!(
            exec.contains(&"JAEGER_SAMPLER_PARAM=0.3".to_string()),
            "{name}: {exec:?}"
        );
        assert!(
            !exec.iter().any(|e| e.starts_with("JAEGER_DISABLED=true")),
            "{name}: {exec:?}"
        );
    }
    // Every replica edit survived (the last one to each object).
    for i in 0..REPLICA_EDITS {
        let name = format!("m-{}", i * 7 % N);
        let last = (0..REPLICA_EDITS)
            .rfind(|j| j * 7 % N == i * 7 % N)
            .expect("an edit");
        assert_eq!(
            c.get(&ns, &name)["spec"]["predictors"][0]["replicas"],
            2 + last,
            "{name}"
        );
    }
    c.plugin(&["status", "-n", &ns, "--expect", "on"]).ok();
}
