//! What must hold for any object, checked by the property tests (`tests/plan_props.rs`) and the
//! fuzz targets (`tests/fuzz/`): the pure code never panics, and a plan changes nothing but the
//! tracing variables it names (plus the stub containers it adds). Also the fuzz targets' entry
//! points, so their regressions run as ordinary unit tests on stable Rust.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::domain::v1::clients::Propagation;
use crate::domain::v1::plan::{AgentHost, Intent, Plan, plan};
use crate::domain::v1::rollout::{Deployments, rollout};
use crate::domain::v1::status::{attach_rollout, status};

/// Every env list of the object's predictors, keyed by where it is.
fn env_lists(obj: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (pi, p) in obj
        .pointer("/spec/predictors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        out.push((
            format!("p{pi}/executor"),
            p.pointer("/svcOrchSpec/env")
                .cloned()
                .unwrap_or(Value::Null),
        ));
        for c in p
            .pointer("/componentSpecs/0/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.push((
                format!(
                    "p{pi}/{}",
                    c.get("name").and_then(Value::as_str).unwrap_or("?")
                ),
                c.get("env").cloned().unwrap_or(Value::Null),
            ));
        }
    }
    out
}

/// The object with every env list and every stub container (name and env only) taken out.
fn skeleton(obj: &Value) -> Value {
    let mut s = obj.clone();
    let predictors = s
        .pointer_mut("/spec/predictors")
        .and_then(Value::as_array_mut);
    for p in predictors.into_iter().flatten() {
        if let Some(svc) = p.get_mut("svcOrchSpec").and_then(Value::as_object_mut) {
            svc.remove("env");
            if svc.is_empty() {
                p.as_object_mut().map(|o| o.remove("svcOrchSpec"));
            }
        }
        let single = p
            .get("componentSpecs")
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() == 1);
        let mut emptied = false;
        if let Some(cs) = p
            .pointer_mut("/componentSpecs/0/spec/containers")
            .and_then(Value::as_array_mut)
        {
            cs.retain(|c| !(c.get("image").is_none() && c.get("env").is_some()));
            for c in cs.iter_mut() {
                c.as_object_mut().map(|o| o.remove("env"));
            }
            emptied = cs.is_empty();
        }
        // The plugin's own config-file volume and mounts (`ownfile`), wherever a plan adds them.
        for cs in p
            .get_mut("componentSpecs")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let Some(pod) = cs.get_mut("spec").and_then(Value::as_object_mut) else {
                continue;
            };
            drop_named(pod, "volumes");
            for c in pod
                .get_mut("containers")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(c) = c.as_object_mut() {
                    drop_named(c, "volumeMounts");
                }
            }
        }
        // A containers list, or a whole componentSpecs, that held only stubs.
        if emptied {
            let spec = p.pointer_mut("/componentSpecs/0/spec");
            spec.and_then(Value::as_object_mut)
                .map(|o| o.remove("containers"));
        }
        if single && p.pointer("/componentSpecs/0") == Some(&json!({"spec": {}})) {
            p.as_object_mut().map(|o| o.remove("componentSpecs"));
        }
    }
    s
}

/// Removes the entries named `ownfile::VOLUME` from the list `field` of `holder`, and the list
/// when nothing else is left in it.
fn drop_named(holder: &mut serde_json::Map<String, Value>, field: &str) {
    if let Some(list) = holder.get_mut(field).and_then(Value::as_array_mut) {
        list.retain(|v| {
            v.get("name").and_then(Value::as_str)
                != Some(crate::domain::v1::config_file::plugin_map::VOLUME)
        });
        if list.is_empty() {
            holder.remove(field);
        }
    }
}

fn names(env: &Value) -> Vec<String> {
    env.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            e.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

/// Whether storing plan `p` of `before` changes only what it names: outside env lists and stub
/// containers not a byte differs; entries of an env list the plan does not name stay identical
/// and in order; no name appears more often than before. The reason when it does not hold.
pub fn plan_preserves(before: &Value, p: &Plan) -> Result<(), String> {
    let mut after = before.clone();
    if let Some(spec) = after.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("predictors".into(), p.predictors.clone());
    }
    if skeleton(before) != skeleton(&after) {
        return Err("something outside the env lists and stub containers changed".into());
    }
    let before_lists = env_lists(before);
    for (place, after_env) in env_lists(&after) {
        let touched: BTreeSet<String> = p
            .changes
            .iter()
            .filter(|c| place.ends_with(&format!("/{}", c.component)))
            .filter_map(|c| c.var.clone())
            .collect();
        let before_env = before_lists
            .iter()
            .find(|(k, _)| *k == place)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null);
        let keep = |env: &Value| -> Vec<Value> {
            env.as_array()
                .into_iter()
                .flatten()
                .filter(|e| !touched.contains(e.get("name").and_then(Value::as_str).unwrap_or("")))
                .cloned()
                .collect()
        };
        if keep(&before_env) != keep(&after_env) {
            return Err(format!(
                "an entry the plan does not name changed at {place}"
            ));
        }
        let after_names = names(&after_env);
        let common: Vec<String> = names(&before_env)
            .into_iter()
            .filter(|n| after_names.contains(n))
            .collect();
        let after_common: Vec<String> = after_names
            .iter()
            .filter(|n| common.contains(n))
            .cloned()
            .collect();
        if common != after_common {
            return Err(format!("the order of kept entries changed at {place}"));
        }
        // No name appears more often than before (once, for one it adds). A list that already
        // held a name twice keeps both entries, rewritten alike (`env::apply`).
        let before_names = names(&before_env);
        for n in &after_names {
            let count = |all: &[String]| all.iter().filter(|x| *x == n).count();
            if count(&after_names) > count(&before_names).max(1) {
                return Err(format!("{n} appears twice at {place}"));
            }
        }
    }
    Ok(())
}

