package integration_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/testfixture/testimage"
	"github.com/mclip-go/mclip/vectorizer"
)

// replaceSuite is one data directory served in turn by stock Weaviate +
// `mclip serve` and by weaviate-mclip with MCLIP_REPLACE_MULTI2VEC_CLIP.
type replaceSuite struct {
	stock, switched harness.Config
	mclipURL        string
	api             string
	images          []string
	tsDist          string // the compiled examples/typescript
}

// Collections of the test: Art has one weighted vector (weights listed
// out of sorted order, a text[] field, an image), Multi three named
// vectors.
const (
	artClass   = "Art"
	multiClass = "Multi"
)

var namedVectors = []string{"text_v", "image_v", "both_v"}

// TestReplaceMulti2VecClip proves MCLIP_REPLACE_MULTI2VEC_CLIP: collections built by stock
// Weaviate's multi2vec-clip (through `mclip serve`) keep their vectors and
// search results when weaviate-mclip serves multi2vec-clip in-process on
// the same data directory, new objects get their twins' vectors, and the
// data goes back to stock unharmed.
func TestReplaceMulti2VecClip(t *testing.T) {
	stockBin := harness.Binary(t, "weaviate-stock", "make weaviate-stock")
	mclipWeaviate := harness.Binary(t, "weaviate-mclip", "make weaviate")
	mclipBin := harness.Binary(t, "mclip", "make build")
	modelDir := t.TempDir()
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: modelDir, Size: modelgen.Tiny, Seed: 7}))

	port := harness.FreePort(t)
	s := &replaceSuite{mclipURL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	harness.Start(t, harness.Config{
		Binary:   mclipBin,
		Args:     []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port)},
		Env:      map[string]string{"MCLIP_MODEL_DIR": modelDir, "MCLIP_THREADS": "1"},
		ReadyURL: s.mclipURL + "/.well-known/ready",
	})
	// One set of ports and one data directory for every start: the Raft
	// state remembers the node's address.
	w := harness.NewWeaviate(t, stockBin, map[string]string{
		"ENABLE_MODULES":     "multi2vec-clip",
		"CLIP_INFERENCE_API": s.mclipURL,
	})
	s.api = "http://" + w.HTTPHost() + "/v1"
	s.stock = w.Config
	s.switched = w.Config
	s.switched.Binary = mclipWeaviate
	s.switched.Env = maps.Clone(w.Config.Env)
	maps.Copy(s.switched.Env, map[string]string{
		"MCLIP_REPLACE_MULTI2VEC_CLIP": "true",
		"MCLIP_MODEL_DIR":              modelDir,
		"MCLIP_THREADS":                "1",
	})
	s.tsDist = buildTypeScriptExamples(t, harness.RepoRoot(t))
	for i := range 12 {
		s.images = append(s.images, testimage.GradientPNGBase64(20+i, 32, 24))
	}

	// 1. The stack a user runs today.
	srv := harness.Start(t, s.stock)
	s.createClasses(t)
	objects := s.objects(200)
	for from := 0; from < len(objects); from += 50 {
		s.importAll(t, objects[from:from+50])
	}
	// What stock fails, one object at a time; checked again after the
	// switch.
	stockQuirks := s.quirks(t)
	before := s.snapshot(t)
	require.Len(t, before.vectors, len(objects)*(1+len(namedVectors)))
	queries := s.queries(t)
	srv.Stop()

	// 2.-4. weaviate-mclip with the switch, same data directory.
	requestsBefore := s.mclipRequests(t)
	srv = harness.Start(t, s.switched)
	t.Run("start-up and meta", func(t *testing.T) {
		logs := srv.Logs()
		assert.Contains(t, logs, "multi2vec-clip is served in-process by mclip")
		assert.Contains(t, logs, "CLIP_INFERENCE_API is ignored")
		require.Eventually(t, func() bool {
			return strings.Contains(srv.Logs(), "collection "+artClass+": the multi2vec-clip setting inferenceUrl")
		},
			30*time.Second, 200*time.Millisecond, "no note on Art's inferenceUrl")
		assert.Equal(t, 1, strings.Count(srv.Logs(), "collection "+artClass+": the multi2vec-clip setting inferenceUrl"))
		assert.NotContains(t, srv.Logs(), "collection "+multiClass+": ")
		status, body := call(t, "GET", s.api+"/meta", nil)
		require.Equal(t, http.StatusOK, status)
		var meta struct {
			Modules map[string]map[string]any `json:"modules"`
		}
		require.NoError(t, json.Unmarshal(body, &meta))
		clip := meta.Modules["multi2vec-clip"]
		assert.Equal(t, "multi2vec-clip", clip["name"])
		assert.Contains(t, clip["servedBy"], "mclip, in-process")
		assert.Contains(t, clip, "textModel")
		assert.Contains(t, clip, "visionModel")
	})
	t.Run("switched: vectors and searches unchanged", func(t *testing.T) {
		s.assertSame(t, before, s.snapshot(t))
		s.assertSameQueries(t, queries, s.queries(t))
	})
	t.Run("switched: twins get identical vectors", func(t *testing.T) {
		s.assertTwins(t, objects, 0, before)
		assert.Equal(t, stockQuirks, s.quirks(t), "objects that fail under stock fail under the switch, and only those")
	})
	t.Run("switched: the Go client creates and queries a multi2vec-clip collection", func(t *testing.T) {
		s.goClient(t, w)
	})
	t.Run("switched: the TypeScript client's multi2VecClip creates and queries a collection", func(t *testing.T) {
		s.tsClient(t, w)
	})
	assert.Equal(t, requestsBefore, s.mclipRequests(t), "the switched server sent nothing to mclip serve")
	afterSwitch := s.snapshot(t)
	queriesAfterSwitch := s.queries(t)
	srv.Stop()

	// 5. Back to stock + mclip serve.
	harness.Start(t, s.stock)
	t.Run("back to stock: consistent", func(t *testing.T) {
		s.assertSame(t, afterSwitch, s.snapshot(t))
		s.assertSameQueries(t, queriesAfterSwitch, s.queries(t))
		s.assertTwins(t, objects, 100, before)
	})
}

