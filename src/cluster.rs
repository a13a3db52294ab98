//! All I/O with the API server: client set-up, discovery, paginated lists, get and apply.
//! Objects stay raw JSON so nothing the plugin does not model is lost on the way.

use std::time::Duration;

use kube::api::{GetParams, ListParams, Patch, PatchParams};
use kube::client::retry::RetryPolicy;
use kube::client::{Body, ClientBuilder};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::core::Request;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::invocation::Connection;

pub const GROUP: &str = "machinelearning.seldon.io";
pub const PLURAL: &str = "seldondeployments";

pub struct Cluster {
    client: kube::Client,
    pub server: String,
    /// The proxy requests go through (HTTPS_PROXY or the kubeconfig's proxy-url, after NO_PROXY).
    proxy: Option<String>,
    pub default_namespace: String,
    timeout: Duration,
}

/// Which SeldonDeployments a list reads, and in pages of what size.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<'a> {
    /// None = every namespace (-A).
    pub namespace: Option<&'a str>,
    /// A label selector (-l).
    pub labels: Option<&'a str>,
    /// Only objects with this name (`status NAME -A`).
    pub name: Option<&'a str>,
    /// Page size (`limit`); 0 = everything in one response.
    pub chunk_size: u32,
}

/// One page of a list call: raw items plus the continue token.
#[derive(Debug, Deserialize)]
pub struct Page {
    #[serde(default)]
    pub items: Vec<Value>,
    #[serde(default)]
    metadata: ListMeta,
}

#[derive(Debug, Deserialize, Default)]
struct ListMeta {
    #[serde(rename = "continue", default)]
    cont: Option<String>,
}

impl Page {
    pub fn next(&self) -> Option<&str> {
        self.metadata.cont.as_deref().filter(|c| !c.is_empty())
    }
}

/// What a request was doing, for error messages.
pub struct Action<'a> {
    pub verb: &'a str,
    pub namespace: &'a str,
    pub name: Option<&'a str>,
}

