//! Small helpers: run kubectl and the plugin against a test control plane, make namespaces,
//! read objects back. Failures print the command, its exit status and both streams.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

pub use crate::kube::{BEARER_TOKEN, Cluster, PROXY_PASSWORD, Run, run};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
pub const PLUGIN: &str = env!("CARGO_BIN_EXE_kubectl-seldon-tracing");

pub fn cluster_from(var: &str, variant: &'static str) -> Cluster {
    let dir = std::env::var_os(var).unwrap_or_else(|| {
        panic!("{var} is not set: run the end-to-end tests with `make test`, which starts the control planes")
    });
    Cluster {
        dir: PathBuf::from(dir),
        variant,
    }
}

/// The control plane whose test CRD has atomic env lists.
pub fn atomic() -> Cluster {
    cluster_from("SELDON_TRACING_TEST_ATOMIC", "atomic")
}

/// A control plane without the SeldonDeployment CRD.
pub fn bare() -> Cluster {
    cluster_from("SELDON_TRACING_TEST_BARE", "no-crd")
}

/// Held by each test that uses [`bare`]: `core2::each_generation_…` installs Seldon Core 2's
/// CRDs on it for a while, and `errors::a_cluster_without_the_crd_…` expects it to serve neither
/// generation (run side by side, the second saw Seldon Core 2 once).
pub fn bare_in_use() -> std::sync::MutexGuard<'static, ()> {
    static IN_USE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    IN_USE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The control plane whose kube-apiserver the fault tests stop and start (no other test uses it).
pub fn faults() -> Cluster {
    cluster_from("SELDON_TRACING_TEST_FAULTS", "atomic")
}

/// Both control planes: atomic env lists and env lists as maps keyed by name.
pub fn both() -> Vec<Cluster> {
    vec![
        atomic(),
        cluster_from("SELDON_TRACING_TEST_ENVMAP", "env-map"),
    ]
}

impl Cluster {
    /// Runs the built plugin binary as `user` (admin or restricted).
    pub fn plugin_as(&self, user: &str, args: &[&str]) -> Run {
        let kc = self.kubeconfig(user);
        let mut all = vec!["--kubeconfig", &kc];
        all.extend_from_slice(args);
        run(PLUGIN, &all, &[], None)
    }

    /// Grants `user` the `verbs` on `resource` in `ns` (a Role and a RoleBinding named `name`),
    /// and returns once the API server's authorizer says yes to each verb.
    ///
    /// The RBAC authorizer answers from informer caches of Roles and RoleBindings, which follow
    /// etcd a moment behind: a request sent right after the binding is created may still be
    /// refused. Every test that grants a permission and then acts on it goes through here.
    pub fn grant(&self, ns: &str, name: &str, user: &str, verbs: &str, resource: &str) {
        self.kubectl(&[
            "create",
            "role",
            name,
            "-n",
            ns,
            "--verb",
            verbs,
            "--resource",
            resource,
        ])
        .ok();
        self.kubectl(&[
            "create",
            "rolebinding",
            name,
            "-n",
            ns,
            "--role",
            name,
            "--user",
            user,
        ])
        .ok();
        for verb in verbs.split(',') {
            self.wait_allowed(user, verb, resource, Some(ns));
        }
    }

