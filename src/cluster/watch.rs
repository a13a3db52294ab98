//! Watching a collection the way client-go's reflector does: list (in pages), then watch from the
//! list's resourceVersion with bookmarks; a watch the server ends is reopened from the last
//! version seen, a `410 Gone` (version too old) starts over with a list. Written here rather
//! than taken from kube's `runtime::watcher` so the objects stay raw JSON (the domain reads
//! `Value`s) and failures become this module's one-line errors.

use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::api::{ListParams, WatchParams};
use kube::core::{Request, WatchEvent};
use serde_json::Value;

use super::errors::Failure;
use super::{Cluster, Doing, Page};
use crate::error::Result;

/// A watched collection: its path and selectors.
#[derive(Debug, Clone)]
pub struct Resource {
    /// e.g. `/apis/apps/v1/namespaces/models/deployments`.
    pub path: String,
    pub labels: Option<String>,
    pub fields: Option<String>,
    /// For errors: `list deployments in` and the like.
    pub verb: &'static str,
    pub namespace: Option<String>,
}

impl Resource {
    /// The Deployments the Seldon operator made in `namespace` (all when None), of the
    /// SeldonDeployment `owner` only when given (see [`super::owner_selector`]).
    pub fn deployments(namespace: Option<&str>, owner: Option<&str>) -> Resource {
        let path = match namespace {
            Some(ns) => format!("/apis/apps/v1/namespaces/{ns}/deployments"),
            None => "/apis/apps/v1/deployments".to_string(),
        };
        Resource {
            path,
            labels: Some(super::owner_selector(owner)),
            fields: None,
            verb: "list deployments in",
            namespace: namespace.map(str::to_string),
        }
    }
}

impl Resource {
    /// The ReplicaSets of those Deployments: the Deployment controller gives them the pod
    /// template's labels, which carry the same `seldon-deployment-id`.
    pub fn replica_sets(namespace: Option<&str>, owner: Option<&str>) -> Resource {
        let d = Resource::deployments(namespace, owner);
        Resource {
            path: d.path.replace("/deployments", "/replicasets"),
            verb: "list replicasets in",
            ..d
        }
    }
}

/// What changed in the collection.
#[derive(Debug, Clone)]
pub enum CollectionChange {
    /// The whole collection, as listed (first, and again after a `410 Gone`).
    Listed(Vec<Value>),
    /// Added or modified.
    Applied(Value),
    Deleted(Value),
}

/// Consecutive failed watch requests (connection refused, reset, timed out) before giving up.
const WATCH_FAILURES: u32 = 5;

type Events =
    Pin<Box<dyn Stream<Item = std::result::Result<WatchEvent<Value>, kube::Error>> + Send>>;

struct State<'a> {
    cluster: &'a Cluster,
    res: Resource,
    version: Option<String>,
    events: Option<Events>,
    failures: u32,
    done: bool,
}

