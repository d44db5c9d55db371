package graphfuse

import (
	"os"
	"testing"

	"github.com/mclip-go/mclip/modelgen/modeltest"
	"github.com/mclip-go/mclip/modelstore"
)

// BenchmarkSkipLayerNorm measures the fusion and the count that a start
// with the optimized-graph cache runs, on the generated text tower.
func BenchmarkSkipLayerNorm(b *testing.B) {
	model, err := os.ReadFile(modeltest.Tiny(b, 7).Text(modelstore.TextONNXFP32))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fuse", func(b *testing.B) {
		b.SetBytes(int64(len(model)))
		for range b.N {
			if _, _, err := SkipLayerNorm(model); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("count", func(b *testing.B) {
		b.SetBytes(int64(len(model)))
		for range b.N {
			Count(model)
		}
	})
}
