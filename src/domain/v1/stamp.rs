//! The stamp: two items the plugin writes into the executor's `JAEGER_TAGS`
//! (`seldon.deployment`, `seldon.predictor`). The Go client reports them as process tags, so a
//! deployment's traces can be found after its pods are gone.

/// The stamp in a `JAEGER_TAGS` value (`k=v,k=v`; the Go client trims each key and value).
pub fn stamp_in(tags: &str) -> Option<(String, String)> {
    let item = |key: &str| {
        tags.split(',').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    Some((item("seldon.deployment")?, item("seldon.predictor")?))
}

/// `JAEGER_TAGS` carrying the stamp: every item of `current` kept as written and in order
/// (empty ones, which the Go client cannot parse, dropped), the stamp's two items replaced or
/// appended.
pub fn stamped(current: Option<&str>, deployment: &str, predictor: &str) -> String {
    let ours = |item: &str| {
        item.split_once('=')
            .is_some_and(|(k, _)| matches!(k.trim(), "seldon.deployment" | "seldon.predictor"))
    };
    let mut items: Vec<String> = current
        .into_iter()
        .flat_map(|c| c.split(','))
        .filter(|i| !i.trim().is_empty() && !ours(i))
        .map(str::to_string)
        .collect();
    items.push(format!("seldon.deployment={deployment}"));
    items.push(format!("seldon.predictor={predictor}"));
    items.join(",")
}
