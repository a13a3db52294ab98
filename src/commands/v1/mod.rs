//! Seldon Core v1: `list`/`status` of SeldonDeployments (and `--watch`), the writes
//! (`enable`/`disable`/`sampler`) and `-f … --local` on manifest files.

pub mod live;
pub mod local;
pub mod read;
pub mod watch;
pub mod write;
