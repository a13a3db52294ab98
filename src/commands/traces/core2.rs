//! `verify --core v2 MODEL` and `verify --core v2 --pipeline PIPELINE`: one Open Inference
//! Protocol request to a Seldon Core 2 Model or Pipeline, routed as users route it (the
//! `seldon-model` header, `NAME` or `NAME.pipeline`, through a port-forward to a ready pod
//! behind the runtime's `seldon-mesh` Service, or `--via URL`), carrying a W3C `traceparent` the
//! plugin makes with the sampled flag; then its trace from Jaeger, judged per part of the path
//! (`domain::traces::core2`). As for v1, nothing is sent before Jaeger answers.
//!
//! `traces --core v2 MODEL|--pipeline PIPELINE`: recent traces, found by the span of the path's
//! first Seldon component whose `url.path` is the inference path (the agent's `seldon-rproxy`
//! for a Model, the pipeline gateway's route span for a Pipeline), as per-hop latency.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::recent::{jaeger_and_window, print_report};
use super::verify::{
    Sent, answering_jaeger, body, conclude, grpc_url, headers_to_send, object_error, random_u64,
    seconds_text, unanswered,
};
use crate::cluster::V2_API;
use crate::commands::context::{Ctx, print};
use crate::commands::v2::read::{InNamespaces, SeldonConfigs};
use crate::domain::json::str_at;
use crate::domain::traces::core2 as judge;
use crate::domain::traces::endpoints::{self as reach, PortRef};
use crate::domain::traces::model::{self, Trace, span_rows};
use crate::domain::traces::oip;
use crate::domain::traces::request::TraceContext;
use crate::domain::traces::stats::{self, Slowest, TracesReport, Window};
use crate::domain::traces::verdict::{self as v, Check, Verification};
use crate::domain::v2::status::RuntimeStatus;
use crate::domain::v2::workloads::Workload;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::invocation::{Core2Target, Traces, Transport, Verify};
use crate::jaeger::Jaeger;
use crate::jaeger::Search;
use crate::render;
use crate::web::{self, Ask, Dial};

/// The Service in front of the runtime's envoy, and its data port (`service_reconciler.go`).
const MESH_SERVICE: &str = "seldon-mesh";
const MESH_PORT: u16 = 80;

/// How often Jaeger is asked for the trace. The agent's and MLServer's batch span processors
/// export every 5 s, so spans land about 5 s after the request; asking every 0.2 s returns
/// within a fifth of a second of the last one.
const POLL: Duration = Duration::from_millis(200);

pub async fn verify(
    ctx: &Ctx,
    args: &Verify,
    target: &Core2Target,
    ask: bool,
) -> Result<ExitStatus> {
    verify_subject(ctx, args, target, ask)
        .await
        .map_err(|e| named(target, e))
}

/// A problem of the Model or Pipeline, worded by its kind (the shared helpers word it as a
/// SeldonDeployment's).
fn named(target: &Core2Target, e: Error) -> Error {
    match e {
        Error::Object {
            namespace,
            name,
            message,
        } => Error::Named {
            kind: if target.pipeline { "pipeline" } else { "model" },
            namespace,
            name,
            message,
        },
        e => e,
    }
}

