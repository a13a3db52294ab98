//! The views of `verify` and `traces`: a trace drawn as Jaeger's timeline ([`waterfall`]) and
//! `verify`'s report ([`verify`]).

pub mod verify;
pub mod waterfall;
