//! The house rules of `src/` (docs/development.md, "Architecture"), read from the source itself:
//! no import circle between files, imports only downwards between layers, and the wings of each
//! layer (`v1`, `v2`, `traces`) reading each other only as allowed: `traces` may read `v1` and
//! `v2`, which never read `traces` nor each other.
//!
//! Imports are read from the text: every `use` tree and every `crate::`/`super::`/`self::` path
//! in code (comments and strings removed), resolved to the file of the longest module prefix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A source file and its module path (`src/domain/v2/mod.rs` is `domain::v2`).
struct File {
    rel: String,
    module: Vec<String>,
    text: String,
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("file name");
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        "main.rs" if parts.is_empty() => parts.push("main".into()),
        name => parts.push(name.trim_end_matches(".rs").to_string()),
    }
    parts
}

/// The text with comments, string and char literals blanked (line breaks kept).
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                if b[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_ident(&b, i) {
            // raw string r"..." or r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while j < b.len() && b[j] == '#' {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                if b[j] == '\n' {
                    out.push('\n');
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if b.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && b.get(i + 2) == Some(&'\'') {
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < b.len() && b[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_ident(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// Expands a use tree (`a::{b, c::{d as e}}`) into its paths, each with the name it binds.
fn expand(tree: &str) -> Vec<(String, String)> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let mut it = tree.split(" as ");
        let path = it.next().unwrap_or(tree).trim().to_string();
        let name = match it.next() {
            Some(alias) => alias.trim().to_string(),
            None => path.rsplit("::").next().unwrap_or("").to_string(),
        };
        return vec![(path, name)];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| {
            expand(p).into_iter().map(move |(s, name)| {
                let base = prefix.trim_end_matches("::");
                match s.as_str() {
                    "self" => {
                        let name = if name == "self" {
                            base.rsplit("::").next().unwrap_or("").to_string()
                        } else {
                            name
                        };
                        (base.to_string(), name)
                    }
                    _ => (format!("{prefix}{s}"), name),
                }
            })
        })
        .collect()
}

/// Every path this file names (`crate::…`, `super::…`, `self::…`, `kubectl_seldon_tracing::…`,
/// and paths through a name a `use` bound, such as `c::str_at` after `use …::components as c`),
/// made absolute. Inline `mod tests` blocks count as the file.
fn paths(f: &File) -> Vec<Vec<String>> {
    let code = code_only(&f.text);
    let mut found: Vec<Vec<String>> = Vec::new();
    let mut bound: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // `use` trees, whole.
    let mut rest = code.as_str();
    while let Some(at) = find_word(rest, "use") {
        let after = &rest[at + 3..];
        let Some(end) = after.find(';') else { break };
        let in_tests = at_test(&code[..code.len() - rest.len() + at]);
        for (p, name) in expand(after[..end].trim()) {
            if let Some(abs) = absolute(f, &p, in_tests) {
                if name != "*" && name != "self" {
                    bound.insert(name, abs.clone());
                }
                found.push(abs);
            }
        }
        rest = &after[end..];
    }
    // Paths in code, from the crate or through a bound name.
    let mut from = 0;
    while let Some(i) = code[from..].find("::") {
        let at = from + i;
        from = at + 2;
        let head_start = code[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map(|(k, _)| k)
            .unwrap_or(at);
        if head_start == at || code[..head_start].ends_with("::") {
            continue;
        }
        let head = &code[head_start..at];
        let tail: String = code[at..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let in_tests = at_test(&code[..head_start]);
        let abs = match head {
            "crate" | "super" | "self" | "kubectl_seldon_tracing" => {
                absolute(f, &format!("{head}{tail}"), in_tests)
            }
            name => bound.get(name).map(|p| {
                let mut p = p.clone();
                p.extend(
                    tail.split("::")
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                );
                p
            }),
        };
        found.extend(abs);
    }
    found
}

fn find_word(s: &str, w: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find(w) {
        let at = from + i;
        let before = s[..at].chars().last();
        let after = s[at + w.len()..].chars().next();
        let ok_before = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if ok_before && after == Some(' ') {
            return Some(at);
        }
        from = at + w.len();
    }
    None
}

/// Whether `before` (the code up to a point) has entered the file's inline test module.
fn at_test(before: &str) -> bool {
    before.contains("#[cfg(test)]\nmod tests {")
}

fn absolute(f: &File, path: &str, in_tests: bool) -> Option<Vec<String>> {
    let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = f.module.clone();
    if in_tests {
        base.push("tests".into());
    }
    let (mut abs, rest) = match segs.first()? {
        &"crate" | &"kubectl_seldon_tracing" => (Vec::new(), &segs[1..]),
        &"self" => (base.clone(), &segs[1..]),
        &"super" => {
            let mut b = base.clone();
            let mut k = 0;
            while segs.get(k) == Some(&"super") {
                b.pop();
                k += 1;
            }
            (b, &segs[k..])
        }
        _ => return None,
    };
    abs.extend(rest.iter().map(|s| s.to_string()));
    Some(abs)
}

/// The file a path lands in: the longest prefix that is a module.
fn resolve<'a>(path: &[String], modules: &'a BTreeMap<Vec<String>, String>) -> Option<&'a String> {
    (0..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n].to_vec()))
}

struct Graph {
    edges: BTreeMap<String, BTreeSet<String>>,
}

fn graph() -> Graph {
    // Another tree may be checked by naming its src/ (to see these checks fail on one that breaks
    // the rules, such as this repository before the rules were kept).
    let root = std::env::var_os("ARCHITECTURE_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let mut list = Vec::new();
    files(&root, &mut list);
    let files: Vec<File> = list
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).expect("under src");
            File {
                rel: rel.to_string_lossy().into_owned(),
                module: module_of(rel),
                text: std::fs::read_to_string(p).expect("read source"),
            }
        })
        .collect();
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .filter(|f| f.rel != "main.rs")
        .map(|f| (f.module.clone(), f.rel.clone()))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let to = edges.entry(f.rel.clone()).or_default();
        for p in paths(f) {
            if let Some(target) = resolve(&p, &modules)
                && *target != f.rel
                && target != "lib.rs"
            {
                to.insert(target.clone());
            }
        }
    }
    Graph { edges }
}

