//! Table tests of `resolve`: argv in, an `Invocation` or a usage error out, with no cluster.

use clap::Parser;

use super::*;
use crate::cli::Cli;
use crate::domain::v1::clients::Propagation;
use crate::domain::v1::plan::AgentHost;
use crate::options::Connection;
use crate::options::{DryRun, Expect, Output};

fn argv(line: &str, terminal: bool) -> Result<Invocation, Usage> {
    let cli = Cli::try_parse_from(
        std::iter::once("kubectl-seldon_tracing").chain(line.split_whitespace()),
    )
    .map_err(|e| format!("clap: {:?}", e.kind()))?;
    resolve(cli, terminal)
}

/// `line` must be refused with an error containing `want`.
fn assert_refused(line: &str, terminal: bool, want: &str) {
    match argv(line, terminal) {
        Err(e) => assert!(e.contains(want), "{line}: {e}"),
        Ok(i) => panic!("{line}: accepted as {i:?}"),
    }
}

fn write_of(line: &str, terminal: bool) -> Write {
    match argv(line, terminal).expect(line).action {
        Action::Write(w) => w,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn selections() {
    let table: &[(&str, bool, Selection)] = &[
        (
            "enable iris churn iris",
            false,
            Selection::Names(vec!["iris".into(), "churn".into()]),
        ),
        ("disable --all -n models", false, Selection::All),
        ("disable --all -A --yes", true, Selection::All),
        (
            "enable -l team=fraud -A",
            false,
            Selection::Selector("team=fraud".into()),
        ),
        ("enable", true, Selection::Guided),
        ("sampler const:1", true, Selection::Guided),
        (
            "sampler iris churn ratelimiting:5",
            false,
            Selection::Names(vec!["iris".into(), "churn".into()]),
        ),
    ];
    for (line, terminal, want) in table {
        assert_eq!(&write_of(line, *terminal).selection, want, "{line}");
    }
}

#[test]
fn usage_errors_need_no_cluster() {
    let table: &[(&str, bool, &str)] = &[
        ("enable iris -A", false, "-A selects every namespace"),
        ("disable --yes", true, "no SeldonDeployment given"),
        ("disable", false, "no SeldonDeployment given"),
        ("sampler iris", false, "missing the sampler"),
        ("sampler iris --yes", true, "missing the sampler"),
        ("sampler --all iris const:1", false, "not both"),
        (
            "sampler Iris const:1",
            false,
            "not a valid SeldonDeployment name",
        ),
        ("sampler iris const:2", false, "takes 0 or 1"),
        (
            "enable iris --sampler const:2",
            false,
            "clap: ValueValidation",
        ),
        ("enable iris --all", false, "clap: ArgumentConflict"),
        (
            "enable iris --collector-endpoint udp://c:1",
            false,
            "clap: ValueValidation",
        ),
        (
            "enable iris --wait --dry-run",
            false,
            "no rollout to --wait for",
        ),
        ("enable -f d --local --wait", false, "leave out --wait"),
        (
            "enable iris --timeout 1m",
            false,
            "clap: MissingRequiredArgument",
        ),
        (
            "disable iris --wait --timeout soon",
            false,
            "clap: ValueValidation",
        ),
        (
            "status --watch --expect on",
            false,
            "clap: ArgumentConflict",
        ),
        (
            "status --timeout 1m",
            false,
            "clap: MissingRequiredArgument",
        ),
        (
            "status -w -f d --local",
            false,
            "--local reads only the files",
        ),
    ];
    for (line, terminal, want) in table {
        assert_refused(line, *terminal, want);
    }
}

#[test]
fn waiting_and_watching() {
    assert_eq!(write_of("enable iris", false).wait, None);
    assert_eq!(
        write_of("enable iris --wait", false).wait,
        Some(Duration::from_secs(300))
    );
    assert_eq!(
        write_of("sampler iris const:1 --wait --timeout 90s", false).wait,
        Some(Duration::from_secs(90))
    );
    let watch = |line: &str| match argv(line, false).expect(line).action {
        Action::Status { watch, .. } => watch,
        other => panic!("{line}: {other:?}"),
    };
    assert_eq!(watch("status"), None);
    assert_eq!(watch("status -w"), Some(Watch { timeout: None }));
    assert_eq!(
        watch("status iris --watch --timeout 10m"),
        Some(Watch {
            timeout: Some(Duration::from_secs(600))
        })
    );
}

#[test]
fn intents_and_prompts() {
    let w = write_of(
        "enable iris --sampler probabilistic:0.5 --agent-host-from-node --propagation b3",
        false,
    );
    assert_eq!(
        w.intent,
        Intent::Enable {
            sampler: Some("probabilistic:0.5".parse().unwrap()),
            agent_host: Some(AgentHost::FromNode),
            agent_port: None,
            propagation: Some(Propagation::B3),
            collector: None,
        }
    );
    assert_eq!((w.ask_sampler, w.interactive), (AskSampler::No, false));
    // Guided enable on a terminal asks for the sampler; with names it keeps the current one.
    assert_eq!(write_of("enable", true).ask_sampler, AskSampler::Optional);
    assert_eq!(write_of("enable iris", true).ask_sampler, AskSampler::No);
    assert_eq!(
        write_of("sampler iris", true).ask_sampler,
        AskSampler::Required
    );
    assert!(!write_of("enable iris --yes", true).interactive);
    let w = write_of(
        "disable iris --dry-run --field-manager me --concurrency 3 --predictor canary",
        false,
    );
    assert_eq!(
        (
            w.intent,
            w.dry_run,
            w.field_manager.as_str(),
            w.concurrency,
            w.predictors
        ),
        (
            Intent::Disable,
            DryRun::Client,
            "me",
            3,
            vec!["canary".to_string()]
        )
    );
}

#[test]
fn manifests_select_objects_or_stand_alone() {
    let i = argv(
        "enable -f deploy -f extra.yaml --local --in-place --sampler const:1",
        true,
    )
    .unwrap();
    match i.action {
        Action::LocalWrite(w) => {
            assert_eq!(
                w.paths,
                [PathBuf::from("deploy"), PathBuf::from("extra.yaml")]
            );
            assert!(w.in_place);
            assert!(matches!(
                w.intent,
                Intent::Enable {
                    sampler: Some(_),
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        write_of("disable -f deploy -n models", false).selection,
        Selection::Manifests(vec!["deploy".into()])
    );
    let i = argv("status -f deploy --local --expect on", false).unwrap();
    assert!(matches!(
        i.action,
        Action::Status {
            manifests: Manifests::Local(_),
            expect: Some(Expect::On),
            ..
        }
    ));
    let i = argv("list -f a.yaml", false).unwrap();
    assert!(matches!(
        i.action,
        Action::List {
            manifests: Manifests::InCluster(_),
            ..
        }
    ));
    let refused: &[(&str, &str)] = &[
        ("enable -f deploy --local --dry-run", "leave out --dry-run"),
        ("enable -f - --local --in-place", "cannot rewrite stdin"),
        ("sampler -f deploy --local", "missing the sampler"),
        ("sampler iris -f deploy const:1", "not both"),
        ("enable iris -f deploy", "clap: ArgumentConflict"),
        (
            "enable --in-place -f deploy",
            "clap: MissingRequiredArgument",
        ),
        ("status --local", "clap: MissingRequiredArgument"),
        ("status iris -f deploy", "clap: ArgumentConflict"),
    ];
    for (line, want) in refused {
        assert_refused(line, true, want);
    }
}

#[test]
fn connection_scope_and_output() {
    let i = argv(
        "status iris -n models --context kind --kubeconfig /k --request-timeout 5s -o json",
        false,
    )
    .unwrap();
    assert_eq!(
        i.connection,
        Connection {
            kubeconfig: Some("/k".into()),
            context: Some("kind".into()),
            namespace: Some("models".into()),
            request_timeout: Duration::from_secs(5),
        }
    );
    assert_eq!((i.scope, i.output), (Scope::Namespace, Output::Json));
    assert_eq!(
        i.action,
        Action::Status {
            name: Some("iris".into()),
            selector: None,
            chunk_size: 500,
            manifests: Manifests::None,
            expect: None,
            watch: None,
            core: Generations::Served {
                seldon_namespace: "seldon-mesh".into()
            },
        }
    );
    let i = argv("list -A -l team=fraud --chunk-size 50", false).unwrap();
    assert_eq!(i.scope, Scope::AllNamespaces);
    assert_eq!(
        i.action,
        Action::List {
            selector: Some("team=fraud".into()),
            chunk_size: 50,
            manifests: Manifests::None,
            core: Generations::V1,
        }
    );
}

#[test]
fn the_guided_flow_carries_the_seldon_core_2_change_to_offer() {
    let offered = |line: &str| {
        write_of(line, true)
            .or_core2
            .map(|w| (w.change, w.ask_ratio))
    };
    let disable = plan::Intent {
        disable: Some(true),
        ..plan::Intent::default()
    };
    assert_eq!(offered("disable"), Some((disable, false)));
    assert_eq!(
        offered("enable").map(|(c, _)| (c.disable, c.enable)),
        Some((Some(false), true))
    );
    assert_eq!(offered("sampler"), Some((plan::Intent::default(), true)));
    for v1_only in [
        "disable iris",
        "disable --core v1",
        "enable --sampler const:1",
        "enable --propagation b3",
        "disable --wait",
        "sampler probabilistic:0.1",
    ] {
        assert_eq!(offered(v1_only), None, "{v1_only}");
    }
    // Without a terminal nothing is guided: a name is needed.
    assert!(argv("disable", false).is_err());
}

#[test]
fn list_and_status_read_both_generations_unless_told_or_v1_only() {
    let core = |line: &str| match argv(line, false).expect(line).action {
        Action::Status { core, .. } | Action::List { core, .. } => Some(core),
        Action::RuntimeStatus { .. } => None,
        other => panic!("{line}: {other:?}"),
    };
    let served = |ns: &str| {
        Some(Generations::Served {
            seldon_namespace: ns.into(),
        })
    };
    assert_eq!(core("list"), served("seldon-mesh"));
    assert_eq!(core("status -A"), served("seldon-mesh"));
    assert_eq!(core("status iris"), served("seldon-mesh"));
    assert_eq!(core("list --seldon-namespace ops"), served("ops"));
    assert_eq!(core("status --expect on"), served("seldon-mesh"));
    for v1_only in [
        "list --core v1",
        "status --core v1",
        "list -l team=fraud",
        "list -f a.yaml",
        "status -f a.yaml",
        "status -w",
        "status -l a=b",
    ] {
        assert_eq!(core(v1_only), Some(Generations::V1), "{v1_only}");
    }
    assert_eq!(core("list --core v2"), None);
    assert_eq!(core("status --core v2 seldon"), None);
    assert_refused("list --core v2 -l a=b", false, "are for v1");
}

#[test]
fn jaeger_access_takes_tls_checks_headers_and_a_token_and_never_shows_them() {
    let access = |line: &str| match argv(line, false) {
        Ok(Invocation {
            action: Action::Verify(v),
            ..
        }) => v.target.access,
        Ok(Invocation {
            action: Action::Traces(t),
            ..
        }) => t.target.access,
        other => panic!("{line}: {other:?}"),
    };
    let a = access(
        "traces iris --jaeger https://j --jaeger-ca ca.pem --jaeger-header X-Scope-OrgID:team-a",
    );
    assert_eq!(
        a.tls.ca_file.as_deref(),
        Some(std::path::Path::new("ca.pem"))
    );
    assert_eq!(a.headers.len(), 1);
    assert_eq!(a.headers[0].0, "x-scope-orgid");
    assert_eq!(a.headers[0].1.expose(), "team-a");
    assert!(!format!("{a:?}").contains("team-a"));
    let a =
        access("verify iris --jaeger https://j --insecure-skip-tls-verify --jaeger-token t0k3n");
    assert!(a.tls.insecure);
    assert_eq!(a.headers[0].1.expose(), "Bearer t0k3n");
    for (line, want) in [
        ("verify iris --jaeger-header nocolon", "give NAME: VALUE"),
        (
            "verify iris --jaeger-header bad/name:v",
            "is not a header name",
        ),
        (
            "verify iris --jaeger-ca c --insecure-skip-tls-verify",
            "not both",
        ),
        (
            "verify iris --jaeger-token t --jaeger-header Authorization:x",
            "not both",
        ),
    ] {
        assert_refused(line, false, want);
    }
    // The value of a refused header is not echoed.
    match argv("verify iris --jaeger-header s3cr3t-only", false) {
        Err(e) => assert!(!e.contains("s3cr3t"), "{e}"),
        Ok(i) => panic!("accepted as {i:?}"),
    }
}

#[test]
fn verify_over_grpc_is_asked_by_flag_or_by_a_grpc_url() {
    let of = |line: &str| match argv(line, false).expect(line).action {
        Action::Verify(v) => v,
        other => panic!("{line}: {other:?}"),
    };
    assert_eq!(of("verify iris").transport, Transport::Auto);
    assert_eq!(of("verify iris --grpc").transport, Transport::Grpc);
    assert_eq!(of("verify iris --rest").transport, Transport::Rest);
    assert_eq!(
        of("verify iris --via http://gw/seldon/ns/iris").transport,
        Transport::Rest
    );
    // grpc:// is kept as the http:// endpoint it dials, grpcs:// as https://.
    let v = of("verify iris --via grpc://10.0.0.1:5001");
    assert_eq!(v.transport, Transport::Grpc);
    let e = v.via.unwrap();
    assert_eq!((e.host.as_str(), e.port, e.tls), ("10.0.0.1", 5001, false));
    let v = of("verify iris --grpc --via GRPCS://gw.example:443/");
    assert_eq!(v.transport, Transport::Grpc);
    assert!(v.via.unwrap().tls);
    for (line, want) in [
        ("verify iris --grpc --rest", "clap: ArgumentConflict"),
        (
            "verify iris --rest --via grpc://h:1",
            "--rest and --via grpc://h:1 disagree",
        ),
        (
            "verify iris --grpc --via http://h:1",
            "--grpc and --via http://h:1 disagree",
        ),
        (
            "verify iris --via grpc://h:1/seldon/ns/iris",
            "a gRPC address has no path",
        ),
        ("verify iris --via grpc://", "no host"),
    ] {
        assert_refused(line, false, want);
    }
    // A password in a gRPC URL is not echoed.
    match argv("verify iris --rest --via grpc://u:s3cr3t@h:1", false) {
        Err(e) => assert!(!e.contains("s3cr3t"), "{e}"),
        Ok(i) => panic!("accepted as {i:?}"),
    }
}

#[test]
fn verify_core_v2_names_a_model_or_a_pipeline() {
    let of = |line: &str| match argv(line, false).expect(line).action {
        Action::Verify(v) => v.target.core2,
        other => panic!("{line}: {other:?}"),
    };
    assert_eq!(of("verify iris"), None);
    let model = of("verify --core v2 iris").expect("v2");
    assert!(!model.pipeline);
    assert_eq!(model.seldon_namespace, "seldon-mesh");
    let pipeline = of("verify --pipeline chain --seldon-namespace ops").expect("v2");
    assert!(pipeline.pipeline);
    assert_eq!(pipeline.seldon_namespace, "ops");
    assert_refused("verify --core v2 iris --predictor p", false, "has none");
    assert_refused("verify --core v1 --pipeline chain", false, "drop --core v1");
    assert_refused("verify --core v2", false, "needs a Model name");
    assert_refused("verify --pipeline", false, "needs a Pipeline name");
    match argv("traces --core v2 iris", false).expect("traces").action {
        Action::Traces(t) => assert!(t.target.core2.is_some_and(|c| !c.pipeline)),
        other => panic!("{other:?}"),
    }
}
