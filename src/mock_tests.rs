//! In-process tests of the client logic against a mock API server (`tower-test`), kube-rs'
//! own pattern: the test plays the server, answering each request the plugin sends, so the
//! conflict loop, the retry layer, pagination and error mapping are checked request by request
//! without a cluster. Time is paused, so backoff waits cost nothing and can be measured.

use std::time::Duration;

use http::{Request, Response};
use kube::client::Body;
use serde_json::{Value, json};
use tokio::time::Instant;
use tower_test::mock::{Handle, SendResponse};

use crate::cluster::{Applied, Cluster, Query, SHED_RETRIES};
use crate::commands::v1::write::Job;
use crate::domain::v1::plan::Intent;
use crate::error::Error;
use crate::options::DryRun;
use crate::render::v1::WriteResult;

const API: &str = "machinelearning.seldon.io/v1";

type Server = Handle<Request<Body>, Response<Body>>;

fn cluster() -> (Cluster, Server) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (
        Cluster::over(service, "https://mock", Duration::ZERO),
        handle,
    )
}

/// The next request: method, path with query, and JSON body (Null when empty).
async fn next(server: &mut Server) -> (String, String, Value, SendResponse<Response<Body>>) {
    let (req, send) = server.next_request().await.expect("a request");
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let bytes = req.into_body().collect_bytes().await.expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (method, uri, body, send)
}

fn reply(send: SendResponse<Response<Body>>, code: u16, body: &Value) {
    let resp = Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("response");
    send.send_response(resp);
}

fn failure(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
           "reason": reason, "message": message, "code": code})
}

fn iris(rv: &str, replicas: u32) -> Value {
    json!({
        "apiVersion": API, "kind": "SeldonDeployment",
        "metadata": {"name": "iris", "namespace": "models", "resourceVersion": rv},
        "spec": {"predictors": [{
            "name": "default", "replicas": replicas,
            "graph": {"name": "classifier", "type": "MODEL"},
            "componentSpecs": [{"spec": {"containers": [{"name": "classifier", "image": "me/iris:1"}]}}]
        }]}
    })
}

fn env_names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str().map(String::from))
        .collect()
}

/// Waits for the mock server's task and checks that the client sent nothing after it: `why`
/// says what an extra request would have meant.
async fn nothing_more(server_side: tokio::task::JoinHandle<Server>, why: &str) {
    let mut server = server_side.await.expect("server side");
    assert!(
        tokio::time::timeout(Duration::from_millis(50), server.next_request())
            .await
            .is_err(),
        "{why}"
    );
}

/// The server side of a conflict: refuses the apply answered by `send` with 409, expects a
/// fresh read (answered with version 2, whose replicas another writer set to 3) and returns the
/// apply that follows, with its answer still to send.
async fn refuse_then_reread(
    send: SendResponse<Response<Body>>,
    server: &mut Server,
) -> (Value, SendResponse<Response<Body>>) {
    reply(
        send,
        409,
        &failure(409, "Conflict", "the object has been modified"),
    );
    let (m, _, _, send) = next(server).await;
    assert_eq!(m, "GET", "a conflict must be followed by a fresh read");
    reply(send, 200, &iris("2", 3));
    let (m, _, body, send) = next(server).await;
    assert_eq!(m, "PATCH");
    (body, send)
}

#[tokio::test]
async fn a_conflict_rereads_replans_and_applies_on_the_new_version() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let (m, uri, _, send) = next(&mut server).await;
        assert_eq!(
            (m.as_str(), uri.as_str()),
            (
                "GET",
                "/apis/machinelearning.seldon.io/v1/namespaces/models/seldondeployments/iris"
            )
        );
        reply(send, 200, &iris("1", 1));
        let (m, uri, body, send) = next(&mut server).await;
        assert_eq!(m, "PATCH");
        assert!(
            uri.contains("fieldManager=kubectl-seldon-tracing") && uri.contains("force=true"),
            "{uri}"
        );
        assert_eq!(body["metadata"]["resourceVersion"], "1");
        // Someone else wrote in between: the server refuses the stale resourceVersion.
        let (body, send) = refuse_then_reread(send, &mut server).await;
        // Planned again on version 2: its CAS guard and the other writer's replicas.
        assert_eq!(body["metadata"]["resourceVersion"], "2");
        assert_eq!(body["spec"]["predictors"][0]["replicas"], 3);
        let exec = &body["spec"]["predictors"][0]["svcOrchSpec"]["env"];
        assert!(
            env_names(exec).contains(&"JAEGER_SAMPLER_TYPE".to_string()),
            "{exec}"
        );
        reply(send, 200, &body);
        server
    });
    let intent = enable();
    let out = job(&cluster, &intent).one("models", "iris").await;
    assert_eq!(out.result, WriteResult::Changed, "{:?}", out.error);
    nothing_more(server_side, "nothing more was sent").await;
}

/// `--all` and `-l` list the objects: the first apply of each is planned on the listed object
/// (no read of its own), and only a conflict reads it again.
#[tokio::test]
async fn a_listed_object_is_applied_without_a_read_until_it_conflicts() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let (m, _, body, send) = next(&mut server).await;
        assert_eq!(m, "PATCH", "the listed object needs no read first");
        assert_eq!(body["metadata"]["resourceVersion"], "1");
        let (body, send) = refuse_then_reread(send, &mut server).await;
        assert_eq!(body["metadata"]["resourceVersion"], "2");
        assert_eq!(body["spec"]["predictors"][0]["replicas"], 3);
        reply(send, 200, &body);
        server
    });
    let intent = enable();
    let mut listed = crate::commands::v1::write::Listed::new();
    listed.insert(("models".into(), "iris".into()), iris("1", 1));
    let job = Job {
        listed: Some(&listed),
        ..job(&cluster, &intent)
    };
    let out = job.one("models", "iris").await;
    assert_eq!(out.result, WriteResult::Changed, "{:?}", out.error);
    nothing_more(server_side, "nothing more was sent").await;
}

