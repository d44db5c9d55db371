package modelgen

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

// quantizeDynamic returns a copy of m in which every MatMul by a 2-D float
// initializer is replaced by dynamic quantization, as ONNX Runtime's
// quantize_dynamic writes it with uint8 weights (QUInt8):
//
//	xq, xs, xz = DynamicQuantizeLinear(x)
//	y = Cast(MatMulInteger(xq, Wq, xz, Wz), FLOAT) * (xs * Ws)
//
// and every Gather from a 2-D float initializer (the embedding tables)
// gathers uint8 rows and dequantizes them:
//
//	y = DequantizeLinear(Gather(Wq, ids), Ws, Wz)
//
// with W quantized per tensor, asymmetric, to uint8. ONNX Runtime fuses the
// MatMul pattern into DynamicQuantizeMatMul. Everything else, including
// the other initializers, is shared with m.
func quantizeDynamic(m *onnxpb.Model) (*onnxpb.Model, error) {
	g := m.Graph
	inits := make(map[string]*onnxpb.Tensor, len(g.Initializers))
	for _, t := range g.Initializers {
		inits[t.Name] = t
	}
	q := &onnxpb.Graph{Name: g.Name, Inputs: g.Inputs, Outputs: g.Outputs}
	used := map[string]bool{}
	done := map[string]bool{}
	quantized := func(w *onnxpb.Tensor) error {
		if done[w.Name] {
			return nil
		}
		wq, scale, zp, err := quantizeUint8(w)
		if err != nil {
			return err
		}
		q.Initializers = append(q.Initializers, wq, scale, zp)
		done[w.Name] = true
		return nil
	}
	isMatrix := func(name string) (*onnxpb.Tensor, bool) {
		w, ok := inits[name]
		return w, ok && w.DataType == onnxpb.TypeFloat && len(w.Dims) == 2
	}
	for i, n := range g.Nodes {
		p := fmt.Sprintf("%s_q%d", n.Outputs[0], i)
		if w, ok := isMatrix(inputAt(n, 0)); ok && n.OpType == "Gather" && gatherAxis(n) == 0 {
			if err := quantized(w); err != nil {
				return nil, err
			}
			used[n.Inputs[1]] = true
			q.Nodes = append(q.Nodes,
				&onnxpb.Node{Name: p + "_gather", OpType: "Gather", Inputs: []string{w.Name + "_quantized", n.Inputs[1]},
					Outputs: []string{p + "_u8"}, Attrs: n.Attrs},
				&onnxpb.Node{Name: p + "_dq", OpType: "DequantizeLinear",
					Inputs: []string{p + "_u8", w.Name + "_scale", w.Name + "_zero_point"}, Outputs: n.Outputs},
			)
			continue
		}
		w, ok := isMatrix(inputAt(n, 1))
		if n.OpType != "MatMul" || !ok {
			q.Nodes = append(q.Nodes, n)
			for _, in := range n.Inputs {
				used[in] = true
			}
			continue
		}
		if err := quantized(w); err != nil {
			return nil, err
		}
		x := n.Inputs[0]
		q.Nodes = append(q.Nodes,
			&onnxpb.Node{Name: p + "_dql", OpType: "DynamicQuantizeLinear", Inputs: []string{x},
				Outputs: []string{p + "_x", p + "_xs", p + "_xz"}},
			&onnxpb.Node{Name: p + "_mmi", OpType: "MatMulInteger",
				Inputs:  []string{p + "_x", w.Name + "_quantized", p + "_xz", w.Name + "_zero_point"},
				Outputs: []string{p + "_i32"}},
			&onnxpb.Node{Name: p + "_cast", OpType: "Cast", Inputs: []string{p + "_i32"},
				Outputs: []string{p + "_f32"}, Attrs: []onnxpb.Attr{onnxpb.Int("to", int64(onnxpb.TypeFloat))}},
			&onnxpb.Node{Name: p + "_scale", OpType: "Mul", Inputs: []string{p + "_xs", w.Name + "_scale"},
				Outputs: []string{p + "_s"}},
			&onnxpb.Node{Name: p + "_out", OpType: "Mul", Inputs: []string{p + "_f32", p + "_s"},
				Outputs: n.Outputs},
		)
	}
	for _, t := range g.Initializers {
		if used[t.Name] {
			q.Initializers = append(q.Initializers, t)
		}
	}
	out := *m
	out.Graph = q
	out.DocString = m.DocString + "; MatMul weights dynamically quantized to uint8"
	return &out, nil
}

// gatherAxis returns a Gather node's axis attribute (default 0).
func gatherAxis(n *onnxpb.Node) int64 {
	for _, a := range n.Attrs {
		if a.Name == "axis" {
			return a.I
		}
	}
	return 0
}

func inputAt(n *onnxpb.Node, i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// quantizeUint8 quantizes a float tensor per tensor to uint8 with a range
// that includes zero: q = clamp(round(w/scale) + zp, 0, 255).
func quantizeUint8(w *onnxpb.Tensor) (q, scale, zp *onnxpb.Tensor, err error) {
	vals, err := w.Float32s()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("quantize: %w", err)
	}
	lo, hi := 0.0, 0.0
	for _, v := range vals {
		lo = math.Min(lo, float64(v))
		hi = math.Max(hi, float64(v))
	}
	s := (hi - lo) / 255
	if s == 0 {
		s = 1
	}
	s = float64(float32(s)) // quantize with the scale the graph stores
	z := math.Round(-lo / s)
	raw := make([]byte, len(vals))
	for i, v := range vals {
		raw[i] = byte(math.Max(0, math.Min(255, math.Round(float64(v)/s)+z)))
	}
	q = &onnxpb.Tensor{Name: w.Name + "_quantized", DataType: onnxpb.TypeUint8, Dims: w.Dims, Raw: raw}
	sb := make([]byte, 4)
	binary.LittleEndian.PutUint32(sb, math.Float32bits(float32(s)))
	scale = &onnxpb.Tensor{Name: w.Name + "_scale", DataType: onnxpb.TypeFloat, Raw: sb}
	zp = &onnxpb.Tensor{Name: w.Name + "_zero_point", DataType: onnxpb.TypeUint8, Raw: []byte{byte(z)}}
	return q, scale, zp, nil
}