func (s *replaceSuite) createClasses(t *testing.T) {
	t.Helper()
	props := []map[string]any{
		{"name": "title", "dataType": []string{"text"}},
		{"name": "caption", "dataType": []string{"text"}},
		{"name": "tags", "dataType": []string{"text[]"}},
		{"name": "image", "dataType": []string{"blob"}},
		{"name": "n", "dataType": []string{"int"}},
	}
	clip := func(settings map[string]any) map[string]any { return map[string]any{"multi2vec-clip": settings} }
	for _, class := range []map[string]any{
		{
			"class": artClass, "vectorizer": "multi2vec-clip", "properties": props,
			"moduleConfig": clip(map[string]any{
				// not in sorted order: multi2vec-clip pairs 0.6 with tags,
				// a text[] whose every element is a value of its own
				"textFields":   []string{"title", "tags"},
				"imageFields":  []string{"image"},
				"weights":      map[string]any{"textFields": []float64{0.6, 0.1}, "imageFields": []float64{0.3}},
				"inferenceUrl": s.mclipURL,
			}),
		},
		{
			"class": multiClass, "properties": props,
			"vectorConfig": map[string]any{
				"text_v":  map[string]any{"vectorizer": clip(map[string]any{"textFields": []string{"title", "tags"}}), "vectorIndexType": "hnsw"},
				"image_v": map[string]any{"vectorizer": clip(map[string]any{"imageFields": []string{"image"}}), "vectorIndexType": "hnsw"},
				"both_v": map[string]any{"vectorizer": clip(map[string]any{
					"textFields": []string{"caption"}, "imageFields": []string{"image"},
					"weights": map[string]any{"textFields": []float64{0.25}, "imageFields": []float64{0.75}},
				}), "vectorIndexType": "hnsw"},
			},
		},
	} {
		status, body := call(t, "POST", s.api+"/schema", class)
		require.Equal(t, http.StatusOK, status, "create %s: %s", class["class"], body)
	}
}

var replaceTitles = []string{
	"a dog in the snow", "ein Hund im Schnee", "un chien dans la neige", "雪の中の犬",
	"a red bicycle", "una bicicleta roja", "красный велосипед", "赤い自転車",
}

// objects are n objects' properties: some miss fields, tags are text[] of
// 0-3 elements, every 37th has none of the vectorized fields.
func (s *replaceSuite) objects(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		p := map[string]any{"n": i}
		if i%37 == 36 {
			out[i] = p
			continue
		}
		if i%7 != 3 {
			p["title"] = fmt.Sprintf("%s %d", replaceTitles[i%len(replaceTitles)], i)
		}
		if i%5 != 1 {
			p["caption"] = fmt.Sprintf("%s, photo %d", replaceTitles[(i*3+1)%len(replaceTitles)], i%13)
		}
		if i%4 != 2 {
			tags := []string{"rot", "blue", "緑", "vert"}[:i%4]
			p["tags"] = tags
		}
		if i%3 != 2 {
			p["image"] = s.images[i%len(s.images)]
		}
		out[i] = p
	}
	return out
}

