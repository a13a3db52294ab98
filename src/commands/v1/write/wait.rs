//! `--wait`: after the writes, follow what runs until every addressed predictor is `current`.
//! Two watches (the SeldonDeployments written and the operator's Deployments) feed
//! [`Live`]; the state is judged again after every change, never polled. On a terminal one
//! spinner line per predictor; otherwise one line each time a Deployment's state changes.

use std::collections::{BTreeSet, HashMap};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::super::live::{self, Key, Live, WatchScope};
use crate::commands::context::Ctx;
use crate::domain::v1::rollout::{DeploymentRollout, Rollout, RolloutState};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;

/// Where one addressed predictor stands.
struct Standing {
    key: Key,
    predictor: String,
    /// None: the SeldonDeployment (or this predictor of it) is gone.
    rollout: Option<Rollout>,
}

impl Standing {
    fn current(&self) -> bool {
        self.rollout
            .as_ref()
            .is_some_and(|r| r.state == RolloutState::Current)
    }

    fn who(&self) -> String {
        format!(
            "{}/{}: predictor {}",
            self.key.0, self.key.1, self.predictor
        )
    }

    /// `stale: <reason>`, `current`, `gone`.
    fn summary(&self) -> String {
        match &self.rollout {
            None => "gone: the SeldonDeployment or this predictor was deleted".into(),
            Some(r) => match &r.reason {
                Some(why) => format!("{}: {why}", crate::render::v1::rollout_text(r)),
                None => crate::render::v1::rollout_text(r),
            },
        }
    }
}

/// `stale (old tracing env)`, `rolling: 1/3 updated, 0 ready`, `current`, `not made yet`.
fn deployment_text(d: &DeploymentRollout) -> String {
    if d.missing {
        return "not made yet".into();
    }
    match d.state() {
        RolloutState::Stale => "stale (old tracing env)".into(),
        RolloutState::Rolling if d.old > 0 => format!(
            "rolling: {}/{} updated, {} old still running",
            d.updated, d.replicas, d.old
        ),
        RolloutState::Rolling => format!(
            "rolling: {}/{} updated, {} ready",
            d.updated, d.replicas, d.ready
        ),
        _ => "current".into(),
    }
}

/// The addressed predictors of every target, as `live` has them now.
fn standings(live: &Live, targets: &[Key], predictors: &[String]) -> Vec<Standing> {
    let mut out = Vec::new();
    for key in targets {
        let st = live.status(key);
        let names: Vec<String> = match (&st, predictors.is_empty()) {
            (Some(st), true) => st.predictors.iter().map(|p| p.name.clone()).collect(),
            (None, true) => vec!["*".into()],
            (_, false) => predictors.to_vec(),
        };
        for name in names {
            let rollout = st.as_ref().and_then(|st| {
                st.predictors
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.rollout.clone())
            });
            out.push(Standing {
                key: key.clone(),
                predictor: name,
                rollout,
            });
        }
    }
    out
}

/// How progress is shown: spinners on a terminal, else lines as Deployments change.
enum Progress {
    Terminal {
        multi: MultiProgress,
        bars: HashMap<String, ProgressBar>,
    },
    Lines {
        last: HashMap<String, String>,
    },
}

impl Progress {
    fn new() -> Progress {
        if std::io::stderr().is_terminal() {
            Progress::Terminal {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                bars: HashMap::new(),
            }
        } else {
            Progress::Lines {
                last: HashMap::new(),
            }
        }
    }

