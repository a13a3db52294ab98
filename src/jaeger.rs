//! Jaeger's query API, the second I/O boundary beside `cluster`: a trace by id and a search of
//! recent traces, over HTTP/1.1 on hyper, the stack kube already brings, through any byte stream
//! (a TCP connection to `--jaeger URL`, or a port-forward to the query pod).
//!
//! Jaeger speaks two query APIs (docs/facts/traces.md, "Jaeger's query API"): `/api/v3` (OTLP
//! JSON; Jaeger 1.62 and v2, the stable one) and the old JSON API (`/api/traces`,
//! `/api/services`; 1.62 to v2.20, and its search and services are gone from Jaeger's main
//! branch). Which one a server speaks is asked once per run: `/api/v3/services`, else
//! `/api/services`. Searches by tags go where the server filters by them: `/api/v3` with
//! `query.attributes` where the answer shows the server applied it, else the old API's `tag`, else
//! `/api/v3` by service and window, filtered here. Failures become one-line errors that name the
//! Jaeger they came from.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::domain::clock::format_rfc3339;
use crate::domain::traces::model::{Trace, trace_id_text};
use crate::domain::traces::{jaeger_json, otlp_json};
use crate::web::{self, Ask, Dial, Failed, Secret, Tcp, Tls, TlsOptions};

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
    #[error(
        "{at} answers neither /api/v3/services nor /api/services: not Jaeger's query API, or not under this base path (give it in the URL, e.g. http://host:16686/jaeger)"
    )]
    NotJaeger { at: String },
    #[error("Jaeger at {at} answered {path} with something that is not its JSON: {why}")]
    NotJson {
        at: String,
        path: String,
        why: String,
    },
}

/// Where Jaeger's query API is: host and port to connect to, and the base path it is served
/// under (`--query.base-path`, e.g. `/jaeger`), without a trailing slash. A trace's URL in
/// Jaeger's UI (`…/trace/<id>`, as users copy it from the browser) names the trace too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub base_path: String,
    /// The trace a UI URL names.
    pub trace: Option<u128>,
    /// `https://`.
    pub tls: bool,
    /// The `Authorization` header a URL's `user:password@` makes (Basic, as curl does).
    pub auth: Option<Secret>,
}

