//! Reading raw Kubernetes objects: the two getters every wing uses on `serde_json::Value`.

use std::collections::BTreeMap;

use serde_json::Value;

/// The string at `path` (object keys only), if every step exists and the last is a string.
pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str()
}

/// The `data` of a ConfigMap object.
pub fn data_of(cm: &Value) -> BTreeMap<String, String> {
    cm.get("data")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}
