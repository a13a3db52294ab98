//! `verify`: one traced request through a predictor, then its trace from Jaeger, judged per
//! component. The order is chosen so that nothing is sent before everything needed to read the
//! answer is known to work: the object and its predictor, the executor pod (and the right to
//! port-forward to it), Jaeger (answering), and only then the request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::commands::context::Ctx;
use crate::commands::context::print;
use crate::domain::json::str_at;
use crate::domain::traces::endpoints as reach;
use crate::domain::traces::endpoints::ServiceRef;
use crate::domain::traces::model::Trace;
use crate::domain::traces::model::span_rows;
use crate::domain::traces::request::TraceContext;
use crate::domain::traces::seldon_message;
use crate::domain::traces::seldon_message::SeldonMessage;
use crate::domain::traces::verdict as v;
use crate::domain::traces::verdict::Verification;
use crate::domain::traces::{attribution, model, request};
use crate::domain::v1::EXECUTOR_PORT;
use crate::domain::v1::clients::{EffectiveEnv, Propagation};
use crate::domain::v1::components as c;
use crate::domain::v1::status;
use crate::domain::v1::status::PredictorStatus;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::grpc::Called;
use crate::invocation::{Data, JaegerAt, Traced, Transport, Verify};
use crate::jaeger::Access;
use crate::jaeger::Jaeger;
use crate::options::Output;
use crate::render;
use crate::web::{self, Ask, Dial, Failed};

/// How often Jaeger is asked for the trace at first, and for how long.
const QUICK_POLL: Duration = Duration::from_millis(100);
const QUICK_FOR: Duration = Duration::from_secs(3);

/// The one gRPC method `verify` calls.
const PREDICT: &str = "/seldon.protos.Seldon/Predict";

/// What the request's answer said.
pub(super) struct Sent {
    pub(super) status: Option<u16>,
    pub(super) grpc_status: Option<String>,
    pub(super) error: Option<String>,
    /// How it failed (`HTTP 500`, `gRPC status Unavailable`); None when it did not.
    pub(super) failed_with: Option<String>,
}

impl Sent {
    /// A gRPC call's outcome: OK, failed when `failure` finds something wrong in the answer
    /// (`failed_with` says `why_failed`), or the status the server sent.
    pub(super) fn from_called<R>(
        called: Called<R>,
        failure: impl Fn(&R) -> Option<String>,
        why_failed: &str,
    ) -> Sent {
        match called {
            Called::Ok(answer) => {
                let error = failure(&answer);
                Sent {
                    status: None,
                    grpc_status: Some(crate::grpc::code_name(tonic::Code::Ok)),
                    failed_with: error.as_ref().map(|_| why_failed.to_string()),
                    error,
                }
            }
            Called::Status { code, message } => Sent {
                status: None,
                failed_with: Some(format!("gRPC status {code}")),
                grpc_status: Some(code),
                error: Some(v::short(&message)),
            },
        }
    }

    /// Its outcome into the report's request.
    pub(super) fn record(&self, report: &mut Verification) {
        report.request.status = self.status;
        report.request.grpc_status = self.grpc_status.clone();
        report.request.error = self.error.clone();
    }
}

/// `--via grpc(s)://HOST:PORT` as the user wrote it (kept as http(s) in the endpoint).
pub(super) fn grpc_url(e: &crate::jaeger::Endpoint) -> String {
    format!(
        "{}://{}:{}",
        if e.tls { "grpcs" } else { "grpc" },
        web::bracketed(&e.host),
        e.port
    )
}

/// Random ids for the request's trace context (std's randomly keyed hasher, fed the clock).
pub(super) fn random_u64(salt: u64) -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one((
        std::time::SystemTime::now(),
        std::process::id(),
        salt,
    ))
}

pub(super) fn object_error(ns: &str, name: &str, message: String) -> Error {
    Error::Object {
        namespace: ns.into(),
        name: name.into(),
        message,
    }
}

