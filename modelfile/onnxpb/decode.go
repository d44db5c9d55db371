package onnxpb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

const tensorDataLocation = 14

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
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == modelIRVersion && typ == protowire.VarintType:
			m.IRVersion = int64(x)
		case num == modelProducerName && typ == protowire.BytesType:
			m.ProducerName = string(v)
		case num == modelProducerVer && typ == protowire.BytesType:
			m.ProducerVersion = string(v)
		case num == modelDocString && typ == protowire.BytesType:
			m.DocString = string(v)
		case num == modelOpsetImport && typ == protowire.BytesType:
			var o Opset
			if err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch {
				case num == opsetDomain && typ == protowire.BytesType:
					o.Domain = string(v)
				case num == opsetVersion && typ == protowire.VarintType:
					o.Version = int64(x)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("opset_import: %w", err)
			}
			m.Opsets = append(m.Opsets, o)
		case num == modelGraph && typ == protowire.BytesType:
			g, err := parseGraph(v)
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
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case graphNode:
			n, err := parseNode(v)
			if err != nil {
				return fmt.Errorf("node %d: %w", len(g.Nodes), err)
			}
			g.Nodes = append(g.Nodes, n)
		case graphName:
			g.Name = string(v)
		case graphInitializer:
			t, err := parseTensor(v)
			if err != nil {
				return fmt.Errorf("initializer %d: %w", len(g.Initializers), err)
			}
			g.Initializers = append(g.Initializers, t)
		case graphInput, graphOutput:
			vi, err := parseValueInfo(v)
			if err != nil {
				return fmt.Errorf("value info: %w", err)
			}
			if num == graphInput {
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
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case nodeInput:
			n.Inputs = append(n.Inputs, string(v))
		case nodeOutput:
			n.Outputs = append(n.Outputs, string(v))
		case nodeName:
			n.Name = string(v)
		case nodeOpType:
			n.OpType = string(v)
		case nodeDomain:
			n.Domain = string(v)
		case nodeAttribute:
			a, err := parseAttr(v)
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
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case attrName:
			a.Name = string(v)
		case attrF:
			a.F = math.Float32frombits(uint32(x))
		case attrI:
			a.I = int64(x)
		case attrS:
			a.S = append([]byte(nil), v...)
		case attrT:
			t, err := parseTensor(v)
			if err != nil {
				return err
			}
			a.T = t
		case attrFloats:
			if typ == protowire.BytesType {
				for len(v) >= 4 {
					a.Floats = append(a.Floats, math.Float32frombits(binary.LittleEndian.Uint32(v)))
					v = v[4:]
				}
				return nil
			}
			a.Floats = append(a.Floats, math.Float32frombits(uint32(x)))
		case attrInts:
			ints, err := repeatedVarint(typ, v, x)
			if err != nil {
				return err
			}
			a.Ints = append(a.Ints, ints...)
		case attrType:
			a.Kind = AttrKind(x)
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
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case tensorDims:
			d, err := repeatedVarint(typ, v, x)
			if err != nil {
				return fmt.Errorf("dims: %w", err)
			}
			t.Dims = append(t.Dims, d...)
		case tensorDataType:
			t.DataType = int32(x)
		case tensorName:
			t.Name = string(v)
		case tensorRawData:
			t.Raw = v
			haveRaw = true
		case tensorFloatData:
			if typ == protowire.BytesType {
				if len(v)%4 != 0 {
					return errors.New("float_data: length not a multiple of 4")
				}
				for ; len(v) > 0; v = v[4:] {
					floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(v)))
				}
				return nil
			}
			floats = append(floats, math.Float32frombits(uint32(x)))
		case tensorInt64Data, tensorInt32Data:
			d, err := repeatedVarint(typ, v, x)
			if err != nil {
				return fmt.Errorf("integer data: %w", err)
			}
			ints = append(ints, d...)
		case tensorDataLocation:
			if x != 0 {
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
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == valueInfoName && typ == protowire.BytesType:
			vi.Name = string(v)
		case num == valueInfoType && typ == protowire.BytesType:
			return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				if num != typeTensorType || typ != protowire.BytesType {
					return nil
				}
				return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
					switch {
					case num == tensorTypeElemType && typ == protowire.VarintType:
						vi.ElemType = int32(x)
					case num == tensorTypeShape && typ == protowire.BytesType:
						vi.Shape = []Dim{}
						return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
							if num != shapeDim || typ != protowire.BytesType {
								return nil
							}
							var d Dim
							if err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
								switch {
								case num == dimValue && typ == protowire.VarintType:
									d.Value = int64(x)
								case num == dimParam && typ == protowire.BytesType:
									d.Param = string(v)
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
func repeatedVarint(typ protowire.Type, v []byte, x uint64) ([]int64, error) {
	switch typ {
	case protowire.VarintType:
		return []int64{int64(x)}, nil
	case protowire.BytesType:
		var out []int64
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
		return nil, fmt.Errorf("unexpected wire type %d for a varint field", typ)
	}
}

// eachField walks the fields of one message. For bytes fields v is the
// payload; for varint and fixed fields x is the value.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("field tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
