//! The `console` examples in the docs are real: each `$ kubectl seldon-tracing ...` line is run,
//! in document order, through kubectl plugin discovery, and its stdout must equal the text shown
//! (the AGE column aside, which depends on the clock). docs/commands.md runs against the control
//! plane with the sample deployments in namespaces `models` and `docs`; docs/gitops.md runs
//! `--local` in a directory holding `deploy/iris.yaml` and `deploy/fraud-graph.yaml`.

use crate::support::*;

/// (command words after `$ `, expected stdout) for every command of every console block.
fn examples(text: &str) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = line.trim() == "```console";
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.push((
                cmd.split_whitespace().map(str::to_string).collect(),
                String::new(),
            ));
        } else if let Some((_, expected)) = out.last_mut() {
            expected.push_str(line);
            expected.push('\n');
        }
    }
    out
}

/// Replaces the AGE column's values (`0s`, `12m`, `3d` at the end of a row) with `<age>`.
fn without_age(s: &str) -> String {
    s.lines()
        .map(|l| match l.rsplit_once("   ") {
            Some((head, age))
                if age.trim().len() <= 4
                    && age.trim().ends_with(['s', 'm', 'h', 'd'])
                    && age.trim()[..age.trim().len() - 1]
                        .chars()
                        .all(|c| c.is_ascii_digit()) =>
            {
                format!("{head}   <age>")
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn command_examples_in_the_docs_are_real_output() {
    let c = atomic();
    // Fixed names: the docs show them. Each control plane is new for each `make test` run.
    for ns in ["models", "docs"] {
        c.kubectl(&["create", "namespace", ns]).ok();
        let dir = std::path::Path::new(FIXTURES)
            .join("samples")
            .display()
            .to_string();
        c.kubectl(&["apply", "-n", ns, "-f", &dir]).ok();
    }
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md"),
    )
    .expect("docs/commands.md");
    let examples = examples(&text);
    assert!(
        examples.len() >= 6,
        "found only {} examples",
        examples.len()
    );
    let path = plugin_path();
    let kc = c.kubeconfig("admin");
    let mut actual_outputs = Vec::new();
    for (cmd, expected) in examples {
        assert_eq!(cmd[..2], ["kubectl", "seldon-tracing"], "{cmd:?}");
        let args: Vec<&str> = cmd[1..].iter().map(String::as_str).collect();
        let out = run(
            "kubectl",
            &args,
            &[("PATH", &path), ("KUBECONFIG", &kc)],
            None,
        )
        .ok();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            actual_outputs.push(out.stdout.clone());
            continue;
        }
        assert_eq!(
            without_age(&out.stdout),
            without_age(&expected),
            "docs/commands.md: `{}` prints something else",
            cmd.join(" ")
        );
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md"),
            with_outputs(&text, &actual_outputs),
        )
        .expect("rewrite docs/commands.md");
    }
}

/// The document with each console command's output replaced by `outputs`, in order
/// (`UPDATE_DOCS=1` rewrites docs/commands.md from real runs; review the diff).
fn with_outputs(text: &str, outputs: &[String]) -> String {
    let mut out = String::new();
    let mut next = outputs.iter();
    let mut in_block = false;
    let mut skipping = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = line.trim() == "```console";
            skipping = false;
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if in_block && line.starts_with("$ ") {
            out.push_str(line);
            out.push('\n');
            out.push_str(next.next().map(String::as_str).unwrap_or(""));
            skipping = true;
            continue;
        }
        if in_block && skipping {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn gitops_examples_are_real_output() {
    let dir = tempdir("gitops-docs");
    let deploy = dir.join("deploy");
    std::fs::create_dir_all(&deploy).expect("deploy dir");
    for (stem, file) in [("single-model", "iris.yaml"), ("graph", "fraud-graph.yaml")] {
        std::fs::copy(sample_path(stem), deploy.join(file)).expect("copy sample");
    }
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/gitops.md"),
    )
    .expect("docs/gitops.md");
    let examples = examples(&text);
    assert!(
        examples.len() >= 4,
        "found only {} examples",
        examples.len()
    );
    let path = plugin_path();
    for (cmd, expected) in examples {
        assert_eq!(cmd[..2], ["kubectl", "seldon-tracing"], "{cmd:?}");
        let out = std::process::Command::new("kubectl")
            .args(&cmd[1..])
            .current_dir(&dir)
            .env("PATH", &path)
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .output()
            .expect("run kubectl");
        assert!(
            out.status.success(),
            "`{}` failed: {}",
            cmd.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "docs/gitops.md: `{}` prints something else",
            cmd.join(" ")
        );
    }
}
