package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/classifications"
	wvgrpc "github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/testfixture/testimage"
	"github.com/mclip-go/mclip/vectorizer"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
)

const mclipModule = "multi2vec-mclip"

// phrases are the nearText queries: several languages and scripts.
var phrases = []string{
	"a dog swimming in the water", // English
	"der Hund schwimmt im Wasser", // German
	"le chat dort dans la maison", // French
	"el perro come en la casa",    // Spanish
	"собака плавает в воде",       // Russian, Cyrillic
	"ο σκύλος κολυμπά στο νερό",   // Greek
	"الكلب يسبح في الماء",         // Arabic
	"कुत्ता पानी में तैरता है",    // Hindi, Devanagari
	"狗在水里游泳",                      // Chinese
	"犬が水の中で泳いでいる",                 // Japanese
	"개가 물에서 수영한다",                 // Korean
	"הכלב שוחה במים",              // Hebrew
}

// mclipSuite drives one weaviate-mclip server on generated models and
// checks it against the vectorizer facade run in process on the same
// models.
type mclipSuite struct {
	w      *harness.Weaviate
	client *weaviate.Client
	vec    *vectorizer.Encoder
}

func TestWeaviateMclip(t *testing.T) {
	bin := harness.Binary(t, "weaviate-mclip", "run `make weaviate` first")
	dir := t.TempDir()
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: dir, Size: modelgen.Tiny, Seed: 1}))
	cfg := config.Default()
	cfg.ModelDir = dir
	cfg.Threads = 1
	vec, err := vectorizer.Load(cfg, modelstore.Dir{Root: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = vec.Close() })

	start := time.Now()
	w := harness.StartWeaviate(t, bin, map[string]string{
		"ENABLE_MODULES":   mclipModule,
		"MCLIP_MODEL_DIR":  dir,
		"MCLIP_THREADS":    "1",
		"MCLIP_MAX_PIXELS": "1000000",
	})
	t.Logf("weaviate-mclip ready in %s", time.Since(start).Round(time.Millisecond))
	client, err := weaviate.NewClient(weaviate.Config{
		Host: w.HTTPHost(), Scheme: "http",
		GrpcConfig: &wvgrpc.Config{Host: w.GRPCHost()},
		Timeout:    5 * time.Minute,
	})
	require.NoError(t, err)
	s := &mclipSuite{w: w, client: client, vec: vec}

	t.Run("meta", s.testMeta)
	t.Run("inserts and batch store the facade's vectors", s.testVectors)
	t.Run("search", s.testSearch)
	t.Run("named vectors", s.testNamedVectors)
	t.Run("auto-schema", s.testAutoSchema)
	t.Run("zero-shot classification", s.testZeroShot)
	t.Run("bad input", s.testBadInput)
	t.Run("still serving", func(t *testing.T) {
		assert.True(t, w.Running())
		resp, err := http.Get("http://" + w.HTTPHost() + "/v1/.well-known/ready")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

// TestWeaviateMclipWithoutModels: start-up fails with one line that says
// what to run.
func TestWeaviateMclipWithoutModels(t *testing.T) {
	bin := harness.Binary(t, "weaviate-mclip", "run `make weaviate` first")
	empty := t.TempDir()
	w := harness.NewWeaviate(t, bin, map[string]string{"ENABLE_MODULES": mclipModule, "MCLIP_MODEL_DIR": empty})
	w.Config.StartTimeout = time.Minute
	srv, err := harness.Launch(w.Config)
	require.NotNil(t, srv)
	defer srv.Stop()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited before it was ready")
	var line string
	for _, l := range strings.Split(srv.Logs(), "\n") {
		if strings.Contains(l, "mclip models pull") {
			line = l
		}
	}
	require.NotEmpty(t, line, "no log line says what to run:\n%s", srv.Logs())
	assert.Contains(t, line, mclipModule)
	assert.Contains(t, line, empty)
	assert.Contains(t, line, "text/onnx/model.onnx")
	t.Log(line)
}

func (s *mclipSuite) testMeta(t *testing.T) {
	meta, err := s.client.Misc().MetaGetter().Do(context.Background())
	require.NoError(t, err)
	mods, ok := meta.Modules.(map[string]any)
	require.True(t, ok, "modules: %T", meta.Modules)
	m, ok := mods[mclipModule].(map[string]any)
	require.True(t, ok, "no %s in /v1/meta modules: %v", mclipModule, mods)
	assert.EqualValues(t, 512, m["dimensions"])
	assert.NotEmpty(t, m["onnxruntime"])
	info := s.vec.Info()
	for key, want := range map[string]modelinfo.Tower{"textModel": info.Text, "visionModel": info.Vision} {
		got, ok := m[key].(map[string]any)
		require.True(t, ok, key)
		assert.Equal(t, want.Repo, got["repo"], key)
		assert.Equal(t, want.File, got["file"], key)
		assert.Equal(t, want.Variant, got["variant"], key)
		assert.Equal(t, want.Revision, got["revision"], key)
	}
}

// testVectors inserts single objects over REST and a batch of 1,000 over
// gRPC, and checks every stored vector against the facade.
func (s *mclipSuite) testVectors(t *testing.T) {
	ctx := context.Background()
	s.createClass(t, artworkClass("Artwork"))

	type want struct{ title, description, image string }
	singles := []want{
		{title: phrases[0], description: phrases[4], image: testimage.GradientPNGBase64(1, 64, 48)},
		{title: phrases[8], image: testimage.GradientPNGBase64(2, 32, 32)},
		{description: phrases[6]},
	}
	for _, w := range singles {
		props := map[string]any{}
		for k, v := range map[string]string{"title": w.title, "description": w.description, "image": w.image} {
			if v != "" {
				props[k] = v
			}
		}
		obj, err := s.client.Data().Creator().WithClassName("Artwork").WithProperties(props).Do(ctx)
		require.NoError(t, err)
		stored := s.storedVector(t, "Artwork", string(obj.Object.ID))
		s.assertVector(t, s.expected(t, []string{w.description, w.title}, []string{w.image}, nil), stored)
	}

	const n = 1000
	images := make([]string, 16)
	for i := range images {
		images[i] = testimage.GradientPNGBase64(100+i, 40+i, 30+2*i)
	}
	objs := make([]*models.Object, n)
	wants := map[string]want{}
	for i := range objs {
		w := want{
			title:       fmt.Sprintf("%s %d", phrases[i%len(phrases)], i),
			description: phrases[(i*7+3)%len(phrases)],
			image:       images[i%len(images)],
		}
		objs[i] = &models.Object{Class: "Artwork", Properties: map[string]any{
			"title": w.title, "description": w.description, "image": w.image,
		}}
		wants[w.title] = w
	}
	start := time.Now()
	resp, err := s.client.Batch().ObjectsBatcher().WithObjects(objs...).Do(ctx)
	require.NoError(t, err)
	t.Logf("batch of %d objects (each 2 texts and an image) took %s", n, time.Since(start).Round(time.Millisecond))
	require.Len(t, resp, n)
	for _, r := range resp {
		require.Nil(t, r.Result.Errors, "batch object error")
	}

	var got struct {
		Get map[string][]struct {
			Title      string `json:"title"`
			Additional struct {
				Vector []float32 `json:"vector"`
			} `json:"_additional"`
		}
	}
	s.graphQL(t, `{Get{Artwork(limit: 2000){title _additional{vector}}}}`, &got)
	titles, descs := []string{}, []string{}
	for _, w := range wants {
		titles = append(titles, w.title)
		descs = append(descs, w.description)
	}
	titleVecs := s.encodeTexts(t, titles)
	descVecs := s.encodeTexts(t, descs)
	imageVecs := s.encodeImages(t, images)
	imageIndex := map[string]int{}
	for i, im := range images {
		imageIndex[im] = i
	}
	checked := 0
	for _, o := range got.Get["Artwork"] {
		w, ok := wants[o.Title]
		if !ok {
			continue
		}
		i := indexOf(titles, w.title)
		expected := harness.Mean(descVecs[i], titleVecs[i], imageVecs[imageIndex[w.image]])
		s.assertVector(t, expected, o.Additional.Vector)
		checked++
	}
	assert.Equal(t, n, checked)
}

func (s *mclipSuite) testSearch(t *testing.T) {
	ctx := context.Background()
	s.createClass(t, &models.Class{
		Class:        "Phrase",
		Vectorizer:   mclipModule,
		ModuleConfig: map[string]any{mclipModule: map[string]any{"textFields": []any{"text"}}},
		Properties:   []*models.Property{{Name: "text", DataType: []string{"text"}}},
	})
	objs := make([]*models.Object, len(phrases))
	for i, p := range phrases {
		objs[i] = &models.Object{Class: "Phrase", Properties: map[string]any{"text": p}}
	}
	resp, err := s.client.Batch().ObjectsBatcher().WithObjects(objs...).Do(ctx)
	require.NoError(t, err)
	for _, r := range resp {
		require.Nil(t, r.Result.Errors)
	}
	phraseVecs := s.encodeTexts(t, phrases)

	type hit struct {
		Text       string `json:"text"`
		Additional struct {
			ID       string  `json:"id"`
			Distance float64 `json:"distance"`
		} `json:"_additional"`
	}
	type result struct{ Get map[string][]hit }

	t.Run("nearText in many languages and scripts", func(t *testing.T) {
		for _, p := range phrases {
			var r result
			s.graphQL(t, fmt.Sprintf(`{Get{Phrase(nearText:{concepts:[%q]}, limit: 3){text _additional{id distance}}}}`, p), &r)
			require.NotEmpty(t, r.Get["Phrase"], p)
			top := r.Get["Phrase"][0]
			assert.Equal(t, p, top.Text)
			assert.InDelta(t, 0, top.Additional.Distance, 1e-4, p)
		}
	})

	// The query vector after a move, as Weaviate's nearText computes it,
	// and the nearest phrase to it, computed here.
	nearest := func(q []float32) (string, float64) {
		best, bestD := "", math.Inf(1)
		for i, v := range phraseVecs {
			if d := cosineDistance(q, v); d < bestD {
				best, bestD = phrases[i], d
			}
		}
		return best, bestD
	}
	a, b := phraseVecs[0], phraseVecs[4]
	t.Run("moveTo", func(t *testing.T) {
		q := make([]float32, len(a))
		for i := range q {
			q[i] = a[i]*0.5 + b[i]*0.5 // force 1: halfway
		}
		wantText, wantD := nearest(q)
		var r result
		s.graphQL(t, fmt.Sprintf(`{Get{Phrase(nearText:{concepts:[%q], moveTo:{concepts:[%q], force: 1}}, limit: 1){text _additional{distance}}}}`,
			phrases[0], phrases[4]), &r)
		require.Len(t, r.Get["Phrase"], 1)
		assert.Equal(t, wantText, r.Get["Phrase"][0].Text)
		assert.InDelta(t, wantD, r.Get["Phrase"][0].Additional.Distance, 1e-3)
		assert.Greater(t, r.Get["Phrase"][0].Additional.Distance, 1e-3, "the move changed the query")
	})
	t.Run("moveAwayFrom", func(t *testing.T) {
		q := make([]float32, len(a))
		for i := range q {
			q[i] = a[i] + 0.5*0.5*(a[i]-b[i]) // force 0.5
		}
		wantText, wantD := nearest(q)
		var r result
		s.graphQL(t, fmt.Sprintf(`{Get{Phrase(nearText:{concepts:[%q], moveAwayFrom:{concepts:[%q], force: 0.5}}, limit: 1){text _additional{distance}}}}`,
			phrases[0], phrases[4]), &r)
		require.Len(t, r.Get["Phrase"], 1)
		assert.Equal(t, wantText, r.Get["Phrase"][0].Text)
		assert.InDelta(t, wantD, r.Get["Phrase"][0].Additional.Distance, 1e-3)
	})
	t.Run("bm25", func(t *testing.T) {
		var r result
		s.graphQL(t, `{Get{Phrase(bm25:{query:"Wasser"}){text}}}`, &r)
		require.Len(t, r.Get["Phrase"], 1)
		assert.Equal(t, phrases[1], r.Get["Phrase"][0].Text)
	})
	t.Run("hybrid", func(t *testing.T) {
		for _, alpha := range []float64{0.5, 1} {
			var r result
			s.graphQL(t, fmt.Sprintf(`{Get{Phrase(hybrid:{query:%q, alpha:%v}, limit: 3){text}}}`, phrases[2], alpha), &r)
			require.NotEmpty(t, r.Get["Phrase"])
			assert.Equal(t, phrases[2], r.Get["Phrase"][0].Text, "alpha %v", alpha)
		}
	})
	t.Run("aggregate with nearText", func(t *testing.T) {
		var r struct {
			Aggregate map[string][]struct {
				Meta struct {
					Count int `json:"count"`
				} `json:"meta"`
			}
		}
		s.graphQL(t, fmt.Sprintf(`{Aggregate{Phrase(nearText:{concepts:[%q]}, objectLimit: 5){meta{count}}}}`, phrases[9]), &r)
		require.Len(t, r.Aggregate["Phrase"], 1)
		assert.Equal(t, 5, r.Aggregate["Phrase"][0].Meta.Count)
	})
	t.Run("nearImage finds the inserted image first", func(t *testing.T) {
		img := testimage.GradientPNGBase64(7777, 50, 70)
		obj, err := s.client.Data().Creator().WithClassName("Artwork").
			WithProperties(map[string]any{"image": img}).Do(ctx)
		require.NoError(t, err)
		var r result
		s.graphQL(t, fmt.Sprintf(`{Get{Artwork(nearImage:{image:%q}, limit: 3){_additional{id distance}}}}`, img), &r)
		require.NotEmpty(t, r.Get["Artwork"])
		assert.Equal(t, string(obj.Object.ID), r.Get["Artwork"][0].Additional.ID)
		assert.InDelta(t, 0, r.Get["Artwork"][0].Additional.Distance, 1e-4)
	})
}

func (s *mclipSuite) testNamedVectors(t *testing.T) {
	ctx := context.Background()
	vc := func(settings map[string]any) models.VectorConfig {
		return models.VectorConfig{Vectorizer: map[string]any{mclipModule: settings}, VectorIndexType: "hnsw"}
	}
	s.createClass(t, &models.Class{
		Class: "Multi",
		Properties: []*models.Property{
			{Name: "image", DataType: []string{"blob"}},
			{Name: "title", DataType: []string{"text"}},
			{Name: "body", DataType: []string{"text"}},
			{Name: "note", DataType: []string{"text"}},
		},
		VectorConfig: map[string]models.VectorConfig{
			"image": vc(map[string]any{"imageFields": []any{"image"}}),
			"text":  vc(map[string]any{"textFields": []any{"title", "body"}}),
			"mixed": vc(map[string]any{
				"imageFields": []any{"image"}, "textFields": []any{"title"},
				"weights": map[string]any{"imageFields": []any{0.7}, "textFields": []any{0.3}},
			}),
		},
	})
	img := testimage.GradientPNGBase64(4242, 48, 48)
	title, body := phrases[5], phrases[10]
	iv := s.encodeImages(t, []string{img})[0]
	tv := s.encodeTexts(t, []string{title, body})
	weighted := make([]float32, len(iv))
	for i := range weighted {
		weighted[i] = (0.3*tv[0][i] + 0.7*iv[i]) / 2
	}
	tests := []struct {
		name  string
		props map[string]any
		want  map[string][]float32 // nil: no vector
	}{
		{
			name:  "all fields",
			props: map[string]any{"image": img, "title": title, "body": body},
			want:  map[string][]float32{"image": iv, "text": harness.Mean(tv[1], tv[0]), "mixed": weighted},
		},
		{
			name:  "texts only",
			props: map[string]any{"title": title, "body": body},
			want:  map[string][]float32{"image": nil, "text": harness.Mean(tv[1], tv[0]), "mixed": tv[0]},
		},
		{
			name:  "image only",
			props: map[string]any{"image": img},
			want:  map[string][]float32{"image": iv, "text": nil, "mixed": iv},
		},
		{
			name:  "none of the fields",
			props: map[string]any{"note": "nothing to vectorize"},
			want:  map[string][]float32{"image": nil, "text": nil, "mixed": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, err := s.client.Data().Creator().WithClassName("Multi").WithProperties(tt.props).Do(ctx)
			require.NoError(t, err)
			objs, err := s.client.Data().ObjectsGetter().WithClassName("Multi").WithID(string(obj.Object.ID)).WithVector().Do(ctx)
			require.NoError(t, err)
			require.Len(t, objs, 1)
			for name, want := range tt.want {
				got := toFloats(t, objs[0].Vectors[name])
				if want == nil {
					assert.Empty(t, got, "target vector %s", name)
					continue
				}
				s.assertVector(t, want, got)
			}
		})
	}
	t.Run("nearText on a target vector", func(t *testing.T) {
		var r struct {
			Get map[string][]struct {
				Title string `json:"title"`
			}
		}
		s.graphQL(t, fmt.Sprintf(`{Get{Multi(nearText:{concepts:[%q], targetVectors:["text"]}, limit: 1){title}}}`, title), &r)
		require.Len(t, r.Get["Multi"], 1)
		assert.Equal(t, title, r.Get["Multi"][0].Title)
	})
}

// testZeroShot labels images with the nearest label text.
func (s *mclipSuite) testZeroShot(t *testing.T) {
	ctx := context.Background()
	labels := []string{"a photo of a cat", "ein Foto von einem Hund", "une photo d'une maison", "一张水的照片"}
	s.createClass(t, &models.Class{
		Class:        "Label",
		Vectorizer:   mclipModule,
		ModuleConfig: map[string]any{mclipModule: map[string]any{"textFields": []any{"name"}}},
		Properties:   []*models.Property{{Name: "name", DataType: []string{"text"}}},
	})
	s.createClass(t, &models.Class{
		Class:        "Photo",
		Vectorizer:   mclipModule,
		ModuleConfig: map[string]any{mclipModule: map[string]any{"imageFields": []any{"image"}}},
		Properties: []*models.Property{
			{Name: "image", DataType: []string{"blob"}},
			// Weaviate wants a text basedOnProperty; zero-shot uses the
			// object's vector, here the image's alone.
			{Name: "caption", DataType: []string{"text"}},
			{Name: "label", DataType: []string{"Label"}},
		},
	})
	labelIDs := map[string]string{}
	for _, l := range labels {
		obj, err := s.client.Data().Creator().WithClassName("Label").WithProperties(map[string]any{"name": l}).Do(ctx)
		require.NoError(t, err)
		labelIDs[string(obj.Object.ID)] = l
	}
	images := make([]string, 8)
	photoIDs := make([]string, len(images))
	for i := range images {
		images[i] = testimage.GradientPNGBase64(500+i, 56, 40)
		obj, err := s.client.Data().Creator().WithClassName("Photo").
			WithProperties(map[string]any{"image": images[i], "caption": fmt.Sprintf("photo %d", i)}).Do(ctx)
		require.NoError(t, err)
		photoIDs[i] = string(obj.Object.ID)
	}
	labelVecs := s.encodeTexts(t, labels)
	imageVecs := s.encodeImages(t, images)

	c, err := s.client.Classifications().Scheduler().
		WithType(classifications.ZeroShot).
		WithClassName("Photo").
		WithClassifyProperties([]string{"label"}).
		WithBasedOnProperties([]string{"caption"}).
		WithWaitForCompletion().
		Do(ctx)
	require.NoError(t, err)
	require.Equal(t, "completed", c.Status, "classification: %+v", c)

	for i, id := range photoIDs {
		want, best := "", math.Inf(1)
		for j, lv := range labelVecs {
			if d := cosineDistance(imageVecs[i], lv); d < best {
				want, best = labels[j], d
			}
		}
		objs, err := s.client.Data().ObjectsGetter().WithClassName("Photo").WithID(id).Do(ctx)
		require.NoError(t, err)
		require.Len(t, objs, 1)
		refs, _ := objs[0].Properties.(map[string]any)["label"].([]any)
		require.Len(t, refs, 1, "photo %d has one label", i)
		beacon, _ := refs[0].(map[string]any)["beacon"].(string)
		assert.Equal(t, want, labelIDs[beacon[strings.LastIndex(beacon, "/")+1:]], "photo %d", i)
	}
}

// testBadInput sends a batch whose bad images fail alone, with clear
// errors, and a bad single insert.
func (s *mclipSuite) testBadInput(t *testing.T) {
	ctx := context.Background()
	good := testimage.GradientPNGBase64(9001, 40, 40)
	pngPrefix, _ := base64.StdEncoding.DecodeString(good)
	corrupt := base64.StdEncoding.EncodeToString(append(pngPrefix[:24:24], bytes.Repeat([]byte{0xde, 0xad}, 64)...))
	objs := []*models.Object{
		{Class: "Artwork", Properties: map[string]any{"title": "good one", "image": good}},
		{Class: "Artwork", Properties: map[string]any{"title": "invalid base64", "image": "this is not base64!"}},
		{Class: "Artwork", Properties: map[string]any{"title": "corrupt image", "image": corrupt}},
		{Class: "Artwork", Properties: map[string]any{"title": "too large", "image": testimage.GradientPNGBase64(9002, 1100, 1000)}},
		{Class: "Artwork", Properties: map[string]any{"title": "good two", "image": good}},
	}
	resp, err := s.client.Batch().ObjectsBatcher().WithObjects(objs...).Do(ctx)
	require.NoError(t, err)
	require.Len(t, resp, len(objs))
	errText := func(r models.ObjectsGetResponse) string {
		if r.Result == nil || r.Result.Errors == nil {
			return ""
		}
		var msgs []string
		for _, e := range r.Result.Errors.Error {
			msgs = append(msgs, e.Message)
		}
		return strings.Join(msgs, "; ")
	}
	byTitle := map[string]string{}
	for _, r := range resp {
		byTitle[r.Properties.(map[string]any)["title"].(string)] = errText(r)
	}
	assert.Empty(t, byTitle["good one"])
	assert.Empty(t, byTitle["good two"])
	assert.Contains(t, byTitle["invalid base64"], "base64")
	assert.Contains(t, byTitle["corrupt image"], `multi2vec-mclip: image property "image": decode png`)
	assert.Contains(t, byTitle["too large"], `multi2vec-mclip: image property "image": decode png: image too large`)
	for title, e := range byTitle {
		t.Logf("%s: %q", title, e)
	}

	var r struct {
		Get map[string][]struct {
			Title string `json:"title"`
		}
	}
	s.graphQL(t, `{Get{Artwork(bm25:{query:"good one two invalid corrupt large", properties:["title"]}, limit: 10){title}}}`, &r)
	var landed []string
	for _, h := range r.Get["Artwork"] {
		landed = append(landed, h.Title)
	}
	assert.ElementsMatch(t, []string{"good one", "good two"}, landed)

	_, err = s.client.Data().Creator().WithClassName("Artwork").
		WithProperties(map[string]any{"title": "single bad", "image": corrupt}).Do(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), mclipModule)
}

// helpers

func artworkClass(name string) *models.Class {
	return &models.Class{
		Class:      name,
		Vectorizer: mclipModule,
		ModuleConfig: map[string]any{mclipModule: map[string]any{
			"imageFields": []any{"image"}, "textFields": []any{"title", "description"},
		}},
		Properties: []*models.Property{
			{Name: "image", DataType: []string{"blob"}},
			{Name: "title", DataType: []string{"text"}},
			{Name: "description", DataType: []string{"text"}},
		},
	}
}

func (s *mclipSuite) createClass(t *testing.T, c *models.Class) {
	t.Helper()
	require.NoError(t, s.client.Schema().ClassCreator().WithClass(c).Do(context.Background()))
}

func (s *mclipSuite) graphQL(t *testing.T, query string, out any) {
	t.Helper()
	resp, err := s.client.GraphQL().Raw().WithQuery(query).Do(context.Background())
	require.NoError(t, err)
	for _, e := range resp.Errors {
		t.Fatalf("graphql %s: %s", query, e.Message)
	}
	b, err := json.Marshal(resp.Data)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, out))
}

