package integration_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/testfixture/testimage"
)

// TestReplaceMulti2VecClipPerModel proves the replace switch for a model
// other than the default: a collection that stock Weaviate's
// multi2vec-clip built through `mclip serve --model TAG` keeps its stored
// vectors when weaviate-mclip serves multi2vec-clip in-process with
// MCLIP_MODEL=TAG on the same data directory, and new objects get exactly
// their twins' vectors. The models are generated tiny ones in the tag's
// real layout. For facebook-metaclip-2-worldwide-b32-384, `mclip serve`
// stands in for the image with the image's argmax pooling (the switch's
// setting, MCLIP_REPLACE_MULTI2VEC_CLIP, selects it there too).
func TestReplaceMulti2VecClipPerModel(t *testing.T) {
	stockBin := harness.Binary(t, "weaviate-stock", "make weaviate-stock")
	mclipWeaviate := harness.Binary(t, "weaviate-mclip", "make weaviate")
	mclipBin := harness.Binary(t, "mclip", "make build")
	for _, tag := range []string{catalog.CLIPB32, catalog.OpenAIB16, catalog.MetaCLIP2B32} {
		t.Run(tag, func(t *testing.T) { replacePerModel(t, tag, stockBin, mclipWeaviate, mclipBin) })
	}
}

func replacePerModel(t *testing.T, tag, stockBin, mclipWeaviate, mclipBin string) {
	modelDir := t.TempDir()
	_, err := modelgen.Write(modelgen.Options{Model: tag, Out: modelDir, Seed: 11})
	require.NoError(t, err)

	port := harness.FreePort(t)
	mclipURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	harness.Start(t, harness.Config{
		Binary:   mclipBin,
		Args:     []string{"serve", "--model", tag, "--addr", fmt.Sprintf("127.0.0.1:%d", port)},
		Env:      map[string]string{"MCLIP_MODEL_DIR": modelDir, "MCLIP_THREADS": "1", "MCLIP_REPLACE_MULTI2VEC_CLIP": "true"},
		ReadyURL: mclipURL + "/.well-known/ready",
	})
	w := harness.NewWeaviate(t, stockBin, map[string]string{
		"ENABLE_MODULES":     "multi2vec-clip",
		"CLIP_INFERENCE_API": mclipURL,
	})
	api := "http://" + w.HTTPHost() + "/v1"
	switched := w.Config
	switched.Binary = mclipWeaviate
	switched.Env = maps.Clone(w.Config.Env)
	maps.Copy(switched.Env, map[string]string{
		"MCLIP_REPLACE_MULTI2VEC_CLIP": "true",
		"MCLIP_MODEL":                  tag,
		"MCLIP_MODEL_DIR":              modelDir,
		"MCLIP_THREADS":                "1",
	})

	const class = "Pic"
	texts := []string{"a dog in the snow", "Eine Katze auf dem Sofa", "雪の中の犬", "", "A  DOG in the SNOW"}
	object := func(i int, id string) map[string]any {
		return map[string]any{"class": class, "id": id, "properties": map[string]any{
			"title": texts[i%len(texts)], "image": testimage.GradientPNGBase64(30+i, 32, 24),
		}}
	}
	importObjects := func(t *testing.T, ids []string) {
		objs := make([]map[string]any, len(ids))
		for i, id := range ids {
			objs[i] = object(i, id)
		}
		status, body := call(t, "POST", api+"/batch/objects", map[string]any{"objects": objs})
		require.Equal(t, http.StatusOK, status, "%s", body)
		var res []harness.BatchResult
		require.NoError(t, json.Unmarshal(body, &res))
		for _, r := range res {
			require.Empty(t, r.Err(), "%s", body)
		}
	}
	vector := func(t *testing.T, id string) []float32 {
		status, body := call(t, "GET", api+"/objects/"+class+"/"+id+"?include=vector", nil)
		require.Equal(t, http.StatusOK, status, "%s", body)
		var o struct {
			Vector []float32 `json:"vector"`
		}
		require.NoError(t, json.Unmarshal(body, &o))
		return o.Vector
	}
	ids := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s-0000-4000-8000-%012d", prefix, i)
		}
		return out
	}
	stockIDs, newIDs := ids("00000000", 10), ids("11111111", 10)

	// The stack a user runs today: stock Weaviate with the tag's image
	// (here `mclip serve --model TAG`).
	srv := harness.Start(t, w.Config)
	status, body := call(t, "POST", api+"/schema", map[string]any{
		"class": class, "vectorizer": "multi2vec-clip",
		"moduleConfig": map[string]any{"multi2vec-clip": map[string]any{"textFields": []string{"title"}, "imageFields": []string{"image"}}},
		"properties": []map[string]any{
			{"name": "title", "dataType": []string{"text"}},
			{"name": "image", "dataType": []string{"blob"}},
		},
	})
	require.Equal(t, http.StatusOK, status, "%s", body)
	importObjects(t, stockIDs)
	before := map[string][]float32{}
	for _, id := range stockIDs {
		before[id] = vector(t, id)
		require.Len(t, before[id], 512)
	}
	srv.Stop()

	// weaviate-mclip with the switch and the same tag.
	srv = harness.Start(t, switched)
	defer srv.Stop()
	status, body = call(t, "GET", api+"/meta", nil)
	require.Equal(t, http.StatusOK, status)
	var meta struct {
		Modules map[string]map[string]any `json:"modules"`
	}
	require.NoError(t, json.Unmarshal(body, &meta))
	assert.Equal(t, tag, meta.Modules["multi2vec-clip"]["model"])
	for _, id := range stockIDs {
		assert.Equal(t, before[id], vector(t, id), "stored vector of %s", id)
	}
	importObjects(t, newIDs)
	for i := range newIDs {
		assert.Equal(t, before[stockIDs[i]], vector(t, newIDs[i]), "object %d: the in-process vector equals the one stock stored", i)
	}
}
