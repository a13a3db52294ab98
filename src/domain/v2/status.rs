//! `status --core v2` of one SeldonRuntime: its setting, verdict, whether the operator's
//! ConfigMap holds it, which workloads' pods run it, and the warnings with their codes.

use serde::Serialize;
use serde_json::Value;

use crate::domain::goparse;
use crate::domain::json::str_at;
use crate::domain::v2::CONFIG_MAP;
use crate::domain::v2::DISABLE;
use crate::domain::v2::plan::restart_command;
use crate::domain::v2::setting::ConfigMapRead;
use crate::domain::v2::setting::ConfigMapState;
use crate::domain::v2::setting::Effective;
use crate::domain::v2::setting::Source;
use crate::domain::v2::setting::Verdict;
use crate::domain::v2::setting::applied;
use crate::domain::v2::setting::effective;
use crate::domain::v2::setting::file_verdict;
use crate::domain::v2::setting::tracing_config;
use crate::domain::v2::setting::verdict;
use crate::domain::v2::workloads as loaded;
use crate::domain::v2::workloads::{Freshness, Workload};

/// A v2 warning: a stable code and one line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

/// The codes, each with what it means (docs/output.md lists them).
pub const CODES: &[(&str, &str)] = &[
    (
        "seldon-config-missing",
        "the SeldonConfig a runtime names does not exist where the operator reads it",
    ),
    (
        "seldon-config-unread",
        "the SeldonConfig could not be read, so values it would fill are unknown",
    ),
    (
        "config-disable-ignored",
        "a SeldonConfig says disable: true, which the operator never copies",
    ),
    (
        "operator-not-applied",
        "ConfigMap seldon-tracing is missing or holds another setting",
    ),
    (
        "auto-update-off",
        "disableAutoUpdate: the SeldonConfig's later changes do not reach the runtime",
    ),
    (
        "ratio-nan",
        "ratio NaN: every trace on amd64 nodes, none on arm64",
    ),
    (
        "config-map-invalid",
        "ConfigMap seldon-tracing holds a file the core components exit on at their next start",
    ),
    (
        "restart-needed",
        "pods started before the ConfigMap's last write: they run the old setting",
    ),
    (
        "pods-unread",
        "the namespace's workloads or pods could not be listed, so PODS is unknown",
    ),
    (
        "mlserver-no-spans",
        "a Server's mlserver container has no MLSERVER_TRACING_SERVER: MLServer records no spans",
    ),
    (
        "mlserver-ignores-disable",
        "tracing is off or samples nothing, but MLServer exports spans (it ignores disable and ratio)",
    ),
    (
        "helm-managed",
        "a Helm release made the runtime: helm upgrade puts its tracing values back",
    ),
    (
        "managed-by",
        "another field manager applies spec.config.tracingConfig: its next apply reverts a change",
    ),
    (
        "argocd-tracked",
        "Argo CD tracks the runtime: a sync puts Git's tracing values back",
    ),
];

/// The verdict of a `tracing.json` as written (see [`file_verdict`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileVerdict {
    /// on | off | idle | invalid
    pub tracing: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One SeldonRuntime's tracing, as `status --core v2` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuntimeStatus {
    /// Always `v2`: which Seldon generation the item describes.
    pub core: &'static str,
    pub namespace: String,
    pub name: String,
    #[serde(rename = "seldonConfig")]
    pub seldon_config: String,
    /// on | off | idle | invalid | unknown
    pub tracing: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(flatten)]
    pub effective: Effective,
    /// ConfigMap `seldon-tracing`: current | missing | differs | unknown
    #[serde(rename = "configMap")]
    pub config_map: &'static str,
    /// When the ConfigMap holds something else: what a pod starting now makes of it.
    #[serde(rename = "configMapTracing", skip_serializing_if = "Option::is_none")]
    pub config_map_tracing: Option<FileVerdict>,
    /// Whether the pods run this setting: the worst of `workloads` (see `loaded::Loaded`).
    pub pods: Freshness,
    /// Each Deployment and StatefulSet that reads ConfigMap `seldon-tracing`.
    pub workloads: Vec<Workload>,
    pub warnings: Vec<Warning>,
}

