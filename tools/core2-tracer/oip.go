// The Open Inference Protocol's protobuf messages, encoded and decoded by hand for the pipeline
// stand-ins (pipeline.go): the Go module that holds Seldon's generated code
// (github.com/seldonio/seldon-core/apis/go/v2) is not served by the Go module proxy here.
//
// Field numbers are those of package `inference` (`inference.GRPCInferenceService`), read from
// the descriptor MLServer 1.7.1 ships (mlserver.grpc.dataplane_pb2) and written down in
// docs/facts/seldon-core-2.md:
//   - ModelInferRequest: model_name 1, model_version 2, id 3, parameters 4, inputs 5,
//     outputs 6, raw_input_contents 7; InferInputTensor: name 1, datatype 2, shape 3 (packed
//     int64), parameters 4, contents 5;
//   - ModelInferResponse: model_name 1, model_version 2, id 3, parameters 4, outputs 5,
//     raw_output_contents 6; InferOutputTensor as InferInputTensor;
//   - InferTensorContents: bool 1, int (int32) 2, int64 3, uint 4, uint64 5, fp32 6, fp64 7,
//     bytes 8; InferParameter: bool_param 1, int64_param 2, string_param 3.
//
// What it reproduces of scheduler/pkg/kafka/pipeline/v2.go (v2.10.2): the REST request's JSON
// read into typed contents by datatype (nested `data` arrays flattened in order, sized by the
// shape, BYTES from strings), and a response turned back into that JSON (raw_output_contents
// read little-endian into the outputs without contents; BYTES with the parameter content_type
// `str` or `datetime` as strings). Left out: request and tensor `parameters` and requested
// `outputs` (the verify request has none), FP16 as half floats (v2.go stores FP16 as fp32 too).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

type restTensor struct {
	Name       string                 `json:"name"`
	Shape      []int64                `json:"shape"`
	Datatype   string                 `json:"datatype"`
	Parameters map[string]interface{} `json:"parameters,omitempty"`
	Data       json.RawMessage        `json:"data"`
}

type restRequest struct {
	Id     string        `json:"id,omitempty"`
	Inputs []*restTensor `json:"inputs"`
}

// contentsField is the InferTensorContents field a datatype's values go in.
func contentsField(datatype string) (protowire.Number, error) {
	switch datatype {
	case "BOOL":
		return 1, nil
	case "INT8", "INT16", "INT32":
		return 2, nil
	case "INT64":
		return 3, nil
	case "UINT8", "UINT16", "UINT32":
		return 4, nil
	case "UINT64":
		return 5, nil
	case "FP16", "FP32":
		return 6, nil
	case "FP64":
		return 7, nil
	case "BYTES":
		return 8, nil
	}
	return 0, fmt.Errorf("Unknown type %s", datatype)
}

func flatten(v interface{}, out *[]interface{}) {
	if list, ok := v.([]interface{}); ok {
		for _, x := range list {
			flatten(x, out)
		}
		return
	}
	*out = append(*out, v)
}

