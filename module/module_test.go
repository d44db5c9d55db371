package module

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
	logrustest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/entities/moduletools"
	"github.com/weaviate/weaviate/entities/schema"
	usecasesconfig "github.com/weaviate/weaviate/usecases/config"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelgen/modeltest"
	"github.com/mclip-go/mclip/version"
)

const dim = 4

// fakeEncoder makes a deterministic vector of each input; inputs starting
// with "bad" fail, "panic" panics. It records each call's inputs.
type fakeEncoder struct {
	mu         sync.Mutex
	textCalls  [][]string
	imageCalls [][]string
	closed     int
}

func fakeVector(kind, s string) []float32 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(kind + ":" + s))
	x := h.Sum64()
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(int((x>>(8*i))&0xff)-128) / 64
	}
	return v
}

func (f *fakeEncoder) encode(kind string, items []string) ([][]float32, []error) {
	vecs := make([][]float32, len(items))
	errs := make([]error, len(items))
	for i, s := range items {
		if s == "panic" {
			panic("boom")
		}
		if strings.HasPrefix(s, "bad") {
			// the vectorizer names the position in its call
			errs[i] = fmt.Errorf("%s %d: %w", kind, i, fmt.Errorf("invalid %s %q", kind, s))
			continue
		}
		vecs[i] = fakeVector(kind, s)
	}
	return vecs, errs
}

func (f *fakeEncoder) EncodeTexts(_ context.Context, texts []string) ([][]float32, []error) {
	f.mu.Lock()
	f.textCalls = append(f.textCalls, texts)
	f.mu.Unlock()
	return f.encode("text", texts)
}

func (f *fakeEncoder) EncodeImagesBase64(_ context.Context, images []string) ([][]float32, []error) {
	f.mu.Lock()
	f.imageCalls = append(f.imageCalls, images)
	f.mu.Unlock()
	return f.encode("image", images)
}

func (f *fakeEncoder) Close() error {
	f.closed++
	return nil
}

// fakeClassConfig is one target vector's module config.
type fakeClassConfig struct {
	settings map[string]any
	target   string
}

func (c fakeClassConfig) TargetVector() string           { return c.target }
func (c fakeClassConfig) Tenant() string                 { return "" }
func (c fakeClassConfig) Class() map[string]any          { return c.settings }
func (c fakeClassConfig) Property(string) map[string]any { return nil }
func (c fakeClassConfig) ClassByModuleName(name string) map[string]any {
	if name == Name {
		return c.settings
	}
	return nil
}
func (c fakeClassConfig) PropertiesDataTypes() map[string]schema.DataType { return nil }
func (c fakeClassConfig) Config() *usecasesconfig.Config                  { return nil }

func cfgOf(settings map[string]any) moduletools.ClassConfig {
	return fakeClassConfig{settings: settings}
}

func newTestModule(t *testing.T, enc *fakeEncoder) *Module {
	t.Helper()
	m := New()
	m.load = func(context.Context, config.Config) (encoder, Meta, error) {
		return enc, Meta{Dimensions: dim, Runtime: "1.27.0",
			Text:   ModelMeta{Repo: "sentence-transformers/clip-ViT-B-32-multilingual-v1", Revision: "local", File: "onnx/model.onnx", Variant: "fp32"},
			Vision: ModelMeta{Repo: "Xenova/clip-vit-base-patch32", Revision: "local", File: "onnx/vision_model.onnx", Variant: "fp32"},
		}, nil
	}
	logger, _ := logrustest.NewNullLogger()
	require.NoError(t, m.Init(context.Background(), moduletools.NewInitParams(nil, nil, nil, logger, nil)))
	require.NoError(t, m.InitExtension(nil))
	return m
}

func class(props map[string]string) *models.Class {
	c := &models.Class{Class: "Thing"}
	for name, dt := range props {
		c.Properties = append(c.Properties, &models.Property{Name: name, DataType: []string{dt}})
	}
	return c
}

