package onnxpb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// Marshal serialises the model into memory.
func (m *Model) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFile serialises the model to path, creating or truncating it.
func (m *Model) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create onnx model: %w", err)
	}
	if _, err := m.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write onnx model %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close onnx model %s: %w", path, err)
	}
	return nil
}

// WriteTo serialises the model to w. Initializer data is streamed from the
// tensors, so the whole model is never copied into one buffer.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	if m.Graph == nil {
		return 0, errors.New("onnx model has no graph")
	}
	for _, t := range m.Graph.Initializers {
		if err := t.Validate(); err != nil {
			return 0, fmt.Errorf("initializer: %w", err)
		}
	}
	ir := m.IRVersion
	if ir == 0 {
		ir = IRVersion
	}
	var head []byte
	head = appendVarintField(head, FieldModelIRVersion, uint64(ir))
	head = appendStringField(head, FieldModelProducerName, m.ProducerName)
	head = appendStringField(head, FieldModelProducerVersion, m.ProducerVersion)
	head = appendStringField(head, FieldModelDocString, m.DocString)
	for _, o := range m.Opsets {
		head = AppendOpsetField(head, o)
	}

	g := m.Graph
	body := appendGraphSmall(nil, g)
	headers := make([][]byte, len(g.Initializers))
	graphLen := len(body)
	for i, t := range g.Initializers {
		h := appendTensorHeader(nil, t)
		if t.external != nil {
			h = appendExternal(h, t.external)
		} else {
			h = protowire.AppendTag(h, FieldTensorRawData, protowire.BytesType)
			h = protowire.AppendVarint(h, uint64(len(t.Raw)))
		}
		headers[i] = h
		n := len(h) + len(t.Raw)
		graphLen += protowire.SizeTag(FieldGraphInitializer) + protowire.SizeVarint(uint64(n)) + n
	}
	head = protowire.AppendTag(head, FieldModelGraph, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(graphLen))

	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countWriter{w: bw}
	cw.Write(head)
	cw.Write(body)
	for i, t := range g.Initializers {
		var pre []byte
		pre = protowire.AppendTag(pre, FieldGraphInitializer, protowire.BytesType)
		pre = protowire.AppendVarint(pre, uint64(len(headers[i])+len(t.Raw)))
		cw.Write(pre)
		cw.Write(headers[i])
		cw.Write(t.Raw)
	}
	if cw.err != nil {
		return cw.n, cw.err
	}
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
}

// appendGraphSmall appends every graph field except the initializers.
func appendGraphSmall(b []byte, g *Graph) []byte {
	for _, n := range g.Nodes {
		b = AppendNodeField(b, n)
	}
	b = appendStringField(b, FieldGraphName, g.Name)
	for _, v := range g.Inputs {
		b = appendBytesField(b, FieldGraphInput, appendValueInfo(nil, v))
	}
	for _, v := range g.Outputs {
		b = appendBytesField(b, FieldGraphOutput, appendValueInfo(nil, v))
	}
	return b
}

// AppendNodeField appends n as a ModelProto's graph would hold it: the
// GraphProto.node field, tag included. Code that rewrites a serialised
// graph (graphfuse) writes its new nodes with it.
func AppendNodeField(b []byte, n *Node) []byte {
	return appendBytesField(b, FieldGraphNode, appendNode(nil, n))
}

// AppendOpsetField appends o as the ModelProto.opset_import field, tag
// included.
func AppendOpsetField(b []byte, o Opset) []byte {
	var ob []byte
	ob = appendStringField(ob, FieldOpsetDomain, o.Domain)
	ob = protowire.AppendTag(ob, FieldOpsetVersion, protowire.VarintType)
	ob = protowire.AppendVarint(ob, uint64(o.Version))
	return appendBytesField(b, FieldModelOpsetImport, ob)
}

func appendNode(b []byte, n *Node) []byte {
	for _, s := range n.Inputs {
		b = protowire.AppendTag(b, FieldNodeInput, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	for _, s := range n.Outputs {
		b = protowire.AppendTag(b, FieldNodeOutput, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = appendStringField(b, FieldNodeName, n.Name)
	b = appendStringField(b, FieldNodeOpType, n.OpType)
	for _, a := range n.Attrs {
		b = appendBytesField(b, FieldNodeAttribute, appendAttr(nil, a))
	}
	b = appendStringField(b, FieldNodeDomain, n.Domain)
	return b
}

func appendAttr(b []byte, a Attr) []byte {
	b = appendStringField(b, FieldAttrName, a.Name)
	switch a.Kind {
	case AttrFloat:
		b = protowire.AppendTag(b, FieldAttrF, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case AttrInt:
		b = protowire.AppendTag(b, FieldAttrI, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.I))
	case AttrString:
		b = protowire.AppendTag(b, FieldAttrS, protowire.BytesType)
		b = protowire.AppendBytes(b, a.S)
	case AttrTensor:
		b = appendBytesField(b, FieldAttrT, appendTensor(nil, a.T))
	case AttrFloats:
		for _, f := range a.Floats {
			b = protowire.AppendTag(b, FieldAttrFloats, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, math.Float32bits(f))
		}
	case AttrInts:
		for _, i := range a.Ints {
			b = protowire.AppendTag(b, FieldAttrInts, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(i))
		}
	}
	b = protowire.AppendTag(b, FieldAttrType, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(a.Kind))
	return b
}

func appendTensorHeader(b []byte, t *Tensor) []byte {
	for _, d := range t.Dims {
		b = protowire.AppendTag(b, FieldTensorDims, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, FieldTensorDataType, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.DataType))
	b = appendStringField(b, FieldTensorName, t.Name)
	return b
}

func appendTensor(b []byte, t *Tensor) []byte {
	b = appendTensorHeader(b, t)
	b = protowire.AppendTag(b, FieldTensorRawData, protowire.BytesType)
	return protowire.AppendBytes(b, t.Raw)
}

func appendValueInfo(b []byte, v ValueInfo) []byte {
	b = appendStringField(b, FieldValueInfoName, v.Name)
	var shape []byte
	for _, d := range v.Shape {
		var db []byte
		if d.Param != "" {
			db = appendStringField(db, FieldDimParam, d.Param)
		} else {
			db = protowire.AppendTag(db, FieldDimValue, protowire.VarintType)
			db = protowire.AppendVarint(db, uint64(d.Value))
		}
		shape = appendBytesField(shape, FieldShapeDim, db)
	}
	var tt []byte
	tt = protowire.AppendTag(tt, FieldTensorTypeElemType, protowire.VarintType)
	tt = protowire.AppendVarint(tt, uint64(v.ElemType))
	tt = appendBytesField(tt, FieldTensorTypeShape, shape)
	typ := appendBytesField(nil, FieldTypeTensorType, tt)
	return appendBytesField(b, FieldValueInfoType, typ)
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendStringField appends a string field, omitting it when empty.
func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}
