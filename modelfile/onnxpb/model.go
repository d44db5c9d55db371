package onnxpb

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Model is an ONNX ModelProto.
type Model struct {
	IRVersion       int64 // 0 means IRVersion
	ProducerName    string
	ProducerVersion string
	DocString       string
	Opsets          []Opset
	Graph           *Graph
}

// Opset is an OperatorSetIdProto; the empty domain is ai.onnx.
type Opset struct {
	Domain  string
	Version int64
}

// Graph is a GraphProto.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
}

// Node is a NodeProto.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   []Attr
}

// AttrKind is an AttributeProto.AttributeType.
type AttrKind int32

// Attribute kinds this package writes.
const (
	AttrFloat  AttrKind = attrTypeFloat
	AttrInt    AttrKind = attrTypeInt
	AttrString AttrKind = attrTypeString
	AttrTensor AttrKind = attrTypeTensor
	AttrFloats AttrKind = attrTypeFloats
	AttrInts   AttrKind = attrTypeInts
)

// Attr is an AttributeProto; Kind says which value field is meaningful.
type Attr struct {
	Name   string
	Kind   AttrKind
	F      float32
	I      int64
	S      []byte
	T      *Tensor
	Floats []float32
	Ints   []int64
}

// Int returns an INT attribute.
func Int(name string, v int64) Attr { return Attr{Name: name, Kind: AttrInt, I: v} }

// Float returns a FLOAT attribute.
func Float(name string, v float32) Attr { return Attr{Name: name, Kind: AttrFloat, F: v} }

// Ints returns an INTS attribute.
func Ints(name string, v ...int64) Attr { return Attr{Name: name, Kind: AttrInts, Ints: v} }

// Floats returns a FLOATS attribute.
func Floats(name string, v ...float32) Attr { return Attr{Name: name, Kind: AttrFloats, Floats: v} }

// String returns a STRING attribute.
func String(name, v string) Attr { return Attr{Name: name, Kind: AttrString, S: []byte(v)} }

// TensorAttr returns a TENSOR attribute.
func TensorAttr(name string, t *Tensor) Attr { return Attr{Name: name, Kind: AttrTensor, T: t} }

// Tensor is a TensorProto whose data is held little-endian in Raw (written
// as raw_data).
type Tensor struct {
	Name     string
	DataType int32
	Dims     []int64
	Raw      []byte
	// external is set on the copies WriteFileExternal writes, whose data
	// lives in the external data file instead of Raw.
	external *external
}

// ElemSize returns the byte size of one element of a data type, or 0 for
// types this package does not handle.
func ElemSize(dataType int32) int {
	switch dataType {
	case TypeFloat, TypeInt32:
		return 4
	case TypeInt64, TypeDouble:
		return 8
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeFloat16:
		return 2
	default:
		return 0
	}
}

// NumElements returns the product of dims (1 for a scalar).
func NumElements(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}

// Validate checks that the raw data size matches the dims and data type.
func (t *Tensor) Validate() error {
	if t.external != nil {
		return nil
	}
	es := ElemSize(t.DataType)
	if es == 0 {
		return fmt.Errorf("tensor %q: unsupported data type %d", t.Name, t.DataType)
	}
	for _, d := range t.Dims {
		if d < 0 {
			return fmt.Errorf("tensor %q: negative dimension in %v", t.Name, t.Dims)
		}
	}
	if want := NumElements(t.Dims) * int64(es); int64(len(t.Raw)) != want {
		return fmt.Errorf("tensor %q: %d bytes of data for dims %v of type %d, want %d", t.Name, len(t.Raw), t.Dims, t.DataType, want)
	}
	return nil
}

// FloatTensor returns a FLOAT tensor holding data with the given dims.
func FloatTensor(name string, dims []int64, data []float32) *Tensor {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return &Tensor{Name: name, DataType: TypeFloat, Dims: append([]int64(nil), dims...), Raw: raw}
}

// Int64Tensor returns an INT64 tensor holding data with the given dims.
func Int64Tensor(name string, dims []int64, data []int64) *Tensor {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return &Tensor{Name: name, DataType: TypeInt64, Dims: append([]int64(nil), dims...), Raw: raw}
}

// Float32s decodes a FLOAT tensor.
func (t *Tensor) Float32s() ([]float32, error) {
	if t.DataType != TypeFloat {
		return nil, fmt.Errorf("tensor %q: data type %d is not float", t.Name, t.DataType)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	out := make([]float32, len(t.Raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Raw[4*i:]))
	}
	return out, nil
}

// Int64s decodes an INT64 tensor.
func (t *Tensor) Int64s() ([]int64, error) {
	if t.DataType != TypeInt64 {
		return nil, fmt.Errorf("tensor %q: data type %d is not int64", t.Name, t.DataType)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	out := make([]int64, len(t.Raw)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.Raw[8*i:]))
	}
	return out, nil
}

// Dim is one dimension of a value's shape: a fixed Value, or a symbolic
// Param (dim_param) when Param is not empty.
type Dim struct {
	Value int64
	Param string
}

// D returns a fixed dimension.
func D(v int64) Dim { return Dim{Value: v} }

// P returns a symbolic dimension.
func P(name string) Dim { return Dim{Param: name} }

// ValueInfo is a ValueInfoProto: a tensor's, unless NotTensor.
type ValueInfo struct {
	Name     string
	ElemType int32
	Shape    []Dim
	// NotTensor is set by the decoder for a value whose type is not a
	// tensor (a sequence, map, optional or sparse tensor); the encoder
	// writes tensors only.
	NotTensor bool
}
