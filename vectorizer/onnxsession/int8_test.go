package onnxsession

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

// quantizedGraph writes y = float(MatMulInteger(DynamicQuantizeLinear(x),
// Wq, xz, Wz)) with uint8 weights Wq [64, 16] and zero point 131, plus a
// second MatMulInteger sharing nothing, and a uint8 tensor used elsewhere
// (which must stay uint8).
func quantizedGraph(t testing.TB) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	raw := make([]byte, 64*16)
	for i := range raw {
		raw[i] = byte(rng.IntN(256))
	}
	g := &onnxpb.Graph{Name: "q",
		Inputs:  []onnxpb.ValueInfo{{Name: "x", ElemType: elemFloat, Shape: []onnxpb.Dim{onnxpb.P("n"), onnxpb.D(64)}}},
		Outputs: []onnxpb.ValueInfo{{Name: "y", ElemType: elemFloat, Shape: []onnxpb.Dim{onnxpb.P("n"), onnxpb.D(16)}}},
		Initializers: []*onnxpb.Tensor{
			{Name: "Wq", DataType: onnxpb.TypeUint8, Dims: []int64{64, 16}, Raw: raw},
			{Name: "Wz", DataType: onnxpb.TypeUint8, Raw: []byte{131}},
			{Name: "shared", DataType: onnxpb.TypeUint8, Dims: []int64{16}, Raw: raw[:16]},
		},
		Nodes: []*onnxpb.Node{
			{Name: "dql", OpType: "DynamicQuantizeLinear", Inputs: []string{"x"}, Outputs: []string{"xq", "xs", "xz"}},
			{Name: "mmi", OpType: "MatMulInteger", Inputs: []string{"xq", "Wq", "xz", "Wz"}, Outputs: []string{"yi"}},
			{Name: "cast", OpType: "Cast", Inputs: []string{"yi"}, Outputs: []string{"yf"}, Attrs: []onnxpb.Attr{onnxpb.Int("to", int64(onnxpb.TypeFloat))}},
			{Name: "mul", OpType: "Mul", Inputs: []string{"yf", "xs"}, Outputs: []string{"y0"}},
			{Name: "castb", OpType: "Cast", Inputs: []string{"shared"}, Outputs: []string{"sf"}, Attrs: []onnxpb.Attr{onnxpb.Int("to", int64(onnxpb.TypeFloat))}},
			{Name: "add", OpType: "Add", Inputs: []string{"y0", "sf"}, Outputs: []string{"y"}},
		},
	}
	m := &onnxpb.Model{ProducerName: "test", Opsets: []onnxpb.Opset{{Version: 17}}, Graph: g}
	path := filepath.Join(t.TempDir(), "q.onnx")
	require.NoError(t, m.WriteFile(path))
	return path
}

func TestSignedWeightsFlipsOnlyMatMulIntegerWeights(t *testing.T) {
	path := quantizedGraph(t)
	data, n, release, err := readSignedWeights(path)
	require.NoError(t, err)
	require.Equal(t, 2, n, "Wq and Wz")
	m, err := onnxpb.Parse(append([]byte(nil), data...))
	release()
	require.NoError(t, err)
	orig, err := onnxpb.ReadFile(path)
	require.NoError(t, err)
	// The file itself is untouched (the mapping was private).
	for _, name := range []string{"Wq", "Wz"} {
		w, _ := orig.Graph.Initializer(name)
		assert.Equal(t, onnxpb.TypeUint8, w.DataType, name)
	}
	for _, name := range []string{"Wq", "Wz", "shared"} {
		got, ok := m.Graph.Initializer(name)
		require.True(t, ok, name)
		want, _ := orig.Graph.Initializer(name)
		if name == "shared" {
			assert.Equal(t, onnxpb.TypeUint8, got.DataType)
			assert.Equal(t, want.Raw, got.Raw)
			continue
		}
		assert.Equal(t, onnxpb.TypeInt8, got.DataType, name)
		for i := range got.Raw {
			require.Equal(t, int(want.Raw[i])-128, int(int8(got.Raw[i])), "%s[%d]", name, i)
		}
	}
}

func TestSignedWeightsComputeTheSame(t *testing.T) {
	path := quantizedGraph(t)
	in := []Want{{Names: []string{"x"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}}
	out := []Want{{Names: []string{"y"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}}
	rng := rand.New(rand.NewPCG(2, 2))
	x := make([]float32, 5*64)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	run := func(keep bool) []float32 {
		s, err := Open(path, Options{IntraOpThreads: 1, Tuning: Tuning{KeepUint8Weights: keep}}, in, out)
		require.NoError(t, err)
		defer s.Close()
		xt, err := ort.NewTensor(ort.NewShape(5, 64), x)
		require.NoError(t, err)
		defer xt.Destroy()
		yt, err := ort.NewEmptyTensor[float32](ort.NewShape(5, 16))
		require.NoError(t, err)
		defer yt.Destroy()
		require.NoError(t, s.Run([]ort.Value{xt}, []ort.Value{yt}))
		return append([]float32(nil), yt.GetData()...)
	}
	assert.Equal(t, run(true), run(false), "int8 weights give exactly the uint8 results")
}

func TestSignedWeightsNothingToFlip(t *testing.T) {
	path, _ := matMulGraph(t)
	data, n, release, err := readSignedWeights(path)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Nil(t, data)
	assert.Nil(t, release)
}

// BenchmarkSignedWeights measures finding and flipping the MatMulInteger
// weights of a serialised graph (the copy of the graph is included).
func BenchmarkSignedWeights(b *testing.B) {
	model, err := os.ReadFile(quantizedGraph(b))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, len(model))
	b.SetBytes(int64(len(model)))
	for range b.N {
		copy(buf, model)
		if _, err := signedWeights(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// Malformed graphs give an error, flip nothing and do not panic.
func TestSignedWeightsMalformed(t *testing.T) {
	model, err := os.ReadFile(quantizedGraph(t))
	require.NoError(t, err)
	tests := []struct {
		name    string
		data    []byte
		wantErr bool
	}{
		{"empty", nil, false},
		{"truncated tag", []byte{0xff}, true},
		{"graph length past the end", []byte{0x3a, 0x05, 0x01}, true},
		{"truncated graph", model[:len(model)-3], true},
		{"truncated early", model[:100], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := append([]byte(nil), tt.data...)
			n, err := signedWeights(data)
			assert.Zero(t, n)
			assert.Equal(t, tt.data, data, "left as it was")
			if !tt.wantErr {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, "onnx graph: field")
		})
	}
}
