package module

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	logrustest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/entities/moduletools"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/testfixture/testimage"
	"github.com/mclip-go/mclip/vectorizer"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
)

// realModule is the module over the real vectorizer on tiny generated
// models, and that vectorizer for the expected vectors.
func realModule(t *testing.T, wrap func(encoder) encoder) (*Module, *vectorizer.Encoder) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: dir, Size: modelgen.Tiny, Seed: 5}))
	cfg := config.Default()
	cfg.ModelDir, cfg.Threads, cfg.MaxPixels = dir, 1, 1<<20
	vec, err := vectorizer.Load(cfg, modelstore.Dir{Root: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = vec.Close() })
	m := New()
	m.load = func(context.Context, config.Config) (encoder, modelinfo.Info, error) {
		var enc encoder = vec
		if wrap != nil {
			enc = wrap(vec)
		}
		return enc, vec.Info(), nil
	}
	logger, _ := logrustest.NewNullLogger()
	require.NoError(t, m.Init(context.Background(), moduletools.NewInitParams(nil, nil, nil, logger, nil)))
	require.NoError(t, m.InitExtension(nil))
	return m, vec
}

// cancelAfterTexts cancels the batch's context once its texts are
// encoded, before its images are.
type cancelAfterTexts struct {
	encoder
	cancel context.CancelFunc
}

func (c cancelAfterTexts) EncodeTexts(ctx context.Context, texts []string) ([][]float32, []error) {
	defer c.cancel()
	return c.encoder.EncodeTexts(ctx, texts)
}

