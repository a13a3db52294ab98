//! What the cluster holds now, kept current by three watches: the SeldonDeployments in scope,
//! the Deployments the operator made of them and those Deployments' ReplicaSets (what the pods
//! run). `--wait` and `status --watch` read it after every
//! change instead of polling.

use std::collections::BTreeMap;

use futures::{Stream, StreamExt};
use serde_json::Value;

use crate::cluster::{Cluster, CollectionChange, GROUP, PLURAL, Resource};
use crate::domain::json::str_at;
use crate::domain::v1::rollout::Deployments;
use crate::domain::v1::status::{DeploymentStatus, attach_rollout, status};
use crate::error::{Error, Result};
use crate::options::FIELD_MANAGER;

/// `(namespace, name)`.
pub type Key = (String, String);

/// A change seen by one of the two watches.
pub enum Event {
    SeldonDeployments(CollectionChange),
    Deployments(CollectionChange),
    /// The user may not list Deployments: rollout states are unknown.
    DeploymentsForbidden,
    ReplicaSets(CollectionChange),
    /// The user may not list ReplicaSets: rollouts are judged from the Deployments' counters.
    ReplicaSetsForbidden,
}

/// Which SeldonDeployments to watch.
pub struct WatchScope<'a> {
    /// None: every namespace.
    pub namespace: Option<&'a str>,
    pub labels: Option<&'a str>,
    /// Only this name.
    pub name: Option<&'a str>,
}

fn key_of(obj: &Value) -> Key {
    let at = |f| str_at(obj, &["metadata", f]).unwrap_or("").to_string();
    (at("namespace"), at("name"))
}

/// The changes of the SeldonDeployments of `scope` and of their Deployments, as they happen.
pub fn events<'a>(
    cluster: &'a Cluster,
    api: &str,
    scope: &WatchScope<'_>,
) -> impl Stream<Item = Result<Event>> + 'a {
    let within = |ns: Option<&str>, rest: &str| match ns {
        Some(ns) => format!("/namespaces/{ns}/{rest}"),
        None => format!("/{rest}"),
    };
    let sdeps = Resource {
        path: format!("/apis/{api}{}", within(scope.namespace, PLURAL)),
        labels: scope.labels.map(str::to_string),
        fields: scope.name.map(|n| format!("metadata.name={n}")),
        verb: "watch",
        namespace: scope.namespace.map(str::to_string),
    };
    let deployments = Resource {
        verb: "watch deployments in",
        ..Resource::deployments(scope.namespace, scope.name)
    };
    debug_assert!(api.starts_with(GROUP));
    let sdeps = cluster
        .watch(sdeps)
        .map(|r| r.map(Event::SeldonDeployments));
    let deployments = cluster.watch(deployments).map(|r| match r {
        Ok(c) => Ok(Event::Deployments(c)),
        Err(Error::Forbidden { .. }) => Ok(Event::DeploymentsForbidden),
        Err(e) => Err(e),
    });
    let replica_sets = Resource {
        verb: "watch replicasets in",
        ..Resource::replica_sets(scope.namespace, scope.name)
    };
    let replica_sets = cluster.watch(replica_sets).map(|r| match r {
        Ok(c) => Ok(Event::ReplicaSets(c)),
        Err(Error::Forbidden { .. }) => Ok(Event::ReplicaSetsForbidden),
        Err(e) => Err(e),
    });
    futures::stream::select(sdeps, futures::stream::select(deployments, replica_sets))
}

/// The SeldonDeployments whose view an event may have changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Touched {
    All,
    These(Vec<Key>),
}

/// The two collections as last seen.
#[derive(Default)]
pub struct Live {
    seldon: BTreeMap<Key, Value>,
    /// The operator's Deployments (a predictor's are found by the names the operator gives
    /// them, as `status` does).
    deployments: Deployments,
    /// None until the Deployments are listed; Some(false) when they may not be.
    deployments_readable: Option<bool>,
    /// The ReplicaSets have been listed, or may not be.
    replica_sets_seen: bool,
    seldon_listed: bool,
}

fn namespace_of(d: &Value) -> String {
    str_at(d, &["metadata", "namespace"])
        .unwrap_or("")
        .to_string()
}