    /// Waits until `kubectl auth can-i VERB RESOURCE --as USER` says yes (in `ns`, or cluster-wide);
    /// panics after 30 s with the last answer.
    pub fn wait_allowed(&self, user: &str, verb: &str, resource: &str, ns: Option<&str>) {
        let started = std::time::Instant::now();
        let mut args = vec!["auth", "can-i", verb, resource, "--as", user];
        if let Some(ns) = ns {
            args.extend(["-n", ns]);
        }
        let mut polls = 0;
        loop {
            let r = self.kubectl(&args);
            polls += 1;
            if r.code == Some(0) && r.stdout.trim() == "yes" {
                break;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "{user} may still not {verb} {resource} after 30 s: {} {}",
                r.stdout,
                r.stderr
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        // How long the authorizer lagged, where it did (SELDON_TRACING_TEST_RBAC_LOG names a file).
        if polls > 1
            && let Some(log) = std::env::var_os("SELDON_TRACING_TEST_RBAC_LOG")
        {
            use std::io::Write as _;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
            {
                let _ = writeln!(
                    f,
                    "{user} {verb} {resource}: allowed after {polls} polls, {} ms",
                    started.elapsed().as_millis()
                );
            }
        }
    }

    /// A user that admin impersonates (kubeconfig `as:`), allowed only `verbs` on
    /// SeldonDeployments in `ns`; returns the name to pass to [`Cluster::plugin_as`].
    pub fn impersonating(&self, ns: &str, user: &str, verbs: &str) -> String {
        let who = format!("{user}-{ns}");
        self.grant(
            ns,
            &who,
            &who,
            verbs,
            "seldondeployments.machinelearning.seldon.io",
        );
        let admin = std::fs::read_to_string(self.kubeconfig("admin")).expect("admin kubeconfig");
        assert!(
            admin.contains("\n  user:\n"),
            "unexpected kubeconfig layout:\n{admin}"
        );
        let config = admin.replacen("\n  user:\n", &format!("\n  user:\n    as: {who}\n"), 1);
        std::fs::write(self.kubeconfig(&who), config).expect("write kubeconfig");
        who
    }

    pub fn plugin(&self, args: &[&str]) -> Run {
        self.plugin_as("admin", args)
    }

    /// A new namespace for one test; namespaces never finish deleting here, so names are unique.
    pub fn namespace(&self, prefix: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let ns = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        self.kubectl(&["create", "namespace", &ns]).ok();
        ns
    }

    /// `n` copies of the single-model sample, `m-0` ... `m-<n-1>`, in `ns` (500 per request).
    pub fn many(&self, ns: &str, n: usize) {
        let sample = std::fs::read_to_string(sample_path("single-model")).expect("sample");
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let docs: Vec<String> = chunk
                .iter()
                .map(|i| sample.replace("name: iris", &format!("name: m-{i}")))
                .collect();
            self.kubectl_in(&["create", "-n", ns, "-f", "-"], &docs.join("\n---\n"))
                .ok();
        }
    }

    /// `kubectl label sdep --all -n ns KEY=VALUE --overwrite`, as admin: a writer of fields the
    /// plugin does not own.
    pub fn relabel_all(&self, ns: &str, label: &str) {
        self.kubectl(&["label", "sdep", "--all", "-n", ns, label, "--overwrite"])
            .ok();
    }

    /// The sum of the server's metric samples (`/metrics`) named `metric` whose labels contain
    /// every one of `labels`.
    pub fn metric(&self, metric: &str, labels: &[&str]) -> u64 {
        let metrics = self.kubectl(&["get", "--raw", "/metrics"]).ok().stdout;
        metrics
            .lines()
            .filter(|l| l.starts_with(&format!("{metric}{{")))
            .filter(|l| labels.iter().all(|want| l.contains(want)))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    /// 409 answers to applies and patches of seldondeployments so far.
    pub fn conflicts(&self) -> u64 {
        let applies = [r#"code="409""#, r#"resource="seldondeployments""#];
        self.metric("apiserver_request_total", &applies)
    }

    /// Creates sample deployments (file stems under tests/fixtures/samples) in `ns`.
    pub fn samples(&self, ns: &str, names: &[&str]) {
        for n in names {
            let f = sample_path(n);
            self.kubectl(&["create", "-n", ns, "-f", &f.display().to_string()])
                .ok();
        }
    }
}

pub fn sample_path(stem: &str) -> PathBuf {
    Path::new(FIXTURES)
        .join("samples")
        .join(format!("{stem}.yaml"))
}

/// The object's spec (what the plugin may change) without server-managed metadata.
pub fn spec(obj: &Value) -> Value {
    obj["spec"].clone()
}

/// Env list of the executor of predictor `p`.
pub fn executor_env(obj: &Value, p: usize) -> Value {
    obj["spec"]["predictors"][p]["svcOrchSpec"]["env"].clone()
}

/// `name=value` pairs (valueFrom shown as `name=<from>`) of an env list, in order.
pub fn env_pairs(env: &Value) -> Vec<String> {
    env.as_array()
        .map(|l| {
            l.iter()
                .map(|e| {
                    let name = e["name"].as_str().unwrap_or("?");
                    match e.get("value") {
                        Some(v) => format!("{name}={}", v.as_str().unwrap_or("?")),
                        None => format!("{name}=<from>"),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A fresh directory under the target dir (kept for inspection after a failure).
pub fn tempdir(tag: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// A PATH holding the plugin and its completion helper under the names kubectl looks for.
pub fn plugin_path() -> String {
    let bin = tempdir("plugin-path");
    std::os::unix::fs::symlink(PLUGIN, bin.join("kubectl-seldon_tracing")).expect("symlink plugin");
    let helper =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kubectl_complete-seldon_tracing");
    std::os::unix::fs::symlink(helper, bin.join("kubectl_complete-seldon_tracing"))
        .expect("symlink helper");
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}