#[tokio::test]
async fn endless_conflicts_stop_after_five_attempts_with_a_clear_error() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        for rv in 1..=5 {
            let (m, _, _, send) = next(&mut server).await;
            assert_eq!(m, "GET");
            reply(send, 200, &iris(&rv.to_string(), 1));
            let (m, _, _, send) = next(&mut server).await;
            assert_eq!(m, "PATCH");
            reply(send, 409, &failure(409, "Conflict", "modified"));
        }
    });
    let intent = Intent::Disable;
    let out = job(&cluster, &intent).one("models", "iris").await;
    server_side.await.expect("server side");
    assert_eq!(out.result, WriteResult::Failed);
    assert_eq!(
        out.error.as_deref(),
        Some(
            "seldondeployment \"models/iris\" kept changing while it was being updated (5 conflicts in a row); try again"
        )
    );
}

#[tokio::test(start_paused = true)]
async fn shed_requests_are_resent_with_a_growing_jittered_wait() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let mut at = Vec::new();
        for code in [429u16, 503, 504] {
            let (m, _, _, send) = next(&mut server).await;
            assert_eq!(m, "GET");
            at.push(Instant::now());
            reply(send, code, &failure(code, "TooManyRequests", "shed"));
        }
        let (_, _, _, send) = next(&mut server).await;
        at.push(Instant::now());
        reply(send, 200, &iris("1", 1));
        at
    });
    let obj = cluster
        .get(API, "models", "iris")
        .await
        .expect("the fourth try answers");
    assert_eq!(obj["metadata"]["resourceVersion"], "1");
    let at = server_side.await.expect("server side");
    let waits: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    // 250 ms doubling, plus up to twice as much at random, never over 4 s.
    let bounds = [(250, 750), (500, 1500), (1000, 3000)];
    for (w, (lo, hi)) in waits.iter().zip(bounds) {
        let ms = w.as_millis();
        assert!(
            (lo..=hi).contains(&ms),
            "waited {ms} ms, expected {lo}..={hi}: {waits:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn requests_shed_together_come_back_at_different_times() {
    const N: usize = 8;
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        for _ in 0..N {
            let (_, send) = server.next_request().await.expect("a request");
            reply(send, 429, &failure(429, "TooManyRequests", "shed"));
        }
        let mut resent = Vec::new();
        for _ in 0..N {
            let (_, send) = server.next_request().await.expect("a resend");
            resent.push(Instant::now());
            reply(send, 200, &iris("1", 1));
        }
        resent
    });
    let gets = (0..N).map(|_| cluster.get(API, "models", "iris"));
    for r in futures::future::join_all(gets).await {
        r.expect("answered after one resend");
    }
    let mut resent = server_side.await.expect("server side");
    resent.sort();
    resent.dedup();
    // The same wait for all would bring them back together, to be shed together again.
    assert!(
        resent.len() >= N - 1,
        "{} distinct resend times of {N}",
        resent.len()
    );
}

#[tokio::test(start_paused = true)]
async fn shedding_that_never_ends_gives_up_after_the_retry_budget() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let mut seen = 0;
        while let Ok(Some((_, send))) =
            tokio::time::timeout(Duration::from_secs(60), server.next_request()).await
        {
            seen += 1;
            reply(send, 429, &failure(429, "TooManyRequests", "shed"));
        }
        seen
    });
    let started = Instant::now();
    let err = cluster.get(API, "models", "iris").await.unwrap_err();
    let took = started.elapsed();
    drop(cluster);
    assert_eq!(server_side.await.expect("server side"), SHED_RETRIES + 1);
    assert!(err.to_string().contains("(429)"), "{err}");
    // Ten waits of at most 4 s each.
    assert!(took <= Duration::from_secs(40), "{took:?}");
}

#[tokio::test]
async fn a_list_follows_continue_tokens_page_by_page() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let (_, uri, _, send) = next(&mut server).await;
        assert!(
            uri.starts_with("/apis/machinelearning.seldon.io/v1/seldondeployments?"),
            "{uri}"
        );
        assert!(
            uri.contains("limit=2") && !uri.contains("continue="),
            "{uri}"
        );
        reply(
            send,
            200,
            &json!({"items": [iris("1", 1), iris("2", 1)], "metadata": {"continue": "page-2"}}),
        );
        let (_, uri, _, send) = next(&mut server).await;
        assert!(
            uri.contains("limit=2") && uri.contains("continue=page-2"),
            "{uri}"
        );
        reply(
            send,
            200,
            &json!({"items": [iris("3", 1)], "metadata": {"continue": ""}}),
        );
    });
    let q = Query {
        namespace: None,
        chunk_size: 2,
        ..Query::default()
    };
    let mut pages = Vec::new();
    crate::commands::v1::read::for_each_page(&cluster, API, q, |items| {
        pages.push(items.len());
        Ok(())
    })
    .await
    .expect("list");
    server_side.await.expect("server side");
    assert_eq!(pages, [2, 1]);
}