impl Cluster {
    /// The changes of `res`, starting with the whole collection; ends after an error.
    pub fn watch(&self, res: Resource) -> impl Stream<Item = Result<CollectionChange>> + '_ {
        let state = State {
            cluster: self,
            res,
            version: None,
            events: None,
            failures: 0,
            done: false,
        };
        futures::stream::unfold(state, |mut st| async move {
            if st.done {
                return None;
            }
            let next = st.next().await;
            st.done = next.is_err();
            Some((next, st))
        })
    }

    /// Every item of `res`, read in pages of 500, and the resourceVersion of the last page.
    pub(super) async fn list_all<T: serde::de::DeserializeOwned>(
        &self,
        res: &Resource,
    ) -> Result<(Vec<T>, Option<String>)> {
        let action = Doing {
            verb: res.verb,
            namespace: res.namespace.as_deref().unwrap_or(""),
            name: None,
        };
        let (mut items, mut cont) = (Vec::new(), None::<String>);
        loop {
            let mut lp = ListParams::default().limit(500);
            if let Some(l) = &res.labels {
                lp = lp.labels(l);
            }
            if let Some(f) = &res.fields {
                lp = lp.fields(f);
            }
            if let Some(c) = &cont {
                lp = lp.continue_token(c);
            }
            let page: Page<T> = self
                .checked(Request::new(&res.path).list(&lp), &action)
                .await?;
            cont = page.next().map(str::to_string);
            let version = page.version();
            items.extend(page.items);
            if cont.is_none() {
                return Ok((items, version));
            }
        }
    }

    async fn open_watch(
        &self,
        res: &Resource,
        version: &str,
    ) -> std::result::Result<Events, Failure> {
        // The server ends each watch after this long (client-go picks 5-10 minutes); with a
        // --request-timeout the server ends it first, so a quiet watch is not a read timeout.
        let secs = match self.timeout.as_secs() {
            0 => 290,
            t => t.saturating_sub(1).clamp(1, 290) as u32,
        };
        let mut wp = WatchParams::default().timeout(secs);
        if let Some(l) = &res.labels {
            wp = wp.labels(l);
        }
        if let Some(f) = &res.fields {
            wp = wp.fields(f);
        }
        let req = Request::new(&res.path)
            .watch(&wp, version)
            .map_err(|e| Failure::Kube(kube::Error::BuildRequest(e)))?;
        let open = self.client.request_events::<Value>(req);
        let events = if self.timeout.is_zero() {
            open.await.map_err(Failure::Kube)?
        } else {
            tokio::time::timeout(self.timeout, open)
                .await
                .map_err(|_| Failure::TimedOut)?
                .map_err(Failure::Kube)?
        };
        Ok(Box::pin(events))
    }
}

fn version_of(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn gone(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 410)
}

impl State<'_> {
    /// Waits before reopening a failed watch: 0.5 s, 1 s, 2 s, 4 s.
    async fn failed(&mut self, f: Failure) -> Result<()> {
        self.failures += 1;
        if self.failures > WATCH_FAILURES {
            let action = Doing {
                verb: self.res.verb,
                namespace: self.res.namespace.as_deref().unwrap_or(""),
                name: None,
            };
            return Err(self.cluster.to_error(f, &action));
        }
        let wait = Duration::from_millis(250 << self.failures.min(5));
        tokio::time::sleep(wait).await;
        Ok(())
    }

    async fn next(&mut self) -> Result<CollectionChange> {
        loop {
            let Some(version) = self.version.clone() else {
                let (items, version) = self.cluster.list_all::<Value>(&self.res).await?;
                self.version = version;
                self.failures = 0;
                return Ok(CollectionChange::Listed(items));
            };
            let Some(events) = self.events.as_mut() else {
                match self.cluster.open_watch(&self.res, &version).await {
                    Ok(events) => self.events = Some(events),
                    Err(Failure::Kube(e)) if gone(&e) => self.version = None,
                    Err(f) => self.failed(f).await?,
                }
                continue;
            };
            match events.next().await {
                // The server ended the watch (its timeout): reopen from the last version.
                None => self.events = None,
                Some(Ok(WatchEvent::Added(o) | WatchEvent::Modified(o))) => {
                    self.version = version_of(&o).or(self.version.take());
                    self.failures = 0;
                    return Ok(CollectionChange::Applied(o));
                }
                Some(Ok(WatchEvent::Deleted(o))) => {
                    self.version = version_of(&o).or(self.version.take());
                    self.failures = 0;
                    return Ok(CollectionChange::Deleted(o));
                }
                Some(Ok(WatchEvent::Bookmark(b))) => {
                    self.version = Some(b.metadata.resource_version);
                }
                Some(Ok(WatchEvent::Error(status))) => {
                    self.events = None;
                    if status.code == 410 {
                        self.version = None;
                    } else {
                        self.failed(Failure::Kube(kube::Error::Api(status))).await?;
                    }
                }
                Some(Err(e)) => {
                    self.events = None;
                    self.failed(Failure::Kube(e)).await?;
                }
            }
        }
    }
}
