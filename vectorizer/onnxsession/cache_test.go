package onnxsession

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelgen/modeltest"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/graphfuse"
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

// cacheFiles lists the files of the cache directory whose names end in
// suffix.
func cacheFiles(t *testing.T, dir, suffix string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	require.NoError(t, err)
	return m
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
	assert.Len(t, cacheFiles(t, cache, ".opt.onnx"), 1)
	assert.Len(t, cacheFiles(t, cache, ".weights"), 1)
	assert.Empty(t, cacheFiles(t, cache, ".tmp"), "temporary files left")
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

func runText(t *testing.T, s *Session) []float32 {
	t.Helper()
	ids, err := ort.NewTensor(ort.NewShape(2, 4), []int64{101, 7, 8, 102, 101, 9, 102, 0})
	require.NoError(t, err)
	defer ids.Destroy()
	mask, err := ort.NewTensor(ort.NewShape(2, 4), []int64{1, 1, 1, 1, 1, 1, 1, 0})
	require.NoError(t, err)
	defer mask.Destroy()
	outs := []ort.Value{nil}
	require.NoError(t, s.Run([]ort.Value{ids, mask}, outs))
	defer outs[0].Destroy()
	return append([]float32(nil), outs[0].(*ort.Tensor[float32]).GetData()...)
}

var (
	textIn = []Want{
		{Names: []string{"input_ids"}, Type: ort.TensorElementDataTypeInt64, Rank: 2},
		{Names: []string{"attention_mask"}, Type: ort.TensorElementDataTypeInt64, Rank: 2},
	}
	textOut = []Want{{Names: []string{"last_hidden_state"}, Type: ort.TensorElementDataTypeFloat, Rank: 3}}
)

// With a cache, the text tower's residual Add + LayerNormalization pairs
// run fused, with the results of the unfused graph; the second start
// loads the fused graph.
func TestOptimizedCacheFuses(t *testing.T) {
	graph := modeltest.Tiny(t, 3, modelgen.TowerText).Text(modelstore.TextONNXFP32)
	plain, err := Open(graph, Options{IntraOpThreads: 1}, textIn, textOut)
	require.NoError(t, err)
	defer plain.Close()
	assert.Equal(t, 0, plain.Fused())
	want := runText(t, plain)

	cache := t.TempDir()
	for _, start := range []string{"first start", "second start"} {
		s, err := Open(graph, Options{IntraOpThreads: 1, OptimizedCacheDir: cache}, textIn, textOut)
		require.NoError(t, err, start)
		assert.Equal(t, 5, s.Fused(), "%s: the embedding's and each layer's two layer norms", start)
		assert.NotEqual(t, graph, s.Loaded())
		got := runText(t, s)
		require.Len(t, got, len(want))
		for i := range want {
			require.InDelta(t, want[i], got[i], 1e-5, "%s: value %d", start, i)
		}
		require.NoError(t, s.Close())
	}
	unfused, err := Open(graph, Options{IntraOpThreads: 1, OptimizedCacheDir: cache, Tuning: Tuning{SkipFusion: true}}, textIn, textOut)
	require.NoError(t, err)
	defer unfused.Close()
	assert.Equal(t, 0, unfused.Fused())
	entries, err := os.ReadDir(cache)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp") || strings.HasSuffix(e.Name(), ".fused"), "left behind: %s", e.Name())
	}
}

// A fusion ONNX Runtime cannot run (here the skip input broadcasts over the
// sequence, which SkipLayerNormalization does not accept) is not cached:
// the graph is cached as ONNX Runtime optimized it.
func TestOptimizedCacheKeepsUnfusableGraph(t *testing.T) {
	h := onnxpb.D(4)
	g := &onnxpb.Graph{Name: "ln",
		Inputs: []onnxpb.ValueInfo{
			{Name: "a", ElemType: elemFloat, Shape: []onnxpb.Dim{onnxpb.P("n"), onnxpb.P("s"), h}},
			{Name: "b", ElemType: elemFloat, Shape: []onnxpb.Dim{onnxpb.P("n"), onnxpb.D(1), h}},
		},
		Outputs: []onnxpb.ValueInfo{{Name: "y", ElemType: elemFloat, Shape: []onnxpb.Dim{onnxpb.P("n"), onnxpb.P("s"), h}}},
		Initializers: []*onnxpb.Tensor{
			onnxpb.FloatTensor("scale", []int64{4}, []float32{1, 2, 3, 4}),
			onnxpb.FloatTensor("bias", []int64{4}, []float32{0, 1, 0, 1}),
		},
		Nodes: []*onnxpb.Node{
			{Name: "add", OpType: "Add", Inputs: []string{"a", "b"}, Outputs: []string{"s"}},
			{Name: "ln", OpType: "LayerNormalization", Inputs: []string{"s", "scale", "bias"}, Outputs: []string{"y"}},
		},
	}
	model := &onnxpb.Model{Opsets: []onnxpb.Opset{{Version: 17}}, Graph: g}
	raw, err := model.Marshal()
	require.NoError(t, err)
	_, n, err := graphfuse.SkipLayerNorm(raw)
	require.NoError(t, err)
	require.Equal(t, 1, n, "graphfuse would fuse the pair: the probe must refuse it")
	path := filepath.Join(t.TempDir(), "ln.onnx")
	require.NoError(t, model.WriteFile(path))
	in := []Want{{Names: []string{"a"}, Type: ort.TensorElementDataTypeFloat, Rank: 3}, {Names: []string{"b"}, Type: ort.TensorElementDataTypeFloat, Rank: 3}}
	out := []Want{{Names: []string{"y"}, Type: ort.TensorElementDataTypeFloat, Rank: 3}}
	s, err := Open(path, Options{IntraOpThreads: 1, OptimizedCacheDir: t.TempDir()}, in, out)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, 0, s.Fused())
	a, err := ort.NewTensor(ort.NewShape(1, 2, 4), []float32{1, 2, 3, 4, 5, 6, 7, 9})
	require.NoError(t, err)
	defer a.Destroy()
	b, err := ort.NewTensor(ort.NewShape(1, 1, 4), []float32{0, 0, 0, 1})
	require.NoError(t, err)
	defer b.Destroy()
	y := []ort.Value{nil}
	require.NoError(t, s.Run([]ort.Value{a, b}, y))
	defer y[0].Destroy()
	assert.Len(t, y[0].(*ort.Tensor[float32]).GetData(), 8)
}