impl Live {
    /// Takes in one event; says whose view it may have changed.
    pub fn apply(&mut self, event: Event) -> Touched {
        match event {
            Event::SeldonDeployments(CollectionChange::Listed(items)) => {
                self.seldon = items.into_iter().map(|o| (key_of(&o), o)).collect();
                self.seldon_listed = true;
                Touched::All
            }
            Event::SeldonDeployments(CollectionChange::Applied(o)) => {
                let k = key_of(&o);
                self.seldon.insert(k.clone(), o);
                Touched::These(vec![k])
            }
            Event::SeldonDeployments(CollectionChange::Deleted(o)) => {
                let k = key_of(&o);
                self.seldon.remove(&k);
                Touched::These(vec![k])
            }
            Event::Deployments(CollectionChange::Listed(items)) => {
                self.deployments.set_deployments(items);
                self.deployments_readable = Some(true);
                Touched::All
            }
            Event::Deployments(CollectionChange::Applied(d)) => {
                let touched = self.owners(&d);
                self.deployments.insert(d);
                touched
            }
            Event::Deployments(CollectionChange::Deleted(d)) => {
                let touched = self.owners(&d);
                self.deployments.remove(&d);
                touched
            }
            Event::DeploymentsForbidden => {
                self.deployments_readable = Some(false);
                Touched::All
            }
            Event::ReplicaSets(CollectionChange::Listed(items)) => {
                self.deployments.set_replica_sets(items);
                self.replica_sets_seen = true;
                Touched::All
            }
            Event::ReplicaSets(CollectionChange::Applied(rs)) => {
                let touched = self.owners(&rs);
                self.deployments.insert_replica_set(rs);
                touched
            }
            Event::ReplicaSets(CollectionChange::Deleted(rs)) => {
                let touched = self.owners(&rs);
                self.deployments.remove_replica_set(&rs);
                touched
            }
            Event::ReplicaSetsForbidden => {
                self.deployments.forget_replica_sets();
                self.replica_sets_seen = true;
                Touched::All
            }
        }
    }

    /// The SeldonDeployment a Deployment or ReplicaSet belongs to (the operator's
    /// `seldon-deployment-id` label), else every one in its namespace.
    fn owners(&self, d: &Value) -> Touched {
        let ns = namespace_of(d);
        let label = d
            .pointer("/metadata/labels/seldon-deployment-id")
            .and_then(Value::as_str);
        if let Some(owner) = label {
            let k = (ns.clone(), owner.to_string());
            if self.seldon.contains_key(&k) {
                return Touched::These(vec![k]);
            }
        }
        Touched::These(
            self.seldon
                .keys()
                .filter(|(n, _)| *n == ns)
                .cloned()
                .collect(),
        )
    }

    /// Every collection has been listed (or refused).
    pub fn ready(&self) -> bool {
        self.seldon_listed
            && (self.deployments_readable == Some(false)
                || (self.deployments_readable.is_some() && self.replica_sets_seen))
    }

