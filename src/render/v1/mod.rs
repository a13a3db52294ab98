//! The views of Seldon Core v1: `list` and `status` tables and their warnings, the result line
//! of each write, and the short texts of samplers, destinations and rollouts. The sentence of
//! every warning is in [`words`].

mod words;

use serde::Serialize;
pub use words::generation_ahead_note;

use super::{age, table_paged};
use crate::domain::v1::clients::{Destination, SamplerSetting};
use crate::domain::v1::plan::Change;
use crate::domain::v1::rollout::{Holdup, Rollout, RolloutState};
use crate::domain::v1::status::{DeploymentStatus, Source};
use crate::options::DryRun;

/// `const:1`, `probabilistic`, `remote (default)`, `const:1 (default)`, `from the config file`;
/// `-` for a component without a sampler.
pub fn sampler_text(s: Option<&SamplerSetting>) -> String {
    let Some(s) = s else {
        return "-".into();
    };
    let Some(kind) = &s.kind else {
        return "from the config file".into();
    };
    let text = match &s.param {
        Some(p) => format!("{}:{}", kind.display(), p.display()),
        None => kind.display(),
    };
    if s.default {
        format!("{text} (default)")
    } else {
        text
    }
}

/// The executors' sampler of a deployment: the one they share, `mixed`, or `-` without one.
pub fn samplers_text(all: &[SamplerSetting]) -> String {
    match all {
        [] => "-".into(),
        [one] => sampler_text(Some(one)),
        _ => "mixed".into(),
    }
}

/// ROLLOUT: `current`, `rolling 1/3` (pods on the new template of those wanted), `stale`,
/// `unknown`.
pub fn rollout_text(r: &Rollout) -> String {
    match r.state {
        RolloutState::Current => "current".into(),
        RolloutState::Rolling => {
            let (updated, replicas) = r.deployments.iter().fold((0, 0), |(u, n), d| {
                (u + d.updated.min(d.ready), n + d.replicas)
            });
            format!("rolling {updated}/{replicas}")
        }
        RolloutState::Stale if matches!(r.reason, Some(Holdup::OperatorFailed { .. })) => {
            "stale (Failed)".into()
        }
        RolloutState::Stale => "stale".into(),
        RolloutState::Unknown => "unknown".into(),
    }
}

/// `host:port` of the agent, `collector URL`, `from the config file`; `-` for none.
pub fn destination_text(d: Option<&Destination>) -> String {
    match d {
        None => "-".into(),
        Some(Destination::Agent { host, port, .. }) => {
            format!("{}:{}", host.display(), port.display())
        }
        Some(Destination::Collector { url, .. }) => format!("collector {}", url.display()),
        Some(Destination::ConfigFile) => "from the config file".into(),
    }
}

/// One row of `list`, also its json/yaml item.
#[derive(Debug, Clone, Serialize)]
pub struct ListItem {
    /// Always `v1` (see `DeploymentStatus::core`).
    pub core: &'static str,
    pub namespace: String,
    pub name: String,
    pub predictors: Vec<String>,
    pub tracing: String,
    /// The executors' samplers (see `DeploymentStatus::samplers`).
    pub samplers: Vec<SamplerSetting>,
    pub state: String,
    #[serde(rename = "creationTimestamp")]
    pub created: String,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    #[serde(rename = "warningCount")]
    pub warning_count: usize,
    /// The worst rollout state of its predictors (read for `-o wide` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutState>,
}

pub fn list_table(
    items: &[ListItem],
    wide: bool,
    with_namespace: bool,
    now: i64,
    widths: &mut Vec<u16>,
) -> String {
    let mut headers = vec![
        "NAMESPACE",
        "NAME",
        "PREDICTORS",
        "TRACING",
        "SAMPLER",
        "STATE",
        "AGE",
    ];
    if wide {
        headers.extend(["WARNINGS", "API-VERSION", "ROLLOUT"]);
    }
    if !with_namespace {
        headers.remove(0);
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            let predictors = if wide {
                i.predictors.join(",")
            } else {
                i.predictors.len().to_string()
            };
            let mut row = vec![
                i.namespace.clone(),
                i.name.clone(),
                predictors,
                i.tracing.clone(),
                samplers_text(&i.samplers),
                if i.state.is_empty() {
                    "-".into()
                } else {
                    i.state.clone()
                },
                age(&i.created, now),
            ];
            if wide {
                let rollout = i.rollout.map_or("-", RolloutState::as_str);
                row.extend([
                    i.warning_count.to_string(),
                    i.api_version.clone(),
                    rollout.to_string(),
                ]);
            }
            if !with_namespace {
                row.remove(0);
            }
            row
        })
        .collect();
    table_paged(&headers, &rows, widths)
}