func TestValidateClass(t *testing.T) {
	cls := class(map[string]string{"image": "blob", "photo": "blob", "title": "text", "tags": "text[]", "year": "int"})
	tests := []struct {
		name     string
		settings map[string]any
		wantErr  []string
	}{
		{name: "image and texts", settings: map[string]any{
			"imageFields": []any{"image"}, "textFields": []any{"title", "tags"},
		}},
		{name: "weights", settings: map[string]any{
			"imageFields": []any{"image", "photo"}, "textFields": []any{"title"},
			"weights": map[string]any{"imageFields": []any{0.5, 1.0}, "textFields": []any{2}},
		}},
		{name: "images only", settings: map[string]any{"imageFields": []any{"image"}}},
		{name: "texts only", settings: map[string]any{"textFields": []any{"tags"}}},
		{name: "no fields", settings: map[string]any{}, wantErr: []string{"no fields to vectorize"}},
		{name: "empty field list", settings: map[string]any{"textFields": []any{}},
			wantErr: []string{"textFields must name at least one property"}},
		{name: "unknown property", settings: map[string]any{"imageFields": []any{"picture"}},
			wantErr: []string{`imageFields: property "picture" does not exist`}},
		{name: "text field of wrong type", settings: map[string]any{"textFields": []any{"year"}},
			wantErr: []string{`textFields: property "year" has data type [int], want text or text[]`}},
		{name: "image field of wrong type", settings: map[string]any{"imageFields": []any{"title"}},
			wantErr: []string{`imageFields: property "title" has data type [text], want blob`}},
		{name: "weight count", settings: map[string]any{
			"imageFields": []any{"image", "photo"}, "weights": map[string]any{"imageFields": []any{1}},
		}, wantErr: []string{"weights.imageFields has 1 weights for 2 imageFields"}},
		{name: "negative weight", settings: map[string]any{
			"textFields": []any{"title", "tags"}, "weights": map[string]any{"textFields": []any{1, -0.5}},
		}, wantErr: []string{"weights.textFields[1] (tags) is -0.5"}},
		{name: "weight not a number", settings: map[string]any{
			"textFields": []any{"title"}, "weights": map[string]any{"textFields": []any{"heavy"}},
		}, wantErr: []string{"weights.textFields[0] (title): not a number"}},
		{name: "unknown weights", settings: map[string]any{
			"textFields": []any{"title"}, "weights": map[string]any{"audioFields": []any{1}},
		}, wantErr: []string{"weights.audioFields: unknown setting"}},
		{name: "fields not an array", settings: map[string]any{"textFields": "title"},
			wantErr: []string{"textFields must be an array of property names"}},
		{name: "duplicate field", settings: map[string]any{"textFields": []any{"title", "title"}},
			wantErr: []string{`textFields lists property "title" twice`}},
		{name: "every problem reported", settings: map[string]any{
			"imageFields": []any{"title"}, "textFields": []any{"nope"},
		}, wantErr: []string{`property "title" has data type`, `property "nope" does not exist`}},
	}
	m := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.ValidateClass(context.Background(), cls, cfgOf(tt.settings))
			if len(tt.wantErr) == 0 {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), Name)
			for _, w := range tt.wantErr {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// clipCombine is multi2vec-clip's arithmetic, written out: weights
// normalized to sum 1, weighted sum, divided by the number of vectors.
func clipCombine(vectors [][]float32, weights []float32) []float32 {
	out := make([]float32, len(vectors[0]))
	var total float32
	for _, w := range weights {
		total += w
	}
	for i, v := range vectors {
		for j := range v {
			if weights == nil {
				out[j] += v[j]
			} else {
				out[j] += v[j] * (weights[i] / total)
			}
		}
	}
	for j := range out {
		out[j] /= float32(len(vectors))
	}
	return out
}

func TestVectorizeObject(t *testing.T) {
	tv := func(s string) []float32 { return fakeVector("text", s) }
	iv := func(s string) []float32 { return fakeVector("image", s) }
	tests := []struct {
		name     string
		settings map[string]any
		props    map[string]any
		want     []float32
		wantErr  string
	}{
		{
			name:     "mean of texts then images, without weights",
			settings: map[string]any{"imageFields": []any{"image"}, "textFields": []any{"title", "body"}},
			props:    map[string]any{"image": "img1", "title": "a cat", "body": "ein Hund", "other": "ignored"},
			want:     clipCombine([][]float32{tv("ein Hund"), tv("a cat"), iv("img1")}, nil),
		},
		{
			name: "weights in sorted order match multi2vec-clip",
			settings: map[string]any{
				"imageFields": []any{"image"}, "textFields": []any{"body", "title"},
				"weights": map[string]any{"imageFields": []any{0.5}, "textFields": []any{0.2, 0.3}},
			},
			props: map[string]any{"image": "img1", "title": "a cat", "body": "ein Hund"},
			want:  clipCombine([][]float32{tv("ein Hund"), tv("a cat"), iv("img1")}, []float32{0.2, 0.3, 0.5}),
		},
		{
			name: "weights belong to the field they are listed with",
			settings: map[string]any{
				"textFields": []any{"zeta", "alpha"},
				"weights":    map[string]any{"textFields": []any{3, 1}},
			},
			props: map[string]any{"zeta": "z", "alpha": "a"},
			want:  clipCombine([][]float32{tv("a"), tv("z")}, []float32{1, 3}),
		},
		{
			name:     "text array: one vector per element",
			settings: map[string]any{"textFields": []any{"tags"}},
			props:    map[string]any{"tags": []string{"rot", "赤"}},
			want:     clipCombine([][]float32{tv("rot"), tv("赤")}, nil),
		},
		{
			name:     "text array as []any",
			settings: map[string]any{"textFields": []any{"tags"}},
			props:    map[string]any{"tags": []any{"rot", "赤"}},
			want:     clipCombine([][]float32{tv("rot"), tv("赤")}, nil),
		},
		{
			name:     "missing fields are left out",
			settings: map[string]any{"imageFields": []any{"image"}, "textFields": []any{"title"}},
			props:    map[string]any{"title": "only text"},
			want:     tv("only text"),
		},
		{
			name:     "no fields at all: nil, not empty",
			settings: map[string]any{"imageFields": []any{"image"}, "textFields": []any{"title"}},
			props:    map[string]any{"other": "x"},
			want:     nil,
		},
		{
			name:     "bad image",
			settings: map[string]any{"imageFields": []any{"image"}, "textFields": []any{"title"}},
			props:    map[string]any{"image": "bad-base64", "title": "t"},
			wantErr:  `image property "image": invalid image "bad-base64"`,
		},
		{
			name: "only zero-weight fields present",
			settings: map[string]any{
				"imageFields": []any{"image"}, "textFields": []any{"title"},
				"weights": map[string]any{"imageFields": []any{1}, "textFields": []any{0}},
			},
			props:   map[string]any{"title": "t"},
			wantErr: "weight 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestModule(t, &fakeEncoder{})
			vec, _, err := m.VectorizeObject(context.Background(), &models.Object{Properties: tt.props}, cfgOf(tt.settings))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			if tt.want == nil {
				assert.Nil(t, vec)
				return
			}
			assert.InDeltaSlice(t, tt.want, vec, 1e-6)
		})
	}
}

