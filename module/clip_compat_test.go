package module

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weaviate/weaviate/entities/models"
	"github.com/weaviate/weaviate/modules/multi2vec-clip/ent"
	clipvectorizer "github.com/weaviate/weaviate/modules/multi2vec-clip/vectorizer"

	"github.com/mclip-go/mclip/testfixture/fakeencoder"
)

// clipClient answers multi2vec-clip's vectorizer with the fake encoder's
// vectors.
type clipClient struct{}

func (clipClient) Vectorize(_ context.Context, texts, images []string, _ ent.VectorizationConfig) (*ent.VectorizationResult, error) {
	res := &ent.VectorizationResult{}
	for _, t := range texts {
		res.TextVectors = append(res.TextVectors, fakeencoder.Vector("text", t))
	}
	for _, i := range images {
		res.ImageVectors = append(res.ImageVectors, fakeencoder.Vector("image", i))
	}
	return res, nil
}

// TestSameVectorsAsMulti2VecClip: a collection that switches from
// multi2vec-clip (same settings, same model answers) gets the same vectors,
// wherever multi2vec-clip pairs its weights with the right fields.
func TestSameVectorsAsMulti2VecClip(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]any
		props    map[string]any
	}{
		{
			name:     "no weights",
			settings: map[string]any{"imageFields": []any{"image"}, "textFields": []any{"title", "body"}},
			props:    map[string]any{"image": "i", "title": "un chien", "body": "ein Hund"},
		},
		{
			name: "weights listed in sorted order",
			settings: map[string]any{
				"imageFields": []any{"a_image", "b_image"}, "textFields": []any{"body", "title"},
				"weights": map[string]any{"imageFields": []any{0.1, 0.4}, "textFields": []any{0.3, 0.2}},
			},
			props: map[string]any{"a_image": "i1", "b_image": "i2", "title": "犬", "body": "собака"},
		},
		{
			name:     "text array",
			settings: map[string]any{"textFields": []any{"tags"}},
			props:    map[string]any{"tags": []string{"rot", "grün", "blau"}},
		},
		{
			name:     "images only",
			settings: map[string]any{"imageFields": []any{"image"}},
			props:    map[string]any{"image": "i"},
		},
	}
	clip := clipvectorizer.New(clipClient{})
	m := newTestModule(t, &fakeencoder.Encoder{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := cfgOf(tt.settings)
			obj := &models.Object{Properties: tt.props}
			want, _, err := clip.Object(context.Background(), obj, cfg)
			require.NoError(t, err)
			got, _, err := m.VectorizeObject(context.Background(), obj, cfg)
			require.NoError(t, err)
			assert.InDeltaSlice(t, want, got, 1e-6)
		})
	}
}

// TestWeightsFollowTheirField: where the config does not list fields in
// sorted order, multi2vec-clip pairs the weights with the wrong vectors;
// multi2vec-mclip does not.
func TestWeightsFollowTheirField(t *testing.T) {
	cfg := cfgOf(map[string]any{
		"textFields": []any{"title", "body"},
		"weights":    map[string]any{"textFields": []any{0.9, 0.1}},
	})
	obj := &models.Object{Properties: map[string]any{"title": "the title", "body": "the body"}}
	clipVec, _, err := clipvectorizer.New(clipClient{}).Object(context.Background(), obj, cfg)
	require.NoError(t, err)
	got, _, err := newTestModule(t, &fakeencoder.Encoder{}).VectorizeObject(context.Background(), obj, cfg)
	require.NoError(t, err)
	want := clipCombine([][]float32{fakeencoder.Vector("text", "the body"), fakeencoder.Vector("text", "the title")}, []float32{0.1, 0.9})
	assert.InDeltaSlice(t, want, got, 1e-6)
	assert.NotEqual(t, clipVec, got)
}
