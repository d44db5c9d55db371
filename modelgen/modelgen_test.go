package modelgen

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/modelfile/safetensors"
	"github.com/mclip-go/mclip/modelgen/vocab"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
)

func TestTinyWritesTheContract(t *testing.T) {
	out := t.TempDir()
	start := time.Now()
	files, err := Write(Options{Out: out, Size: Tiny, Seed: 1})
	require.NoError(t, err)
	t.Logf("tiny generation took %s", time.Since(start))
	assert.Less(t, time.Since(start), 5*time.Second)

	d := modelstore.Dir{Root: out}
	assert.Empty(t, d.Missing(modelstore.VariantFP32))
	for _, f := range files {
		st, err := os.Stat(filepath.Join(out, filepath.FromSlash(f.Path)))
		require.NoError(t, err, f.Path)
		assert.Equal(t, st.Size(), f.Size, f.Path)
	}
	assert.Len(t, files, len(modelstore.TextRequired)+1+len(modelstore.VisionRequired)+1)

	var cfg map[string]any
	readJSON(t, d.Text(modelstore.TextConfigJSON), &cfg)
	assert.Equal(t, map[string]any{"dim": 32.0, "n_layers": 2.0, "n_heads": 2.0, "hidden_dim": 64.0, "vocab_size": float64(vocab.Tiny), "activation": "gelu"},
		pick(cfg, "dim", "n_layers", "n_heads", "hidden_dim", "vocab_size", "activation"))
	var dense map[string]any
	readJSON(t, d.Text(modelstore.DenseConfigJSON), &dense)
	assert.Equal(t, 32.0, dense["in_features"])
	assert.Equal(t, 512.0, dense["out_features"])
	var pre map[string]any
	readJSON(t, d.Vision(modelstore.PreprocessorConfig), &pre)
	assert.Equal(t, 224.0, pre["crop_size"])
	assert.Equal(t, map[string]any{"shortest_edge": 224.0}, pre["size"])

	st, err := safetensors.Open(d.Text(modelstore.DenseSafetensors))
	require.NoError(t, err)
	_, err = st.Matrix("linear.weight", 512, 32)
	require.NoError(t, err)

	var tok map[string]any
	readJSON(t, d.Text(modelstore.TokenizerJSON), &tok)
	assert.Len(t, tok["model"].(map[string]any)["vocab"], vocab.Tiny)
}

func TestDeterministic(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	require.NoError(t, Generate(Options{Out: a, Seed: 7}))
	require.NoError(t, Generate(Options{Out: b, Seed: 7, Towers: TowerText}))
	require.NoError(t, Generate(Options{Out: c, Seed: 8}))
	for _, rel := range []string{"text/onnx/model.onnx", "text/2_Dense/model.safetensors"} {
		fa := readFile(t, filepath.Join(a, rel))
		assert.True(t, bytes.Equal(fa, readFile(t, filepath.Join(b, rel))), "%s differs for the same seed", rel)
		assert.False(t, bytes.Equal(fa, readFile(t, filepath.Join(c, rel))), "%s equal for different seeds", rel)
	}
	_, err := os.Stat(filepath.Join(b, "vision"))
	assert.True(t, os.IsNotExist(err), "text-only generation wrote vision files")
}

func TestGraphsRunInONNXRuntime(t *testing.T) {
	require.NoError(t, ortlib.Init(""))
	out := t.TempDir()
	require.NoError(t, Generate(Options{Out: out, Seed: 3}))
	d := modelstore.Dir{Root: out}

	text, err := ort.NewDynamicAdvancedSession(d.Text(modelstore.TextONNXFP32),
		[]string{"input_ids", "attention_mask"}, []string{"last_hidden_state"}, nil)
	require.NoError(t, err)
	defer text.Destroy()
	ids, err := ort.NewTensor(ort.NewShape(2, 5), []int64{101, 200, 300, 102, 0, 101, 7, 8, 9, 102})
	require.NoError(t, err)
	defer ids.Destroy()
	mask, err := ort.NewTensor(ort.NewShape(2, 5), []int64{1, 1, 1, 1, 0, 1, 1, 1, 1, 1})
	require.NoError(t, err)
	defer mask.Destroy()
	outs := []ort.Value{nil}
	require.NoError(t, text.Run([]ort.Value{ids, mask}, outs))
	defer outs[0].Destroy()
	assert.Equal(t, ort.NewShape(2, 5, 32), outs[0].GetShape())

	vision, err := ort.NewDynamicAdvancedSession(d.Vision(modelstore.VisionONNXFP32),
		[]string{"pixel_values"}, []string{"image_embeds", "last_hidden_state"}, nil)
	require.NoError(t, err)
	defer vision.Destroy()
	px, err := ort.NewEmptyTensor[float32](ort.NewShape(3, 3, 224, 224))
	require.NoError(t, err)
	defer px.Destroy()
	vouts := []ort.Value{nil, nil}
	require.NoError(t, vision.Run([]ort.Value{px}, vouts))
	defer vouts[0].Destroy()
	defer vouts[1].Destroy()
	assert.Equal(t, ort.NewShape(3, 512), vouts[0].GetShape())
	assert.Equal(t, ort.NewShape(3, 50, 32), vouts[1].GetShape())
}