// importAll imports the objects into both collections in one batch and
// requires every one to land.
func (s *replaceSuite) importAll(t *testing.T, props []map[string]any) []string {
	t.Helper()
	var objs []map[string]any
	for _, class := range []string{artClass, multiClass} {
		for _, p := range props {
			objs = append(objs, map[string]any{"class": class, "properties": s.safe(class, p)})
		}
	}
	status, body := call(t, "POST", s.api+"/batch/objects", map[string]any{"objects": objs})
	require.Equal(t, http.StatusOK, status, "%s", body)
	var res []harness.BatchResult
	require.NoError(t, json.Unmarshal(body, &res))
	require.Len(t, res, len(objs))
	ids := make([]string, len(res))
	for i, r := range res {
		require.Empty(t, r.Err(), "object %d", i)
		ids[i] = r.ID
	}
	return ids
}

// safe keeps an object clear of what stock fails the whole batch on
// (quirks checks each alone): in Multi, a named vector none of whose
// fields the object has (an empty vector, which Weaviate refuses) gets a
// title and an image; in Art, tags are dropped where they would give more
// values than Art has weights.
func (s *replaceSuite) safe(class string, p map[string]any) map[string]any {
	if class == multiClass {
		out := maps.Clone(p)
		if _, ok := p["title"]; !ok {
			out["title"] = "titled later"
		}
		if _, ok := p["image"]; !ok {
			out["image"] = s.images[len(s.images)-1]
		}
		return out
	}
	n := 0
	for _, k := range []string{"title", "image"} {
		if _, ok := p[k]; ok {
			n++
		}
	}
	tags, _ := p["tags"].([]string)
	if n+len(tags) <= 3 {
		return p
	}
	out := maps.Clone(p)
	delete(out, "tags")
	return out
}

// quirks inserts, one by one, objects that stock's multi2vec-clip fails
// and reports for each whether it failed (deleting any that landed).
func (s *replaceSuite) quirks(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for name, obj := range map[string]map[string]any{
		// four values for Art's three weights: an index past the weights
		"more values than weights": {"class": artClass, "properties": map[string]any{
			"title": "t", "tags": []string{"x", "y"}, "image": s.images[0]}},
		// no image: image_v gets an empty vector
		"named vector without its fields": {"class": multiClass, "properties": map[string]any{"title": "t", "caption": "c"}},
		"none of the fields":              {"class": artClass, "properties": map[string]any{"n": -1}},
	} {
		status, body := call(t, "POST", s.api+"/objects", obj)
		out[name] = status != http.StatusOK
		if status == http.StatusOK {
			var o struct{ ID string }
			require.NoError(t, json.Unmarshal(body, &o))
			st, b := call(t, "DELETE", s.api+"/objects/"+obj["class"].(string)+"/"+o.ID, nil)
			require.Equal(t, http.StatusNoContent, st, "%s", b)
		}
		t.Logf("%s: status %d: %s", name, status, body)
	}
	return out
}

type snapshot struct {
	// vectors by "class/id/vector name" ("" for Art's single vector)
	vectors map[string][]float32
	// n is each object's "class/n", for finding twins
	byN map[string][]string
}

func (s *replaceSuite) snapshot(t *testing.T) snapshot {
	t.Helper()
	snap := snapshot{vectors: map[string][]float32{}, byN: map[string][]string{}}
	for _, class := range []string{artClass, multiClass} {
		status, body := call(t, "GET", s.api+"/objects?class="+class+"&include=vector&limit=1000", nil)
		require.Equal(t, http.StatusOK, status, "%s", body)
		var res struct {
			Objects []struct {
				ID         string                     `json:"id"`
				Vector     []float32                  `json:"vector"`
				Vectors    map[string]json.RawMessage `json:"vectors"`
				Properties map[string]any             `json:"properties"`
			} `json:"objects"`
		}
		require.NoError(t, json.Unmarshal(body, &res))
		for _, o := range res.Objects {
			key := fmt.Sprintf("%s/%v", class, o.Properties["n"])
			snap.byN[key] = append(snap.byN[key], o.ID)
			if class == artClass {
				snap.vectors[class+"/"+o.ID+"/"] = o.Vector
				continue
			}
			for _, name := range namedVectors {
				var v []float32
				if raw, ok := o.Vectors[name]; ok {
					require.NoError(t, json.Unmarshal(raw, &v))
				}
				snap.vectors[class+"/"+o.ID+"/"+name] = v
			}
		}
	}
	return snap
}