func TestVectorizeBatch(t *testing.T) {
	settings := cfgOf(map[string]any{"imageFields": []any{"image"}, "textFields": []any{"title", "tags"}})
	objs := []*models.Object{
		{Properties: map[string]any{"image": "i0", "title": "t0"}},
		{Properties: map[string]any{"image": "bad0", "title": "t1"}},
		{Properties: map[string]any{"image": "i2", "tags": []string{"a", "b"}}},
		{Properties: map[string]any{"image": "i3", "title": "skipped"}},
		{Properties: map[string]any{"year": 1999}},
		{Properties: map[string]any{"title": "bad text"}},
		{Properties: map[string]any{"title": "t6"}},
	}
	skip := []bool{false, false, false, true, false, false, false}
	enc := &fakeEncoder{}
	m := newTestModule(t, enc)

	vecs, _, errs := m.VectorizeBatch(context.Background(), objs, skip, settings)

	require.Len(t, vecs, len(objs))
	assert.Equal(t, [][]string{{"t0", "t1", "a", "b", "bad text", "t6"}}, enc.textCalls, "one text call for the batch")
	assert.Equal(t, [][]string{{"i0", "bad0", "i2"}}, enc.imageCalls, "one image call for the batch")
	require.Len(t, errs, 2)
	assert.ErrorContains(t, errs[1], `image property "image": invalid image "bad0"`)
	assert.ErrorContains(t, errs[5], `text property "title": invalid text "bad text"`)
	assert.Nil(t, vecs[1])
	assert.Nil(t, vecs[3], "skipped")
	assert.Nil(t, vecs[4], "no fields")
	tv := func(s string) []float32 { return fakeVector("text", s) }
	iv := func(s string) []float32 { return fakeVector("image", s) }
	assert.InDeltaSlice(t, clipCombine([][]float32{tv("t0"), iv("i0")}, nil), vecs[0], 1e-6)
	assert.InDeltaSlice(t, clipCombine([][]float32{tv("a"), tv("b"), iv("i2")}, nil), vecs[2], 1e-6)
	assert.InDeltaSlice(t, tv("t6"), vecs[6], 1e-6)
}