/// Keys the decoder below builds objects from: the ones the code reads, and a few it does not.
const KEYS: &[&str] = &[
    "spec",
    "predictors",
    "name",
    "graph",
    "children",
    "componentSpecs",
    "containers",
    "env",
    "value",
    "valueFrom",
    "fieldRef",
    "fieldPath",
    "svcOrchSpec",
    "annotations",
    "implementation",
    "type",
    "replicas",
    "metadata",
    "namespace",
    "explainer",
    "image",
    "endpoint",
    "protocol",
    "status",
    "state",
    "description",
    "generation",
    "observedGeneration",
    "updatedReplicas",
    "readyReplicas",
    "template",
    "labels",
    "managedFields",
    "manager",
    "operation",
    "fieldsV1",
    "f:spec",
    "f:predictors",
    "seldon.io/engine-jaeger-disabled",
    "seldon.io/engine-separate-pod",
    "seldon.io/no-engine",
    "seldon.io/engine-jaeger-agent-port",
    "JAEGER_CONFIG_PATH",
];

/// Values the decoder uses for strings: env names and values that mean something to the code.
const WORDS: &[&str] = &[
    "TRACING",
    "JAEGER_AGENT_HOST",
    "JAEGER_AGENT_PORT",
    "JAEGER_SAMPLER_TYPE",
    "JAEGER_SAMPLER_PARAM",
    "JAEGER_DISABLED",
    "JAEGER_ENDPOINT",
    "JAEGER_TRACE_PROPAGATION_TYPE",
    "JAEGER_CONFIG_PATH",
    "1",
    "0",
    "true",
    "false",
    "const",
    "probabilistic",
    "ratelimiting",
    "remote",
    "0.5",
    "-1",
    "1e309",
    "NaN",
    "6831",
    "70000",
    "b3",
    "jaeger",
    "MODEL",
    "ROUTER",
    "SKLEARN_SERVER",
    "TRITON_SERVER",
    "SIMPLE_MODEL",
    "status.hostIP",
    "http://c:14268/api/traces",
    "c:14268",
    "",
    " 1",
    "default",
    "classifier",
    "seldon-container-engine",
    "Failed",
    "v2",
    "tensorflow",
    "kubectl-seldon-tracing",
    "Apply",
    "\u{0}",
    "é",
];

/// Reads bytes as a recipe for a JSON value: deep trees, long lists and the words above, so a
/// fuzzer reaches the code's corners faster than with raw JSON text.
struct Recipe<'a> {
    data: &'a [u8],
    at: usize,
    /// JSON nodes still to make: bounds what repeated lists can multiply to.
    budget: usize,
}

/// Nodes one input may make: huge env lists and deep graphs, but not gigabytes.
const RECIPE_NODES: usize = 50_000;

fn nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(nodes).sum(),
        Value::Object(m) => m.values().map(nodes).sum(),
        _ => 0,
    }
}

impl Recipe<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn done(&self) -> bool {
        self.at >= self.data.len()
    }

    fn value(&mut self, depth: usize) -> Value {
        if self.done() || self.budget == 0 {
            return Value::Null;
        }
        self.budget -= 1;
        let b = self.byte();
        match b % 10 {
            _ if depth > 200 => Value::Null,
            0 => Value::Null,
            1 => Value::Bool(b & 16 != 0),
            2 => json!(i64::from(self.byte()) - 64),
            3 => json!(f64::from(self.byte()) / 7.0),
            4 | 5 => Value::String(WORDS[usize::from(self.byte()) % WORDS.len()].to_string()),
            6 | 7 => {
                let n = usize::from(self.byte() % 8);
                let mut m = Map::new();
                for _ in 0..n {
                    let k = KEYS[usize::from(self.byte()) % KEYS.len()];
                    let v = self.value(depth + 1);
                    m.insert(k.to_string(), v);
                }
                Value::Object(m)
            }
            8 => {
                let n = usize::from(self.byte() % 6);
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            }
            // A long list of one repeated item (huge env lists, many predictors).
            _ => {
                let n = usize::from(self.byte()) * 16;
                let item = self.value(depth + 1);
                let size = nodes(&item);
                let n = n.min(self.budget / size);
                self.budget -= n * size;
                Value::Array(vec![item; n])
            }
        }
    }
}