#[tokio::test]
async fn refusals_become_one_line_errors_naming_the_object_and_the_fix() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let answers = [
            (403, "Forbidden", "user \"dev\" cannot get resource"),
            (404, "NotFound", "seldondeployments \"iris\" not found"),
            (410, "Expired", "The provided continue parameter is too old"),
            (403, "Forbidden", "user \"dev\" cannot patch resource"),
        ];
        for (code, reason, message) in answers {
            let (_, _, _, send) = next(&mut server).await;
            reply(send, code, &failure(code, reason, message));
        }
    });
    let e = cluster.get(API, "models", "iris").await.unwrap_err();
    assert!(
        matches!(&e, Error::Forbidden { verb, namespace, .. } if verb == "get" && namespace == "models"),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("kubectl auth can-i get seldondeployments -n models")
    );
    let e = cluster.get(API, "models", "iris").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "seldondeployment \"iris\" not found in namespace \"models\"; list them with `kubectl seldon-tracing list -n models` or pass -n NAMESPACE"
    );
    let q = Query {
        namespace: Some("models"),
        chunk_size: 500,
        ..Query::default()
    };
    let e = cluster.list_page(API, &q, Some("stale")).await.unwrap_err();
    assert!(matches!(e, Error::ListExpired { .. }), "{e:?}");
    assert!(e.to_string().contains("--chunk-size 0"), "{e}");
    let e = match cluster
        .apply(
            API,
            "models",
            "iris",
            &iris("1", 1),
            "kubectl-seldon-tracing",
            false,
        )
        .await
    {
        Err(e) => e,
        Ok(Applied::Done(_) | Applied::Conflict) => panic!("a 403 must be an error"),
    };
    assert!(
        matches!(&e, Error::Forbidden { verb, .. } if verb == "patch"),
        "{e:?}"
    );
    server_side.await.expect("server side");
    assert!(!e.to_string().contains('\n'));
}

#[tokio::test]
async fn deployments_are_one_paged_list_and_a_403_means_unknown() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let (_, uri, _, send) = next(&mut server).await;
        assert!(
            uri.starts_with("/apis/apps/v1/namespaces/models/deployments?"),
            "{uri}"
        );
        assert!(uri.contains("labelSelector=seldon-deployment-id"), "{uri}");
        reply(
            send,
            200,
            &json!({"items": [{"metadata": {"name": "a"}}], "metadata": {"continue": "2"}}),
        );
        let (_, uri, _, send) = next(&mut server).await;
        assert!(uri.contains("continue=2"), "{uri}");
        reply(send, 200, &json!({"items": [{"metadata": {"name": "b"}}]}));
        let (_, uri, _, send) = next(&mut server).await;
        assert!(uri.starts_with("/apis/apps/v1/deployments?"), "{uri}");
        reply(
            send,
            403,
            &failure(403, "Forbidden", "cannot list deployments"),
        );
    });
    let some = cluster
        .seldon_deployments(Some("models"), None)
        .await
        .expect("list");
    assert_eq!(some.map(|d| d.len()), Some(2));
    let none = cluster
        .seldon_deployments(None, None)
        .await
        .expect("a 403 is not an error");
    assert!(none.is_none());
    server_side.await.expect("server side");
}

#[tokio::test]
async fn config_maps_are_one_get_each_and_a_404_or_403_is_an_answer() {
    use crate::domain::v1::config_file::mount::{ConfigMaps, File, Place, file};
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let mut seen = Vec::new();
        for _ in 0..3 {
            let (m, uri, _, send) = next(&mut server).await;
            assert_eq!(m, "GET");
            match uri.as_str() {
                "/api/v1/namespaces/models/configmaps/found" => reply(
                    send,
                    200,
                    &json!({"metadata": {"name": "found"}, "data": {"c.yaml": "logging: true"}}),
                ),
                "/api/v1/namespaces/models/configmaps/gone" => reply(
                    send,
                    404,
                    &failure(404, "NotFound", "configmaps \"gone\" not found"),
                ),
                "/api/v1/namespaces/other/configmaps/found" => reply(
                    send,
                    403,
                    &failure(403, "Forbidden", "cannot get configmaps"),
                ),
                other => panic!("unexpected {other}"),
            }
            seen.push(uri);
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 3);
        server
    });
    let pair = |ns: &str, n: &str| (ns.to_string(), n.to_string());
    let maps: ConfigMaps = cluster
        .config_maps(&[
            pair("models", "found"),
            pair("models", "gone"),
            pair("models", "found"),
            pair("other", "found"),
        ])
        .await
        .expect("answers");
    nothing_more(server_side, "a ConfigMap named twice is read once").await;
    let at = |name: &str| {
        Place::ConfigMaps(vec![crate::domain::v1::config_file::mount::Candidate {
            name: name.into(),
            key: "c.yaml".into(),
            optional: false,
            listed: false,
        }])
    };
    assert!(
        matches!(file(&maps, "models", &at("found")), File::Text { text, .. } if text == "logging: true")
    );
    assert!(matches!(
        file(&maps, "models", &at("gone")),
        File::MountFails(_)
    ));
    assert!(
        matches!(file(&maps, "other", &at("found")), File::Unknown(why) if why.contains("you may not get configmaps in namespace \"other\""))
    );
}

fn b3() -> Intent {
    Intent::Enable {
        sampler: None,
        agent_host: None,
        agent_port: None,
        propagation: Some(crate::domain::v1::clients::Propagation::B3),
        collector: None,
    }
}

fn iris_with_uid(rv: &str) -> Value {
    let mut obj = iris(rv, 1);
    obj["metadata"]["uid"] = json!("u-1");
    obj
}