    /// False when the user may not list Deployments.
    pub fn deployments_readable(&self) -> bool {
        self.deployments_readable != Some(false)
    }

    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.seldon.keys()
    }

    pub fn object(&self, key: &Key) -> Option<&Value> {
        self.seldon.get(key)
    }

    /// The status of one SeldonDeployment with its rollout; None when it is gone.
    pub fn status(&self, key: &Key) -> Option<DeploymentStatus> {
        let obj = self.seldon.get(key)?;
        let mut st = status(obj, FIELD_MANAGER);
        let live = self.deployments_readable().then_some(&self.deployments);
        attach_rollout(&mut st, obj, live);
        Some(st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::v1::rollout::RolloutState;
    use serde_json::json;

    fn sdep(ns: &str, name: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": ns},
               "spec": {"predictors": [{"name": "default",
                   "graph": {"name": "classifier", "type": "MODEL"},
                   "componentSpecs": [{"spec": {"containers": [{"name": "classifier"}]}}]}]}})
    }

    fn deployment(ns: &str, owner: &str, ready: i64) -> Value {
        json!({"metadata": {"name": format!("{owner}-default-0-classifier"), "namespace": ns,
                            "generation": 1, "labels": {"seldon-deployment-id": owner}},
               "spec": {"replicas": 1, "template": {"spec": {"containers": [
                   {"name": "classifier"}, {"name": "seldon-container-engine"}]}}},
               "status": {"observedGeneration": 1, "updatedReplicas": ready, "readyReplicas": ready}})
    }

    /// The ReplicaSet of revision `revision` of `owner`'s Deployment, with `pods` pods of which
    /// `ready` are ready.
    fn replica_set(ns: &str, owner: &str, revision: i64, pods: i64, ready: i64) -> Value {
        json!({"metadata": {"name": format!("{owner}-default-0-classifier-{revision}"), "namespace": ns,
                            "labels": {"seldon-deployment-id": owner},
                            "annotations": {"deployment.kubernetes.io/revision": revision.to_string()},
                            "ownerReferences": [{"kind": "Deployment", "name": format!("{owner}-default-0-classifier"), "controller": true}]},
               "spec": {"template": {"spec": {"containers": [
                   {"name": "classifier"}, {"name": "seldon-container-engine"}]}}},
               "status": {"replicas": pods, "readyReplicas": ready}})
    }

    fn state(live: &Live, ns: &str, name: &str) -> Option<RolloutState> {
        let st = live.status(&(ns.into(), name.into()))?;
        st.predictors[0].rollout.as_ref().map(|r| r.state)
    }

    #[test]
    fn events_keep_both_collections_and_say_whom_they_touch() {
        let mut live = Live::default();
        let a = || ("models".to_string(), "a".to_string());
        assert_eq!(
            live.apply(Event::SeldonDeployments(CollectionChange::Listed(vec![
                sdep("models", "a"),
                sdep("models", "b"),
                sdep("other", "a"),
            ]))),
            Touched::All
        );
        assert!(!live.ready(), "the Deployments are not listed yet");
        live.apply(Event::Deployments(CollectionChange::Listed(vec![])));
        assert!(!live.ready(), "the ReplicaSets are not listed yet");
        live.apply(Event::ReplicaSets(CollectionChange::Listed(vec![])));
        assert!(live.ready());
        assert_eq!(state(&live, "models", "a"), Some(RolloutState::Unknown));
        // A Deployment touches its owner (by the operator's label) in its namespace only.
        assert_eq!(
            live.apply(Event::Deployments(CollectionChange::Applied(deployment(
                "models", "a", 0
            )))),
            Touched::These(vec![a()])
        );
        assert_eq!(state(&live, "models", "a"), Some(RolloutState::Rolling));
        assert_eq!(state(&live, "other", "a"), Some(RolloutState::Unknown));
        // The Deployment's own counters say ready, but what the pods run is read from its
        // ReplicaSets: none yet, then an unready pod, then a ready one.
        live.apply(Event::Deployments(CollectionChange::Applied(deployment(
            "models", "a", 1,
        ))));
        assert_eq!(state(&live, "models", "a"), Some(RolloutState::Rolling));
        assert_eq!(
            live.apply(Event::ReplicaSets(CollectionChange::Applied(replica_set(
                "models", "a", 1, 1, 0
            )))),
            Touched::These(vec![a()])
        );
        assert_eq!(state(&live, "models", "a"), Some(RolloutState::Rolling));
        live.apply(Event::ReplicaSets(CollectionChange::Applied(replica_set(
            "models", "a", 1, 1, 1,
        ))));
        assert_eq!(state(&live, "models", "a"), Some(RolloutState::Current));
        // A second ReplicaSet whose pod still starts: the newest is not ready, the old still
        // runs. Deleting it leaves the first one current again.
        live.apply(Event::ReplicaSets(CollectionChange::Applied(replica_set(
            "models", "a", 2, 1, 0,
        ))));
        assert_eq!(state(&live, "models", "a"), Some(RolloutState::Rolling));
        live.apply(Event::ReplicaSets(CollectionChange::Deleted(replica_set(
            "models", "a", 2, 1, 0,
        ))));
        assert_eq!(state(&live, "models", "a"), Some(RolloutState::Current));
        // Without permission for ReplicaSets, the Deployment's counters decide.
        live.apply(Event::ReplicaSetsForbidden);
        assert_eq!(state(&live, "models", "a"), Some(RolloutState::Current));
        // Without the label: every SeldonDeployment of its namespace may be the owner.
        let mut unlabelled = deployment("models", "b", 1);
        unlabelled["metadata"]["labels"] = json!({});
        let Touched::These(keys) =
            live.apply(Event::Deployments(CollectionChange::Applied(unlabelled)))
        else {
            panic!("not all");
        };
        assert_eq!(keys.len(), 2);
        live.apply(Event::Deployments(CollectionChange::Deleted(deployment(
            "models", "a", 1,
        ))));
        assert_eq!(state(&live, "models", "a"), Some(RolloutState::Unknown));
        live.apply(Event::SeldonDeployments(CollectionChange::Deleted(sdep(
            "models", "a",
        ))));
        assert!(live.status(&a()).is_none());
        assert_eq!(live.keys().count(), 2);
        // No permission to list Deployments: ready, and every rollout unknown.
        live.apply(Event::DeploymentsForbidden);
        assert!(live.ready() && !live.deployments_readable());
        let st = live.status(&("models".into(), "b".into())).expect("b");
        assert_eq!(
            st.predictors[0].rollout.as_ref().map(|r| r.reason.clone()),
            Some(Some(crate::domain::v1::rollout::Holdup::NotPermitted))
        );
    }
}
