//! The write of one object: read (or take it as the selection listed it), plan on the raw JSON,
//! server-side apply with the resourceVersion read (compare-and-swap), and on a conflict read and
//! plan again. Several
//! objects run concurrently; results come back in the order the targets were given.

use futures::{StreamExt, stream};
use serde_json::{Value, json};

use crate::cluster::{Applied, Cluster};
use crate::domain::json::data_of;
use crate::domain::v1::config_file::plugin_map as ownfile;
use crate::domain::v1::plan::{
    Intent, Plan, drop_answered_user_files, plan_with, touches_own_files,
};
use crate::domain::v1::status::competing_manager_warnings;
use crate::error::{Error, Result};
use crate::options::DryRun;
use crate::render::v1::{Outcome, WriteResult};

/// Attempts per object before giving up on conflicts.
const MAX_ATTEMPTS: u32 = 5;
/// Applies per object whose answer may be lost (connection cut after sending) before the error
/// stands, should the server keep answering reads but not writes.
const MAX_LOST_ANSWERS: u32 = 10;

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

/// Objects as the selection listed them, by (namespace, name): the first plan of each starts
/// from it instead of a read of its own (a conflict, or an apply whose answer was lost, reads
/// again). The resourceVersion in the apply keeps a stale one from being written over.
pub(crate) type Listed = std::collections::HashMap<(String, String), Value>;

pub(crate) struct Job<'a> {
    pub cluster: &'a Cluster,
    pub api: &'a str,
    pub intent: &'a Intent,
    pub predictors: &'a [String],
    pub field_manager: &'a str,
    pub concurrency: usize,
    pub dry_run: DryRun,
    pub listed: Option<&'a Listed>,
}

