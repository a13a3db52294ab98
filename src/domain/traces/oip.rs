//! The Open Inference Protocol's gRPC messages that `verify --core v2 --grpc` sends and reads,
//! written by hand (package `inference`, service `inference.GRPCInferenceService`; field numbers
//! as docs/facts/seldon-core-2.md lists them from the descriptor MLServer 1.7.1 ships). Only what
//! a request needs is declared; `parameters` and fields left out are skipped when an answer is
//! read.
//!
//! The body is given as the REST JSON (`--data`, or the default request) and turned into the
//! message the way Seldon's pipeline gateway turns REST into gRPC (v2.10.2
//! `scheduler/pkg/kafka/pipeline/v2.go`): each input's values by datatype into typed contents,
//! nested `data` arrays flattened in order.

use serde_json::Value;

/// The method the agent's gRPC proxy and MLServer serve.
pub const MODEL_INFER: &str = "/inference.GRPCInferenceService/ModelInfer";

/// `inference.ModelInferRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelInferRequest {
    #[prost(string, tag = "1")]
    pub model_name: String,
    #[prost(string, tag = "2")]
    pub model_version: String,
    #[prost(string, tag = "3")]
    pub id: String,
    #[prost(message, repeated, tag = "5")]
    pub inputs: Vec<InferTensor>,
}

/// `inference.ModelInferRequest.InferInputTensor`, and the response's `InferOutputTensor`
/// (the same fields).
#[derive(Clone, PartialEq, prost::Message)]
pub struct InferTensor {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub datatype: String,
    #[prost(int64, repeated, packed = "true", tag = "3")]
    pub shape: Vec<i64>,
    #[prost(message, optional, tag = "5")]
    pub contents: Option<InferTensorContents>,
}

/// `inference.InferTensorContents`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InferTensorContents {
    #[prost(bool, repeated, packed = "true", tag = "1")]
    pub bool_contents: Vec<bool>,
    #[prost(int32, repeated, packed = "true", tag = "2")]
    pub int_contents: Vec<i32>,
    #[prost(int64, repeated, packed = "true", tag = "3")]
    pub int64_contents: Vec<i64>,
    #[prost(uint32, repeated, packed = "true", tag = "4")]
    pub uint_contents: Vec<u32>,
    #[prost(uint64, repeated, packed = "true", tag = "5")]
    pub uint64_contents: Vec<u64>,
    #[prost(float, repeated, packed = "true", tag = "6")]
    pub fp32_contents: Vec<f32>,
    #[prost(double, repeated, packed = "true", tag = "7")]
    pub fp64_contents: Vec<f64>,
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub bytes_contents: Vec<Vec<u8>>,
}

/// `inference.ModelInferResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelInferResponse {
    #[prost(string, tag = "1")]
    pub model_name: String,
    #[prost(string, tag = "2")]
    pub model_version: String,
    #[prost(string, tag = "3")]
    pub id: String,
    #[prost(message, repeated, tag = "5")]
    pub outputs: Vec<InferTensor>,
    #[prost(bytes = "vec", repeated, tag = "6")]
    pub raw_output_contents: Vec<Vec<u8>>,
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| flatten(x, out)),
        other => out.push(other),
    }
}