/// The predictor to send through: the one named, else the only one, else the one with the most
/// traffic (the first of equals); on a terminal with several and none named, the user picks.
pub(super) fn choose_predictor<'a>(
    obj: &'a Value,
    wanted: Option<&str>,
    ns: &str,
    name: &str,
    ask: bool,
) -> Result<&'a Value> {
    let predictors: Vec<&Value> = predictors(obj).collect();
    let names: Vec<String> = predictors
        .iter()
        .map(|p| c::predictor_name(p).to_string())
        .collect();
    if let Some(w) = wanted {
        return predictors
            .iter()
            .copied()
            .find(|p| c::predictor_name(p) == w)
            .ok_or_else(|| {
                object_error(
                    ns,
                    name,
                    format!(
                        "has no predictor \"{w}\" (it has: {}); pick one with --predictor",
                        names.join(", ")
                    ),
                )
            });
    }
    match predictors.as_slice() {
        [] => Err(object_error(
            ns,
            name,
            "has no predictors: there is nothing to send a request through".into(),
        )),
        [only] => Ok(only),
        many if ask => {
            let i = crate::prompt::pick_one("Predictor to send the request through", &names)?;
            Ok(many[i])
        }
        many => {
            let traffic = |p: &Value| p.get("traffic").and_then(Value::as_i64).unwrap_or(0);
            let mut best = many[0];
            for p in many {
                if traffic(p) > traffic(best) {
                    best = p;
                }
            }
            crate::say!(
                "Using predictor {} (the most traffic); pick another with --predictor",
                c::predictor_name(best)
            );
            Ok(best)
        }
    }
}

/// Jaeger, reached as asked (`--jaeger`, `--jaeger-service`) or found: the Services of the
/// namespace, then of the cluster, that look like its query API. With `connect` false (a dry
/// run) only where it is, without opening a port-forward.
pub(super) async fn find_jaeger(
    ctx: &Ctx,
    at: &JaegerAt,
    access: &Access,
    timeout: Duration,
    connect: bool,
) -> Result<Jaeger> {
    let svc = match at {
        JaegerAt::Url(e) => {
            return Jaeger::new(e.clone(), access, timeout)
                .map_err(|e| Error::Reach(e.to_string()));
        }
        JaegerAt::Service(s) => s.clone(),
        JaegerAt::Discover => discover(ctx).await?,
    };
    let ns = svc
        .namespace
        .clone()
        .unwrap_or_else(|| ctx.namespace().to_string());
    let what = format!("Jaeger Service {ns}/{}", svc.name);
    let fail = |why: String| Error::Reach(format!("{what}: {why}"));
    let object = ctx.cluster.service(&ns, &svc.name).await?.ok_or_else(|| {
        fail("not found; list them with `kubectl get services -A | grep query`".into())
    })?;
    let (_, target) = reach::query_port(&object, svc.port.as_ref()).map_err(fail)?;
    let selector = reach::selector(&object)
        .ok_or_else(|| fail("it selects no pods (no selector), so there is no pod to port-forward to; give --jaeger URL".into()))?;
    let pods = ctx.cluster.pods(&ns, &selector).await?;
    let pod = reach::newest_ready(&pods).ok_or_else(|| {
        fail(format!(
            "none of its {} pods ({selector}) is ready",
            pods.len()
        ))
    })?;
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
    let port = reach::container_port(pod, &target).ok_or_else(|| {
        fail(format!(
            "its targetPort {target:?} is not a named port of pod {pod_name}"
        ))
    })?;
    let dial = if connect {
        ctx.cluster.forward(&ns, &pod_name, port).await?
    } else {
        ctx.cluster.forward_unopened(&ns, &pod_name, port)
    };
    Ok(Jaeger::through(
        Arc::new(dial),
        &svc.base_path,
        access,
        timeout,
    ))
}

