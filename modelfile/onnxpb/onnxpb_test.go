package onnxpb

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/vectorizer/ortlib"
)

// affineModel computes y = x·W + b for x of shape [n, 2], W [2,3], b [3].
func affineModel(w, b []float32) *Model {
	return &Model{
		ProducerName: "onnxpb-test",
		Opsets:       []Opset{{Version: 17}},
		Graph: &Graph{
			Name: "affine",
			Nodes: []*Node{
				{Name: "mm", OpType: "MatMul", Inputs: []string{"x", "W"}, Outputs: []string{"xw"}},
				{Name: "add", OpType: "Add", Inputs: []string{"xw", "b"}, Outputs: []string{"y"}},
			},
			Initializers: []*Tensor{FloatTensor("W", []int64{2, 3}, w), FloatTensor("b", []int64{3}, b)},
			Inputs:       []ValueInfo{{Name: "x", ElemType: TypeFloat, Shape: []Dim{P("n"), D(2)}}},
			Outputs:      []ValueInfo{{Name: "y", ElemType: TypeFloat, Shape: []Dim{P("n"), D(3)}}},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	m := affineModel([]float32{1, 2, 3, 4, 5, 6}, []float32{0.5, -0.5, 0.25})
	m.Graph.Nodes = append(m.Graph.Nodes, &Node{
		OpType: "Dummy", Domain: "test", Inputs: []string{"y"}, Outputs: []string{"z"},
		Attrs: []Attr{
			Int("i", -3), Float("f", 1.5), Ints("is", 1, -1, 7), Floats("fs", 0.5, 2),
			String("s", "hi"), TensorAttr("t", Int64Tensor("c", []int64{2}, []int64{-9, 9})),
		},
	})
	b, err := m.Marshal()
	require.NoError(t, err)
	got, err := Parse(b)
	require.NoError(t, err)
	assert.Equal(t, int64(IRVersion), got.IRVersion)
	got.IRVersion = 0
	assert.Equal(t, m, got)

	w, ok := got.Graph.Initializer("W")
	require.True(t, ok)
	vals, err := w.Float32s()
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3, 4, 5, 6}, vals)
	_, err = w.Int64s()
	assert.Error(t, err)
}

func TestParseErrors(t *testing.T) {
	good, err := affineModel([]float32{1, 2, 3, 4, 5, 6}, []float32{1, 2, 3}).Marshal()
	require.NoError(t, err)
	bad := affineModel([]float32{1, 2, 3, 4, 5}, []float32{1, 2, 3})
	_, err = bad.Marshal()
	assert.ErrorContains(t, err, `tensor "W"`)

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)-3], "field 7: unexpected EOF"},
		{"no graph", good[:2], "no graph"},
		{"garbage", []byte{0xff, 0xff, 0xff}, "field tag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestRunsInONNXRuntime(t *testing.T) {
	require.NoError(t, ortlib.Init(""))
	w := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{0.5, -0.5, 0.25}
	path := filepath.Join(t.TempDir(), "affine.onnx")
	require.NoError(t, affineModel(w, b).WriteFile(path))
	sess, err := ort.NewDynamicAdvancedSession(path, []string{"x"}, []string{"y"}, nil)
	require.NoError(t, err)
	defer sess.Destroy()

	for _, n := range []int{1, 3} {
		x := make([]float32, 2*n)
		for i := range x {
			x[i] = float32(i) - 1.5
		}
		in, err := ort.NewTensor(ort.NewShape(int64(n), 2), x)
		require.NoError(t, err)
		outs := []ort.Value{nil}
		require.NoError(t, sess.Run([]ort.Value{in}, outs))
		y := outs[0].(*ort.Tensor[float32])
		require.Equal(t, ort.NewShape(int64(n), 3), y.GetShape())
		for r := 0; r < n; r++ {
			for c := 0; c < 3; c++ {
				want := x[2*r]*w[c] + x[2*r+1]*w[3+c] + b[c]
				assert.InDelta(t, want, y.GetData()[3*r+c], 1e-6)
			}
		}
		in.Destroy()
		y.Destroy()
	}
}

// A model written with external data runs in ONNX Runtime as the inline
// one does, each large tensor in the data file at an aligned offset, the
// small ones inline.
func TestWriteFileExternal(t *testing.T) {
	require.NoError(t, ortlib.Init(""))
	const n = 3000
	w := make([]float32, 2*n)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	b := make([]float32, n)
	for i := range b {
		b[i] = float32(i % 5)
	}
	m := &Model{
		Opsets: []Opset{{Version: 17}},
		Graph: &Graph{
			Name: "affine",
			Nodes: []*Node{
				{Name: "mm", OpType: "MatMul", Inputs: []string{"x", "W"}, Outputs: []string{"xw"}},
				{Name: "add", OpType: "Add", Inputs: []string{"xw", "b"}, Outputs: []string{"y"}},
				{Name: "add2", OpType: "Add", Inputs: []string{"y0", "s"}, Outputs: []string{"y2"}},
			},
			Initializers: []*Tensor{FloatTensor("W", []int64{2, n}, w), FloatTensor("b", []int64{n}, b), FloatTensor("s", nil, []float32{1})},
			Inputs:       []ValueInfo{{Name: "x", ElemType: TypeFloat, Shape: []Dim{P("n"), D(2)}}, {Name: "y0", ElemType: TypeFloat, Shape: []Dim{D(1)}}},
			Outputs:      []ValueInfo{{Name: "y", ElemType: TypeFloat, Shape: []Dim{P("n"), D(n)}}, {Name: "y2", ElemType: TypeFloat, Shape: []Dim{D(1)}}},
		},
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "affine.onnx")
	require.NoError(t, m.WriteFileExternal(path, "affine.onnx.data", 1024))
	st, err := os.Stat(filepath.Join(dir, "affine.onnx.data"))
	require.NoError(t, err)
	// W at 0 (24000 bytes), b at the next multiple of 4096 (24576), s inline.
	assert.Equal(t, int64(24576+4*n), st.Size())
	sess, err := ort.NewDynamicAdvancedSession(path, []string{"x", "y0"}, []string{"y", "y2"}, nil)
	require.NoError(t, err)
	defer sess.Destroy()
	x, err := ort.NewTensor(ort.NewShape(1, 2), []float32{1, 2})
	require.NoError(t, err)
	defer x.Destroy()
	y0, err := ort.NewTensor(ort.NewShape(1), []float32{4})
	require.NoError(t, err)
	defer y0.Destroy()
	outs := []ort.Value{nil, nil}
	require.NoError(t, sess.Run([]ort.Value{x, y0}, outs))
	y := outs[0].(*ort.Tensor[float32]).GetData()
	for c := 0; c < n; c++ {
		require.Equal(t, w[c]+2*w[n+c]+b[c], y[c], "column %d", c)
	}
	assert.Equal(t, []float32{5}, outs[1].(*ort.Tensor[float32]).GetData())
	outs[0].Destroy()
	outs[1].Destroy()

	assert.ErrorContains(t, m.WriteFileExternal(path, "../x.data", 1024), "must be a plain file name")
}