async fn verify_subject(
    ctx: &Ctx,
    args: &Verify,
    target: &Core2Target,
    ask: bool,
) -> Result<ExitStatus> {
    let grpc = args.transport == Transport::Grpc;
    if grpc && target.pipeline {
        return Err(Error::Usage(
            "--grpc --pipeline: Pipelines are verified over REST (/v2/pipelines/NAME/infer); the pipeline gateway's gRPC server is not checked yet (drop --grpc)".into(),
        ));
    }
    let subject = one_subject(ctx, args.target.name.as_deref(), target, ask).await?;
    let (ns, name) = (subject.ns.clone(), subject.name.clone());
    let (st, kafka) = runtime_status(ctx, &ns, &name, &target.seldon_namespace).await?;
    let (expected, path) = if target.pipeline {
        let server = match pipeline_server(ctx, &subject).await? {
            Ok(wanted) => serving(&st, wanted.as_deref()),
            Err(why) => Err(why),
        };
        let fix = format!("kubectl seldon-tracing enable --core v2 -n {ns} --restart=all --wait");
        (
            judge::pipeline_expectations(&st, server, &fix),
            format!("/v2/pipelines/{name}/infer"),
        )
    } else {
        let server = serving(&st, str_at(&subject.object, &["spec", "server"]));
        let fix =
            format!("kubectl seldon-tracing enable --core v2 -n {ns} --restart=servers --wait");
        (
            judge::expectations(&st, server, &fix),
            format!("/v2/models/{name}/infer"),
        )
    };
    let payload = body(&args.data, judge::default_body())?;
    let message = if grpc {
        let json: Value = serde_json::from_slice(&payload).unwrap_or_default();
        Some(
            oip::request(&name, &json)
                .map_err(|e| Error::Usage(format!("--data cannot be sent over gRPC: {e}")))?,
        )
    } else {
        None
    };
    let mut expected = expected;
    if grpc {
        // Over gRPC the agent's gRPC proxy answers: a server span, and a client span for its
        // call to MLServer (docs/facts/seldon-core-2.md, "The pipeline path").
        expected[0].kind = "agent (gRPC proxy)";
    }
    let context = TraceContext::new(
        (u128::from(random_u64(1)) << 64) | u128::from(random_u64(2)),
        random_u64(3),
    );
    let headers: BTreeMap<String, String> = [
        ("traceparent".to_string(), context.traceparent()),
        ("seldon-model".to_string(), subject.route_header()),
    ]
    .into();
    let target_side = async {
        Ok::<(Arc<dyn Dial>, String, String), Error>(match &args.via {
            Some(e) if grpc => {
                let dial = e
                    .grpc_dialer(&args.target.access.tls)
                    .map_err(|why| Error::Reach(format!("--via {}: {why}", grpc_url(e))))?;
                (
                    dial,
                    format!("{}{}", grpc_url(e), oip::MODEL_INFER),
                    "--via".into(),
                )
            }
            Some(e) => {
                let dial = e
                    .dialer(&args.target.access.tls)
                    .map_err(|why| Error::Reach(format!("--via {}: {why}", e.display())))?;
                (dial, format!("{}{path}", e.display()), "--via".into())
            }
            None => {
                let (pod, port) = mesh_pod(ctx, &ns, &name).await?;
                let dial: Arc<dyn Dial> = if args.dry_run {
                    Arc::new(ctx.cluster.forward_unopened(&ns, &pod, port))
                } else {
                    Arc::new(ctx.cluster.forward(&ns, &pod, port).await?)
                };
                let through = format!("port-forward to pod {ns}/{pod} of Service {MESH_SERVICE}");
                let url = if grpc {
                    // Envoy takes HTTP/2 gRPC on the same port as REST.
                    format!("grpc://localhost:{port}{}", oip::MODEL_INFER)
                } else {
                    format!("http://localhost:{port}{path}")
                };
                (dial, url, through)
            }
        })
    };
    let (target_side, jaeger_side) = tokio::join!(target_side, answering_jaeger(ctx, args));
    let (dial, url, through) = target_side?;
    let jaeger = jaeger_side?;
    let mut report = Verification {
        core: Some("v2"),
        kind: Some(subject.kind()),
        ..Verification::to_send(
            &ns,
            &name,
            "",
            model::trace_id_text(context.trace_id),
            v::Request::to_send(if grpc { v::GRPC } else { "POST" }, url, through, headers),
            &jaeger.at,
        )
    };
    if args.dry_run {
        let text = render::traces::verify::dry_run_core2(
            &report,
            &String::from_utf8_lossy(&payload),
            &expected,
            args.timeout,
        );
        return print(&text).map(|_| ExitStatus::Success);
    }
    let deadline = tokio::time::Instant::now() + args.timeout;
    let mut ask_headers = headers_to_send(&report.request, args);
    let unanswered_here = |f| {
        let e = unanswered(&ns, &name, "inference", &dial.describe(), f, args.timeout);
        match (target.pipeline, e) {
            (true, Error::Object { message, .. }) => object_error(
                &ns,
                &name,
                format!("{message}; {}", kafka_hint(&ns, &kafka)),
            ),
            (_, e) => e,
        }
    };
    let sent = if let Some(msg) = message {
        let called = crate::grpc::unary::<_, oip::ModelInferResponse>(
            dial.as_ref(),
            &dial.host(),
            oip::MODEL_INFER,
            &ask_headers,
            msg,
            args.timeout,
        )
        .await
        .map_err(unanswered_here)?;
        Sent::from_called(called, |_| None, "")
    } else {
        ask_headers.push(("content-type".into(), "application/json".into()));
        let request_path = match &args.via {
            Some(e) => format!("{}{path}", e.base_path),
            None => path.clone(),
        };
        let request = Ask {
            method: http::Method::POST,
            path: request_path,
            headers: ask_headers,
            body: payload,
        };
        let answer = web::exchange(dial.as_ref(), &request, args.timeout)
            .await
            .map_err(unanswered_here)?;
        if target.pipeline && answer.status == 500 && answer.body.is_empty() {
            // kafkamanager.go's Infer failed: no partition of the pipeline's topics within 10 s,
            // or the record could not be produced.
            return Err(object_error(
                &ns,
                &name,
                format!(
                    "the pipeline gateway answered 500 with no body: it could not hand the request to Kafka; {}",
                    kafka_hint(&ns, &kafka)
                ),
            ));
        }
        Sent {
            status: Some(answer.status),
            grpc_status: None,
            error: match (answer.status, answer.body.is_empty()) {
                // Envoy's answer when no route matches: nothing serves it behind the mesh.
                (404, true) => Some(format!(
                    "no route for seldon-model: {} (is the {} loaded? `kubectl get {} {name} -n {ns}`)",
                    subject.route_header(),
                    subject.kind(),
                    subject.resource()
                )),
                (status, _) => v::answer_error(status, &answer.body),
            },
            failed_with: (!(200..300).contains(&answer.status))
                .then(|| format!("HTTP {}", answer.status)),
        }
    };
    sent.record(&mut report);
    let waited = seconds_text(args.timeout);
    let (found, checks) =
        await_trace(&jaeger, context.trace_id, &expected, deadline, &waited).await?;
    let hops = found.as_ref().map(judge::hops).unwrap_or_default();
    conclude(
        ctx,
        report,
        found.as_ref(),
        &hops,
        checks,
        sent.failed_with.as_deref(),
    )
}

