//! `verify --core v2 --pipeline` and `traces --core v2 --pipeline` end to end: a one-step
//! Pipeline on the real kube-apiserver, its request through the mesh's router stand-in to the
//! pipeline gateway stand-in, over the harness's real Kafka broker (KRaft, 127.0.0.1:29092) to
//! the model gateway stand-in, which calls the model over gRPC through the router and the
//! agent's gRPC proxy stand-in to the real MLServer 1.7.1 (tools/core2-tracer; each stand-in's
//! header says what of v2.10.2 it reproduces). The dataflow engine is a routing-only stand-in
//! (its Java agent's spans are left out, and the verdict does not judge it).

use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::conformance::free_port;
use crate::core2::{apply, runtime, seldon_config, server};
use crate::operator2::reconcile;
use crate::support::{self, Cluster};
use crate::verify::{forward_all, wait_listening};
use crate::verify2::{
    JAEGER, OTLP, Path2, not_expected_because, on_env, part, pod_of, requests_to, start_agent,
    start_mlserver, start_tracer, start_tracer_line, traces_json, tracing_json, verify_run,
};

/// The harness's Kafka broker (scripts/harness KAFKA_PORT).
const KAFKA: &str = "127.0.0.1:29092";

/// A Pipeline `name` of one step, Model `model`.
fn pipeline(ns: &str, name: &str, model: &str) -> Value {
    json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "Pipeline",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"steps": [{"name": model}], "output": {"steps": [model]}}})
}

/// What a pipeline test runs.
struct Setup<'a> {
    prefix: &'a str,
    pipeline: &'a str,
    model: &'a str,
    /// The brokers the gateways are given (the harness's, or an address nothing listens on).
    brokers: &'a str,
    /// Whether the dataflow engine's stand-in runs.
    dataflow: bool,
}

/// A Pipeline's world: the SeldonConfig (spans to the harness's Jaeger, Kafka at [`KAFKA`]), the
/// runtime, Server `mlserver` with MLSERVER_TRACING_SERVER, the step's Model and the Pipeline;
/// the operator stand-in's objects and pods; then MLServer, the agent (HTTP and gRPC proxies),
/// the gateways, the dataflow engine's router and the mesh's router, envoy's port 9000 led to
/// the router. Topic names carry the runtime's namespace, so tests do not share topics.
fn pipeline_path(c: &Cluster, s: &Setup) -> (String, String, Path2) {
    let mesh = c.namespace(&format!("{}-mesh", s.prefix));
    let ns = c.namespace(s.prefix);
    let mut config = seldon_config(
        &mesh,
        "default",
        json!({"otelExporterEndpoint": OTLP, "otelExporterProtocol": "grpc", "ratio": "1"}),
    );
    config["spec"]["config"]["kafkaConfig"] = json!({"bootstrap.servers": KAFKA});
    apply(
        c,
        &[
            config,
            runtime(&ns, "default", json!({})),
            server(&ns, "mlserver", 1, on_env()),
            crate::core2::model(&ns, s.model, Some("mlserver")),
            pipeline(&ns, s.pipeline, s.model),
        ],
    );
    reconcile(c, &ns, &mesh);
    let envoy = pod_of(c, &ns, "app.kubernetes.io/name=seldon-envoy");
    pod_of(c, &ns, "seldon-server-name=mlserver");
    let dir = support::tempdir("pipeline2");
    let internal = format!("{}_1", s.model);
    let (mlserver, mlserver_port, mlserver_grpc_port) = start_mlserver(&dir, &internal, Some(OTLP));
    let mut path = Path2 {
        children: vec![mlserver],
        dir: dir.clone(),
        mlserver_port,
        mlserver_grpc_port,
        router_port: 0,
        model: s.model.to_string(),
    };
    let setting = tracing_json(c, &ns, |t| !t.is_empty());
    let file = dir.join("tracing.json");
    std::fs::write(&file, &setting).expect("tracing.json");
    let config = file.display().to_string();
    let kafka_args = |mode: &str| -> Vec<String> {
        vec![
            mode.into(),
            "--tracing-config-path".into(),
            config.clone(),
            "--brokers".into(),
            s.brokers.into(),
            "--namespace".into(),
            ns.clone(),
        ]
    };
    let mut args = kafka_args("pipelinegateway");
    args.extend(["--pipeline".into(), s.pipeline.into()]);
    let (gateway, gateway_port) = start_tracer(&dir, "pipelinegateway", &args);
    // Envoy's route for the pipeline, beside the Model's.
    start_agent(
        &mut path,
        &setting,
        &[
            "--model".into(),
            format!(
                "{0}.pipeline={0}.pipeline@127.0.0.1:{gateway_port}",
                s.pipeline
            ),
        ],
    );
    path.children.push(gateway);
    let router_port = path.router_port;
    if s.brokers == KAFKA {
        // The model gateway calls the inference server through the mesh (--envoy-host), and
        // says when its partitions are assigned; so does the dataflow engine's router.
        let mut args = kafka_args("modelgateway");
        args.extend([
            "--inference".into(),
            format!("127.0.0.1:{router_port}"),
            "--model".into(),
            s.model.into(),
        ]);
        path.children
            .push(consumer(&dir, "modelgateway", &args, &path));
        if s.dataflow {
            let mut args = kafka_args("dataflow");
            args.extend(["--pipeline".into(), format!("{}={}", s.pipeline, s.model)]);
            path.children.push(consumer(&dir, "dataflow", &args, &path));
        }
    }
    wait_listening(path.router_port, "the router");
    forward_all(c, &ns, &envoy, &[(9000, path.router_port)]);
    (mesh, ns, path)
}

