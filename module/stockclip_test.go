package module

import (
	"context"
	"encoding/json"
	"testing"

	logrustest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/entities/moduletools"
	clipvectorizer "github.com/weaviate/weaviate/modules/multi2vec-clip/vectorizer"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/testfixture/fakeencoder"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
)

func newTestClipModule(t *testing.T, enc *fakeencoder.Encoder) *Module {
	t.Helper()
	m := NewClip()
	m.load = func(context.Context, config.Config) (encoder, modelinfo.Info, error) {
		return enc, modelinfo.Info{Dimensions: fakeencoder.Dim}, nil
	}
	logger, _ := logrustest.NewNullLogger()
	require.NoError(t, m.Init(context.Background(), moduletools.NewInitParams(nil, nil, nil, logger, nil)))
	require.NoError(t, m.InitExtension(nil))
	return m
}

// TestClipFlavorIsStock: under the name multi2vec-clip, each object gets
// exactly the vector Weaviate's multi2vec-clip vectorizer computes from the
// same model answers, quirks included, one object at a time and in a batch.
func TestClipFlavorIsStock(t *testing.T) {
	weights := func(text, image []any) map[string]any {
		w := map[string]any{}
		if text != nil {
			w["textFields"] = text
		}
		if image != nil {
			w["imageFields"] = image
		}
		return w
	}
	tests := []struct {
		name     string
		settings map[string]any
		props    map[string]any
	}{
		{"no weights", map[string]any{"imageFields": []any{"image"}, "textFields": []any{"title", "body"}},
			map[string]any{"image": "i", "title": "un chien", "body": "ein Hund"}},
		{"weights in unsorted config order pair by position",
			map[string]any{"textFields": []any{"title", "body"}, "imageFields": []any{"image"}, "weights": weights([]any{0.7, 0.1}, []any{0.2})},
			map[string]any{"title": "the title", "body": "the body", "image": "i"}},
		{"missing field shifts the weights",
			map[string]any{"textFields": []any{"a", "b"}, "imageFields": []any{"image"}, "weights": weights([]any{0.5, 0.3}, []any{0.2})},
			map[string]any{"b": "only b", "image": "i"}},
		{"text[] elements counted one by one without weights",
			map[string]any{"textFields": []any{"tags", "title"}},
			map[string]any{"tags": []string{"rot", "grün", "blau"}, "title": "Farben"}},
		{"text[] with fewer vectors than weights",
			map[string]any{"textFields": []any{"tags", "title"}, "imageFields": []any{"image"}, "weights": weights([]any{0.6, 0.2}, []any{0.2})},
			map[string]any{"tags": []string{"rot"}, "image": "i"}},
		{"property named in both lists is text and image",
			map[string]any{"textFields": []any{"x"}, "imageFields": []any{"x"}},
			map[string]any{"x": "both"}},
		{"[]any and numbers are skipped",
			map[string]any{"textFields": []any{"tags", "n", "title"}},
			map[string]any{"tags": []any{"not", "used"}, "n": 3.0, "title": "kept"}},
		{"empty strings are sent",
			map[string]any{"textFields": []any{"title", "body"}},
			map[string]any{"title": "", "body": "b"}},
		{"none of the fields: empty vector",
			map[string]any{"textFields": []any{"title"}, "weights": weights([]any{1}, nil)},
			map[string]any{"other": "x"}},
		{"images only with weights",
			map[string]any{"imageFields": []any{"b", "a"}, "weights": weights(nil, []any{3, 1})},
			map[string]any{"a": "ia", "b": "ib"}},
		{"json.Number weights", map[string]any{"textFields": []any{"t", "u"}, "weights": weights([]any{json.Number("2"), json.Number("6")}, nil)},
			map[string]any{"t": "t", "u": "u"}},
	}
	stock := clipvectorizer.New(clipClient{})
	m := newTestClipModule(t, &fakeencoder.Encoder{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := cfgOf(tt.settings)
			obj := &models.Object{Properties: tt.props}
			want, _, err := stock.Object(context.Background(), obj, cfg)
			require.NoError(t, err)
			got, _, err := m.VectorizeObject(context.Background(), obj, cfg)
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Equal(t, want, got)
			vecs, _, errs := m.VectorizeBatch(context.Background(), []*models.Object{obj, obj}, []bool{false, false}, cfg)
			require.Empty(t, errs)
			assert.Equal(t, [][]float32{want, want}, vecs)
		})
	}
}

