//! Status and rollout over any object: never a panic (see `invariants::fuzz_status`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kubectl_seldon_tracing::invariants::fuzz_status(data);
});
