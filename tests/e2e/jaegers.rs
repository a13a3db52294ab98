//! The Jaegers `verify` and `traces` are tested against, all started once by `scripts/harness up`
//! beside the other tests: Jaeger 1.62 on its standard ports, Jaeger v2.12 on ports of its own
//! (tests/fixtures/jaeger-v2.yaml), and v2.12 once more behind a proxy written here that answers
//! exactly the routes Jaeger's main branch removed (PR #9260: `GET /api/services`,
//! `/api/services/<s>/operations`, `/api/operations` and the search `GET /api/traces`) with 404,
//! so the tests prove the plugin needs none of them. `GET /api/traces/<id>` and `/api/v3` pass.
//! A TLS-terminating proxy written here stands in front of v2.12 too, as an ingress would, and
//! lets in only requests with Basic auth (user `alice`, password `kube::JAEGER_PASSWORD`), with
//! the certificate of tests/fixtures/tls.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use crate::kube::JAEGER_PASSWORD;

/// One Jaeger as the tests reach it.
#[derive(Debug, Clone)]
pub struct Jaeger {
    /// For namespaces and messages: `j162`, `j212`, `j212-next`.
    pub tag: &'static str,
    /// The query API's URL, as `--jaeger` takes it.
    pub url: String,
    /// Its query port (what a kwok port-forward leads a pod's 16686 to).
    pub query_port: u16,
    /// Where the Jaeger clients send spans (UDP, jaeger.thrift compact).
    pub agent_port: u16,
    /// A URL with the old JSON API's routes, for the tests' own reference queries.
    pub legacy_url: String,
    /// The tag a Jaeger client's `hostname` process tag is stored under: v2's receiver renames
    /// it `host.name` (docs/facts/traces.md, "Seen here").
    pub hostname_tag: &'static str,
}

/// Jaeger 1.62, the last v1 line the project tested first.
pub fn v1_62() -> Jaeger {
    Jaeger {
        tag: "j162",
        url: "http://127.0.0.1:16686".into(),
        query_port: 16686,
        agent_port: 6831,
        legacy_url: "http://127.0.0.1:16686".into(),
        hostname_tag: "hostname",
    }
}

/// Jaeger v2.12 (module github.com/jaegertracing/jaeger v1.75.0), ports as scripts/harness sets.
pub fn v2_12() -> Jaeger {
    Jaeger {
        tag: "j212",
        url: "http://127.0.0.1:26686".into(),
        query_port: 26686,
        agent_port: 26831,
        legacy_url: "http://127.0.0.1:26686".into(),
        hostname_tag: "host.name",
    }
}

/// Jaeger v2.12 as a release after PR #9260 would answer: the removed routes 404.
pub fn v2_12_without_removed_routes() -> Jaeger {
    let port = Proxy::start(26686).port;
    Jaeger {
        tag: "j212-next",
        url: format!("http://127.0.0.1:{port}"),
        query_port: port,
        ..v2_12()
    }
}

/// All three.
pub fn all() -> Vec<Jaeger> {
    vec![v1_62(), v2_12(), v2_12_without_removed_routes()]
}

/// Whether Jaeger's main branch no longer serves `GET path` (the query string aside).
pub fn removed(path: &str) -> bool {
    let route = path.split('?').next().unwrap_or(path);
    route == "/api/services"
        || route == "/api/operations"
        || (route.starts_with("/api/services/") && route.ends_with("/operations"))
        || route == "/api/traces"
}

/// An HTTP/1.1 proxy on 127.0.0.1 in front of 127.0.0.1:`upstream` that answers the removed
/// routes itself with 404 and passes every other request through, one per connection. With
/// `upstream` 0 it answers everything with 404: a server that is not Jaeger.
pub struct Proxy {
    pub port: u16,
}

impl Proxy {
    pub fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the Jaeger proxy");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream);
                });
            }
        });
        Proxy { port }
    }

    /// A [`Proxy`] that passes `n` connections on, then closes its port: a Jaeger that goes
    /// away.
    pub fn start_for(upstream: u16, n: usize) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the Jaeger proxy");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten().take(n) {
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream);
                });
            }
            // The listener is dropped here: connections are refused from now on.
        });
        Proxy { port }
    }
}

