//! Where each tracing switch lives in a SeldonDeployment: one executor per predictor (unless
//! `seldon.io/no-engine`), one component per graph node, and the explainer. Pure reads of raw JSON.

use serde_json::Value;

use crate::domain::json::str_at;

pub const NO_ENGINE: &str = "seldon.io/no-engine";
pub const ENGINE_ANNOTATION_PREFIX: &str = "seldon.io/engine-";
/// Puts the executor in its own Deployment; not an env annotation.
pub const SEPARATE_POD: &str = "seldon.io/engine-separate-pod";

/// Built-in units that run inside the executor: they have no container and no switch of their own.
const BUILT_IN: &[&str] = &[
    "SIMPLE_MODEL",
    "SIMPLE_ROUTER",
    "RANDOM_ABTEST",
    "AVERAGE_COMBINER",
];

/// Prepackaged servers that run Seldon's Python wrapper under the seldon protocol.
const PYTHON_SERVERS: &[&str] = &[
    "SKLEARN_SERVER",
    "XGBOOST_SERVER",
    "MLFLOW_SERVER",
    "TENSORFLOW_SERVER",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The service orchestrator (`seldon-container-engine`).
    Executor,
    /// A custom model/transformer/router image built on Seldon's Python wrapper.
    PythonWrapper,
    /// A prepackaged server running the Python wrapper (e.g. SKLEARN_SERVER).
    Prepackaged(String),
    /// Runs inside the executor (e.g. RANDOM_ABTEST).
    BuiltIn(String),
    /// Has no Jaeger support the plugin knows how to switch (MLServer, Triton, explainers...).
    Unsupported(String),
    /// A graph node without a container and without an implementation.
    Unknown,
}

impl Kind {
    pub fn label(&self) -> String {
        match self {
            Kind::Executor => "executor".into(),
            Kind::PythonWrapper => "python-wrapper".into(),
            Kind::Prepackaged(i) => i.clone(),
            Kind::BuiltIn(i) if i == "RANDOM_ABTEST" => format!("{i} (in executor)"),
            Kind::BuiltIn(i) => format!("{i} (pass-through in executor)"),
            Kind::Unsupported(why) => format!("unsupported ({why})"),
            Kind::Unknown => "unknown".into(),
        }
    }

    /// Components whose tracing is switched by `TRACING`.
    pub fn is_python(&self) -> bool {
        matches!(self, Kind::PythonWrapper | Kind::Prepackaged(_))
    }
}

/// A graph node with where its container is, if it has one.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    pub name: String,
    pub kind: Kind,
    /// `(componentSpecs index, containers index)` of the container named after the node.
    pub container: Option<(usize, usize)>,
    pub json: &'a Value,
}

pub fn predictor_name(p: &Value) -> &str {
    p.get("name").and_then(Value::as_str).unwrap_or("")
}

pub fn has_engine(p: &Value) -> bool {
    str_at(p, &["annotations", NO_ENGINE]).is_none_or(|v| !v.eq_ignore_ascii_case("true"))
}

/// `spec.protocol`, lower-cased; `seldon` when unset.
fn protocol(spec: &Value) -> String {
    str_at(spec, &["protocol"])
        .unwrap_or("seldon")
        .to_ascii_lowercase()
}

fn find_container(p: &Value, name: &str) -> Option<(usize, usize)> {
    let specs = p.get("componentSpecs")?.as_array()?;
    specs.iter().enumerate().find_map(|(si, cs)| {
        let containers = cs.get("spec")?.get("containers")?.as_array()?;
        containers
            .iter()
            .position(|c| c.get("name").and_then(Value::as_str) == Some(name))
            .map(|ci| (si, ci))
    })
}

pub fn container_at(p: &Value, at: (usize, usize)) -> Option<&Value> {
    p.get("componentSpecs")?
        .get(at.0)?
        .get("spec")?
        .get("containers")?
        .get(at.1)
}

/// Whether `implementation` is a unit the executor runs itself (no container, no call).
pub fn is_built_in(implementation: &str) -> bool {
    BUILT_IN.contains(&implementation)
}

/// Whether the operator runs `implementation` as a prepackaged server (v1.18.2's `IsPrepack`):
/// any implementation but the built-in units and `UNKNOWN_IMPLEMENTATION`, whatever the protocol
/// and whether or not the server can trace. Such a node without a container gets one, appended to
/// `componentSpecs[0]`.
pub fn is_prepack(implementation: &str) -> bool {
    !implementation.is_empty()
        && implementation != "UNKNOWN_IMPLEMENTATION"
        && !is_built_in(implementation)
}