async fn discover(ctx: &Ctx) -> Result<ServiceRef> {
    let here = ctx.cluster.services(Some(ctx.namespace())).await;
    let mut found = here
        .as_ref()
        .map(|s| reach::query_services(s))
        .unwrap_or_default();
    if found.is_empty() {
        // Listing every namespace's Services may be forbidden; then only -n was searched.
        if let Ok(all) = ctx.cluster.services(None).await {
            found = reach::query_services(&all);
        }
    }
    let hint = "give --jaeger URL, --jaeger-service NAMESPACE/SERVICE or set SELDON_TRACING_JAEGER";
    match found.as_slice() {
        [] => Err(Error::Reach(format!(
            "no Jaeger query Service found in namespace {} or the cluster (looked for a port 16686 or one named http-query); {hint}",
            ctx.namespace()
        ))),
        [one] => {
            let r: ServiceRef = one.parse().map_err(Error::Reach)?;
            Ok(r)
        }
        many => Err(Error::Reach(format!(
            "several Services look like Jaeger's query API ({}); pick one with --jaeger-service NAMESPACE/SERVICE",
            many.join(", ")
        ))),
    }
}

/// Jaeger as `verify` asks for it, answering its API before anything is sent (a request whose
/// trace cannot be read proves nothing); only found with `--dry-run`.
pub(super) async fn answering_jaeger(ctx: &Ctx, args: &Verify) -> Result<Jaeger> {
    let jaeger = find_jaeger(
        ctx,
        &args.target.jaeger,
        &args.target.access,
        Duration::from_secs(10),
        !args.dry_run,
    )
    .await?;
    if !args.dry_run {
        jaeger
            .dialect()
            .await
            .map_err(|e| Error::Reach(e.to_string()))?;
    }
    Ok(jaeger)
}

/// A request that got no answer, as `verify` words it: through what, and why.
pub(super) fn unanswered(
    ns: &str,
    name: &str,
    what: &str,
    through: &str,
    f: Failed,
    timeout: Duration,
) -> Error {
    let why = match f {
        Failed::Io(why) => why,
        Failed::TimedOut => format!("no answer within {}", seconds_text(timeout)),
    };
    object_error(
        ns,
        name,
        format!("the {what} request through {through} failed: {why}"),
    )
}

/// The request's headers as sent: those of the report, and with `--via
/// https://user:password@…` Basic auth, which the report never shows.
pub(super) fn headers_to_send(request: &v::Request, args: &Verify) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(auth) = args.via.as_ref().and_then(|e| e.auth.as_ref()) {
        headers.push(("authorization".into(), auth.expose().to_string()));
    }
    headers
}

/// The body to send.
pub(super) fn body(data: &Data, default: Value) -> Result<Vec<u8>> {
    match data {
        Data::Default => Ok(serde_json::to_vec(&default).unwrap_or_default()),
        Data::Inline(v) => Ok(serde_json::to_vec(v).unwrap_or_default()),
        Data::File(path) => {
            let text = std::fs::read(path).map_err(|e| {
                Error::Usage(format!("--data @{}: cannot read it ({e})", path.display()))
            })?;
            serde_json::from_slice::<Value>(&text)
                .map_err(|e| Error::Usage(format!("--data @{}: not JSON ({e})", path.display())))?;
            Ok(text)
        }
    }
}

