//! Errors a user sees: one line that names the object, what was being done, and the fix.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("cannot load kubeconfig: {0}")]
    Kubeconfig(String),
    #[error(
        "Seldon Core's SeldonDeployment CRD is not installed in this cluster (no API group machinelearning.seldon.io at {server}); install Seldon Core v1 or check --context"
    )]
    CrdMissing { server: String },
    #[error(
        "Seldon Core 2 is not installed in this cluster (no seldonruntimes.mlops.seldon.io at {server}); for Seldon Core v1 SeldonDeployments leave out --core v2"
    )]
    Core2Missing { server: String },
    #[error(
        "this cluster serves neither Seldon Core v1 SeldonDeployments (machinelearning.seldon.io) nor Seldon Core 2 SeldonRuntimes (mlops.seldon.io) at {server}; install Seldon Core or check --context"
    )]
    NoSeldon { server: String },
    #[error(
        "this cluster serves Seldon Core 2 (mlops.seldon.io at {server}), not Seldon Core v1 SeldonDeployments: for its SeldonRuntimes use list, status, enable, disable or sampler with --core v2 (e.g. `kubectl seldon-tracing status --core v2 -A`)"
    )]
    OnlyCore2 { server: String },
    #[error(
        "seldondeployment \"{name}\" not found in namespace \"{namespace}\"; list them with `kubectl seldon-tracing list -n {namespace}` or pass -n NAMESPACE"
    )]
    NotFound { name: String, namespace: String },
    #[error(
        "no seldondeployment named \"{name}\" in any namespace; list them with `kubectl seldon-tracing list -A`"
    )]
    NotFoundAnywhere { name: String },
    #[error(
        "forbidden: you may not {verb} seldondeployments in namespace \"{namespace}\" ({message}); check with `kubectl auth can-i {verb} seldondeployments -n {namespace}`"
    )]
    Forbidden {
        verb: String,
        namespace: String,
        message: String,
    },
    #[error(
        "forbidden: you may not {verb} {resource} in namespace \"{namespace}\" ({message}); ask for an RBAC rule with verbs [\"{verb}\"] on resources [\"{resource}\"] (apiGroups [\"\"]) there, {instead}"
    )]
    Rbac {
        verb: String,
        resource: String,
        namespace: String,
        message: String,
        /// What to do without it: `or ...`.
        instead: String,
    },
    #[error(
        "cannot reach the Kubernetes API server at {server}: {message}; check the cluster and --context"
    )]
    Unreachable {
        server: String,
        message: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error(
        "cannot reach the Kubernetes API server at {server} through the proxy {proxy} (HTTPS_PROXY or the kubeconfig's proxy-url): {message}; check the proxy, or list the server in NO_PROXY"
    )]
    ProxyUnreachable {
        server: String,
        proxy: String,
        message: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("timed out after {}s waiting for the API server at {server} while trying to {action}; raise --request-timeout or check the cluster", .after.as_secs_f64())]
    Timeout {
        server: String,
        action: String,
        after: Duration,
    },
    #[error(
        "failed to {action}: the list changed too much while it was read page by page (410 Gone, the continue token expired); run the command again, or read everything at once with --chunk-size 0"
    )]
    ListExpired { action: String },
    #[error("failed to {action}: {message}")]
    Api { action: String, message: String },
    /// A Seldon Core 2 object's problem: `model "ns/iris" …`, `pipeline "ns/churn" …`.
    #[error("{kind} \"{namespace}/{name}\" {message}")]
    Named {
        kind: &'static str,
        namespace: String,
        name: String,
        message: String,
    },
    #[error("seldondeployment \"{namespace}/{name}\" {message}")]
    Object {
        namespace: String,
        name: String,
        message: String,
    },
    #[error(
        "seldondeployment \"{namespace}/{name}\" kept changing while it was being updated ({attempts} conflicts in a row); try again"
    )]
    Conflicts {
        namespace: String,
        name: String,
        attempts: u32,
    },
    /// A manifest that cannot be read, parsed or planned; names the file and document.
    #[error("{0}")]
    Manifest(String),
    /// Something outside the API server could not be reached or found (Jaeger, a pod's port).
    #[error("{0}")]
    Reach(String),
    #[error("cancelled; nothing was changed")]
    Cancelled,
    #[error("not written: interrupted (Ctrl-C) before its write")]
    Interrupted,
    #[error(
        "cannot read the answer from the terminal ({0}); pass the names and values as arguments instead"
    )]
    Terminal(std::io::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A failure to reach the server at all (refused, reset, TLS cut short, timed out), as while
    /// it restarts; worth trying again once it has answered before (`Cluster::patiently`).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. } | Error::ProxyUnreachable { .. } | Error::Timeout { .. }
        )
    }
}