fn classify(spec: &Value, p: &Value, node: &Value, container: Option<(usize, usize)>) -> Kind {
    let protocol = protocol(spec);
    let v2 = matches!(protocol.as_str(), "v2" | "kfserving");
    let implementation = str_at(node, &["implementation"]).unwrap_or("");
    if is_built_in(implementation) {
        return Kind::BuiltIn(implementation.into());
    }
    if is_prepack(implementation) {
        if v2 {
            return Kind::Unsupported(format!("{implementation} on MLServer/v2"));
        }
        // Under the tensorflow protocol the node's container is TF Serving itself, not the
        // Python proxy that takes TRACING.
        if implementation == "TENSORFLOW_SERVER" && protocol == "tensorflow" {
            return Kind::Unsupported("TF Serving, tensorflow protocol".into());
        }
        if PYTHON_SERVERS.contains(&implementation) {
            return Kind::Prepackaged(implementation.into());
        }
        return Kind::Unsupported(implementation.into());
    }
    let Some(at) = container else {
        return Kind::Unknown;
    };
    if v2 {
        return Kind::Unsupported("v2 protocol".into());
    }
    let image = container_at(p, at)
        .and_then(|c| str_at(c, &["image"]))
        .unwrap_or("")
        .to_ascii_lowercase();
    for (needle, what) in [
        ("mlserver", "MLServer"),
        ("tritonserver", "Triton"),
        ("tensorflow/serving", "TF Serving"),
    ] {
        if image.contains(needle) {
            return Kind::Unsupported(what.into());
        }
    }
    Kind::PythonWrapper
}

/// Graph nodes in pre-order (the order the graph reads top to bottom).
pub fn nodes<'a>(spec: &Value, p: &'a Value) -> Vec<Node<'a>> {
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = p.get("graph").into_iter().collect();
    while let Some(node) = stack.pop() {
        let name = str_at(node, &["name"]).unwrap_or("").to_string();
        let container = find_container(p, &name);
        let kind = classify(spec, p, node, container);
        out.push(Node {
            name,
            kind,
            container,
            json: node,
        });
        if let Some(children) = node.get("children").and_then(Value::as_array) {
            stack.extend(children.iter().rev());
        }
    }
    out
}

/// The env list of the container at `at`, if any.
pub fn container_env(p: &Value, at: (usize, usize)) -> Option<&Value> {
    container_at(p, at)?.get("env")
}

/// The executor's env var name that a `seldon.io/engine-*` annotation maps to.
pub fn engine_annotation_var(key: &str) -> Option<String> {
    let suffix = key.strip_prefix(ENGINE_ANNOTATION_PREFIX)?;
    Some(suffix.to_ascii_uppercase().replace('-', "_"))
}

/// Value of the `seldon.io/engine-*` annotation that sets `var` on the executor, if any: the
/// first such key in sorted order, as the operator reads them.
pub fn engine_annotation<'a>(spec: &'a Value, var: &str) -> Option<&'a str> {
    spec.get("annotations")?
        .as_object()?
        .iter()
        .filter(|(k, _)| *k != SEPARATE_POD && engine_annotation_var(k).as_deref() == Some(var))
        .min_by(|a, b| a.0.cmp(b.0))
        .and_then(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_nodes_by_implementation_protocol_and_image() {
        let spec = json!({});
        let p = json!({
            "name": "p",
            "graph": {"name": "t", "children": [
                {"name": "ab", "implementation": "RANDOM_ABTEST", "children": [
                    {"name": "sk", "implementation": "SKLEARN_SERVER"},
                    {"name": "tr", "implementation": "TRITON_SERVER"},
                    {"name": "ml"}
                ]},
                {"name": "ghost"}
            ]},
            "componentSpecs": [{"spec": {"containers": [
                {"name": "t", "image": "me/transformer:1"},
                {"name": "ml", "image": "seldonio/mlserver:1.3"}
            ]}}]
        });
        let got: Vec<(String, String)> = nodes(&spec, &p)
            .into_iter()
            .map(|n| (n.name, n.kind.label()))
            .collect();
        let want = [
            ("t", "python-wrapper"),
            ("ab", "RANDOM_ABTEST (in executor)"),
            ("sk", "SKLEARN_SERVER"),
            ("tr", "unsupported (TRITON_SERVER)"),
            ("ml", "unsupported (MLServer)"),
            ("ghost", "unknown"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, want);
        let v2 = json!({"protocol": "v2"});
        assert_eq!(
            nodes(&v2, &p)[2].kind.label(),
            "unsupported (SKLEARN_SERVER on MLServer/v2)"
        );
        let tf =
            json!({"name": "p", "graph": {"name": "tf", "implementation": "TENSORFLOW_SERVER"}});
        assert_eq!(nodes(&json!({}), &tf)[0].kind.label(), "TENSORFLOW_SERVER");
        assert_eq!(
            nodes(&json!({"protocol": "tensorflow"}), &tf)[0]
                .kind
                .label(),
            "unsupported (TF Serving, tensorflow protocol)"
        );
    }

    #[test]
    fn engine_annotations_map_to_executor_variables() {
        assert_eq!(
            engine_annotation_var("seldon.io/engine-jaeger-sampler-type").as_deref(),
            Some("JAEGER_SAMPLER_TYPE")
        );
        let spec = json!({"annotations": {"seldon.io/engine-jaeger-disabled": "true"}});
        assert_eq!(engine_annotation(&spec, "JAEGER_DISABLED"), Some("true"));
        assert!(!has_engine(
            &json!({"annotations": {"seldon.io/no-engine": "true"}})
        ));
        assert!(has_engine(&json!({"name": "p"})));
    }
}
