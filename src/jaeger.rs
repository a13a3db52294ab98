//! Jaeger's query API, the second I/O boundary beside `cluster`: a trace by id and a search of
//! recent traces (`/api/traces`, the same routes in Jaeger v1.62 and Jaeger v2's query
//! extension), over HTTP/1.1 on hyper, the stack kube already brings. The transport is any
//! byte stream: a TCP connection to `--jaeger URL` here, a port-forward stream to a pod later.
//! Answers are returned as JSON for `domain::trace` to read; failures become one-line errors
//! that name the Jaeger they came from.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::domain::traces::model::Trace;
use crate::web::{self, Ask, Dial, Failed, Tcp};

/// What went wrong talking to Jaeger, worded for users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JaegerError {
    #[error("{url} is not a Jaeger query URL: {why}")]
    BadUrl { url: String, why: String },
    #[error(
        "Jaeger at {at} does not answer ({why}); check the address, or find it with --jaeger-service"
    )]
    Unreachable { at: String, why: String },
    #[error("Jaeger at {at} did not answer within {seconds}s")]
    TimedOut { at: String, seconds: u64 },
    #[error("Jaeger at {at} answered {status} to {path}: {body}")]
    Status {
        at: String,
        path: String,
        status: u16,
        body: String,
    },
    #[error("Jaeger at {at} answered {path} with something that is not its JSON: {why}")]
    NotJson {
        at: String,
        path: String,
        why: String,
    },
}

/// Where Jaeger's query API is: host and port to connect to, and the base path it is served
/// under (`--query.base-path`, e.g. `/jaeger`), without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub base_path: String,
}

impl Endpoint {
    /// `http://HOST[:PORT][/BASE]` (port 80 when absent). HTTPS is not spoken yet: such a Jaeger is
    /// reached through a port-forward to its query pod instead.
    pub fn parse(url: &str) -> Result<Endpoint, JaegerError> {
        let bad = |why: &str| JaegerError::BadUrl {
            url: url.into(),
            why: why.into(),
        };
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some(("https", _)) => {
                return Err(bad(
                    "https is not supported yet; use --jaeger-service to reach the query pod through a port-forward",
                ));
            }
            Some((scheme, _)) => {
                return Err(bad(&format!("unknown scheme {scheme:?}, use http://")));
            }
            None => return Err(bad("give a URL such as http://localhost:16686")),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("no host (and no user:password@ part)"));
        }
        let port_of = |p: &str| {
            p.parse::<u16>()
                .map_err(|_| bad("the port is not a number"))
        };
        // `[v6]`, `[v6]:port`, `host` or `host:port`.
        let (host, port) = match authority.strip_prefix('[') {
            Some(rest) => {
                let (h, after) = rest
                    .split_once(']')
                    .ok_or_else(|| bad("an unclosed [ in the host"))?;
                let port = match after {
                    "" => 80,
                    p => port_of(p.strip_prefix(':').unwrap_or(p))?,
                };
                (h, port)
            }
            None => match authority.rsplit_once(':') {
                Some((h, p)) => (h, port_of(p)?),
                None => (authority, 80),
            },
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if path.contains(['?', '#']) {
            return Err(bad("no query or fragment, only a base path"));
        }
        Ok(Endpoint {
            host: host.to_string(),
            port,
            base_path: path.trim_end_matches('/').to_string(),
        })
    }

    /// As users wrote it, for messages.
    pub fn display(&self) -> String {
        format!(
            "http://{}:{}{}",
            web::bracketed(&self.host),
            self.port,
            self.base_path
        )
    }
}

/// The query of `GET /api/traces` (docs/facts/traces.md, "Jaeger's query API"): one service, an optional operation, tags matched
/// against span and process tags, a window in µs since the epoch, a limit, a minimum duration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    pub service: String,
    pub operation: Option<String>,
    pub tags: Vec<(String, String)>,
    pub start_us: i64,
    pub end_us: i64,
    pub limit: u32,
    pub min_duration_us: Option<i64>,
}

/// Percent-encoding of a query value: everything but unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Search {
    /// The path and query of the search, under `base`.
    pub fn path(&self, base: &str) -> String {
        let mut q = format!(
            "{base}/api/traces?service={}&start={}&end={}&limit={}",
            encode(&self.service),
            self.start_us,
            self.end_us,
            self.limit
        );
        if let Some(op) = &self.operation {
            q.push_str(&format!("&operation={}", encode(op)));
        }
        for (k, v) in &self.tags {
            q.push_str(&format!("&tag={}", encode(&format!("{k}:{v}"))));
        }
        if let Some(d) = self.min_duration_us {
            q.push_str(&format!("&minDuration={d}us"));
        }
        q
    }
}

