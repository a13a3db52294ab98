//! The write of one object: read, plan on the raw JSON, server-side apply with the
//! resourceVersion read (compare-and-swap), and on a conflict read and plan again. Several
//! objects run concurrently; results come back in the order the targets were given.

use futures::{StreamExt, stream};
use serde_json::{Value, json};

use crate::cluster::{Applied, Cluster};
use crate::domain::plan::{Intent, Plan, plan};
use crate::domain::status::competing_manager_warnings;
use crate::error::{Error, Result};
use crate::invocation::DryRun;
use crate::render::{Outcome, Verdict};

/// Attempts per object before giving up on conflicts.
const MAX_ATTEMPTS: u32 = 5;

/// The apply body: only what the plugin owns, plus the resourceVersion that makes it a CAS.
fn apply_body(api: &str, obj: &Value, plan: &Plan) -> Value {
    json!({
        "apiVersion": api,
        "kind": "SeldonDeployment",
        "metadata": {
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "resourceVersion": obj["metadata"]["resourceVersion"],
        },
        "spec": {"predictors": plan.predictors},
    })
}

pub(crate) struct Job<'a> {
    pub cluster: &'a Cluster,
    pub api: &'a str,
    pub intent: &'a Intent,
    pub predictors: &'a [String],
    pub field_manager: &'a str,
    pub concurrency: usize,
    pub dry_run: DryRun,
}

impl Job<'_> {
    pub(crate) async fn one(&self, ns: &str, name: &str) -> Outcome {
        let mut outcome = Outcome {
            namespace: ns.into(),
            name: name.into(),
            result: Verdict::Failed,
            dry_run: self.dry_run,
            changes: Vec::new(),
            warnings: Vec::new(),
            error: None,
        };
        match self.attempt(ns, name, &mut outcome).await {
            Ok(true) => outcome.result = Verdict::Changed,
            Ok(false) => outcome.result = Verdict::Unchanged,
            Err(e) => outcome.error = Some(e.to_string()),
        }
        outcome
    }

    /// Read, plan, apply; on a resourceVersion conflict start over from a fresh read.
    async fn attempt(&self, ns: &str, name: &str, out: &mut Outcome) -> Result<bool> {
        for attempt in 0..MAX_ATTEMPTS {
            let obj = self.cluster.get(self.api, ns, name).await?;
            let object_error = |message: String| Error::Object {
                namespace: ns.into(),
                name: name.into(),
                message,
            };
            let plan = plan(&obj, self.intent, self.predictors).map_err(object_error)?;
            out.warnings = plan.warnings.clone();
            out.warnings
                .extend(competing_manager_warnings(&obj, self.field_manager));
            out.changes = plan.changes.clone();
            if plan.changes.is_empty() {
                return Ok(false);
            }
            if self.dry_run == DryRun::Client {
                return Ok(true);
            }
            let body = apply_body(self.api, &obj, &plan);
            run_test_hook(attempt);
            let server_dry = self.dry_run == DryRun::Server;
            match self
                .cluster
                .apply(self.api, ns, name, &body, self.field_manager, server_dry)
                .await?
            {
                Applied::Done(_) => return Ok(true),
                Applied::Conflict => continue,
            }
        }
        Err(Error::Conflicts {
            namespace: ns.into(),
            name: name.into(),
            attempts: MAX_ATTEMPTS,
        })
    }
}

/// Test seam for the end-to-end tests, compiled only with the `test-seams` feature:
/// `SELDON_TRACING_TEST_HOOK_BEFORE_APPLY` names a shell command run once, after the first read
/// and before the first apply, so a test can change the object or hold the plugin in exactly
/// that window. The conflict loop itself is covered in-process by `mock_tests`.
#[cfg(feature = "test-seams")]
fn run_test_hook(attempt: u32) {
    if attempt > 0 {
        return;
    }
    if let Some(cmd) = std::env::var_os("SELDON_TRACING_TEST_HOOK_BEFORE_APPLY") {
        let _ = std::process::Command::new("sh").arg("-c").arg(cmd).status();
    }
}

#[cfg(not(feature = "test-seams"))]
fn run_test_hook(_attempt: u32) {}

/// Runs `job` on every target, at most `--concurrency` at a time, yielding in target order.
pub fn run_all<'a>(
    job: &'a Job<'a>,
    targets: &'a [(String, String)],
) -> impl futures::Stream<Item = Outcome> + 'a {
    stream::iter(targets.iter())
        .map(move |(ns, name)| job.one(ns, name))
        .buffered(job.concurrency)
}
