//! The Seldon protocol's gRPC messages that `verify --grpc` sends and reads, written by hand from
//! Seldon Core v1.18.2's `proto/prediction.proto` (field numbers and types as there; see
//! docs/facts/traces.md, "Spans the executor makes"): a SeldonMessage with its status and the
//! data forms a request is written in, and google.protobuf's Value for `ndarray` and `jsonData`.
//! Only what a request needs is declared; fields left out are skipped when an answer is read.
//!
//! A request body is given as JSON (`--data`, or the default request) in the form the REST API
//! takes, and turned into the message the executor's JSON reader would make of it.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// `seldon.protos.SeldonMessage`. `data`, `str_data` and `json_data` are one oneof on the
/// wire; at most one is set.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SeldonMessage {
    #[prost(message, optional, tag = "1")]
    pub status: Option<Status>,
    #[prost(message, optional, tag = "3")]
    pub data: Option<DefaultData>,
    #[prost(string, optional, tag = "5")]
    pub str_data: Option<String>,
    #[prost(message, optional, tag = "6")]
    pub json_data: Option<Value>,
}

/// `seldon.protos.Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Status {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub info: String,
    #[prost(string, tag = "3")]
    pub reason: String,
    /// 0 SUCCESS, 1 FAILURE.
    #[prost(int32, tag = "4")]
    pub status: i32,
}

/// `seldon.protos.DefaultData`: names, and a tensor or an ndarray (one oneof on the wire).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DefaultData {
    #[prost(string, repeated, tag = "1")]
    pub names: Vec<String>,
    #[prost(message, optional, tag = "2")]
    pub tensor: Option<Tensor>,
    #[prost(message, optional, tag = "3")]
    pub ndarray: Option<ListValue>,
}

/// `seldon.protos.Tensor`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Tensor {
    #[prost(int32, repeated, packed = "true", tag = "1")]
    pub shape: Vec<i32>,
    #[prost(double, repeated, packed = "true", tag = "2")]
    pub values: Vec<f64>,
}

/// `google.protobuf.Value`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Value {
    #[prost(oneof = "Kind", tags = "1, 2, 3, 4, 5, 6")]
    pub kind: Option<Kind>,
}

/// `google.protobuf.Value`'s `kind`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Kind {
    /// NullValue, always 0.
    #[prost(int32, tag = "1")]
    Null(i32),
    #[prost(double, tag = "2")]
    Number(f64),
    #[prost(string, tag = "3")]
    Text(String),
    #[prost(bool, tag = "4")]
    Bool(bool),
    #[prost(message, tag = "5")]
    Struct(Struct),
    #[prost(message, tag = "6")]
    List(ListValue),
}

/// `google.protobuf.Struct`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Struct {
    #[prost(btree_map = "string, message", tag = "1")]
    pub fields: BTreeMap<String, Value>,
}

/// `google.protobuf.ListValue`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListValue {
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<Value>,
}

/// Deeper JSON than this is refused rather than recursed into.
const MAX_DEPTH: usize = 64;

/// JSON as a `google.protobuf.Value` (numbers as doubles, as protobuf's JSON mapping has them).
fn value(j: &Json, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels"));
    }
    let kind = match j {
        Json::Null => Kind::Null(0),
        Json::Bool(b) => Kind::Bool(*b),
        Json::Number(n) => Kind::Number(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => Kind::Text(s.clone()),
        Json::Array(a) => Kind::List(list(a, depth)?),
        Json::Object(o) => Kind::Struct(Struct {
            fields: o
                .iter()
                .map(|(k, v)| Ok((k.clone(), value(v, depth + 1)?)))
                .collect::<Result<_, String>>()?,
        }),
    };
    Ok(Value { kind: Some(kind) })
}

fn list(a: &[Json], depth: usize) -> Result<ListValue, String> {
    Ok(ListValue {
        values: a
            .iter()
            .map(|v| value(v, depth + 1))
            .collect::<Result<_, String>>()?,
    })
}

