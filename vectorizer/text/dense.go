package text

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/modelfile/safetensors"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
)

// loadDense reads the Dense layer's weight [out, in] and, when the config
// says it has one, its bias [out].
func loadDense(path string, s Settings) (weight, bias []float32, err error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("dense layer: %w", err)
	}
	weight, err = f.Matrix("linear.weight", int64(s.DenseOut), int64(s.DenseIn))
	if err != nil {
		return nil, nil, fmt.Errorf("dense layer %s: %w", path, err)
	}
	_, hasBias := f.Info("linear.bias")
	switch {
	case s.DenseBias && !hasBias:
		return nil, nil, fmt.Errorf("dense layer %s: config says bias but the file has no linear.bias", path)
	case !s.DenseBias && hasBias:
		return nil, nil, fmt.Errorf("dense layer %s: config says no bias but the file has linear.bias", path)
	case hasBias:
		b, shape, err := f.Float32("linear.bias")
		if err != nil {
			return nil, nil, fmt.Errorf("dense layer %s: %w", path, err)
		}
		if len(shape) != 1 || shape[0] != int64(s.DenseOut) {
			return nil, nil, fmt.Errorf("dense layer %s: linear.bias has shape %v, want [%d]", path, shape, s.DenseOut)
		}
		bias = b
	}
	return weight, bias, nil
}

// Names in the Dense layer's graph.
const (
	denseInput  = "pooled"
	denseOutput = "vectors"
)

// denseGraph builds the Dense layer as an ONNX graph, so that ONNX Runtime
// projects a whole batch in one matrix product: pooled [n, in] · Wᵀ
// (+ bias), then the activation, into vectors [n, out]. weight is [out, in]
// as torch's Linear stores it.
func denseGraph(weight, bias []float32, s Settings) ([]byte, error) {
	in, out := s.DenseIn, s.DenseOut
	wt := make([]float32, in*out) // [in, out]
	for o := 0; o < out; o++ {
		for i := 0; i < in; i++ {
			wt[i*out+o] = weight[o*in+i]
		}
	}
	g := &onnxpb.Graph{Name: "dense",
		Inputs:       []onnxpb.ValueInfo{{Name: denseInput, ElemType: onnxpb.TypeFloat, Shape: []onnxpb.Dim{onnxpb.P("n"), onnxpb.D(int64(in))}}},
		Outputs:      []onnxpb.ValueInfo{{Name: denseOutput, ElemType: onnxpb.TypeFloat, Shape: []onnxpb.Dim{onnxpb.P("n"), onnxpb.D(int64(out))}}},
		Initializers: []*onnxpb.Tensor{onnxpb.FloatTensor("linear.weight.T", []int64{int64(in), int64(out)}, wt)},
	}
	steps := []*onnxpb.Node{{Name: "linear", OpType: "MatMul", Inputs: []string{denseInput, "linear.weight.T"}}}
	if bias != nil {
		g.Initializers = append(g.Initializers, onnxpb.FloatTensor("linear.bias", []int64{int64(out)}, bias))
		steps = append(steps, &onnxpb.Node{Name: "bias", OpType: "Add", Inputs: []string{"", "linear.bias"}})
	}
	if s.DenseActivation == "tanh" {
		steps = append(steps, &onnxpb.Node{Name: "tanh", OpType: "Tanh", Inputs: []string{""}})
	}
	for i, n := range steps {
		if i > 0 {
			n.Inputs[0] = steps[i-1].Outputs[0]
		}
		n.Outputs = []string{n.Name + "_out"}
	}
	steps[len(steps)-1].Outputs[0] = denseOutput
	g.Nodes = steps
	return (&onnxpb.Model{ProducerName: "mclip", Opsets: []onnxpb.Opset{{Version: 17}}, Graph: g}).Marshal()
}

// openDense opens the Dense layer's graph.
func openDense(weight, bias []float32, s Settings, opts onnxsession.Options) (*onnxsession.Session, error) {
	model, err := denseGraph(weight, bias, s)
	if err != nil {
		return nil, fmt.Errorf("dense layer graph: %w", err)
	}
	sess, err := onnxsession.OpenModel("dense layer", model, opts, []string{denseInput}, []string{denseOutput})
	if err != nil {
		return nil, fmt.Errorf("dense layer: %w", err)
	}
	return sess, nil
}

// project writes the Dense layer's output for n pooled vectors
// (pooled [n, DenseIn]) into out [n, DenseOut].
func (e *Encoder) project(out, pooled []float32, n int) error {
	in, err := ort.NewTensor(ort.NewShape(int64(n), int64(e.settings.DenseIn)), pooled[:n*e.settings.DenseIn])
	if err != nil {
		return fmt.Errorf("dense input tensor: %w", err)
	}
	defer in.Destroy()
	res, err := ort.NewTensor(ort.NewShape(int64(n), int64(e.settings.DenseOut)), out)
	if err != nil {
		return fmt.Errorf("dense output tensor: %w", err)
	}
	defer res.Destroy()
	return e.dense.Run([]ort.Value{in}, []ort.Value{res})
}
