package text

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestChunks(t *testing.T) {
	same := func(n, l int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = l
		}
		return out
	}
	tests := []struct {
		name     string
		lengths  []int
		maxBatch int
		want     []int
	}{
		{"none", nil, 32, nil},
		{"one", []int{7}, 32, []int{1}},
		{"equal lengths stay together", same(32, 13), 32, []int{32}},
		{"equal lengths split at the batch size", same(64, 13), 32, []int{32, 64}},
		// 31 texts of 12-13 tokens padded to 22 would waste 279 positions,
		// far more than a second call costs; padding the 10 texts of 12 to
		// 13 wastes 10, less than a call.
		{"an outlier gets a call of its own", append(append(same(10, 12), same(21, 13)...), 22), 32, []int{31, 32}},
		// Padding 3 texts by one token each costs less than a call.
		{"small steps stay together", append(same(10, 12), 13, 13, 13), 32, []int{13}},
		// 4 texts at 12 then 4 at 40: splitting saves 4·28 positions.
		{"two lengths split", append(same(4, 12), same(4, 40)...), 32, []int{4, 8}},
		{"batch size 1", []int{3, 4, 5}, 1, []int{1, 2, 3}},
		{"batch size 0 is 1", []int{3, 4}, 0, []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chunks(tt.lengths, tt.maxBatch)
			assert.Equal(t, tt.want, got)
			if len(tt.lengths) > 0 {
				assert.Equal(t, len(tt.lengths), got[len(got)-1], "the calls cover every text")
			}
			start := 0
			for _, end := range got {
				assert.Greater(t, end, start)
				assert.LessOrEqual(t, end-start, max(tt.maxBatch, 1))
				start = end
			}
		})
	}
}

// The cut is optimal: no other way to cut into calls of at most maxBatch
// costs less, checked against every cut of small inputs.
func TestChunksOptimal(t *testing.T) {
	cost := func(lengths, ends []int) int {
		c, start := 0, 0
		for _, end := range ends {
			c += CallOverheadTokens + (end-start)*lengths[end-1]
			start = end
		}
		return c
	}
	inputs := [][]int{
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
		{5, 5, 5, 6, 20, 21, 22, 40, 41, 128, 128, 128},
		{12, 12, 12, 12, 12, 12, 12, 12, 13, 30, 31, 60},
	}
	for _, lengths := range inputs {
		for maxBatch := 1; maxBatch <= len(lengths); maxBatch++ {
			got := cost(lengths, chunks(lengths, maxBatch))
			n := len(lengths)
			for mask := 0; mask < 1<<(n-1); mask++ { // bit i: cut after text i
				var ends []int
				ok, start := true, 0
				for i := 0; i < n; i++ {
					if i == n-1 || mask&(1<<i) != 0 {
						ok = ok && i+1-start <= maxBatch
						ends = append(ends, i+1)
						start = i + 1
					}
				}
				if ok {
					assert.LessOrEqual(t, got, cost(lengths, ends), "lengths %v, batch %d, cut %v", lengths, maxBatch, ends)
				}
			}
		}
	}
}