/// The attribute otelhttp v0.62.0 gives a server span for the request's path, before the agent
/// rewrites it to the internal name (docs/facts/seldon-core-2.md).
const PATH_ATTRIBUTE: &str = "url.path";

/// What `verify`/`traces --core v2` is about: a Model, or a Pipeline (`--pipeline`).
struct Subject {
    ns: String,
    name: String,
    pipeline: bool,
    object: Value,
}

impl Subject {
    fn kind(&self) -> &'static str {
        if self.pipeline { "Pipeline" } else { "Model" }
    }

    /// The plural of its resource, for kubectl.
    fn resource(&self) -> &'static str {
        if self.pipeline {
            "pipelines.mlops.seldon.io"
        } else {
            "models.mlops.seldon.io"
        }
    }

    /// The `seldon-model` header envoy routes it by (`NAME.pipeline` for a pipeline).
    fn route_header(&self) -> String {
        if self.pipeline {
            format!("{}.pipeline", self.name)
        } else {
            self.name.clone()
        }
    }
}

/// The Model or Pipeline `args` names (picked on a terminal), checked to exist.
async fn one_subject(
    ctx: &Ctx,
    name: Option<&str>,
    target: &Core2Target,
    ask: bool,
) -> Result<Subject> {
    let ns = ctx.namespace().to_string();
    let mut subject = Subject {
        ns: ns.clone(),
        name: String::new(),
        pipeline: target.pipeline,
        object: Value::Null,
    };
    subject.name = match name {
        Some(n) => n.to_string(),
        None => pick(ctx, &subject, ask).await?,
    };
    let (resource, kind, name) = (subject.resource(), subject.kind(), &subject.name);
    let plural = resource.split('.').next().unwrap_or_default();
    let path = format!("/apis/{V2_API}/namespaces/{ns}/{plural}/{name}");
    subject.object = ctx
        .cluster
        .get_optional(&path, &ns, name)
        .await?
        .ok_or_else(|| {
            object_error(
                &ns,
                name,
                format!(
                    "is not a Seldon Core 2 {kind} in namespace {ns}; list them with `kubectl get {resource} -n {ns}`"
                ),
            )
        })?;
    Ok(subject)
}

