package text

import "sync"

// buffers are one model call's inputs and output, reused across calls so
// that a busy encoder does not allocate (and the GC does not scan) a large
// tensor per call.
type buffers struct {
	ids, mask, types []int64
	states           []float32 // [batch, seq, hidden]
	acc              []float64 // pooling accumulator
	pool             []float32 // pooled sequences [batch, hidden]
}

var bufferPool sync.Pool

// getBuffers returns buffers with room for tokens token positions and
// states output values; their contents are undefined.
func getBuffers(tokens, states int) *buffers {
	b, _ := bufferPool.Get().(*buffers)
	if b == nil {
		b = &buffers{}
	}
	b.ids = grow(b.ids, tokens)
	b.mask = grow(b.mask, tokens)
	b.types = grow(b.types, tokens)
	b.states = grow(b.states, states)
	return b
}

func putBuffers(b *buffers) { bufferPool.Put(b) }

// pooled returns the pooled-vector scratch for n sequences of hidden
// values and sizes the accumulator to match.
func (b *buffers) pooled(n, hidden int) []float32 {
	b.pool = grow(b.pool, n*hidden)
	b.acc = grow(b.acc, hidden)
	return b.pool
}

// grow returns s resized to n, reallocating only when its capacity is too
// small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
