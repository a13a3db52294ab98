//! One HTTP/1.1 exchange over any byte stream: a TCP connection (`--jaeger URL`, `--via URL`) or
//! a port-forward stream to a pod (`cluster::forward`). Both boundaries that speak HTTP besides
//! the API server use it: `jaeger` (the query API) and `verify`'s one prediction request.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};

/// A byte stream an HTTP exchange can run over.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A stream that was opened, with, for a port-forward, the server's account of why it broke
/// (the error channel: "connection refused" from the pod's side).
pub struct Dialed {
    pub stream: Box<dyn Stream>,
    pub failure: Option<BoxFuture<'static, Option<String>>>,
}

/// Opens a new stream to one place, each time it is asked.
pub trait Dial: Send + Sync {
    fn dial(&self) -> BoxFuture<'_, io::Result<Dialed>>;
    /// Where it leads, for messages: `http://127.0.0.1:16686`, `pod tracing/jaeger-0 port 16686`.
    fn describe(&self) -> String;
    /// The Host header to send.
    fn host(&self) -> String;
}

/// A TCP connection to host:port.
#[derive(Debug, Clone)]
pub struct Tcp {
    pub host: String,
    pub port: u16,
}

impl Dial for Tcp {
    fn dial(&self) -> BoxFuture<'_, io::Result<Dialed>> {
        Box::pin(async move {
            let s = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await?;
            let _ = s.set_nodelay(true);
            Ok(Dialed {
                stream: Box::new(s),
                failure: None,
            })
        })
    }

    fn describe(&self) -> String {
        format!("http://{}:{}", bracketed(&self.host), self.port)
    }

    fn host(&self) -> String {
        let host = bracketed(&self.host);
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// A host as it stands in a URL: an IPv6 address in brackets.
pub fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// An answer, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// Why an exchange failed, for the caller to word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failed {
    /// Could not connect, or the connection broke; the text says how.
    Io(String),
    TimedOut,
}

/// A request to send: method, path with query, extra headers, body.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub method: http::Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Ask {
    pub fn get(path: impl Into<String>) -> Ask {
        Ask {
            method: http::Method::GET,
            path: path.into(),
            headers: vec![("accept".into(), "application/json".into())],
            body: Vec::new(),
        }
    }
}

/// One request on a new stream from `dial`, the whole of it (connect, send, read) within
/// `timeout`. The stream is closed when this returns.
pub async fn exchange(dial: &dyn Dial, ask: &Ask, timeout: Duration) -> Result<Answer, Failed> {
    match tokio::time::timeout(timeout, exchange_once(dial, ask)).await {
        Ok(r) => r,
        Err(_) => Err(Failed::TimedOut),
    }
}

async fn exchange_once(dial: &dyn Dial, ask: &Ask) -> Result<Answer, Failed> {
    let io_err = |e: &dyn std::fmt::Display| Failed::Io(e.to_string());
    let Dialed { stream, failure } = dial.dial().await.map_err(|e| io_err(&e))?;
    let outcome = async {
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| io_err(&e))?;
        // The connection is driven beside the request; it ends when the answer is read.
        let driver = tokio::spawn(conn);
        let mut req = http::Request::builder()
            .method(ask.method.clone())
            .uri(ask.path.as_str())
            .header(http::header::HOST, dial.host());
        for (k, v) in &ask.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req
            .body(Full::new(Bytes::from(ask.body.clone())))
            .map_err(|e| io_err(&e))?;
        let answer = async {
            let res = sender.send_request(req).await.map_err(|e| io_err(&e))?;
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let body = res
                .into_body()
                .collect()
                .await
                .map_err(|e| io_err(&e))?
                .to_bytes();
            Ok(Answer {
                status,
                headers,
                body,
            })
        }
        .await;
        driver.abort();
        answer
    }
    .await;
    match (outcome, failure) {
        // The far side's own words beat hyper's "connection closed before message completed".
        (Err(Failed::Io(why)), Some(failure)) => {
            match tokio::time::timeout(Duration::from_millis(500), failure).await {
                Ok(Some(reason)) if !reason.trim().is_empty() => {
                    Err(Failed::Io(first_line(&reason)))
                }
                _ => Err(Failed::Io(why)),
            }
        }
        (outcome, _) => outcome,
    }
}

/// The first line of a text, at most 200 characters: error bodies go into one-line messages.
pub fn first_line(text: &str) -> String {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .chars()
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_lines_are_short_and_trimmed() {
        assert_eq!(first_line("\n  boom \nmore"), "boom");
        assert_eq!(first_line(&"x".repeat(500)).len(), 200);
        assert_eq!(first_line(""), "");
    }

    #[test]
    fn tcp_names_host_and_port_as_a_url() {
        let t = Tcp {
            host: "::1".into(),
            port: 16686,
        };
        assert_eq!(t.describe(), "http://[::1]:16686");
        assert_eq!(t.host(), "[::1]:16686");
        let t = Tcp {
            host: "gw".into(),
            port: 80,
        };
        assert_eq!(t.host(), "gw");
    }
}
