package inferenceapi

import (
	"context"
	"errors"
	"hash/crc32"
	"strings"
	"sync"
	"time"

	"github.com/mclip-go/mclip/vectorizer"
)

// fakeEncoder stands in for the models: a call costs overhead plus perItem
// per item, the vector of an item identifies it, and items can be made to
// fail, panic, or block.
type fakeEncoder struct {
	overhead, perItem time.Duration
	// block, when set, holds every call until it is closed; each held call
	// first sends its items on started.
	block   chan struct{}
	started chan []string
	// nonFinite makes every vector NaN; short drops the last vector.
	nonFinite, short bool

	mu    sync.Mutex
	calls [][]string // items of each call, in order
}

const fakeDim = 4

// fakeVector is the vector the fake returns for an item of a modality.
func fakeVector(modality, item string) []float32 {
	v := make([]float32, fakeDim)
	v[0] = float32(len(item))
	v[1] = float32(crc32.ChecksumIEEE([]byte(item)) % 100_000)
	if modality == "image" {
		v[2] = 1
	}
	v[3] = -0.5
	return v
}

func (f *fakeEncoder) EncodeTexts(ctx context.Context, texts []string) ([][]float32, []error) {
	return f.encode(ctx, "text", texts)
}

func (f *fakeEncoder) EncodeImagesBase64(ctx context.Context, images []string) ([][]float32, []error) {
	return f.encode(ctx, "image", images)
}

func (f *fakeEncoder) encode(ctx context.Context, modality string, items []string) ([][]float32, []error) {
	f.mu.Lock()
	f.calls = append(f.calls, append([]string(nil), items...))
	f.mu.Unlock()
	if f.block != nil {
		if f.started != nil {
			f.started <- items
		}
		select {
		case <-f.block:
		case <-ctx.Done():
			return make([][]float32, len(items)), fill(len(items), ctx.Err())
		}
	}
	if d := f.overhead + time.Duration(len(items))*f.perItem; d > 0 {
		spin(d)
	}
	vecs := make([][]float32, len(items))
	errs := make([]error, len(items))
	for i, it := range items {
		switch {
		case strings.HasPrefix(it, "panic"):
			panic("fake encoder panic at /secret/path/model.go:42")
		case strings.HasPrefix(it, "fault"):
			errs[i] = faultError{"run /secret/path/model.onnx: out of memory"}
		case strings.HasPrefix(it, "bad index"):
			errs[i] = &vectorizer.ItemError{Kind: modality, Index: i, Err: errors.New("cannot decode " + it)}
		case strings.HasPrefix(it, "bad"):
			errs[i] = errors.New("cannot decode " + it)
		case f.nonFinite:
			vecs[i] = []float32{float32(nan())}
		default:
			vecs[i] = fakeVector(modality, it)
		}
	}
	if f.short {
		vecs = vecs[:len(vecs)-1]
	}
	return vecs, errs
}

// faultError is an encoder's own failure, marked as the vectorizer marks
// them.
type faultError struct{ msg string }

func (e faultError) Error() string  { return e.msg }
func (e faultError) Internal() bool { return true }

func nan() float64 {
	var z float64
	return z / z
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

func (f *fakeEncoder) callSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	sizes := make([]int, len(f.calls))
	for i, c := range f.calls {
		sizes[i] = len(c)
	}
	return sizes
}

func (f *fakeEncoder) allItems() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []string
	for _, c := range f.calls {
		all = append(all, c...)
	}
	return all
}