const IRIS: &str = "/apis/machinelearning.seldon.io/v1/namespaces/models/seldondeployments/iris";
const IRIS_CM: &str = "/api/v1/namespaces/models/configmaps/iris-tracing";

#[tokio::test]
async fn the_config_map_is_written_before_the_object_and_a_409_on_it_starts_over() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let (m, uri, _, send) = next(&mut server).await;
        assert_eq!((m.as_str(), uri.as_str()), ("GET", IRIS));
        reply(send, 200, &iris_with_uid("1"));
        let (m, uri, _, send) = next(&mut server).await;
        assert_eq!((m.as_str(), uri.as_str()), ("GET", IRIS_CM));
        reply(
            send,
            404,
            &failure(404, "NotFound", "configmaps \"iris-tracing\" not found"),
        );
        // Created by someone else meanwhile: the apply is refused, and everything is read again.
        let (m, uri, body, send) = next(&mut server).await;
        assert_eq!(m, "PATCH");
        assert!(uri.starts_with(IRIS_CM), "{uri}");
        assert!(body["metadata"].get("resourceVersion").is_none(), "{body}");
        reply(send, 409, &failure(409, "Conflict", "already exists"));
        let (m, uri, _, send) = next(&mut server).await;
        assert_eq!((m.as_str(), uri.as_str()), ("GET", IRIS));
        reply(send, 200, &iris_with_uid("2"));
        let (m, uri, _, send) = next(&mut server).await;
        assert_eq!((m.as_str(), uri.as_str()), ("GET", IRIS_CM));
        reply(
            send,
            200,
            &json!({"metadata": {"name": "iris-tracing", "resourceVersion": "7",
                "labels": {"app.kubernetes.io/managed-by": "kubectl-seldon-tracing"}}, "data": {}}),
        );
        let (m, uri, cm, send) = next(&mut server).await;
        assert_eq!(m, "PATCH");
        assert!(
            uri.starts_with(IRIS_CM) && uri.contains("force=true"),
            "{uri}"
        );
        assert_eq!(cm["metadata"]["resourceVersion"], "7");
        assert_eq!(cm["metadata"]["ownerReferences"][0]["uid"], "u-1");
        let data = cm["data"].as_object().expect("data");
        assert_eq!(data.len(), 1);
        let (key, text) = data.iter().next().expect("one key");
        assert!(
            text.as_str()
                .unwrap_or_default()
                .contains("propagation: b3")
        );
        reply(send, 200, &cm);
        // Only then the object, reading the key just written.
        let (m, uri, body, send) = next(&mut server).await;
        assert_eq!(m, "PATCH");
        assert!(uri.starts_with(IRIS), "{uri}");
        assert_eq!(body["metadata"]["resourceVersion"], "2");
        let model = &body["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["containers"][0];
        assert!(
            model
                .to_string()
                .contains(&format!("/etc/seldon-tracing/{key}")),
            "{model}"
        );
        reply(send, 200, &body);
        server
    });
    let intent = b3();
    let out = job(&cluster, &intent).one("models", "iris").await;
    assert_eq!(out.result, WriteResult::Changed, "{:?}", out.error);
    nothing_more(server_side, "nothing more was sent").await;
}

#[tokio::test]
async fn a_refused_config_map_leaves_the_object_untouched() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let (_, _, _, send) = next(&mut server).await;
        reply(send, 200, &iris_with_uid("1"));
        let (_, _, _, send) = next(&mut server).await;
        reply(send, 404, &failure(404, "NotFound", "not found"));
        let (m, _, _, send) = next(&mut server).await;
        assert_eq!(m, "PATCH");
        reply(
            send,
            403,
            &failure(403, "Forbidden", "configmaps \"iris-tracing\" is forbidden"),
        );
        server
    });
    let intent = b3();
    let out = job(&cluster, &intent).one("models", "iris").await;
    assert_eq!(out.result, WriteResult::Failed);
    let e = out.error.expect("error");
    assert!(
        e.contains("[\"patch\"] on resources [\"configmaps\"]")
            && e.contains("nothing was changed"),
        "{e}"
    );
    nothing_more(
        server_side,
        "the object must not be written after its ConfigMap was refused",
    )
    .await;
}

/// Newline-delimited watch events as one response body that then ends (the server's timeout).
fn events(send: SendResponse<Response<Body>>, events: &[Value]) {
    let body: String = events.iter().map(|e| format!("{e}\n")).collect();
    let resp = Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from(body.into_bytes()))
        .expect("response");
    send.send_response(resp);
}

