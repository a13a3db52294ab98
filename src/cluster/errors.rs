//! What went wrong, as the one-line errors users see: API statuses by their code, transport
//! failures by the type of their cause (a timeout, the proxy), never by matching message text.

use kube::config::KubeconfigError;

use super::Cluster;
use crate::error::Error;

/// What a request was doing, for error messages.
pub struct Doing<'a> {
    pub verb: &'a str,
    pub namespace: &'a str,
    pub name: Option<&'a str>,
}

impl Doing<'_> {
    pub(super) fn describe(&self) -> String {
        // Requests that are not about seldondeployments carry their whole phrase as the verb.
        if self.verb.contains(' ') {
            return self.verb.to_string();
        }
        match self.name {
            Some(n) => format!(
                "{} seldondeployment \"{n}\" in namespace \"{}\"",
                self.verb, self.namespace
            ),
            None if self.namespace.is_empty() => {
                format!("{} seldondeployments in all namespaces", self.verb)
            }
            None => format!(
                "{} seldondeployments in namespace \"{}\"",
                self.verb, self.namespace
            ),
        }
    }
}

pub(super) enum Failure {
    Kube(kube::Error),
    TimedOut,
}

/// kube's kubeconfig errors, reworded to say what to do.
pub(super) fn kubeconfig_error(e: KubeconfigError) -> Error {
    Error::Kubeconfig(match e {
        KubeconfigError::LoadContext(name) => format!(
            "context \"{name}\" is not in it; list them with `kubectl config get-contexts`"
        ),
        KubeconfigError::CurrentContextNotSet => {
            "it sets no current-context; pass --context (see `kubectl config get-contexts`)".into()
        }
        KubeconfigError::ReadConfig(io, path) => format!(
            "cannot read {}: {io}; pass --kubeconfig FILE or set KUBECONFIG",
            path.display()
        ),
        KubeconfigError::FindPath => {
            "none found ($KUBECONFIG is unset and there is no home directory); pass --kubeconfig FILE".into()
        }
        other => other.to_string(),
    })
}

impl Cluster {
    pub(super) fn to_error(&self, failure: Failure, action: &Doing) -> Error {
        let e = match failure {
            Failure::TimedOut => {
                return Error::Timeout {
                    server: self.server.clone(),
                    action: action.describe(),
                    after: self.timeout,
                };
            }
            Failure::Kube(e) => e,
        };
        match e {
            kube::Error::Api(status) => match status.code {
                404 if action.name.is_some() => Error::NotFound {
                    name: action.name.unwrap_or_default().to_string(),
                    namespace: action.namespace.to_string(),
                },
                404 => Error::CrdMissing {
                    server: self.server.clone(),
                },
                403 => Error::Forbidden {
                    verb: action.verb.to_string(),
                    namespace: if action.namespace.is_empty() {
                        "(all namespaces)".into()
                    } else {
                        action.namespace.to_string()
                    },
                    message: status.message.clone(),
                },
                401 => Error::Api {
                    action: action.describe(),
                    message: format!(
                        "unauthorized ({}); refresh your credentials",
                        status.message
                    ),
                },
                410 => Error::ListExpired {
                    action: action.describe(),
                },
                _ => Error::Api {
                    action: action.describe(),
                    message: format!("{} ({})", status.message, status.code),
                },
            },
            other => {
                let message = error_chain(&other);
                // kube's own connect/read timeouts (set from --request-timeout) end up here.
                if timed_out(&other) {
                    return Error::Timeout {
                        server: self.server.clone(),
                        action: action.describe(),
                        after: self.timeout,
                    };
                }
                // Every connection goes through the proxy when one is in effect (NO_PROXY
                // already applied), so a transport failure is one on the way through it.
                match &self.proxy {
                    Some(proxy) => Error::ProxyUnreachable {
                        server: self.server.clone(),
                        proxy: proxy.clone(),
                        message,
                        source: Box::new(other),
                    },
                    None => Error::Unreachable {
                        server: self.server.clone(),
                        message,
                        source: Box::new(other),
                    },
                }
            }
        }
    }
}

/// Whether a timeout is among the causes: an I/O timeout (the connector's connect, read and
/// write timeouts) or tokio's elapsed deadline.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<tokio::time::error::Elapsed>().is_some()
            || err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The innermost useful message of an error chain, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}
