//! `version`: the plugin's version, and the server's when it answers.

use crate::cluster::Cluster;
use crate::commands::context::print;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::options::Connection;

/// Used by `version`: plugin version, and the server's when it answers.
pub async fn version(connection: &Connection, client_only: bool) -> Result<ExitStatus> {
    let mut out = format!("kubectl-seldon-tracing v{}\n", env!("CARGO_PKG_VERSION"));
    if client_only {
        return print(&out).map(|_| ExitStatus::Success);
    }
    let mut g = connection.clone();
    if g.request_timeout.is_zero() {
        g.request_timeout = std::time::Duration::from_secs(5);
    }
    match Cluster::connect(&g).await {
        Ok(cluster) => match cluster.server_version().await {
            Ok(v) => out.push_str(&format!("Server Version: {v}\n")),
            Err(e) => crate::say!("Server Version: unavailable ({e})"),
        },
        Err(e) => crate::say!("Server Version: unavailable ({e})"),
    }
    print(&out).map(|_| ExitStatus::Success)
}
