package modelgen

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/clipgraph"
	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
)

// clipGoldens is testdata/clipref/goldens.json (regen.sh beside it).
type clipGoldens struct {
	Seed  int64 `json:"seed"`
	Archs map[CLIPArch]struct {
		Config        map[string]any         `json:"config"`
		InputIDs      [][]int64              `json:"input_ids"`
		AttentionMask [][]int64              `json:"attention_mask"`
		TextEmbeds    map[string][][]float64 `json:"text_embeds"`
		ImageEmbeds   [][]float64            `json:"image_embeds"`
	} `json:"archs"`
}

// centeredCosine is the cosine of a and b after subtracting each one's
// mean (Pearson's correlation).
func centeredCosine(a []float32, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += float64(a[i])
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i])-ma, b[i]-mb
		dot += x * y
		na += x * x
		nb += y * y
	}
	return dot / math.Sqrt(na*nb)
}

// clipPixels repeats reference.py's pixels(): value i of image b is
// ((i*(7919 + 3989b) + 104729b) mod 1000)/250 - 2.
func clipPixels(c clipgraph.Config, batch int) []float32 {
	n := c.Vision.NumChannels * c.Vision.ImageSize * c.Vision.ImageSize
	out := make([]float32, batch*n)
	for b := 0; b < batch; b++ {
		for i := 0; i < n; i++ {
			out[b*n+i] = float32(float64((int64(i)*(7919+3989*int64(b))+int64(b)*104729)%1000)/250 - 2)
		}
	}
	return out
}

// runGraph runs a one-input, one-output graph at ONNX Runtime's full
// optimization level and returns the output rows.
func runGraph[T ort.TensorData](t *testing.T, path, in, out string, shape ort.Shape, data []T) [][]float32 {
	t.Helper()
	sess, err := ort.NewDynamicAdvancedSession(path, []string{in}, []string{out}, nil)
	require.NoError(t, err, path)
	defer sess.Destroy()
	x, err := ort.NewTensor(shape, data)
	require.NoError(t, err)
	defer x.Destroy()
	outs := []ort.Value{nil}
	require.NoError(t, sess.Run([]ort.Value{x}, outs))
	y := outs[0].(*ort.Tensor[float32])
	defer y.Destroy()
	s := y.GetShape()
	require.Len(t, s, 2)
	rows := make([][]float32, s[0])
	for r := range rows {
		rows[r] = append([]float32(nil), y.GetData()[int64(r)*s[1]:int64(r+1)*s[1]]...)
	}
	return rows
}

// The graphs clipgraph builds from a generated checkpoint compute what
// transformers' CLIPModel computes from the same files: reference.py, a
// PyTorch module written from modeling_clip, wrote goldens.json for every
// architecture, text pooled by both rules (the reference passes the
// processor's attention mask; the graphs take input_ids alone, padded
// after EOS as the processor pads).
func TestCLIPGraphsMatchPyTorch(t *testing.T) {
	require.NoError(t, ortlib.Init(""))
	b, err := os.ReadFile(filepath.Join("testdata", "clipref", "goldens.json"))
	require.NoError(t, err)
	var g clipGoldens
	require.NoError(t, json.Unmarshal(b, &g))
	require.Len(t, g.Archs, len(CLIPArchs))
	for _, arch := range CLIPArchs {
		t.Run(string(arch), func(t *testing.T) {
			want, ok := g.Archs[arch]
			require.True(t, ok, "goldens.json has no %s: run testdata/clipref/regen.sh", arch)
			dir := t.TempDir()
			c, err := WriteCLIPCheckpoint(dir, arch, Tiny, g.Seed, 0)
			require.NoError(t, err)
			cj, err := os.ReadFile(filepath.Join(dir, "config.json"))
			require.NoError(t, err)
			var got map[string]any
			require.NoError(t, json.Unmarshal(cj, &got))
			require.Equal(t, want.Config, got, "the generated config differs from the one the goldens were computed on")

			ck, err := clipgraph.OpenCheckpoint(filepath.Join(dir, "model.safetensors"), filepath.Join(dir, "config.json"))
			require.NoError(t, err)
			defer ck.Close()
			ids := want.InputIDs
			flat := make([]int64, 0, len(ids)*len(ids[0]))
			for _, row := range ids {
				flat = append(flat, row...)
			}
			byPool := map[clipgraph.Pooling][][]float32{}
			for _, pool := range []clipgraph.Pooling{clipgraph.PoolEOS, clipgraph.PoolArgmax} {
				path := filepath.Join(dir, "text_"+pool.String()+".onnx")
				require.NoError(t, ck.WriteText(path, pool))
				rows := runGraph(t, path, clipgraph.InputIDs, clipgraph.TextEmbeds, ort.NewShape(int64(len(ids)), int64(len(ids[0]))), flat)
				gold := want.TextEmbeds[pool.String()]
				require.Len(t, rows, len(gold))
				for r := range rows {
					require.Len(t, rows[r], c.ProjectionDim)
					assert.GreaterOrEqual(t, centeredCosine(rows[r], gold[r]), 0.9999, "text %s row %d", pool, r)
				}
				byPool[pool] = rows
			}
			if arch == CLIPB32x384XLMV {
				// XLM-V's EOS (2) is not its highest id: the rules pool
				// different positions, and the graphs tell them apart.
				for r := range byPool[clipgraph.PoolEOS] {
					other := make([]float64, c.ProjectionDim)
					for i, v := range byPool[clipgraph.PoolArgmax][r] {
						other[i] = float64(v)
					}
					assert.Less(t, centeredCosine(byPool[clipgraph.PoolEOS][r], other), 0.99, "row %d", r)
				}
			}
			path := filepath.Join(dir, "vision.onnx")
			require.NoError(t, ck.WriteVision(path))
			s := int64(c.Vision.ImageSize)
			rows := runGraph(t, path, clipgraph.PixelValues, clipgraph.ImageEmbeds, ort.NewShape(2, 3, s, s), clipPixels(c, 2))
			require.Len(t, rows, len(want.ImageEmbeds))
			for r := range rows {
				assert.GreaterOrEqual(t, centeredCosine(rows[r], want.ImageEmbeds[r]), 0.9999, "image row %d", r)
			}
		})
	}
}