/// The status of `runtime`, given its SeldonConfig (read in `config_namespace`) and the
/// operator's ConfigMap in its namespace.
pub fn runtime_status(
    runtime: &Value,
    config: &ConfigMapRead,
    config_namespace: &str,
    cm: &ConfigMapRead,
) -> RuntimeStatus {
    let sc_name = str_at(runtime, &["spec", "seldonConfig"])
        .unwrap_or("")
        .to_string();
    let e = effective(runtime, config.found());
    let mut warnings = Vec::new();
    let mut warn = |code: &'static str, message: String| warnings.push(Warning { code, message });
    let (mut tracing, mut reason) = verdict(&e).words();
    if e.ratio
        .value
        .as_deref()
        .and_then(|r| goparse::parse_float(r).ok())
        .is_some_and(f64::is_nan)
        && !e.disable
    {
        warn(
            "ratio-nan",
            "ratio NaN: Go's conversion of it to a sampling bound samples every trace on amd64 nodes (seen) and none on arm64; write a number from 0 to 1".into(),
        );
    }
    let from_runtime = [&e.ratio, &e.endpoint, &e.protocol]
        .iter()
        .all(|s| s.from == Source::Runtime);
    match config {
        ConfigMapRead::Missing => warn(
            "seldon-config-missing",
            format!(
                "SeldonConfig {config_namespace}/{sc_name} does not exist, so the operator fills nothing from it (and refuses to reconcile the runtime)"
            ),
        ),
        ConfigMapRead::NotRead(why) => {
            warn(
                "seldon-config-unread",
                format!(
                    "SeldonConfig {config_namespace}/{sc_name} was not read ({why}); values the runtime leaves empty are unknown"
                ),
            );
            if !e.disable && !from_runtime {
                tracing = "unknown";
                reason = Some(format!(
                    "values the runtime leaves empty come from SeldonConfig {config_namespace}/{sc_name}, which was not read"
                ));
            }
        }
        ConfigMapRead::Found(sc) => {
            let sc_disable = tracing_config(Some(sc))
                .and_then(|t| t.get(DISABLE))
                .and_then(Value::as_bool)
                == Some(true);
            if sc_disable && !e.disable {
                warn(
                    "config-disable-ignored",
                    format!(
                        "SeldonConfig {sc_name} says disable: true, which the operator never copies: tracing is off only with disable: true on the SeldonRuntime"
                    ),
                );
            }
            let auto_off = runtime
                .pointer("/spec/disableAutoUpdate")
                .and_then(Value::as_bool)
                == Some(true);
            if auto_off && !from_runtime {
                warn(
                    "auto-update-off",
                    format!(
                        "disableAutoUpdate is set: later changes to SeldonConfig {sc_name} do not reach this runtime"
                    ),
                );
            }
        }
    }
    let mut loaded_now = None;
    let config_map = match cm {
        ConfigMapRead::NotRead(_) => "unknown",
        ConfigMapRead::Missing => {
            warn(
                "operator-not-applied",
                format!(
                    "ConfigMap {CONFIG_MAP} does not exist: the Seldon operator has not applied this runtime (is it running?)"
                ),
            );
            "missing"
        }
        ConfigMapRead::Found(cm) => match applied(&e, Some(cm)) {
            ConfigMapState::Same => "current",
            ConfigMapState::Missing => "missing",
            ConfigMapState::Differs { holds } => {
                warn(
                    "operator-not-applied",
                    format!(
                        "ConfigMap {CONFIG_MAP} holds {holds}, not {}: the Seldon operator has not applied the change (is it running?)",
                        e.tracing_json()
                    ),
                );
                let judged = file_verdict(&holds);
                let exits = matches!(judged, Verdict::Invalid(_));
                let (word, why) = judged.words();
                if let Some(why) = why.as_ref().filter(|_| exits) {
                    warn(
                        "config-map-invalid",
                        format!(
                            "a pod that starts now loads ConfigMap {CONFIG_MAP} as it is, and {why}"
                        ),
                    );
                }
                loaded_now = Some(FileVerdict {
                    tracing: word,
                    reason: why,
                });
                "differs"
            }
        },
    };
    RuntimeStatus {
        core: "v2",
        namespace: str_at(runtime, &["metadata", "namespace"])
            .unwrap_or("")
            .into(),
        name: str_at(runtime, &["metadata", "name"]).unwrap_or("").into(),
        seldon_config: sc_name,
        tracing,
        reason,
        effective: e,
        config_map,
        config_map_tracing: loaded_now,
        pods: Freshness::Unknown,
        workloads: Vec::new(),
        warnings,
    }
}

/// `status --expect`: the line for a runtime not in the state asked (`on`: on; `off`: off or
/// idle), None when it is.
pub fn unmet(st: &RuntimeStatus, want_on: bool) -> Option<String> {
    let ok = match st.tracing {
        "on" => want_on,
        "off" | "idle" => !want_on,
        _ => false,
    };
    let why = st
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    (!ok).then(|| {
        format!(
            "{}/{}: SeldonRuntime is {}{why}",
            st.namespace, st.name, st.tracing
        )
    })
}

/// What runs in a runtime's namespace: its Deployments and StatefulSets, and its pods (None
/// when they may not be listed).
pub struct Running<'a> {
    pub deployments: &'a [Value],
    pub statefulsets: &'a [Value],
    pub pods: Option<&'a [Value]>,
}

