//! Manifest files in and out (`-f`, `--local`, `--in-place`): reading files, directories and
//! stdin as YAML streams (JSON is YAML too) with `serde_yaml`, finding the SeldonDeployments in
//! them (also inside `kind: List`), and writing them back as YAML or JSON, atomically.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::domain::json::str_at;

/// One input: a file or stdin, its documents in order.
#[derive(Debug, Clone)]
pub struct Input {
    /// None for stdin.
    pub path: Option<PathBuf>,
    /// Documents in stream order; a null document (an empty `---` section) stays as it was.
    pub docs: Vec<Value>,
    /// Whether the text had comments (they are not kept on write).
    pub had_comments: bool,
    /// A `.json` file: written back as JSON.
    pub json: bool,
}

impl Input {
    /// `deploy/models.yaml` or `-`.
    pub fn label(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "-".to_string(), |p| p.display().to_string())
    }
}

/// Where a SeldonDeployment sits: input, document (1-based) and, inside a `kind: List`, item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub input: usize,
    pub doc: usize,
    pub item: Option<usize>,
}

/// Reads every path (a file, a directory read recursively for *.yaml, *.yml and *.json in name
/// order, or `-` for stdin). An error names the file and what is wrong with it.
pub fn read(paths: &[PathBuf]) -> Result<Vec<Input>, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            files.push(None);
        } else if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|e| format!("{}: {e}", p.display()))?;
            if found.is_empty() {
                return Err(format!(
                    "{}: no *.yaml, *.yml or *.json files in this directory",
                    p.display()
                ));
            }
            files.extend(found.into_iter().map(Some));
        } else {
            files.push(Some(p.clone()));
        }
    }
    let mut stdin_used = false;
    let mut out = Vec::new();
    for f in files {
        let text = match &f {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("{}: cannot read it ({e}); check the path", path.display()))?,
            None if stdin_used => return Err("-: stdin can be read only once".into()),
            None => {
                stdin_used = true;
                let mut t = String::new();
                std::io::stdin()
                    .read_to_string(&mut t)
                    .map_err(|e| format!("-: cannot read stdin ({e})"))?;
                t
            }
        };
        let label = f
            .as_ref()
            .map_or_else(|| "-".to_string(), |p| p.display().to_string());
        let docs = parse(&text).map_err(|e| format!("{label}: {e}"))?;
        let json = f
            .as_ref()
            .and_then(|p| p.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        out.push(Input {
            path: f,
            docs,
            had_comments: has_comments(&text),
            json,
        });
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "yaml" | "yml" | "json"))
        {
            out.push(p);
        }
    }
    Ok(())
}

/// The documents of a YAML stream, as JSON values (key order kept). One line on error, with the
/// parser's position.
pub fn parse(text: &str) -> Result<Vec<Value>, String> {
    let mut docs = Vec::new();
    for (i, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let v: Value = serde::Deserialize::deserialize(de).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(" at line {} column {}", l.line(), l.column()))
                .unwrap_or_default();
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            format!("document {} does not parse{at}: {msg}", i + 1)
        })?;
        docs.push(v);
    }
    Ok(docs)
}

/// Whether a line has a YAML comment: `#` at its start or after a space, outside quotes.
fn has_comments(text: &str) -> bool {
    text.lines().any(|line| {
        let (mut single, mut double, mut prev_space) = (false, false, true);
        for c in line.chars() {
            match c {
                '\'' if !double => single = !single,
                '"' if !single => double = !double,
                '#' if !single && !double && prev_space => return true,
                _ => {}
            }
            prev_space = c == ' ' || c == '\t';
        }
        false
    })
}

/// A SeldonDeployment of any version of the Seldon v1 API.
pub fn is_seldon_deployment(v: &Value) -> bool {
    str_at(v, &["kind"]) == Some("SeldonDeployment")
        && str_at(v, &["apiVersion"]).is_some_and(|a| a.starts_with("machinelearning.seldon.io/"))
}