/// `status` table: one row per component.
pub fn status_table(
    items: &[DeploymentStatus],
    wide: bool,
    with_namespace: bool,
    widths: &mut Vec<u16>,
) -> String {
    let mut headers = vec![
        "NAMESPACE",
        "DEPLOYMENT",
        "PREDICTOR",
        "COMPONENT",
        "KIND",
        "TRACING",
        "AGENT",
        "SAMPLER",
    ];
    headers.extend(if wide {
        ["TRACING-FROM", "AGENT-FROM", "SAMPLER-FROM"].as_slice()
    } else {
        ["SOURCE"].as_slice()
    });
    // What runs, when it was read (the cluster; not --local).
    let with_rollout = items
        .iter()
        .any(|d| d.predictors.iter().any(|p| p.rollout.is_some()));
    if with_rollout {
        headers.push("ROLLOUT");
    }
    let mut rows = Vec::new();
    for d in items {
        for p in &d.predictors {
            for c in &p.components {
                let mut row = vec![
                    d.namespace.clone(),
                    d.name.clone(),
                    p.name.clone(),
                    c.name.clone(),
                    c.kind.clone(),
                    c.tracing.as_str().to_string(),
                    destination_text(c.spans_to.as_ref()),
                    sampler_text(c.sampler.as_ref()),
                ];
                let rollout = p.rollout.as_ref().map(rollout_text);
                let sources = [
                    c.tracing_source,
                    c.spans_to
                        .as_ref()
                        .map_or(Source::None, Destination::source),
                    c.sampler.as_ref().map_or(Source::None, |s| s.source),
                ];
                if wide {
                    row.extend(sources.iter().map(|s| s.as_str().to_string()));
                } else {
                    row.push(source_summary(sources));
                }
                if with_rollout {
                    row.push(rollout.clone().unwrap_or_else(|| "-".into()));
                }
                if !with_namespace {
                    row.remove(0);
                }
                rows.push(row);
            }
        }
    }
    if !with_namespace {
        headers.remove(0);
    }
    table_paged(&headers, &rows, widths)
}

/// The warnings under a `status` table, one `Warning: NAME: ...` line each (`NS/NAME` with -A).
pub fn status_warnings(items: &[DeploymentStatus], with_namespace: bool) -> String {
    let mut out = String::new();
    for d in items {
        let who = if with_namespace {
            format!("{}/{}", d.namespace, d.name)
        } else {
            d.name.clone()
        };
        for w in &d.warnings {
            out.push_str(&format!("Warning: {who}: {w}\n"));
        }
        // Why what runs is behind (stale only: unknown is the one note above the table).
        for p in &d.predictors {
            if let Some(r) = p
                .rollout
                .as_ref()
                .filter(|r| r.state == RolloutState::Stale)
                && let Some(why) = &r.reason
            {
                out.push_str(&format!(
                    "Rollout: {who}: predictor {}: stale: {why}\n",
                    p.name
                ));
            }
            for (deployment, g) in p.rollout.iter().flat_map(|r| r.looping()) {
                out.push_str(&format!(
                    "Note: {who}: predictor {}: {}\n",
                    p.name,
                    words::generation_ahead_note(deployment, g)
                ));
            }
        }
    }
    out
}

pub use crate::render::write::WriteResult;

/// Result of one mutation, also its json/yaml item.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub namespace: String,
    pub name: String,
    pub result: WriteResult,
    #[serde(rename = "dryRun")]
    pub dry_run: DryRun,
    pub changes: Vec<Change>,
    pub warnings: Vec<crate::domain::v1::warning::Warning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The narrow SOURCE column: the source most of the three values (tracing, agent, sampler) share,
