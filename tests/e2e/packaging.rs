//! The krew manifest and archive from `make dist`, checked with the real krew v0.4.3 built by
//! `scripts/testcluster build`: validation, install, use against the control plane, uninstall,
//! and a wrong sha256 refused.

use std::path::PathBuf;

use crate::support::*;

fn dir_from(var: &str) -> PathBuf {
    PathBuf::from(
        std::env::var_os(var).unwrap_or_else(|| panic!("{var} is not set: run `make test`")),
    )
}

fn archive(dist: &std::path::Path) -> PathBuf {
    let v = env!("CARGO_PKG_VERSION");
    dist.join(format!("kubectl-seldon-tracing_v{v}_linux_amd64.tar.gz"))
}

/// A fresh KREW_ROOT with an empty local index (`krew update` would need GitHub), and a PATH
/// with `kubectl-krew` and the root's bin directory.
fn krew_env(tools: &std::path::Path) -> (String, String) {
    let root = tempdir("krew-root");
    let index = root.join("index").join("default");
    std::fs::create_dir_all(&index).expect("index dir");
    run(
        "git",
        &["init", "-q", &index.display().to_string()],
        &[],
        None,
    )
    .ok();
    let bin = root.join("path");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::os::unix::fs::symlink(tools.join("krew"), bin.join("kubectl-krew")).expect("link krew");
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (root.display().to_string(), path)
}

/// `kubectl krew install --manifest=M --archive=<this platform's archive in dist>`.
fn krew_install(env: &[(&str, &str)], manifest: &str, dist: &std::path::Path) -> Run {
    let archive = archive(dist).display().to_string();
    let args = [
        "krew",
        "install",
        &format!("--manifest={manifest}"),
        &format!("--archive={archive}"),
    ];
    run("kubectl", &args, env, None)
}

#[test]
fn the_manifest_validates_installs_runs_and_uninstalls_with_real_krew() {
    let c = atomic();
    let (dist, tools) = (
        dir_from("SELDON_TRACING_TEST_DIST"),
        dir_from("SELDON_TRACING_TEST_TOOLS"),
    );
    let manifest = dist.join("seldon-tracing.yaml").display().to_string();
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    assert!(
        text.contains(&format!("version: \"v{}\"", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let validator = tools.join("validate-krew-manifest").display().to_string();
    run(
        &validator,
        &["-manifest", &manifest, "-skip-install"],
        &[],
        None,
    )
    .ok();

    let ns = c.namespace("krew");
    c.samples(&ns, &["single-model"]);
    let (root, path) = krew_env(&tools);
    let env = [("KREW_ROOT", root.as_str()), ("PATH", path.as_str())];
    krew_install(&env, &manifest, &dist)
        .ok()
        .stderr_has("Installed plugin: seldon-tracing");
    let kc = c.kubeconfig("admin");
    let version = run(
        "kubectl",
        &["seldon-tracing", "version", "--kubeconfig", &kc],
        &env,
        None,
    )
    .ok();
    assert!(
        version.stdout.contains("Server Version: v1.36.3"),
        "{}",
        version.stdout
    );
    run(
        "kubectl",
        &["seldon-tracing", "list", "--kubeconfig", &kc, "-n", &ns],
        &env,
        None,
    )
    .ok()
    .stdout_has("iris");
    run(
        "kubectl",
        &["krew", "uninstall", "seldon-tracing"],
        &env,
        None,
    )
    .ok();
    run("kubectl", &["seldon-tracing", "version"], &env, None).fails();
}

#[test]
fn a_wrong_sha256_makes_the_install_fail() {
    let (dist, tools) = (
        dir_from("SELDON_TRACING_TEST_DIST"),
        dir_from("SELDON_TRACING_TEST_TOOLS"),
    );
    let text = std::fs::read_to_string(dist.join("seldon-tracing.yaml")).expect("manifest");
    let start = text.find("sha256: \"").expect("sha256 line") + 9;
    let mut bad = text.clone();
    bad.replace_range(start..start + 64, &"0".repeat(64));
    let path_bad = tempdir("bad-manifest").join("seldon-tracing.yaml");
    std::fs::write(&path_bad, bad).expect("write bad manifest");
    let (root, path) = krew_env(&tools);
    let env = [("KREW_ROOT", root.as_str()), ("PATH", path.as_str())];
    krew_install(&env, &path_bad.display().to_string(), &dist)
        .fails()
        .stderr_has("checksum does not match");
    assert!(
        !std::path::Path::new(&root)
            .join("bin")
            .join("kubectl-seldon_tracing")
            .exists()
    );
}

#[test]
fn the_released_binary_carries_no_test_seam() {
    let dist = dir_from("SELDON_TRACING_TEST_DIST");
    let dir = tempdir("unpacked");
    run(
        "tar",
        &[
            "-xzf",
            &archive(&dist).display().to_string(),
            "-C",
            &dir.display().to_string(),
        ],
        &[],
        None,
    )
    .ok();
    let seam = b"SELDON_TRACING_TEST_HOOK";
    let has = |path: &std::path::Path| {
        let bytes = std::fs::read(path).expect("binary");
        bytes.windows(seam.len()).any(|w| w == seam)
    };
    let released = dir.join("kubectl-seldon-tracing");
    assert!(!has(&released), "the release binary contains the test hook");
    // The check can fail: the binary the end-to-end tests run has the seam compiled in.
    if cfg!(feature = "test-seams") {
        assert!(has(std::path::Path::new(PLUGIN)));
    }
}
