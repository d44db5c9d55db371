package stress

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/inferenceapi"
	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/testfixture/testimage"
	"github.com/mclip-go/mclip/vectorizer/itemerror"
)

// apiServer serves the inference API over the facade on tiny models.
func apiServer(t testing.TB, m *models, opts inferenceapi.Options) *httptest.Server {
	t.Helper()
	srv, err := inferenceapi.New(opts)
	require.NoError(t, err)
	require.NoError(t, srv.SetReady(m.vec, map[string]any{"clip_model": "tiny"}))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

type apiAnswer struct {
	status int
	body   []byte
	vecs   struct {
		Text  [][]float32 `json:"textVectors"`
		Image [][]float32 `json:"imageVectors"`
	}
	errText string
}

func postVectorize(t testing.TB, url, token string, body []byte) apiAnswer {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/vectorize", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var a apiAnswer
	a.status = resp.StatusCode
	a.body, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	if a.status == http.StatusOK {
		require.NoError(t, json.Unmarshal(a.body, &a.vecs), clip(a.body))
	} else {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(a.body, &e) == nil && e.Error != "" {
			a.errText = e.Error
		} else {
			a.errText = string(a.body)
		}
	}
	return a
}

// vectorizeBody is the case as /vectorize's body, as Weaviate's
// multi2vec-clip sends an object: its texts, then its images.
func (c hostileCase) vectorizeBody(t testing.TB) (body []byte, texts, images []string) {
	t.Helper()
	texts = append(texts, c.tags...)
	const placeholder = "\u0001RAWTITLE\u0001"
	switch {
	case c.rawTitle != nil:
		texts = append(texts, placeholder)
	case c.title != nil:
		texts = append(texts, *c.title)
	}
	if c.image != "" {
		images = append(images, c.image)
	}
	body, err := json.Marshal(map[string][]string{"texts": texts, "images": images})
	require.NoError(t, err)
	if c.rawTitle != nil {
		quoted, err := json.Marshal(placeholder)
		require.NoError(t, err)
		body = bytes.Replace(body, quoted, append(append([]byte{'"'}, c.rawTitle...), '"'), 1)
		texts[len(texts)-1] = string(c.rawTitle)
	}
	return body, texts, images
}

// TestHostileInputsInferenceAPI sends the hostile cases to `mclip serve`'s
// handler over the real encoders: a vector equal to the facade's or a 4xx
// naming the item, and the server answering a good request after each.
func TestHostileInputsInferenceAPI(t *testing.T) {
	m := tinyModels(t, 8, map[string]string{"MCLIP_MAX_PIXELS": fmt.Sprint(sharedMaxPixels)})
	ts := apiServer(t, m, inferenceapi.Options{})
	ctx := context.Background()
	goodBody := []byte(`{"texts":["ein Hund im Schnee"],"images":["` + b64(testimage.GradientPNG(9, 16, 16)) + `"]}`)

	for _, c := range hostileCases(t) {
		body, texts, images := c.vectorizeBody(t)
		if len(texts)+len(images) == 0 {
			continue // an object with nothing to vectorize is never sent
		}
		t.Run(c.name, func(t *testing.T) {
			a := postVectorize(t, ts.URL, "", body)
			t.Logf("%d %s", a.status, clip([]byte(a.errText)))
			switch {
			case len(texts) > inferenceapi.DefaultMaxTexts:
				assert.Equal(t, http.StatusRequestEntityTooLarge, a.status)
				assert.Contains(t, a.errText, "the limit is")
			default:
				want := expect(ctx, m, c)
				if want.err != nil {
					assert.Equal(t, http.StatusBadRequest, a.status, "%s", clip(a.body))
					assert.Contains(t, a.errText, itemerror.Cause(want.err).Error())
					break
				}
				require.Equal(t, http.StatusOK, a.status, "%s", clip(a.body))
				require.Len(t, a.vecs.Text, len(texts))
				require.Len(t, a.vecs.Image, len(images))
				got := harness.Mean(append(append([][]float32{}, a.vecs.Text...), a.vecs.Image...)...)
				assert.LessOrEqual(t, vectorDiff(want.vector, got), vectorTolerance)
			}
			require.Equal(t, http.StatusOK, postVectorize(t, ts.URL, "", goodBody).status, "not serving after %s", c.name)
		})
	}
}

// TestInferenceAPILimits checks the body, item and pixel limits and the
// token of the inference API over the real encoders.
func TestInferenceAPILimits(t *testing.T) {
	m := tinyModels(t, 9, map[string]string{"MCLIP_MAX_PIXELS": "10000"})
	const token = "s3cret-token"
	ts := apiServer(t, m, inferenceapi.Options{MaxBodyBytes: 64 << 10, MaxTexts: 8, MaxImages: 2, Token: token})
	small := b64(testimage.GradientPNG(1, 10, 10))
	tests := []struct {
		name    string
		token   string
		body    string
		status  int
		errPart string
	}{
		{"no token", "", `{"texts":["a"]}`, http.StatusUnauthorized, "token"},
		{"wrong token", "s3cret-tokeN", `{"texts":["a"]}`, http.StatusUnauthorized, "token"},
		{"token prefix", "s3cret", `{"texts":["a"]}`, http.StatusUnauthorized, "token"},
		{"right token", token, `{"texts":["a"]}`, http.StatusOK, ""},
		{"body over the limit", token, `{"texts":["` + strings.Repeat("a", 64<<10) + `"]}`, http.StatusRequestEntityTooLarge, "request body exceeds the limit of 65536 bytes"},
		{"too many texts", token, `{"texts":["a","b","c","d","e","f","g","h","i"]}`, http.StatusRequestEntityTooLarge, "9 texts in one request: the limit is 8"},
		{"too many images", token, `{"images":["` + small + `","` + small + `","` + small + `"]}`, http.StatusRequestEntityTooLarge, "3 images in one request: the limit is 2"},
		{"over the pixel limit", token, `{"images":["` + b64(testimage.GradientPNG(1, 101, 100)) + `"]}`, http.StatusBadRequest, "images[0]: decode png: image too large: 101x100 is 10100 pixels, more than the limit of 10000"},
		{"at the pixel limit", token, `{"images":["` + b64(testimage.GradientPNG(1, 100, 100)) + `"]}`, http.StatusOK, ""},
		{"not JSON", token, `{"texts":`, http.StatusBadRequest, "malformed JSON"},
		{"texts not strings", token, `{"texts":[1,2]}`, http.StatusBadRequest, `"texts" must be an array of strings`},
		{"trailing data", token, `{"texts":["a"]} {}`, http.StatusBadRequest, "data after the object"},
		{"empty body", token, ``, http.StatusBadRequest, "empty request body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := postVectorize(t, ts.URL, tt.token, []byte(tt.body))
			assert.Equal(t, tt.status, a.status, "%s", clip(a.body))
			assert.Contains(t, a.errText, tt.errPart)
		})
	}
	t.Run("basic auth password", func(t *testing.T) {
		req, err := http.NewRequest("POST", ts.URL+"/vectorize", strings.NewReader(`{"texts":["a"]}`))
		require.NoError(t, err)
		req.SetBasicAuth("mclip", token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
}