/// Every object in the inputs, with where it is (the items of a `kind: *List` document instead
/// of the list).
pub fn objects(inputs: &[Input]) -> Vec<(At, &Value)> {
    let mut out = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        for (d, doc) in input.docs.iter().enumerate() {
            let at = |item| At {
                input: i,
                doc: d + 1,
                item,
            };
            let items = doc
                .get("items")
                .filter(|_| str_at(doc, &["kind"]).is_some_and(|k| k.ends_with("List")))
                .and_then(Value::as_array);
            match items {
                Some(items) => out.extend(items.iter().enumerate().map(|(n, v)| (at(Some(n)), v))),
                None => out.push((at(None), doc)),
            }
        }
    }
    out
}

/// Every SeldonDeployment in the inputs, with where it is (List items included).
pub fn seldon_deployments(inputs: &[Input]) -> Vec<(At, &Value)> {
    objects(inputs)
        .into_iter()
        .filter(|(_, v)| is_seldon_deployment(v))
        .collect()
}

/// Every ConfigMap in the inputs (List items included) as (where, namespace, name, object),
/// the namespace `default_ns` when the manifest has none.
pub fn config_maps<'a>(
    inputs: &'a [Input],
    default_ns: &str,
) -> Vec<(At, String, String, &'a Value)> {
    objects(inputs)
        .into_iter()
        .filter(|(_, v)| {
            str_at(v, &["kind"]) == Some("ConfigMap") && str_at(v, &["apiVersion"]) == Some("v1")
        })
        .map(|(at, v)| {
            let ns = str_at(v, &["metadata", "namespace"])
                .filter(|n| !n.is_empty())
                .unwrap_or(default_ns);
            let name = str_at(v, &["metadata", "name"]).unwrap_or("");
            (at, ns.to_string(), name.to_string(), v)
        })
        .collect()
}

/// The (namespace, name) of every SeldonDeployment in the inputs: `metadata.namespace`, else
/// `default_ns` (kubectl's habit with `-f`), duplicates once, in file order.
pub fn names(inputs: &[Input], default_ns: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (at, obj) in seldon_deployments(inputs) {
        let Some(name) = str_at(obj, &["metadata", "name"]).filter(|n| !n.is_empty()) else {
            return Err(format!(
                "{}: a SeldonDeployment without metadata.name; add one",
                place(inputs, at)
            ));
        };
        let ns = str_at(obj, &["metadata", "namespace"])
            .filter(|n| !n.is_empty())
            .unwrap_or(default_ns);
        let key = (ns.to_string(), name.to_string());
        if !out.contains(&key) {
            out.push(key);
        }
    }
    Ok(out)
}

/// The object at `at`, mutably.
pub fn object_mut(inputs: &mut [Input], at: At) -> Option<&mut Value> {
    let doc = inputs.get_mut(at.input)?.docs.get_mut(at.doc - 1)?;
    match at.item {
        None => Some(doc),
        Some(n) => doc.get_mut("items")?.get_mut(n),
    }
}

/// `deploy/models.yaml#3` (and `[2]` for a List item): where an error or a result points.
pub fn place(inputs: &[Input], at: At) -> String {
    let mut s = format!("{}#{}", inputs[at.input].label(), at.doc);
    if let Some(n) = at.item {
        s.push_str(&format!(" items[{n}]"));
    }
    s
}

