package graphfuse

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/modelgen/modeltest"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
)

// optimized returns graph as ONNX Runtime's full optimization leaves it.
func optimized(t *testing.T, graph string, inputs, outputs []string) []byte {
	t.Helper()
	so, err := ort.NewSessionOptions()
	require.NoError(t, err)
	defer so.Destroy()
	require.NoError(t, so.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll))
	path := filepath.Join(t.TempDir(), "optimized.onnx")
	require.NoError(t, so.SetOptimizedModelFilePath(path))
	s, err := ort.NewDynamicAdvancedSession(graph, inputs, outputs, so)
	require.NoError(t, err)
	require.NoError(t, s.Destroy())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// run feeds model (bytes) and returns its first output's values.
func run(t *testing.T, model []byte, names []string, output string, inputs []ort.Value) []float32 {
	t.Helper()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, names, []string{output}, nil)
	require.NoError(t, err)
	defer s.Destroy()
	outs := []ort.Value{nil}
	require.NoError(t, s.Run(inputs, outs))
	defer outs[0].Destroy()
	return append([]float32(nil), outs[0].(*ort.Tensor[float32]).GetData()...)
}

func tensor[T ort.TensorData](t *testing.T, shape ort.Shape, data []T) ort.Value {
	t.Helper()
	v, err := ort.NewTensor(shape, data)
	require.NoError(t, err)
	t.Cleanup(func() { v.Destroy() })
	return v
}

// The fused graph computes what the optimized one does, on the generated
// towers and on torch.onnx's export of DistilBERT (whose LayerNorm ONNX
// Runtime first fuses from ReduceMean, Sub, Pow, ...), with padding and
// sequence lengths that differ from the batch size.
func TestSkipLayerNormKeepsResults(t *testing.T) {
	require.NoError(t, ortlib.Init(""))
	textDir := modeltest.Tiny(t, 7)
	ids := []int64{101, 5, 6, 7, 102, 101, 8, 102, 0, 0}
	mask := []int64{1, 1, 1, 1, 1, 1, 1, 1, 0, 0}
	textIn := func() []ort.Value {
		return []ort.Value{tensor(t, ort.NewShape(2, 5), ids), tensor(t, ort.NewShape(2, 5), mask)}
	}
	px := make([]float32, 2*3*224*224)
	for i := range px {
		px[i] = float32(math.Sin(float64(i) * 0.01))
	}
	tests := []struct {
		name   string
		graph  string
		inputs []string
		output string
		feed   func() []ort.Value
		fused  int
	}{
		// The embeddings' layer norm and two per layer.
		{"generated text tower", textDir.Text(modelstore.TextONNXFP32), []string{"input_ids", "attention_mask"}, "last_hidden_state", textIn, 5},
		{"torch.onnx export of DistilBERT", filepath.Join("..", "..", "modelgen", "testdata", "torchexport", "distilbert_tiny.onnx"),
			[]string{"input_ids", "attention_mask"}, "last_hidden_state", textIn, 5},
		// Pre-norm: a residual sum feeds the next layer norm and the next
		// residual Add.
		{"generated vision tower", textDir.Vision(modelstore.VisionONNXFP32), []string{"pixel_values"}, "image_embeds",
			func() []ort.Value { return []ort.Value{tensor(t, ort.NewShape(2, 3, 224, 224), px)} }, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := optimized(t, tt.graph, tt.inputs, []string{tt.output})
			fused, n, err := SkipLayerNorm(opt)
			require.NoError(t, err)
			assert.Equal(t, tt.fused, n)
			m, err := onnxpb.Parse(fused)
			require.NoError(t, err)
			count := 0
			for _, nd := range m.Graph.Nodes {
				if nd.OpType == "SkipLayerNormalization" {
					count++
				}
			}
			assert.Equal(t, n, count)
			want := run(t, opt, tt.inputs, tt.output, tt.feed())
			got := run(t, fused, tt.inputs, tt.output, tt.feed())
			require.Len(t, got, len(want))
			for i := range want {
				require.InDelta(t, want[i], got[i], 1e-4*(1+math.Abs(float64(want[i]))), "value %d", i)
			}
		})
	}
}

