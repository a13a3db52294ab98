//! The kubectl side of the end-to-end tests: a control plane made by `scripts/testcluster up`,
//! kubectl runs against it, objects read back. Shared by the tests (through `support`) and by
//! the operator stand-in's program for `make demo` (examples/operator_stand_in.rs), so nothing
//! here may need the test harness.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// One running control plane made by `scripts/testcluster up`.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub dir: PathBuf,
    pub variant: &'static str,
}

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub what: String,
}

impl Run {
    fn from(what: String, o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            what,
        }
    }

    fn describe(&self) -> String {
        format!(
            "{}\nexit: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }

    pub fn ok(self) -> Run {
        assert_eq!(self.code, Some(0), "expected success:\n{}", self.describe());
        self
    }

    pub fn fails(self) -> Run {
        assert!(
            self.code.is_some_and(|c| c != 0),
            "expected a non-zero exit:\n{}",
            self.describe()
        );
        self
    }

    pub fn fails_with(self, code: i32) -> Run {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit code {code}:\n{}",
            self.describe()
        );
        self
    }

    pub fn stderr_has(self, needle: &str) -> Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.describe()
        );
        self
    }

    pub fn stdout_has(self, needle: &str) -> Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.describe()
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.describe()))
    }
}

pub fn run(program: &str, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(program);
    // The caller's KUBECONFIG never leaks in; a test that wants one passes it in `env`.
    cmd.env_remove("KUBECONFIG")
        .args(args)
        .envs(env.iter().copied());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait for child");
    let run = Run::from(format!("{program} {}", args.join(" ")), out);
    keep_output(&run);
    run
}

/// Credentials the tests hand the plugin; `scripts/check-secrets` fails `make test` when one of
/// them (or a test control plane's client key) appears in any output kept below.
pub const PROXY_PASSWORD: &str = "pr0xy-pa55w0rd-9d2c";
pub const BEARER_TOKEN: &str = "b3arer-t0ken-6b1f0e77";
/// The password of the TLS proxy in front of Jaeger (tests/e2e/jaegers.rs), given in URLs.
pub const JAEGER_PASSWORD: &str = "ja3ger-pa55-41c7e2";

/// Appends a run's command and both streams to $SELDON_TRACING_TEST_OUTPUTS/<pid>.log, when set
/// (`make test` sets it and greps the lot for the test credentials afterwards).
fn keep_output(run: &Run) {
    let Some(dir) = std::env::var_os("SELDON_TRACING_TEST_OUTPUTS") else {
        return;
    };
    let path = std::path::Path::new(&dir).join(format!("{}.log", std::process::id()));
    let text = format!("$ {}\n{}\n{}\n", run.what, run.stdout, run.stderr);
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(text.as_bytes());
    }
}

impl Cluster {
    pub fn kubeconfig(&self, user: &str) -> String {
        self.dir
            .join(format!("{user}.kubeconfig"))
            .display()
            .to_string()
    }

    pub fn kubectl(&self, args: &[&str]) -> Run {
        let kc = self.kubeconfig("admin");
        let mut all = vec!["--kubeconfig", &kc];
        all.extend_from_slice(args);
        run("kubectl", &all, &[], None)
    }

    pub fn kubectl_in(&self, args: &[&str], stdin: &str) -> Run {
        let kc = self.kubeconfig("admin");
        let mut all = vec!["--kubeconfig", &kc];
        all.extend_from_slice(args);
        run("kubectl", &all, &[], Some(stdin))
    }

    pub fn get(&self, ns: &str, name: &str) -> Value {
        self.kubectl(&[
            "get",
            "sdep",
            "-n",
            ns,
            name,
            "-o",
            "json",
            "--show-managed-fields",
        ])
        .ok()
        .json()
    }
}