/// Strings a YAML 1.1 reader (PyYAML, older tools) would not read back as strings: booleans
/// (`on`, `yes`, `y`, ...), nulls, ints (octal, hex, binary, base 60), floats, and timestamps;
/// also YAML 1.2's `1e3`, so one rule serves readers of both versions.
pub fn yaml11_ambiguous(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", "",
        ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF", ".nan",
        ".NaN", ".NAN", "<<", "=",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    let digits_ = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '_');
    // Ints: 0b..., 0x..., 0..., decimal, base 60 (1:30).
    if let Some(b) = body.strip_prefix("0b") {
        return !b.is_empty() && b.chars().all(|c| matches!(c, '0' | '1' | '_'));
    }
    if let Some(h) = body.strip_prefix("0x") {
        return !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
    }
    if digits_(body) {
        return true;
    }
    let sexagesimal = |t: &str| {
        let mut parts = t.split(':');
        parts
            .next()
            .is_some_and(|h| digits_(h) && !h.starts_with('0'))
            && parts.all(|p| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()))
    };
    if body.contains(':') {
        let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
        if sexagesimal(whole) && frac.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return true;
        }
    }
    // Floats: [0-9_]*.[0-9_]*([eE][-+][0-9]+)?, with at least one digit.
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    // YAML 1.2 readers (Go's sigs.k8s.io/yaml, serde_yaml) also take 1e3 for a number.
    if exp.is_some_and(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    }) && digits_(mantissa)
    {
        return true;
    }
    if let Some((a, b)) = mantissa.split_once('.') {
        let ok_m = (a.is_empty() || digits_(a))
            && b.chars().all(|c| c.is_ascii_digit() || c == '_')
            && (a.chars().any(|c| c.is_ascii_digit()) || b.chars().any(|c| c.is_ascii_digit()));
        let ok_e = exp.is_none_or(|e| {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
        });
        if ok_m && ok_e {
            return true;
        }
    }
    // Timestamps: 2001-12-14 and the forms that start with one.
    let b = s.as_bytes();
    b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && s[5..]
            .split(['-', 'T', 't', ' '])
            .next()
            .is_some_and(|m| !m.is_empty() && m.len() <= 2 && m.chars().all(|c| c.is_ascii_digit()))
}

/// YAML text of `docs` (a stream, `---` between documents), written by `serde_yaml` with every
/// string a YAML 1.1 reader would misread double-quoted, so env values stay strings.
pub fn to_yaml(docs: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let mut quoted = Vec::new();
        let marked = mark(doc, &mut quoted);
        let mut text = serde_yaml::to_string(&marked).map_err(|e| e.to_string())?;
        // Each marker is a whole scalar, plain or single-quoted; put the JSON (= YAML double
        // quoted) form of the string in its place.
        for (n, original) in quoted.iter().enumerate().rev() {
            let m = marker(n);
            let q = serde_json::to_string(original).map_err(|e| e.to_string())?;
            text = text.replace(&format!("'{m}'"), &q).replace(&m, &q);
        }
        if text.contains("__seldon_tracing_quoted_") {
            return Err("a string could not be quoted for YAML 1.1 readers".into());
        }
        out.push_str(&text);
    }
    Ok(out)
}

/// A plain ASCII scalar no manifest holds, so the emitter writes it as is and it can be found.
fn marker(n: usize) -> String {
    format!("__seldon_tracing_quoted_{n}__")
}

/// `s`, or a marker standing for it when it needs quoting (remembered in `quoted`).
fn quote_or_keep(s: &str, quoted: &mut Vec<String>) -> String {
    if yaml11_ambiguous(s) {
        quoted.push(s.to_string());
        marker(quoted.len() - 1)
    } else {
        s.to_string()
    }
}

