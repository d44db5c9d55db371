package onnxsession

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

const (
	elemFloat = 1
	elemInt64 = 7
)

// identityGraph writes a graph with one Identity node per (input, output)
// pair, so each input's name, type and rank can be chosen freely.
func identityGraph(t *testing.T, ins, outs []onnxpb.ValueInfo) string {
	t.Helper()
	g := &onnxpb.Graph{Name: "g", Inputs: ins, Outputs: outs}
	for i := range outs {
		g.Nodes = append(g.Nodes, &onnxpb.Node{OpType: "Identity", Inputs: []string{ins[i%len(ins)].Name}, Outputs: []string{outs[i].Name}})
	}
	m := &onnxpb.Model{ProducerName: "test", Opsets: []onnxpb.Opset{{Version: 17}}, Graph: g}
	path := filepath.Join(t.TempDir(), "g.onnx")
	require.NoError(t, m.WriteFile(path))
	return path
}

func vi(name string, elem int32, rank int) onnxpb.ValueInfo {
	shape := make([]onnxpb.Dim, rank)
	for i := range shape {
		shape[i] = onnxpb.P("d" + string(rune('0'+i)))
	}
	return onnxpb.ValueInfo{Name: name, ElemType: elem, Shape: shape}
}

func TestOpenChecksContract(t *testing.T) {
	wantIn := []Want{
		{Names: []string{"input_ids"}, Type: ort.TensorElementDataTypeInt64, Rank: 2},
		{Names: []string{"token_type_ids"}, Type: ort.TensorElementDataTypeInt64, Rank: 2, Optional: true},
	}
	wantOut := []Want{{Names: []string{"last_hidden_state", "token_embeddings"}, Type: ort.TensorElementDataTypeInt64, Rank: 2}}
	tests := []struct {
		name        string
		ins, outs   []onnxpb.ValueInfo
		wantErr     []string
		wantPresent []bool
	}{
		{name: "fits", ins: []onnxpb.ValueInfo{vi("input_ids", elemInt64, 2)}, outs: []onnxpb.ValueInfo{vi("last_hidden_state", elemInt64, 2)}, wantPresent: []bool{true, false}},
		{name: "alternative output name and optional input", ins: []onnxpb.ValueInfo{vi("input_ids", elemInt64, 2), vi("token_type_ids", elemInt64, 2)},
			outs: []onnxpb.ValueInfo{vi("token_embeddings", elemInt64, 2)}, wantPresent: []bool{true, true}},
		{name: "wrong input name", ins: []onnxpb.ValueInfo{vi("ids", elemInt64, 2)}, outs: []onnxpb.ValueInfo{vi("last_hidden_state", elemInt64, 2)},
			wantErr: []string{`missing input "input_ids" (graph has ids)`, `unexpected input "ids"`}},
		{name: "wrong input type", ins: []onnxpb.ValueInfo{vi("input_ids", elemFloat, 2)}, outs: []onnxpb.ValueInfo{vi("last_hidden_state", elemFloat, 2)},
			wantErr: []string{`input "input_ids" has element type`, `output "last_hidden_state" has element type`}},
		{name: "wrong rank", ins: []onnxpb.ValueInfo{vi("input_ids", elemInt64, 3)}, outs: []onnxpb.ValueInfo{vi("last_hidden_state", elemInt64, 3)},
			wantErr: []string{`input "input_ids" has shape`, "want 2 dimensions"}},
		{name: "missing output", ins: []onnxpb.ValueInfo{vi("input_ids", elemInt64, 2)}, outs: []onnxpb.ValueInfo{vi("pooler_output", elemInt64, 2)},
			wantErr: []string{`missing output "last_hidden_state" or "token_embeddings" (graph has pooler_output)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := identityGraph(t, tt.ins, tt.outs)
			s, err := Open(path, Options{IntraOpThreads: 1}, wantIn, wantOut)
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "does not fit the model contract")
				for _, w := range tt.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			defer s.Close()
			for i, p := range tt.wantPresent {
				assert.Equal(t, p, s.Has(i))
			}
		})
	}
}

func TestOpenRuns(t *testing.T) {
	path := identityGraph(t, []onnxpb.ValueInfo{vi("x", elemFloat, 2)}, []onnxpb.ValueInfo{vi("y", elemFloat, 2)})
	s, err := Open(path, Options{IntraOpThreads: 1},
		[]Want{{Names: []string{"x"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}},
		[]Want{{Names: []string{"y"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}})
	require.NoError(t, err)
	defer s.Close()
	in, err := ort.NewTensor(ort.NewShape(1, 3), []float32{1, 2, 3})
	require.NoError(t, err)
	defer in.Destroy()
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(1, 3))
	require.NoError(t, err)
	defer out.Destroy()
	require.NoError(t, s.Run([]ort.Value{in}, []ort.Value{out}))
	assert.Equal(t, []float32{1, 2, 3}, out.GetData())
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "absent.onnx"), Options{}, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "absent.onnx")

	path := identityGraph(t, []onnxpb.ValueInfo{vi("x", elemFloat, 2)}, []onnxpb.ValueInfo{vi("y", elemFloat, 2)})
	_, err = Open(path, Options{Provider: "tpu"}, []Want{{Names: []string{"x"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}},
		[]Want{{Names: []string{"y"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown execution provider "tpu"`)
}

func TestCUDAUnavailableIsClear(t *testing.T) {
	path := identityGraph(t, []onnxpb.ValueInfo{vi("x", elemFloat, 2)}, []onnxpb.ValueInfo{vi("y", elemFloat, 2)})
	s, err := Open(path, Options{Provider: "cuda"}, []Want{{Names: []string{"x"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}},
		[]Want{{Names: []string{"y"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}})
	if err == nil {
		s.Close()
		t.Skip("this ONNX Runtime has the CUDA provider and a GPU")
	}
	assert.Contains(t, err.Error(), "execution provider cuda is not available")
	assert.Contains(t, err.Error(), "ONNXRUNTIME_LIB")
}
