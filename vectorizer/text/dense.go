package text

import (
	"fmt"

	"github.com/mclip-go/mclip/vectorizer/safetensors"
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