// wantVector is the object's whole vector: the mean of its title's and
// image's vectors.
func wantVector(t *testing.T, vec *vectorizer.Encoder, title, img string) []float32 {
	t.Helper()
	tv, errs := vec.EncodeTexts(context.Background(), []string{title})
	require.NoError(t, errs[0])
	iv, errs := vec.EncodeImagesBase64(context.Background(), []string{img})
	require.NoError(t, errs[0])
	out := make([]float32, len(tv[0]))
	for i := range out {
		out[i] = (tv[0][i] + iv[0][i]) / 2
	}
	return out
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

var hostileSettings = cfgOf(map[string]any{"textFields": []any{"title"}, "imageFields": []any{"image"}})

// TestBatchNeverHalfVectorizes: an object whose image fails, for its
// input or because the request was cancelled between the text and the
// image calls, gets an error, never its text's vector alone; the others of
// the batch get their whole vector.
func TestBatchNeverHalfVectorizes(t *testing.T) {
	tests := []struct {
		name   string
		cancel bool // cancel after the text call
		bad    map[int]string
	}{
		{name: "bad images among good ones", bad: map[int]string{1: "bm90IGFuIGltYWdl", 4: testimage.GradientPNGBase64(1, 2000, 2000), 6: "%%%"}},
		{name: "cancelled between texts and images", cancel: true},
		{name: "cancelled, with bad images", cancel: true, bad: map[int]string{0: "%%%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wrap func(encoder) encoder
			if tt.cancel {
				wrap = func(e encoder) encoder { return cancelAfterTexts{encoder: e, cancel: cancel} }
			}
			m, vec := realModule(t, wrap)
			const n = 8
			objs := make([]*models.Object, n)
			wants := make([][]float32, n)
			for i := range objs {
				title, img := fmt.Sprintf("object %d", i), testimage.GradientPNGBase64(i, 20+i, 30)
				if b, ok := tt.bad[i]; ok {
					img = b
				} else {
					wants[i] = wantVector(t, vec, title, img)
				}
				objs[i] = &models.Object{Class: "Thing", Properties: map[string]any{"title": title, "image": img}}
			}
			vecs, _, errs := m.VectorizeBatch(ctx, objs, nil, hostileSettings)
			require.Len(t, vecs, n)
			if tt.cancel {
				// The image call saw a cancelled context: no image encoded.
				assert.Len(t, errs, n, "objects vectorized after the cancel")
			}
			for i := range objs {
				err, failed := errs[i]
				switch {
				case tt.bad[i] != "":
					require.True(t, failed, "object %d with a bad image got a vector", i)
					assert.ErrorContains(t, err, `image property "image"`)
					assert.Nil(t, vecs[i], "object %d: a vector next to the error", i)
				case failed:
					require.True(t, tt.cancel, "object %d failed: %v", i, err)
					assert.ErrorIs(t, err, context.Canceled, "object %d", i)
					assert.Nil(t, vecs[i], "object %d: a vector next to the error", i)
				default:
					assert.LessOrEqual(t, maxDiff(wants[i], vecs[i]), 1e-5, "object %d: not its whole vector", i)
				}
			}
		})
	}
}

// TestConcurrentHostileBatches runs batches mixing good and bad inputs
// from many goroutines: each object gets its own right vector or its own
// error, whatever runs beside it.
func TestConcurrentHostileBatches(t *testing.T) {
	m, vec := realModule(t, nil)
	good := make([]string, 4)
	wants := make([][]float32, len(good))
	for i := range good {
		good[i] = testimage.GradientPNGBase64(40+i, 16+i, 16)
		wants[i] = wantVector(t, vec, fmt.Sprintf("title %d", i), good[i])
	}
	bad := []string{"", "bm90IGFuIGltYWdl", "%%%", testimage.GradientPNGBase64(1, 1100, 1000)}
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for g := range 8 {
		wg.Go(func() {
			objs := make([]*models.Object, 12)
			for i := range objs {
				k := (g + i) % len(good)
				img := good[k]
				if i%3 == 2 {
					img = bad[(g+i)%len(bad)]
				}
				objs[i] = &models.Object{Properties: map[string]any{"title": fmt.Sprintf("title %d", k), "image": img}}
			}
			vecs, _, errs := m.VectorizeBatch(context.Background(), objs, nil, hostileSettings)
			for i := range objs {
				k := (g + i) % len(good)
				isBad := i%3 == 2 && bad[(g+i)%len(bad)] != ""
				_, failed := errs[i]
				switch {
				case isBad && !failed:
					errc <- fmt.Errorf("goroutine %d object %d: bad image accepted", g, i)
				case !isBad && failed:
					errc <- fmt.Errorf("goroutine %d object %d: %v", g, i, errs[i])
				case i%3 == 2 && bad[(g+i)%len(bad)] == "":
					// An empty image is no image: the title's vector alone.
					tv, _ := vec.EncodeTexts(context.Background(), []string{fmt.Sprintf("title %d", k)})
					if maxDiff(tv[0], vecs[i]) > 1e-5 {
						errc <- fmt.Errorf("goroutine %d object %d: not the title's vector", g, i)
					}
				case !isBad && maxDiff(wants[k], vecs[i]) > 1e-5:
					errc <- fmt.Errorf("goroutine %d object %d: wrong vector", g, i)
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

// TestPanicDeepDownBecomesAnError: nothing below the module's entry points
// recovers, so a panic at the deepest level, in ONNX Runtime's Go binding
// (here a model call on a session already closed), must come back from
// each entry point as an error, never take Weaviate down.
func TestPanicDeepDownBecomesAnError(t *testing.T) {
	m, vec := realModule(t, nil)
	require.NoError(t, vec.Close())
	ctx := context.Background()
	assert.Panics(t, func() { vec.EncodeTexts(ctx, []string{"x"}) }, "the vectorizer leaves panics to its callers")

	_, err := m.Texts(ctx, []string{"a dog in the snow"}, hostileSettings)
	assert.ErrorContains(t, err, "encoder panicked")
	_, err = m.VectorizeImage(ctx, "id", testimage.GradientPNGBase64(1, 32, 32), hostileSettings)
	assert.ErrorContains(t, err, "encoder panicked")
	_, _, err = m.VectorizeObject(ctx, &models.Object{Properties: map[string]any{"image": testimage.GradientPNGBase64(2, 32, 32)}}, hostileSettings)
	assert.ErrorContains(t, err, "encode images: encoder panicked")
	_, _, errs := m.VectorizeBatch(ctx, []*models.Object{
		{Properties: map[string]any{"title": "ein Hund im Schnee"}},
		{Properties: map[string]any{"other": "x"}},
	}, nil, hostileSettings)
	require.Len(t, errs, 1, "the object with a text fails; the empty one does not")
	assert.ErrorContains(t, errs[0], "encode texts: encoder panicked")
}
