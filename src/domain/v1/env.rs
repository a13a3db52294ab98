//! Kubernetes env lists (`[{name, value | valueFrom}]`) read and edited in place as raw JSON, so
//! entries and fields the plugin does not know survive untouched and in order.

use serde_json::{Map, Value, json};

/// What an env variable holds, as far as can be known without the running pod.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvValue {
    Literal(String),
    /// Resolved only at run time: the entry's `valueFrom`, as written.
    Indirect(Value),
}

/// A literal is its string; a `valueFrom` is `{valueFrom: {...}}` exactly as in the object.
impl serde::Serialize for EnvValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            EnvValue::Literal(v) => s.serialize_str(v),
            EnvValue::Indirect(from) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("valueFrom", from)?;
                m.end()
            }
        }
    }
}

impl From<&str> for EnvValue {
    fn from(s: &str) -> Self {
        EnvValue::Literal(s.to_string())
    }
}

impl EnvValue {
    pub fn literal(&self) -> Option<&str> {
        match self {
            EnvValue::Literal(s) => Some(s),
            EnvValue::Indirect(_) => None,
        }
    }

    pub fn display(&self) -> String {
        match self {
            EnvValue::Literal(s) => s.clone(),
            EnvValue::Indirect(from) => describe_value_from(from),
        }
    }
}

/// A change to one variable.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvEdit {
    Set(String),
    FromNodeIp,
    Remove,
}

impl EnvEdit {
    fn entry(&self, name: &str) -> Option<Value> {
        match self {
            EnvEdit::Set(v) => Some(json!({"name": name, "value": v})),
            EnvEdit::FromNodeIp => Some(
                json!({"name": name, "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}),
            ),
            EnvEdit::Remove => None,
        }
    }
}

fn entry_name(entry: &Value) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

/// Describes a `valueFrom` the way `status` shows it: never guessed, always marked indirect.
pub fn describe_value_from(from: &Value) -> String {
    let field = |obj: &Value, key: &str| {
        obj.get(key)
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    if let Some(f) = from.get("fieldRef") {
        let path = field(f, "fieldPath");
        if path == "status.hostIP" {
            return "node IP (fieldRef status.hostIP)".into();
        }
        return format!("$(fieldRef {path})");
    }
    for kind in ["configMapKeyRef", "secretKeyRef"] {
        if let Some(r) = from.get(kind) {
            return format!("$({kind} {}/{})", field(r, "name"), field(r, "key"));
        }
    }
    if let Some(r) = from.get("resourceFieldRef") {
        return format!("$(resourceFieldRef {})", field(r, "resource"));
    }
    "$(valueFrom)".into()
}

fn value_of(entry: &Value) -> EnvValue {
    match entry.get("valueFrom") {
        Some(from) if !from.is_null() => EnvValue::Indirect(from.clone()),
        _ => EnvValue::Literal(
            entry
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        ),
    }
}

/// The value Kubernetes would use for `name`: with duplicates, the last entry wins.
pub fn get(env: Option<&Value>, name: &str) -> Option<EnvValue> {
    env?.as_array()?
        .iter()
        .rev()
        .find(|e| entry_name(e) == Some(name))
        .map(value_of)
}

/// Applies `edit` to `env` (an array, or absent/null meaning empty). Entries with that name are
/// rewritten in place keeping their other fields; a new entry goes at the end; Remove drops them.
/// Returns whether anything changed. Err when `env` is not a list.
pub fn apply(env: &mut Value, name: &str, edit: &EnvEdit) -> Result<bool, String> {
    if env.is_null() {
        *env = Value::Array(Vec::new());
    }
    let list = env
        .as_array_mut()
        .ok_or_else(|| "env is not a list".to_string())?;
    let Some(new_entry) = edit.entry(name) else {
        let before = list.len();
        list.retain(|e| entry_name(e) != Some(name));
        return Ok(list.len() != before);
    };
    let mut changed = false;
    let mut found = false;
    for entry in list.iter_mut().filter(|e| entry_name(e) == Some(name)) {
        found = true;
        let Some(obj) = entry.as_object_mut() else {
            continue;
        };
        changed |= rewrite(obj, &new_entry);
    }
    if !found {
        list.push(new_entry);
        changed = true;
    }
    Ok(changed)
}

/// Makes `obj` carry `wanted`'s value (`value` xor `valueFrom`), keeping every other field.
fn rewrite(obj: &mut Map<String, Value>, wanted: &Value) -> bool {
    let mut changed = false;
    for key in ["value", "valueFrom"] {
        match wanted.get(key) {
            Some(v) if obj.get(key) != Some(v) => {
                obj.insert(key.to_string(), v.clone());
                changed = true;
            }
            None if obj.contains_key(key) => {
                obj.remove(key);
                changed = true;
            }
            _ => {}
        }
    }
    changed
}

/// Positions (0-based) of entries that have no name: reported, never touched.
pub fn unnamed_entries(env: Option<&Value>) -> Vec<usize> {
    env.and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .enumerate()
                .filter(|(_, e)| entry_name(e).is_none())
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_rewrites_in_place_and_keeps_order_and_unknown_fields() {
        let mut env = json!([
            {"name": "A", "value": "1"},
            {"name": "TRACING", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}, "x-note": "keep"},
            {"name": "B", "value": "2"}
        ]);
        assert!(apply(&mut env, "TRACING", &EnvEdit::Set("1".into())).unwrap());
        assert_eq!(
            env,
            json!([
                {"name": "A", "value": "1"},
                {"name": "TRACING", "x-note": "keep", "value": "1"},
                {"name": "B", "value": "2"}
            ])
        );
        assert!(!apply(&mut env, "TRACING", &EnvEdit::Set("1".into())).unwrap());
    }

    #[test]
    fn set_appends_when_absent_and_remove_drops_every_copy() {
        let mut env = Value::Null;
        assert!(apply(&mut env, "X", &EnvEdit::FromNodeIp).unwrap());
        assert_eq!(
            get(Some(&env), "X").unwrap().display(),
            "node IP (fieldRef status.hostIP)"
        );
        let mut dup =
            json!([{"name": "X", "value": "1"}, {"name": "Y"}, {"name": "X", "value": "2"}]);
        assert_eq!(get(Some(&dup), "X"), Some(EnvValue::Literal("2".into())));
        assert!(apply(&mut dup, "X", &EnvEdit::Remove).unwrap());
        assert_eq!(dup, json!([{"name": "Y"}]));
        assert!(!apply(&mut dup, "X", &EnvEdit::Remove).unwrap());
    }

    #[test]
    fn a_non_list_env_is_an_error_not_a_rewrite() {
        let mut env = json!("oops");
        assert!(apply(&mut env, "X", &EnvEdit::Set("1".into())).is_err());
        assert_eq!(env, json!("oops"));
    }

    #[test]
    fn indirect_values_are_described_not_guessed() {
        let env = json!([
            {"name": "H", "valueFrom": {"configMapKeyRef": {"name": "jaeger", "key": "host"}}},
            {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            {"value": "orphan"}
        ]);
        assert_eq!(
            get(Some(&env), "H").unwrap().display(),
            "$(configMapKeyRef jaeger/host)"
        );
        assert_eq!(get(Some(&env), "S").unwrap().literal(), None);
        assert_eq!(unnamed_entries(Some(&env)), vec![2]);
    }
}