func TestVectorizeBatchBadSettingsFailEveryObject(t *testing.T) {
	m := newTestModule(t, &fakeEncoder{})
	objs := []*models.Object{{Properties: map[string]any{"title": "x"}}, {Properties: map[string]any{"title": "y"}}}
	vecs, _, errs := m.VectorizeBatch(context.Background(), objs, []bool{true, false}, cfgOf(map[string]any{}))
	assert.Len(t, vecs, 2)
	require.Len(t, errs, 1)
	assert.ErrorContains(t, errs[1], "no fields to vectorize")
}

func TestPanicsBecomeErrors(t *testing.T) {
	settings := cfgOf(map[string]any{"imageFields": []any{"image"}, "textFields": []any{"title"}})
	ctx := context.Background()
	m := newTestModule(t, &fakeEncoder{})

	_, errs := func() ([][]float32, map[int]error) {
		v, _, e := m.VectorizeBatch(ctx, []*models.Object{
			{Properties: map[string]any{"title": "panic"}},
			{Properties: map[string]any{"image": "i1"}},
			{Properties: map[string]any{"other": "x"}},
		}, nil, settings)
		return v, e
	}()
	require.Len(t, errs, 2, "objects with texts or images fail; the empty one does not")
	assert.ErrorContains(t, errs[0], "encoder panicked: boom")

	_, err := m.Texts(ctx, []string{"panic"}, settings)
	assert.ErrorContains(t, err, "encoder panicked")
	_, err = m.VectorizeImage(ctx, "id", "panic", settings)
	assert.ErrorContains(t, err, "encoder panicked")
	_, _, err = m.VectorizeObject(ctx, &models.Object{Properties: map[string]any{"image": "panic"}}, settings)
	assert.ErrorContains(t, err, "encoder panicked")
	assert.Error(t, m.ValidateClass(ctx, nil, settings), "nil class: no properties exist")
}

func TestTextsAndImages(t *testing.T) {
	settings := cfgOf(map[string]any{"textFields": []any{"title"}})
	ctx := context.Background()
	m := newTestModule(t, &fakeEncoder{})

	vec, err := m.Texts(ctx, []string{"un chat", "ネコ"}, settings)
	require.NoError(t, err)
	assert.InDeltaSlice(t, clipCombine([][]float32{fakeVector("text", "un chat"), fakeVector("text", "ネコ")}, nil), vec, 1e-6)

	vec, err = m.VectorizeInput(ctx, "كلب", settings)
	require.NoError(t, err)
	assert.Equal(t, fakeVector("text", "كلب"), vec)

	_, err = m.Texts(ctx, []string{"ok", "bad one"}, settings)
	assert.ErrorContains(t, err, `text 1: invalid text "bad one"`)

	_, err = m.Texts(ctx, nil, settings)
	assert.ErrorContains(t, err, "no text")

	vec, err = m.VectorizeImage(ctx, "search", "img", settings)
	require.NoError(t, err)
	assert.Equal(t, fakeVector("image", "img"), vec)

	_, err = m.VectorizeImage(ctx, "search", "bad image", settings)
	assert.ErrorContains(t, err, `image: invalid image "bad image"`)

	searches := m.VectorSearches()
	assert.Contains(t, searches, "nearText")
	assert.Contains(t, searches, "nearImage")
	args := m.Arguments()
	assert.Contains(t, args, "nearText")
	assert.Contains(t, args, "nearImage")
}

func TestVectorizableProperties(t *testing.T) {
	m := newTestModule(t, &fakeEncoder{})
	all, props, err := m.VectorizableProperties(cfgOf(map[string]any{
		"imageFields": []any{"image"}, "textFields": []any{"title", "tags"},
	}))
	require.NoError(t, err)
	assert.False(t, all)
	assert.Equal(t, []string{"title", "tags", "image"}, props)

	_, _, err = m.VectorizableProperties(nil)
	assert.Error(t, err)
}

