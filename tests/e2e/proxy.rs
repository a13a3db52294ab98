//! Corporate networks set HTTPS_PROXY (and NO_PROXY); kubectl honours both, so the plugin must
//! too. A small HTTP CONNECT proxy written here stands between the plugin and the API server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::*;

/// A proxy on 127.0.0.1 that only tunnels to 127.0.0.1 and counts its tunnels: HTTP CONNECT
/// or SOCKS5 (no authentication), the two kinds kubectl users configure.
struct Proxy {
    url: String,
    tunnels: Arc<AtomicUsize>,
}

#[derive(Clone, Copy)]
enum Kind {
    HttpConnect,
    Socks5,
}

impl Proxy {
    fn start(kind: Kind) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let url = match kind {
            Kind::HttpConnect => format!("http://{addr}"),
            Kind::Socks5 => format!("socks5://{addr}"),
        };
        let tunnels = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&tunnels);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let count = Arc::clone(&count);
                std::thread::spawn(move || tunnel(kind, client, &count));
            }
        });
        Proxy { url, tunnels }
    }

    fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

/// HTTP: reads `CONNECT host:port HTTP/1.1` and its headers. SOCKS5: the greeting, then a
/// CONNECT to an IPv4 address. Then connects, says so, and copies bytes both ways.
fn tunnel(kind: Kind, client: TcpStream, count: &AtomicUsize) {
    let mut reader = BufReader::new(client.try_clone().expect("clone the client socket"));
    let target = match kind {
        Kind::HttpConnect => http_connect_target(&mut reader, &client),
        Kind::Socks5 => socks5_target(&mut reader, &client),
    };
    let Some(upstream) = target.and_then(|t| TcpStream::connect(t).ok()) else {
        return;
    };
    count.fetch_add(1, Ordering::SeqCst);
    let granted: &[u8] = match kind {
        Kind::HttpConnect => b"HTTP/1.1 200 Connection established\r\n\r\n",
        Kind::Socks5 => &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0],
    };
    let _ = (&client).write_all(granted);
    let (mut up_write, mut client_write) = (
        upstream.try_clone().expect("clone upstream"),
        client.try_clone().expect("clone client"),
    );
    let mut up_read = upstream;
    let up = std::thread::spawn(move || {
        // Bytes the client sent after the handshake may still be in the reader's buffer.
        let _ = std::io::copy(&mut reader, &mut up_write);
        let _ = up_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_read, &mut client_write);
    let _ = client_write.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

fn http_connect_target(reader: &mut BufReader<TcpStream>, client: &TcpStream) -> Option<String> {
    let mut request = String::new();
    reader.read_line(&mut request).ok()?;
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    match request.split_whitespace().collect::<Vec<_>>()[..] {
        ["CONNECT", target, _] if target.starts_with("127.0.0.1:") => Some(target.to_string()),
        _ => {
            let _ = (&*client).write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n");
            None
        }
    }
}

fn socks5_target(reader: &mut BufReader<TcpStream>, client: &TcpStream) -> Option<String> {
    let mut greeting = [0u8; 2];
    reader.read_exact(&mut greeting).ok()?;
    let mut methods = vec![0u8; usize::from(greeting[1])];
    reader.read_exact(&mut methods).ok()?;
    if greeting[0] != 5 || !methods.contains(&0) {
        return None;
    }
    (&*client).write_all(&[5, 0]).ok()?;
    // VER CMD RSV ATYP=1 (IPv4) ADDR(4) PORT(2)
    let mut request = [0u8; 10];
    reader.read_exact(&mut request).ok()?;
    let [5, 1, 0, 1, a, b, c, d, hi, lo] = request else {
        let _ = (&*client).write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]);
        return None;
    };
    if [a, b, c, d] != [127, 0, 0, 1] {
        let _ = (&*client).write_all(&[5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
        return None;
    }
    Some(format!("127.0.0.1:{}", u16::from_be_bytes([hi, lo])))
}

#[test]
fn https_proxy_is_used_and_no_proxy_bypasses_it() {
    let c = atomic();
    let ns = c.namespace("proxy");
    c.samples(&ns, &["single-model"]);
    let proxy = Proxy::start(Kind::HttpConnect);
    let kc = c.kubeconfig("admin");
    let list = ["--kubeconfig", kc.as_str(), "list", "-n", ns.as_str()];

    let out = run(PLUGIN, &list, &[("HTTPS_PROXY", &proxy.url)], None).ok();
    assert!(out.stdout.contains("iris"), "{}", out.stdout);
    assert!(
        proxy.tunnels() >= 1,
        "the request did not go through the proxy"
    );

    // A write goes through it too.
    let before = proxy.tunnels();
    let enable = [
        "--kubeconfig",
        kc.as_str(),
        "enable",
        "iris",
        "-n",
        ns.as_str(),
    ];
    run(PLUGIN, &enable, &[("https_proxy", &proxy.url)], None)
        .ok()
        .stdout_has("seldondeployment/iris tracing enabled");
    assert!(
        proxy.tunnels() > before,
        "the apply did not go through the proxy"
    );

    // NO_PROXY names the server: straight there, the proxy sees nothing.
    let before = proxy.tunnels();
    run(
        PLUGIN,
        &list,
        &[("HTTPS_PROXY", &proxy.url), ("NO_PROXY", "127.0.0.1")],
        None,
    )
    .ok();
    assert_eq!(proxy.tunnels(), before, "NO_PROXY was ignored");

    // A proxy that is not there is named in the error, without its credentials.
    let dead = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    let out = run(
        PLUGIN,
        &list,
        &[(
            "HTTPS_PROXY",
            &format!("http://bob:{PROXY_PASSWORD}@127.0.0.1:{port}"),
        )],
        None,
    )
    .fails_with(1)
    .stderr_has(&format!(
        "through the proxy http://127.0.0.1:{port} (HTTPS_PROXY"
    ));
    assert!(!out.stderr.contains(PROXY_PASSWORD), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn a_socks5_proxy_works_too() {
    let c = atomic();
    let ns = c.namespace("socks");
    c.samples(&ns, &["single-model"]);
    let proxy = Proxy::start(Kind::Socks5);
    let kc = c.kubeconfig("admin");
    let out = run(
        PLUGIN,
        &["--kubeconfig", &kc, "status", "iris", "-n", &ns],
        &[("HTTPS_PROXY", &proxy.url)],
        None,
    )
    .ok();
    assert!(out.stdout.contains("classifier"), "{}", out.stdout);
    assert!(
        proxy.tunnels() >= 1,
        "the request did not go through the SOCKS5 proxy"
    );

    // The same proxy named by the kubeconfig's proxy-url instead of the environment.
    let copy = tempdir("proxy-url").join("config");
    std::fs::copy(&kc, &copy).expect("copy kubeconfig");
    let copy = copy.display().to_string();
    let key = "clusters.local.proxy-url";
    run(
        "kubectl",
        &["--kubeconfig", &copy, "config", "set", key, &proxy.url],
        &[],
        None,
    )
    .ok();
    let before = proxy.tunnels();
    run(
        PLUGIN,
        &["--kubeconfig", &copy, "list", "-n", &ns],
        &[],
        None,
    )
    .ok()
    .stdout_has("iris");
    assert!(proxy.tunnels() > before, "proxy-url was ignored");
}