/// `v` with every string (and key) that needs quoting replaced by a unique marker.
fn mark(v: &Value, quoted: &mut Vec<String>) -> Value {
    match v {
        Value::String(s) => Value::String(quote_or_keep(s, quoted)),
        Value::Array(a) => Value::Array(a.iter().map(|x| mark(x, quoted)).collect()),
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                let key = quote_or_keep(k, quoted);
                out.insert(key, mark(x, quoted));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// JSON text of `docs`: one document as it is, several as a `kind: List`.
pub fn to_json(docs: &[Value]) -> Result<String, String> {
    let v = match docs {
        [one] => one.clone(),
        many => serde_json::json!({"apiVersion": "v1", "kind": "List", "items": many}),
    };
    serde_json::to_string_pretty(&v)
        .map(|s| s + "\n")
        .map_err(|e| e.to_string())
}

/// Replaces `path` with `text` without ever leaving it half-written: a temporary file in the same
/// directory, synced, then renamed over it (the file's permissions are kept).
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.seldon-tracing-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_scalars_that_are_not_strings_are_found() {
        for s in [
            "on",
            "Off",
            "yes",
            "y",
            "N",
            "~",
            "",
            "1",
            "0",
            "-1",
            "0.5",
            ".5",
            "1e3",
            "1.0e+3",
            "0x1F",
            "0b101",
            "017",
            "1:30",
            "190:20:30.15",
            "2001-12-14",
            "2001-12-14t21:59:43.10-05:00",
            ".inf",
            "-.Inf",
            ".NaN",
            "1_000",
        ] {
            assert!(yaml11_ambiguous(s), "{s:?}");
        }
        for s in [
            "const",
            "probabilistic",
            "b3",
            "jaeger-agent",
            "0.0.0.0",
            "http://c:14268/api/traces",
            "const:1",
            "1.2.3",
            "6831/udp",
            "e3",
            "1e",
            "offline",
            "yes-no",
            "v1",
            "status.hostIP",
        ] {
            assert!(!yaml11_ambiguous(s), "{s:?}");
        }
    }

    #[test]
    fn written_yaml_keeps_strings_strings_and_key_order() {
        let doc = json!({"kind": "SeldonDeployment", "spec": {"predictors": [{"svcOrchSpec": {"env": [
            {"name": "TRACING", "value": "1"},
            {"name": "JAEGER_SAMPLER_PARAM", "value": "0.5"},
            {"name": "FLAG", "value": "on"},
            {"name": "EMPTY", "value": ""},
            {"name": "HOST", "value": "jaeger-agent"},
            {"name": "MULTI", "value": "a\nb"},
        ]}, "replicas": 2}]}, "on": true});
        let text = to_yaml(std::slice::from_ref(&doc)).unwrap();
        assert!(text.contains("value: \"1\"\n"), "{text}");
        assert!(text.contains("value: \"on\"\n"), "{text}");
        assert!(text.contains("value: jaeger-agent\n"), "{text}");
        assert!(text.contains("\"on\": true"), "{text}");
        assert!(!text.contains("__seldon_tracing_quoted_"), "{text}");
        let back = parse(&text).unwrap();
        assert_eq!(back, std::slice::from_ref(&doc));
        // Key order is the input's.
        let keys: Vec<&String> = back[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["kind", "spec", "on"]);
    }

    #[test]
    fn streams_lists_and_other_kinds() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n# a comment\napiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: a}\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: machinelearning.seldon.io/v1alpha2\n  kind: SeldonDeployment\n  metadata: {name: b}\n";
        let docs = parse(text).unwrap();
        assert_eq!(docs.len(), 3);
        let inputs = vec![Input {
            path: Some("deploy/m.yaml".into()),
            docs,
            had_comments: has_comments(text),
            json: false,
        }];
        assert!(inputs[0].had_comments);
        let found: Vec<String> = seldon_deployments(&inputs)
            .iter()
            .map(|(at, v)| format!("{} {}", place(&inputs, *at), v["metadata"]["name"]))
            .collect();
        assert_eq!(
            found,
            ["deploy/m.yaml#2 \"a\"", "deploy/m.yaml#3 items[0] \"b\""]
        );
        assert!(!has_comments(
            "a: \"x # not a comment\"\nb: 'y#z'\nc: d#e\n"
        ));
        let err = parse("a: 1\n---\nb: [1, 2\n").unwrap_err();
        assert!(
            err.starts_with("document 2 does not parse at line "),
            "{err}"
        );
    }

    #[test]
    fn atomic_writes_replace_the_whole_file() {
        let dir =
            std::env::temp_dir().join(format!("seldon-tracing-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("m.yaml");
        std::fs::write(&f, "old: 1\n").unwrap();
        write_atomic(&f, "new: 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "new: 2\n");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "a temporary file was left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
