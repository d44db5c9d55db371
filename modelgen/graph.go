package modelgen

import (
	"fmt"
	"math"
	"strconv"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

// Opset is the ai.onnx opset the generated graphs use (LayerNormalization
// needs 17).
const Opset = 17

// GraphVersion is written as the generated graphs' producer version; it
// changes whenever the graphs modelgen writes change, so that caches of
// generated models (bench's) know to regenerate. 2: GELU and q scaling in
// the nodes torch.onnx exports, the attention mask expanded.
const GraphVersion = 2

// graph accumulates the nodes and initializers of one ONNX graph.
type graph struct {
	g    *onnxpb.Graph
	w    *weights
	next int
}

func newGraph(name string, w *weights) *graph {
	return &graph{g: &onnxpb.Graph{Name: name}, w: w}
}

// model wraps the graph into an opset-17 model.
func (b *graph) model(doc string) *onnxpb.Model {
	return &onnxpb.Model{
		ProducerName:    "mclip-modelgen",
		ProducerVersion: strconv.Itoa(GraphVersion),
		DocString:       doc,
		Opsets:          []onnxpb.Opset{{Version: Opset}},
		Graph:           b.g,
	}
}

// opTo adds a node writing the named output.
func (b *graph) opTo(out, opType string, inputs []string, attrs ...onnxpb.Attr) string {
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

// op adds a node with a fresh output name and returns that name.
func (b *graph) op(opType string, inputs []string, attrs ...onnxpb.Attr) string {
	return b.opTo(fmt.Sprintf("%s_%d_out", opType, b.next+1), opType, inputs, attrs...)
}

// add registers an initializer and returns its name.
func (b *graph) add(t *onnxpb.Tensor) string {
	b.g.Initializers = append(b.g.Initializers, t)
	return t.Name
}

// normal adds a named FLOAT initializer drawn from N(mean, std²).
func (b *graph) normal(name string, mean, std float64, dims ...int64) string {
	n := int(onnxpb.NumElements(dims))
	return b.add(&onnxpb.Tensor{Name: name, DataType: onnxpb.TypeFloat, Dims: dims, Raw: b.w.normalRaw(n, mean, std)})
}

// constI64 adds an INT64 constant; no dims means a scalar of vals[0].
func (b *graph) constI64(vals []int64, dims ...int64) string {
	b.next++
	return b.add(onnxpb.Int64Tensor(fmt.Sprintf("const_i64_%d", b.next), dims, vals))
}

// constF32 adds a FLOAT scalar constant.
func (b *graph) constF32(v float32) string {
	b.next++
	return b.add(onnxpb.FloatTensor(fmt.Sprintf("const_f32_%d", b.next), nil, []float32{v}))
}

// linear adds x·W (+ bias). W is stored [in, out] (MatMul layout, as
// torch.onnx exports nn.Linear) under prefix+".weight"; the bias under
// prefix+".bias". Weights are N(0, 1/in).
func (b *graph) linear(x, prefix string, in, out int, bias bool) string {
	w := b.normal(prefix+".weight", 0, 1/math.Sqrt(float64(in)), int64(in), int64(out))
	y := b.op("MatMul", []string{x, w})
	if !bias {
		return y
	}
	bv := b.normal(prefix+".bias", 0, 0.1, int64(out))
	return b.op("Add", []string{y, bv})
}

// layerNorm adds a LayerNormalization over the last axis with gamma
// ~N(1, 0.1²) and beta ~N(0, 0.1²), so that the affine part matters.
func (b *graph) layerNorm(x, prefix string, dim int, eps float32, out string) string {
	g := b.normal(prefix+".weight", 1, 0.1, int64(dim))
	be := b.normal(prefix+".bias", 0, 0.1, int64(dim))
	in := []string{x, g, be}
	attrs := []onnxpb.Attr{onnxpb.Int("axis", -1), onnxpb.Float("epsilon", eps)}
	if out != "" {
		return b.opTo(out, "LayerNormalization", in, attrs...)
	}
	return b.op("LayerNormalization", in, attrs...)
}

// attnNames names the projections of one attention block.
type attnNames struct{ q, k, v, out string }

// attention adds multi-head self-attention over x [B, S, dim]: q, k, v and
// output projections with biases, q scaled by 1/sqrt(head_dim), and, when
// mask is not empty, scores at masked positions (mask true, expanded to
// [B, H, S, S]) replaced by the float32 minimum before the softmax. The
// nodes are those torch.onnx exports for transformers' DistilBERT
// attention (see testdata/torchexport); ONNX Runtime fuses the q scaling
// into the score MatMul whether it is a Div or a Mul.
func (b *graph) attention(x string, n attnNames, dim, heads int, mask string) string {
	hd := dim / heads
	q := b.linear(x, n.q, dim, dim, true)
	k := b.linear(x, n.k, dim, dim, true)
	v := b.linear(x, n.v, dim, dim, true)
	split := b.constI64([]int64{0, 0, int64(heads), int64(hd)}, 4)
	heads4 := func(t string, perm ...int64) string {
		r := b.op("Reshape", []string{t, split})
		return b.op("Transpose", []string{r}, onnxpb.Ints("perm", perm...))
	}
	qh := heads4(q, 0, 2, 1, 3)
	qh = b.op("Div", []string{qh, b.constF32(float32(math.Sqrt(float64(hd))))})
	kt := heads4(k, 0, 2, 3, 1)
	vh := heads4(v, 0, 2, 1, 3)
	scores := b.op("MatMul", []string{qh, kt})
	if mask != "" {
		full := b.op("Expand", []string{mask, b.op("Shape", []string{scores})})
		scores = b.op("Where", []string{full, b.constF32(-math.MaxFloat32), scores})
	}
	probs := b.op("Softmax", []string{scores}, onnxpb.Int("axis", -1))
	ctx := b.op("MatMul", []string{probs, vh})
	ctx = b.op("Transpose", []string{ctx}, onnxpb.Ints("perm", 0, 2, 1, 3))
	ctx = b.op("Reshape", []string{ctx, b.constI64([]int64{0, 0, int64(dim)}, 3)})
	return b.linear(ctx, n.out, dim, dim, true)
}
