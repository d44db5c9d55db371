package integration

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/testfixture/testimage"
)

// testAutoSchema: collections created before their properties, as
// multi2vec-clip allows, and the properties auto-schema then creates.
func (s *mclipSuite) testAutoSchema(t *testing.T) {
	ctx := context.Background()
	noProps := func(name string, settings map[string]any) *models.Class {
		return &models.Class{Class: name, Vectorizer: mclipModule, ModuleConfig: map[string]any{mclipModule: settings}}
	}
	dataType := func(t *testing.T, class, prop string) []string {
		t.Helper()
		c, err := s.client.Schema().ClassGetter().WithClassName(class).Do(ctx)
		require.NoError(t, err)
		for _, p := range c.Properties {
			if p.Name == prop {
				return p.DataType
			}
		}
		t.Fatalf("class %s has no property %q after the insert", class, prop)
		return nil
	}
	top := func(t *testing.T, class, near string) harness.Hit {
		t.Helper()
		hits := harness.NearHits(t, "http://"+s.w.HTTPHost()+"/v1/graphql", class, near, 3)
		require.NotEmpty(t, hits)
		return hits[0]
	}

	t.Run("text field created by the first insert", func(t *testing.T) {
		s.createClass(t, noProps("AutoText", map[string]any{"textFields": []any{"title", "tags"}}))
		title := phrases[1]
		obj, err := s.client.Data().Creator().WithClassName("AutoText").
			WithProperties(map[string]any{"title": title}).Do(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"text"}, dataType(t, "AutoText", "title"))
		stored := s.storedVector(t, "AutoText", string(obj.Object.ID))
		require.Len(t, stored, 512)
		s.assertVector(t, s.encodeTexts(t, []string{title})[0], stored)

		h := top(t, "AutoText", fmt.Sprintf(`nearText:{concepts:[%q]}`, title))
		assert.Equal(t, string(obj.Object.ID), h.ID)
		assert.InDelta(t, 0, h.Distance, 1e-4)

		// a batch creates the second field, as text[]
		tags := []string{phrases[5], phrases[10]}
		const id = "9a4d2c1e-6f3b-4c5a-8d7e-0b1f2a3c4d5e"
		resp, err := s.client.Batch().ObjectsBatcher().WithObjects(&models.Object{
			Class: "AutoText", ID: id, Properties: map[string]any{"tags": tags},
		}).Do(ctx)
		require.NoError(t, err)
		require.Len(t, resp, 1)
		require.Nil(t, resp[0].Result.Errors)
		assert.Equal(t, []string{"text[]"}, dataType(t, "AutoText", "tags"))
		s.assertVector(t, harness.Mean(s.encodeTexts(t, tags)...), s.storedVector(t, "AutoText", id))
	})

	t.Run("image field created by the first insert", func(t *testing.T) {
		s.createClass(t, noProps("AutoImage", map[string]any{"imageFields": []any{"image"}, "textFields": []any{"caption"}}))
		img := testimage.GradientPNGBase64(4242, 48, 40)
		obj, err := s.client.Data().Creator().WithClassName("AutoImage").
			WithProperties(map[string]any{"image": img}).Do(ctx)
		require.NoError(t, err)
		// auto-schema knows no modules: a base64 string becomes text, as
		// with stock multi2vec-clip; it is vectorized as an image
		assert.Equal(t, []string{"text"}, dataType(t, "AutoImage", "image"))
		stored := s.storedVector(t, "AutoImage", string(obj.Object.ID))
		require.Len(t, stored, 512)
		s.assertVector(t, s.encodeImages(t, []string{img})[0], stored)

		h := top(t, "AutoImage", fmt.Sprintf(`nearImage:{image:%q}`, img))
		assert.Equal(t, string(obj.Object.ID), h.ID)
		assert.InDelta(t, 0, h.Distance, 1e-4)

		// both fields on one object: the mean, texts first
		caption := phrases[3]
		obj, err = s.client.Data().Creator().WithClassName("AutoImage").
			WithProperties(map[string]any{"image": img, "caption": caption}).Do(ctx)
		require.NoError(t, err)
		s.assertVector(t, s.expected(t, []string{caption}, []string{img}, nil), s.storedVector(t, "AutoImage", string(obj.Object.ID)))
	})

	t.Run("a field that exists must have its kind's type", func(t *testing.T) {
		c := noProps("AutoTyped", map[string]any{"textFields": []any{"year"}})
		c.Properties = []*models.Property{{Name: "year", DataType: []string{"int"}}}
		err := s.client.Schema().ClassCreator().WithClass(c).Do(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `multi2vec-mclip: textFields: property \"year\" has data type [int], want text or text[]`)
	})

	t.Run("a field added later with another type fails its objects", func(t *testing.T) {
		s.createClass(t, noProps("AutoLater", map[string]any{"textFields": []any{"title", "year"}}))
		// Weaviate asks no module when a property is added
		require.NoError(t, s.client.Schema().PropertyCreator().WithClassName("AutoLater").
			WithProperty(&models.Property{Name: "year", DataType: []string{"int"}}).Do(ctx))
		_, err := s.client.Data().Creator().WithClassName("AutoLater").
			WithProperties(map[string]any{"title": phrases[2], "year": 1999}).Do(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `textFields: property \"year\" has data type int, want text or text[]`)

		obj, err := s.client.Data().Creator().WithClassName("AutoLater").
			WithProperties(map[string]any{"title": phrases[2]}).Do(ctx)
		require.NoError(t, err, "an object without the mistyped field is vectorized")
		s.assertVector(t, s.encodeTexts(t, []string{phrases[2]})[0], s.storedVector(t, "AutoLater", string(obj.Object.ID)))
	})
}
