package onnxsession

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelgen/onnxpb"
)

// matMulGraph writes y = x · W with a 32x32 weight (big enough to be
// stored outside the cached graph).
func matMulGraph(t *testing.T) (string, []float32) {
	t.Helper()
	w := make([]float32, 32*32)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	dims := []onnxpb.Dim{onnxpb.P("n"), onnxpb.D(32)}
	g := &onnxpb.Graph{Name: "mm",
		Inputs:       []onnxpb.ValueInfo{{Name: "x", ElemType: elemFloat, Shape: dims}},
		Outputs:      []onnxpb.ValueInfo{{Name: "y", ElemType: elemFloat, Shape: dims}},
		Initializers: []*onnxpb.Tensor{onnxpb.FloatTensor("W", []int64{32, 32}, w)},
		Nodes:        []*onnxpb.Node{{Name: "mm", OpType: "MatMul", Inputs: []string{"x", "W"}, Outputs: []string{"y"}}},
	}
	m := &onnxpb.Model{ProducerName: "test", Opsets: []onnxpb.Opset{{Version: 17}}, Graph: g}
	path := filepath.Join(t.TempDir(), "mm.onnx")
	require.NoError(t, m.WriteFile(path))
	return path, w
}

func TestOptimizedCache(t *testing.T) {
	path, w := matMulGraph(t)
	cache := filepath.Join(t.TempDir(), "cache")
	opts := Options{IntraOpThreads: 1, OptimizedCacheDir: cache}
	in := []Want{{Names: []string{"x"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}}
	out := []Want{{Names: []string{"y"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}}
	x := make([]float32, 32)
	x[1] = 1
	run := func() []float32 {
		s, err := Open(path, opts, in, out)
		require.NoError(t, err)
		defer s.Close()
		xt, err := ort.NewTensor(ort.NewShape(1, 32), x)
		require.NoError(t, err)
		defer xt.Destroy()
		yt, err := ort.NewEmptyTensor[float32](ort.NewShape(1, 32))
		require.NoError(t, err)
		defer yt.Destroy()
		require.NoError(t, s.Run([]ort.Value{xt}, []ort.Value{yt}))
		return append([]float32(nil), yt.GetData()...)
	}
	first := run()
	assert.Equal(t, w[32:64], first, "row 1 of W")
	entries, err := os.ReadDir(cache)
	require.NoError(t, err)
	var graphs, weights int
	for _, e := range entries {
		switch {
		case strings.HasSuffix(e.Name(), ".opt.onnx"):
			graphs++
		case strings.HasSuffix(e.Name(), ".weights"):
			weights++
		case strings.HasSuffix(e.Name(), ".tmp"):
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	assert.Equal(t, 1, graphs)
	assert.Equal(t, 1, weights)
	assert.Equal(t, first, run(), "second start, from the cache")
	entries2, err := os.ReadDir(cache)
	require.NoError(t, err)
	assert.Len(t, entries2, len(entries), "the second start reuses the cache")
}

func TestOptimizationLevel(t *testing.T) {
	for _, name := range []string{"", "all", "extended", "basic", "disabled"} {
		_, err := optimizationLevel(name)
		assert.NoError(t, err, name)
	}
	_, err := optimizationLevel("fast")
	assert.ErrorContains(t, err, `unknown graph optimisation level "fast"`)
}
