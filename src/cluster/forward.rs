//! Reaching processes inside pods: the pods and Services `verify` and `traces` look for, and
//! port-forward streams to a pod's port through the API server (`pods/portforward`, as
//! `kubectl port-forward` does, over kube's WebSocket support). A stream lands on the pod's
//! loopback, so a mesh's mTLS does not stand in the way. Every stream is closed when it is
//! dropped: nothing is left forwarding after a command ends, however it ends.

use std::pin::Pin;
use std::task::{Context, Poll};

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

use super::{Cluster, Doing};
use crate::error::{Error, Result};
use crate::web::{BoxFuture, Dial, Dialed};

/// A port of one pod, reached by port-forward.
#[derive(Clone)]
pub struct PodPort {
    client: kube::Client,
    pub namespace: String,
    pub pod: String,
    pub port: u16,
}

/// A port-forward stream that stops its forwarder when dropped.
struct Forwarded {
    stream: DuplexStream,
    forwarder: kube::api::Portforwarder,
}

impl Drop for Forwarded {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

impl AsyncRead for Forwarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Forwarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl PodPort {
    async fn open(&self) -> std::result::Result<Dialed, kube::Error> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let mut forwarder = pods.portforward(&self.pod, &[self.port]).await?;
        // kube gives a stream for every port asked for; its absence is reported, not a panic.
        let stream = forwarder.take_stream(self.port).ok_or_else(|| {
            kube::Error::Service(
                format!("no stream for port {} of the port-forward", self.port).into(),
            )
        })?;
        let failure = forwarder.take_error(self.port);
        Ok(Dialed {
            stream: Box::new(Forwarded { stream, forwarder }),
            failure: failure.map(|f| Box::pin(f) as BoxFuture<'static, Option<String>>),
        })
    }
}

impl Dial for PodPort {
    fn dial(&self) -> BoxFuture<'_, std::io::Result<Dialed>> {
        Box::pin(async move {
            self.open()
                .await
                .map_err(|e| std::io::Error::other(format!("port-forward failed: {e}")))
        })
    }

    fn describe(&self) -> String {
        format!(
            "pod {}/{} port {} (port-forward)",
            self.namespace, self.pod, self.port
        )
    }

    fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }
}

impl Cluster {
    /// A port-forward to `pod`'s `port`, opened once now so that a refusal (RBAC, a pod gone)
    /// is a one-line error before anything is sent; later streams open on demand.
    pub async fn forward(&self, namespace: &str, pod: &str, port: u16) -> Result<PodPort> {
        let target = PodPort {
            client: self.client.clone(),
            namespace: namespace.into(),
            pod: pod.into(),
            port,
        };
        match target.open().await {
            Ok(_first) => Ok(target),
            Err(kube::Error::Api(s)) if s.code == 403 => Err(Error::Rbac {
                verb: "create".into(),
                resource: "pods/portforward".into(),
                namespace: namespace.into(),
                message: s.message.clone(),
                instead: "or send the request yourself with --via URL".into(),
            }),
            Err(e) => Err(Error::Api {
                action: format!("open a port-forward to pod {namespace}/{pod} port {port}"),
                message: e.to_string(),
            }),
        }
    }

    /// A port-forward target without opening anything (`--dry-run`).
    pub fn forward_unopened(&self, namespace: &str, pod: &str, port: u16) -> PodPort {
        PodPort {
            client: self.client.clone(),
            namespace: namespace.into(),
            pod: pod.into(),
            port,
        }
    }

    /// The pods in `namespace` whose labels match `selector`.
    pub async fn pods(&self, namespace: &str, selector: &str) -> Result<Vec<Value>> {
        self.listed("pods", namespace, Some(selector)).await
    }

    /// The Services of `namespace` (every namespace when None).
    pub async fn services(&self, namespace: Option<&str>) -> Result<Vec<Value>> {
        self.listed("services", namespace.unwrap_or(""), None).await
    }

    /// One Service.
    pub async fn service(&self, namespace: &str, name: &str) -> Result<Option<Value>> {
        let path = format!("/api/v1/namespaces/{namespace}/services/{name}");
        let verb = format!("read service {namespace}/{name}");
        let action = Doing {
            verb: &verb,
            namespace,
            name: Some(name),
        };
        let req = http::Request::get(path)
            .body(Vec::new())
            .map_err(kube::core::request::Error::BuildRequest);
        match self.checked::<Value>(req, &action).await {
            Ok(v) => Ok(Some(v)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(Error::Forbidden { message, .. }) => Err(Error::Rbac {
                verb: "get".into(),
                resource: "services".into(),
                namespace: namespace.into(),
                message,
                instead: "or give Jaeger's address with --jaeger URL".into(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Every item of a core/v1 list (pods, services), `namespace` "" meaning all.
    async fn listed(
        &self,
        resource: &str,
        namespace: &str,
        selector: Option<&str>,
    ) -> Result<Vec<Value>> {
        let res = super::Resource {
            path: if namespace.is_empty() {
                format!("/api/v1/{resource}")
            } else {
                format!("/api/v1/namespaces/{namespace}/{resource}")
            },
            labels: selector.map(str::to_string),
            fields: None,
            verb: "list",
            namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
        };
        match self.list_all::<Value>(&res).await {
            Ok((items, _)) => Ok(items),
            Err(Error::Forbidden { message, .. }) => Err(Error::Rbac {
                verb: "list".into(),
                resource: resource.into(),
                namespace: if namespace.is_empty() {
                    "(all namespaces)".into()
                } else {
                    namespace.into()
                },
                message,
                instead: match resource {
                    "pods" => "or send the request yourself with --via URL".into(),
                    _ => "or give Jaeger's address with --jaeger URL".into(),
                },
            }),
            Err(e) => Err(e),
        }
    }
}