/// Adds to `st` which setting its workloads' pods run (`running`: None when the workloads may
/// not be listed) against ConfigMap `seldon-tracing` as read (`cm`), with warnings for a
/// restart owed and for MLServer.
pub fn attach_running(st: &mut RuntimeStatus, cm: &ConfigMapRead, running: Option<&Running>) {
    let Some(r) = running.filter(|r| r.pods.is_some()) else {
        st.warnings.push(Warning {
            code: "pods-unread",
            message: "you may not list the namespace's Deployments, StatefulSets or pods, so which setting they run is unknown".into(),
        });
        return;
    };
    let written = cm.found().and_then(loaded::written_at);
    st.workloads = loaded::workloads(r.deployments, r.statefulsets, r.pods, written);
    st.pods = match st.config_map {
        "differs" | "missing" if !st.workloads.is_empty() => Freshness::AwaitingOperator,
        _ => loaded::summary(&st.workloads),
    };
    let stale: Vec<String> = st
        .workloads
        .iter()
        .filter(|w| w.loaded == Freshness::RestartNeeded)
        .map(|w| format!("{} ({} of {})", w.name, w.stale, w.running))
        .collect();
    if !stale.is_empty() {
        let core = st
            .workloads
            .iter()
            .any(|w| w.server.is_none() && w.stale > 0);
        let servers = st
            .workloads
            .iter()
            .any(|w| w.server.is_some() && w.stale > 0);
        let what = match (core, servers) {
            (true, true) => "--restart=all",
            (false, true) => "--restart=servers",
            _ => "--restart",
        };
        // The verb that changes nothing in the runtime's present state.
        let verb = if st.effective.disable {
            "disable"
        } else {
            "enable"
        };
        st.warnings.push(Warning {
            code: "restart-needed",
            message: format!(
                "pods started before ConfigMap {CONFIG_MAP} was last written run the old setting: {}; restart them with `kubectl seldon-tracing {verb} --core v2 -n {} {what}` or `{}`",
                stale.join(", "),
                st.namespace,
                restart_command(&st.namespace, &st.name)
            ),
        });
    }
    let quiet = st.tracing == "off" || st.tracing == "idle";
    for w in &st.workloads {
        let (Some(server), Some(ml)) = (&w.server, &w.mlserver) else {
            continue;
        };
        match &ml.tracing_server {
            // With tracing off, MLServer's silence is what was asked.
            None if quiet => {}
            None => {
                let var = loaded::MLSERVER_TRACING;
                let where_ = match &ml.set_on {
                    Some(other) => format!(
                        "{var} is on the {other} container (as Seldon's v2.10.2 Helm chart puts it), where MLServer's process never sees it"
                    ),
                    None => format!("the mlserver container has no {var}"),
                };
                st.warnings.push(Warning {
                    code: "mlserver-no-spans",
                    message: format!(
                        "Server {server}: {where_}, so MLServer records no spans of its own (only the agent's); set it on the mlserver container in the ServerConfig or the Server's spec.podSpec"
                    ),
                });
            }
            Some(to) if quiet => st.warnings.push(Warning {
                code: "mlserver-ignores-disable",
                message: format!(
                    "Server {server}: MLServer still exports spans to {to}: it ignores the runtime's disable and ratio; remove {} to stop it",
                    loaded::MLSERVER_TRACING
                ),
            }),
            Some(_) => {}
        }
    }
}

/// Who else writes the runtime's tracing: a Helm release (the seldon-core-v2-runtime chart
/// renders all four `tracingConfig` fields from its values), another server-side-apply manager
/// of `spec.config.tracingConfig` (Flux, Argo CD with server-side apply), or Argo CD's tracking.
pub fn managed_warnings(runtime: &Value, ours: &str) -> Vec<Warning> {
    let meta = runtime.get("metadata");
    let annotation = |k: &str| {
        meta.and_then(|m| m.pointer(&format!("/annotations/{}", k.replace('/', "~1"))))
            .and_then(Value::as_str)
    };
    let mut out = Vec::new();
    let helm_label = meta
        .and_then(|m| m.pointer("/labels/app.kubernetes.io~1managed-by"))
        .and_then(Value::as_str)
        == Some("Helm");
    if let Some(release) = annotation("meta.helm.sh/release-name").filter(|_| helm_label) {
        let rns = annotation("meta.helm.sh/release-namespace").unwrap_or("?");
        out.push(Warning {
            code: "helm-managed",
            message: format!(
                "Helm release {release} (namespace {rns}) made this runtime and renders spec.config.tracingConfig from its values: the next helm upgrade puts them back; set config.tracingConfig.* in the release's values too"
            ),
        });
    }
    let entries = meta
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array);
    let mut managers: Vec<&str> = entries
        .into_iter()
        .flatten()
        .filter(|e| e.get("operation").and_then(Value::as_str) == Some("Apply"))
        .filter(|e| {
            e.pointer("/fieldsV1/f:spec/f:config/f:tracingConfig")
                .is_some()
        })
        .filter_map(|e| e.get("manager").and_then(Value::as_str))
        .filter(|m| *m != ours)
        .collect();
    managers.dedup();
    for m in &managers {
        out.push(Warning {
            code: "managed-by",
            message: format!(
                "field manager {m} also applies spec.config.tracingConfig: its next apply reverts a change made here; change it where {m} takes it from"
            ),
        });
    }
    if annotation("argocd.argoproj.io/tracking-id").is_some()
        && !managers.iter().any(|m| m.starts_with("argocd"))
    {
        out.push(Warning {
            code: "argocd-tracked",
            message: "Argo CD tracks this runtime: a sync puts the tracing values in Git back; change them there".into(),
        });
    }
    out
}