/// A Kafka consumer stand-in, once its partitions are assigned.
fn consumer(dir: &std::path::Path, name: &str, args: &[String], path: &Path2) -> Child {
    let (child, first) = start_tracer_line(dir, name, args);
    assert!(
        first.starts_with("consuming") || first.starts_with("routing"),
        "{name} did not start: {first:?}\n{}",
        path.logs()
    );
    child
}

/// `verify --core v2 --pipeline NAME -n NS …` with `extra`.
fn verify(c: &Cluster, ns: &str, mesh: &str, name: &str, extra: &[&str]) -> support::Run {
    verify_run(c, &["--pipeline", name], ns, mesh, extra)
}

#[test]
fn a_pipeline_of_one_step_passes_with_both_gateways_the_agent_and_mlserver_in_one_trace() {
    let c = support::atomic();
    // A name of this run's own: the pipeline gateway's spans do not name the namespace, and
    // `traces` counts every trace of that name in the Jaeger.
    let name = format!("pipe-echo-{}", std::process::id());
    let s = Setup {
        prefix: "v2pipe-on",
        pipeline: &name,
        model: "pipe-step",
        brokers: KAFKA,
        dataflow: true,
    };
    let (mesh, ns, path) = pipeline_path(&c, &s);
    let started = Instant::now();
    let r = verify(&c, &ns, &mesh, s.pipeline, &["-o", "json"]);
    eprintln!("verify --core v2 --pipeline took {:?}", started.elapsed());
    assert_eq!(
        r.code,
        Some(0),
        "{}\n{}\n{}",
        r.stdout,
        r.stderr,
        path.logs()
    );
    let doc = r.json()["items"][0].clone();
    assert_eq!(
        (doc["core"].as_str(), doc["targetKind"].as_str()),
        (Some("v2"), Some("Pipeline")),
        "{doc}"
    );
    assert_eq!(
        doc["request"]["headers"]["seldon-model"],
        format!("{name}.pipeline")
    );
    assert_eq!(doc["request"]["status"], 200, "{doc}");
    // The spans each component makes for one request (docs/facts/seldon-core-2.md): the
    // pipeline gateway's route span, Produce and Consume; the model gateway's Consume,
    // WaitForWorker, gRPC client span and Produce; the agent's gRPC server and client span;
    // MLServer's gRPC server span.
    for (name, spans) in [
        ("pipeline-gateway", 3),
        ("model-gateway", 4),
        ("agent", 2),
        ("mlserver", 1),
    ] {
        let p = part(&doc, name);
        assert_eq!(
            (p["arrived"].as_bool(), p["spans"].as_u64()),
            (Some(true), Some(spans)),
            "{name}: {doc}"
        );
    }
    not_expected_because(&doc, "dataflow-engine", "OpenTelemetry Java agent");
    // In Jaeger's own answer: MLServer's span is the agent's client span's child (the gRPC
    // proxy passes its own context on), and the model gateway's spans hang under the pipeline
    // gateway's Produce (the context went through Kafka's record headers).
    let id = doc["traceID"].as_str().expect("traceID");
    let t = crate::kube::run(
        "curl",
        &["-s", &format!("{JAEGER}/api/traces/{id}")],
        &[],
        None,
    )
    .json()["data"][0]
        .clone();
    let service = |s: &Value| {
        t["processes"][s["processID"].as_str().unwrap_or("")]["serviceName"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let spans = t["spans"].as_array().cloned().unwrap_or_default();
    let find = |svc: &str, op_end: &str, kind: &str| {
        spans
            .iter()
            .find(|s| {
                service(s) == svc
                    && s["operationName"]
                        .as_str()
                        .is_some_and(|o| o.ends_with(op_end))
                    && s["tags"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|t| t["key"] == "span.kind" && t["value"] == kind)
            })
            .cloned()
            .unwrap_or(Value::Null)
    };
    let parent = |s: &Value| s["references"][0]["spanID"].clone();
    let agent_client = find("seldon-agent", "ModelInfer", "client");
    let mlserver = find("mlserver", "ModelInfer", "server");
    assert_eq!(parent(&mlserver), agent_client["spanID"], "{t}");
    let produce = spans
        .iter()
        .find(|s| service(s) == "seldon-pipelinegateway" && s["operationName"] == "Produce")
        .cloned()
        .unwrap_or(Value::Null);
    let consume = find("seldon-modelgateway", "Consume", "internal");
    assert_eq!(parent(&consume), produce["spanID"], "{t}");
    // As text.
    let text = verify(&c, &ns, &mesh, s.pipeline, &[]).ok();
    eprintln!("{}", text.stdout);
    assert!(
        text.stdout
            .contains("PASSED: pipeline-gateway, model-gateway, agent and mlserver have spans")
            && text
                .stdout
                .contains("dataflow-engine not judged: the engine"),
        "{}",
        text.stdout
    );
    // traces: 20 traced requests beside the two verifies, every hop counted.
    requests_to(
        path.router_port,
        "pipelines",
        s.pipeline,
        &format!("{name}.pipeline"),
        20,
        true,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let item = loop {
        let v = traces_json(&c, &["--pipeline", s.pipeline], &ns);
        let item = v["items"][0].clone();
        let all = item["hops"].as_array().is_some_and(|h| {
            h.iter()
                .filter(|h| h["node"] == "mlserver")
                .any(|h| h["count"] == 22)
        });
        if item["traces"] == 22 && all {
            break item;
        }
        assert!(Instant::now() < deadline, "{v}\n{}", path.logs());
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(item["targetKind"], "Pipeline", "{item}");
    let text = c
        .plugin(&[
            "traces",
            "--core",
            "v2",
            "--pipeline",
            s.pipeline,
            "-n",
            &ns,
            "--jaeger",
            JAEGER,
            "--since",
            "10m",
        ])
        .ok();
    eprintln!("{}", text.stdout);
    assert!(text.stdout.starts_with("22 traces of "), "{}", text.stdout);
    let hops = item["hops"].as_array().expect("hops");
    let count = |service: &str, op: &str| {
        hops.iter()
            .find(|h| h["service"] == service && h["operation"] == op)
            .map(|h| h["count"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        count("seldon-pipelinegateway", "/v2/pipelines/{model}/infer"),
        22,
        "{item}"
    );
    assert_eq!(count("seldon-pipelinegateway", "Produce"), 22, "{item}");
    assert_eq!(count("seldon-modelgateway", "WaitForWorker"), 22, "{item}");
    assert_eq!(
        count("seldon-agent", "inference.GRPCInferenceService/ModelInfer"),
        44,
        "the agent's server and client span: {item}"
    );
}

/// A run that failed with exit 1, nothing on stdout and one line on stderr.
fn one_line_exit_1(r: &support::Run, path: &Path2) {
    assert_eq!(
        r.code,
        Some(1),
        "{}\n{}\n{}",
        r.stdout,
        r.stderr,
        path.logs()
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
}

#[test]
fn kafka_out_of_reach_or_an_answer_that_never_comes_back_is_one_line_and_exit_1() {
    let c = support::atomic();
    // Brokers nothing listens on: the gateway's consumer never gets its partitions, and after
    // 10 s Infer fails (500 with no body).
    let nowhere = format!("127.0.0.1:{}", free_port());
    let s = Setup {
        prefix: "v2pipe-nokafka",
        pipeline: "pipe-nokafka",
        model: "pipe-nokafka-step",
        brokers: &nowhere,
        dataflow: false,
    };
    let (mesh, ns, path) = pipeline_path(&c, &s);
    let r = verify(&c, &ns, &mesh, s.pipeline, &[]);
    one_line_exit_1(&r, &path);
    eprintln!("{}", r.stderr);
    assert!(
        r.stderr
            .starts_with(&format!("error: pipeline \"{ns}/pipe-nokafka\" "))
            && r.stderr.contains("answered 500 with no body")
            && r.stderr
                .contains(&format!("Kafka ({KAFKA}, kafkaConfig bootstrap.servers)")),
        "{}",
        r.stderr
    );
    drop(path);
    // Kafka up but nothing brings the step's output back (no dataflow engine): the gateway
    // waits; the plugin gives up at --timeout and says where to look.
    let s = Setup {
        prefix: "v2pipe-noengine",
        pipeline: "pipe-noengine",
        model: "pipe-noengine-step",
        brokers: KAFKA,
        dataflow: false,
    };
    let (mesh, ns, path) = pipeline_path(&c, &s);
    let r = verify(&c, &ns, &mesh, s.pipeline, &["--timeout", "4s"]);
    one_line_exit_1(&r, &path);
    assert!(
        r.stderr.contains("no answer within 4s")
            && r.stderr.contains("seldon-dataflow-engine")
            && r.stderr
                .contains("kubectl logs deploy/seldon-pipelinegateway"),
        "{}",
        r.stderr
    );
}
