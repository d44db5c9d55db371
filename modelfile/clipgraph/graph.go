package clipgraph

import (
	"fmt"
	"math"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/modelfile/safetensors"
)

// Opset is the ai.onnx opset of the graphs (LayerNormalization needs 17).
const Opset = 17

// Producer is the graphs' producer name; Version changes whenever the
// graphs built from the same weights change, so that caches of converted
// models know to rebuild.
const (
	Producer = "mclip-clipgraph"
	Version  = "1"
)

// builder accumulates one graph's nodes and initializers, and the first
// error met reading weights, so that the tower code reads as the model.
type builder struct {
	g    *onnxpb.Graph
	src  Source
	next int
	err  error
}

func newBuilder(name string, src Source) *builder {
	return &builder{g: &onnxpb.Graph{Name: name}, src: src}
}

func (b *builder) model(doc string) *onnxpb.Model {
	return &onnxpb.Model{
		ProducerName:    Producer,
		ProducerVersion: Version,
		DocString:       doc,
		Opsets:          []onnxpb.Opset{{Version: Opset}},
		Graph:           b.g,
	}
}

func (b *builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

func (b *builder) opTo(out, opType string, inputs []string, attrs ...onnxpb.Attr) string {
	b.next++
	b.g.Nodes = append(b.g.Nodes, &onnxpb.Node{
		Name:    fmt.Sprintf("%s_%d", opType, b.next),
		OpType:  opType,
		Inputs:  inputs,
		Outputs: []string{out},
		Attrs:   attrs,
	})
	return out
}

func (b *builder) op(opType string, inputs []string, attrs ...onnxpb.Attr) string {
	return b.opTo(fmt.Sprintf("%s_%d_out", opType, b.next+1), opType, inputs, attrs...)
}

func (b *builder) add(t *onnxpb.Tensor) string {
	b.g.Initializers = append(b.g.Initializers, t)
	return t.Name
}

func (b *builder) constI64(vals []int64, dims ...int64) string {
	b.next++
	return b.add(onnxpb.Int64Tensor(fmt.Sprintf("const_i64_%d", b.next), dims, vals))
}

func (b *builder) constF32(v float32) string {
	b.next++
	return b.add(onnxpb.FloatTensor(fmt.Sprintf("const_f32_%d", b.next), nil, []float32{v}))
}

// weight reads a weight and checks its shape; nil after an error.
func (b *builder) weight(name string, shape ...int64) *Tensor {
	if b.err != nil {
		return nil
	}
	t, err := b.src.Tensor(name)
	if err == nil {
		err = t.check(name, shape)
	}
	if err != nil {
		b.fail(err)
		return nil
	}
	return &t
}

// f32 adds a weight as a FLOAT initializer of its own shape and name.
func (b *builder) f32(name string, shape ...int64) string {
	t := b.weight(name, shape...)
	if t == nil {
		return name
	}
	return b.add(&onnxpb.Tensor{Name: name, DataType: onnxpb.TypeFloat, Dims: shape, Raw: t.rawF32()})
}

// linear adds x·Wᵀ (+ b) for a torch nn.Linear weight [out, in], stored
// transposed [in, out] (the MatMul layout torch.onnx exports) so that ONNX
// Runtime's fusions see MatMul + Add.
func (b *builder) linear(x, prefix string, in, out int, bias bool) string {
	name := prefix + ".weight"
	w := name
	if t := b.weight(name, int64(out), int64(in)); t != nil {
		b.add(&onnxpb.Tensor{Name: name, DataType: onnxpb.TypeFloat, Dims: []int64{int64(in), int64(out)}, Raw: t.transposedF32()})
	}
	y := b.op("MatMul", []string{x, w})
	if !bias {
		return y
	}
	return b.op("Add", []string{y, b.f32(prefix+".bias", int64(out))})
}

// layerNorm adds a LayerNormalization over the last axis.
func (b *builder) layerNorm(x, prefix string, dim int, eps float64) string {
	return b.op("LayerNormalization", []string{x, b.f32(prefix+".weight", int64(dim)), b.f32(prefix+".bias", int64(dim))},
		onnxpb.Int("axis", -1), onnxpb.Float("epsilon", float32(eps)))
}

// activation adds hidden_act in the node patterns ONNX Runtime fuses with
// the bias Add before them: x·sigmoid(1.702x) into QuickGelu, the erf
// GELU as torch.onnx exports nn.GELU (Div, Erf, Add, Mul, Mul) into
// BiasGelu.
func (b *builder) activation(x string, act Activation) string {
	if act == QuickGELU {
		return b.op("Mul", []string{x, b.op("Sigmoid", []string{b.op("Mul", []string{x, b.constF32(1.702)})})})
	}
	e := b.op("Erf", []string{b.op("Div", []string{x, b.constF32(float32(math.Sqrt2))})})
	return b.op("Mul", []string{b.op("Mul", []string{x, b.op("Add", []string{e, b.constF32(1)})}), b.constF32(0.5)})
}

// attention adds CLIPAttention over x [B, S, dim]: q, k, v and output
// projections with biases, scores scaled by head_dim^-0.5, and, when mask
// is not empty, the additive mask [S, S] added to the scores before the
// softmax (transformers' causal mask).
func (b *builder) attention(x, prefix string, dim, heads int, mask string) string {
	hd := dim / heads
	q := b.linear(x, prefix+"q_proj", dim, dim, true)
	k := b.linear(x, prefix+"k_proj", dim, dim, true)
	v := b.linear(x, prefix+"v_proj", dim, dim, true)
	split := b.constI64([]int64{0, 0, int64(heads), int64(hd)}, 4)
	heads4 := func(t string, perm ...int64) string {
		r := b.op("Reshape", []string{t, split})
		return b.op("Transpose", []string{r}, onnxpb.Ints("perm", perm...))
	}
	qh := b.op("Mul", []string{heads4(q, 0, 2, 1, 3), b.constF32(float32(math.Pow(float64(hd), -0.5)))})
	scores := b.op("MatMul", []string{qh, heads4(k, 0, 2, 3, 1)})
	if mask != "" {
		scores = b.op("Add", []string{scores, mask})
	}
	probs := b.op("Softmax", []string{scores}, onnxpb.Int("axis", -1))
	ctx := b.op("MatMul", []string{probs, heads4(v, 0, 2, 1, 3)})
	ctx = b.op("Transpose", []string{ctx}, onnxpb.Ints("perm", 0, 2, 1, 3))
	ctx = b.op("Reshape", []string{ctx, b.constI64([]int64{0, 0, int64(dim)}, 3)})
	return b.linear(ctx, prefix+"out_proj", dim, dim, true)
}

// encoderLayer adds one CLIPEncoderLayer (pre-LN attention and MLP, each
// with a residual).
func (b *builder) encoderLayer(x, prefix string, dim, heads, inter int, act Activation, eps float64, mask string) string {
	h := b.layerNorm(x, prefix+"layer_norm1", dim, eps)
	h = b.attention(h, prefix+"self_attn.", dim, heads, mask)
	x = b.op("Add", []string{x, h})
	h = b.layerNorm(x, prefix+"layer_norm2", dim, eps)
	h = b.linear(h, prefix+"mlp.fc1", dim, inter, true)
	h = b.activation(h, act)
	h = b.linear(h, prefix+"mlp.fc2", inter, dim, true)
	return b.op("Add", []string{x, h})
}

// embeddingTable adds a [rows, dim] table for a Gather, in its own dtype
// when that is F16 (with a Cast after the Gather: exact, and half the
// memory of a float32 copy of a 900k-row table), as float32 otherwise (an
// F32 table's bytes are the source's, not a copy). It returns the
// Gather's float32 output.
func (b *builder) embeddingLookup(name string, rows, dim int64, ids string) string {
	t := b.weight(name, rows, dim)
	if t != nil && t.Dtype == safetensors.F16 {
		b.add(&onnxpb.Tensor{Name: name, DataType: onnxpb.TypeFloat16, Dims: []int64{rows, dim}, Raw: t.Data})
		g := b.op("Gather", []string{name, ids}, onnxpb.Int("axis", 0))
		return b.op("Cast", []string{g}, onnxpb.Int("to", int64(onnxpb.TypeFloat)))
	}
	if t != nil {
		b.add(&onnxpb.Tensor{Name: name, DataType: onnxpb.TypeFloat, Dims: []int64{rows, dim}, Raw: t.rawF32()})
	}
	return b.op("Gather", []string{name, ids}, onnxpb.Int("axis", 0))
}