func (s *replaceSuite) assertSame(t *testing.T, want, got snapshot) {
	t.Helper()
	require.Equal(t, len(want.vectors), len(got.vectors))
	empty := 0
	for k, v := range want.vectors {
		require.Contains(t, got.vectors, k)
		assert.Equal(t, v, got.vectors[k], k)
		if len(v) == 0 {
			empty++
		}
	}
	assert.Positive(t, empty, "some objects have none of a vector's fields")
	assert.Less(t, empty, len(want.vectors)/2)
}

// assertTwins imports 50 objects equal to objects[from:from+50] and checks
// each vector against its twin's in snap.
func (s *replaceSuite) assertTwins(t *testing.T, objects []map[string]any, from int, snap snapshot) {
	t.Helper()
	twins := make([]map[string]any, 50)
	for i := range twins {
		twins[i] = maps.Clone(objects[from+i])
		twins[i]["n"] = 1000 + from + i
	}
	s.importAll(t, twins)
	now := s.snapshot(t)
	compared := 0
	for i := range twins {
		for _, class := range []string{artClass, multiClass} {
			orig := snap.byN[fmt.Sprintf("%s/%d", class, from+i)]
			twin := now.byN[fmt.Sprintf("%s/%d", class, 1000+from+i)]
			require.Len(t, orig, 1)
			require.Len(t, twin, 1)
			names := namedVectors
			if class == artClass {
				names = []string{""}
			}
			for _, name := range names {
				want := snap.vectors[class+"/"+orig[0]+"/"+name]
				got := now.vectors[class+"/"+twin[0]+"/"+name]
				require.Len(t, got, len(want), "%s %d %s", class, from+i, name)
				if len(want) == 0 {
					continue
				}
				assert.InDelta(t, 1, vectorizer.Cosine(want, got), 1e-6, "%s %d %s", class, from+i, name)
				assertClose(t, want, got, fmt.Sprintf("%s %d %s", class, from+i, name))
				compared++
			}
		}
	}
	assert.Greater(t, compared, 150)
}

// queries runs nearText in three languages and nearImage on both
// collections and returns their hits.
func (s *replaceSuite) queries(t *testing.T) map[string][]harness.Hit {
	t.Helper()
	out := map[string][]harness.Hit{}
	run := func(name, class, args string) {
		out[name] = harness.NearHits(t, s.api+"/graphql", class, args, 15)
		require.NotEmpty(t, out[name], name)
	}
	for _, text := range []string{"a dog in the snow", "ein rotes Fahrrad", "雪の中の犬"} {
		run("Art nearText "+text, artClass, fmt.Sprintf(`nearText:{concepts:[%q]}`, text))
		for _, v := range []string{"text_v", "both_v"} {
			run("Multi "+v+" nearText "+text, multiClass, fmt.Sprintf(`nearText:{concepts:[%q],targetVectors:[%q]}`, text, v))
		}
	}
	run("Art nearImage", artClass, fmt.Sprintf(`nearImage:{image:%q}`, s.images[3]))
	run("Multi image_v nearImage", multiClass, fmt.Sprintf(`nearImage:{image:%q,targetVectors:["image_v"]}`, s.images[5]))
	return out
}

// assertSameQueries: the same hits in the same order at the same
// distances; hits at equal distances (an object and its twin) may swap.
func (s *replaceSuite) assertSameQueries(t *testing.T, want, got map[string][]harness.Hit) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	for name, hits := range want {
		require.Len(t, got[name], len(hits), name)
		for i, h := range hits {
			g := got[name][i]
			assert.InDelta(t, h.Distance, g.Distance, 1e-5, "%s: hit %d", name, i)
			var tied []string
			for _, o := range hits {
				if math.Abs(o.Distance-h.Distance) <= 1e-6 {
					tied = append(tied, o.ID)
				}
			}
			assert.Contains(t, tied, g.ID, "%s: hit %d", name, i)
		}
	}
}

// mclipRequests is how many texts and images `mclip serve` was asked for.
func (s *replaceSuite) mclipRequests(t *testing.T) float64 {
	t.Helper()
	status, body := call(t, "GET", s.mclipURL+"/metrics", nil)
	require.Equal(t, http.StatusOK, status)
	return metricValue(t, body, `mclip_batch_requests_sum{modality="text"}`) +
		metricValue(t, body, `mclip_batch_requests_sum{modality="image"}`)
}