func (s *mclipSuite) storedVector(t *testing.T, class, id string) []float32 {
	t.Helper()
	objs, err := s.client.Data().ObjectsGetter().WithClassName(class).WithID(id).WithVector().Do(context.Background())
	require.NoError(t, err)
	require.Len(t, objs, 1)
	return objs[0].Vector
}

func (s *mclipSuite) encodeTexts(t *testing.T, texts []string) [][]float32 {
	t.Helper()
	vecs, errs := s.vec.EncodeTexts(context.Background(), texts)
	for i, err := range errs {
		require.NoError(t, err, texts[i])
	}
	return vecs
}

func (s *mclipSuite) encodeImages(t *testing.T, images []string) [][]float32 {
	t.Helper()
	vecs, errs := s.vec.EncodeImagesBase64(context.Background(), images)
	for _, err := range errs {
		require.NoError(t, err)
	}
	return vecs
}

// expected is an object's vector computed here: the mean of its texts'
// and images' vectors (empty values are absent fields).
func (s *mclipSuite) expected(t *testing.T, texts, images []string, _ []float32) []float32 {
	t.Helper()
	var vecs [][]float32
	for _, x := range texts {
		if x != "" {
			vecs = append(vecs, s.encodeTexts(t, []string{x})[0])
		}
	}
	for _, x := range images {
		if x != "" {
			vecs = append(vecs, s.encodeImages(t, []string{x})[0])
		}
	}
	return harness.Mean(vecs...)
}

func (s *mclipSuite) assertVector(t *testing.T, want, got []float32) {
	t.Helper()
	require.Len(t, got, len(want))
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	for i := range want {
		if math.Abs(float64(want[i]-got[i])) > 1e-4*math.Max(1, scale) {
			t.Fatalf("vector differs at %d: want %v, got %v", i, want[i], got[i])
		}
	}
}

func cosineDistance(a, b []float32) float64 { return 1 - vectorizer.Cosine(a, b) }

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func toFloats(t *testing.T, v models.Vector) []float32 {
	t.Helper()
	switch x := v.(type) {
	case nil:
		return nil
	case []float32:
		return x
	case []any:
		out := make([]float32, len(x))
		for i, e := range x {
			switch n := e.(type) {
			case float64:
				out[i] = float32(n)
			case json.Number:
				f, err := n.Float64()
				require.NoError(t, err)
				out[i] = float32(f)
			default:
				t.Fatalf("vector element %T", e)
			}
		}
		return out
	default:
		t.Fatalf("vector of type %T", v)
		return nil
	}
}
