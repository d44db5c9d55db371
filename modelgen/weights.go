package modelgen

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// Streams keep the towers' weights independent of each other, so the text
// weights of a seed do not depend on whether the vision tower is generated.
const (
	streamText   = 0x7465787474657874 // "texttext"
	streamVision = 0x766973696f6e7669 // "visionvi"
)

// weights draws deterministic pseudo-random parameters.
type weights struct {
	rng *rand.Rand
}

func newWeights(seed int64, stream uint64) *weights {
	return &weights{rng: rand.New(rand.NewPCG(uint64(seed), stream))}
}

// normal returns n float32 values drawn from N(mean, std²).
func (w *weights) normal(n int, mean, std float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(mean + std*w.rng.NormFloat64())
	}
	return out
}

// normalRaw is normal encoded as little-endian float32 bytes.
func (w *weights) normalRaw(n int, mean, std float64) []byte {
	out := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(float32(mean+std*w.rng.NormFloat64())))
	}
	return out
}

func sqrt(n int) float64 { return math.Sqrt(float64(n)) }
