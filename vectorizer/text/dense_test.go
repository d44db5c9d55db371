package text

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/vectorizer/onnxsession"
)

// The Dense layer's graph computes torch's Linear (weight [out, in]) and
// its activation, with and without a bias.
func TestDenseGraph(t *testing.T) {
	const in, out, n = 8, 5, 3
	weight := make([]float32, out*in)
	for i := range weight {
		weight[i] = float32(math.Sin(float64(i)*1.3)) * 0.7
	}
	bias := []float32{0.5, -0.25, 0, 1, -1}
	pooled := make([]float32, n*in)
	for i := range pooled {
		pooled[i] = float32(math.Cos(float64(i) * 0.9))
	}
	tests := []struct {
		name       string
		bias       []float32
		activation string
	}{
		{"identity", nil, "identity"},
		{"bias", bias, "identity"},
		{"tanh", nil, "tanh"},
		{"bias and tanh", bias, "tanh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Settings{DenseIn: in, DenseOut: out, DenseBias: tt.bias != nil, DenseActivation: tt.activation}
			sess, err := openDense(weight, tt.bias, s, onnxsession.Options{IntraOpThreads: 1})
			require.NoError(t, err)
			defer sess.Close()
			e := &Encoder{Preparer: &Preparer{settings: s}, dense: sess}
			got := make([]float32, n*out)
			require.NoError(t, e.project(got, pooled, n))
			for b := 0; b < n; b++ {
				for o := 0; o < out; o++ {
					want := 0.0
					for i := 0; i < in; i++ {
						want += float64(weight[o*in+i]) * float64(pooled[b*in+i])
					}
					if tt.bias != nil {
						want += float64(tt.bias[o])
					}
					if tt.activation == "tanh" {
						want = math.Tanh(want)
					}
					require.InDelta(t, want, got[b*out+o], 1e-6, "text %d, output %d", b, o)
				}
			}
		})
	}
}