func size(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// encodeContents packs the tensor's flattened values into InferTensorContents.
func encodeContents(t *restTensor) ([]byte, error) {
	field, err := contentsField(t.Datatype)
	if err != nil {
		return nil, err
	}
	var data interface{}
	if err := json.Unmarshal(t.Data, &data); err != nil {
		return nil, err
	}
	var flat []interface{}
	flatten(data, &flat)
	n := size(t.Shape)
	if t.Datatype == "BYTES" && len(t.Shape) > 0 {
		n = t.Shape[0]
	}
	if int64(len(flat)) > n {
		return nil, fmt.Errorf("tensor %s: %d values for shape %v", t.Name, len(flat), t.Shape)
	}
	var out []byte
	if t.Datatype == "BYTES" {
		for i := int64(0); i < n; i++ {
			s := ""
			if i < int64(len(flat)) {
				s, _ = flat[i].(string)
			}
			out = protowire.AppendTag(out, field, protowire.BytesType)
			out = protowire.AppendString(out, s)
		}
		return out, nil
	}
	var packed []byte
	for i := int64(0); i < n; i++ {
		var x float64
		var b bool
		if i < int64(len(flat)) {
			switch v := flat[i].(type) {
			case float64:
				x = v
			case bool:
				b = v
			default:
				return nil, fmt.Errorf("tensor %s: %v is not a %s", t.Name, v, t.Datatype)
			}
		}
		switch field {
		case 1:
			packed = protowire.AppendVarint(packed, protowire.EncodeBool(b))
		case 2:
			packed = protowire.AppendVarint(packed, uint64(int64(int32(x))))
		case 3:
			packed = protowire.AppendVarint(packed, uint64(int64(x)))
		case 4, 5:
			packed = protowire.AppendVarint(packed, uint64(x))
		case 6:
			packed = protowire.AppendFixed32(packed, math.Float32bits(float32(x)))
		case 7:
			packed = protowire.AppendFixed64(packed, math.Float64bits(x))
		}
	}
	out = protowire.AppendTag(out, field, protowire.BytesType)
	return protowire.AppendBytes(out, packed), nil
}

// requestToProto is v2.go's ConvertRequestToV2Bytes(data, "", ""): the REST JSON as a
// ModelInferRequest with no model name or version.
func requestToProto(body []byte) ([]byte, error) {
	req := restRequest{}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	var out []byte
	if req.Id != "" {
		out = protowire.AppendTag(out, 3, protowire.BytesType)
		out = protowire.AppendString(out, req.Id)
	}
	for _, t := range req.Inputs {
		contents, err := encodeContents(t)
		if err != nil {
			return nil, err
		}
		var tensor []byte
		tensor = protowire.AppendTag(tensor, 1, protowire.BytesType)
		tensor = protowire.AppendString(tensor, t.Name)
		tensor = protowire.AppendTag(tensor, 2, protowire.BytesType)
		tensor = protowire.AppendString(tensor, t.Datatype)
		var shape []byte
		for _, d := range t.Shape {
			shape = protowire.AppendVarint(shape, uint64(d))
		}
		tensor = protowire.AppendTag(tensor, 3, protowire.BytesType)
		tensor = protowire.AppendBytes(tensor, shape)
		tensor = protowire.AppendTag(tensor, 5, protowire.BytesType)
		tensor = protowire.AppendBytes(tensor, contents)
		out = protowire.AppendTag(out, 5, protowire.BytesType)
		out = protowire.AppendBytes(out, tensor)
	}
	return out, nil
}

// withName sets fields 1 and 2 (model_name, model_version) of a ModelInferRequest given as
// bytes: a string field that appears again later on the wire replaces the earlier value, which
// is what `req.ModelName = …; proto.Marshal(req)` sends.
func withName(msg []byte, name, version string) []byte {
	out := append([]byte(nil), msg...)
	out = protowire.AppendTag(out, 1, protowire.BytesType)
	out = protowire.AppendString(out, name)
	out = protowire.AppendTag(out, 2, protowire.BytesType)
	return protowire.AppendString(out, version)
}

// fields calls f for each field of msg; an error when msg is not a protobuf message.
func fields(msg []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64)) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(msg)
		case protowire.Fixed32Type:
			var y uint32
			y, n = protowire.ConsumeFixed32(msg)
			x = uint64(y)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(msg)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		f(num, typ, v, x)
	}
	return nil
}

// isMessage says whether b parses as a protobuf message (worker.go tries proto.Unmarshal into a
// ModelInferRequest, then falls back to REST).
func isMessage(b []byte) bool {
	return fields(b, func(protowire.Number, protowire.Type, []byte, uint64) {}) == nil
}

// scalars reads a repeated scalar field, packed or not.
func scalars(typ protowire.Type, v []byte, x uint64, wire protowire.Type) []uint64 {
	if typ != protowire.BytesType {
		return []uint64{x}
	}
	var out []uint64
	for len(v) > 0 {
		var y uint64
		var n int
		switch wire {
		case protowire.VarintType:
			y, n = protowire.ConsumeVarint(v)
		case protowire.Fixed32Type:
			var z uint32
			z, n = protowire.ConsumeFixed32(v)
			y = uint64(z)
		default:
			y, n = protowire.ConsumeFixed64(v)
		}
		if n < 0 {
			break
		}
		out = append(out, y)
		v = v[n:]
	}
	return out
}

type outTensor struct {
	Name       string                 `json:"name"`
	Shape      []int64                `json:"shape"`
	Datatype   string                 `json:"datatype"`
	Parameters map[string]interface{} `json:"parameters,omitempty"`
	Data       []interface{}          `json:"data"`
	hasData    bool
}

type restResponse struct {
	ModelName    string                 `json:"model_name"`
	ModelVersion string                 `json:"model_version,omitempty"`
	Id           string                 `json:"id,omitempty"`
	Parameters   map[string]interface{} `json:"parameters,omitempty"`
	Outputs      []*outTensor           `json:"outputs,omitempty"`
}

func parameter(v []byte) interface{} {
	var out interface{}
	_ = fields(v, func(num protowire.Number, _ protowire.Type, b []byte, x uint64) {
		switch num {
		case 1:
			out = x != 0
		case 2:
			out = int64(x)
		case 3:
			out = string(b)
		}
	})
	return out
}

func mapEntry(v []byte, into map[string]interface{}) {
	var key string
	var val interface{}
	_ = fields(v, func(num protowire.Number, _ protowire.Type, b []byte, _ uint64) {
		switch num {
		case 1:
			key = string(b)
		case 2:
			val = parameter(b)
		}
	})
	into[key] = val
}