/// The Server of a Pipeline's first step (`spec.steps[0].name` is the step's Model): Ok(None)
/// when that Model names none; Err with why it is not known.
async fn pipeline_server(
    ctx: &Ctx,
    p: &Subject,
) -> Result<std::result::Result<Option<String>, String>> {
    let steps = p.object["spec"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let Some(first) = steps.first().and_then(|s| s["name"].as_str()) else {
        return Ok(Err("the Pipeline has no steps".into()));
    };
    let ns = &p.ns;
    let path = format!("/apis/{V2_API}/namespaces/{ns}/models/{first}");
    Ok(match ctx.cluster.get_optional(&path, ns, first).await? {
        Some(m) => Ok(str_at(&m, &["spec", "server"]).map(str::to_string)),
        None => Err(format!(
            "its step {first} names Model {first}, which does not exist in namespace {ns}"
        )),
    })
}

/// Where to look when a pipeline request goes unanswered: its answer comes back over Kafka.
fn kafka_hint(ns: &str, kafka: &Option<String>) -> String {
    let brokers = match kafka {
        Some(b) => format!(" ({b}, kafkaConfig bootstrap.servers)"),
        None => String::new(),
    };
    format!(
        "the pipeline gateway answers only when the last step's output comes back over Kafka: check that Kafka{brokers} is up and that seldon-modelgateway and seldon-dataflow-engine run (`kubectl logs deploy/seldon-pipelinegateway -n {ns}`)"
    )
}

/// The other namespaces with a Model (or Pipeline) named like `s` (none when they may not be
/// listed cluster-wide).
async fn namespaces_also_serving(ctx: &Ctx, s: &Subject) -> Vec<String> {
    let (ns, name) = (s.ns.as_str(), s.name.as_str());
    let plural = s.resource().split('.').next().unwrap_or_default();
    let path = format!(
        "/apis/{V2_API}/{plural}?fieldSelector={}",
        web::query_encoded(&format!("metadata.name={name}"))
    );
    let Ok(Some(list)) = ctx.cluster.get_optional(&path, "", name).await else {
        return Vec::new();
    };
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| str_at(m, &["metadata", "namespace"]))
        .filter(|n| *n != ns)
        .map(str::to_string)
        .collect()
}

/// `traces --core v2 MODEL`: the Model's traces of the last `--since`, per hop.
pub async fn traces(
    ctx: &Ctx,
    args: &Traces,
    target: &Core2Target,
    ask: bool,
) -> Result<ExitStatus> {
    traces_of(ctx, args, target, ask)
        .await
        .map_err(|e| named(target, e))
}

