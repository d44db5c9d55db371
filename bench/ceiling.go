package bench

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
)

// The ceiling's MatMul: [M, K] x [K, N], the shape of a transformer's
// feed-forward layer on 256 tokens.
const (
	ceilM = 256
	ceilK = 768
	ceilN = 3072
)

// matmul is a one-node ONNX graph timed as the ceiling: what ONNX Runtime's
// GEMM reaches on this CPU with the same threads as the towers.
type matmul struct {
	sess   *onnxsession.Session
	in     ort.Value
	out    ort.Value
	flops  float64
	closer []func() error
}

// Ceiling kinds: fp32 MatMul, and MatMulInteger of uint8 activations by
// uint8 weights (as the quantized towers' weights are) or by int8 weights.
const (
	kindFP32 = "fp32"
	kindU8U8 = "u8u8"
	kindU8S8 = "u8s8"
)

// openMatMul writes and opens the MatMul graph of a kind in dir.
func openMatMul(dir string, kind string, opts onnxsession.Options) (*matmul, error) {
	int8 := kind != kindFP32
	rng := rand.New(rand.NewPCG(1, 2))
	g := &onnxpb.Graph{Name: "ceiling"}
	shapeA := []onnxpb.Dim{onnxpb.D(ceilM), onnxpb.D(ceilK)}
	shapeY := []onnxpb.Dim{onnxpb.D(ceilM), onnxpb.D(ceilN)}
	var inWant, outWant onnxsession.Want
	m := &matmul{flops: 2 * ceilM * ceilK * ceilN}
	if int8 {
		raw := make([]byte, ceilK*ceilN)
		for i := range raw {
			raw[i] = byte(rng.IntN(256))
		}
		wType, wZero := onnxpb.TypeUint8, byte(127)
		if kind == kindU8S8 {
			wType, wZero = onnxpb.TypeInt8, 0
		}
		g.Initializers = []*onnxpb.Tensor{
			{Name: "B", DataType: wType, Dims: []int64{ceilK, ceilN}, Raw: raw},
			{Name: "a_zero", DataType: onnxpb.TypeUint8, Raw: []byte{128}},
			{Name: "b_zero", DataType: wType, Raw: []byte{wZero}},
		}
		g.Inputs = []onnxpb.ValueInfo{{Name: "A", ElemType: onnxpb.TypeUint8, Shape: shapeA}}
		g.Outputs = []onnxpb.ValueInfo{{Name: "Y", ElemType: onnxpb.TypeInt32, Shape: shapeY}}
		g.Nodes = []*onnxpb.Node{{Name: "mm", OpType: "MatMulInteger", Inputs: []string{"A", "B", "a_zero", "b_zero"}, Outputs: []string{"Y"}}}
		inWant = onnxsession.Want{Names: []string{"A"}, Type: ort.TensorElementDataTypeUint8, Rank: 2}
		outWant = onnxsession.Want{Names: []string{"Y"}, Type: ort.TensorElementDataTypeInt32, Rank: 2}
	} else {
		w := make([]float32, ceilK*ceilN)
		for i := range w {
			w[i] = float32(rng.NormFloat64() * 0.03)
		}
		g.Initializers = []*onnxpb.Tensor{onnxpb.FloatTensor("B", []int64{ceilK, ceilN}, w)}
		g.Inputs = []onnxpb.ValueInfo{{Name: "A", ElemType: onnxpb.TypeFloat, Shape: shapeA}}
		g.Outputs = []onnxpb.ValueInfo{{Name: "Y", ElemType: onnxpb.TypeFloat, Shape: shapeY}}
		g.Nodes = []*onnxpb.Node{{Name: "mm", OpType: "MatMul", Inputs: []string{"A", "B"}, Outputs: []string{"Y"}}}
		inWant = onnxsession.Want{Names: []string{"A"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}
		outWant = onnxsession.Want{Names: []string{"Y"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}
	}
	path := filepath.Join(dir, "matmul_"+kind+".onnx")
	model := &onnxpb.Model{ProducerName: "mclip-bench", Opsets: []onnxpb.Opset{{Version: 17}}, Graph: g}
	if err := model.WriteFile(path); err != nil {
		return nil, fmt.Errorf("ceiling graph: %w", err)
	}
	// uint8 x uint8 is measured as written: not flipped to int8 weights.
	opts.Tuning.KeepUint8Weights = kind == kindU8U8
	sess, err := onnxsession.Open(path, opts, []onnxsession.Want{inWant}, []onnxsession.Want{outWant})
	if err != nil {
		return nil, fmt.Errorf("ceiling graph: %w", err)
	}
	m.sess = sess
	m.closer = append(m.closer, sess.Close)
	if int8 {
		a := make([]uint8, ceilM*ceilK)
		for i := range a {
			a[i] = uint8(rng.IntN(256))
		}
		in, err := ort.NewTensor(ort.NewShape(ceilM, ceilK), a)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("ceiling input: %w", err)
		}
		out, err := ort.NewEmptyTensor[int32](ort.NewShape(ceilM, ceilN))
		if err != nil {
			in.Destroy()
			m.Close()
			return nil, fmt.Errorf("ceiling output: %w", err)
		}
		m.in, m.out = in, out
	} else {
		a := make([]float32, ceilM*ceilK)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		in, err := ort.NewTensor(ort.NewShape(ceilM, ceilK), a)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("ceiling input: %w", err)
		}
		out, err := ort.NewEmptyTensor[float32](ort.NewShape(ceilM, ceilN))
		if err != nil {
			in.Destroy()
			m.Close()
			return nil, fmt.Errorf("ceiling output: %w", err)
		}
		m.in, m.out = in, out
	}
	m.closer = append(m.closer, m.in.Destroy, m.out.Destroy)
	return m, nil
}

// gflops times the MatMul for about minTime and returns GFLOPS (GOPS for
// the integer one).
func (m *matmul) gflops(minTime time.Duration) (float64, error) {
	d, err := timeOp(func() error { return m.sess.Run([]ort.Value{m.in}, []ort.Value{m.out}) }, minTime, 3)
	if err != nil {
		return 0, fmt.Errorf("ceiling matmul: %w", err)
	}
	return m.flops / d.Seconds() / 1e9, nil
}

// Close releases the session and tensors.
func (m *matmul) Close() {
	for i := len(m.closer) - 1; i >= 0; i-- {
		_ = m.closer[i]()
	}
}

// vsCeiling times op, which handles n items of flopsPerItem each, between
// two ceiling measurements, and returns its items/s and their ratio to
// the items/s the ceiling's GFLOPS (the mean of the two) would give.
func (r *runner) vsCeiling(mm *matmul, flopsPerItem float64, n int, op func() error) (rate, ratio float64, err error) {
	ceilTime := r.minTime / 2
	before, err := mm.gflops(ceilTime)
	if err != nil {
		return 0, 0, err
	}
	d, err := timeOp(op, r.minTime, 1)
	if err != nil {
		return 0, 0, err
	}
	after, err := mm.gflops(ceilTime)
	if err != nil {
		return 0, 0, err
	}
	rate = float64(n) / d.Seconds()
	ceil := (before + after) / 2 * 1e9 / flopsPerItem
	return rate, rate / ceil, nil
}
