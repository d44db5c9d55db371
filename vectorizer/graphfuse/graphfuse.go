// Package graphfuse rewrites ONNX graphs that ONNX Runtime has already
// optimized into ONNX Runtime's fused contrib operators, where its own
// optimizer stops short.
//
// ONNX Runtime fuses a residual Add followed by LayerNormalization into one
// SkipLayerNormalization node only when it can prove from static shapes
// that both inputs are [batch, sequence, hidden] with a fixed sequence
// length. Text encoders take any sequence length, so the fusion never
// happens for them, although SkipLayerNormalization's kernel is several
// times faster than LayerNormalization's. SkipLayerNorm performs that
// fusion on the graph's structure alone; the caller checks the result
// numerically (see onnxsession).
package graphfuse

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

// MSDomain is ONNX Runtime's contrib operator domain.
const MSDomain = "com.microsoft"

// onnxDefaultEpsilon is LayerNormalization's epsilon when the node has
// none (SkipLayerNormalization's own default differs, so it is always set).
const onnxDefaultEpsilon = 1e-5

// node is one NodeProto: its raw bytes and what the fusion reads.
type node struct {
	raw     []byte // the whole field, tag included
	name    string
	op      string
	domain  string
	inputs  []string
	outputs []string
	ints    map[string]int64
	floats  map[string]float32
}