/// A TLS proxy on 127.0.0.1 in front of 127.0.0.1:`upstream`: Basic auth as alice with
/// [`JAEGER_PASSWORD`] or 401, then the request passed on in plain HTTP.
pub struct TlsProxy {
    pub port: u16,
}

impl TlsProxy {
    pub fn start(upstream: u16) -> TlsProxy {
        let config = Arc::new(server_config());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the TLS proxy");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let config = config.clone();
                std::thread::spawn(move || {
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    let _ = serve_authenticated(&mut tls, upstream);
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        TlsProxy { port }
    }
}

/// The test certificate of 127.0.0.1 and localhost (tests/fixtures/tls).
fn server_config() -> rustls::ServerConfig {
    use rustls_pki_types::pem::PemObject;
    let dir = fixtures_tls();
    let certs = rustls_pki_types::CertificateDer::pem_file_iter(dir.join("server.crt"))
        .expect("server.crt")
        .collect::<Result<Vec<_>, _>>()
        .expect("certificates");
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("key");
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config")
}

pub fn fixtures_tls() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls")
}

fn serve_authenticated(conn: &mut impl ReadWrite, upstream: u16) -> std::io::Result<()> {
    use base64::Engine as _;
    let head = read_head(conn)?;
    let want = format!(
        "authorization: basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("alice:{JAEGER_PASSWORD}"))
    )
    .to_ascii_lowercase();
    if !head.to_ascii_lowercase().lines().any(|l| l.trim() == want) {
        let body = "401 Unauthorized: log in";
        write!(
            conn,
            "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Basic realm=\"jaeger\"\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )?;
        return Ok(());
    }
    let head: String = head
        .split_inclusive("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("authorization:"))
        .collect();
    pass_on(conn, &head, upstream)
}

/// What the proxies read and write: a TCP stream, or TLS over one.
pub trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// The request line and headers, up to the blank line.
fn read_head(conn: &mut impl ReadWrite) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// `head` sent to 127.0.0.1:`upstream` (asking it to close after answering), the answer back.
fn pass_on(conn: &mut impl ReadWrite, head: &str, upstream: u16) -> std::io::Result<()> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    let head = head.replacen("\r\n", "\r\nconnection: close\r\n", 1);
    up.write_all(head.as_bytes())?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    conn.write_all(&answer)?;
    conn.flush()
}

fn serve(mut conn: TcpStream, upstream: u16) -> std::io::Result<()> {
    let head = read_head(&mut conn)?;
    let path = head.split(' ').nth(1).unwrap_or("").to_string();
    if upstream == 0 || removed(&path) {
        let body = r#"{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"404 page not found"}]}"#;
        write!(
            conn,
            "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )?;
        return Ok(());
    }
    pass_on(&mut conn, &head, upstream)
}

#[test]
fn the_proxy_refuses_exactly_the_removed_routes() {
    for gone in [
        "/api/services",
        "/api/services/executor/operations",
        "/api/operations?service=x",
        "/api/traces?service=executor&limit=1",
    ] {
        assert!(removed(gone), "{gone}");
    }
    for kept in [
        "/api/traces/4bf92f3577b34da6a3ce929d0e0e4736",
        "/api/v3/services",
        "/api/v3/traces?query.service_name=executor",
        "/api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736",
    ] {
        assert!(!removed(kept), "{kept}");
    }
    // Through the proxy, Jaeger v2 keeps /api/v3 and loses the search.
    let next = v2_12_without_removed_routes();
    let code = |url: String| {
        crate::kube::run(
            "curl",
            &["-s", "-o", "/dev/null", "-w", "%{http_code}", &url],
            &[],
            None,
        )
        .stdout
    };
    assert_eq!(code(format!("{}/api/v3/services", next.url)), "200");
    assert_eq!(code(format!("{}/api/services", next.url)), "404");
    assert_eq!(code(format!("{}/api/services", v2_12().url)), "200");
}