#[tokio::test(start_paused = true)]
async fn a_watch_lists_then_follows_versions_bookmarks_410s_and_dropped_connections() {
    use crate::cluster::{CollectionChange, Resource};
    use futures::StreamExt;
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let (_, uri, _, send) = next(&mut server).await;
        assert!(
            uri.starts_with("/apis/apps/v1/namespaces/models/deployments?"),
            "{uri}"
        );
        assert!(!uri.contains("watch=true"), "a list first: {uri}");
        reply(
            send,
            200,
            &json!({"metadata": {"resourceVersion": "10"}, "items": [{"metadata": {"name": "x"}}]}),
        );
        let (_, uri, _, send) = next(&mut server).await;
        assert!(
            uri.contains("watch=true") && uri.contains("resourceVersion=10"),
            "{uri}"
        );
        assert!(uri.contains("allowWatchBookmarks=true"), "{uri}");
        assert!(uri.contains("labelSelector=seldon-deployment-id"), "{uri}");
        events(
            send,
            &[
                json!({"type": "ADDED", "object": {"metadata": {"name": "a", "resourceVersion": "11"}}}),
                json!({"type": "BOOKMARK", "object": {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"resourceVersion": "12"}}}),
            ],
        );
        // The watch ended: reopened from the bookmark's version, which is too old by now.
        let (_, uri, _, send) = next(&mut server).await;
        assert!(uri.contains("resourceVersion=12"), "{uri}");
        events(
            send,
            &[
                json!({"type": "ERROR", "object": failure(410, "Expired", "too old resource version")}),
            ],
        );
        // 410: start over with a list.
        let (_, uri, _, send) = next(&mut server).await;
        assert!(!uri.contains("watch=true"), "a list after 410: {uri}");
        reply(
            send,
            200,
            &json!({"metadata": {"resourceVersion": "20"}, "items": [{"metadata": {"name": "y"}}]}),
        );
        // The connection drops while opening the next watch; it is opened again after a wait.
        let (req, send) = server.next_request().await.expect("watch");
        assert!(req.uri().to_string().contains("resourceVersion=20"));
        send.send_error(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let (_, uri, _, send) = next(&mut server).await;
        assert!(uri.contains("resourceVersion=20"), "{uri}");
        events(
            send,
            &[
                json!({"type": "DELETED", "object": {"metadata": {"name": "y", "resourceVersion": "21"}}}),
            ],
        );
    });
    let res = Resource {
        path: "/apis/apps/v1/namespaces/models/deployments".into(),
        labels: Some("seldon-deployment-id".into()),
        fields: None,
        verb: "watch deployments in",
        namespace: Some("models".into()),
    };
    let name = |v: &Value| v["metadata"]["name"].as_str().unwrap_or("").to_string();
    let seen: Vec<String> = cluster
        .watch(res)
        .take(4)
        .map(|c| match c.expect("no error") {
            CollectionChange::Listed(items) => format!(
                "listed {}",
                items.iter().map(name).collect::<Vec<_>>().join(",")
            ),
            CollectionChange::Applied(o) => format!("applied {}", name(&o)),
            CollectionChange::Deleted(o) => format!("deleted {}", name(&o)),
        })
        .collect()
        .await;
    assert_eq!(seen, ["listed x", "applied a", "listed y", "deleted y"]);
    server_side.await.expect("server side");
}

#[tokio::test(start_paused = true)]
async fn a_watch_that_keeps_failing_ends_with_the_one_line_error() {
    use crate::cluster::Resource;
    use futures::StreamExt;
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        let (_, _, _, send) = next(&mut server).await;
        reply(
            send,
            200,
            &json!({"metadata": {"resourceVersion": "1"}, "items": []}),
        );
        // Every watch request refused: after 5 failures (waits of 0.5, 1, 2, 4, 8 s) it gives up.
        for _ in 0..6 {
            let (_, uri, _, send) = next(&mut server).await;
            assert!(uri.contains("watch=true"), "{uri}");
            reply(send, 500, &failure(500, "InternalError", "etcd is down"));
        }
    });
    let started = Instant::now();
    let all: Vec<_> = cluster
        .watch(Resource {
            path: "/apis/apps/v1/deployments".into(),
            labels: None,
            fields: None,
            verb: "watch deployments in",
            namespace: None,
        })
        .collect()
        .await;
    assert_eq!(all.len(), 2, "the list, then one error, then the end");
    let err = all[1].as_ref().expect_err("an error").to_string();
    assert!(err.contains("etcd is down"), "{err}");
    assert!(!err.contains('\n'), "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(15_500),
        "{:?}",
        started.elapsed()
    );
    server_side.await.expect("server side");
}

fn enable() -> Intent {
    Intent::enable()
}

fn job<'a>(cluster: &'a Cluster, intent: &'a Intent) -> Job<'a> {
    Job {
        cluster,
        api: API,
        intent,
        predictors: &[],
        field_manager: "kubectl-seldon-tracing",
        concurrency: 1,
        dry_run: DryRun::None,
        listed: None,
    }
}

/// A connection cut: what the server side of the mock does to a request it never answers.
fn cut(send: SendResponse<Response<Body>>) {
    send.send_error(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
}

#[tokio::test(start_paused = true)]
async fn an_apply_whose_answer_was_lost_is_decided_by_the_next_read() {
    let (cluster, mut server) = cluster();
    let intent = enable();
    // The object as it is once the lost apply has been carried out.
    let mut applied = iris("2", 1);
    applied["spec"]["predictors"] = json!(
        crate::domain::v1::plan::plan(&iris("1", 1), &intent, &[])
            .expect("plan")
            .predictors
    );
    let server_side = tokio::spawn(async move {
        let (_, _, _, send) = next(&mut server).await;
        reply(send, 200, &iris("1", 1));
        let (m, _, _, send) = next(&mut server).await;
        assert_eq!(m, "PATCH");
        // Carried out, but the connection drops before the answer (the server restarting).
        cut(send);
        // The restart takes a moment: the next read is refused twice, then answered.
        for _ in 0..2 {
            let (m, _, _, send) = next(&mut server).await;
            assert_eq!(m, "GET");
            cut(send);
        }
        let (m, _, _, send) = next(&mut server).await;
        assert_eq!(m, "GET");
        reply(send, 200, &applied);
        server
    });
    let started = Instant::now();
    let out = job(&cluster, &intent).one("models", "iris").await;
    assert_eq!(out.result, WriteResult::Changed, "{:?}", out.error);
    assert!(
        !out.changes.is_empty(),
        "the changes of the apply are reported"
    );
    // Waited 250-500 ms, then 500-1000 ms between the refused reads.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(750) && took <= Duration::from_millis(1500),
        "{took:?}"
    );
    nothing_more(server_side, "nothing is applied twice").await;
}

