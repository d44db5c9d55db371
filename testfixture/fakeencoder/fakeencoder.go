// Package fakeencoder stands in for the vectorizer in the tests of its
// users (the Weaviate module, the inference API): the vector of an item
// identifies it, items fail, panic or block on demand, and the calls are
// recorded. Only tests import it.
package fakeencoder

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/mclip-go/mclip/vectorizer/itemerror"
)

// Dim is the length of the fake's vectors.
const Dim = 4

// Vector is the vector the fake returns for an item of a kind ("text" or
// "image"): small exact values (multiples of 1/64) that differ by item
// and kind.
func Vector(kind, item string) []float32 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(kind + ":" + item))
	x := h.Sum64()
	v := make([]float32, Dim)
	for i := range v {
		v[i] = float32(int((x>>(8*i))&0xff)-128) / 64
	}
	return v
}

// Encoder is the vectorizer's EncodeTexts, EncodeImagesBase64 and Close.
// By its prefix an item:
//   - "panic": panics, with a file path in the panic value;
//   - "fault": fails through the encoder's fault (a itemerror.Internal
//     whose text names a file);
//   - "bad": fails as bad input, `invalid text "bad one"`;
//
// and otherwise gets Vector. Its errors are itemerror.Errors, as the
// vectorizer's are. The zero value is ready to use.
type Encoder struct {
	// Overhead and PerItem: a call costs Overhead plus PerItem per item.
	Overhead, PerItem time.Duration
	// Block, when set, holds every call until it is closed or the call's
	// ctx ends (then every item fails with ctx's error); each held call
	// first sends its items on Started, when that is set.
	Block   chan struct{}
	Started chan []string
	// NonFinite makes every vector NaN; Short drops the last vector.
	NonFinite, Short bool

	mu     sync.Mutex
	calls  []call
	closed int
}

type call struct {
	kind  string
	items []string
}

// EncodeTexts encodes texts (kind "text").
func (f *Encoder) EncodeTexts(ctx context.Context, texts []string) ([][]float32, []error) {
	return f.encode(ctx, "text", texts)
}

// EncodeImagesBase64 encodes images (kind "image").
func (f *Encoder) EncodeImagesBase64(ctx context.Context, images []string) ([][]float32, []error) {
	return f.encode(ctx, "image", images)
}

// Close counts the calls (Closed).
func (f *Encoder) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed++
	return nil
}

func (f *Encoder) encode(ctx context.Context, kind string, items []string) ([][]float32, []error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{kind, append([]string(nil), items...)})
	f.mu.Unlock()
	if f.Block != nil {
		if f.Started != nil {
			f.Started <- items
		}
		select {
		case <-f.Block:
		case <-ctx.Done():
			errs := make([]error, len(items))
			for i := range errs {
				errs[i] = ctx.Err()
			}
			return make([][]float32, len(items)), errs
		}
	}
	if d := f.Overhead + time.Duration(len(items))*f.PerItem; d > 0 {
		spin(d)
	}
	vecs := make([][]float32, len(items))
	errs := make([]error, len(items))
	for i, it := range items {
		switch {
		case strings.HasPrefix(it, "panic"):
			panic("boom at /secret/path/model.go:42")
		case strings.HasPrefix(it, "fault"):
			errs[i] = &itemerror.Error{Kind: kind, Index: i,
				Err: &itemerror.Internal{Err: fmt.Errorf("run /secret/path/model.onnx: out of memory")}}
		case strings.HasPrefix(it, "bad"):
			errs[i] = &itemerror.Error{Kind: kind, Index: i, Err: fmt.Errorf("invalid %s %q", kind, it)}
		case f.NonFinite:
			vecs[i] = []float32{float32(math.NaN())}
		default:
			vecs[i] = Vector(kind, it)
		}
	}
	if f.Short {
		vecs = vecs[:len(vecs)-1]
	}
	return vecs, errs
}

// spin sleeps for d; time.Sleep is too coarse for sub-millisecond costs.
func spin(d time.Duration) {
	if d > time.Millisecond {
		time.Sleep(d)
		return
	}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
	}
}

// Calls returns the items of each call of a kind ("text" or "image"), in
// order.
func (f *Encoder) Calls(kind string) [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]string
	for _, c := range f.calls {
		if c.kind == kind {
			out = append(out, c.items)
		}
	}
	return out
}

// CallSizes returns how many items each call had, both kinds, in order.
func (f *Encoder) CallSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	sizes := make([]int, len(f.calls))
	for i, c := range f.calls {
		sizes[i] = len(c.items)
	}
	return sizes
}

// Items returns every item of every call, both kinds, in order.
func (f *Encoder) Items() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []string
	for _, c := range f.calls {
		all = append(all, c.items...)
	}
	return all
}

// Closed says how many times Close was called.
func (f *Encoder) Closed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}