async fn traces_of(
    ctx: &Ctx,
    args: &Traces,
    target: &Core2Target,
    ask: bool,
) -> Result<ExitStatus> {
    let subject = one_subject(ctx, args.target.name.as_deref(), target, ask).await?;
    let elsewhere = namespaces_also_serving(ctx, &subject).await;
    let (kind, name) = (subject.kind(), subject.name.clone());
    let (service, operation, path) = if subject.pipeline {
        (
            judge::PIPELINE_GATEWAY_SERVICE,
            judge::PIPELINE_OPERATION,
            format!("/v2/pipelines/{name}/infer"),
        )
    } else {
        (
            judge::AGENT_SERVICE,
            judge::RPROXY_OPERATION,
            format!("/v2/models/{name}/infer"),
        )
    };
    if !elsewhere.is_empty() {
        crate::say!(
            "Warning: a {kind} {name} also exists in namespace {}: the spans of {service} do not name the namespace, so its traces in the same Jaeger are counted here too",
            elsewhere.join(", ")
        );
    }
    let (jaeger, start_us, end_us) = jaeger_and_window(ctx, args).await?;
    let search = Search {
        service: service.into(),
        operation: Some(operation.into()),
        tags: vec![(PATH_ATTRIBUTE.into(), path.clone())],
        start_us,
        end_us,
        limit: args.limit,
        min_duration_us: args.min_duration.map(|d| d.as_micros() as i64),
    };
    let found = jaeger
        .search_traces(&search)
        .await
        .map_err(|e| Error::Reach(e.to_string()))?;
    let traces = stats::merge(found, args.limit as usize);
    if let Some(note) = judge::agent_only_note(&traces).filter(|_| !subject.pipeline) {
        crate::say!("Note: {note}");
    }
    let slowest = stats::slowest(&traces);
    let slowest_hops = slowest.map(judge::hops).unwrap_or_default();
    let summary = TracesReport {
        core: Some("v2"),
        kind: Some(kind),
        namespace: subject.ns.clone(),
        name,
        predictor: String::new(),
        jaeger: jaeger.at.clone(),
        window: Window {
            since: seconds_text(args.since),
            start_us,
            end_us,
        },
        found_by: format!("{service}'s {operation} spans with {PATH_ATTRIBUTE} {path}"),
        search: jaeger.search_words().into(),
        traces: traces.len(),
        hops: stats::hop_stats_by(&traces, judge::hops),
        slowest: slowest.map(|t| Slowest {
            trace_id: model::trace_id_text(t.id),
            duration_us: stats::trace_duration(t),
            spans: span_rows(t, &slowest_hops),
        }),
    };
    print_report(ctx, &summary, slowest, &slowest_hops)
}

/// The status of the runtime of `ns` (the one the model's Server belongs to), read as
/// `status --core v2` reads it, and its Kafka brokers (`kafkaConfig` `bootstrap.servers`, the
/// runtime's over its SeldonConfig's).
async fn runtime_status(
    ctx: &Ctx,
    ns: &str,
    model: &str,
    seldon_namespace: &str,
) -> Result<(RuntimeStatus, Option<String>)> {
    let Some(runtimes) = ctx.cluster.seldon_runtimes(Some(ns)).await? else {
        return Err(Error::Core2Missing {
            server: ctx.cluster.server.clone(),
        });
    };
    let Some(rt) = runtimes.first() else {
        return Err(object_error(
            ns,
            model,
            format!(
                "namespace {ns} has no SeldonRuntime, so nothing serves it there; see `kubectl seldon-tracing status --core v2 -A`"
            ),
        ));
    };
    let configs = SeldonConfigs::new(seldon_namespace);
    let namespaces = std::collections::BTreeSet::from([ns.to_string()]);
    let (config, around) = tokio::join!(configs.of(ctx, rt), InNamespaces::read(ctx, &namespaces));
    let config = config?;
    let brokers = |o: &Value| {
        o.pointer("/spec/config/kafkaConfig/bootstrap.servers")
            .and_then(Value::as_str)
            .filter(|b| !b.is_empty())
            .map(str::to_string)
    };
    let kafka = brokers(rt).or_else(|| config.found().and_then(brokers));
    Ok((
        around?.status_of(rt, &config, seldon_namespace, None),
        kafka,
    ))
}