/// The layer of a file, from its first path segment; higher layers may import lower ones only.
fn layer(file: &str) -> (u8, &'static str) {
    let top = file
        .split('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".rs");
    match top {
        "main" | "lib" => (6, "crate root"),
        "complete" | "commands" | "mock_tests" => (5, "commands"),
        "invocation" => (4, "invocation"),
        "cli" => (3, "cli"),
        "prompt" | "render" | "cluster" | "jaeger" | "grpc" | "manifests" => (2, "services"),
        "web" | "error" | "exit" | "options" => (1, "base"),
        "domain" | "invariants" => (0, "domain"),
        _ => (7, "unknown"),
    }
}

/// `v1`, `v2` or `traces` when the file sits in that wing of its layer.
fn wing(file: &str) -> Option<&str> {
    let mut parts = file.split('/');
    let _layer = parts.next()?;
    let second = parts.next()?;
    let name = second.trim_end_matches(".rs");
    matches!(name, "v1" | "v2" | "traces").then_some(name)
}

#[test]
fn no_import_circle_between_files() {
    let g = graph();
    // Depth-first search for a back edge; report the circle it closes.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    let mut stack: Vec<&str> = Vec::new();
    let mut circles: Vec<String> = Vec::new();
    fn visit<'a>(
        n: &'a str,
        g: &'a Graph,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
        circles: &mut Vec<String>,
    ) {
        state.insert(n, 1);
        stack.push(n);
        for m in g.edges.get(n).into_iter().flatten() {
            match state.get(m.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|s| *s == m).unwrap_or(0);
                    let mut c: Vec<&str> = stack[from..].to_vec();
                    c.push(m);
                    circles.push(c.join(" -> "));
                }
                Some(_) => {}
                None => visit(m, g, state, stack, circles),
            }
        }
        stack.pop();
        state.insert(n, 2);
    }
    for n in g.edges.keys() {
        if !state.contains_key(n.as_str()) {
            visit(n, &g, &mut state, &mut stack, &mut circles);
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn imports_run_down_the_layers_only() {
    let g = graph();
    let mut wrong = Vec::new();
    for (from, tos) in &g.edges {
        let (lf, nf) = layer(from);
        assert!(
            lf < 7,
            "{from}: no layer is known for this file; add it to layer()"
        );
        for to in tos {
            let (lt, nt) = layer(to);
            if lt > lf {
                wrong.push(format!("{from} ({nf}) imports {to} ({nt})"));
            }
        }
    }
    assert!(wrong.is_empty(), "upward imports:\n{}", wrong.join("\n"));
}

#[test]
fn the_wings_read_each_other_only_as_allowed() {
    let g = graph();
    let mut wrong = Vec::new();
    for (from, tos) in &g.edges {
        for to in tos {
            let allowed = match (wing(from), wing(to)) {
                (Some(a), Some(b)) if a == b => true,
                // traces may read both generations; they never read traces nor each other.
                (Some("traces"), Some(_)) => true,
                (Some(_), Some(_)) => false,
                // What a domain wing holds is not for the domain's shared modules.
                (None, Some(_)) if from.starts_with("domain/") => false,
                _ => true,
            };
            if !allowed {
                wrong.push(format!("{from} imports {to}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports across wings:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_reader_finds_real_edges() {
    // The checks above are only as good as the graph: a few edges the code is known to have.
    let g = graph();
    for (from, to) in [
        ("domain/traces/verdict.rs", "domain/v1/status.rs"),
        ("commands/overview.rs", "commands/v2/read.rs"),
        ("cli.rs", "options.rs"),
        ("invocation/mod.rs", "cli.rs"),
    ] {
        assert!(
            g.edges.get(from).is_some_and(|t| t.contains(to)),
            "{from} -> {to} not seen; edges of {from}: {:?}",
            g.edges.get(from)
        );
    }
    assert!(g.edges.len() > 60, "only {} files read", g.edges.len());
}