#[tokio::test(start_paused = true)]
async fn an_outage_longer_than_the_budget_fails_the_waiting_and_the_next_objects_at_once() {
    use crate::cluster::OUTAGE_BUDGET;
    let (cluster, mut server) = cluster();
    let intent = enable();
    let server_side = tokio::spawn(async move {
        let (_, _, _, send) = next(&mut server).await;
        reply(send, 200, &iris("1", 1));
        // From here on the server is gone: every request is cut.
        while let Some((_, send)) = server.next_request().await {
            cut(send);
        }
    });
    let started = Instant::now();
    let out = job(&cluster, &intent).one("models", "iris").await;
    let took = started.elapsed();
    assert_eq!(out.result, WriteResult::Failed);
    let error = out.error.unwrap_or_default();
    assert!(error.contains("cannot reach"), "{error}");
    // Its apply was sent before the outage and never answered: the error says it may have landed.
    assert!(error.contains("may have been changed"), "{error}");
    assert!(
        took >= OUTAGE_BUDGET && took <= OUTAGE_BUDGET + Duration::from_secs(9),
        "{took:?}"
    );
    // The outage is older than the budget: the next object fails without waiting.
    let started = Instant::now();
    let next_one = job(&cluster, &intent).one("models", "iris").await;
    assert_eq!(next_one.result, WriteResult::Failed);
    assert_eq!(started.elapsed(), Duration::ZERO);
    server_side.abort();
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answered_is_not_waited_for() {
    let (cluster, mut server) = cluster();
    let intent = enable();
    let server_side = tokio::spawn(async move {
        let (_, send) = server.next_request().await.expect("a request");
        cut(send);
        server
    });
    let started = Instant::now();
    let out = job(&cluster, &intent).one("models", "iris").await;
    assert_eq!(out.result, WriteResult::Failed);
    assert_eq!(started.elapsed(), Duration::ZERO);
    nothing_more(server_side, "one request, no retry").await;
}

/// A workload of namespace `ns` whose pods (labelled `key=value`) mount ConfigMap
/// `seldon-tracing`, or not.
fn v2_workload(ns: &str, name: &str, key: &str, value: &str, reads: bool) -> Value {
    let volumes = if reads {
        json!([{"name": "tracing", "configMap": {"name": "seldon-tracing"}}])
    } else {
        json!([])
    };
    json!({"metadata": {"name": name, "namespace": ns, "managedFields": [{"manager": "x"}],
                        "annotations": {"big": "x"}},
           "spec": {"replicas": 1, "selector": {"matchLabels": {key: value}},
                    "template": {"metadata": {"labels": {key: value}}, "spec": {"volumes": volumes,
                        "containers": [{"name": "c", "volumeMounts": [{"name": "tracing", "mountPath": "/t"}]}]}}}})
}

fn pod_of(ns: &str, name: &str, key: &str, value: &str) -> Value {
    json!({"metadata": {"name": name, "namespace": ns, "labels": {key: value}}})
}

#[tokio::test]
async fn many_runtimes_are_read_in_a_few_cluster_wide_lists() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        // ConfigMaps by name, Deployments (two pages) and StatefulSets, in any order.
        for _ in 0..4 {
            let (method, uri, _, send) = next(&mut server).await;
            assert_eq!(method, "GET");
            let body = if uri.starts_with(
                "/api/v1/configmaps?fieldSelector=metadata.name%3Dseldon-tracing&limit=500",
            ) {
                json!({"items": [{"metadata": {"name": "seldon-tracing", "namespace": "a", "managedFields": []}},
                                 {"metadata": {"name": "seldon-tracing", "namespace": "elsewhere"}}],
                       "metadata": {}})
            } else if uri == "/apis/apps/v1/deployments?limit=500" {
                json!({"items": [v2_workload("a", "gw", "app.kubernetes.io/name", "seldon-modelgateway", true),
                                 v2_workload("a", "web", "app", "web", false)],
                       "metadata": {"continue": "next"}})
            } else if uri == "/apis/apps/v1/deployments?limit=500&continue=next" {
                json!({"items": [v2_workload("b", "gw", "app.kubernetes.io/name", "seldon-modelgateway", true),
                                 v2_workload("other", "gw", "app.kubernetes.io/name", "seldon-modelgateway", true)],
                       "metadata": {}})
            } else if uri == "/apis/apps/v1/statefulsets?limit=500" {
                json!({"items": [v2_workload("b", "mlserver", "seldon-server-name", "mlserver", true)],
                       "metadata": {}})
            } else {
                panic!("unexpected {uri}");
            };
            reply(send, 200, &body);
        }
        // Then the readers' pods: one list per kind of selector.
        let mut pod_lists = Vec::new();
        for _ in 0..2 {
            let (_, uri, _, send) = next(&mut server).await;
            pod_lists.push(uri.clone());
            let body = if uri.contains("app.kubernetes.io%2Fname%20in%20%28seldon-modelgateway%29")
            {
                json!({"items": [pod_of("a", "gw-1", "app.kubernetes.io/name", "seldon-modelgateway"),
                                 pod_of("other", "gw-1", "app.kubernetes.io/name", "seldon-modelgateway")],
                       "metadata": {}})
            } else if uri.contains("seldon-server-name%20in%20%28mlserver%29") {
                json!({"items": [pod_of("b", "mlserver-0", "seldon-server-name", "mlserver")], "metadata": {}})
            } else {
                panic!("unexpected {uri}");
            };
            reply(send, 200, &body);
        }
        assert!(
            pod_lists
                .iter()
                .all(|u| u.starts_with("/api/v1/pods?labelSelector=")),
            "{pod_lists:?}"
        );
        server
    });
    let namespaces: std::collections::BTreeSet<String> = ["a".to_string(), "b".to_string()].into();
    let fleet = cluster
        .fleet(&namespaces)
        .await
        .expect("read")
        .expect("listed");
    nothing_more(server_side, "six lists are all it takes").await;
    assert_eq!(fleet.config_maps.keys().collect::<Vec<_>>(), ["a"]);
    let a = &fleet.running["a"];
    assert_eq!(
        a.deployments.len(),
        2,
        "both of a's Deployments, the reader and the other"
    );
    assert!(
        a.deployments[0]["metadata"].get("managedFields").is_none(),
        "trimmed"
    );
    assert!(
        a.deployments[0]["metadata"].get("annotations").is_none(),
        "trimmed"
    );
    assert_eq!(a.pods.as_ref().map(Vec::len), Some(1));
    let b = &fleet.running["b"];
    assert_eq!((b.deployments.len(), b.statefulsets.len()), (1, 1));
    assert_eq!(
        b.pods.as_ref().map(Vec::len),
        Some(1),
        "namespace other is not asked for"
    );
    assert!(!fleet.running.contains_key("other"));
}