// SkipLayerNorm returns model (a serialized ModelProto) with every
//
//	s = Add(a, b); y = LayerNormalization(s, scale, bias)
//
// where a and b are computed tensors (not constants), s is not a graph
// output, and the normalization is over the last axis in float, replaced by
// y = com.microsoft.SkipLayerNormalization(a, b, scale, bias); when other
// nodes read s too, it becomes SkipLayerNormalization's fourth output. It returns
// the number of fusions; with none, model itself is returned. Nodes it
// does not rewrite are copied byte for byte.
func SkipLayerNorm(model []byte) ([]byte, int, error) {
	graph, err := field(model, onnxpb.FieldModelGraph)
	if err != nil {
		return nil, 0, fmt.Errorf("model: %w", err)
	}
	if graph == nil {
		return nil, 0, errors.New("model has no graph")
	}
	var nodes []*node
	inits := map[string]bool{}  // initializers: ready before every node
	consts := map[string]bool{} // initializers and Constant nodes' outputs
	uses := map[string]int{}
	graphOutputs := map[string]bool{}
	err = onnxpb.Walk(graph, func(f onnxpb.Field) error {
		switch f.Num {
		case onnxpb.FieldGraphNode:
			n, err := parseNode(f.Bytes)
			if err != nil {
				return fmt.Errorf("node %d: %w", len(nodes), err)
			}
			n.raw = f.Raw
			nodes = append(nodes, n)
			for _, in := range n.inputs {
				uses[in]++
			}
			if n.op == "Constant" && n.domain == "" {
				for _, o := range n.outputs {
					consts[o] = true
				}
			}
		case onnxpb.FieldGraphInitializer:
			name, err := stringField(f.Bytes, onnxpb.FieldTensorName)
			if err != nil {
				return fmt.Errorf("initializer: %w", err)
			}
			consts[name] = true
			inits[name] = true
		case onnxpb.FieldGraphOutput:
			name, err := stringField(f.Bytes, onnxpb.FieldValueInfoName)
			if err != nil {
				return fmt.Errorf("graph output: %w", err)
			}
			uses[name]++
			graphOutputs[name] = true
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("graph: %w", err)
	}

	producer := map[string]*node{}
	for _, n := range nodes {
		for _, o := range n.outputs {
			producer[o] = n
		}
	}
	// The fused node takes the Add's place, where its inputs are ready
	// and which precedes every reader of the sum and of the norm, so the
	// nodes stay in topological order; the LayerNormalization goes.
	replace := map[*node]*onnxpb.Node{}
	drop := map[*node]bool{}
	for _, ln := range nodes {
		add := fusable(ln, producer, inits, consts, uses, graphOutputs)
		if add == nil || replace[add] != nil {
			continue
		}
		eps := float32(onnxDefaultEpsilon)
		if e, ok := ln.floats["epsilon"]; ok {
			eps = e
		}
		bias := ""
		if len(ln.inputs) > 2 {
			bias = ln.inputs[2]
		}
		// A sum that other nodes read too (pre-norm transformers such as
		// CLIP's vision tower keep it as the next residual) comes out of
		// SkipLayerNormalization's fourth output under its own name.
		sum := ""
		if uses[add.outputs[0]] > 1 {
			sum = add.outputs[0]
		}
		replace[add] = skipLayerNorm(ln.name+"/SkipLayerNorm", []string{add.inputs[0], add.inputs[1], ln.inputs[1], bias}, ln.outputs[0], sum, eps)
		drop[ln] = true
	}
	if len(replace) == 0 {
		return model, 0, nil
	}

	// The graph: every field as it was, in order, but for the rewritten
	// pairs.
	g := make([]byte, 0, len(graph))
	i := 0
	if err := onnxpb.Walk(graph, func(f onnxpb.Field) error {
		if f.Num != onnxpb.FieldGraphNode {
			g = append(g, f.Raw...)
			return nil
		}
		n := nodes[i]
		i++
		switch {
		case drop[n]:
		case replace[n] != nil:
			g = onnxpb.AppendNodeField(g, replace[n])
		default:
			g = append(g, f.Raw...)
		}
		return nil
	}); err != nil {
		return nil, 0, err
	}

	// The model: every field as it was, the new graph in place of the old,
	// and the contrib domain imported if it was not.
	var out []byte
	hasMS := false
	if err := onnxpb.Walk(model, func(f onnxpb.Field) error {
		switch f.Num {
		case onnxpb.FieldModelGraph:
			out = protowire.AppendTag(out, onnxpb.FieldModelGraph, protowire.BytesType)
			out = protowire.AppendBytes(out, g)
			return nil
		case onnxpb.FieldModelOpsetImport:
			d, err := stringField(f.Bytes, onnxpb.FieldOpsetDomain)
			if err != nil {
				return fmt.Errorf("opset import: %w", err)
			}
			hasMS = hasMS || d == MSDomain
		}
		out = append(out, f.Raw...)
		return nil
	}); err != nil {
		return nil, 0, err
	}
	if !hasMS {
		out = onnxpb.AppendOpsetField(out, onnxpb.Opset{Domain: MSDomain, Version: 1})
	}
	return out, len(replace), nil
}

// fusable returns the Add that ln normalizes, when the pair can become one
// SkipLayerNormalization; else nil.
func fusable(ln *node, producer map[string]*node, inits, consts map[string]bool, uses map[string]int, outputs map[string]bool) *node {
	if ln.op != "LayerNormalization" || (ln.domain != "" && ln.domain != "ai.onnx") {
		return nil
	}
	if len(ln.inputs) < 2 || len(ln.outputs) < 1 || ln.outputs[0] == "" {
		return nil
	}
	// Mean and inverse standard deviation outputs, if named, must be unused.
	for _, o := range ln.outputs[1:] {
		if o != "" && uses[o] > 0 {
			return nil
		}
	}
	if axis, ok := ln.ints["axis"]; ok && axis != -1 {
		return nil
	}
	if st, ok := ln.ints["stash_type"]; ok && st != 1 {
		return nil
	}
	// Scale and bias must be initializers: the fused node moves up to the
	// Add's place, before a Constant node that might come after it.
	if !inits[ln.inputs[1]] || (len(ln.inputs) > 2 && ln.inputs[2] != "" && !inits[ln.inputs[2]]) {
		return nil
	}
	x := ln.inputs[0]
	add := producer[x]
	if add == nil || add.op != "Add" || add.domain != "" || len(add.inputs) != 2 || outputs[x] {
		return nil
	}
	if consts[add.inputs[0]] || consts[add.inputs[1]] || add.inputs[0] == "" || add.inputs[1] == "" {
		return nil
	}
	return add
}

// skipLayerNorm returns the fused node.
func skipLayerNorm(name string, inputs []string, output, sum string, eps float32) *onnxpb.Node {
	for len(inputs) > 0 && inputs[len(inputs)-1] == "" {
		inputs = inputs[:len(inputs)-1]
	}
	outputs := []string{output}
	if sum != "" {
		outputs = []string{output, "", "", sum} // output, mean, inv_std_var, input_skip_bias_sum
	}
	return &onnxpb.Node{Name: name, OpType: "SkipLayerNormalization", Domain: MSDomain, Inputs: inputs, Outputs: outputs,
		Attrs: []onnxpb.Attr{onnxpb.Float("epsilon", eps)}}
}

func parseNode(b []byte) (*node, error) {
	n := &node{ints: map[string]int64{}, floats: map[string]float32{}}
	err := onnxpb.Walk(b, func(f onnxpb.Field) error {
		switch f.Num {
		case onnxpb.FieldNodeInput:
			n.inputs = append(n.inputs, string(f.Bytes))
		case onnxpb.FieldNodeOutput:
			n.outputs = append(n.outputs, string(f.Bytes))
		case onnxpb.FieldNodeName:
			n.name = string(f.Bytes)
		case onnxpb.FieldNodeOpType:
			n.op = string(f.Bytes)
		case onnxpb.FieldNodeDomain:
			n.domain = string(f.Bytes)
		case onnxpb.FieldNodeAttribute:
			return parseAttr(f.Bytes, n)
		}
		return nil
	})
	return n, err
}

// parseAttr records an int or float attribute (the only kinds the fusion
// reads).
func parseAttr(b []byte, n *node) error {
	var name string
	var i int64
	var f float32
	var hasI, hasF bool
	err := onnxpb.Walk(b, func(fd onnxpb.Field) error {
		switch {
		case fd.Num == onnxpb.FieldAttrName && fd.Type == protowire.BytesType:
			name = string(fd.Bytes)
		case fd.Num == onnxpb.FieldAttrI && fd.Type == protowire.VarintType:
			i, hasI = int64(fd.Value), true
		case fd.Num == onnxpb.FieldAttrF && fd.Type == protowire.Fixed32Type:
			f, hasF = math.Float32frombits(uint32(fd.Value)), true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if hasI {
		n.ints[name] = i
	}
	if hasF {
		n.floats[name] = f
	}
	return nil
}

// field returns the value of the last length-delimited field num, or nil.
func field(b []byte, num protowire.Number) ([]byte, error) {
	var out []byte
	err := onnxpb.Walk(b, func(f onnxpb.Field) error {
		if f.Num == num && f.Bytes != nil {
			out = f.Bytes
		}
		return nil
	})
	return out, err
}

func stringField(b []byte, num protowire.Number) (string, error) {
	v, err := field(b, num)
	return string(v), err
}

// Count returns the number of SkipLayerNormalization nodes in model (0 for
// bytes that are not a model).
func Count(model []byte) int {
	graph, err := field(model, onnxpb.FieldModelGraph)
	if err != nil {
		return 0
	}
	n := 0
	onnxpb.Walk(graph, func(f onnxpb.Field) error {
		if f.Num == onnxpb.FieldGraphNode {
			if nd, err := parseNode(f.Bytes); err == nil && nd.op == "SkipLayerNormalization" && nd.domain == MSDomain {
				n++
			}
		}
		return nil
	})
	return n
}
