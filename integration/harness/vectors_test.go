package harness

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMean(t *testing.T) {
	tests := []struct {
		name string
		in   [][]float32
		want []float32
	}{
		{name: "none", in: nil, want: nil},
		{name: "one", in: [][]float32{{1, -2}}, want: []float32{1, -2}},
		{name: "three", in: [][]float32{{1, 0}, {2, 3}, {3, -6}}, want: []float32{2, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Mean(tt.in...))
		})
	}
}