#[tokio::test]
async fn a_cluster_wide_list_that_is_forbidden_means_namespace_by_namespace() {
    let (cluster, mut server) = cluster();
    let server_side = tokio::spawn(async move {
        for _ in 0..3 {
            let (_, uri, _, send) = next(&mut server).await;
            if uri.starts_with("/apis/apps/v1/statefulsets") {
                reply(
                    send,
                    403,
                    &failure(403, "Forbidden", "statefulsets is forbidden"),
                );
            } else {
                reply(send, 200, &json!({"items": [], "metadata": {}}));
            }
        }
        server
    });
    let namespaces: std::collections::BTreeSet<String> = ["a".to_string(), "b".to_string()].into();
    assert!(
        cluster
            .fleet(&namespaces)
            .await
            .expect("no error")
            .is_none()
    );
    nothing_more(server_side, "no pod list once a workload list is refused").await;
}

fn runtime_v2(ns: &str, rv: &str, tracing_config: Value) -> Value {
    json!({
        "apiVersion": "mlops.seldon.io/v1alpha1", "kind": "SeldonRuntime",
        "metadata": {"name": "seldon", "namespace": ns, "resourceVersion": rv},
        "spec": {"seldonConfig": "default", "config": {"tracingConfig": tracing_config}}
    })
}

fn seldon_config_v2() -> Value {
    json!({"apiVersion": "mlops.seldon.io/v1alpha1", "kind": "SeldonConfig",
           "metadata": {"name": "default", "namespace": "seldon-mesh"},
           "spec": {"config": {"tracingConfig": {"otelExporterEndpoint": "collector:4317", "ratio": "1"}}}})
}

/// `sampler --core v2 0.5` with `--yes`, json output, `concurrency` runtimes at a time.
fn sampler_v2(concurrency: usize) -> crate::invocation::RuntimeWrite {
    crate::invocation::RuntimeWrite {
        names: Vec::new(),
        change: crate::domain::v2::plan::Intent {
            ratio: Some("0.5".into()),
            ..Default::default()
        },
        done: "configured",
        seldon_namespace: "seldon-mesh".into(),
        dry_run: DryRun::None,
        field_manager: "kubectl-seldon-tracing".into(),
        interactive: false,
        ask_ratio: false,
        restart: None,
        wait: None,
        concurrency,
    }
}

/// The stored runtime once `apply` (a SeldonRuntime apply body) is carried out on `listed`.
fn applied_v2(listed: &Value, apply: &Value, rv: &str) -> Value {
    let mut kept = listed.clone();
    kept["spec"]["config"]["tracingConfig"] = apply["spec"]["config"]["tracingConfig"].clone();
    kept["metadata"]["resourceVersion"] = json!(rv);
    kept
}