impl Action<'_> {
    fn describe(&self) -> String {
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

/// Outcome of one apply: stored (or dry-run) object, or a resourceVersion conflict to retry.
pub enum Applied {
    Done(Value),
    Conflict,
}

/// kube's kubeconfig errors, reworded to say what to do.
fn kubeconfig_error(e: KubeconfigError) -> Error {
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
    pub async fn connect(g: &Connection) -> Result<Cluster> {
        let options = KubeConfigOptions {
            context: g.context.clone(),
            ..Default::default()
        };
        let loaded = match &g.kubeconfig {
            Some(path) => {
                let kc = Kubeconfig::read_from(path).map_err(kubeconfig_error)?;
                kube::Config::from_custom_kubeconfig(kc, &options).await
            }
            None => kube::Config::from_kubeconfig(&options).await,
        };
        let mut config = loaded.map_err(kubeconfig_error)?;
        if !g.request_timeout.is_zero() {
            config.connect_timeout = Some(g.request_timeout);
            config.read_timeout = Some(g.request_timeout);
            config.write_timeout = Some(g.request_timeout);
        }
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        let default_namespace = config.default_namespace.clone();
        // Shown in errors: scheme, host and port only, never a user:password part.
        let proxy = config.proxy_url.as_ref().map(|u| {
            let host = u.host().unwrap_or("");
            match (u.scheme_str(), u.port_u16()) {
                (Some(scheme), Some(port)) => format!("{scheme}://{host}:{port}"),
                (Some(scheme), None) => format!("{scheme}://{host}"),
                (None, _) => host.to_string(),
            }
        });
        // kube's default retry layer waits exactly the server's Retry-After (1 s under API
        // Priority and Fairness) until its backoff outgrows that, then up to 1000 s: a bulk
        // run's requests come back in lockstep, are shed again, and back off for minutes. The
        // same layer with our numbers (`retry_policy`) goes on top instead.
        config.default_retry = false;
        let builder =
            ClientBuilder::try_from(config).map_err(|e| Error::Kubeconfig(e.to_string()))?;
        Ok(Cluster {
            client: with_retries(builder),
            server,
            proxy,
            default_namespace,
            timeout: g.request_timeout,
        })
    }

    /// A cluster over any service (the mock API server in tests), with the same retry layer.
    pub fn over<S, B>(service: S, server: &str, timeout: Duration) -> Cluster
    where
        S: tower::Service<http::Request<Body>, Response = http::Response<B>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<tower::BoxError> + Send + Sync,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<tower::BoxError>,
    {
        Cluster {
            client: with_retries(ClientBuilder::new(service, "default")),
            server: server.into(),
            proxy: None,
            default_namespace: "default".into(),
            timeout,
        }
    }

    fn to_error(&self, failure: Failure, action: &Action) -> Error {
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
                if message.contains("deadline has elapsed") || message.contains("timed out") {
                    return Error::Timeout {
                        server: self.server.clone(),
                        action: action.describe(),
                        after: self.timeout,
                    };
                }
                match &self.proxy {
                    Some(proxy) if message.contains("tunnel") || message.contains("socks") => {
                        Error::ProxyUnreachable {
                            server: self.server.clone(),
                            proxy: proxy.clone(),
                            message,
                        }
                    }
                    _ => Error::Unreachable {
                        server: self.server.clone(),
                        message,
                    },
                }
            }
        }
    }

    /// Sends `req`. Requests the server shed (429 from API Priority and Fairness or the
    /// in-flight limit; 503 or 504 from an overloaded server or proxy) were not carried out, and
    /// the retry layer under the client has already resent them (`retry_policy`).
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        req: std::result::Result<http::Request<Vec<u8>>, kube::core::request::Error>,
    ) -> std::result::Result<T, Failure> {
        let req = req.map_err(|e| Failure::Kube(kube::Error::BuildRequest(e)))?;
        self.send_once::<T>(req).await
    }

    async fn send_once<T: serde::de::DeserializeOwned>(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> std::result::Result<T, Failure> {
        let fut = self.client.request::<T>(req);
        if self.timeout.is_zero() {
            return fut.await.map_err(Failure::Kube);
        }
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r.map_err(Failure::Kube),
            Err(_) => Err(Failure::TimedOut),
        }
    }

    async fn checked<T: serde::de::DeserializeOwned>(
        &self,
        req: std::result::Result<http::Request<Vec<u8>>, kube::core::request::Error>,
        action: &Action<'_>,
    ) -> Result<T> {
        self.call(req).await.map_err(|f| self.to_error(f, action))
    }

    async fn get_path(&self, path: &str, verb: &str) -> Result<Value> {
        let req = http::Request::get(path)
            .body(Vec::new())
            .map_err(kube::core::request::Error::BuildRequest);
        let action = Action {
            verb,
            namespace: "",
            name: None,
        };
        self.checked(req, &action).await
    }

    /// The server's version (`/version` gitVersion).
    pub async fn server_version(&self) -> Result<String> {
        let v = self.get_path("/version", "read the server version").await?;
        Ok(v.get("gitVersion")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string())
    }

    /// `metadata.name` of every item of a list at `path` (first 500), e.g. namespaces.
    pub async fn names(&self, path: &str) -> Result<Vec<String>> {
        let list = self
            .get_path(&format!("{path}?limit=500"), "list names")
            .await?;
        Ok(list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_string))
            .collect())
    }

    /// The group version to use: v1 when served, else the server's preferred version.
    pub async fn discover(&self) -> Result<String> {
        let group = self
            .get_path(
                &format!("/apis/{GROUP}"),
                "discover the SeldonDeployment API",
            )
            .await?;
        let version = choose_version(&group).ok_or_else(|| Error::CrdMissing {
            server: self.server.clone(),
        })?;
        Ok(format!("{GROUP}/{version}"))
    }

    fn request(api_version: &str, namespace: Option<&str>) -> Request {
        let path = match namespace {
            Some(ns) => format!("/apis/{api_version}/namespaces/{ns}/{PLURAL}"),
            None => format!("/apis/{api_version}/{PLURAL}"),
        };
        Request::new(path)
    }

    /// One page of the SeldonDeployments `q` selects.
    pub async fn list_page(
        &self,
        api_version: &str,
        q: &Query<'_>,
        cont: Option<&str>,
    ) -> Result<Page> {
        let mut lp = ListParams::default();
        if q.chunk_size > 0 {
            lp = lp.limit(q.chunk_size);
        }
        if let Some(s) = q.labels {
            lp = lp.labels(s);
        }
        if let Some(n) = q.name {
            lp = lp.fields(&format!("metadata.name={n}"));
        }
        if let Some(c) = cont {
            lp = lp.continue_token(c);
        }
        let action = Action {
            verb: "list",
            namespace: q.namespace.unwrap_or(""),
            name: None,
        };
        self.checked(Self::request(api_version, q.namespace).list(&lp), &action)
            .await
    }

    pub async fn get(&self, api_version: &str, namespace: &str, name: &str) -> Result<Value> {
        let action = Action {
            verb: "get",
            namespace,
            name: Some(name),
        };
        let req = Self::request(api_version, Some(namespace)).get(name, &GetParams::default());
        self.checked(req, &action).await
    }

    /// Server-side apply of `body` with force; a 409 (stale resourceVersion) comes back as Conflict.
    pub async fn apply(
        &self,
        api_version: &str,
        namespace: &str,
        name: &str,
        body: &Value,
        field_manager: &str,
        dry_run: bool,
    ) -> Result<Applied> {
        let action = Action {
            verb: "patch",
            namespace,
            name: Some(name),
        };
        let mut pp = PatchParams::apply(field_manager).force();
        pp.dry_run = dry_run;
        let req = Self::request(api_version, Some(namespace)).patch(name, &pp, &Patch::Apply(body));
        match self.call::<Value>(req).await {
            Ok(v) => Ok(Applied::Done(v)),
            Err(Failure::Kube(kube::Error::Api(s))) if s.code == 409 => Ok(Applied::Conflict),
            Err(f) => Err(self.to_error(f, &action)),
        }
    }
}

