//! Corporate networks set HTTPS_PROXY (and NO_PROXY); kubectl honours both, so the plugin must
//! too. A small HTTP CONNECT proxy written here stands between the plugin and the API server.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::*;

/// An HTTP CONNECT proxy on 127.0.0.1 that only tunnels to 127.0.0.1 and counts its tunnels.
struct ConnectProxy {
    url: String,
    tunnels: Arc<AtomicUsize>,
}

impl ConnectProxy {
    fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let tunnels = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&tunnels);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let count = Arc::clone(&count);
                std::thread::spawn(move || tunnel(client, &count));
            }
        });
        ConnectProxy { url, tunnels }
    }

    fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

/// Reads `CONNECT host:port HTTP/1.1` and its headers, connects, answers 200, then copies bytes
/// both ways until either side closes.
fn tunnel(client: TcpStream, count: &AtomicUsize) {
    let mut reader = BufReader::new(client.try_clone().expect("clone the client socket"));
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    let target = match request.split_whitespace().collect::<Vec<_>>()[..] {
        ["CONNECT", target, _] if target.starts_with("127.0.0.1:") => target.to_string(),
        _ => {
            let _ = (&client).write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n");
            return;
        }
    };
    let Ok(upstream) = TcpStream::connect(&target) else {
        let _ = (&client).write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    count.fetch_add(1, Ordering::SeqCst);
    let _ = (&client).write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    let (mut up_write, mut client_write) = (
        upstream.try_clone().expect("clone upstream"),
        client.try_clone().expect("clone client"),
    );
    let mut up_read = upstream;
    let up = std::thread::spawn(move || {
        // Bytes the client sent after the CONNECT headers are still in the reader's buffer.
        let _ = std::io::copy(&mut reader, &mut up_write);
        let _ = up_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_read, &mut client_write);
    let _ = client_write.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

#[test]
fn https_proxy_is_used_and_no_proxy_bypasses_it() {
    let c = atomic();
    let ns = c.namespace("proxy");
    c.samples(&ns, &["single-model"]);
    let proxy = ConnectProxy::start();
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
            &format!("http://bob:secret@127.0.0.1:{port}"),
        )],
        None,
    )
    .fails_with(1)
    .stderr_has(&format!(
        "through the proxy http://127.0.0.1:{port} (HTTPS_PROXY"
    ));
    assert!(!out.stderr.contains("secret"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}