/// Polls Jaeger for trace `id` until every expected component has a span or the deadline
/// passes. Both clients send spans about a second after they end, so they land a little over
/// a second after the request: polls every [`QUICK_POLL`] for the first [`QUICK_FOR`] find them within
/// a tenth of a second of landing (a poll is one small GET by id), then the wait grows by half
/// up to 2 s.
async fn await_trace(
    jaeger: &Jaeger,
    id: u128,
    expected: &[v::Expectation],
    graph: &attribution::GraphNode,
    executor_service: &str,
    deadline: tokio::time::Instant,
    waited: &str,
) -> Result<(Option<Trace>, Vec<model::Hop>, Vec<v::Check>)> {
    // The request is sent: say so, and which trace to look for once Jaeger is back.
    let jaeger_error = |e: crate::jaeger::JaegerError| {
        Error::Reach(format!(
            "{e} (after the request was sent; look for trace {} when it answers again)",
            model::trace_id_text(id)
        ))
    };
    let quick_until = tokio::time::Instant::now() + QUICK_FOR;
    let mut wait = QUICK_POLL;
    let mut last = (
        None,
        Vec::new(),
        v::judge(expected, None, &[], executor_service, waited),
    );
    loop {
        tokio::time::sleep(
            wait.min(deadline.saturating_duration_since(tokio::time::Instant::now())),
        )
        .await;
        if let Some(t) = jaeger.trace(id).await.map_err(jaeger_error)? {
            {
                let hops = attribution::attribute(&t, graph, executor_service);
                let checks = v::judge(expected, Some(&t), &hops, executor_service, waited);
                let done = v::complete(expected, &checks);
                last = (Some(t), hops, checks);
                if done {
                    return Ok(last);
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(last);
        }
        if tokio::time::Instant::now() >= quick_until {
            wait = (wait * 3 / 2).min(Duration::from_secs(2));
        }
    }
}

pub(super) fn seconds_text(d: Duration) -> String {
    let s = d.as_secs_f64();
    match d.as_secs() {
        _ if s.fract() != 0.0 => format!("{s:.1}s"),
        n if n >= 3600 && n % 3600 == 0 => format!("{}h", n / 3600),
        n if n >= 60 && n % 60 == 0 => format!("{}m", n / 60),
        n => format!("{n}s"),
    }
}

/// The SeldonDeployment `target` names (picked on a terminal when it names none) and which of
/// its predictors: (namespace, name, object, predictor name).
pub(super) async fn one_predictor(
    ctx: &Ctx,
    target: &Traced,
    ask: bool,
) -> Result<(String, String, Value, String)> {
    let predictor = target.predictor.as_deref();
    let ns = ctx.namespace().to_string();
    let api = ctx.cluster.discover().await?;
    let name = match target.name.as_deref() {
        Some(n) => n.to_string(),
        None => pick_deployment(ctx, &api).await?,
    };
    let obj = ctx.cluster.get(&api, &ns, &name).await?;
    let pname = c::predictor_name(choose_predictor(&obj, predictor, &ns, &name, ask)?).to_string();
    Ok((ns, name, obj, pname))
}

/// The predictors of `obj`, in order.
fn predictors(obj: &Value) -> impl Iterator<Item = &Value> {
    obj.pointer("/spec/predictors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Predictor `pname` of `obj` (chosen by [`one_predictor`]).
pub(super) fn predictor<'a>(obj: &'a Value, pname: &str) -> &'a Value {
    predictors(obj)
        .find(|p| c::predictor_name(p) == pname)
        .unwrap_or(&Value::Null)
}

pub async fn verify(ctx: &Ctx, args: &Verify, ask: bool) -> Result<ExitStatus> {
    let (ns, name, obj, pname) = one_predictor(ctx, &args.target, ask).await?;
    let p = predictor(&obj, &pname);
    let files =
        crate::commands::v1::read::config_files(&ctx.cluster, std::slice::from_ref(&obj)).await?;
    let st = status::status_with(&obj, "kubectl-seldon-tracing", status::Origin::Live, &files);
    let pst: &PredictorStatus = st
        .predictors
        .iter()
        .find(|x| x.name == pname)
        .ok_or_else(|| object_error(&ns, &name, format!("predictor \"{pname}\" has no status")))?;
    if !pst.engine {
        return Err(object_error(
            &ns,
            &name,
            format!(
                "predictor \"{pname}\" runs without an executor (seldon.io/no-engine: \"true\"): nothing makes the request's spans there and there is no executor to send it through; remove the annotation to trace the graph"
            ),
        ));
    }
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let env = EffectiveEnv::executor(spec, p);
    let executor_service = env
        .go("JAEGER_SERVICE_NAME")
        .unwrap_or("executor")
        .to_string();
    let b3 = pst
        .components
        .iter()
        .find(|x| x.name == "executor")
        .and_then(|x| x.propagation)
        == Some(Propagation::B3);
    let graph = attribution::graph(p)
        .ok_or_else(|| object_error(&ns, &name, format!("predictor \"{pname}\" has no graph")))?;
    let protocol = str_at(spec, &["protocol"]).unwrap_or("seldon");
    let seldon_protocol = protocol.eq_ignore_ascii_case("seldon");
    let grpc = match args.transport {
        Transport::Grpc => true,
        Transport::Rest => false,
        Transport::Auto => {
            str_at(spec, &["transport"]).is_some_and(|t| t.eq_ignore_ascii_case("grpc"))
                && seldon_protocol
        }
    };
    if grpc && !seldon_protocol {
        return Err(object_error(
            &ns,
            &name,
            format!(
                "speaks the {protocol} protocol: its executor serves seldon.protos.Seldon/Predict over gRPC only for the seldon protocol; verify it over REST (drop --grpc)"
            ),
        ));
    }
    let (path, default_body) = request::default_request(protocol, &graph.name);
    let payload = body(&args.data, default_body)?;
    let message = if grpc {
        let json: Value = serde_json::from_slice(&payload).unwrap_or_default();
        Some(
            seldon_message::from_json(&json)
                .map_err(|e| Error::Usage(format!("--data cannot be sent over gRPC: {e}")))?,
        )
    } else {
        None
    };
    let fix = format!("kubectl seldon-tracing enable {name} -n {ns}");
    let expected = v::expectations(pst, &fix);
    let context = TraceContext::new(
        (u128::from(random_u64(1)) << 64) | u128::from(random_u64(2)),
        random_u64(3),
    );
    let headers: BTreeMap<String, String> = context
        .headers(b3)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();

    // Where the request goes, and Jaeger, side by side: neither waits for the other, and the
    // request is sent only once both are known to work.
    let target_side = async {
        Ok::<(Arc<dyn Dial>, String, String), Error>(match &args.via {
            Some(e) if grpc => {
                let dial = e
                    .grpc_dialer(&args.target.access.tls)
                    .map_err(|why| Error::Reach(format!("--via {}: {why}", grpc_url(e))))?;
                (dial, format!("{}{PREDICT}", grpc_url(e)), "--via".into())
            }
            Some(e) => {
                let dial = e
                    .dialer(&args.target.access.tls)
                    .map_err(|why| Error::Reach(format!("--via {}: {why}", e.display())))?;
                let url = format!("{}{path}", e.display());
                (dial, url, "--via".into())
            }
            None => {
                let selector = reach::predictor_selector(&name, &pname);
                let pods = ctx.cluster.pods(&ns, &selector).await?;
                let pod = reach::engine_pod(&pods).map_err(|why| {
                    object_error(
                        &ns,
                        &name,
                        format!("predictor \"{pname}\": {}", why.replace("NAME", &name)),
                    )
                })?;
                let port = if grpc {
                    reach::engine_grpc_port(&pods, &pod)
                } else {
                    EXECUTOR_PORT
                };
                let dial: Arc<dyn Dial> = if args.dry_run {
                    Arc::new(ctx.cluster.forward_unopened(&ns, &pod, port))
                } else {
                    Arc::new(ctx.cluster.forward(&ns, &pod, port).await?)
                };
                let url = if grpc {
                    format!("grpc://localhost:{port}{PREDICT}")
                } else {
                    format!("http://localhost:{port}{path}")
                };
                (dial, url, format!("port-forward to pod {ns}/{pod}"))
            }
        })
    };
    let (target_side, jaeger_side) = tokio::join!(target_side, answering_jaeger(ctx, args));
    // The executor's problems first, as when they were found one after the other.
    let (target, url, through) = target_side?;
    let jaeger = jaeger_side?;
    let request_path = match &args.via {
        Some(e) => format!("{}{path}", e.base_path),
        None => path.clone(),
    };
    let trace_id = model::trace_id_text(context.trace_id);
    let mut report = Verification::to_send(
        &ns,
        &name,
        &pname,
        trace_id.clone(),
        v::Request::to_send(if grpc { v::GRPC } else { "POST" }, url, through, headers),
        &jaeger.at,
    );
    if args.dry_run {
        let text = render::traces::verify::dry_run(
            &report,
            &String::from_utf8_lossy(&payload),
            &expected,
            args.timeout,
        );
        return print(&text).map(|_| ExitStatus::Success);
    }
    let started = tokio::time::Instant::now();
    let deadline = started + args.timeout;
    let mut ask_headers = headers_to_send(&report.request, args);
    let sent = match message {
        Some(msg) => {
            let authority = target.host();
            let called = crate::grpc::unary::<_, SeldonMessage>(
                target.as_ref(),
                &authority,
                PREDICT,
                &ask_headers,
                msg,
                args.timeout,
            )
            .await;
            called.map(|c| Sent::from_called(c, seldon_message::failure, "a FAILURE status"))
        }
        None => {
            ask_headers.push(("content-type".into(), "application/json".into()));
            let request = Ask {
                method: http::Method::POST,
                path: request_path,
                headers: ask_headers,
                body: payload,
            };
            web::exchange(target.as_ref(), &request, args.timeout)
                .await
                .map(|answer| Sent {
                    status: Some(answer.status),
                    grpc_status: None,
                    failed_with: (!(200..300).contains(&answer.status))
                        .then(|| format!("HTTP {}", answer.status)),
                    error: v::answer_error(answer.status, &answer.body),
                })
        }
    };
    let sent = sent.map_err(|f| {
        unanswered(
            &ns,
            &name,
            "prediction",
            &target.describe(),
            f,
            args.timeout,
        )
    })?;
    sent.record(&mut report);
    let waited = seconds_text(args.timeout);
    let (found, hops, checks) = await_trace(
        &jaeger,
        context.trace_id,
        &expected,
        &graph,
        &executor_service,
        deadline,
        &waited,
    )
    .await?;
    conclude(
        ctx,
        report,
        found.as_ref(),
        &hops,
        checks,
        sent.failed_with.as_deref(),
    )
}

/// The verdict printed: the trace's spans and the checks in `report` (each expected one that did
/// not arrive told that the request failed `failed_with`, when it did), passed or failed.
pub(super) fn conclude(
    ctx: &Ctx,
    mut report: Verification,
    found: Option<&Trace>,
    hops: &[model::Hop],
    mut checks: Vec<v::Check>,
    failed_with: Option<&str>,
) -> Result<ExitStatus> {
    if let Some(t) = found {
        report.spans = span_rows(t, hops);
    }
    if let Some(failed_with) = failed_with {
        v::note_failed_request(&mut checks, failed_with);
    }
    let passed = v::passed(&checks);
    report.components = checks;
    report.result = if passed { "passed" } else { "failed" }.into();
    let text = match ctx.output {
        Output::Json | Output::Yaml => {
            render::document(ctx.output, "TraceVerification", &[&report]).unwrap_or_default()
        }
        _ => render::traces::verify::verification(&report, found, hops),
    };
    print(&text)?;
    Ok(if passed {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// On a terminal without a name: pick one of the namespace's SeldonDeployments.
pub(super) async fn pick_deployment(ctx: &Ctx, api: &str) -> Result<String> {
    let q = crate::cluster::Query {
        namespace: Some(ctx.namespace()),
        labels: None,
        name: None,
        chunk_size: 500,
    };
    let page = ctx.cluster.list_page(api, &q, None).await?;
    let names: Vec<String> = page
        .items
        .iter()
        .filter_map(|o| o.pointer("/metadata/name").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    if names.is_empty() {
        return Err(Error::Usage(format!(
            "no SeldonDeployments in namespace {}; pass -n NAMESPACE",
            ctx.namespace()
        )));
    }
    let i = crate::prompt::pick_one("SeldonDeployment (type to search)", &names)?;
    Ok(names[i].clone())
}
