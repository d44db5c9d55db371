package harness

// Mean is the element-wise mean of vectors of one length, summed in
// float32 as Weaviate's modules combine them; nil for no vectors.
func Mean(vecs ...[]float32) []float32 {
	if len(vecs) == 0 {
		return nil
	}
	out := make([]float32, len(vecs[0]))
	for _, v := range vecs {
		for i := range v {
			out[i] += v[i]
		}
	}
	for i := range out {
		out[i] /= float32(len(vecs))
	}
	return out
}
