package onnxpb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// ReadFile reads and parses a serialised ONNX model. Tensor data of the
// returned model points into the file's bytes.
func ReadFile(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read onnx model: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse onnx model %s: %w", path, err)
	}
	return m, nil
}

// Parse decodes the subset of ModelProto this package writes: producer,
// opsets, and the graph's nodes, initializers, inputs and outputs. Unknown
// fields are skipped. Tensor data may be raw_data or float_data/int64_data/
// int32_data; external data is refused.
func Parse(b []byte) (*Model, error) {
	m := &Model{}
	err := Walk(b, func(f Field) error {
		switch {
		case f.Num == FieldModelIRVersion && f.Type == protowire.VarintType:
			m.IRVersion = int64(f.Value)
		case f.Num == FieldModelProducerName && f.Type == protowire.BytesType:
			m.ProducerName = string(f.Bytes)
		case f.Num == FieldModelProducerVersion && f.Type == protowire.BytesType:
			m.ProducerVersion = string(f.Bytes)
		case f.Num == FieldModelDocString && f.Type == protowire.BytesType:
			m.DocString = string(f.Bytes)
		case f.Num == FieldModelOpsetImport && f.Type == protowire.BytesType:
			var o Opset
			if err := Walk(f.Bytes, func(f Field) error {
				switch {
				case f.Num == FieldOpsetDomain && f.Type == protowire.BytesType:
					o.Domain = string(f.Bytes)
				case f.Num == FieldOpsetVersion && f.Type == protowire.VarintType:
					o.Version = int64(f.Value)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("opset_import: %w", err)
			}
			m.Opsets = append(m.Opsets, o)
		case f.Num == FieldModelGraph && f.Type == protowire.BytesType:
			g, err := parseGraph(f.Bytes)
			if err != nil {
				return fmt.Errorf("graph: %w", err)
			}
			m.Graph = g
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if m.Graph == nil {
		return nil, errors.New("model has no graph")
	}
	return m, nil
}

// Initializer returns the graph initializer with the given name.
func (g *Graph) Initializer(name string) (*Tensor, bool) {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

func parseGraph(b []byte) (*Graph, error) {
	g := &Graph{}
	err := Walk(b, func(f Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case FieldGraphNode:
			n, err := parseNode(f.Bytes)
			if err != nil {
				return fmt.Errorf("node %d: %w", len(g.Nodes), err)
			}
			g.Nodes = append(g.Nodes, n)
		case FieldGraphName:
			g.Name = string(f.Bytes)
		case FieldGraphInitializer:
			t, err := parseTensor(f.Bytes)
			if err != nil {
				return fmt.Errorf("initializer %d: %w", len(g.Initializers), err)
			}
			g.Initializers = append(g.Initializers, t)
		case FieldGraphInput, FieldGraphOutput:
			vi, err := parseValueInfo(f.Bytes)
			if err != nil {
				return fmt.Errorf("value info: %w", err)
			}
			if f.Num == FieldGraphInput {
				g.Inputs = append(g.Inputs, vi)
			} else {
				g.Outputs = append(g.Outputs, vi)
			}
		}
		return nil
	})
	return g, err
}

func parseNode(b []byte) (*Node, error) {
	n := &Node{}
	err := Walk(b, func(f Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case FieldNodeInput:
			n.Inputs = append(n.Inputs, string(f.Bytes))
		case FieldNodeOutput:
			n.Outputs = append(n.Outputs, string(f.Bytes))
		case FieldNodeName:
			n.Name = string(f.Bytes)
		case FieldNodeOpType:
			n.OpType = string(f.Bytes)
		case FieldNodeDomain:
			n.Domain = string(f.Bytes)
		case FieldNodeAttribute:
			a, err := parseAttr(f.Bytes)
			if err != nil {
				return fmt.Errorf("attribute: %w", err)
			}
			n.Attrs = append(n.Attrs, a)
		}
		return nil
	})
	return n, err
}

func parseAttr(b []byte) (Attr, error) {
	var a Attr
	err := Walk(b, func(f Field) error {
		if f.Type == protowire.StartGroupType {
			return nil // ONNX writes no groups
		}
		switch f.Num {
		case FieldAttrName:
			a.Name = string(f.Bytes)
		case FieldAttrF:
			a.F = math.Float32frombits(uint32(f.Value))
		case FieldAttrI:
			a.I = int64(f.Value)
		case FieldAttrS:
			a.S = append([]byte(nil), f.Bytes...)
		case FieldAttrT:
			t, err := parseTensor(f.Bytes)
			if err != nil {
				return err
			}
			a.T = t
		case FieldAttrFloats:
			if f.Type == protowire.BytesType {
				for v := f.Bytes; len(v) >= 4; v = v[4:] {
					a.Floats = append(a.Floats, math.Float32frombits(binary.LittleEndian.Uint32(v)))
				}
				return nil
			}
			a.Floats = append(a.Floats, math.Float32frombits(uint32(f.Value)))
		case FieldAttrInts:
			ints, err := repeatedVarint(f)
			if err != nil {
				return err
			}
			a.Ints = append(a.Ints, ints...)
		case FieldAttrType:
			a.Kind = AttrKind(f.Value)
		}
		return nil
	})
	return a, err
}

func parseTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	var floats []float32
	var ints []int64
	var haveRaw bool
	err := Walk(b, func(f Field) error {
		if f.Type == protowire.StartGroupType {
			return nil // ONNX writes no groups
		}
		switch f.Num {
		case FieldTensorDims:
			d, err := repeatedVarint(f)
			if err != nil {
				return fmt.Errorf("dims: %w", err)
			}
			t.Dims = append(t.Dims, d...)
		case FieldTensorDataType:
			t.DataType = int32(f.Value)
		case FieldTensorName:
			t.Name = string(f.Bytes)
		case FieldTensorRawData:
			t.Raw = f.Bytes
			haveRaw = true
		case FieldTensorFloatData:
			if f.Type == protowire.BytesType {
				if len(f.Bytes)%4 != 0 {
					return errors.New("float_data: length not a multiple of 4")
				}
				for v := f.Bytes; len(v) > 0; v = v[4:] {
					floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(v)))
				}
				return nil
			}
			floats = append(floats, math.Float32frombits(uint32(f.Value)))
		case FieldTensorInt64Data, FieldTensorInt32Data:
			d, err := repeatedVarint(f)
			if err != nil {
				return fmt.Errorf("integer data: %w", err)
			}
			ints = append(ints, d...)
		case FieldTensorDataLocation:
			if f.Value != 0 {
				return errors.New("external tensor data is not supported")
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	switch {
	case haveRaw:
	case len(floats) > 0 && t.DataType == TypeFloat:
		t.Raw = FloatTensor("", nil, floats).Raw
	case len(ints) > 0 && t.DataType == TypeInt64:
		t.Raw = Int64Tensor("", nil, ints).Raw
	case len(ints) > 0 && t.DataType == TypeInt32:
		t.Raw = make([]byte, 4*len(ints))
		for i, v := range ints {
			binary.LittleEndian.PutUint32(t.Raw[4*i:], uint32(int32(v)))
		}
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

func parseValueInfo(b []byte) (ValueInfo, error) {
	var vi ValueInfo
	err := Walk(b, func(f Field) error {
		switch {
		case f.Num == FieldValueInfoName && f.Type == protowire.BytesType:
			vi.Name = string(f.Bytes)
		case f.Num == FieldValueInfoType && f.Type == protowire.BytesType:
			vi.NotTensor = true
			return Walk(f.Bytes, func(f Field) error {
				if f.Num != FieldTypeTensorType || f.Type != protowire.BytesType {
					return nil
				}
				vi.NotTensor = false
				return Walk(f.Bytes, func(f Field) error {
					switch {
					case f.Num == FieldTensorTypeElemType && f.Type == protowire.VarintType:
						vi.ElemType = int32(f.Value)
					case f.Num == FieldTensorTypeShape && f.Type == protowire.BytesType:
						vi.Shape = []Dim{}
						return Walk(f.Bytes, func(f Field) error {
							if f.Num != FieldShapeDim || f.Type != protowire.BytesType {
								return nil
							}
							var d Dim
							if err := Walk(f.Bytes, func(f Field) error {
								switch {
								case f.Num == FieldDimValue && f.Type == protowire.VarintType:
									d.Value = int64(f.Value)
								case f.Num == FieldDimParam && f.Type == protowire.BytesType:
									d.Param = string(f.Bytes)
								}
								return nil
							}); err != nil {
								return err
							}
							vi.Shape = append(vi.Shape, d)
							return nil
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	return vi, err
}

// repeatedVarint decodes one occurrence of a repeated varint field, packed
// (bytes) or not.
func repeatedVarint(f Field) ([]int64, error) {
	switch f.Type {
	case protowire.VarintType:
		return []int64{int64(f.Value)}, nil
	case protowire.BytesType:
		var out []int64
		v := f.Bytes
		for len(v) > 0 {
			u, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			out = append(out, int64(u))
			v = v[n:]
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unexpected wire type %d for a varint field", f.Type)
	}
}