// goClient: the official Go client (which has no typed multi2vec-clip
// helper: the module's settings are the class's moduleConfig) creates a
// multi2vec-clip collection on the switched server, imports and searches.
func (s *replaceSuite) goClient(t *testing.T, w *harness.Weaviate) {
	ctx := context.Background()
	client, err := weaviate.NewClient(weaviate.Config{Host: w.HTTPHost(), Scheme: "http", Timeout: time.Minute})
	require.NoError(t, err)
	require.NoError(t, client.Schema().ClassCreator().WithClass(&models.Class{
		Class:      "ClientMade",
		Vectorizer: "multi2vec-clip",
		ModuleConfig: map[string]any{"multi2vec-clip": map[string]any{
			"textFields": []string{"title"}, "imageFields": []string{"image"},
		}},
		Properties: []*models.Property{
			{Name: "title", DataType: []string{"text"}},
			{Name: "image", DataType: []string{"blob"}},
		},
	}).Do(ctx))
	batch := client.Batch().ObjectsBatcher()
	for i, title := range replaceTitles {
		batch.WithObjects(&models.Object{Class: "ClientMade", Properties: map[string]any{"title": title, "image": s.images[i]}})
	}
	res, err := batch.Do(ctx)
	require.NoError(t, err)
	for _, r := range res {
		require.Nil(t, r.Result.Errors)
	}
	nearText := client.GraphQL().NearTextArgBuilder().WithConcepts([]string{replaceTitles[2]})
	got, err := client.GraphQL().Get().WithClassName("ClientMade").WithNearText(nearText).WithLimit(1).
		WithFields(graphql.Field{Name: "title"}, graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "distance"}}}).Do(ctx)
	require.NoError(t, err)
	require.Empty(t, got.Errors)
	hits := got.Data["Get"].(map[string]any)["ClientMade"].([]any)
	require.Len(t, hits, 1)
	assert.Contains(t, replaceTitles, hits[0].(map[string]any)["title"])
	nearImage := client.GraphQL().NearImageArgBuilder().WithImage(s.images[4])
	got, err = client.GraphQL().Get().WithClassName("ClientMade").WithNearImage(nearImage).WithLimit(1).
		WithFields(graphql.Field{Name: "title"}).Do(ctx)
	require.NoError(t, err)
	require.Empty(t, got.Errors)
	assert.Len(t, got.Data["Get"].(map[string]any)["ClientMade"].([]any), 1)
	require.NoError(t, client.Schema().ClassDeleter().WithClassName("ClientMade").Do(ctx))
}

// tsClient runs examples/typescript/src/multi2vecclip.ts (installed and
// compiled by buildTypeScriptExamples, as for TestExamples): the
// official TypeScript client (weaviate-client) creates a collection with its
// typed multi2vec-clip helper, inserts, queries and deletes it.
func (s *replaceSuite) tsClient(t *testing.T, w *harness.Weaviate) {
	args := []string{filepath.Join(s.tsDist, "multi2vecclip.js"), "--host", "127.0.0.1",
		"--port", fmt.Sprint(w.HTTPPort), "--grpc-port", fmt.Sprint(w.GRPCPort)}
	for _, title := range replaceTitles {
		args = append(args, "--title", title)
	}
	for i, img := range s.images[:4] {
		png, err := base64.StdEncoding.DecodeString(img)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), fmt.Sprintf("image%d.png", i))
		require.NoError(t, os.WriteFile(path, png, 0o644))
		args = append(args, "--image", path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	out, err := cmd.Output()
	var stderr []byte
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "%s%s", out, stderr)
	var res struct {
		Inserted   int    `json:"inserted"`
		Vectorizer string `json:"vectorizer"`
		NearText   []struct {
			Title    string  `json:"title"`
			Distance float64 `json:"distance"`
		} `json:"nearText"`
		NearImage []struct {
			Title    string  `json:"title"`
			Distance float64 `json:"distance"`
		} `json:"nearImage"`
	}
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	assert.Equal(t, len(replaceTitles), res.Inserted)
	assert.Equal(t, "multi2vec-clip", res.Vectorizer)
	require.Len(t, res.NearText, 3, "%s", out)
	require.Len(t, res.NearImage, 3, "%s", out)
	for i := 1; i < 3; i++ {
		assert.LessOrEqual(t, res.NearText[i-1].Distance, res.NearText[i].Distance)
		assert.LessOrEqual(t, res.NearImage[i-1].Distance, res.NearImage[i].Distance)
	}
	assert.Contains(t, replaceTitles, res.NearText[0].Title)
}