func TestGraphInterface(t *testing.T) {
	out := t.TempDir()
	require.NoError(t, Generate(Options{Out: out, Seed: 1}))
	d := modelstore.Dir{Root: out}
	m, err := onnxpb.ReadFile(d.Text(modelstore.TextONNXFP32))
	require.NoError(t, err)
	assert.Equal(t, []onnxpb.Opset{{Version: Opset}}, m.Opsets)
	dyn := []onnxpb.Dim{onnxpb.P("batch_size"), onnxpb.P("sequence_length")}
	assert.Equal(t, []onnxpb.ValueInfo{
		{Name: "input_ids", ElemType: onnxpb.TypeInt64, Shape: dyn},
		{Name: "attention_mask", ElemType: onnxpb.TypeInt64, Shape: dyn},
	}, m.Graph.Inputs)
	assert.Equal(t, "last_hidden_state", m.Graph.Outputs[0].Name)
	ops := map[string]int{}
	for _, n := range m.Graph.Nodes {
		ops[n.OpType]++
	}
	assert.Equal(t, 1+2*2, ops["LayerNormalization"])
	assert.Equal(t, 2, ops["Erf"])
	assert.Equal(t, 2, ops["Where"])
}

func TestVariantGraphs(t *testing.T) {
	out := t.TempDir()
	files, err := Write(Options{Out: out, Seed: 2, Int8: true, FP16: true})
	require.NoError(t, err)
	d := modelstore.Dir{Root: out}
	assert.Empty(t, d.Missing(modelstore.VariantInt8))
	assert.Empty(t, d.Missing(modelstore.VariantFP16))
	assert.Len(t, files, len(modelstore.TextRequired)+3+len(modelstore.VisionRequired)+3)

	tests := []struct {
		path          string
		weightMatMuls int // q, k, v, out, two feed-forward per layer (+ projection)
		plainMatMuls  int // scores and context per layer
		tables        int // embedding tables gathered from
	}{
		{d.Text(modelstore.TextONNXInt8AVX2), 2 * 6, 2 * 2, 2},
		{d.Vision(modelstore.VisionONNXQuantized), 2*6 + 1, 2 * 2, 0},
	}
	for _, tc := range tests {
		m, err := onnxpb.ReadFile(tc.path)
		require.NoError(t, err)
		ops := map[string]int{}
		used := map[string]bool{}
		for _, n := range m.Graph.Nodes {
			ops[n.OpType]++
			for _, in := range n.Inputs {
				used[in] = true
			}
		}
		assert.Equal(t, tc.weightMatMuls, ops["MatMulInteger"], tc.path)
		assert.Equal(t, tc.weightMatMuls, ops["DynamicQuantizeLinear"], tc.path)
		assert.Equal(t, tc.plainMatMuls, ops["MatMul"], tc.path)
		assert.Equal(t, tc.tables, ops["DequantizeLinear"], tc.path)
		consumers := map[string][]string{}
		for _, n := range m.Graph.Nodes {
			for _, in := range n.Inputs {
				consumers[in] = append(consumers[in], n.OpType)
			}
		}
		for _, init := range m.Graph.Initializers {
			if len(init.Dims) == 2 && init.DataType == onnxpb.TypeFloat {
				assert.Equal(t, []string{"Add"}, consumers[init.Name], "%s: float matrix %s is multiplied or gathered", tc.path, init.Name)
			}
		}
		for _, init := range m.Graph.Initializers {
			assert.True(t, used[init.Name], "%s: unused initializer %s", tc.path, init.Name)
		}
	}
}

func TestFloat16Graphs(t *testing.T) {
	out := t.TempDir()
	require.NoError(t, Generate(Options{Out: out, Seed: 2, FP16: true}))
	d := modelstore.Dir{Root: out}
	for _, path := range []string{d.Text(modelstore.TextONNXFP16), d.Vision(modelstore.VisionONNXFP16)} {
		m, err := onnxpb.ReadFile(path)
		require.NoError(t, err)
		for _, v := range append(m.Graph.Inputs, m.Graph.Outputs...) {
			assert.NotEqual(t, onnxpb.TypeFloat16, v.ElemType, "%s: %s is not float32 or int64", path, v.Name)
		}
		for _, init := range m.Graph.Initializers {
			assert.Contains(t, []int32{onnxpb.TypeFloat16, onnxpb.TypeInt64}, init.DataType, "%s: %s", path, init.Name)
		}
	}
}

func TestToHalf(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{0, 0x0000},
		{1, 0x3c00},
		{-2, 0xc000},
		{0.1, 0x2e66},
		{65504, 0x7bff},
		{1e6, 0x7bff},
		{-math.MaxFloat32, 0xfbff},
		{float32(math.Inf(1)), 0x7c00},
		{5.9604645e-08, 0x0001},
		{1e-9, 0x0000},
		{1 + 1.0/2048, 0x3c00},  // halfway, rounds to even
		{1 + 3.0/2048, 0x3c02},  // halfway, rounds to even
		{6.1035156e-05, 0x0400}, // smallest normal
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, toHalf(tc.in), "%g", tc.in)
	}
	assert.Equal(t, uint16(0x7e00), toHalf(float32(math.NaN()))&0x7e00)
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		size    Size
		towers  Towers
		wantErr bool
	}{
		{in: "tiny", size: Tiny, towers: TowerText},
		{in: " FULL", size: Full, towers: TowerVision},
		{in: "huge", wantErr: true},
	}
	for _, tc := range tests {
		s, err := ParseSize(tc.in)
		if tc.wantErr {
			assert.Error(t, err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.size, s)
	}
	towerTests := []struct {
		in   string
		want Towers
		err  bool
	}{
		{"text", TowerText, false},
		{"vision", TowerVision, false},
		{"text,vision", BothTowers, false},
		{"both", BothTowers, false},
		{"audio", 0, true},
	}
	for _, tc := range towerTests {
		got, err := ParseTowers(tc.in)
		if tc.err {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.in)
	}
	_, err := Write(Options{})
	assert.ErrorContains(t, err, "no output directory")
	_, err = Write(Options{Out: t.TempDir(), Size: "medium"})
	assert.ErrorContains(t, err, "unknown model size")
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(readFile(t, path), v))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func pick(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}
