//! json and yaml documents `{apiVersion, kind, items}`, written whole or streamed item by item;
//! the yaml writer quotes every string so YAML 1.1 readers keep `on`/`off`/`1` as strings.

use serde::Serialize;
use serde_json::Value;

use crate::options::Output;

/// The `apiVersion` of every json/yaml document the plugin prints (docs/output.md).
pub const OUTPUT_API_VERSION: &str = "seldon-tracing.kubectl.io/v2";

/// Writes a json or yaml document `{apiVersion, kind, items}` one item at a time, so a long
/// list is printed as its pages arrive. The text equals a pretty-printed whole document.
pub struct Streamer {
    output: Output,
    kind: &'static str,
    count: usize,
}

impl Streamer {
    /// None for table formats.
    pub fn new(output: Output, kind: &'static str) -> Option<Streamer> {
        matches!(output, Output::Json | Output::Yaml).then_some(Streamer {
            output,
            kind,
            count: 0,
        })
    }

    fn header(&self) -> String {
        let (api, kind) = (Value::from(OUTPUT_API_VERSION), Value::from(self.kind));
        match self.output {
            Output::Json => {
                format!("{{\n  \"apiVersion\": {api},\n  \"kind\": {kind},\n  \"items\": ")
            }
            _ => format!("apiVersion: {api}\nkind: {kind}\nitems:"),
        }
    }

    pub fn item<T: Serialize>(&mut self, item: &T) -> String {
        let mut out = match self.count {
            0 if self.output == Output::Json => self.header() + "[\n",
            0 => self.header() + "\n",
            _ if self.output == Output::Json => ",\n".to_string(),
            _ => String::new(),
        };
        self.count += 1;
        if self.output == Output::Json {
            indented_json(item, &mut out);
        } else {
            let value = serde_json::to_value(item).unwrap_or(Value::Null);
            for (i, line) in yaml(&value).lines().enumerate() {
                out.push_str(if i == 0 { "- " } else { "  " });
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    pub fn finish(self) -> String {
        match (self.output, self.count) {
            (Output::Json, 0) => self.header() + "[]\n}\n",
            (Output::Json, _) => "\n  ]\n}\n".into(),
            (_, 0) => self.header() + " []\n",
            _ => String::new(),
        }
    }
}

/// `value` pretty-printed (two spaces a level) with every line indented four spaces more, as an
/// item of the document's `items` list: serialized straight from the item (no `Value` in
/// between; with serde_json's `preserve_order` both give the same key order).
fn indented_json<T: Serialize>(value: &T, out: &mut String) {
    let mut buf = Vec::with_capacity(4096);
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"  ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    if value.serialize(&mut ser).is_err() {
        return;
    }
    // serde_json escapes every control character inside strings, so each newline in `buf`
    // separates two lines of the document.
    let text = String::from_utf8(buf).unwrap_or_default();
    out.reserve(text.len() + text.len() / 4);
    out.push_str("    ");
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\n    ");
        }
        out.push_str(line);
    }
}

/// A whole json or yaml document; None for table formats.
pub fn document<T: Serialize>(output: Output, kind: &'static str, items: &[T]) -> Option<String> {
    let mut s = Streamer::new(output, kind)?;
    let mut out = String::new();
    for i in items {
        out.push_str(&s.item(i));
    }
    out.push_str(&s.finish());
    Some(out)
}

/// Block-style YAML in which every string is double-quoted. A general YAML writer leaves
/// `on`, `off` and `no` bare, and YAML 1.1 readers (PyYAML, older yq) turn those into booleans:
/// the TRACING column would read back as `false`.
pub fn yaml(v: &Value) -> String {
    let mut out = String::new();
    write_yaml(v, 0, &mut out);
    out
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(Value::String(s.clone()).to_string()),
        Value::Array(a) if a.is_empty() => Some("[]".into()),
        Value::Object(o) if o.is_empty() => Some("{}".into()),
        _ => None,
    }
}

fn write_yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let key = Value::String(k.clone()).to_string();
                let key = if k.chars().all(|c| c.is_ascii_alphanumeric()) {
                    k.clone()
                } else {
                    key
                };
                match scalar(child) {
                    Some(s) => out.push_str(&format!("{pad}{key}: {s}\n")),
                    None => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        let next = if child.is_array() { indent } else { indent + 2 };
                        write_yaml(child, next, out);
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match scalar(item) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        let mut inner = String::new();
                        write_yaml(item, indent + 2, &mut inner);
                        // The first line of the item goes after the dash.
                        out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other).unwrap_or_default())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_documents_equal_whole_documents() {
        let items = [
            serde_json::json!({"name": "a", "n": [1, {"x": "on"}]}),
            serde_json::json!({"name": "b"}),
        ];
        for n in 0..=items.len() {
            let doc = serde_json::json!({"apiVersion": OUTPUT_API_VERSION, "kind": "K", "items": items[..n]});
            let json = document(Output::Json, "K", &items[..n]).unwrap();
            assert_eq!(json, serde_json::to_string_pretty(&doc).unwrap() + "\n");
            assert_eq!(
                document(Output::Yaml, "K", &items[..n]).unwrap(),
                yaml(&doc)
            );
        }
        assert!(document(Output::Wide, "K", &items).is_none());
    }

    #[test]
    fn yaml_quotes_every_string_and_nests_lists() {
        let v = serde_json::json!({"kind": "X", "items": [{"tracing": "off", "n": 2, "list": ["a"], "empty": []}], "weird key": null});
        let want = "kind: \"X\"\nitems:\n- tracing: \"off\"\n  n: 2\n  list:\n  - \"a\"\n  empty: []\n\"weird key\": null\n";
        assert_eq!(yaml(&v), want);
    }
}
