//! The Seldon operator stand-in of the end-to-end tests (tests/e2e/operator.rs, which says what
//! it reproduces) as a program, for `make demo`: it reconciles every SeldonDeployment of a
//! namespace every 200 ms, so their Deployments are made and, on the demo's control plane
//! (kube-controller-manager, kube-scheduler and kwok), rolled out. Test-only: never packaged.
//!
//! Usage: operator_stand_in CLUSTER_DIR NAMESPACE   (runs until killed)
//!        operator_stand_in --v2 CLUSTER_DIR NAMESPACE SELDON_NAMESPACE
//!                                                   (Seldon Core 2's, tests/e2e/operator2.rs:
//!                                                    the namespace's SeldonRuntime and Servers,
//!                                                    SeldonConfigs read from SELDON_NAMESPACE)
//!        operator_stand_in --render                 (stdin: a JSON list of SeldonDeployments as
//!                                                    read from a cluster; stdout: a JSON list of
//!                                                    the Deployments it would make; for make bench)

#[path = "../tests/e2e/kube.rs"]
#[allow(dead_code)]
mod kube;
#[path = "../tests/e2e/operator.rs"]
#[allow(dead_code)]
mod operator;
#[path = "../tests/e2e/operator2.rs"]
#[allow(dead_code)]
mod operator2;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--render") {
        let sdeps: Vec<serde_json::Value> =
            serde_json::from_reader(std::io::stdin().lock()).expect("a JSON list on stdin");
        let made: Vec<serde_json::Value> = sdeps.iter().flat_map(operator::deployments).collect();
        serde_json::to_writer(std::io::stdout().lock(), &made).expect("write stdout");
        return;
    }
    if let [flag, dir, namespace, mesh] = args.as_slice()
        && flag == "--v2"
    {
        let cluster = kube::Cluster {
            dir: dir.into(),
            variant: "atomic",
        };
        let _running = operator2::Operator2::start(&cluster, namespace, mesh);
        loop {
            std::thread::park();
        }
    }
    let [dir, namespace] = args.as_slice() else {
        eprintln!("usage: operator_stand_in CLUSTER_DIR NAMESPACE");
        std::process::exit(2);
    };
    let cluster = kube::Cluster {
        dir: dir.into(),
        variant: "atomic",
    };
    let _running = operator::Operator::start(&cluster, namespace, &[], false);
    loop {
        std::thread::park();
    }
}
