//! Seldon Core 2: `status`/`list` of SeldonRuntimes and `enable`/`disable`/`sampler --core v2`.

pub mod read;
pub mod write;