/// Resends of one request the server shed (client-go allows 10).
pub const SHED_RETRIES: u32 = 10;
/// The first wait before a resend; it doubles, with up to twice itself added at random, and
/// never exceeds [`SHED_MAX_WAIT`]. The random part keeps a bulk run's shed requests from all
/// coming back at the same moment and being shed again.
pub const SHED_FIRST_WAIT: Duration = Duration::from_millis(250);
pub const SHED_MAX_WAIT: Duration = Duration::from_secs(4);

/// kube's `RetryPolicy` with the numbers above, ignoring Retry-After (see `connect`).
pub fn retry_policy() -> RetryPolicy {
    RetryPolicy::new(SHED_FIRST_WAIT, SHED_MAX_WAIT, SHED_RETRIES, false)
        .expect("the shed backoff numbers are valid")
}

/// The client over `builder`'s stack with kube's retry layer on top (a Buffer under it, since
/// retrying needs a service it can clone).
fn with_retries<S, B>(builder: ClientBuilder<S>) -> kube::Client
where
    S: tower::Service<http::Request<Body>, Response = http::Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<tower::BoxError> + Send + Sync,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<tower::BoxError>,
{
    builder
        .with_layer(&tower::buffer::BufferLayer::new(1024))
        .with_layer(&tower::retry::RetryLayer::new(retry_policy()))
        .build()
}

enum Failure {
    Kube(kube::Error),
    TimedOut,
}

/// From an APIGroup document: `v1` when served, else the server's preferred version, else the
/// first one listed. None when the group serves no version.
pub fn choose_version(group: &Value) -> Option<&str> {
    let versions: Vec<&str> = group
        .get("versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("version").and_then(Value::as_str))
        .collect();
    if versions.contains(&"v1") {
        return Some("v1");
    }
    group
        .get("preferredVersion")
        .and_then(|p| p.get("version"))
        .and_then(Value::as_str)
        .or(versions.first().copied())
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefers_v1_then_the_servers_preference() {
        let all = json!({"versions": [{"version": "v1alpha2"}, {"version": "v1"}], "preferredVersion": {"version": "v1alpha2"}});
        assert_eq!(choose_version(&all), Some("v1"));
        let old = json!({"versions": [{"version": "v1alpha2"}, {"version": "v1alpha3"}], "preferredVersion": {"version": "v1alpha3"}});
        assert_eq!(choose_version(&old), Some("v1alpha3"));
        let bare = json!({"versions": [{"version": "v1alpha2"}]});
        assert_eq!(choose_version(&bare), Some("v1alpha2"));
        assert_eq!(choose_version(&json!({"versions": []})), None);
    }
}