// heavyOps are the node types that carry a tower's compute. The ops that
// build masks and indices on [S, S] or [B] tensors (torch.onnx builds the
// causal mask and the pooling index at run time with ConstantOfShape,
// Less, Where, Flatten and a few Add and Mul nodes; clipgraph stores the
// mask and gathers) are left out, and the Adds compared as a count.
var heavyOps = map[string]bool{
	"MatMul": true, "FusedMatMul": true, "Gemm": true, "Conv": true, "Transpose": true, "Softmax": true,
	"LayerNormalization": true, "SkipLayerNormalization": true, "QuickGelu": true, "BiasGelu": true, "Gelu": true,
	"FastGelu": true, "Erf": true, "Sigmoid": true, "Tanh": true, "Pow": true, "Sqrt": true, "Div": true,
	"ReduceMean": true, "Attention": true, "MultiHeadAttention": true,
}

// optimizedOps opens the graph at path at ONNX Runtime's full optimization
// level and counts the heavy nodes (by domain and type) and the Add nodes
// of the optimized graph it saves.
func optimizedOps(t *testing.T, path, in, out string) (heavy map[string]int, adds int) {
	t.Helper()
	so, err := ort.NewSessionOptions()
	require.NoError(t, err)
	defer so.Destroy()
	require.NoError(t, so.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll))
	require.NoError(t, so.SetIntraOpNumThreads(1))
	opt := filepath.Join(t.TempDir(), "optimized.onnx")
	require.NoError(t, so.SetOptimizedModelFilePath(opt))
	sess, err := ort.NewDynamicAdvancedSession(path, []string{in}, []string{out}, so)
	require.NoError(t, err, path)
	require.NoError(t, sess.Destroy())
	m, err := onnxpb.ReadFile(opt)
	require.NoError(t, err)
	heavy = map[string]int{}
	for _, n := range m.Graph.Nodes {
		switch {
		case heavyOps[n.OpType]:
			heavy[n.Domain+":"+n.OpType]++
		case n.OpType == "Add":
			adds++
		}
	}
	return heavy, adds
}

// The benchmarks run on generated models, so the graphs clipgraph builds
// must run what exports run: after ONNX Runtime's optimizer, the same
// compute nodes as torch.onnx's export of the reference towers
// (testdata/clipref/export.py, regen_export.sh), for both activations.
func TestCLIPGraphsOptimizeAsTorchExport(t *testing.T) {
	require.NoError(t, ortlib.Init(""))
	for _, tt := range []struct {
		arch  CLIPArch
		name  string
		fused string
	}{
		{CLIPB32QuickGELU, "quickgelu", "com.microsoft:QuickGelu"},
		{CLIPB16GELU, "gelu", "com.microsoft:BiasGelu"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CLIPConfig(tt.arch, Tiny)
			require.NoError(t, err)
			c.Text.VocabSize = 1000
			src := clipgraph.MapSource{}
			for _, w := range CLIPWeights(c, 1) {
				src[w.Name] = clipgraph.F32Tensor(w.Shape, w.Data)
			}
			dir := t.TempDir()
			text, err := clipgraph.Text(c, src, clipgraph.PoolArgmax)
			require.NoError(t, err)
			require.NoError(t, text.WriteFile(filepath.Join(dir, "text.onnx")))
			vision, err := clipgraph.Vision(c, src)
			require.NoError(t, err)
			require.NoError(t, vision.WriteFile(filepath.Join(dir, "vision.onnx")))
			for _, g := range []struct{ tower, in, out string }{
				{"text", clipgraph.InputIDs, clipgraph.TextEmbeds},
				{"vision", clipgraph.PixelValues, clipgraph.ImageEmbeds},
			} {
				built, builtAdds := optimizedOps(t, filepath.Join(dir, g.tower+".onnx"), g.in, g.out)
				torch, torchAdds := optimizedOps(t, filepath.Join("testdata", "clipref", "clip_"+g.tower+"_tiny_"+tt.name+".onnx"), g.in, g.out)
				assert.Equal(t, sorted(torch), sorted(built), g.tower)
				assert.LessOrEqual(t, builtAdds, torchAdds, g.tower)
				assert.GreaterOrEqual(t, builtAdds, torchAdds-3, "%s: the export's mask and index arithmetic holds at most 3 Adds", g.tower)
				// What the comparison rests on: the activation and the
				// layer norms fused in the export.
				assert.Equal(t, c.Text.NumHiddenLayers, torch[tt.fused], "%s torch export: %v", g.tower, torch)
				assert.GreaterOrEqual(t, torch[":LayerNormalization"], 2*c.Text.NumHiddenLayers+1, "%s torch export: %v", g.tower, torch)
			}
		})
	}
}
