package integration_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/testfixture/testimage"
	"github.com/mclip-go/mclip/vectorizer"
)

// TestStockWeaviateUsesMclipServe runs unpatched Weaviate with its
// multi2vec-clip module pointed at `mclip serve` (CLIP_INFERENCE_API, with
// the API token as the URL's basic-auth password) and checks that imports,
// nearText and nearImage go through our encoders, that a bad image's error
// reaches Weaviate's user, and that Weaviate's concurrent per-object
// requests were batched together.
//
// It needs bin/weaviate-stock and bin/mclip (skipped without them, unless
// CI=true). Models: MCLIP_TEST_MODEL_DIR (for example the real ones), else
// tiny random ones written by `mclip models gen`.
func TestStockWeaviateUsesMclipServe(t *testing.T) {
	weaviateBin := harness.Binary(t, "weaviate-stock",
		"go build -o bin/weaviate-stock github.com/weaviate/weaviate/cmd/weaviate-server (from a module requiring github.com/weaviate/weaviate v1.35.2)")
	mclipBin := harness.Binary(t, "mclip", "make build")

	const token = "itest-token"
	mclipURL, api, modelDir := startStack(t, mclipBin, weaviateBin, token)

	// The token guards /vectorize: without it mclip refuses.
	status, body := call(t, "POST", mclipURL+"/vectorize", map[string]any{"texts": []string{"x"}})
	require.Equal(t, http.StatusUnauthorized, status, "%s", body)

	// Meta reaches Weaviate in the container's shape.
	status, body = call(t, "GET", api+"/meta", nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var meta struct {
		Modules map[string]map[string]any `json:"modules"`
	}
	require.NoError(t, json.Unmarshal(body, &meta))
	require.Contains(t, meta.Modules, "multi2vec-clip")
	assert.Contains(t, meta.Modules["multi2vec-clip"], "clip_model")
	assert.Contains(t, meta.Modules["multi2vec-clip"], "text_model")

	for _, class := range []map[string]any{
		{
			"class": "Caption", "vectorizer": "multi2vec-clip",
			"moduleConfig": map[string]any{"multi2vec-clip": map[string]any{"textFields": []string{"title"}}},
			"properties":   []map[string]any{{"name": "title", "dataType": []string{"text"}}},
		},
		{
			"class": "Picture", "vectorizer": "multi2vec-clip",
			"moduleConfig": map[string]any{"multi2vec-clip": map[string]any{"imageFields": []string{"image"}}},
			"properties":   []map[string]any{{"name": "image", "dataType": []string{"blob"}}},
		},
	} {
		status, body = call(t, "POST", api+"/schema", class)
		require.Equal(t, http.StatusOK, status, "create class: %s", body)
	}

	// Batch import: Weaviate sends one /vectorize request per object, up to
	// 2*NumCPU at once.
	titles := []string{"ein Hund im Schnee", "a red bicycle", "un chat sur le toit", "蓝色的海", "молоко и хлеб", "la casa amarilla"}
	var objects []map[string]any
	for i := range 60 {
		objects = append(objects, map[string]any{"class": "Caption", "properties": map[string]any{"title": fmt.Sprintf("%s %d", titles[i%len(titles)], i)}})
	}
	images := make([]string, 8)
	for i := range images {
		images[i] = testimage.GradientPNGBase64(i, 32, 24)
		objects = append(objects, map[string]any{"class": "Picture", "properties": map[string]any{"image": images[i]}})
	}
	start := time.Now()
	status, body = call(t, "POST", api+"/batch/objects", map[string]any{"objects": objects})
	require.Equal(t, http.StatusOK, status, "%s", body)
	var results []struct {
		ID     string `json:"id"`
		Class  string `json:"class"`
		Result struct {
			Errors *struct {
				Error []struct{ Message string } `json:"error"`
			} `json:"errors"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal(body, &results))
	require.Len(t, results, len(objects))
	for _, r := range results {
		require.Nil(t, r.Result.Errors, "object %s: %+v", r.ID, r.Result.Errors)
	}
	t.Logf("imported %d objects through stock Weaviate in %v", len(objects), time.Since(start))

	// Stored vectors are exactly mclip's, and exactly what the native
	// module computes for the same objects (it calls the same vectorizer
	// in-process).
	direct := vectorizeDirect(t, mclipURL, token, []string{"ein Hund im Schnee 0"}, []string{images[3]})
	assertClose(t, direct.TextVectors[0], objectVector(t, api, "Caption", results[0].ID), "text object vector")
	assertClose(t, direct.ImageVectors[0], objectVector(t, api, "Picture", results[60+3].ID), "image object vector")
	native := nativeVectorizer(t, modelDir)
	var texts []string
	for _, o := range objects[:60] {
		texts = append(texts, o["properties"].(map[string]any)["title"].(string))
	}
	textVecs, errs := native.EncodeTexts(context.Background(), texts)
	for i := range texts {
		require.NoError(t, errs[i])
		assertClose(t, textVecs[i], objectVector(t, api, "Caption", results[i].ID), "native vs stock: "+texts[i])
	}
	imageVecs, errs := native.EncodeImagesBase64(context.Background(), images)
	for i := range images {
		require.NoError(t, errs[i])
		assertClose(t, imageVecs[i], objectVector(t, api, "Picture", results[60+i].ID), fmt.Sprintf("native vs stock: image %d", i))
	}

	// nearText (multilingual) and nearImage find the object of the same
	// text or image at distance ~0.
	gql := func(query string) map[string]any {
		status, body := call(t, "POST", api+"/graphql", map[string]any{"query": query})
		require.Equal(t, http.StatusOK, status, "%s", body)
		var res struct {
			Data   map[string]map[string][]map[string]any `json:"data"`
			Errors []map[string]any                       `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(body, &res), "%s", body)
		require.Empty(t, res.Errors, "%s", body)
		hits := res.Data["Get"]
		for _, v := range hits {
			require.NotEmpty(t, v, "%s", body)
			return v[0]
		}
		t.Fatalf("no results: %s", body)
		return nil
	}
	for i, title := range titles {
		want := fmt.Sprintf("%s %d", title, i+6)
		hit := gql(fmt.Sprintf(`{Get{Caption(nearText:{concepts:[%q]},limit:1){title _additional{distance}}}}`, want))
		assert.Equal(t, want, hit["title"])
		assert.Less(t, distance(t, hit), 1e-4)
	}
	// hybrid: bm25 and the vector agree on the exact title
	hit := gql(`{Get{Caption(hybrid:{query:"молоко и хлеб 4",alpha:0.5},limit:1){title}}}`)
	assert.Equal(t, "молоко и хлеб 4", hit["title"])
	hit = gql(fmt.Sprintf(`{Get{Picture(nearImage:{image:%q},limit:1){_additional{id distance}}}}`, images[5]))
	assert.Equal(t, results[60+5].ID, hit["_additional"].(map[string]any)["id"])
	assert.Less(t, distance(t, hit), 1e-4)

	// A bad image: mclip's error reaches Weaviate's user.
	status, body = call(t, "POST", api+"/objects", map[string]any{
		"class": "Picture", "properties": map[string]any{"image": base64.StdEncoding.EncodeToString([]byte("not an image at all"))},
	})
	assert.GreaterOrEqual(t, status, 400)
	assert.Contains(t, string(body), "images[0]: decode image: unsupported image format")

	// A corrupt image inside a batch fails alone; the others land.
	status, body = call(t, "POST", api+"/batch/objects", map[string]any{"objects": []map[string]any{
		{"class": "Picture", "properties": map[string]any{"image": testimage.GradientPNGBase64(50, 32, 24)}},
		{"class": "Picture", "properties": map[string]any{"image": base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n truncated"))}},
		{"class": "Caption", "properties": map[string]any{"title": "after the bad one"}},
	}})
	require.Equal(t, http.StatusOK, status, "%s", body)
	var mixed []struct {
		ID     string `json:"id"`
		Result struct {
			Errors *struct {
				Error []struct{ Message string } `json:"error"`
			} `json:"errors"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal(body, &mixed))
	require.Len(t, mixed, 3)
	assert.Nil(t, mixed[0].Result.Errors)
	require.NotNil(t, mixed[1].Result.Errors, "%s", body)
	assert.Contains(t, mixed[1].Result.Errors.Error[0].Message, "png")
	assert.Nil(t, mixed[2].Result.Errors)
	assert.Len(t, objectVector(t, api, "Caption", mixed[2].ID), 512)

	// Auto-schema, the reference for multi2vec-mclip's (autoschema_test.go):
	// stock multi2vec-clip takes a collection whose fields do not exist
	// yet; the first insert creates them, the image as a text property,
	// and the object gets its vector.
	status, body = call(t, "POST", api+"/schema", map[string]any{
		"class": "AutoPicture", "vectorizer": "multi2vec-clip",
		"moduleConfig": map[string]any{"multi2vec-clip": map[string]any{
			"imageFields": []string{"image"}, "textFields": []string{"title"},
		}},
	})
	require.Equal(t, http.StatusOK, status, "create a class before its properties: %s", body)
	status, body = call(t, "POST", api+"/objects", map[string]any{
		"class": "AutoPicture", "properties": map[string]any{"image": images[2], "title": titles[1]},
	})
	require.Equal(t, http.StatusOK, status, "%s", body)
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &created))
	status, body = call(t, "GET", api+"/schema/AutoPicture", nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var autoClass struct {
		Properties []struct {
			Name     string   `json:"name"`
			DataType []string `json:"dataType"`
		} `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(body, &autoClass))
	types := map[string][]string{}
	for _, p := range autoClass.Properties {
		types[p.Name] = p.DataType
	}
	assert.Equal(t, map[string][]string{"image": {"text"}, "title": {"text"}}, types)
	auto := vectorizeDirect(t, mclipURL, token, []string{titles[1]}, []string{images[2]})
	wantAuto := make([]float32, len(auto.TextVectors[0]))
	for i := range wantAuto {
		wantAuto[i] = (auto.TextVectors[0][i] + auto.ImageVectors[0][i]) / 2
	}
	assertClose(t, wantAuto, objectVector(t, api, "AutoPicture", created.ID), "auto-schema object vector")

	// Weaviate's concurrent single-object requests shared model calls.
	status, body = call(t, "GET", mclipURL+"/metrics", nil)
	require.Equal(t, http.StatusOK, status)
	calls := metricValue(t, body, `mclip_batch_requests_count{modality="text"}`)
	requests := metricValue(t, body, `mclip_batch_requests_sum{modality="text"}`)
	t.Logf("text: %v requests in %v model calls", requests, calls)
	assert.GreaterOrEqual(t, requests, float64(60))
	assert.Less(t, calls, requests, "cross-request batching")
}

// startStack starts `mclip serve` (with serveArgs) and stock Weaviate using
// it, and returns mclip's URL and Weaviate's /v1 URL.
func startStack(t *testing.T, mclipBin, weaviateBin, token string, serveArgs ...string) (mclipURL, api, modelDir string) {
	t.Helper()
	st := launchStack(t, mclipBin, weaviateBin, token, serveArgs...)
	return st.mclipURL, st.api, st.modelDir
}

// stack is `mclip serve` and the stock Weaviate using it.
type stack struct {
	mclip                   *harness.Server
	mclipURL, api, modelDir string
}

// launchStack is startStack, with mclip's process.
func launchStack(t *testing.T, mclipBin, weaviateBin, token string, serveArgs ...string) stack {
	t.Helper()
	modelDir := os.Getenv("MCLIP_TEST_MODEL_DIR")
	if modelDir == "" {
		modelDir = t.TempDir()
		out, err := exec.Command(mclipBin, "models", "gen", "--out", modelDir).CombinedOutput()
		require.NoError(t, err, "mclip models gen: %s", out)
	}
	port := harness.FreePort(t)
	mclipURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := map[string]string{"MCLIP_API_TOKEN": token, "MCLIP_MODEL_DIR": modelDir}
	if lib := filepath.Join(harness.RepoRoot(t), "third_party", "onnxruntime", "libonnxruntime.so.1"); fileExists(lib) {
		env["ONNXRUNTIME_LIB"] = lib
	}
	srv := harness.Start(t, harness.Config{
		Binary:   mclipBin,
		Args:     append([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port)}, serveArgs...),
		Env:      env,
		ReadyURL: mclipURL + "/.well-known/ready",
	})
	w := harness.StartWeaviate(t, weaviateBin, map[string]string{
		"ENABLE_MODULES":     "multi2vec-clip",
		"CLIP_INFERENCE_API": fmt.Sprintf("http://mclip:%s@127.0.0.1:%d", token, port),
	})
	return stack{mclip: srv, mclipURL: mclipURL, api: "http://" + w.HTTPHost() + "/v1", modelDir: modelDir}
}

// nativeVectorizer loads, in-process, the vectorizer the native module
// multi2vec-mclip runs, on the same models.
func nativeVectorizer(t *testing.T, modelDir string) *vectorizer.Encoder {
	t.Helper()
	cfg := config.Default()
	cfg.Threads = 1
	v, err := vectorizer.Load(cfg, modelstore.Dir{Root: modelDir})
	require.NoError(t, err)
	t.Cleanup(func() { v.Close() })
	return v
}

// TestStockWeaviateImportThroughput imports MCLIP_TEST_IMPORT_OBJECTS text
// objects (skipped when unset) through stock Weaviate, with mclip's
// cross-request batching and without it (each of Weaviate's per-object
// requests its own model call, as with the Python container), and logs
// objects per second and model calls. Use MCLIP_TEST_MODEL_DIR for real (or
// `mclip models gen --size full`) models.
func TestStockWeaviateImportThroughput(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("MCLIP_TEST_IMPORT_OBJECTS"))
	if err != nil || n <= 0 {
		t.Skip("set MCLIP_TEST_IMPORT_OBJECTS to run the import load test")
	}
	weaviateBin := harness.Binary(t, "weaviate-stock",
		"go build -o bin/weaviate-stock github.com/weaviate/weaviate/cmd/weaviate-server (from a module requiring github.com/weaviate/weaviate v1.35.2)")
	mclipBin := harness.Binary(t, "mclip", "make build")
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"cross-request batching", nil},
		{"per request", []string{"--no-cross-request-batching"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			mclipURL, api, _ := startStack(t, mclipBin, weaviateBin, "tok", mode.args...)
			status, body := call(t, "POST", api+"/schema", map[string]any{
				"class": "Doc", "vectorizer": "multi2vec-clip",
				"moduleConfig": map[string]any{"multi2vec-clip": map[string]any{"textFields": []string{"body"}}},
				"properties":   []map[string]any{{"name": "body", "dataType": []string{"text"}}},
			})
			require.Equal(t, http.StatusOK, status, "%s", body)
			objects := make([]map[string]any, n)
			for i := range objects {
				objects[i] = map[string]any{"class": "Doc", "properties": map[string]any{
					"body": fmt.Sprintf("Dokument %d: ein kurzer Satz über das Wetter in Amsterdam, número %d", i, i*7)}}
			}
			start := time.Now()
			status, body = call(t, "POST", api+"/batch/objects", map[string]any{"objects": objects})
			elapsed := time.Since(start)
			require.Equal(t, http.StatusOK, status, "%s", body)
			require.NotContains(t, string(body), `"errors":{`)
			status, body = call(t, "GET", mclipURL+"/metrics", nil)
			require.Equal(t, http.StatusOK, status)
			t.Logf("%d objects in %v: %.1f objects/s, %v model calls", n, elapsed.Round(time.Millisecond),
				float64(n)/elapsed.Seconds(), metricValue(t, body, `mclip_batch_requests_count{modality="text"}`))
		})
	}
}