/// The workload of the Server that serves the model: `spec.server`, else the namespace's only
/// Server; why it is not known otherwise.
fn serving<'a>(
    st: &'a RuntimeStatus,
    wanted: Option<&str>,
) -> std::result::Result<&'a Workload, String> {
    let servers: Vec<&Workload> = st.workloads.iter().filter(|w| w.server.is_some()).collect();
    match wanted {
        Some(s) => servers
            .iter()
            .copied()
            .find(|w| w.server.as_deref() == Some(s))
            .ok_or_else(|| {
                format!(
                    "its Server {s} has no StatefulSet in namespace {}, so no MLServer runs it",
                    st.namespace
                )
            }),
        None => match servers.as_slice() {
            [one] => Ok(one),
            [] => Err(format!("no Server runs in namespace {}", st.namespace)),
            many => Err(format!(
                "it names no spec.server, so the scheduler chose among {}: which MLServer serves it is not known here",
                many.iter()
                    .filter_map(|w| w.server.as_deref())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
    }
}

/// A ready pod behind Service `seldon-mesh` and the port its data port leads to.
async fn mesh_pod(ctx: &Ctx, ns: &str, model: &str) -> Result<(String, u16)> {
    let fail = |why: String| {
        object_error(
            ns,
            model,
            format!(
                "Service {MESH_SERVICE}: {why}; or give --via URL (an ingress, your own port-forward)"
            ),
        )
    };
    let svc = ctx
        .cluster
        .service(ns, MESH_SERVICE)
        .await?
        .ok_or_else(|| {
            fail(format!(
                "not found in namespace {ns} (the runtime's operator makes it)"
            ))
        })?;
    let (_, target) = reach::query_port(&svc, Some(&PortRef::Number(MESH_PORT))).map_err(fail)?;
    let selector = reach::selector(&svc).ok_or_else(|| fail("it selects no pods".into()))?;
    let pods = ctx.cluster.pods(ns, &selector).await?;
    let pod = reach::newest_ready(&pods).ok_or_else(|| {
        fail(format!(
            "none of its {} pods ({selector}) is ready",
            pods.len()
        ))
    })?;
    let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
    let port = reach::container_port(pod, &target).ok_or_else(|| {
        fail(format!(
            "its targetPort {target:?} is not a named port of pod {name}"
        ))
    })?;
    Ok((name, port))
}

/// Asks Jaeger for trace `id` every [`POLL`] until every expected part has spans or the
/// deadline passes.
async fn await_trace(
    jaeger: &Jaeger,
    id: u128,
    expected: &[judge::Expectation],
    deadline: tokio::time::Instant,
    waited: &str,
) -> Result<(Option<Trace>, Vec<Check>)> {
    let jaeger_error = |e: crate::jaeger::JaegerError| {
        Error::Reach(format!(
            "{e} (after the request was sent; look for trace {} when it answers again)",
            model::trace_id_text(id)
        ))
    };
    let mut last = (None, judge::judge(expected, None, waited));
    loop {
        tokio::time::sleep(
            POLL.min(deadline.saturating_duration_since(tokio::time::Instant::now())),
        )
        .await;
        if let Some(t) = jaeger.trace(id).await.map_err(jaeger_error)? {
            let checks = judge::judge(expected, Some(&t), waited);
            let done = judge::complete(expected, &checks);
            last = (Some(t), checks);
            if done {
                return Ok(last);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(last);
        }
    }
}

/// On a terminal without a name: pick one of the namespace's Models (or Pipelines).
async fn pick(ctx: &Ctx, s: &Subject, ask: bool) -> Result<String> {
    let ns = ctx.namespace();
    let (kind, resource) = (s.kind(), s.resource());
    let plural = resource.split('.').next().unwrap_or_default();
    let list = ctx
        .cluster
        .get_optional(&format!("/apis/{V2_API}/namespaces/{ns}/{plural}"), ns, "")
        .await?
        .unwrap_or(Value::Null);
    let names: Vec<String> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o.pointer("/metadata/name").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    if names.is_empty() || !ask {
        return Err(Error::Usage(format!(
            "no Seldon Core 2 {kind} named and none in namespace {ns} to pick from; pass NAME -n NAMESPACE"
        )));
    }
    let i = crate::prompt::pick_one(&format!("{kind} (type to search)"), &names)?;
    Ok(names[i].clone())
}