/// `url` with any `user:password@` replaced by `***@`: what messages may show of a URL.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return match url.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => url.to_string(),
        };
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// `%XX` escapes decoded, as in a URL's user and password.
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Endpoint {
    /// `http[s]://[USER:PASSWORD@]HOST[:PORT][/BASE]` (port 80, or 443 for https, when absent;
    /// the user and password become Basic auth and are never shown), or a trace's URL in the UI.
    pub fn parse(url: &str) -> Result<Endpoint, JaegerError> {
        let bad = |why: &str| JaegerError::BadUrl {
            url: redacted(url),
            why: why.into(),
        };
        let (tls, rest) = match url.split_once("://") {
            Some((s, rest)) if s.eq_ignore_ascii_case("http") => (false, rest),
            Some((s, rest)) if s.eq_ignore_ascii_case("https") => (true, rest),
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "unknown scheme {scheme:?}, use http:// or https://"
                )));
            }
            None => return Err(bad("give a URL such as http://localhost:16686")),
        };
        let default_port = if tls { 443 } else { 80 };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (userinfo, authority) = match authority.rsplit_once('@') {
            Some((u, a)) => (Some(u), a),
            None => (None, authority),
        };
        let auth = match userinfo {
            None => None,
            Some(u) => {
                use base64::Engine as _;
                let (user, password) = u.split_once(':').unwrap_or((u, ""));
                let pair = format!("{}:{}", percent_decoded(user), percent_decoded(password));
                Some(Secret::new(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )))
            }
        };
        if authority.is_empty() {
            return Err(bad("no host"));
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
                    "" => default_port,
                    p => port_of(p.strip_prefix(':').unwrap_or(p))?,
                };
                (h, port)
            }
            None => match authority.rsplit_once(':') {
                Some((h, p)) => (h, port_of(p)?),
                None => (authority, default_port),
            },
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        // A trace in the UI: `…/trace/<id>`, perhaps with the UI's own query (`?uiFind=…`).
        let (path, trace) = match path
            .rfind("/trace/")
            .or_else(|| path.strip_suffix("/trace").map(str::len))
        {
            Some(at) => {
                let id = path[at..]
                    .trim_start_matches("/trace")
                    .trim_start_matches('/')
                    .split(['?', '#'])
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('/');
                let id = crate::domain::traces::model::parse_id(id)
                    .filter(|_| !id.is_empty())
                    .ok_or_else(|| {
                        bad("names no trace id after /trace/ (copy the URL of a trace from Jaeger's UI, or give only its base URL)")
                    })?;
                (&path[..at], Some(id))
            }
            None => (path, None),
        };
        if path.contains(['?', '#']) {
            return Err(bad("no query or fragment, only a base path"));
        }
        Ok(Endpoint {
            host: host.to_string(),
            port,
            base_path: path.trim_end_matches('/').to_string(),
            trace,
            tls,
            auth,
        })
    }

    /// As users wrote it, for messages.
    /// As users wrote it, for messages: never the user and password.
    pub fn display(&self) -> String {
        format!(
            "{}://{}:{}{}",
            if self.tls { "https" } else { "http" },
            web::bracketed(&self.host),
            self.port,
            self.base_path
        )
    }

    /// The stream to it: TCP, or TLS checked as `tls` says.
    pub fn dialer(&self, tls: &TlsOptions) -> Result<Arc<dyn Dial>, String> {
        self.dialer_for(tls, false)
    }

    /// [`Endpoint::dialer`] for gRPC: TLS offers HTTP/2 in ALPN.
    pub fn grpc_dialer(&self, tls: &TlsOptions) -> Result<Arc<dyn Dial>, String> {
        self.dialer_for(tls, true)
    }

    fn dialer_for(&self, tls: &TlsOptions, h2: bool) -> Result<Arc<dyn Dial>, String> {
        Ok(if self.tls {
            let t = Tls::new(&self.host, self.port, tls)?;
            Arc::new(if h2 { t.speaking_h2() } else { t })
        } else {
            Arc::new(Tcp {
                host: self.host.clone(),
                port: self.port,
            })
        })
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
    /// The old API's search (`GET /api/traces`), under `base`: the tags filtered by the server.
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

    /// `/api/v3`'s search under `base`, for at most `limit` traces: the window in whole seconds
    /// (RFC 3339, both ends required), the tags as `query.attributes` when `attributes`.
    pub fn v3_path(&self, base: &str, limit: u32, attributes: bool) -> String {
        let start = format_rfc3339(self.start_us.div_euclid(1_000_000));
        let end = format_rfc3339((self.end_us + 999_999).div_euclid(1_000_000));
        let mut q = format!(
            "{base}/api/v3/traces?query.service_name={}&query.start_time_min={}&query.start_time_max={}&query.num_traces={}",
            encode(&self.service),
            encode(&start),
            encode(&end),
            limit.max(1)
        );
        if let Some(op) = &self.operation {
            q.push_str(&format!("&query.operation_name={}", encode(op)));
        }
        if attributes && !self.tags.is_empty() {
            let map: serde_json::Map<String, Value> = self
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            q.push_str(&format!(
                "&query.attributes={}",
                encode(&Value::Object(map).to_string())
            ));
        }
        if let Some(d) = self.min_duration_us {
            q.push_str(&format!("&query.duration_min={d}us"));
        }
        q
    }
}

/// Which query API a Jaeger answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `/api/v3` (OTLP JSON).
    V3,
    /// Only the old JSON API.
    Legacy,
}

/// How searches by tags are answered by this server, learnt from the first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagSearch {
    /// `/api/v3` applies `query.attributes`.
    V3Attributes,
    /// `/api/v3` ignores them; the old API's `tag` filters.
    LegacyTags,
    /// Neither: `/api/v3` by service and window, the tags matched here.
    ClientSide,
}

/// With [`TagSearch::ClientSide`], how many traces are asked for each one wanted: the server
/// returns traces of every deployment whose executor reports under the same service name.
const CLIENT_SIDE_FACTOR: u32 = 10;

/// A client of one Jaeger query endpoint.
pub struct Jaeger {
    dial: Arc<dyn Dial>,
    base_path: String,
    /// Where it is, for messages (`http://host:16686/jaeger`, or the pod it is forwarded to).
    pub at: String,
    timeout: Duration,
    /// Sent with every request (`Authorization` and the user's `--jaeger-header`s).
    headers: Vec<(String, Secret)>,
    dialect: tokio::sync::OnceCell<Dialect>,
    tag_search: std::sync::Mutex<Option<TagSearch>>,
}