type vectors struct {
	TextVectors  [][]float32 `json:"textVectors"`
	ImageVectors [][]float32 `json:"imageVectors"`
}

func vectorizeDirect(t *testing.T, url, token string, texts, images []string) vectors {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"texts": texts, "images": images})
	require.NoError(t, err)
	req, err := http.NewRequest("POST", url+"/vectorize", bytes.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
	var v vectors
	require.NoError(t, json.Unmarshal(body, &v))
	return v
}

func objectVector(t *testing.T, api, class, id string) []float32 {
	t.Helper()
	status, body := call(t, "GET", fmt.Sprintf("%s/objects/%s/%s?include=vector", api, class, id), nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var obj struct {
		Vector []float32 `json:"vector"`
	}
	require.NoError(t, json.Unmarshal(body, &obj))
	return obj.Vector
}

func assertClose(t *testing.T, want, got []float32, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if math.Abs(float64(want[i]-got[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
			t.Errorf("%s: element %d is %v, want %v", what, i, got[i], want[i])
			return
		}
	}
}

func distance(t *testing.T, hit map[string]any) float64 {
	t.Helper()
	add, ok := hit["_additional"].(map[string]any)
	require.True(t, ok, "%v", hit)
	d, ok := add["distance"].(float64)
	require.True(t, ok, "%v", hit)
	return d
}

func metricValue(t *testing.T, body []byte, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	require.NotNil(t, m, "metric %s missing", series)
	v, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	return v
}

func call(t *testing.T, method, url string, payload any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if payload != nil {
		raw, err := json.Marshal(payload)
		require.NoError(t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 2 * time.Minute}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, body
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