/// One input tensor of the REST JSON as a message; why not, naming the tensor.
fn tensor(t: &Value) -> Result<InferTensor, String> {
    let name = t["name"].as_str().unwrap_or_default().to_string();
    let datatype = t["datatype"].as_str().unwrap_or_default().to_string();
    let shape: Vec<i64> = t["shape"]
        .as_array()
        .ok_or_else(|| format!("input {name:?} has no shape"))?
        .iter()
        .map(|d| {
            d.as_i64()
                .ok_or_else(|| format!("input {name:?}: shape {d} is not an integer"))
        })
        .collect::<Result<_, _>>()?;
    let mut values = Vec::new();
    flatten(&t["data"], &mut values);
    let number = |v: &Value| {
        v.as_f64()
            .ok_or_else(|| format!("input {name:?}: {v} is not a number, as {datatype} wants"))
    };
    // Every value as a number, cast as the datatype's field holds it.
    fn all<T>(
        values: &[&Value],
        number: &impl Fn(&Value) -> Result<f64, String>,
        cast: fn(f64) -> T,
    ) -> Result<Vec<T>, String> {
        values.iter().map(|v| number(v).map(cast)).collect()
    }
    let mut c = InferTensorContents::default();
    match datatype.as_str() {
        "BOOL" => {
            c.bool_contents = values
                .iter()
                .map(|v| {
                    v.as_bool()
                        .ok_or_else(|| format!("input {name:?}: {v} is not a bool"))
                })
                .collect::<Result<_, _>>()?
        }
        "INT8" | "INT16" | "INT32" => c.int_contents = all(&values, &number, |x| x as i32)?,
        "INT64" => c.int64_contents = all(&values, &number, |x| x as i64)?,
        "UINT8" | "UINT16" | "UINT32" => c.uint_contents = all(&values, &number, |x| x as u32)?,
        "UINT64" => c.uint64_contents = all(&values, &number, |x| x as u64)?,
        "FP16" | "FP32" => c.fp32_contents = all(&values, &number, |x| x as f32)?,
        "FP64" => c.fp64_contents = all(&values, &number, |x| x)?,
        "BYTES" => {
            c.bytes_contents = values
                .iter()
                .map(|v| {
                    v.as_str().map(|s| s.as_bytes().to_vec()).ok_or_else(|| {
                        format!("input {name:?}: {v} is not a string, as BYTES wants")
                    })
                })
                .collect::<Result<_, _>>()?
        }
        other => return Err(format!("input {name:?}: unknown datatype {other:?}")),
    }
    Ok(InferTensor {
        name,
        datatype,
        shape,
        contents: Some(c),
    })
}

/// The REST JSON request as a `ModelInferRequest` for `model`.
pub fn request(model: &str, body: &Value) -> Result<ModelInferRequest, String> {
    let inputs = body["inputs"]
        .as_array()
        .ok_or("the request has no \"inputs\" list (the Open Inference Protocol's form)")?;
    Ok(ModelInferRequest {
        model_name: model.to_string(),
        model_version: String::new(),
        id: body["id"].as_str().unwrap_or_default().to_string(),
        inputs: inputs.iter().map(tensor).collect::<Result<_, _>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use serde_json::json;

    #[test]
    fn the_default_body_becomes_typed_contents_in_order() {
        let body = json!({"inputs": [{"name": "predict", "shape": [1, 4], "datatype": "FP32",
                                      "data": [[1, 2, 3, 4]]}]});
        let r = request("iris", &body).expect("request");
        assert_eq!(r.model_name, "iris");
        let t = &r.inputs[0];
        assert_eq!(
            (t.name.as_str(), t.shape.as_slice()),
            ("predict", &[1, 4][..])
        );
        assert_eq!(
            t.contents.as_ref().map(|c| c.fp32_contents.clone()),
            Some(vec![1.0, 2.0, 3.0, 4.0])
        );
        // Round trip through the wire, as the server reads it.
        let back = ModelInferRequest::decode(r.encode_to_vec().as_slice()).expect("decode");
        assert_eq!(back, r);
    }

    #[test]
    fn each_datatype_fills_its_own_field_and_bad_values_name_the_tensor() {
        let body = json!({"inputs": [
            {"name": "a", "shape": [2], "datatype": "INT64", "data": [1, 2]},
            {"name": "b", "shape": [1], "datatype": "BYTES", "data": ["x"]},
            {"name": "c", "shape": [1], "datatype": "BOOL", "data": [true]}]});
        let r = request("m", &body).expect("request");
        let c = |i: usize| r.inputs[i].contents.clone().unwrap_or_default();
        assert_eq!(c(0).int64_contents, [1, 2]);
        assert_eq!(c(1).bytes_contents, [b"x".to_vec()]);
        assert_eq!(c(2).bool_contents, [true]);
        let bad =
            json!({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": ["no"]}]});
        let why = request("m", &bad).unwrap_err();
        assert!(why.contains("input \"x\"") && why.contains("FP32"), "{why}");
        assert!(request("m", &json!({"data": {}})).is_err());
    }
}
