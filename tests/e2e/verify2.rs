//! `verify --core v2 MODEL` end to end: the plugin finds the Model, its Server and the runtime's
//! `seldon-mesh` Service on the real kube-apiserver (objects made by the v2 operator stand-in,
//! pods by kube-controller-manager and kwok), port-forwards to the envoy pod, and kwok leads that
//! to local processes: the mesh's router stand-in, the agent's reverse proxy stand-in (both
//! `tools/core2-tracer`, on the OpenTelemetry Go SDK and otelhttp Seldon pins) and the real
//! MLServer 1.7.1 serving a model written here, exporting to the harness's Jaeger 1.62 over
//! OTLP/gRPC. The agent reads `tracing.json` as the operator wrote it to ConfigMap
//! `seldon-tracing`, as a pod mounting it would.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::conformance::{free_port, harness_bin, terminate};
use crate::core2::{apply, runtime, seldon_config, server};
use crate::operator2::reconcile;
use crate::support::{self, Cluster};
use crate::verify::{forward_all, nearest_rank, wait_listening};

/// Where the harness's Jaeger 1.62 takes OTLP/gRPC, and its query API.
pub(crate) const OTLP: &str = "127.0.0.1:4317";
pub(crate) const JAEGER: &str = "http://127.0.0.1:16686";

/// The model MLServer serves (a custom `MLModel` answering each input as it came).
const ECHO_MODEL: &str = include_str!("../conformance/mlserver_echo.py");

/// The processes behind the mesh, stopped when dropped.
pub(crate) struct Path2 {
    pub(crate) children: Vec<Child>,
    pub(crate) dir: PathBuf,
    pub(crate) mlserver_port: u16,
    pub(crate) mlserver_grpc_port: u16,
    /// What envoy's pod port 9000 leads to.
    pub(crate) router_port: u16,
    /// The Model's name (MLServer serves it as `<name>_1`).
    pub(crate) model: String,
}

impl Drop for Path2 {
    fn drop(&mut self) {
        for c in &mut self.children {
            terminate(c, true);
        }
    }
}

impl Path2 {
    /// The last lines each process wrote to stderr, for a failure's message.
    pub(crate) fn logs(&self) -> String {
        let mut out = String::new();
        let names = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".err"))
                    .map(str::to_string)
            })
            .collect::<std::collections::BTreeSet<_>>();
        for name in names {
            let text =
                std::fs::read_to_string(self.dir.join(format!("{name}.err"))).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!(
                "--- {name}\n{}\n",
                lines[lines.len().saturating_sub(20)..].join("\n")
            ));
        }
        out
    }
}

pub(crate) fn spawn(dir: &Path, name: &str, mut cmd: Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join(format!("{name}.err"))).expect("log"));
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"))
}

/// A core2-tracer process and the first line it wrote to stdout (a server's address, a
/// consumer's "consuming …" once its partitions are assigned).
pub(crate) fn start_tracer_line(dir: &Path, name: &str, args: &[String]) -> (Child, String) {
    let mut cmd = Command::new(harness_bin().join("core2-tracer"));
    cmd.args(args).env_clear();
    let mut child = spawn(dir, name, cmd);
    let out = child.stdout.take().expect("stdout");
    let first = BufReader::new(out)
        .lines()
        .next()
        .and_then(Result::ok)
        .unwrap_or_default();
    (child, first)
}

/// A core2-tracer server (`rproxy`, `route`, `pipelinegateway`): its first stdout line is the
/// address it serves.
pub(crate) fn start_tracer(dir: &Path, name: &str, args: &[String]) -> (Child, u16) {
    let (child, first) = start_tracer_line(dir, name, args);
    let port = first
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{name} did not start: {first:?}"));
    (child, port)
}