fn numbers<T>(
    j: Option<&Json>,
    what: &str,
    each: impl Fn(&Json) -> Option<T>,
) -> Result<Vec<T>, String> {
    match j {
        None => Ok(Vec::new()),
        Some(Json::Array(a)) => a
            .iter()
            .map(|v| each(v).ok_or_else(|| format!("data.tensor.{what} holds {v}, not a number")))
            .collect(),
        Some(other) => Err(format!("data.tensor.{what} is {other}, not a list")),
    }
}

/// The SeldonMessage a REST request body stands for: `{"data": {"names": [...], "ndarray": ...}}`
/// or `{"data": {"tensor": {"shape": [...], "values": [...]}}}`, `{"strData": "..."}` or
/// `{"jsonData": ...}`. Other forms (binData, customData, tftensor) are refused with what to
/// give instead.
pub fn from_json(body: &Json) -> Result<SeldonMessage, String> {
    let obj = body
        .as_object()
        .ok_or("a gRPC request body is a JSON object such as {\"data\": {\"ndarray\": [[1.0]]}}")?;
    let mut msg = SeldonMessage::default();
    let mut forms = Vec::new();
    for (key, v) in obj {
        match key.as_str() {
            "data" => {
                forms.push("data");
                let d = v.as_object().ok_or("\"data\" must be an object")?;
                let names = match d.get("names") {
                    None => Vec::new(),
                    Some(Json::Array(a)) => a
                        .iter()
                        .map(|n| {
                            n.as_str()
                                .map(str::to_string)
                                .ok_or("data.names holds a non-string")
                        })
                        .collect::<Result<_, _>>()?,
                    Some(_) => return Err("data.names must be a list of strings".into()),
                };
                let mut data = DefaultData {
                    names,
                    ..DefaultData::default()
                };
                for (k, inner) in d {
                    match k.as_str() {
                        "names" => {}
                        "ndarray" => {
                            let a = inner.as_array().ok_or("data.ndarray must be a list")?;
                            data.ndarray = Some(list(a, 1)?);
                        }
                        "tensor" => {
                            let shape = numbers(inner.get("shape"), "shape", |n| {
                                n.as_i64().and_then(|x| i32::try_from(x).ok())
                            })?;
                            let values = numbers(inner.get("values"), "values", Json::as_f64)?;
                            data.tensor = Some(Tensor { shape, values });
                        }
                        other => {
                            return Err(format!(
                                "data.{other} cannot be sent over gRPC by the plugin; give data.ndarray or data.tensor"
                            ));
                        }
                    }
                }
                if data.ndarray.is_some() && data.tensor.is_some() {
                    return Err("data holds both ndarray and tensor; give one".into());
                }
                msg.data = Some(data);
            }
            "strData" => {
                forms.push("strData");
                msg.str_data = Some(v.as_str().ok_or("strData must be a string")?.to_string());
            }
            "jsonData" => {
                forms.push("jsonData");
                msg.json_data = Some(value(v, 1)?);
            }
            "meta" => {}
            other => {
                return Err(format!(
                    "\"{other}\" cannot be sent over gRPC by the plugin; give data (ndarray or tensor), strData or jsonData"
                ));
            }
        }
    }
    match forms.as_slice() {
        [] => {
            Err("the body has no data; give data (ndarray or tensor), strData or jsonData".into())
        }
        [_] => Ok(msg),
        many => Err(format!("the body holds {}; give one", many.join(" and "))),
    }
}