/// How to be let in: TLS checks and the headers to send (never shown).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    pub tls: TlsOptions,
    /// `(name, value)`: `--jaeger-header`s, and `Authorization: Bearer` from
    /// `$SELDON_TRACING_JAEGER_TOKEN`.
    pub headers: Vec<(String, Secret)>,
}

impl Jaeger {
    /// Jaeger at a URL the plugin connects to itself (TCP, or TLS for https).
    pub fn new(
        endpoint: Endpoint,
        access: &Access,
        timeout: Duration,
    ) -> Result<Jaeger, JaegerError> {
        let at = endpoint.display();
        let dial = endpoint
            .dialer(&access.tls)
            .map_err(|why| JaegerError::Unreachable {
                at: at.clone(),
                why,
            })?;
        let mut headers = access.headers.clone();
        if let Some(auth) = &endpoint.auth
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            headers.push(("authorization".into(), auth.clone()));
        }
        Ok(Jaeger {
            dial,
            base_path: endpoint.base_path,
            at,
            timeout,
            headers,
            dialect: tokio::sync::OnceCell::new(),
            tag_search: std::sync::Mutex::new(None),
        })
    }

    /// Jaeger behind any stream (a port-forward to its query pod), under `base_path`.
    pub fn through(
        dial: Arc<dyn Dial>,
        base_path: &str,
        access: &Access,
        timeout: Duration,
    ) -> Jaeger {
        Jaeger {
            at: dial.describe(),
            dial,
            base_path: base_path.trim_end_matches('/').to_string(),
            timeout,
            headers: access.headers.clone(),
            dialect: tokio::sync::OnceCell::new(),
            tag_search: std::sync::Mutex::new(None),
        }
    }

    /// Which query API the server answers, asked once: `/api/v3/services`, else (404)
    /// `/api/services`. Also proves that Jaeger answers, before `verify` sends anything.
    pub async fn dialect(&self) -> Result<Dialect, JaegerError> {
        self.dialect
            .get_or_try_init(|| async {
                match self
                    .get(&format!("{}/api/v3/services", self.base_path))
                    .await
                {
                    Ok(Value::Object(_)) => return Ok(Dialect::V3),
                    Ok(_) | Err(JaegerError::Status { status: 404, .. }) => {}
                    Err(JaegerError::NotJson { .. }) => {}
                    Err(e) => return Err(e),
                }
                match self.get(&format!("{}/api/services", self.base_path)).await {
                    Ok(Value::Object(_)) => Ok(Dialect::Legacy),
                    Ok(_)
                    | Err(JaegerError::Status { status: 404, .. })
                    | Err(JaegerError::NotJson { .. }) => Err(JaegerError::NotJaeger {
                        at: self.at.clone(),
                    }),
                    Err(e) => Err(e),
                }
            })
            .await
            .copied()
    }

    /// The trace with id `id`, None while Jaeger does not know it (404: not arrived yet, or
    /// never sent).
    pub async fn trace(&self, id: u128) -> Result<Option<Trace>, JaegerError> {
        let dialect = self.dialect().await?;
        let path = match dialect {
            Dialect::V3 => format!("{}/api/v3/traces/{}", self.base_path, trace_id_text(id)),
            Dialect::Legacy => format!("{}/api/traces/{}", self.base_path, trace_id_text(id)),
        };
        let body = match self.get_bytes(&path).await {
            Ok(b) => b,
            Err(JaegerError::Status { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let traces = self.read(dialect, &path, &body)?;
        Ok(traces.into_iter().find(|t| t.id == id))
    }

    /// Recent traces matching `q`, its tags matched by whichever way this server filters (see
    /// the module's doc), at most `q.limit`.
    pub async fn search_traces(&self, q: &Search) -> Result<Vec<Trace>, JaegerError> {
        if self.dialect().await? == Dialect::Legacy {
            return self.legacy_search(q).await;
        }
        let known = *self.tag_search.lock().unwrap_or_else(|e| e.into_inner());
        let found = match (known, q.tags.is_empty()) {
            (_, true) | (Some(TagSearch::V3Attributes), _) => {
                self.v3_search(q, q.limit, true).await?
            }
            (Some(TagSearch::LegacyTags), _) => return self.legacy_search(q).await,
            (Some(TagSearch::ClientSide), _) => {
                self.v3_search(q, q.limit.saturating_mul(CLIENT_SIDE_FACTOR), false)
                    .await?
            }
            (None, false) => {
                let first = self.v3_search(q, q.limit, true).await?;
                if first.iter().all(|t| t.carries(&q.tags)) {
                    // Filtered, or every trace of the service happens to match; learnt only from
                    // an answer that shows it.
                    if !first.is_empty() {
                        self.learn(TagSearch::V3Attributes);
                    }
                    first
                } else {
                    match self.legacy_search(q).await {
                        Ok(found) => {
                            self.learn(TagSearch::LegacyTags);
                            return Ok(found);
                        }
                        Err(JaegerError::Status { status: 404, .. }) => {
                            self.learn(TagSearch::ClientSide);
                            self.v3_search(q, q.limit.saturating_mul(CLIENT_SIDE_FACTOR), false)
                                .await?
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        };
        let mut found: Vec<Trace> = found.into_iter().filter(|t| t.carries(&q.tags)).collect();
        found.truncate(q.limit as usize);
        Ok(found)
    }

    /// How this server's searches by tags have been answered so far, if one has shown it.
    pub fn tag_search(&self) -> Option<TagSearch> {
        *self.tag_search.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How the last searches were answered, for `traces -o json` (`search`).
    pub fn search_words(&self) -> &'static str {
        match (self.dialect.get(), self.tag_search()) {
            (Some(Dialect::Legacy), _) | (_, Some(TagSearch::LegacyTags)) => "old API tags",
            (_, Some(TagSearch::ClientSide)) => "/api/v3 matched here",
            _ => "/api/v3 query.attributes",
        }
    }

    fn learn(&self, way: TagSearch) {
        *self.tag_search.lock().unwrap_or_else(|e| e.into_inner()) = Some(way);
    }

    /// `/api/v3`'s search; no match (404 on v2, an empty result on 1.62) is no traces.
    async fn v3_search(
        &self,
        q: &Search,
        limit: u32,
        attributes: bool,
    ) -> Result<Vec<Trace>, JaegerError> {
        let path = q.v3_path(&self.base_path, limit, attributes);
        match self.get_bytes(&path).await {
            Ok(body) => self.read(Dialect::V3, &path, &body),
            Err(JaegerError::Status { status: 404, .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// The old API's search: the answer's bytes are parsed once into what attribution needs and
    /// then dropped, never held as a JSON tree. A Jaeger client's `hostname` tag is `host.name`
    /// in Jaeger v2 (its receiver renames it): a search by it that finds nothing is asked again
    /// under the other name.
    async fn legacy_search(&self, q: &Search) -> Result<Vec<Trace>, JaegerError> {
        let path = q.path(&self.base_path);
        let body = self.get_bytes(&path).await?;
        let found = self.read(Dialect::Legacy, &path, &body)?;
        if !found.is_empty() || !q.tags.iter().any(|(k, _)| k == "hostname") {
            return Ok(found);
        }
        let renamed = Search {
            tags: q
                .tags
                .iter()
                .map(|(k, v)| match k.as_str() {
                    "hostname" => ("host.name".to_string(), v.clone()),
                    _ => (k.clone(), v.clone()),
                })
                .collect(),
            ..q.clone()
        };
        let path = renamed.path(&self.base_path);
        let body = self.get_bytes(&path).await?;
        self.read(Dialect::Legacy, &path, &body)
    }

    fn read(&self, dialect: Dialect, path: &str, body: &[u8]) -> Result<Vec<Trace>, JaegerError> {
        let parsed = match dialect {
            Dialect::V3 => otlp_json::parse_traces_json(body),
            Dialect::Legacy => jaeger_json::parse_traces_json(body),
        };
        parsed.map_err(|e| JaegerError::NotJson {
            at: self.at.clone(),
            path: path.into(),
            why: e.0,
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
        let mut ask = Ask::get(path);
        ask.headers.extend(
            self.headers
                .iter()
                .map(|(k, v)| (k.clone(), v.expose().to_string())),
        );
        let answer = web::exchange(self.dial.as_ref(), &ask, self.timeout)
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[test]
    fn urls_name_host_port_and_base_path() {
        let e = Endpoint::parse("http://jaeger-query.observability:16686/jaeger/").unwrap();
        assert_eq!(
            e,
            Endpoint {
                host: "jaeger-query.observability".into(),
                port: 16686,
                base_path: "/jaeger".into(),
                ..Endpoint::default()
            }
        );
        // A trace's URL in the UI: where Jaeger is, and which trace.
        for (url, base) in [
            (
                "http://localhost:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736",
                "",
            ),
            (
                "http://j:80/jaeger/trace/4bf92f3577b34da6a3ce929d0e0e4736?uiFind=x",
                "/jaeger",
            ),
            (
                "http://j/jaeger/trace/4bf92f3577b34da6a3ce929d0e0e4736/",
                "/jaeger",
            ),
        ] {
            let e = Endpoint::parse(url).unwrap();
            assert_eq!(e.base_path, base, "{url}");
            assert_eq!(e.trace, Some(0x4bf92f3577b34da6a3ce929d0e0e4736), "{url}");
        }
        for no_id in [
            "http://localhost:16686/trace/",
            "http://j/jaeger/trace",
            "http://j/trace/xyz",
        ] {
            let e = Endpoint::parse(no_id).unwrap_err().to_string();
            assert!(e.contains("names no trace id after /trace/"), "{e}");
        }
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
            "http://host:port",
            "http://host:1/?q=1",
            "http://[::1",
            "http://[::1]x",
            "http://:16686",
        ] {
            let e = Endpoint::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with(bad), "{e}");
        }
    }

    #[test]
    fn https_and_a_password_in_the_url_which_is_never_shown() {
        let e = Endpoint::parse("https://jaeger.example.com/jaeger").unwrap();
        assert!(e.tls && e.auth.is_none());
        assert_eq!(
            (e.port, e.display().as_str()),
            (443, "https://jaeger.example.com:443/jaeger")
        );
        // user:password@ is Basic auth, as curl takes it (%-escapes decoded).
        let e = Endpoint::parse("http://alice:s3cr3t@127.0.0.1:9/").unwrap();
        assert_eq!(
            e.auth.as_ref().map(Secret::expose),
            Some("Basic YWxpY2U6czNjcjN0")
        );
        assert_eq!(e.display(), "http://127.0.0.1:9");
        assert!(!format!("{e:?}").contains("s3cr3t") && !format!("{e:?}").contains("YWxp"));
        let e = Endpoint::parse("http://a%40b:p%3Aw@h").unwrap();
        assert_eq!(e.auth.unwrap().expose(), "Basic YUBiOnA6dw=="); // a@b:p:w
        // A URL that is refused shows no password either.
        for url in [
            "http://alice:s3cr3t@127.0.0.1:port/",
            "gopher://alice:s3cr3t@h/",
        ] {
            let m = Endpoint::parse(url).unwrap_err().to_string();
            assert!(!m.contains("s3cr3t") && m.contains("***@"), "{m}");
        }
        assert_eq!(redacted("https://u:p@h:1/x@y"), "https://***@h:1/x@y");
        assert_eq!(redacted("u:p@h"), "***@h");
        assert_eq!(redacted("http://h/a@b"), "http://h/a@b");
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

    /// An HTTP server on 127.0.0.1 answering each request by the first route whose path prefix
    /// matches (`(prefix, status, body)`), 404 otherwise; returns its port and the requests it
    /// saw, in order.
    async fn serve(
        routes: Vec<(&'static str, u16, String)>,
    ) -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
        serve_on(routes, None).await
    }

    /// [`serve`] over TLS with the test server certificate (tests/fixtures/tls).
    async fn serve_tls(
        routes: Vec<(&'static str, u16, String)>,
    ) -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
        use rustls_pki_types::pem::PemObject;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(dir.join("server.crt"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = rustls_pki_types::PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        serve_on(
            routes,
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
        )
        .await
    }

    async fn serve_on(
        routes: Vec<(&'static str, u16, String)>,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let mut s: Box<dyn web::Stream> = match &tls {
                    None => Box::new(tcp),
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(t) => Box::new(t),
                        // The client refused the certificate: nothing to answer.
                        Err(_) => continue,
                    },
                };
                let mut buf = vec![0u8; 8192];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let line = req.lines().next().unwrap_or("").to_string();
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                let _ = tx.send(req);
                let (status, body) = routes
                    .iter()
                    .find(|(p, _, _)| path.starts_with(p) || (p.contains('=') && path.contains(p)))
                    .map(|(_, st, b)| (*st, b.clone()))
                    .unwrap_or((
                        404,
                        r#"{"error":{"httpCode":404,"message":"not found"}}"#.into(),
                    ));
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(answer.as_bytes()).await;
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
                ..Endpoint::default()
            },
            &Access::default(),
            Duration::from_secs(2),
        )
        .unwrap()
    }

    /// The path of each request seen so far.
    fn paths(seen: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(r) = seen.try_recv() {
            out.push(r.split(' ').nth(1).unwrap_or("").to_string());
        }
        out
    }

    /// An OTLP answer with one single-span trace per `(trace id, hostname)`.
    fn otlp(traces: &[(u128, &str)]) -> String {
        let rs: Vec<Value> = traces
            .iter()
            .map(|(id, host)| {
                serde_json::json!({"resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": "executor"}},
                    {"key": "hostname", "value": {"stringValue": host}}]},
                 "scopeSpans": [{"spans": [{"traceId": trace_id_text(*id), "spanId": "0000000000000001",
                    "name": "predictions", "kind": 2, "startTimeUnixNano": "1000", "endTimeUnixNano": "2000"}]}]})
            })
            .collect();
        serde_json::json!({"result": {"resourceSpans": rs}}).to_string()
    }

    const V3_SERVICES: (&str, u16, &str) =
        ("/j/api/v3/services", 200, r#"{"services":["executor"]}"#);

    fn route(r: (&'static str, u16, &str)) -> (&'static str, u16, String) {
        (r.0, r.1, r.2.to_string())
    }

    #[tokio::test]
    async fn the_dialect_is_asked_once_and_a_trace_is_read_in_it() {
        // A server with /api/v3: the trace from there, as OTLP.
        let (port, mut seen) = serve(vec![
            route(V3_SERVICES),
            ("/j/api/v3/traces/", 200, otlp(&[(0x4bf9, "pod-a")])),
        ])
        .await;
        let j = client(port, "/j");
        assert_eq!(j.dialect().await.unwrap(), Dialect::V3);
        let t = j.trace(0x4bf9).await.unwrap().unwrap();
        assert_eq!(
            (t.id, t.spans[0].operation.as_str()),
            (0x4bf9, "predictions")
        );
        assert_eq!(
            paths(&mut seen),
            [
                "/j/api/v3/services",
                "/j/api/v3/traces/00000000000000000000000000004bf9"
            ]
        );
        // A server with the old API only: its routes, its JSON.
        let legacy = r#"{"data":[{"traceID":"4bf9","spans":[{"spanID":"1","operationName":"predictions","startTime":1,"duration":1,"processID":"p1"}],"processes":{"p1":{"serviceName":"executor"}}}]}"#;
        let (port, mut seen) = serve(vec![
            ("/api/services", 200, r#"{"data":["executor"]}"#.into()),
            ("/api/traces/", 200, legacy.into()),
        ])
        .await;
        let j = client(port, "");
        assert_eq!(j.trace(0x4bf9).await.unwrap().unwrap().spans.len(), 1);
        assert_eq!(
            paths(&mut seen),
            [
                "/api/v3/services",
                "/api/services",
                "/api/traces/00000000000000000000000000004bf9"
            ]
        );
        // Not arrived yet: None, on either.
        let (port, _) = serve(vec![route(V3_SERVICES)]).await;
        assert_eq!(client(port, "/j").trace(1).await.unwrap(), None);
        // Neither API: one sentence that names the base path.
        let (port, _) = serve(vec![("/", 200, "<html>the UI</html>".into())]).await;
        let e = client(port, "/wrong").dialect().await.unwrap_err();
        assert!(matches!(e, JaegerError::NotJaeger { .. }), "{e}");
        assert!(e.to_string().contains("base path"), "{e}");
    }

    fn stamp_search() -> Search {
        Search {
            service: "executor".into(),
            tags: vec![("hostname".into(), "pod-a".into())],
            start_us: 1_796_600_000_000_000,
            end_us: 1_796_600_600_000_000,
            limit: 5,
            ..Search::default()
        }
    }

    #[tokio::test]
    async fn a_search_by_tags_goes_where_the_server_filters() {
        // The server applies query.attributes: only matching traces come back; learnt.
        let (port, mut seen) = serve(vec![
            route(V3_SERVICES),
            (
                "/j/api/v3/traces?",
                200,
                otlp(&[(1, "pod-a"), (2, "pod-a")]),
            ),
        ])
        .await;
        let j = client(port, "/j");
        assert_eq!(j.search_traces(&stamp_search()).await.unwrap().len(), 2);
        assert_eq!(j.tag_search(), Some(TagSearch::V3Attributes));
        let asked = paths(&mut seen);
        assert!(
            asked[1].contains("query.attributes=%7B%22hostname%22%3A%22pod-a%22%7D")
                && asked[1].contains("query.start_time_min=2026-12-06T23%3A33%3A20Z")
                && asked[1].contains("query.num_traces=5"),
            "{asked:?}"
        );
        // It ignores them (Jaeger 1.62 to 2.12): the old API's tags, which filter.
        let legacy = r#"{"data":[{"traceID":"1","spans":[{"spanID":"1","operationName":"predictions","startTime":1,"duration":1,"processID":"p1"}],"processes":{"p1":{"serviceName":"executor","tags":[{"key":"hostname","value":"pod-a"}]}}}]}"#;
        let (port, mut seen) = serve(vec![
            route(V3_SERVICES),
            (
                "/j/api/v3/traces?",
                200,
                otlp(&[(1, "pod-a"), (2, "pod-b")]),
            ),
            ("/j/api/traces?", 200, legacy.into()),
        ])
        .await;
        let j = client(port, "/j");
        let found = j.search_traces(&stamp_search()).await.unwrap();
        assert_eq!(found.iter().map(|t| t.id).collect::<Vec<_>>(), [1]);
        assert_eq!(j.tag_search(), Some(TagSearch::LegacyTags));
        j.search_traces(&stamp_search()).await.unwrap();
        let asked = paths(&mut seen);
        assert_eq!(asked.len(), 4, "{asked:?}");
        assert!(
            asked[3].starts_with("/j/api/traces?") && asked[3].contains("tag=hostname%3Apod-a")
        );
        // Neither filters and the old search is gone (Jaeger after PR #9260 without
        // query.attributes): by service and window, ten times as many, matched here.
        let (port, mut seen) = serve(vec![
            route(V3_SERVICES),
            (
                "/j/api/v3/traces?",
                200,
                otlp(&[(1, "pod-a"), (2, "pod-b"), (3, "pod-a")]),
            ),
        ])
        .await;
        let j = client(port, "/j");
        let found = j.search_traces(&stamp_search()).await.unwrap();
        assert_eq!(found.iter().map(|t| t.id).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(j.tag_search(), Some(TagSearch::ClientSide));
        let asked = paths(&mut seen);
        assert!(
            asked.last().unwrap().contains("query.num_traces=50")
                && !asked.last().unwrap().contains("query.attributes"),
            "{asked:?}"
        );
        // Jaeger v2 names a client's `hostname` tag `host.name`, also in the old API: a search
        // by `hostname` that finds nothing is asked again by `host.name`.
        let v2_legacy = r#"{"data":[{"traceID":"1","spans":[{"spanID":"1","operationName":"predictions","startTime":1,"duration":1,"processID":"p1"}],"processes":{"p1":{"serviceName":"executor","tags":[{"key":"host.name","value":"pod-a"}]}}}]}"#;
        let (port, mut seen) = serve(vec![
            route(V3_SERVICES),
            (
                "/j/api/v3/traces?",
                200,
                otlp(&[(1, "pod-a"), (2, "pod-b")]),
            ),
            ("tag=host.name%3Apod-a", 200, v2_legacy.into()),
            ("tag=hostname%3Apod-a", 200, r#"{"data":[]}"#.into()),
        ])
        .await;
        let j = client(port, "/j");
        let found = j.search_traces(&stamp_search()).await.unwrap();
        let asked = paths(&mut seen);
        assert_eq!(found.len(), 1, "{asked:?}");
        assert_eq!(found[0].spans[0].process_tag("hostname"), Some("pod-a"));
        assert!(
            asked.iter().any(|p| p.contains("tag=hostname%3Apod-a"))
                && asked.iter().any(|p| p.contains("tag=host.name%3Apod-a")),
            "{asked:?}"
        );
        // No match: 404 on v2, an empty result on 1.62; both are no traces, not an error.
        for (status, body) in [
            (
                404,
                r#"{"error":{"httpCode":404,"message":"No traces found"}}"#,
            ),
            (200, r#"{"result":{"resourceSpans":[]}}"#),
        ] {
            let (port, _) = serve(vec![
                route(V3_SERVICES),
                ("/j/api/v3/traces?", status, body.into()),
            ])
            .await;
            assert!(
                client(port, "/j")
                    .search_traces(&stamp_search())
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
    }

    #[tokio::test]
    async fn https_with_the_users_ca_or_no_check_and_credentials_sent_but_never_shown() {
        let (port, mut seen) = serve_tls(vec![route(V3_SERVICES)]).await;
        let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.crt");
        let at = |url: String, tls: TlsOptions, headers: Vec<(String, Secret)>| {
            let access = Access { tls, headers };
            Jaeger::new(
                Endpoint::parse(&url).unwrap(),
                &access,
                Duration::from_secs(5),
            )
            .unwrap()
        };
        // Trusted through --jaeger-ca; the URL's user:password@ goes as Basic auth.
        let j = at(
            format!("https://alice:s3cr3t@127.0.0.1:{port}/j"),
            TlsOptions {
                ca_file: Some(ca.clone()),
                insecure: false,
            },
            Vec::new(),
        );
        assert_eq!(j.dialect().await.unwrap(), Dialect::V3);
        assert_eq!(j.at, format!("https://127.0.0.1:{port}/j"));
        let req = seen.recv().await.unwrap().to_ascii_lowercase();
        assert!(
            req.contains("authorization: basic ywxpy2u6cznjcjn0"),
            "{req}"
        );
        // Not trusted: one line that says what to do, and no password in it.
        let j = at(
            format!("https://alice:s3cr3t@127.0.0.1:{port}/j"),
            TlsOptions::default(),
            Vec::new(),
        );
        let e = j.dialect().await.unwrap_err().to_string();
        assert!(
            e.contains("TLS: ") && e.contains("--jaeger-ca") && !e.contains("s3cr3t"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        // --insecure-skip-tls-verify: no check; a bearer token and a header of the user's sent.
        let j = at(
            format!("https://localhost:{port}/j"),
            TlsOptions {
                ca_file: None,
                insecure: true,
            },
            vec![
                ("authorization".into(), Secret::new("Bearer t0k3n")),
                ("x-scope-orgid".into(), Secret::new("team-a")),
            ],
        );
        assert_eq!(j.dialect().await.unwrap(), Dialect::V3);
        let req = seen.recv().await.unwrap().to_ascii_lowercase();
        assert!(
            req.contains("authorization: bearer t0k3n") && req.contains("x-scope-orgid: team-a"),
            "{req}"
        );
        // A CA file that is not one: named, before anything is sent.
        let e = Jaeger::new(
            Endpoint::parse("https://h").unwrap(),
            &Access {
                tls: TlsOptions {
                    ca_file: Some(std::path::PathBuf::from("Cargo.toml")),
                    insecure: false,
                },
                headers: Vec::new(),
            },
            Duration::from_secs(1),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("Cargo.toml holds no PEM certificate"), "{e}");
    }

    #[tokio::test]
    async fn failures_are_one_line_naming_jaeger() {
        let (port, _) = serve(vec![("/", 503, "no storage".into())]).await;
        let e = client(port, "")
            .search_traces(&Search::default())
            .await
            .unwrap_err();
        assert!(matches!(e, JaegerError::Status { status: 503, .. }), "{e}");
        assert!(e.to_string().contains("answered 503"), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
        let (port, _) = serve(vec![
            route(V3_SERVICES),
            ("/j/api/v3/traces/", 200, "<html/>".into()),
        ])
        .await;
        let e = client(port, "/j").trace(1).await.unwrap_err();
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
                ..Endpoint::default()
            },
            &Access::default(),
            Duration::from_millis(300),
        )
        .unwrap();
        let e = slow.trace(1).await.unwrap_err();
        assert!(matches!(e, JaegerError::TimedOut { .. }), "{e}");
        drop(silent);
    }
}