/// MLServer 1.7.1 serving the echo model as `internal` (the agent loads a model under
/// `<name>_<version>`), with `MLSERVER_TRACING_SERVER` when given, once the model is ready:
/// (process, HTTP port, gRPC port).
///
/// At most two start at a time: each spends seconds of CPU importing its Python stack, and ten
/// tests starting theirs at once on two cores took over a minute each (one missed its minute).
pub(crate) fn start_mlserver(
    dir: &Path,
    internal: &str,
    tracing_server: Option<&str>,
) -> (Child, u16, u16) {
    let models = dir.join("models");
    let model = models.join(internal);
    std::fs::create_dir_all(&model).expect("model dir");
    std::fs::write(model.join("mlserver_echo.py"), ECHO_MODEL).expect("model");
    std::fs::write(
        model.join("model-settings.json"),
        json!({"name": internal, "implementation": "mlserver_echo.Echo"}).to_string(),
    )
    .expect("model settings");
    let (port, grpc_port) = (free_port(), free_port());
    std::fs::write(
        models.join("settings.json"),
        json!({"host": "127.0.0.1", "http_port": port, "grpc_port": grpc_port,
               "metrics_port": free_port(), "parallel_workers": 0})
        .to_string(),
    )
    .expect("settings");
    let mut cmd = Command::new(harness_bin().join("mlserver-venv/bin/mlserver"));
    cmd.arg("start").arg(&models).current_dir(&models);
    cmd.env_remove("MLSERVER_TRACING_SERVER");
    if let Some(t) = tracing_server {
        cmd.env("MLSERVER_TRACING_SERVER", t);
    }
    let _turn = STARTING.enter();
    let mut child = spawn(dir, "mlserver", cmd);
    until_model_ready(&mut child, port, internal, dir);
    (child, port, grpc_port)
}

/// A counting semaphore for [`start_mlserver`].
struct Starting {
    running: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
}

static STARTING: Starting = Starting {
    running: std::sync::Mutex::new(0),
    freed: std::sync::Condvar::new(),
};

struct Turn;

impl Starting {
    fn enter(&'static self) -> Turn {
        let mut n = self.running.lock().unwrap_or_else(|e| e.into_inner());
        while *n >= 2 {
            n = self.freed.wait(n).unwrap_or_else(|e| e.into_inner());
        }
        *n += 1;
        Turn
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        *STARTING.running.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        STARTING.freed.notify_one();
    }
}

/// Waits until MLServer says the model is ready.
fn until_model_ready(child: &mut Child, port: u16, internal: &str, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = format!("http://127.0.0.1:{port}/v2/models/{internal}/ready");
    while Instant::now() < deadline {
        let code = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &url])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        if code == "200" {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "MLServer exited ({status}) before {internal} was ready:\n{}",
                mlserver_log(dir)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    terminate(child, true);
    panic!(
        "MLServer never made {internal} ready in 60 s:\n{}",
        mlserver_log(dir)
    );
}

fn mlserver_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("mlserver.err")).unwrap_or_default()
}