/// A client of one Jaeger query endpoint.
pub struct Jaeger {
    dial: Arc<dyn Dial>,
    base_path: String,
    /// Where it is, for messages (`http://host:16686/jaeger`, or the pod it is forwarded to).
    pub at: String,
    timeout: Duration,
}

impl Jaeger {
    /// Jaeger at a URL the plugin connects to itself.
    pub fn new(endpoint: Endpoint, timeout: Duration) -> Jaeger {
        let at = endpoint.display();
        let tcp = Tcp {
            host: endpoint.host,
            port: endpoint.port,
        };
        Jaeger {
            dial: Arc::new(tcp),
            base_path: endpoint.base_path,
            at,
            timeout,
        }
    }

    /// Jaeger behind any stream (a port-forward to its query pod), under `base_path`.
    pub fn through(dial: Arc<dyn Dial>, base_path: &str, timeout: Duration) -> Jaeger {
        Jaeger {
            at: dial.describe(),
            dial,
            base_path: base_path.trim_end_matches('/').to_string(),
            timeout,
        }
    }

    /// The trace with id `id` (`GET /api/traces/<32 hex>`), None while Jaeger does not know it
    /// (404: not arrived yet, or never sent).
    pub async fn trace(&self, id: u128) -> Result<Option<Value>, JaegerError> {
        let path = format!(
            "{}/api/traces/{}",
            self.base_path,
            crate::domain::traces::model::trace_id_text(id)
        );
        match self.get(&path).await {
            Ok(v) => Ok(Some(v)),
            Err(JaegerError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The services Jaeger knows (`GET /api/services`): proves it answers as Jaeger.
    pub async fn services(&self) -> Result<Value, JaegerError> {
        self.get(&format!("{}/api/services", self.base_path)).await
    }

    /// Recent traces matching `q`.
    pub async fn search(&self, q: &Search) -> Result<Value, JaegerError> {
        self.get(&q.path(&self.base_path)).await
    }

    /// [`Jaeger::search`], read straight into traces: the answer's bytes are parsed once into
    /// what attribution needs and then dropped, never held as a JSON tree.
    pub async fn search_traces(&self, q: &Search) -> Result<Vec<Trace>, JaegerError> {
        let path = q.path(&self.base_path);
        let body = self.get_bytes(&path).await?;
        crate::domain::traces::jaeger_json::parse_traces_json(&body).map_err(|e| {
            JaegerError::NotJson {
                at: self.at.clone(),
                path,
                why: e.0,
            }
        })
    }

    async fn get(&self, path: &str) -> Result<Value, JaegerError> {
        let body = self.get_bytes(path).await?;
        serde_json::from_slice(&body).map_err(|e| JaegerError::NotJson {
            at: self.at.clone(),
            path: path.into(),
            why: e.to_string(),
        })
    }

    /// One GET on a new connection, with the client's timeout over connect, send and read.
    async fn get_bytes(&self, path: &str) -> Result<hyper::body::Bytes, JaegerError> {
        let at = self.at.clone();
        let answer = web::exchange(self.dial.as_ref(), &Ask::get(path), self.timeout)
            .await
            .map_err(|f| match f {
                Failed::Io(why) => JaegerError::Unreachable {
                    at: at.clone(),
                    why,
                },
                Failed::TimedOut => JaegerError::TimedOut {
                    at: at.clone(),
                    seconds: self.timeout.as_secs().max(1),
                },
            })?;
        if !(200..300).contains(&answer.status) {
            return Err(JaegerError::Status {
                at,
                path: path.into(),
                status: answer.status,
                body: web::first_line(&String::from_utf8_lossy(&answer.body)),
            });
        }
        Ok(answer.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn urls_name_host_port_and_base_path() {
        let e = Endpoint::parse("http://jaeger-query.observability:16686/jaeger/").unwrap();
        assert_eq!(
            e,
            Endpoint {
                host: "jaeger-query.observability".into(),
                port: 16686,
                base_path: "/jaeger".into()
            }
        );
        assert_eq!(
            e.display(),
            "http://jaeger-query.observability:16686/jaeger"
        );
        assert_eq!(Endpoint::parse("http://localhost").unwrap().port, 80);
        let v6 = Endpoint::parse("http://[::1]:16686").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 16686));
        assert_eq!(v6.display(), "http://[::1]:16686");
        let bare6 = Endpoint::parse("http://[fd00::5]/jaeger").unwrap();
        assert_eq!((bare6.host.as_str(), bare6.port), ("fd00::5", 80));
        assert_eq!(bare6.base_path, "/jaeger");
        for bad in [
            "localhost:16686",
            "ftp://x",
            "http://",
            "http://u:p@host:1",
            "http://host:port",
            "http://host:1/?q=1",
            "https://host",
            "http://[::1",
            "http://[::1]x",
            "http://:16686",
        ] {
            let e = Endpoint::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with(bad), "{e}");
        }
    }

    #[test]
    fn a_search_is_one_query_string() {
        let q = Search {
            service: "executor".into(),
            operation: Some("predictions".into()),
            tags: vec![("seldon.deployment".into(), "models/iris".into())],
            start_us: 1,
            end_us: 2,
            limit: 200,
            min_duration_us: Some(5000),
        };
        assert_eq!(
            q.path("/jaeger"),
            "/jaeger/api/traces?service=executor&start=1&end=2&limit=200&operation=predictions&tag=seldon.deployment%3Amodels%2Firis&minDuration=5000us"
        );
    }

    /// A one-shot HTTP server on 127.0.0.1 answering every connection with `response`; returns
    /// its port and the requests it saw.
    async fn serve(response: &'static str) -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let _ = tx.send(String::from_utf8_lossy(&buf[..n]).to_string());
                let _ = s.write_all(response.as_bytes()).await;
                let _ = s.shutdown().await;
            }
        });
        (port, rx)
    }

    fn client(port: u16, base: &str) -> Jaeger {
        Jaeger::new(
            Endpoint {
                host: "127.0.0.1".into(),
                port,
                base_path: base.into(),
            },
            Duration::from_secs(2),
        )
    }

    #[tokio::test]
    async fn a_trace_by_id_and_a_404_while_it_has_not_arrived() {
        let body = r#"{"data":[{"traceID":"4bf9","spans":[],"processes":{}}],"total":0,"limit":0,"offset":0,"errors":null}"#;
        let ok: &'static str = Box::leak(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_boxed_str(),
        );
        let (port, mut seen) = serve(ok).await;
        let v = client(port, "/jaeger")
            .trace(0x4bf9)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v["data"][0]["traceID"], "4bf9");
        let req = seen.recv().await.unwrap();
        assert!(
            req.starts_with("GET /jaeger/api/traces/00000000000000000000000000004bf9 HTTP/1.1\r\n"),
            "{req}"
        );
        assert!(
            req.to_ascii_lowercase()
                .contains(&format!("host: 127.0.0.1:{port}")),
            "{req}"
        );
        let (port, _) = serve(
            "HTTP/1.1 404 Not Found\r\ncontent-length: 26\r\n\r\n{\"errors\":[{\"code\":404}]}\n",
        )
        .await;
        assert_eq!(client(port, "").trace(1).await.unwrap(), None);
    }

    #[tokio::test]
    async fn failures_are_one_line_naming_jaeger() {
        let (port, _) =
            serve("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 12\r\n\r\nno storage\r\n")
                .await;
        let e = client(port, "")
            .search(&Search::default())
            .await
            .unwrap_err();
        assert!(matches!(e, JaegerError::Status { status: 503, .. }), "{e}");
        assert!(e.to_string().contains("answered 503"), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
        let (port, _) = serve("HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n<html/>  ").await;
        let e = client(port, "").trace(1).await.unwrap_err();
        assert!(matches!(e, JaegerError::NotJson { .. }), "{e}");
        // Nothing listens: refused at once.
        let free = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let e = client(port, "").trace(1).await.unwrap_err();
        assert!(matches!(e, JaegerError::Unreachable { .. }), "{e}");
        // Accepts and never answers: the timeout.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        let slow = Jaeger::new(
            Endpoint {
                host: "127.0.0.1".into(),
                port,
                base_path: String::new(),
            },
            Duration::from_millis(300),
        );
        let e = slow.trace(1).await.unwrap_err();
        assert!(matches!(e, JaegerError::TimedOut { .. }), "{e}");
        drop(silent);
    }
}
