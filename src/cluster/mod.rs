//! All I/O with the API server. This module sets the client up (kubeconfig, timeouts, proxy,
//! kube's retry layer) and sends requests; `reads` and `writes` are the calls the commands make,
//! `errors` turns what went wrong into the one-line errors users see.

mod configmaps;
mod errors;
mod forward;
mod reads;
mod v2;
mod watch;
mod writes;

use std::time::Duration;

pub use errors::Doing;
use errors::{Failure, kubeconfig_error};
pub use forward::PodPort;
use kube::client::retry::RetryPolicy;
use kube::client::{Body, ClientBuilder};
use kube::config::{KubeConfigOptions, Kubeconfig};
pub use reads::{choose_version, owner_selector};
use serde::Deserialize;
use serde_json::Value;
pub use v2::{RuntimeWorkloads, V2_API};
pub use watch::{CollectionChange, Resource};
pub use writes::Applied;

use crate::error::{Error, Result};
use crate::options::Connection;

pub const GROUP: &str = "machinelearning.seldon.io";
pub const PLURAL: &str = "seldondeployments";

pub struct Cluster {
    client: kube::Client,
    /// Whether the server has answered, and since when it has not (see `patiently`).
    health: Health,
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
#[serde(bound(deserialize = "T: serde::de::DeserializeOwned"))]
pub struct Page<T = Value> {
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    #[serde(default)]
    metadata: ListMeta,
}

#[derive(Debug, Deserialize, Default)]
struct ListMeta {
    #[serde(rename = "continue", default)]
    cont: Option<String>,
    #[serde(rename = "resourceVersion", default)]
    resource_version: Option<String>,
}

impl<T> Page<T> {
    pub fn next(&self) -> Option<&str> {
        self.metadata.cont.as_deref().filter(|c| !c.is_empty())
    }

    /// The list's resourceVersion, to watch from.
    fn version(&self) -> Option<String> {
        self.metadata.resource_version.clone()
    }
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
            health: Health::default(),
            server,
            proxy,
            default_namespace,
            timeout: g.request_timeout,
        })
    }

    /// A cluster over the mock API server of the in-process tests, with the same retry layer.
    #[cfg(test)]
    pub fn over(
        service: tower_test::mock::Mock<http::Request<Body>, http::Response<Body>>,
        server: &str,
        timeout: Duration,
    ) -> Cluster {
        Cluster {
            client: with_retries(ClientBuilder::new(service, "default")),
            health: Health::default(),
            server: server.into(),
            proxy: None,
            default_namespace: "default".into(),
            timeout,
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
        action: &Doing<'_>,
    ) -> Result<T> {
        let answer = self.call(req).await.map_err(|f| self.to_error(f, action));
        if !matches!(&answer, Err(e) if e.is_transient()) {
            self.health.answered();
        }
        answer
    }

    /// Runs `op` again after it fails to reach the server (refused, reset, timed out: a server
    /// restarting), waiting 250 ms doubling to 4 s plus up to as much again at random, until it
    /// gets an answer or the server has been unreachable for [`OUTAGE_BUDGET`]. The budget is
    /// the process's, not each request's: once the outage is older than that, every request
    /// still waiting fails and new ones fail at once, so a run ends soon after. A server that has
    /// not answered yet in this run is not waited for: a wrong address fails at once.
    pub async fn patiently<T, F, Fut>(&self, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut wait = SHED_FIRST_WAIT;
        loop {
            match op().await {
                Err(e) if e.is_transient() && self.health.within(OUTAGE_BUDGET) => {
                    tokio::time::sleep(wait + jitter(wait)).await;
                    wait = (wait * 2).min(SHED_MAX_WAIT);
                }
                other => return other,
            }
        }
    }

    async fn get_path(&self, path: &str, verb: &str) -> Result<Value> {
        let req = http::Request::get(path)
            .body(Vec::new())
            .map_err(kube::core::request::Error::BuildRequest);
        let action = Doing {
            verb,
            namespace: "",
            name: None,
        };
        self.checked(req, &action).await
    }
}

/// How long the server may stay unreachable while a run waits for it (see `Cluster::patiently`).
pub const OUTAGE_BUDGET: Duration = Duration::from_secs(30);

/// Whether the server has answered in this run, and since when it has been unreachable.
#[derive(Default)]
struct Health {
    answered: std::sync::atomic::AtomicBool,
    down_since: std::sync::Mutex<Option<tokio::time::Instant>>,
}

impl Health {
    /// The server answered (any HTTP status).
    fn answered(&self) {
        self.answered
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut d) = self.down_since.lock() {
            *d = None;
        }
    }

    /// A request just failed to reach it: whether to keep waiting (it answered before, and the
    /// outage is younger than `budget`).
    fn within(&self, budget: Duration) -> bool {
        if !self.answered.load(std::sync::atomic::Ordering::SeqCst) {
            return false;
        }
        let Ok(mut d) = self.down_since.lock() else {
            return false;
        };
        let since = *d.get_or_insert_with(tokio::time::Instant::now);
        since.elapsed() < budget
    }
}

/// A random share of `max`, so requests cut off together do not all come back together.
fn jitter(max: Duration) -> Duration {
    use std::hash::BuildHasher;
    let r = std::collections::hash_map::RandomState::new().hash_one(std::time::Instant::now());
    max.mul_f64((r % 1000) as f64 / 1000.0)
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

/// kube's `RetryPolicy`, new for every request. tower's retry layer clones the layer's policy
/// for each request, and a cloned `RetryPolicy` clones its random generator too, so every
/// request drew the same "random" waits: a bulk run's shed requests came back in lockstep and
/// were shed again (200 objects took 8x longer under the throttling test's priority level than
/// with per-request jitter). A fresh policy per clone gets a fresh generator.
pub struct FreshRetry(RetryPolicy);

impl FreshRetry {
    pub fn new() -> Self {
        FreshRetry(retry_policy())
    }
}

impl Default for FreshRetry {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for FreshRetry {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl<Res> tower::retry::Policy<http::Request<Body>, http::Response<Res>, tower::BoxError>
    for FreshRetry
{
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut http::Request<Body>,
        result: &mut Result<http::Response<Res>, tower::BoxError>,
    ) -> Option<Self::Future> {
        tower::retry::Policy::<_, http::Response<Res>, _>::retry(&mut self.0, req, result)
    }

    fn clone_request(&mut self, req: &http::Request<Body>) -> Option<http::Request<Body>> {
        tower::retry::Policy::<_, http::Response<Res>, tower::BoxError>::clone_request(
            &mut self.0,
            req,
        )
    }
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
        .with_layer(&tower::retry::RetryLayer::new(FreshRetry::new()))
        .build()
}