/// What a SeldonMessage's status says of a failure: `info` and `reason`, when it says FAILURE
/// or carries a code that is not 200 (the executor writes 500 with FAILURE).
pub fn failure(msg: &SeldonMessage) -> Option<String> {
    let s = msg.status.as_ref()?;
    if s.status != 1 && (s.code == 0 || s.code == 200) {
        return None;
    }
    let said: Vec<&str> = [s.info.trim(), s.reason.trim()]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    Some(if said.is_empty() {
        format!("status code {}", s.code)
    } else {
        said.join(": ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;
    use serde_json::json;

    #[test]
    fn the_default_request_is_the_smallest_ndarray_and_encodes_as_protobuf_writes_it() {
        let msg = from_json(&json!({"data": {"ndarray": [[1.0]]}})).unwrap();
        // field 3 (data) { field 3 (ndarray) { field 1 (values) { field 6 (list_value)
        //   { field 1 { field 2 (number_value) 1.0 } } } } }
        let bytes = msg.encode_to_vec();
        assert_eq!(
            bytes,
            [
                0x1a, 0x11, 0x1a, 0x0f, 0x0a, 0x0d, 0x32, 0x0b, 0x0a, 0x09, 0x11, 0, 0, 0, 0, 0, 0,
                0xf0, 0x3f
            ]
        );
        assert_eq!(SeldonMessage::decode(bytes.as_slice()).unwrap(), msg);
    }

    #[test]
    fn every_json_form_a_request_takes_converts() {
        let m = from_json(&json!({"data": {"names": ["a", "b"], "tensor": {"shape": [1, 2], "values": [0.5, 2]}}})).unwrap();
        let d = m.data.unwrap();
        assert_eq!(d.names, ["a", "b"]);
        assert_eq!(
            d.tensor.unwrap(),
            Tensor {
                shape: vec![1, 2],
                values: vec![0.5, 2.0]
            }
        );
        let m = from_json(&json!({"strData": "hello"})).unwrap();
        assert_eq!(m.str_data.as_deref(), Some("hello"));
        let m = from_json(&json!({"jsonData": {"k": [true, null, "x"]}, "meta": {}})).unwrap();
        let Some(Kind::Struct(s)) = m.json_data.unwrap().kind else {
            panic!("a struct")
        };
        let Some(Kind::List(l)) = &s.fields["k"].kind else {
            panic!("a list")
        };
        assert_eq!(
            l.values
                .iter()
                .map(|v| v.kind.clone().unwrap())
                .collect::<Vec<_>>(),
            [Kind::Bool(true), Kind::Null(0), Kind::Text("x".into())]
        );
    }

    #[test]
    fn forms_the_plugin_cannot_send_are_refused_with_what_to_give() {
        for (body, says) in [
            (json!([1]), "a JSON object"),
            (json!({}), "has no data"),
            (
                json!({"binData": "AAA="}),
                "\"binData\" cannot be sent over gRPC",
            ),
            (
                json!({"data": {"tftensor": {}}}),
                "data.tftensor cannot be sent over gRPC",
            ),
            (
                json!({"data": {"ndarray": [1], "tensor": {}}}),
                "both ndarray and tensor",
            ),
            (
                json!({"data": {"ndarray": [1]}, "strData": "x"}),
                "holds data and strData",
            ),
            (
                json!({"data": {"tensor": {"values": ["x"]}}}),
                "not a number",
            ),
            (json!({"data": {"ndarray": 3}}), "must be a list"),
        ] {
            let e = from_json(&body).unwrap_err();
            assert!(e.contains(says), "{body}: {e}");
        }
        let mut deep = json!(1);
        for _ in 0..100 {
            deep = json!([deep]);
        }
        let e = from_json(&json!({"data": {"ndarray": deep}})).unwrap_err();
        assert!(e.contains("nested deeper"), "{e}");
    }

    #[test]
    fn a_failed_status_says_why_and_a_success_says_nothing() {
        let with = |code, info: &str, reason: &str, status| SeldonMessage {
            status: Some(Status {
                code,
                info: info.into(),
                reason: reason.into(),
                status,
            }),
            ..SeldonMessage::default()
        };
        assert_eq!(failure(&SeldonMessage::default()), None);
        assert_eq!(failure(&with(200, "", "", 0)), None);
        assert_eq!(failure(&with(0, "", "", 0)), None);
        assert_eq!(failure(&with(500, "boom", "", 1)).as_deref(), Some("boom"));
        assert_eq!(
            failure(&with(400, "bad", "MICROSERVICE_BAD_DATA", 1)).as_deref(),
            Some("bad: MICROSERVICE_BAD_DATA")
        );
        assert_eq!(
            failure(&with(503, "", "", 0)).as_deref(),
            Some("status code 503")
        );
    }
}
