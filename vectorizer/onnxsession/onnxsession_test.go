package onnxsession

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
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

// TestFileInterfaceIsONNXRuntimes: the contract is first read from the
// file's value infos; on the generated towers in every variant, and on
// graphs with fixed, symbolic and unset dimensions and an input that is an
// initializer (which ONNX Runtime leaves out), the inputs must be what
// ONNX Runtime lists (they are the feed the optimized-graph cache probes
// with) and the outputs must have its names, types and ranks (ONNX Runtime
// adds the sizes its shape inference finds).
func TestFileInterfaceIsONNXRuntimes(t *testing.T) {
	require.NoError(t, ortlib.Init(""))
	dir := t.TempDir()
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: dir, Size: modelgen.Tiny, Seed: 3,
		Towers: modelgen.TowerText | modelgen.TowerVision, Int8: true, FP16: true}))
	md := modelstore.Dir{Root: dir}
	mm, _ := matMulGraph(t)
	tests := []struct {
		name, path string
	}{
		{"text fp32", md.Text(modelstore.TextONNXFP32)},
		{"text int8", md.Text(modelstore.TextONNXInt8AVX2)},
		{"text fp16", md.Text(modelstore.TextONNXFP16)},
		{"vision fp32", md.Vision(modelstore.VisionONNXFP32)},
		{"vision int8", md.Vision(modelstore.VisionONNXQuantized)},
		{"vision fp16", md.Vision(modelstore.VisionONNXFP16)},
		{"matmul with a weight", mm},
		{"weight listed as an input", weightAsInputGraph(t)},
		{"fixed, symbolic and unset dimensions, int64", identityGraph(t,
			[]onnxpb.ValueInfo{{Name: "a", ElemType: elemInt64, Shape: []onnxpb.Dim{onnxpb.D(3), onnxpb.P("n"), {}}}},
			[]onnxpb.ValueInfo{{Name: "b", ElemType: elemInt64, Shape: []onnxpb.Dim{onnxpb.D(3), onnxpb.P("n"), {}}}})},
	}
	rankOf := func(infos []ort.InputOutputInfo) []string {
		out := make([]string, len(infos))
		for i, x := range infos {
			out[i] = fmt.Sprintf("%s %v %v rank %d", x.Name, x.OrtValueType, x.DataType, len(x.Dimensions))
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantIn, wantOut, err := ortInputOutputInfo(tt.path)
			require.NoError(t, err)
			in, out, err := onnxpb.ReadInterface(tt.path)
			require.NoError(t, err)
			assert.Equal(t, wantIn, ortInfos(in))
			assert.Equal(t, rankOf(wantOut), rankOf(ortInfos(out)))
		})
	}
}

// weightAsInputGraph writes y = x · W where W, an initializer, is also
// listed among the graph's inputs (as IR version 3 required).
func weightAsInputGraph(t *testing.T) string {
	t.Helper()
	g := &onnxpb.Graph{Name: "w",
		Inputs:       []onnxpb.ValueInfo{vi("x", elemFloat, 2), {Name: "W", ElemType: elemFloat, Shape: []onnxpb.Dim{onnxpb.D(2), onnxpb.D(2)}}},
		Outputs:      []onnxpb.ValueInfo{vi("y", elemFloat, 2)},
		Initializers: []*onnxpb.Tensor{onnxpb.FloatTensor("W", []int64{2, 2}, []float32{1, 0, 0, 1})},
		Nodes:        []*onnxpb.Node{{OpType: "MatMul", Inputs: []string{"x", "W"}, Outputs: []string{"y"}}},
	}
	m := &onnxpb.Model{IRVersion: 3, ProducerName: "test", Opsets: []onnxpb.Opset{{Version: 11}}, Graph: g}
	p := filepath.Join(t.TempDir(), "w.onnx")
	require.NoError(t, m.WriteFile(p))
	return p
}

// TestCheckContractAsksONNXRuntime: where the file's value infos do not
// parse or do not fit, ONNX Runtime's listing decides, and its message is
// the error.
func TestCheckContractAsksONNXRuntime(t *testing.T) {
	require.NoError(t, ortlib.Init(""))
	broken := filepath.Join(t.TempDir(), "broken.onnx")
	require.NoError(t, os.WriteFile(broken, []byte("this is not an ONNX protobuf\x00\x01\x02"), 0o644))
	want := []Want{{Names: []string{"x"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}}
	wantY := []Want{{Names: []string{"y"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}}
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{"fits", identityGraph(t, []onnxpb.ValueInfo{vi("x", elemFloat, 2)}, []onnxpb.ValueInfo{vi("y", elemFloat, 2)}), ""},
		// the output declares no element type: the file's value infos do
		// not fit, and ONNX Runtime says why
		{"output without a declared type", identityGraph(t, []onnxpb.ValueInfo{vi("x", elemFloat, 2)}, []onnxpb.ValueInfo{{Name: "y", Shape: vi("y", 0, 2).Shape}}), "Invalid tensor data type 0"},
		{"not a graph", broken, "Protobuf parsing failed"},
		{"does not fit either way", identityGraph(t, []onnxpb.ValueInfo{vi("x", elemFloat, 3)}, []onnxpb.ValueInfo{vi("y", elemFloat, 3)}), "does not fit the model contract"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := checkContract(tt.path, want, wantY)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Contains(t, err.Error(), tt.path)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{"x"}, c.inputs)
			assert.Equal(t, []bool{true}, c.present)
			assert.Equal(t, []string{"y"}, c.outputs)
			assert.Equal(t, []string{"x"}, c.feed)
			require.Len(t, c.feedInfo, 1)
			assert.Equal(t, "x", c.feedInfo[0].Name)
		})
	}
}