func TestInit(t *testing.T) {
	logger, _ := logrustest.NewNullLogger()
	params := moduletools.NewInitParams(nil, nil, nil, logger, nil)

	t.Run("load error names the fix", func(t *testing.T) {
		m := New()
		m.load = func(context.Context, config.Config) (encoder, Meta, error) {
			return nil, Meta{}, errors.New("no graph; " + fixHint)
		}
		err := m.Init(context.Background(), params)
		require.Error(t, err)
		assert.Contains(t, err.Error(), Name)
		assert.Contains(t, err.Error(), "mclip models pull")
	})
	t.Run("bad environment", func(t *testing.T) {
		t.Setenv(config.EnvBatchSize, "0")
		m := New()
		m.load = func(context.Context, config.Config) (encoder, Meta, error) { panic("must not load") }
		err := m.Init(context.Background(), params)
		assert.ErrorContains(t, err, config.EnvBatchSize)
	})
	t.Run("panic in load", func(t *testing.T) {
		m := New()
		m.load = func(context.Context, config.Config) (encoder, Meta, error) { panic("corrupt graph") }
		assert.ErrorContains(t, m.Init(context.Background(), params), "corrupt graph")
	})
	t.Run("empty cache", func(t *testing.T) {
		t.Setenv(config.EnvModelDir, "")
		t.Setenv(config.EnvCacheDir, t.TempDir())
		err := New().Init(context.Background(), params)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no usable models")
		assert.Contains(t, err.Error(), "mclip models pull")
		assert.NotContains(t, err.Error(), "\n")
	})
	t.Run("incomplete model dir", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv(config.EnvModelDir, dir)
		err := New().Init(context.Background(), params)
		require.Error(t, err)
		assert.Contains(t, err.Error(), dir)
		assert.Contains(t, err.Error(), "text/onnx/model.onnx")
		assert.Contains(t, err.Error(), "mclip models pull")
		assert.NotContains(t, err.Error(), "\n")
	})
	t.Run("broken model", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, modelgen.Generate(modelgen.Options{Out: dir, Size: modelgen.Tiny, Seed: 1}))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "vision", "onnx", "vision_model.onnx"), []byte("not onnx"), 0o644))
		t.Setenv(config.EnvModelDir, dir)
		err := New().Init(context.Background(), params)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "load models from "+dir)
		assert.Contains(t, err.Error(), "mclip models pull")
		assert.NotContains(t, err.Error(), "\n")
	})
	t.Run("generated models load", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, modelgen.Generate(modelgen.Options{Out: dir, Size: modelgen.Tiny, Seed: 1}))
		t.Setenv(config.EnvModelDir, dir)
		m := New()
		require.NoError(t, m.Init(context.Background(), params))
		require.NoError(t, m.InitExtension(nil))
		defer m.Close()
		meta, err := m.MetaInfo()
		require.NoError(t, err)
		assert.Equal(t, 512, meta["dimensions"])
		vec, _, err := m.VectorizeObject(context.Background(), &models.Object{Properties: map[string]any{"title": "ein Hund"}},
			cfgOf(map[string]any{"textFields": []any{"title"}}))
		require.NoError(t, err)
		assert.Len(t, vec, 512)
	})
}

func TestMetaInfoAndClose(t *testing.T) {
	enc := &fakeEncoder{}
	m := newTestModule(t, enc)
	meta, err := m.MetaInfo()
	require.NoError(t, err)
	assert.Equal(t, Name, meta["name"])
	assert.Equal(t, dim, meta["dimensions"])
	assert.Equal(t, "1.27.0", meta["onnxruntime"])
	assert.Equal(t, version.Get().Version, meta["version"])
	assert.Equal(t, version.Get().Commit, meta["commit"])
	assert.NotEmpty(t, meta["version"])
	assert.Equal(t, map[string]any{"repo": "Xenova/clip-vit-base-patch32", "revision": "local",
		"file": "onnx/vision_model.onnx", "variant": "fp32"}, meta["visionModel"])
	assert.Equal(t, "sentence-transformers/clip-ViT-B-32-multilingual-v1", meta["textModel"].(map[string]any)["repo"])

	require.NoError(t, m.Close())
	require.NoError(t, m.Close())
	assert.Equal(t, 1, enc.closed)
}

// Start-up logs the fused layer norms, and warns, without failing, when the
// optimized-graph cache cannot be used.
func TestInitLogsOptimizedCache(t *testing.T) {
	dir := modeltest.Tiny(t, 2)
	t.Setenv(config.EnvModelDir, dir.Root)
	t.Setenv(config.EnvThreads, "1")
	blocked := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocked, nil, 0o644))
	t.Setenv(config.EnvOptimizedDir, blocked) // a file where the directory should be
	logger, hook := logrustest.NewNullLogger()
	m := New()
	require.NoError(t, m.Init(context.Background(), moduletools.NewInitParams(nil, nil, nil, logger, nil)))
	defer m.Close()
	var loaded, warned int
	for _, e := range hook.AllEntries() {
		switch {
		case e.Message == "models loaded":
			loaded++
			assert.Equal(t, 0, e.Data["text_fused_layer_norms"])
		case strings.HasPrefix(e.Message, "optimized-graph cache"):
			warned++
			assert.Equal(t, logrus.WarnLevel, e.Level)
			assert.Contains(t, e.Data["error"], blocked)
		}
	}
	assert.Equal(t, 1, loaded)
	assert.Equal(t, 2, warned, "one per tower")
}
