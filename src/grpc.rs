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
    crate::web::within(timeout, unary_once(dial, authority, method, metadata, msg)).await
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
    use crate::domain::traces::seldon_message::{SeldonMessage, Status};
    use crate::web::Tcp;
    use bytes::Bytes;
    use http_body_util::{BodyExt, StreamBody};
    use hyper::body::Frame;

    /// What the mock server does with a call.
    #[derive(Clone, Copy)]
    enum Behaviour {
        /// Answers the request message back, with status OK, if the call is the one expected.
        Echo,
        /// Answers with trailers only: status 14 (Unavailable), message "no model".
        Unavailable,
        /// Closes the connection at once.
        Hang,
    }

    type Frames =
        futures::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, std::convert::Infallible>>>;

    /// An in-process HTTP/2 server speaking gRPC's framing by hand, on 127.0.0.1.
    async fn serve(b: Behaviour) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                if let Behaviour::Hang = b {
                    // Never answers; the stream stays open until the test ends.
                    tokio::spawn(async move {
                        let _keep = tcp;
                        tokio::time::sleep(Duration::from_secs(60)).await;
                    });
                    continue;
                }
                let svc = hyper::service::service_fn(
                    move |req: http::Request<hyper::body::Incoming>| async move {
                        let path = req.uri().path().to_string();
                        let traced = req.headers().get("uber-trace-id").is_some();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let mut frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> =
                            Vec::new();
                        let mut trailers = http::HeaderMap::new();
                        match b {
                            Behaviour::Echo
                                if path == "/seldon.protos.Seldon/Predict" && traced =>
                            {
                                frames.push(Ok(Frame::data(body)));
                                trailers.insert("grpc-status", "0".parse().unwrap());
                            }
                            Behaviour::Echo => {
                                trailers.insert("grpc-status", "12".parse().unwrap());
                                trailers.insert(
                                    "grpc-message",
                                    format!("unexpected {path}").parse().unwrap(),
                                );
                            }
                            _ => {
                                trailers.insert("grpc-status", "14".parse().unwrap());
                                trailers.insert("grpc-message", "no model".parse().unwrap());
                            }
                        }
                        frames.push(Ok(Frame::trailers(trailers)));
                        let body: StreamBody<Frames> =
                            StreamBody::new(futures::stream::iter(frames));
                        Ok::<_, std::convert::Infallible>(
                            http::Response::builder()
                                .header("content-type", "application/grpc")
                                .body(body)
                                .unwrap(),
                        )
                    },
                );
                tokio::spawn(
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tcp), svc),
                );
            }
        });
        port
    }

    fn to(port: u16) -> Tcp {
        Tcp {
            host: "127.0.0.1".into(),
            port,
        }
    }

    fn message() -> SeldonMessage {
        SeldonMessage {
            status: Some(Status {
                code: 7,
                ..Status::default()
            }),
            str_data: Some("hello".into()),
            ..SeldonMessage::default()
        }
    }

    async fn call(port: u16, timeout: Duration) -> Result<Called<SeldonMessage>, Failed> {
        let md = [("uber-trace-id".to_string(), "1:2:0:1".to_string())];
        unary(
            &to(port),
            "localhost",
            "/seldon.protos.Seldon/Predict",
            &md,
            message(),
            timeout,
        )
        .await
    }

    #[tokio::test]
    async fn an_answer_is_decoded_and_a_status_is_named() {
        let echo = serve(Behaviour::Echo).await;
        assert_eq!(
            call(echo, Duration::from_secs(5)).await,
            Ok(Called::Ok(message()))
        );
        let down = serve(Behaviour::Unavailable).await;
        assert_eq!(
            call(down, Duration::from_secs(5)).await,
            Ok(Called::Status {
                code: "Unavailable".into(),
                message: "no model".into()
            })
        );
    }

    #[tokio::test]
    async fn a_broken_stream_is_a_failure_not_a_status() {
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        match call(port, Duration::from_secs(5)).await {
            Err(Failed::Io(why)) => assert!(why.contains("refused"), "{why}"),
            other => panic!("{other:?}"),
        }
        // A server that accepts and closes: the handshake or the call breaks, no status.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                drop(tcp);
            }
        });
        assert!(matches!(
            call(port, Duration::from_secs(5)).await,
            Err(Failed::Io(_))
        ));
        // One that never answers: the timeout.
        let hang = serve(Behaviour::Hang).await;
        assert_eq!(
            call(hang, Duration::from_millis(300)).await,
            Err(Failed::TimedOut)
        );
    }

    #[test]
    fn status_codes_are_named_as_grpcurl_names_them() {
        assert_eq!(code_name(tonic::Code::Ok), "OK");
        assert_eq!(code_name(tonic::Code::Unavailable), "Unavailable");
        assert_eq!(code_name(tonic::Code::DeadlineExceeded), "DeadlineExceeded");
    }
}