/// The newest running pod of `ns` whose labels match `selector`.
pub(crate) fn pod_of(c: &Cluster, ns: &str, selector: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        let pods = c
            .kubectl(&["get", "pods", "-n", ns, "-l", selector, "-o", "json"])
            .ok()
            .json();
        let ready = pods["items"].as_array().into_iter().flatten().find(|p| {
            p["metadata"]["deletionTimestamp"].is_null()
                && p["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
        });
        if let Some(p) = ready {
            return p["metadata"]["name"].as_str().unwrap_or("").to_string();
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("no ready pod {selector} in {ns} after 90 s");
}

/// ConfigMap `seldon-tracing`'s `tracing.json` in `ns`, once the operator has written it.
pub(crate) fn tracing_json(c: &Cluster, ns: &str, want: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let cm = c.kubectl(&["get", "configmap", "seldon-tracing", "-n", ns, "-o", "json"]);
        if cm.code == Some(0) {
            let text = cm.json()["data"]["tracing.json"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if want(&text) {
                return text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "ConfigMap seldon-tracing never as wanted: {}",
            cm.stdout
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One Model's world: a SeldonConfig in `mesh` sending spans to the harness's Jaeger, runtime
/// `seldon` with `tc`, Server `mlserver` with `mlserver_env`, Model `iris` on it; the operator
/// stand-in's objects and pods; then MLServer, the agent (with the ConfigMap's setting) and the
/// router, envoy's pod port 9000 led to the router.
fn model_path(
    c: &Cluster,
    prefix: &str,
    tc: Value,
    mlserver_env: Value,
) -> (String, String, Path2) {
    model_path_of(c, prefix, "iris", tc, mlserver_env)
}

/// [`model_path`] for Model `model`.
fn model_path_of(
    c: &Cluster,
    prefix: &str,
    model: &str,
    tc: Value,
    mlserver_env: Value,
) -> (String, String, Path2) {
    let mesh = c.namespace(&format!("{prefix}-mesh"));
    let ns = c.namespace(prefix);
    apply(
        c,
        &[
            seldon_config(
                &mesh,
                "default",
                json!({"otelExporterEndpoint": OTLP, "otelExporterProtocol": "grpc", "ratio": "1"}),
            ),
            runtime(&ns, "default", tc),
            server(&ns, "mlserver", 1, mlserver_env.clone()),
            crate::core2::model(&ns, model, Some("mlserver")),
        ],
    );
    reconcile(c, &ns, &mesh);
    let envoy = pod_of(c, &ns, "app.kubernetes.io/name=seldon-envoy");
    pod_of(c, &ns, "seldon-server-name=mlserver");
    let dir = support::tempdir("verify2");
    let tracing_server = mlserver_env
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == "MLSERVER_TRACING_SERVER")
        .and_then(|e| e["value"].as_str())
        .map(String::from);
    let internal = format!("{model}_1");
    let (mlserver, mlserver_port, mlserver_grpc_port) =
        start_mlserver(&dir, &internal, tracing_server.as_deref());
    let mut path = Path2 {
        children: vec![mlserver],
        dir: dir.clone(),
        mlserver_port,
        mlserver_grpc_port,
        router_port: 0,
        model: model.to_string(),
    };
    let setting = tracing_json(c, &ns, |t| !t.is_empty());
    start_agent(&mut path, &setting, &[]);
    wait_listening(path.router_port, "the router");
    forward_all(c, &ns, &envoy, &[(9000, path.router_port)]);
    (mesh, ns, path)
}

/// The agent's reverse proxies (HTTP and gRPC) with `setting` as its mounted `tracing.json`, and
/// the router in front of them with the Model's routes and `routes` (more `--model` flags; both
/// replaced when called again, as a restarted pod would be).
pub(crate) fn start_agent(path: &mut Path2, setting: &str, routes: &[String]) {
    while path.children.len() > 1 {
        let mut old = path.children.pop().expect("child");
        terminate(&mut old, true);
    }
    let file = path.dir.join("tracing.json");
    std::fs::write(&file, setting).expect("tracing.json");
    let grpc_port = free_port();
    let (agent, agent_port) = start_tracer(
        &path.dir,
        "agent",
        &[
            "rproxy".into(),
            "--tracing-config-path".into(),
            file.display().to_string(),
            "--backend".into(),
            format!("127.0.0.1:{}", path.mlserver_port),
            "--grpc-listen".into(),
            format!("127.0.0.1:{grpc_port}"),
            "--grpc-backend".into(),
            format!("127.0.0.1:{}", path.mlserver_grpc_port),
        ],
    );
    path.children.push(agent);
    let (router, router_port) = start_tracer(
        &path.dir,
        "router",
        &[
            "route".into(),
            "--model".into(),
            format!("{0}={0}_1@127.0.0.1:{agent_port}", path.model),
            "--grpc-model".into(),
            format!("{0}={0}_1@127.0.0.1:{grpc_port}", path.model),
        ]
        .into_iter()
        .chain(routes.iter().cloned())
        .collect::<Vec<_>>(),
    );
    path.children.push(router);
    path.router_port = router_port;
}

/// `verify --core v2 iris -n NS --seldon-namespace MESH --jaeger <1.62> -o json` and its
/// document; the exit code is checked by the caller.
fn verify(c: &Cluster, ns: &str, mesh: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
    let r = verify_run(c, &["iris"], ns, mesh, extra);
    let doc = serde_json::from_str::<Value>(&r.stdout)
        .map(|d| d["items"][0].clone())
        .unwrap_or(Value::Null);
    (r.code, doc, format!("{}\n{}", r.stdout, r.stderr))
}

/// `verify --core v2 <target> -n NS --seldon-namespace MESH --jaeger <1.62>` with `extra`.
pub(crate) fn verify_run(
    c: &Cluster,
    target: &[&str],
    ns: &str,
    mesh: &str,
    extra: &[&str],
) -> support::Run {
    let mut args = vec!["verify", "--core", "v2"];
    args.extend_from_slice(target);
    args.extend(["-n", ns, "--seldon-namespace", mesh, "--jaeger", JAEGER]);
    args.extend_from_slice(extra);
    c.plugin(&args)
}

pub(crate) fn part<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["components"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == name)
        .unwrap_or(&Value::Null)
}

/// Part `name` of the verdict arrived, with a note saying `note`.
fn arrived_with_note(doc: &Value, name: &str, note: &str) {
    let p = part(doc, name);
    assert_eq!(p["arrived"], true, "{doc}");
    assert!(
        p["note"].as_str().is_some_and(|n| n.contains(note)),
        "{doc}"
    );
}

/// Part `name` of the verdict was not expected and did not arrive, for a reason saying `why`.
pub(crate) fn not_expected_because(doc: &Value, name: &str, why: &str) {
    let p = part(doc, name);
    assert_eq!(
        (p["expected"].as_bool(), p["arrived"].as_bool()),
        (Some(false), Some(false)),
        "{doc}"
    );
    assert!(
        p["reason"].as_str().is_some_and(|r| r.contains(why)),
        "{doc}"
    );
}

pub(crate) fn on_env() -> Value {
    json!([{"name": "MLSERVER_TRACING_SERVER", "value": OTLP}])
}

#[test]
fn all_on_the_agent_and_mlserver_join_one_trace() {
    let c = support::atomic();
    let (mesh, ns, path) = model_path(&c, "v2verify-on", json!({}), on_env());
    let started = Instant::now();
    let (code, doc, out) = verify(&c, &ns, &mesh, &["-o", "json"]);
    eprintln!("verify --core v2 took {:?}", started.elapsed());
    assert_eq!(code, Some(0), "{out}\n{}", path.logs());
    assert_eq!(
        (doc["core"].as_str(), doc["targetKind"].as_str()),
        (Some("v2"), Some("Model")),
        "{doc}"
    );
    assert_eq!(doc["request"]["status"], 200, "{doc}");
    assert_eq!(doc["request"]["headers"]["seldon-model"], "iris");
    let agent = part(&doc, "agent");
    let mlserver = part(&doc, "mlserver");
    assert_eq!(
        (agent["arrived"].as_bool(), agent["spans"].as_u64()),
        (Some(true), Some(1)),
        "{doc}"
    );
    assert!(mlserver["spans"].as_u64().unwrap_or(0) >= 1, "{doc}");
    // The agent's one server span, and MLServer's under the caller's context: the proxy passes
    // the caller's traceparent on, so MLServer's span is not the agent's child.
    let spans = doc["spans"].as_array().expect("spans");
    let ops: Vec<(&str, &str)> = spans
        .iter()
        .map(|s| {
            (
                s["service"].as_str().unwrap_or(""),
                s["operation"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(ops.contains(&("seldon-agent", "seldon-rproxy")), "{ops:?}");
    assert!(
        ops.iter()
            .any(|(s, o)| *s == "mlserver" && o.starts_with("POST /v2/models/")),
        "{ops:?}"
    );
    // As text: the waterfall and the verdict.
    let text = c
        .plugin(&[
            "verify",
            "--core",
            "v2",
            "iris",
            "-n",
            &ns,
            "--seldon-namespace",
            &mesh,
            "--jaeger",
            JAEGER,
        ])
        .ok();
    eprintln!("{}", text.stdout);
    assert!(
        text.stdout.contains("of model ")
            && text
                .stdout
                .contains("PASSED: agent and mlserver have spans"),
        "{}",
        text.stdout
    );
}

#[test]
fn over_grpc_the_agents_grpc_proxy_and_mlserver_join_one_trace() {
    let c = support::atomic();
    let (mesh, ns, path) = model_path(&c, "v2verify-grpc", json!({}), on_env());
    let (code, doc, out) = verify(&c, &ns, &mesh, &["--grpc", "-o", "json"]);
    assert_eq!(code, Some(0), "{out}\n{}", path.logs());
    assert_eq!(doc["request"]["method"], "gRPC", "{doc}");
    assert_eq!(doc["request"]["grpcStatus"], "OK", "{doc}");
    assert!(
        doc["request"]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/inference.GRPCInferenceService/ModelInfer")),
        "{doc}"
    );
    eprintln!(
        "{}",
        verify_run(&c, &["iris"], &ns, &mesh, &["--grpc"]).stdout
    );
    // The agent's gRPC server and client span, and MLServer's gRPC server span.
    assert_eq!(part(&doc, "agent")["spans"], 2, "{doc}");
    assert_eq!(part(&doc, "mlserver")["spans"], 1, "{doc}");
    // A Pipeline over gRPC is refused in one line.
    let r = verify_run(&c, &["--pipeline", "any"], &ns, &mesh, &["--grpc"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("--grpc --pipeline"), "{}", r.stderr);
}

#[test]
fn ratio_zero_still_records_the_sampled_request_and_says_normal_traffic_is_not() {
    let c = support::atomic();
    let (mesh, ns, path) = model_path(&c, "v2verify-zero", json!({"ratio": "0"}), on_env());
    let (code, doc, out) = verify(&c, &ns, &mesh, &["-o", "json"]);
    assert_eq!(code, Some(0), "{out}\n{}", path.logs());
    arrived_with_note(&doc, "agent", "normal requests are not");
    // --via: straight to the mesh's address (an ingress, one's own forward), the header along.
    let via = format!("http://127.0.0.1:{}", path.router_port);
    let (code, doc, out) = verify(&c, &ns, &mesh, &["-o", "json", "--via", &via]);
    assert_eq!(code, Some(0), "{out}\n{}", path.logs());
    assert_eq!(doc["request"]["through"], "--via", "{doc}");
    // --dry-run: what would be sent and what should join, nothing sent.
    let (code, _, out) = verify(&c, &ns, &mesh, &["--dry-run"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("Would send POST http://localhost:9000/v2/models/iris/infer to model ")
            && out.contains("Expected in the trace: agent, mlserver"),
        "{out}"
    );
}

#[test]
fn an_endpoint_nothing_listens_on_leaves_the_agent_out_and_says_where_its_spans_went() {
    let c = support::atomic();
    let (mesh, ns, path) = model_path(
        &c,
        "v2verify-nowhere",
        json!({"otelExporterEndpoint": "127.0.0.1:9"}),
        on_env(),
    );
    let (code, doc, out) = verify(&c, &ns, &mesh, &["-o", "json", "--timeout", "12s"]);
    assert_eq!(code, Some(1), "{out}\n{}", path.logs());
    assert_eq!(part(&doc, "mlserver")["arrived"], true, "{doc}");
    let agent = part(&doc, "agent");
    assert!(
        agent["reason"].as_str().is_some_and(|r| r
            .contains("no span of it in the trace after 12s")
            && r.contains("127.0.0.1:9")),
        "{doc}"
    );
}

#[test]
fn mlserver_without_its_variable_leaves_the_agent_alone_and_is_explained() {
    let c = support::atomic();
    let (mesh, ns, path) = model_path(&c, "v2verify-nomls", json!({}), json!([]));
    let (code, doc, out) = verify(&c, &ns, &mesh, &["-o", "json", "--timeout", "12s"]);
    assert_eq!(code, Some(1), "{out}\n{}", path.logs());
    assert_eq!(part(&doc, "agent")["arrived"], true, "{doc}");
    not_expected_because(&doc, "mlserver", "MLSERVER_TRACING_SERVER");
}

#[test]
fn a_disabled_runtime_with_restarted_pods_sends_nothing_and_is_named() {
    let c = support::atomic();
    let (mesh, ns, path) = model_path(&c, "v2verify-off", json!({"disable": true}), json!([]));
    let (code, doc, out) = verify(&c, &ns, &mesh, &["-o", "json", "--timeout", "12s"]);
    assert_eq!(code, Some(1), "{out}\n{}", path.logs());
    assert!(doc["spans"].as_array().is_some_and(Vec::is_empty), "{doc}");
    let agent = part(&doc, "agent");
    let why = agent["reason"].as_str().unwrap_or("");
    assert!(
        why.contains(&format!("SeldonRuntime {ns}/seldon")) && why.contains("enable --core v2"),
        "{doc}"
    );
}

#[test]
fn pods_not_restarted_after_disable_still_trace_and_the_verdict_says_so() {
    let c = support::atomic();
    let (mesh, ns, path) = model_path(&c, "v2verify-stale", json!({}), on_env());
    // The pods started at least a second before the change (times are whole seconds).
    std::thread::sleep(Duration::from_millis(1100));
    c.plugin(&[
        "disable",
        "--core",
        "v2",
        "-n",
        &ns,
        "--seldon-namespace",
        &mesh,
    ])
    .ok();
    reconcile(&c, &ns, &mesh);
    tracing_json(&c, &ns, |t| t.contains("\"disable\":true"));
    // The agent keeps the setting it started with, as a pod that was not restarted does.
    let (code, doc, out) = verify(&c, &ns, &mesh, &["-o", "json"]);
    assert_eq!(code, Some(0), "{out}\n{}", path.logs());
    arrived_with_note(&doc, "agent", "restart needed");
}

/// `traces --core v2 <target> -n NS --since 10m -o json` against the harness's Jaeger 1.62.
pub(crate) fn traces_json(c: &Cluster, target: &[&str], ns: &str) -> Value {
    let mut args = vec!["traces", "--core", "v2"];
    args.extend_from_slice(target);
    args.extend(["-n", ns, "--jaeger", JAEGER, "--since", "10m", "-o", "json"]);
    c.plugin(&args).ok().json()
}

/// `n` inference requests to the router (the mesh), each with a sampled `traceparent` of its
/// own as a traced caller sends them when `traced`, else none.
fn requests(router_port: u16, model: &str, n: usize, traced: bool) {
    requests_to(router_port, "models", model, model, n, traced);
}

/// [`requests`] to `/v2/<kind>/<name>/infer` with `seldon-model: <header>`.
pub(crate) fn requests_to(
    router_port: u16,
    kind: &str,
    name: &str,
    header: &str,
    n: usize,
    traced: bool,
) {
    // Trace ids unique within the test process (tests run side by side in it).
    static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    for i in 0..n {
        let k = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let traceparent = format!(
            "traceparent: 00-{:016x}{:016x}-{:016x}-01",
            std::process::id(),
            k,
            k
        );
        let url = format!("http://127.0.0.1:{router_port}/v2/{kind}/{name}/infer");
        let model_header = format!("seldon-model: {header}");
        let mut args = vec![
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            &url,
            "-H",
            "content-type: application/json",
            "-H",
            &model_header,
            "-d",
            r#"{"inputs":[{"name":"predict","shape":[1,4],"datatype":"FP32","data":[[1,2,3,4]]}]}"#,
        ];
        if traced {
            args.extend(["-H", traceparent.as_str()]);
        }
        let r = crate::kube::run("curl", &args, &[], None);
        assert_eq!(r.stdout, "200", "request {i}: {}", r.stderr);
    }
}

#[test]
fn traces_counts_every_request_and_its_percentiles_match_jaegers_own_numbers() {
    let c = support::atomic();
    // A name of this run's own: the agent's spans do not name the namespace, and other tests'
    // Models `iris` (and earlier runs) send to the same Jaeger.
    let model = format!("iris-traces-{}", std::process::id());
    let (_, ns, path) = model_path_of(&c, "v2traces", &model, json!({}), on_env());
    requests(path.router_port, &path.model, 50, true);
    // Jaeger's own answer once every trace is complete: the agent's span and MLServer's four.
    let query = format!(
        "{JAEGER}/api/traces?service=seldon-agent&operation=seldon-rproxy&tag=url.path%3A%2Fv2%2Fmodels%2F{model}%2Finfer&limit=500&lookback=1h"
    );
    let mut reference = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        reference = crate::kube::run("curl", &["-s", &query], &[], None).json();
        let data = reference["data"].as_array().cloned().unwrap_or_default();
        let whole = |t: &Value| t["spans"].as_array().map(Vec::len) == Some(5);
        if data.len() == 50 && data.iter().all(whole) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut durations: std::collections::BTreeMap<(String, String), Vec<i64>> = Default::default();
    for t in reference["data"].as_array().expect("traces") {
        for s in t["spans"].as_array().expect("spans") {
            let service = t["processes"][s["processID"].as_str().unwrap_or("")]["serviceName"]
                .as_str()
                .unwrap_or("")
                .to_string();
            durations
                .entry((
                    service,
                    s["operationName"].as_str().unwrap_or("").to_string(),
                ))
                .or_default()
                .push(s["duration"].as_i64().unwrap_or(0));
        }
    }
    assert_eq!(durations.len(), 4, "{durations:?}\n{}", path.logs());
    let v = traces_json(&c, &[&path.model], &ns);
    let item = &v["items"][0];
    assert_eq!(
        (item["core"].as_str(), item["targetKind"].as_str()),
        (Some("v2"), Some("Model")),
        "{v}"
    );
    assert_eq!(item["traces"], 50, "{v}");
    let hops = item["hops"].as_array().expect("hops");
    assert_eq!(hops.len(), 4, "{v}");
    for h in hops {
        let key = (
            h["service"].as_str().unwrap_or("").to_string(),
            h["operation"].as_str().unwrap_or("").to_string(),
        );
        let mut d = durations[&key].clone();
        d.sort_unstable();
        assert_eq!(h["count"], d.len(), "{h}");
        assert_eq!(h["p50Us"], nearest_rank(&d, 50.0), "{h}");
        assert_eq!(h["p95Us"], nearest_rank(&d, 95.0), "{h}");
        assert_eq!(h["p99Us"], nearest_rank(&d, 99.0), "{h}");
        assert_eq!(h["maxUs"], *d.last().expect("durations"), "{h}");
        assert_eq!(h["errors"], 0, "{h}");
        let part = if key.0 == "seldon-agent" {
            "agent"
        } else {
            "mlserver"
        };
        assert_eq!(h["node"], part, "{h}");
    }
    assert_eq!(
        item["slowest"]["spans"].as_array().map(Vec::len),
        Some(5),
        "{v}"
    );
    // The same Model name in another namespace: its traces cannot be told apart, and it says so.
    let other = c.namespace("v2traces-other");
    apply(
        &c,
        &[crate::core2::model(&other, &path.model, Some("mlserver"))],
    );
    let traces_text = || {
        c.plugin(&[
            "traces",
            "--core",
            "v2",
            &path.model,
            "-n",
            &ns,
            "--jaeger",
            JAEGER,
            "--since",
            "10m",
        ])
        .ok()
    };
    let text = traces_text();
    assert!(
        text.stderr
            .contains(&format!("also exists in namespace {other}")),
        "{}",
        text.stderr
    );
    // Requests without a traceparent: the agent's trace holds its span alone, and it says why.
    requests(path.router_port, &path.model, 3, false);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = traces_text();
        if text
            .stderr
            .contains("3 of 53 traces hold only the agent's span")
        {
            break;
        }
        assert!(Instant::now() < deadline, "{}", text.stderr);
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("{}", text.stdout);
}