    fn show(&mut self, all: &[Standing]) {
        match self {
            Progress::Terminal { multi, bars } => {
                for s in all {
                    let bar = bars.entry(s.who()).or_insert_with(|| {
                        let bar = multi.add(ProgressBar::new_spinner());
                        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                            bar.set_style(style);
                        }
                        bar.enable_steady_tick(Duration::from_millis(120));
                        bar
                    });
                    bar.set_message(format!("{}: {}", s.who(), s.summary()));
                }
            }
            Progress::Lines { last } => {
                for s in all {
                    let lines: Vec<(String, String)> = match &s.rollout {
                        Some(r) if !r.deployments.is_empty() => r
                            .deployments
                            .iter()
                            .map(|d| {
                                let id = format!("{}: deployment {}", s.who(), d.name);
                                let text = deployment_text(d);
                                (id, text)
                            })
                            .collect(),
                        _ => vec![(s.who(), s.summary())],
                    };
                    for (id, text) in lines {
                        if last.get(&id) != Some(&text) {
                            crate::say!("{id}: {text}");
                            last.insert(id, text);
                        }
                    }
                }
            }
        }
    }

    fn finish(self) {
        if let Progress::Terminal { bars, .. } = self {
            for bar in bars.values() {
                bar.finish_and_clear();
            }
        }
    }
}

/// Waits until every addressed predictor of `targets` is current: Success then, Failure at
/// `timeout` (saying where each predictor stands and why).
pub async fn until_current(
    ctx: &Ctx,
    api: &str,
    targets: &[Key],
    predictors: &[String],
    timeout: Duration,
) -> Result<ExitStatus> {
    if targets.is_empty() {
        return Ok(ExitStatus::Success);
    }
    let namespaces: BTreeSet<&str> = targets.iter().map(|(ns, _)| ns.as_str()).collect();
    let scope = WatchScope {
        namespace: match namespaces.len() {
            1 => namespaces.first().copied(),
            _ => None,
        },
        labels: None,
        name: match targets {
            [(_, name)] => Some(name.as_str()),
            _ => None,
        },
    };
    let started = Instant::now();
    let mut live = Live::default();
    let mut events = std::pin::pin!(live::events(&ctx.cluster, api, &scope));
    let mut progress = Progress::new();
    let deadline = tokio::time::sleep(timeout);
    let mut deadline = std::pin::pin!(deadline);
    let mut last: Vec<Standing> = Vec::new();
    loop {
        tokio::select! {
            () = &mut deadline => {
                progress.finish();
                return Ok(timed_out(timeout, &last));
            }
            event = events.next() => {
                let Some(event) = event else {
                    progress.finish();
                    return Err(Error::Api {
                        action: "watch the rollout".into(),
                        message: "the watch ended".into(),
                    });
                };
                let event = match event {
                    Ok(e) => e,
                    Err(e) => {
                        progress.finish();
                        return Err(e);
                    }
                };
                live.apply(event);
                if !live.ready() {
                    continue;
                }
                if !live.deployments_readable() {
                    progress.finish();
                    crate::say!(
                        "cannot --wait: you may not list Deployments in {}; the change is written, see it with `kubectl seldon-tracing status`",
                        scope.namespace.map_or("all namespaces".to_string(), |n| format!("namespace {n}"))
                    );
                    return Ok(ExitStatus::Failure);
                }
                last = standings(&live, targets, predictors);
                progress.show(&last);
                if last.iter().all(Standing::current) {
                    progress.finish();
                    crate::say!(
                        "rolled out: {} predictor(s) current after {:.1}s",
                        last.len(),
                        started.elapsed().as_secs_f64()
                    );
                    for s in &last {
                        for (d, g) in s.rollout.iter().flat_map(Rollout::looping) {
                            crate::say!("note: {}: {}", s.who(), crate::render::v1::generation_ahead_note(d, g));
                        }
                    }
                    return Ok(ExitStatus::Success);
                }
            }
        }
    }
}

/// The timeout: every predictor's state, with the reason for those not current.
fn timed_out(timeout: Duration, all: &[Standing]) -> ExitStatus {
    let waiting = all.iter().filter(|s| !s.current()).count();
    crate::say!(
        "timed out after {}s waiting for the rollout: {waiting} of {} predictor(s) not current",
        timeout.as_secs_f64(),
        all.len()
    );
    for s in all {
        crate::say!("  {}: {}", s.who(), s.summary());
    }
    ExitStatus::Failure
}
