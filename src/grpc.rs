//! One unary gRPC call over a stream [`Dial`] opens (a port-forward, TCP or TLS): tonic's client
//! and prost's codec on hyper's HTTP/2, the same hyper that carries the REST request.
//!
//! Failures are told apart as a person needs them: the stream or the HTTP/2 handshake failing
//! ([`Failed`], as for REST), and the server answering with a gRPC status that is not OK
//! ([`Called::Status`]).

use std::time::Duration;

use http::uri::PathAndQuery;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tonic::metadata::{MetadataKey, MetadataValue};

use crate::web::{Dial, Dialed, Failed};

/// What the server answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Called<R> {
    Ok(R),
    /// A gRPC status other than OK: its code's name (`Unavailable`) and message.
    Status {
        code: String,
        message: String,
    },
}

/// The chain of errors under `e`, outermost first, joined by ": " (repeats left out).
fn causes(e: &dyn std::error::Error) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.iter().any(|seen| seen.contains(&text)) {
            out.push(text);
        }
        next = cause.source();
    }
    out.join(": ")
}

/// A status code's name as grpcurl prints it: `OK`, `Unavailable`, `DeadlineExceeded`.
pub fn code_name(code: tonic::Code) -> String {
    match code {
        tonic::Code::Ok => "OK".into(),
        other => format!("{other:?}"),
    }
}

/// Calls `method` (`/package.Service/Method`) once with `msg` and `metadata` (lower-case keys),
/// within `timeout`. `authority` is sent as `:authority` (the Host of HTTP/1.1).
pub async fn unary<Q, R>(
    dial: &dyn Dial,
    authority: &str,
    method: &'static str,
    metadata: &[(String, String)],
    msg: Q,
    timeout: Duration,
) -> Result<Called<R>, Failed>
where
    Q: prost::Message + Send + Sync + 'static,
    R: prost::Message + Default + Send + Sync + 'static,
{
    match tokio::time::timeout(timeout, unary_once(dial, authority, method, metadata, msg)).await {
        Ok(r) => r,
        Err(_) => Err(Failed::TimedOut),
    }
}

async fn unary_once<Q, R>(
    dial: &dyn Dial,
    authority: &str,
    method: &'static str,
    metadata: &[(String, String)],
    msg: Q,
) -> Result<Called<R>, Failed>
where
    Q: prost::Message + Send + Sync + 'static,
    R: prost::Message + Default + Send + Sync + 'static,
{
    let io_err = |e: &dyn std::fmt::Display| Failed::Io(e.to_string());
    let Dialed { stream, failure } = dial.dial().await.map_err(|e| io_err(&e))?;
    let outcome = async {
        let (sender, conn) = hyper::client::conn::http2::handshake::<_, _, tonic::body::Body>(
            TokioExecutor::new(),
            TokioIo::new(stream),
        )
        .await
        .map_err(|e| io_err(&e))?;
        // The connection is driven beside the call; it ends when the answer is read.
        let driver = tokio::spawn(conn);
        let service = tower::service_fn(move |req: http::Request<tonic::body::Body>| {
            let mut sender = sender.clone();
            async move { sender.send_request(req).await }
        });
        let origin: http::Uri = format!("http://{authority}")
            .parse()
            .map_err(|e| io_err(&e))?;
        let mut client = tonic::client::Grpc::with_origin(service, origin);
        let mut request = tonic::Request::new(msg);
        for (k, v) in metadata {
            let key = MetadataKey::from_bytes(k.as_bytes()).map_err(|e| io_err(&e))?;
            let value = MetadataValue::try_from(v.as_str()).map_err(|e| io_err(&e))?;
            request.metadata_mut().insert(key, value);
        }
        let answer = async {
            client.ready().await.map_err(|e| io_err(&e))?;
            let codec = tonic_prost::ProstCodec::<Q, R>::default();
            match client
                .unary(request, PathAndQuery::from_static(method), codec)
                .await
            {
                Ok(res) => Ok(Called::Ok(res.into_inner())),
                // A status made here from a broken connection (it has a source), not one the
                // server sent: the stream failed.
                Err(status) if std::error::Error::source(&status).is_some() => {
                    let why = causes(&status);
                    Err(Failed::Io(if why.is_empty() {
                        status.message().to_string()
                    } else {
                        why
                    }))
                }
                Err(status) => Ok(Called::Status {
                    code: code_name(status.code()),
                    message: status.message().to_string(),
                }),
            }
        }
        .await;
        driver.abort();
        answer
    }
    .await;
    crate::web::far_side_first(outcome, failure).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_named_as_grpcurl_names_them() {
        assert_eq!(code_name(tonic::Code::Ok), "OK");
        assert_eq!(code_name(tonic::Code::Unavailable), "Unavailable");
        assert_eq!(code_name(tonic::Code::DeadlineExceeded), "DeadlineExceeded");
    }
}