// TestClipFlavorFailsWhereStockPanics: more values than weights makes
// multi2vec-clip index past its weights; the object fails here too, with
// an error that says why, and the rest of the batch lands.
func TestClipFlavorFailsWhereStockPanics(t *testing.T) {
	cfg := cfgOf(map[string]any{
		"textFields": []any{"tags"}, "imageFields": []any{"image"},
		"weights": map[string]any{"textFields": []any{0.5}, "imageFields": []any{0.5}},
	})
	bad := &models.Object{Properties: map[string]any{"tags": []string{"a", "b"}, "image": "i"}}
	good := &models.Object{Properties: map[string]any{"tags": []string{"a"}, "image": "i"}}
	assert.Panics(t, func() { _, _, _ = clipvectorizer.New(clipClient{}).Object(context.Background(), bad, cfg) })
	m := newTestClipModule(t, &fakeencoder.Encoder{})
	vecs, _, errs := m.VectorizeBatch(context.Background(), []*models.Object{bad, good}, []bool{false, false}, cfg)
	require.Len(t, errs, 1)
	assert.ErrorContains(t, errs[0], "multi2vec-clip: the object has 3 values to vectorize")
	assert.ErrorContains(t, errs[0], "but only 2 weights are configured")
	want, _, err := clipvectorizer.New(clipClient{}).Object(context.Background(), good, cfg)
	require.NoError(t, err)
	assert.Equal(t, want, vecs[1])
}

// TestClipFlavorSettings: validation and the vectorizable properties are
// multi2vec-clip's (no check against the class), and the module answers to
// its name.
func TestClipFlavorSettings(t *testing.T) {
	m := newTestClipModule(t, &fakeencoder.Encoder{})
	assert.Equal(t, "multi2vec-clip", m.Name())
	meta, err := m.MetaInfo()
	require.NoError(t, err)
	assert.Equal(t, "multi2vec-clip", meta["name"])
	assert.Contains(t, meta["servedBy"], "mclip, in-process")
	assert.Equal(t, fakeencoder.Dim, meta["dimensions"])
	tests := []struct {
		name     string
		settings map[string]any
		wantErr  bool
	}{
		{"fields not on the class are accepted", map[string]any{"textFields": []any{"nowhere"}}, false},
		{"inferenceUrl accepted", map[string]any{"imageFields": []any{"image"}, "inferenceUrl": "http://clip:8080"}, false},
		{"negative weights accepted", map[string]any{"textFields": []any{"a"}, "weights": map[string]any{"textFields": []any{-1}}}, false},
		{"no fields accepted, as upstream", map[string]any{}, false},
		{"weight count", map[string]any{"textFields": []any{"a", "b"}, "weights": map[string]any{"textFields": []any{1}}}, true},
	}
	class := &models.Class{Class: "C", Properties: []*models.Property{{Name: "image", DataType: []string{"blob"}}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := cfgOf(tt.settings)
			stockErr := clipvectorizer.NewClassSettings(cfg).Validate()
			err := m.ValidateClass(context.Background(), class, cfg)
			assert.Equal(t, tt.wantErr, err != nil, "%v", err)
			assert.Equal(t, stockErr != nil, err != nil)
		})
	}
	_, props, err := m.VectorizableProperties(cfgOf(map[string]any{"textFields": []any{"b", "a"}, "imageFields": []any{"i"}}))
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "a", "i"}, props)
}
