//! One HTTP/1.1 exchange over any byte stream: a TCP connection (`--jaeger URL`, `--via URL`),
//! TLS over one (`https://`), or a port-forward stream to a pod (`cluster::forward`). Both
//! boundaries that speak HTTP besides the API server use it: `jaeger` (the query API) and
//! `verify`'s one prediction request. TLS is the rustls kube already brings, with the platform's
//! roots, a CA file of the user's, or no check at all when asked.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
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
            Ok(Dialed {
                stream: Box::new(connect(&self.host, self.port).await?),
                failure: None,
            })
        })
    }

    fn describe(&self) -> String {
        format!("http://{}:{}", bracketed(&self.host), self.port)
    }

    fn host(&self) -> String {
        authority(&self.host, self.port, 80)
    }
}

/// A value never to be shown (a password, a token, an `Authorization` header): `Debug` prints
/// `***`, and only [`Secret::expose`] gives it out, to be sent.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// How an `https://` server's certificate is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM certificates to trust besides the platform's roots (`--jaeger-ca`).
    pub ca_file: Option<PathBuf>,
    /// `--insecure-skip-tls-verify`: no check at all.
    pub insecure: bool,
}

/// TLS over a TCP connection to host:port, the name checked against `host`.
#[derive(Clone)]
pub struct Tls {
    pub host: String,
    pub port: u16,
    config: Arc<rustls::ClientConfig>,
}

impl Tls {
    /// The client for `host:port` as `opts` asks; an error names what could not be read.
    pub fn new(host: &str, port: u16, opts: &TlsOptions) -> Result<Tls, String> {
        Ok(Tls {
            host: host.to_string(),
            port,
            config: client_config(opts)?,
        })
    }
}

impl Tls {
    /// The same client offering only HTTP/2 in ALPN, as gRPC over TLS needs.
    pub fn speaking_h2(mut self) -> Tls {
        let mut config = (*self.config).clone();
        config.alpn_protocols = vec![b"h2".to_vec()];
        self.config = Arc::new(config);
        self
    }
}

fn client_config(opts: &TlsOptions) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?;
    let mut config = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoCheck(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        // Unreadable system roots leave fewer roots, not an error: a CA file may still do.
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = &opts.ca_file {
            use rustls_pki_types::pem::PemObject;
            let shown = path.display();
            let certs: Vec<rustls_pki_types::CertificateDer> =
                rustls_pki_types::CertificateDer::pem_file_iter(path)
                    .and_then(|it| it.collect::<Result<_, _>>())
                    .map_err(|e| format!("{shown}: not a PEM file of certificates ({e})"))?;
            if certs.is_empty() {
                return Err(format!("{shown} holds no PEM certificate"));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| format!("{shown}: a certificate rustls refuses ({e})"))?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// `--insecure-skip-tls-verify`: any certificate, any name; signatures still checked so the
/// handshake itself is sound.
#[derive(Debug)]
struct NoCheck(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoCheck {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl Dial for Tls {
    fn dial(&self) -> BoxFuture<'_, io::Result<Dialed>> {
        Box::pin(async move {
            let tcp = connect(&self.host, self.port).await?;
            let name = rustls_pki_types::ServerName::try_from(self.host.clone())
                .map_err(|e| io::Error::other(format!("{}: {e}", self.host)))?;
            let stream = tokio_rustls::TlsConnector::from(self.config.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| {
                    io::Error::other(format!(
                        "TLS: {e}; trust its CA with --jaeger-ca FILE, or skip the check with --insecure-skip-tls-verify"
                    ))
                })?;
            Ok(Dialed {
                stream: Box::new(stream),
                failure: None,
            })
        })
    }

    fn describe(&self) -> String {
        format!("https://{}:{}", bracketed(&self.host), self.port)
    }

    fn host(&self) -> String {
        authority(&self.host, self.port, 443)
    }
}

/// A TCP connection to host:port, without Nagle's delay (one small request, one answer).
async fn connect(host: &str, port: u16) -> io::Result<tokio::net::TcpStream> {
    let s = tokio::net::TcpStream::connect((host, port)).await?;
    let _ = s.set_nodelay(true);
    Ok(s)
}

/// The Host header: the port left out where it is the scheme's default.
fn authority(host: &str, port: u16, default_port: u16) -> String {
    let host = bracketed(host);
    if port == default_port {
        host
    } else {
        format!("{host}:{port}")
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
    within(timeout, exchange_once(dial, ask)).await
}

/// `work` (an exchange over a dialed stream), or [`Failed::TimedOut`] when it takes longer
/// than `timeout`.
pub async fn within<T>(
    timeout: Duration,
    work: impl std::future::Future<Output = Result<T, Failed>>,
) -> Result<T, Failed> {
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or(Err(Failed::TimedOut))
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
    far_side_first(outcome, failure).await
}

/// `outcome` of an exchange over a dialed stream, a broken stream told in the far side's own
/// words when it has some (a port-forward's error: "connection refused" in the pod) rather
/// than hyper's "connection closed before message completed".
pub async fn far_side_first<T>(
    outcome: Result<T, Failed>,
    failure: Option<BoxFuture<'static, Option<String>>>,
) -> Result<T, Failed> {
    match (outcome, failure) {
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

/// `text` as a URL query value: every byte but ASCII letters, digits and `-_.~` percent-encoded.
pub fn query_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The first line of a text, at most 200 characters: error bodies go into one-line messages.
pub fn first_line(text: &str) -> String {
    crate::domain::text::first_line(text, 200).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded_but_for_unreserved_bytes() {
        assert_eq!(
            query_encoded("app.kubernetes.io/name in (a-b,c_d~)"),
            "app.kubernetes.io%2Fname%20in%20%28a-b%2Cc_d~%29"
        );
        assert_eq!(query_encoded("é=1"), "%C3%A9%3D1");
    }

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