// Pairs that must stay as they are.
func TestSkipLayerNormLeaves(t *testing.T) {
	scale := onnxpb.FloatTensor("scale", []int64{4}, []float32{1, 1, 1, 1})
	bias := onnxpb.FloatTensor("bias", []int64{4}, []float32{0, 0, 0, 0})
	c := onnxpb.FloatTensor("c", []int64{4}, []float32{1, 2, 3, 4})
	ln := func(in string, attrs ...onnxpb.Attr) *onnxpb.Node {
		return &onnxpb.Node{Name: "ln", OpType: "LayerNormalization", Inputs: []string{in, "scale", "bias"}, Outputs: []string{"y"}, Attrs: attrs}
	}
	add := &onnxpb.Node{Name: "add", OpType: "Add", Inputs: []string{"a", "b"}, Outputs: []string{"s"}}
	tests := []struct {
		name  string
		nodes []*onnxpb.Node
		outs  []string
		want  int
	}{
		{"fused", []*onnxpb.Node{add, ln("s")}, []string{"y"}, 1},
		{"fused, axis -1 and epsilon given", []*onnxpb.Node{add, ln("s", onnxpb.Int("axis", -1), onnxpb.Float("epsilon", 1e-12))}, []string{"y"}, 1},
		{"the sum is used elsewhere: the fourth output", []*onnxpb.Node{add, ln("s"), {OpType: "Relu", Inputs: []string{"s"}, Outputs: []string{"r"}}}, []string{"y", "r"}, 1},
		{"the sum is read before the norm: the fused node takes the Add's place", []*onnxpb.Node{add, {OpType: "Relu", Inputs: []string{"s"}, Outputs: []string{"r"}}, ln("s")}, []string{"y", "r"}, 1},
		{"the sum is a graph output", []*onnxpb.Node{add, ln("s")}, []string{"y", "s"}, 0},
		{"scale from a Constant node", []*onnxpb.Node{add, {OpType: "Constant", Outputs: []string{"k"}, Attrs: []onnxpb.Attr{onnxpb.TensorAttr("value", scale)}},
			{OpType: "LayerNormalization", Inputs: []string{"s", "k", "bias"}, Outputs: []string{"y"}}}, []string{"y"}, 0},
		{"a bias add", []*onnxpb.Node{{OpType: "Add", Inputs: []string{"a", "c"}, Outputs: []string{"s"}}, ln("s")}, []string{"y"}, 0},
		{"another axis", []*onnxpb.Node{add, ln("s", onnxpb.Int("axis", 1))}, []string{"y"}, 0},
		{"stash type double", []*onnxpb.Node{add, ln("s", onnxpb.Int("stash_type", 11))}, []string{"y"}, 0},
		{"not an add", []*onnxpb.Node{{OpType: "Mul", Inputs: []string{"a", "b"}, Outputs: []string{"s"}}, ln("s")}, []string{"y"}, 0},
		{"mean output used", []*onnxpb.Node{add, {OpType: "LayerNormalization", Inputs: []string{"s", "scale", "bias"}, Outputs: []string{"y", "mean"}},
			{OpType: "Relu", Inputs: []string{"mean"}, Outputs: []string{"r"}}}, []string{"y", "r"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &onnxpb.Graph{Name: "g", Nodes: tt.nodes, Initializers: []*onnxpb.Tensor{scale, bias, c},
				Inputs: []onnxpb.ValueInfo{{Name: "a", ElemType: onnxpb.TypeFloat}, {Name: "b", ElemType: onnxpb.TypeFloat}}}
			for _, o := range tt.outs {
				g.Outputs = append(g.Outputs, onnxpb.ValueInfo{Name: o, ElemType: onnxpb.TypeFloat})
			}
			model := &onnxpb.Model{Opsets: []onnxpb.Opset{{Version: 17}}, Graph: g}
			b, err := model.Marshal()
			require.NoError(t, err)
			out, n, err := SkipLayerNorm(b)
			require.NoError(t, err)
			assert.Equal(t, tt.want, n)
			if n == 0 {
				assert.Equal(t, b, out, "left byte for byte")
				return
			}
			m, err := onnxpb.Parse(out)
			require.NoError(t, err)
			var ops []string
			for _, nd := range m.Graph.Nodes {
				ops = append(ops, nd.Domain+":"+nd.OpType)
			}
			sk := m.Graph.Nodes[0]
			assert.Equal(t, "com.microsoft:SkipLayerNormalization", ops[0])
			assert.Equal(t, []string{"a", "b", "scale", "bias"}, sk.Inputs)
			if len(ops) > 1 {
				assert.Equal(t, []string{"com.microsoft:SkipLayerNormalization", ":Relu"}, ops)
				assert.Equal(t, []string{"y", "", "", "s"}, sk.Outputs, "the sum under its own name")
			} else {
				assert.Equal(t, []string{"y"}, sk.Outputs)
			}
			require.Len(t, sk.Attrs, 1)
			assert.Equal(t, "epsilon", sk.Attrs[0].Name)
			assert.Contains(t, []float32{1e-5, 1e-12}, sk.Attrs[0].F)
			assert.Contains(t, m.Opsets, onnxpb.Opset{Domain: MSDomain, Version: 1})
		})
	}
}

func TestSkipLayerNormRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, {0xff}, {0x3a, 0x05, 0x01}} {
		_, _, err := SkipLayerNorm(b)
		assert.Error(t, err)
	}
}
