package text

import "sync"

// buffers are one model call's inputs and output, reused across calls so
// that a busy encoder does not allocate (and the GC does not scan) a large
// tensor per call.
type buffers struct {
	ids, mask, types []int64
	states           []float32 // [batch, seq, hidden]
	acc              []float64 // pooling accumulator
	pool             []float32 // one pooled sequence
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

// pooled returns the pooled-vector scratch of length hidden and sizes the
// accumulator to match.
func (b *buffers) pooled(hidden int) []float32 {
	b.pool = grow(b.pool, hidden)
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

// dot returns the float32 dot product of a and b (len(b) >= len(a)) with
// eight independent accumulators, so that the loop is not one long chain of
// dependent additions.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa, bb := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
		s4 += aa[4] * bb[4]
		s5 += aa[5] * bb[5]
		s6 += aa[6] * bb[6]
		s7 += aa[7] * bb[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}