impl Job<'_> {
    /// The plugin's ConfigMap of `obj`, read when the change may need it (None: it does not
    /// exist, or is not needed). One that is not the plugin's is an error: it is never taken over.
    async fn own_config_map(&self, ns: &str, name: &str, obj: &Value) -> Result<Option<Value>> {
        if !touches_own_files(obj, self.intent, self.predictors) {
            return Ok(None);
        }
        let cm_name = ownfile::config_map_name(name);
        let cm = match self.cluster.get_config_map(ns, &cm_name).await {
            Ok(cm) => cm,
            Err(Error::Forbidden { message, .. }) => {
                return Err(Error::Rbac {
                    verb: "get".into(),
                    resource: "configmaps".into(),
                    namespace: ns.into(),
                    message,
                    instead: format!(
                        "where the plugin keeps Python components' config files (ConfigMap {cm_name}); nothing was changed"
                    ),
                });
            }
            Err(e) => return Err(e),
        };
        match cm {
            Some(cm) if !ownfile::is_ours(&cm) => Err(Error::Object {
                namespace: ns.into(),
                name: name.into(),
                message: format!(
                    "ConfigMap {cm_name} exists and is not the plugin's (no label {}={}), so its Python components' config files cannot go there; rename that ConfigMap; nothing was changed",
                    ownfile::MANAGED_BY.0,
                    ownfile::MANAGED_BY.1
                ),
            }),
            cm => Ok(cm),
        }
    }

    pub(crate) async fn one(&self, ns: &str, name: &str) -> Outcome {
        let mut outcome = Outcome {
            namespace: ns.into(),
            name: name.into(),
            result: WriteResult::Failed,
            dry_run: self.dry_run,
            changes: Vec::new(),
            warnings: Vec::new(),
            error: None,
        };
        match self.attempt(ns, name, &mut outcome).await {
            Ok(true) => outcome.result = WriteResult::Changed,
            Ok(false) => outcome.result = WriteResult::Unchanged,
            Err(e) => {
                if matches!(e, Error::Interrupted) {
                    outcome.result = WriteResult::Interrupted;
                }
                outcome.error = Some(e.to_string());
            }
        }
        outcome
    }

    /// Read, plan, apply; on a resourceVersion conflict start over from a fresh read. A server
    /// that cannot be reached is waited for (`Cluster::patiently`); an apply whose answer was
    /// lost is decided by the next read: already as asked means it was applied.
    async fn attempt(&self, ns: &str, name: &str, out: &mut Outcome) -> Result<bool> {
        let mut conflicts = 0;
        let mut lost = 0;
        // The changes of an apply whose answer never came.
        let mut unanswered: Option<Vec<crate::domain::v1::plan::Change>> = None;
        let mut attempt = 0;
        let mut listed = self
            .listed
            .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
            .cloned();
        loop {
            let read = match listed.take() {
                Some(obj) => Ok(obj),
                None => {
                    self.cluster
                        .patiently(|| self.cluster.get(self.api, ns, name))
                        .await
                }
            };
            let obj = match read {
                Ok(obj) => obj,
                // Say so when the last apply may have been carried out after all.
                Err(e) if unanswered.is_some() => {
                    return Err(Error::Object {
                        namespace: ns.into(),
                        name: name.into(),
                        message: format!(
                            "may have been changed: an apply was sent but its answer was lost, then {e}; run the command again to see (it changes only what is not yet as asked)"
                        ),
                    });
                }
                Err(e) => return Err(e),
            };
            let object_error = |message: String| Error::Object {
                namespace: ns.into(),
                name: name.into(),
                message,
            };
            let own = self.own_config_map(ns, name, &obj).await?;
            let own_data = own.as_ref().map(data_of);
            let plan = plan_with(&obj, self.intent, self.predictors, own_data.as_ref())
                .map_err(object_error)?;
            out.warnings = plan.warnings.clone();
            if out.warnings.iter().any(|w| w.code() == "user-config-file") {
                let files = crate::commands::v1::read::config_files(
                    self.cluster,
                    std::slice::from_ref(&obj),
                )
                .await?;
                drop_answered_user_files(&obj, self.intent, &files, &mut out.warnings);
            }
            out.warnings
                .extend(competing_manager_warnings(&obj, self.field_manager));
            out.changes = plan.changes.clone();
            if plan.changes.is_empty() {
                // As asked now; after an apply that got no answer, that apply made it so.
                if let Some(changes) = unanswered {
                    out.changes = changes;
                    return Ok(true);
                }
                return Ok(false);
            }
            if self.dry_run == DryRun::Client {
                return Ok(true);
            }
            let body = apply_body(self.api, &obj, &plan);
            run_test_hook(attempt);
            attempt += 1;
            if crate::prompt::stopping() {
                return Err(Error::Interrupted);
            }
            let server_dry = self.dry_run == DryRun::Server;
            // The files first: a pod must never start against a key that is not there yet.
            let mut after = obj.clone();
            after["spec"]["predictors"] = plan.predictors.clone();
            let data = ownfile::desired_data(&obj, &after, &plan.files, own_data.as_ref());
            if !data.is_empty() && Some(&data) != own_data.as_ref() {
                let rv = own
                    .as_ref()
                    .and_then(|cm| cm.pointer("/metadata/resourceVersion"))
                    .and_then(Value::as_str);
                let cm = ownfile::config_map(&obj, &data, rv);
                match self
                    .cluster
                    .apply_config_map(&cm, self.field_manager, server_dry)
                    .await?
                {
                    Applied::Done(_) => {}
                    Applied::Conflict => {
                        conflicts += 1;
                        if conflicts == MAX_ATTEMPTS {
                            return Err(Error::Conflicts {
                                namespace: ns.into(),
                                name: name.into(),
                                attempts: MAX_ATTEMPTS,
                            });
                        }
                        continue;
                    }
                }
            }
            match self
                .cluster
                .apply(self.api, ns, name, &body, self.field_manager, server_dry)
                .await
            {
                Ok(Applied::Done(_)) => return Ok(true),
                Ok(Applied::Conflict) => conflicts += 1,
                // Sent, maybe carried out, answer lost: the next read tells.
                Err(e) if e.is_transient() && lost < MAX_LOST_ANSWERS => {
                    lost += 1;
                    unanswered = Some(plan.changes.clone());
                }
                Err(e) => return Err(e),
            }
            if conflicts == MAX_ATTEMPTS {
                return Err(Error::Conflicts {
                    namespace: ns.into(),
                    name: name.into(),
                    attempts: MAX_ATTEMPTS,
                });
            }
        }
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

/// Runs `job` on every target, at most `--concurrency` at a time, yielding in target order;
/// after Ctrl-C it starts no further target, so it may yield fewer than given.
pub fn run_all<'a>(
    job: &'a Job<'a>,
    targets: &'a [(String, String)],
) -> impl futures::Stream<Item = Outcome> + 'a {
    stream::iter(targets.iter())
        // After Ctrl-C no further object is started (see `prompt::stopping`).
        .take_while(|_| futures::future::ready(!crate::prompt::stopping()))
        .map(move |(ns, name)| job.one(ns, name))
        .buffered(job.concurrency)
}