/// then the exceptions by name: `env (sampler: default)`. `-` when none has a source.
pub fn source_summary(sources: [Source; 3]) -> String {
    let named: Vec<(&str, Source)> = ["tracing", "agent", "sampler"]
        .into_iter()
        .zip(sources)
        .filter(|(_, s)| *s != Source::None)
        .collect();
    let count = |s: Source| named.iter().filter(|(_, x)| *x == s).count();
    // Ties go to the more specific source: what the user wrote before what is implied.
    let Some(main) = [Source::Env, Source::Annotation, Source::Default]
        .into_iter()
        .filter(|&s| count(s) > 0)
        .max_by_key(|&s| (count(s), std::cmp::Reverse(s as u8)))
    else {
        return "-".into();
    };
    let others: Vec<String> = named
        .iter()
        .filter(|(_, s)| *s != main)
        .map(|(what, s)| format!("{what}: {}", s.as_str()))
        .collect();
    if others.is_empty() {
        main.as_str().into()
    } else {
        format!("{} ({})", main.as_str(), others.join(", "))
    }
}

/// `seldondeployment/NAME tracing enabled (server dry run)`; prefixed by the namespace with -A.
pub fn outcome_line(o: &Outcome, done: &str, with_namespace: bool) -> String {
    let ns = if with_namespace {
        format!("{}  ", o.namespace)
    } else {
        String::new()
    };
    let suffix = match o.dry_run {
        DryRun::Client => " (dry run)",
        DryRun::Server => " (server dry run)",
        DryRun::None => "",
    };
    // The dry-run marker goes right after the verdict, before a failure's message.
    let what = match o.result {
        WriteResult::Changed => format!("{done}{suffix}"),
        WriteResult::Unchanged => format!("unchanged{suffix}"),
        WriteResult::Failed => format!(
            "failed{suffix}: {}",
            o.error.as_deref().unwrap_or("unknown error")
        ),
        WriteResult::Interrupted => "not changed: interrupted before its write".to_string(),
    };
    let mut line = format!("{ns}seldondeployment/{} {what}\n", o.name);
    if o.dry_run != DryRun::None {
        for c in &o.changes {
            line.push_str(&format!("    {}\n", c.diff_line()));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_lines_put_the_dry_run_marker_after_the_verdict() {
        let mut o = Outcome {
            namespace: "models".into(),
            name: "iris".into(),
            result: WriteResult::Changed,
            dry_run: DryRun::Server,
            changes: vec![Change {
                predictor: "default".into(),
                component: "executor".into(),
                var: Some("JAEGER_DISABLED".into()),
                before: None,
                after: Some("true".into()),
            }],
            warnings: Vec::new(),
            error: None,
        };
        assert_eq!(
            outcome_line(&o, "tracing disabled", true),
            "models  seldondeployment/iris tracing disabled (server dry run)\n    + default/executor: JAEGER_DISABLED=true\n"
        );
        o.result = WriteResult::Failed;
        o.changes.clear();
        o.dry_run = DryRun::Client;
        o.error = Some("seldondeployment \"models/iris\" has no predictor 'blue'".into());
        assert_eq!(
            outcome_line(&o, "tracing disabled", false),
            "seldondeployment/iris failed (dry run): seldondeployment \"models/iris\" has no predictor 'blue'\n"
        );
        o.dry_run = DryRun::None;
        o.result = WriteResult::Unchanged;
        o.error = None;
        assert_eq!(
            outcome_line(&o, "tracing disabled", false),
            "seldondeployment/iris unchanged\n"
        );
    }

    #[test]
    fn the_source_column_names_the_common_source_and_the_exceptions() {
        use Source::{Annotation, Default, Env, None};
        let cases = [
            ([Default, Env, Env], "env (tracing: default)"),
            ([Env, Env, Default], "env (sampler: default)"),
            ([Default, Default, Default], "default"),
            ([Env, Env, Env], "env"),
            ([None, None, None], "-"),
            (
                [Env, Default, Annotation],
                "env (agent: default, sampler: annotation)",
            ),
            (
                [Default, Annotation, Annotation],
                "annotation (tracing: default)",
            ),
            ([None, Default, Env], "env (agent: default)"),
        ];
        for (sources, want) in cases {
            assert_eq!(source_summary(sources), want, "{sources:?}");
        }
    }
}
