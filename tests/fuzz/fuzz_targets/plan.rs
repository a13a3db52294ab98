//! Every intent's plan over any object: no panic, nothing changed but what it names, a second
//! plan changes nothing (see `invariants::fuzz_plan`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kubectl_seldon_tracing::invariants::fuzz_plan(data);
});