/// Answers the reads every `--core v2` write of runtimes in several namespaces starts with (the
/// runtimes, the SeldonConfig, the cluster-wide lists with nothing in them), counting each; the
/// first apply is returned unanswered.
async fn v2_reads(
    server: &mut Server,
    runtimes: &[Value],
    counts: &mut std::collections::BTreeMap<String, usize>,
) -> (Value, SendResponse<Response<Body>>) {
    loop {
        let (method, uri, body, send) = next(server).await;
        if method == "PATCH" {
            return (body, send);
        }
        let path = uri.split('?').next().unwrap_or("").to_string();
        *counts.entry(path.clone()).or_default() += 1;
        match path.as_str() {
            "/apis/mlops.seldon.io/v1alpha1/seldonruntimes" => {
                reply(send, 200, &json!({"items": runtimes, "metadata": {}}))
            }
            "/apis/mlops.seldon.io/v1alpha1/namespaces/seldon-mesh/seldonconfigs/default" => {
                reply(send, 200, &seldon_config_v2())
            }
            "/api/v1/configmaps" | "/apis/apps/v1/deployments" | "/apis/apps/v1/statefulsets" => {
                reply(send, 200, &json!({"items": [], "metadata": {}}))
            }
            other => panic!("unexpected {method} {other}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn runtime_writes_read_the_scope_once_and_apply_a_bounded_few_at_a_time() {
    let (cluster, mut server) = cluster();
    let runtimes: Vec<Value> = (0..7)
        .map(|i| runtime_v2(&format!("ns-{i}"), "1", json!({"ratio": "0.1"})))
        .collect();
    let listed = runtimes.clone();
    let server_side = tokio::spawn(async move {
        let mut counts = std::collections::BTreeMap::new();
        let mut held = vec![v2_reads(&mut server, &listed, &mut counts).await];
        let mut applied = 0;
        let mut most = 0;
        while applied < 7 {
            // Take every apply the client sends before it must wait for an answer.
            while let Ok(Some((req, send))) =
                tokio::time::timeout(Duration::from_millis(50), server.next_request()).await
            {
                assert_eq!(req.method(), "PATCH", "{}", req.uri());
                let bytes = req.into_body().collect_bytes().await.expect("body");
                held.push((serde_json::from_slice(&bytes).expect("json"), send));
            }
            most = most.max(held.len());
            for (body, send) in held.drain(..) {
                let ns = body["metadata"]["namespace"].as_str().expect("namespace");
                let i: usize = ns.trim_start_matches("ns-").parse().expect("index");
                assert_eq!(body["spec"]["config"]["tracingConfig"]["ratio"], "0.5");
                reply(send, 200, &applied_v2(&listed[i], &body, "2"));
                applied += 1;
            }
        }
        (server, counts, most)
    });
    let ctx = crate::commands::context::Ctx::new(
        cluster,
        "default".into(),
        true,
        crate::options::Output::Json,
    );
    let (status, results) = crate::commands::v2::write::write_all(&ctx, &sampler_v2(3))
        .await
        .expect("written");
    assert_eq!(status, crate::exit::ExitStatus::Success);
    let order: Vec<&str> = results.iter().map(|(_, who)| who.as_str()).collect();
    assert_eq!(
        order,
        (0..7).map(|i| format!("ns-{i}/seldon")).collect::<Vec<_>>(),
        "reported in the order listed"
    );
    assert!(results.iter().all(|(r, _)| *r == WriteResult::Changed));
    let (server, counts, most) = server_side.await.expect("server side");
    assert_eq!(
        most, 3,
        "at most --concurrency applies in flight, and that many"
    );
    for (path, n) in &counts {
        assert_eq!(*n, 1, "{path} read once for the whole scope: {counts:?}");
    }
    assert_eq!(counts.len(), 5, "{counts:?}");
    nothing_more(
        tokio::spawn(async move { server }),
        "no read per runtime after its apply",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_runtime_apply_whose_answer_was_lost_is_decided_by_the_next_read_and_a_409_rereads() {
    let (cluster, mut server) = cluster();
    let runtimes = vec![
        runtime_v2("ns-0", "1", json!({"ratio": "0.1"})),
        runtime_v2("ns-1", "1", json!({"ratio": "0.1"})),
    ];
    let listed = runtimes.clone();
    let server_side = tokio::spawn(async move {
        let mut counts = std::collections::BTreeMap::new();
        let (first, send) = v2_reads(&mut server, &listed, &mut counts).await;
        assert_eq!(first["metadata"]["namespace"], "ns-0");
        // Carried out, but the connection drops before the answer (the server restarting); the
        // read that follows is refused once, then shows the change.
        cut(send);
        let (m, uri, _, send) = next(&mut server).await;
        assert_eq!(
            (m.as_str(), uri.as_str()),
            (
                "GET",
                "/apis/mlops.seldon.io/v1alpha1/namespaces/ns-0/seldonruntimes/seldon"
            )
        );
        cut(send);
        let (m, _, _, send) = next(&mut server).await;
        assert_eq!(m, "GET");
        reply(send, 200, &applied_v2(&listed[0], &first, "2"));
        // The second: someone else wrote first (409), so it reads again and applies again.
        let (m, _, second, send) = next(&mut server).await;
        assert_eq!(
            (m.as_str(), second["metadata"]["resourceVersion"].as_str()),
            ("PATCH", Some("1"))
        );
        reply(
            send,
            409,
            &failure(409, "Conflict", "the object has been modified"),
        );
        let (m, uri, _, send) = next(&mut server).await;
        assert_eq!(
            (m.as_str(), uri.as_str()),
            (
                "GET",
                "/apis/mlops.seldon.io/v1alpha1/namespaces/ns-1/seldonruntimes/seldon"
            )
        );
        reply(send, 200, &runtime_v2("ns-1", "7", json!({"ratio": "0.2"})));
        let (m, _, again, send) = next(&mut server).await;
        assert_eq!(
            (m.as_str(), again["metadata"]["resourceVersion"].as_str()),
            ("PATCH", Some("7"))
        );
        reply(send, 200, &applied_v2(&listed[1], &again, "8"));
        server
    });
    let ctx = crate::commands::context::Ctx::new(
        cluster,
        "default".into(),
        true,
        crate::options::Output::Json,
    );
    let (status, results) = crate::commands::v2::write::write_all(&ctx, &sampler_v2(1))
        .await
        .expect("written");
    assert_eq!(status, crate::exit::ExitStatus::Success);
    assert_eq!(
        results,
        [
            (WriteResult::Changed, "ns-0/seldon".to_string()),
            (WriteResult::Changed, "ns-1/seldon".to_string())
        ],
        "the lost apply was carried out, so ns-0 changed"
    );
    nothing_more(server_side, "nothing is applied twice").await;
}
