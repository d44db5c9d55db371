package modelgen

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

// maxHalf is the largest finite float16.
const maxHalf = 65504

// convertFloat16 returns a copy of m computing in float16 with float32
// inputs and outputs (as onnxconverter-common's convert_float_to_float16
// with keep_io_types=True): every float initializer becomes float16, with
// finite values beyond the float16 range clamped to ±65504; float inputs
// are cast to float16 on entry and float outputs cast back on exit.
func convertFloat16(m *onnxpb.Model) (*onnxpb.Model, error) {
	g := m.Graph
	rename := map[string]string{}
	out := &onnxpb.Graph{Name: g.Name, Inputs: g.Inputs, Outputs: g.Outputs}
	for _, in := range g.Inputs {
		if in.ElemType != onnxpb.TypeFloat {
			continue
		}
		rename[in.Name] = in.Name + "_fp16"
		out.Nodes = append(out.Nodes, cast(in.Name, in.Name+"_fp16", onnxpb.TypeFloat16))
	}
	for _, o := range g.Outputs {
		if o.ElemType == onnxpb.TypeFloat {
			rename[o.Name] = o.Name + "_fp16"
		}
	}
	for _, n := range g.Nodes {
		if n.OpType == "Cast" {
			return nil, fmt.Errorf("float16: node %s: Cast nodes are not converted", n.Name)
		}
		c := *n
		c.Inputs = renamed(n.Inputs, rename)
		c.Outputs = renamed(n.Outputs, rename)
		out.Nodes = append(out.Nodes, &c)
	}
	for _, o := range g.Outputs {
		if o.ElemType == onnxpb.TypeFloat {
			out.Nodes = append(out.Nodes, cast(o.Name+"_fp16", o.Name, onnxpb.TypeFloat))
		}
	}
	for _, t := range g.Initializers {
		if t.DataType != onnxpb.TypeFloat {
			out.Initializers = append(out.Initializers, t)
			continue
		}
		vals, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("float16: %w", err)
		}
		raw := make([]byte, 2*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint16(raw[2*i:], toHalf(v))
		}
		out.Initializers = append(out.Initializers, &onnxpb.Tensor{Name: t.Name, DataType: onnxpb.TypeFloat16, Dims: t.Dims, Raw: raw})
	}
	c := *m
	c.Graph = out
	c.DocString = m.DocString + "; float16 weights and compute, float32 inputs and outputs"
	return &c, nil
}

func cast(in, out string, to int32) *onnxpb.Node {
	return &onnxpb.Node{Name: "cast_" + out, OpType: "Cast", Inputs: []string{in}, Outputs: []string{out},
		Attrs: []onnxpb.Attr{onnxpb.Int("to", int64(to))}}
}

func renamed(names []string, rename map[string]string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if r, ok := rename[n]; ok {
			n = r
		}
		out[i] = n
	}
	return out
}

// toHalf converts to IEEE 754 binary16 with round-to-nearest-even; finite
// values beyond the range clamp to ±65504.
func toHalf(f float32) uint16 {
	if !math.IsInf(float64(f), 0) && !math.IsNaN(float64(f)) {
		f = float32(math.Max(-maxHalf, math.Min(maxHalf, float64(f))))
	}
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e <= 0 {
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - e)
		m := mant >> shift
		rem := mant & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && m&1 == 1) {
			m++
		}
		return sign | uint16(m)
	}
	h := sign | uint16(e)<<10 | uint16(mant>>13)
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++
	}
	return h
}
