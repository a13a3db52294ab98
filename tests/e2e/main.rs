//! End-to-end tests against the real kube-apiserver that `make test` starts
//! (scripts/run-tests). Each test makes its own namespace and never depends on another test.

mod commands;
mod completion;
mod concurrency;
mod configfile;
mod conformance;
mod conformance2;
mod control_plane;
mod core2;
mod docs;
mod errors;
mod faults;
mod interactive;
mod jaegers;
mod kube;
mod local;
mod operator;
mod operator2;
mod packaging;
mod pipeline2;
mod proxy;
mod rollout;
mod secrets;
mod support;
mod throttling;
mod verify;
mod verify2;
