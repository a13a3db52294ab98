//! Credentials stay secret: a bearer token the server refuses, a client key that does not load,
//! and a proxy password never appear in what the plugin prints, even with RUST_LOG=trace; TLS
//! is checked unless the kubeconfig itself says `insecure-skip-tls-verify`. (`make test` also
//! greps every output of the suite for these and for each control plane's client keys:
//! scripts/check-secrets.)

use crate::operator::base64;
use crate::support::*;

/// A copy of the admin kubeconfig with `edit` applied to its text.
fn kubeconfig_with(c: &Cluster, tag: &str, edit: impl Fn(&str) -> String) -> String {
    let admin = std::fs::read_to_string(c.kubeconfig("admin")).expect("admin kubeconfig");
    let path = tempdir(tag).join("config");
    std::fs::write(&path, edit(&admin)).expect("write kubeconfig");
    path.display().to_string()
}

/// Replaces the user's client certificate and key with `with`.
fn user_as(admin: &str, with: &str) -> String {
    let start = admin
        .find("    client-certificate-data:")
        .expect("client certificate");
    format!("{}{with}\n", &admin[..start])
}

#[test]
fn a_refused_token_and_a_broken_key_are_never_printed() {
    let c = atomic();
    let token = kubeconfig_with(&c, "token", |a| {
        user_as(a, &format!("    token: {BEARER_TOKEN}"))
    });
    // A key that is not a key: its text must not come back in the error either.
    let marker = "S3CRETKEYMATERIAL";
    let bogus =
        format!("-----BEGIN PRIVATE KEY-----\n{marker}{marker}\n-----END PRIVATE KEY-----\n");
    let encoded = base64(bogus.as_bytes());
    let key = kubeconfig_with(&c, "badkey", |a| {
        let cert_line = a
            .lines()
            .find(|l| l.trim_start().starts_with("client-certificate-data:"))
            .expect("certificate line")
            .to_string();
        user_as(a, &format!("{cert_line}\n    client-key-data: {encoded}"))
    });
    for (config, secrets) in [(&token, vec![BEARER_TOKEN]), (&key, vec![marker, &encoded])] {
        for log in ["", "trace"] {
            let out = run(
                PLUGIN,
                &["--kubeconfig", config, "list", "-n", "default"],
                &[("RUST_LOG", log)],
                None,
            )
            .fails_with(1);
            let all = format!("{}{}", out.stdout, out.stderr);
            for s in &secrets {
                assert!(!all.contains(s), "the credential is in the output:\n{all}");
            }
            assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        }
    }
    // The token is refused by the real server, and the error says what to do.
    run(PLUGIN, &["--kubeconfig", &token, "list"], &[], None)
        .fails_with(1)
        .stderr_has("unauthorized")
        .stderr_has("refresh your credentials");
}

#[test]
fn tls_is_verified_unless_the_kubeconfig_turns_it_off() {
    let c = atomic();
    let other = faults();
    // The server's certificate checked against another control plane's CA: refused.
    let other_ca = std::fs::read_to_string(other.kubeconfig("admin")).expect("other kubeconfig");
    let other_ca_line = other_ca
        .lines()
        .find(|l| l.trim_start().starts_with("certificate-authority-data:"))
        .expect("CA line")
        .to_string();
    let wrong_ca = kubeconfig_with(&c, "wrongca", |a| {
        let own = a
            .lines()
            .find(|l| l.trim_start().starts_with("certificate-authority-data:"))
            .expect("CA line");
        a.replace(own, &other_ca_line)
    });
    run(PLUGIN, &["--kubeconfig", &wrong_ca, "list"], &[], None)
        .fails_with(1)
        .stderr_has("cannot reach the Kubernetes API server");
    // The same wrong CA with insecure-skip-tls-verify (kubectl takes it without the CA): works.
    let skip = kubeconfig_with(&c, "skiptls", |a| {
        let own = a
            .lines()
            .find(|l| l.trim_start().starts_with("certificate-authority-data:"))
            .expect("CA line");
        a.replace(own, "    insecure-skip-tls-verify: true")
    });
    run(PLUGIN, &["--kubeconfig", &skip, "list", "-A"], &[], None).ok();
}
