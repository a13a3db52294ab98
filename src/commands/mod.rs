//! One function per verb; each returns how the process ends. Three wings, as in `domain`:
//! [`v1`] (SeldonDeployments), [`v2`] (SeldonRuntimes), [`traces`] (`verify`, `traces`); where
//! `list` and `status` meet both generations, [`overview`]; what all share, [`context`].

pub mod context;
pub mod overview;
pub mod traces;
pub mod v1;
pub mod v2;
pub mod version;

use context::{Ctx, print};

use crate::cluster::Cluster;
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::invocation::{Action, Invocation, Manifests, Scope};

pub async fn run(inv: Invocation) -> Result<ExitStatus> {
    let Invocation {
        action,
        connection,
        scope,
        output,
    } = inv;
    match action {
        Action::Completion { shell } => {
            print(&crate::complete::script(shell)).map(|_| ExitStatus::Success)
        }
        Action::Version { client } => version::version(&connection, client).await,
        // Manifests on their own: no kubeconfig, no cluster.
        Action::List {
            manifests: Manifests::Local(paths),
            ..
        } => v1::local::list(&paths, &connection, output),
        Action::Status {
            manifests: Manifests::Local(paths),
            expect,
            ..
        } => v1::local::status(&paths, &connection, output, expect),
        Action::LocalWrite(w) => v1::local::write(&w, output),
        action => {
            let cluster = Cluster::connect(&connection).await?;
            let namespace = connection
                .namespace
                .clone()
                .unwrap_or_else(|| cluster.default_namespace.clone());
            let ctx = Ctx::new(cluster, namespace, scope == Scope::AllNamespaces, output);
            match action {
                Action::List {
                    selector,
                    chunk_size,
                    manifests,
                    core,
                } => overview::list(&ctx, selector.as_deref(), chunk_size, &manifests, &core).await,
                Action::Status {
                    name,
                    selector,
                    chunk_size,
                    manifests,
                    expect,
                    watch,
                    core,
                } => {
                    let which = v1::read::Which {
                        name: name.as_deref(),
                        selector: selector.as_deref(),
                        chunk_size,
                        manifests: &manifests,
                    };
                    match watch {
                        Some(w) => v1::watch::watch_status(&ctx, which, w).await,
                        None => overview::show_status(&ctx, which, expect, &core).await,
                    }
                }
                Action::Write(w) => overview::write(&ctx, w).await,
                Action::Traces(t) => {
                    crate::prompt::install_interrupt_handler();
                    let ask = crate::prompt::interactive();
                    match &t.target.core2 {
                        Some(target) => traces::core2::traces(&ctx, &t, target, ask).await,
                        None => traces::recent::traces(&ctx, &t, ask).await,
                    }
                }
                Action::Verify(v) => {
                    crate::prompt::install_interrupt_handler();
                    let ask = crate::prompt::interactive();
                    match &v.target.core2 {
                        Some(target) => traces::core2::verify(&ctx, &v, target, ask).await,
                        None => traces::verify::verify(&ctx, &v, ask).await,
                    }
                }
                Action::RuntimeWrite(w) => v2::write::write(&ctx, &w).await,
                Action::RuntimeStatus {
                    name,
                    seldon_namespace,
                    detail,
                    expect,
                } => {
                    v2::read::status(&ctx, name.as_deref(), &seldon_namespace, detail, expect).await
                }
                Action::LocalWrite(_) | Action::Completion { .. } | Action::Version { .. } => {
                    Ok(ExitStatus::Success)
                }
            }
        }
    }
}
