// Package reference is an independent plain-Go forward pass of the models
// modelgen writes: DistilBERT + masked mean pooling + Dense for text, and
// the CLIP ViT vision tower with its projection. It reads dimensions from
// the JSON configs and weights back from the written files (ONNX
// initializers and safetensors), never from the generator, and accumulates
// in float64, so that it and the ONNX graphs check each other.
package reference

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

// params fetches float initializers by name, checking their dims; the first
// failure is kept in err and later calls return nil.
type params struct {
	g   *onnxpb.Graph
	err error
}

func (p *params) get(name string, dims ...int) []float32 {
	if p.err != nil {
		return nil
	}
	t, ok := p.g.Initializer(name)
	if !ok {
		p.err = fmt.Errorf("no initializer %q", name)
		return nil
	}
	want := make([]int64, len(dims))
	for i, d := range dims {
		want[i] = int64(d)
	}
	if fmt.Sprint(t.Dims) != fmt.Sprint(want) {
		p.err = fmt.Errorf("initializer %q has dims %v, want %v", name, t.Dims, want)
		return nil
	}
	v, err := t.Float32s()
	if err != nil {
		p.err = err
		return nil
	}
	return v
}

// linear is y = x·W + b with W stored [in, out].
func (p *params) linear(prefix string, in, out int, bias bool) linear {
	l := linear{in: in, out: out, w: p.get(prefix+".weight", in, out)}
	if bias {
		l.b = p.get(prefix+".bias", out)
	}
	return l
}

func (p *params) layerNorm(prefix string, dim int, eps float64) layerNorm {
	return layerNorm{g: p.get(prefix+".weight", dim), b: p.get(prefix+".bias", dim), eps: eps}
}

type linear struct {
	in, out int
	w, b    []float32
}

// apply maps x [n, in] to [n, out].
func (l linear) apply(x []float64) []float64 {
	n := len(x) / l.in
	y := make([]float64, n*l.out)
	for r := 0; r < n; r++ {
		yr := y[r*l.out : (r+1)*l.out]
		if l.b != nil {
			for j := range yr {
				yr[j] = float64(l.b[j])
			}
		}
		for k, xv := range x[r*l.in : (r+1)*l.in] {
			wk := l.w[k*l.out : (k+1)*l.out]
			for j, wv := range wk {
				yr[j] += xv * float64(wv)
			}
		}
	}
	return y
}

type layerNorm struct {
	g, b []float32
	eps  float64
}

// apply normalises each row of x [n, dim] (dim = len(g)).
func (l layerNorm) apply(x []float64) []float64 {
	d := len(l.g)
	y := make([]float64, len(x))
	for r := 0; r < len(x)/d; r++ {
		row := x[r*d : (r+1)*d]
		var mean, variance float64
		for _, v := range row {
			mean += v
		}
		mean /= float64(d)
		for _, v := range row {
			variance += (v - mean) * (v - mean)
		}
		variance /= float64(d)
		inv := 1 / math.Sqrt(variance+l.eps)
		for j, v := range row {
			y[r*d+j] = (v-mean)*inv*float64(l.g[j]) + float64(l.b[j])
		}
	}
	return y
}

type attention struct {
	heads      int
	q, k, v, o linear
}

// apply is multi-head self-attention over all positions of x [n, dim].
func (a attention) apply(x []float64) []float64 {
	dim := a.q.in
	n := len(x) / dim
	hd := dim / a.heads
	scale := 1 / math.Sqrt(float64(hd))
	q, k, v := a.q.apply(x), a.k.apply(x), a.v.apply(x)
	ctx := make([]float64, n*dim)
	scores := make([]float64, n)
	for h := 0; h < a.heads; h++ {
		off := h * hd
		for i := 0; i < n; i++ {
			maxS := math.Inf(-1)
			for j := 0; j < n; j++ {
				var s float64
				for d := 0; d < hd; d++ {
					s += q[i*dim+off+d] * k[j*dim+off+d]
				}
				scores[j] = s * scale
				maxS = math.Max(maxS, scores[j])
			}
			var sum float64
			for j := range scores {
				scores[j] = math.Exp(scores[j] - maxS)
				sum += scores[j]
			}
			for j := 0; j < n; j++ {
				p := scores[j] / sum
				for d := 0; d < hd; d++ {
					ctx[i*dim+off+d] += p * v[j*dim+off+d]
				}
			}
		}
	}
	return a.o.apply(ctx)
}

func add(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
	return out
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}