// value turns a wire scalar of a contents field into its JSON value.
func value(field protowire.Number, x uint64) interface{} {
	switch field {
	case 1:
		return x != 0
	case 2:
		return int32(x)
	case 3:
		return int64(x)
	case 4:
		return uint32(x)
	case 5:
		return x
	case 6:
		return math.Float32frombits(uint32(x))
	}
	return math.Float64frombits(x)
}

func wireOf(field protowire.Number) protowire.Type {
	switch field {
	case 6:
		return protowire.Fixed32Type
	case 7:
		return protowire.Fixed64Type
	}
	return protowire.VarintType
}

func decodeTensor(v []byte) *outTensor {
	t := &outTensor{Parameters: map[string]interface{}{}}
	var contents []byte
	_ = fields(v, func(num protowire.Number, typ protowire.Type, b []byte, x uint64) {
		switch num {
		case 1:
			t.Name = string(b)
		case 2:
			t.Datatype = string(b)
		case 3:
			for _, d := range scalars(typ, b, x, protowire.VarintType) {
				t.Shape = append(t.Shape, int64(d))
			}
		case 4:
			mapEntry(b, t.Parameters)
		case 5:
			contents = b
			t.hasData = true
		}
	})
	asStrings := false
	if ct, ok := t.Parameters["content_type"].(string); ok && (ct == "str" || ct == "datetime") {
		asStrings = true
	}
	_ = fields(contents, func(num protowire.Number, typ protowire.Type, b []byte, x uint64) {
		if num == 8 {
			if asStrings {
				t.Data = append(t.Data, string(b))
			} else {
				t.Data = append(t.Data, base64.StdEncoding.EncodeToString(b))
			}
			return
		}
		for _, y := range scalars(typ, b, x, wireOf(num)) {
			t.Data = append(t.Data, value(num, y))
		}
	})
	if len(t.Parameters) == 0 {
		t.Parameters = nil
	}
	return t
}

// fromRaw fills an output from raw_output_contents, little-endian (updateResponseFromRawContents).
func fromRaw(t *outTensor, raw []byte) error {
	field, err := contentsField(t.Datatype)
	if err != nil {
		return err
	}
	t.hasData = true
	if field == 8 {
		for off := 0; off+4 <= len(raw); {
			n := int(binary.LittleEndian.Uint32(raw[off : off+4]))
			off += 4
			if off+n > len(raw) {
				return fmt.Errorf("raw BYTES of %s cut short", t.Name)
			}
			t.Data = append(t.Data, string(raw[off:off+n]))
			off += n
		}
		return nil
	}
	width := map[string]int{"BOOL": 1, "INT8": 1, "UINT8": 1, "INT16": 2, "UINT16": 2, "FP16": 2}[t.Datatype]
	if width == 0 {
		width = map[protowire.Type]int{protowire.Fixed32Type: 4, protowire.Fixed64Type: 8, protowire.VarintType: 4}[wireOf(field)]
		if field == 3 || field == 5 {
			width = 8
		}
	}
	r := bytes.NewReader(raw)
	for r.Len() >= width {
		buf := make([]byte, 8)
		_, _ = r.Read(buf[:width])
		x := binary.LittleEndian.Uint64(buf)
		if (field == 2 || field == 3) && width < 8 && x>>(uint(width)*8-1)&1 == 1 {
			x |= ^uint64(0) << (uint(width) * 8)
		}
		t.Data = append(t.Data, value(field, x))
	}
	return nil
}

// responseToJSON is v2.go's ConvertV2ResponseBytesToJson.
func responseToJSON(msg []byte) ([]byte, error) {
	res := restResponse{Parameters: map[string]interface{}{}}
	var raws [][]byte
	err := fields(msg, func(num protowire.Number, _ protowire.Type, b []byte, _ uint64) {
		switch num {
		case 1:
			res.ModelName = string(b)
		case 2:
			res.ModelVersion = string(b)
		case 3:
			res.Id = string(b)
		case 4:
			mapEntry(b, res.Parameters)
		case 5:
			res.Outputs = append(res.Outputs, decodeTensor(b))
		case 6:
			raws = append(raws, append([]byte(nil), b...))
		}
	})
	if err != nil {
		return nil, err
	}
	i := 0
	for _, raw := range raws {
		for i < len(res.Outputs) && res.Outputs[i].hasData {
			i++
		}
		if i == len(res.Outputs) {
			return nil, fmt.Errorf("Ran out of output contents to fill raw contents of length %d", len(raws))
		}
		if err := fromRaw(res.Outputs[i], raw); err != nil {
			return nil, err
		}
	}
	if len(res.Parameters) == 0 {
		res.Parameters = nil
	}
	return json.Marshal(res)
}