// Starts at the same time (cluster nodes sharing a model directory) build
// one cache entry, not one each.
func TestOptimizedCacheConcurrentStarts(t *testing.T) {
	graph := modeltest.Tiny(t, 4, modelgen.TowerText).Text(modelstore.TextONNXFP32)
	cache := t.TempDir()
	const starts = 4
	errs := make(chan error, starts)
	fused := make(chan int, starts)
	for range starts {
		go func() {
			s, err := Open(graph, Options{IntraOpThreads: 1, OptimizedCacheDir: cache}, textIn, textOut)
			if err == nil {
				fused <- s.Fused()
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range starts {
		require.NoError(t, <-errs)
	}
	close(fused)
	for n := range fused {
		assert.Equal(t, 5, n)
	}
	assert.Len(t, cacheFiles(t, cache, ".opt.onnx"), 1)
	assert.Len(t, cacheFiles(t, cache, ".weights"), 1, "one build, so one weights file")
}

// The cache only speeds starts up: an entry that no longer loads is
// rebuilt, and a cache that cannot be written leaves the original graph,
// with the reason in CacheError; the tower opens either way, with the same
// results.
func TestOptimizedCacheFailures(t *testing.T) {
	graph := modeltest.Tiny(t, 6, modelgen.TowerText).Text(modelstore.TextONNXFP32)
	plain, err := Open(graph, Options{IntraOpThreads: 1}, textIn, textOut)
	require.NoError(t, err)
	want := runText(t, plain)
	require.NoError(t, plain.Close())
	tests := []struct {
		name      string
		break_    func(t *testing.T, cache string)
		wantFused int
		wantErr   string
	}{
		{"weights file removed", func(t *testing.T, cache string) {
			for _, w := range cacheFiles(t, cache, ".weights") {
				require.NoError(t, os.Remove(w))
			}
		}, 5, "does not load (rebuilt)"},
		{"graph file corrupt", func(t *testing.T, cache string) {
			for _, g := range cacheFiles(t, cache, ".opt.onnx") {
				require.NoError(t, os.WriteFile(g, []byte("not a graph"), 0o644))
			}
		}, 5, "does not load (rebuilt)"},
		{"cache directory not writable", func(t *testing.T, cache string) {
			require.NoError(t, os.RemoveAll(cache))
			require.NoError(t, os.WriteFile(cache, nil, 0o644)) // a file where the directory should be
		}, 0, "optimized graph cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := filepath.Join(t.TempDir(), "cache")
			opts := Options{IntraOpThreads: 1, OptimizedCacheDir: cache}
			s, err := Open(graph, opts, textIn, textOut)
			require.NoError(t, err)
			require.NoError(t, s.CacheError())
			require.NoError(t, s.Close())
			tt.break_(t, cache)
			s, err = Open(graph, opts, textIn, textOut)
			require.NoError(t, err)
			defer s.Close()
			require.Error(t, s.CacheError())
			assert.Contains(t, s.CacheError().Error(), tt.wantErr)
			assert.Equal(t, tt.wantFused, s.Fused())
			got := runText(t, s)
			for i := range want {
				require.InDelta(t, want[i], got[i], 1e-5, "value %d", i)
			}
			if tt.wantFused > 0 {
				s2, err := Open(graph, opts, textIn, textOut)
				require.NoError(t, err)
				assert.NoError(t, s2.CacheError(), "the rebuilt entry loads")
				require.NoError(t, s2.Close())
				assert.Len(t, cacheFiles(t, cache, ".weights"), 1, "the broken entry's weights are gone")
			}
		})
	}
}

// A model updated in place gets a new entry, and the entries of its
// earlier version go; entries of the current version with other settings
// stay.
func TestOptimizedCachePrunesStaleEntries(t *testing.T) {
	graph := modeltest.Tiny(t, 8, modelgen.TowerText).Text(modelstore.TextONNXFP32)
	cache := t.TempDir()
	open := func(opts Options) {
		t.Helper()
		opts.IntraOpThreads, opts.OptimizedCacheDir = 1, cache
		s, err := Open(graph, opts, textIn, textOut)
		require.NoError(t, err)
		require.NoError(t, s.CacheError())
		require.NoError(t, s.Close())
	}
	count := func(suffix string) int { return len(cacheFiles(t, cache, suffix)) }
	open(Options{})
	open(Options{Tuning: Tuning{SkipFusion: true}})
	require.Equal(t, 2, count(".opt.onnx"))
	require.Equal(t, 2, count(".weights"))

	// The model is updated: same path, new time.
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(graph, later, later))
	open(Options{})
	assert.Equal(t, 1, count(".opt.onnx"), "both entries of the earlier version went")
	assert.Equal(t, 1, count(".weights"))
	assert.Equal(t, 1, count(".source"))
	open(Options{Tuning: Tuning{SkipFusion: true}})
	open(Options{})
	assert.Equal(t, 2, count(".opt.onnx"), "entries of the current version with other settings stay")
	assert.Equal(t, 2, count(".weights"))
}