/// The object a fuzz input stands for: JSON text as is, anything else through [`Recipe`],
/// wrapped as a SeldonDeployment when it is not an object with a spec.
pub fn object_from(data: &[u8]) -> Value {
    let v = match serde_json::from_slice::<Value>(data) {
        Ok(v) => v,
        Err(_) => Recipe {
            data,
            at: 0,
            budget: RECIPE_NODES,
        }
        .value(0),
    };
    if v.get("spec").is_some() {
        return v;
    }
    json!({"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
           "metadata": {"name": "fuzz", "namespace": "models"}, "spec": {"predictors": v}})
}

/// Fuzz target `status`: the status, the rollout against itself-made Deployments, never a panic.
pub fn fuzz_status(data: &[u8]) {
    let obj = object_from(data);
    let mut st = status(&obj, "kubectl-seldon-tracing");
    // Deployments from the same bytes: whatever they hold, the rollout must not panic.
    let live = Deployments::new(vec![obj.clone()]);
    attach_rollout(&mut st, &obj, Some(&live));
    for p in obj
        .pointer("/spec/predictors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = rollout(&obj, p, &live);
    }
    let _ = serde_json::to_string(&st);
}

/// The intents the plan target tries on every object.
fn intents() -> Vec<Intent> {
    vec![
        Intent::enable(),
        Intent::Enable {
            sampler: "probabilistic:0.1".parse().ok(),
            agent_host: Some(AgentHost::FromNode),
            agent_port: Some(6832),
            propagation: Some(Propagation::B3),
            collector: Some("http://c:14268/api/traces".into()),
        },
        Intent::Disable,
        Intent::Sampler("remote:0.2".parse().expect("a valid sampler")),
    ]
}

/// Fuzz target `plan`: every intent plans without a panic, changes only what it names, and a
/// second plan on its result changes nothing more.
pub fn fuzz_plan(data: &[u8]) {
    let obj = object_from(data);
    for intent in intents() {
        let Ok(p) = plan(&obj, &intent, &[]) else {
            continue;
        };
        if let Err(why) = plan_preserves(&obj, &p) {
            panic!("{why}: {intent:?} on {obj}");
        }
        let mut after = obj.clone();
        after["spec"]["predictors"] = p.predictors.clone();
        let files =
            crate::domain::v1::config_file::plugin_map::desired_data(&obj, &after, &p.files, None);
        if let Ok(again) = crate::domain::v1::plan::plan_with(&after, &intent, &[], Some(&files)) {
            assert!(
                again.changes.is_empty(),
                "a second {intent:?} changed {:?} on {after}",
                again.changes
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs the fuzzers found or that guard a corner (tests/fuzz/regressions), and the samples.
    #[test]
    fn the_fuzz_regressions_and_the_samples_pass_both_targets() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for dir in ["tests/fuzz/regressions", "tests/fixtures/samples"] {
            let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
                .expect(dir)
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            files.sort();
            for f in files {
                let bytes = std::fs::read(&f).expect("read input");
                // Samples are YAML: their JSON form is what a fuzzer would start from.
                let bytes = match serde_yaml::from_slice::<Value>(&bytes) {
                    Ok(v) if f.extension().is_some_and(|e| e == "yaml") => {
                        serde_json::to_vec(&v).expect("json")
                    }
                    _ => bytes,
                };
                inputs.push(bytes);
            }
        }
        assert!(inputs.len() >= 8, "found {}", inputs.len());
        for input in &inputs {
            fuzz_status(input);
            fuzz_plan(input);
        }
    }

    #[test]
    fn the_recipe_reaches_deep_graphs_and_long_lists() {
        // 7: an object; then key "children" nested 150 deep.
        let mut deep = Vec::new();
        for _ in 0..150 {
            deep.extend([7, 1, 4]);
        }
        let v = Recipe {
            data: &deep,
            at: 0,
            budget: RECIPE_NODES,
        }
        .value(0);
        let mut depth = 0;
        let mut cur = &v;
        while let Some(next) = cur.get("children") {
            depth += 1;
            cur = next;
        }
        assert_eq!(depth, 150);
        // 9: a list of 255 * 16 copies.
        let long = Recipe {
            data: &[9, 255, 0],
            at: 0,
            budget: RECIPE_NODES,
        }
        .value(0);
        assert_eq!(long.as_array().map(Vec::len), Some(4080));
        fuzz_status(&deep);
        fuzz_plan(&deep);
    }
}
