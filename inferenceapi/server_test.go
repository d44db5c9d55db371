package inferenceapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/testfixture/fakeencoder"
)

var testMeta = map[string]any{
	"clip_model": map[string]any{"model_type": "clip"},
	"text_model": map[string]any{"model_type": "distilbert"},
}

type vecResponse struct {
	TextVectors  [][]float32 `json:"textVectors"`
	ImageVectors [][]float32 `json:"imageVectors"`
	Error        string      `json:"error"`
}

func newTestServer(t *testing.T, opts Options, enc Encoder) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(opts)
	require.NoError(t, err)
	if enc != nil {
		require.NoError(t, s.SetReady(enc, testMeta))
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t *testing.T) vecResponse {
	t.Helper()
	var v vecResponse
	require.NoError(t, json.Unmarshal(r.body, &v), "body %s", r.body)
	return v
}

func do(t *testing.T, ctx context.Context, method, url, body string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return reply{res.StatusCode, res.Header, b}
}

func vectorize(t *testing.T, url, body string, header ...string) reply {
	t.Helper()
	return do(t, context.Background(), http.MethodPost, url+"/vectorize", body, header...)
}

func TestHealthAndMetaFollowReadiness(t *testing.T) {
	s, ts := newTestServer(t, Options{}, nil)

	assert.Equal(t, http.StatusNoContent, do(t, context.Background(), "GET", ts.URL+"/.well-known/live", "").status)
	assert.Equal(t, http.StatusServiceUnavailable, do(t, context.Background(), "GET", ts.URL+"/.well-known/ready", "").status)
	meta := do(t, context.Background(), "GET", ts.URL+"/meta", "")
	assert.Equal(t, http.StatusServiceUnavailable, meta.status)
	assert.JSONEq(t, `{"error":"models are loading"}`, string(meta.body))
	r := vectorize(t, ts.URL, `{"texts":["a"]}`)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	assert.Equal(t, "models are loading", r.decode(t).Error)

	require.NoError(t, s.SetReady(&fakeencoder.Encoder{}, testMeta))
	assert.Error(t, s.SetReady(&fakeencoder.Encoder{}, testMeta), "a second encoder is refused")

	assert.Equal(t, http.StatusNoContent, do(t, context.Background(), "GET", ts.URL+"/.well-known/ready", "").status)
	meta = do(t, context.Background(), "GET", ts.URL+"/meta", "")
	assert.Equal(t, http.StatusOK, meta.status)
	assert.Equal(t, "application/json", meta.header.Get("Content-Type"))
	assert.JSONEq(t, `{"clip_model":{"model_type":"clip"},"text_model":{"model_type":"distilbert"}}`, string(meta.body))

	s.Close()
	assert.Equal(t, http.StatusServiceUnavailable, do(t, context.Background(), "GET", ts.URL+"/.well-known/ready", "").status)
	r = vectorize(t, ts.URL, `{"texts":["a"]}`)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "server is shutting down", r.decode(t).Error)
	assert.ErrorIs(t, s.SetReady(&fakeencoder.Encoder{}, testMeta), errClosed)
}

func TestSetReadyRejectsUnmarshalableMeta(t *testing.T) {
	s, err := New(Options{})
	require.NoError(t, err)
	defer s.Close()
	assert.ErrorContains(t, s.SetReady(&fakeencoder.Encoder{}, map[string]any{"x": make(chan int)}), "marshal /meta")
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"negative batch size", Options{BatchSize: -1}, "batch size -1"},
		{"negative body limit", Options{MaxBodyBytes: -5}, "max body bytes -5"},
		{"negative wait", Options{MaxWait: -time.Millisecond}, "max wait"},
		{"huge wait", Options{MaxWait: 2 * time.Second}, "max wait"},
		{"negative budget", Options{MemoryBudget: -1}, "memory budget -1"},
		{"negative queue timeout", Options{QueueTimeout: -time.Second}, "queue timeout"},
		{"budget below the largest body", Options{MaxBodyBytes: 1 << 20, MemoryBudget: 2 << 20},
			"memory budget 2097152 bytes (2.0 MiB): one request of the largest body (1048576 bytes) may need"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestVectorizeAssignsVectors(t *testing.T) {
	_, ts := newTestServer(t, Options{MaxWait: time.Millisecond}, &fakeencoder.Encoder{})
	tests := []struct {
		name          string
		body          string
		texts, images []string
	}{
		{"texts only", `{"texts":["hello","wereld","мир"]}`, []string{"hello", "wereld", "мир"}, nil},
		{"images only", `{"images":["aW1n","data:image/png;base64,aW1n"]}`, nil, []string{"aW1n", "data:image/png;base64,aW1n"}},
		{"both", `{"texts":["a cat"],"images":["Y2F0"]}`, []string{"a cat"}, []string{"Y2F0"}},
		{"empty object", `{}`, nil, nil},
		{"null fields stand for absent ones", `{"texts":null,"images":null}`, nil, nil},
		{"null texts beside images", `{"texts":null,"images":["aQ=="]}`, nil, []string{"aQ=="}},
		{"empty arrays", `{"texts":[],"images":[]}`, nil, nil},
		{"unknown fields are ignored", `{"texts":["x"],"model":"other"}`, []string{"x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := vectorize(t, ts.URL, tt.body, "Content-Type", "application/json")
			require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.True(t, strings.HasPrefix(string(r.body), `{"textVectors":[`), "arrays, never null: %s", r.body)
			got := r.decode(t)
			require.Len(t, got.TextVectors, len(tt.texts))
			require.Len(t, got.ImageVectors, len(tt.images))
			for i, s := range tt.texts {
				assert.Equal(t, fakeencoder.Vector("text", s), got.TextVectors[i])
			}
			for i, s := range tt.images {
				assert.Equal(t, fakeencoder.Vector("image", s), got.ImageVectors[i])
			}
		})
	}
}

func TestVectorizeRejectsBadRequests(t *testing.T) {
	_, ts := newTestServer(t, Options{MaxBodyBytes: 200, MaxTexts: 3, MaxImages: 2}, &fakeencoder.Encoder{})
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"malformed JSON", "POST", "/vectorize", `{"texts":["a"`, 400, "malformed JSON"},
		{"syntax error", "POST", "/vectorize", `{"texts":[a]}`, 400, "malformed JSON at byte"},
		{"texts not an array", "POST", "/vectorize", `{"texts":"abc"}`, 400, `"texts" must be an array of strings: found a JSON string`},
		{"number in texts", "POST", "/vectorize", `{"texts":["a",1]}`, 400, `"texts" must be an array of strings: found a JSON number`},
		{"object in images", "POST", "/vectorize", `{"images":[{}]}`, 400, `"images" must be an array of strings: found a JSON object`},
		{"array body", "POST", "/vectorize", `["a"]`, 400, "must be a JSON object"},
		{"null body", "POST", "/vectorize", `null`, 400, "must be a JSON object {\"texts\": [...], \"images\": [...]}, not null"},
		{"null body in spaces", "POST", "/vectorize", " \n null \t", 400, "must be a JSON object"},
		{"string body", "POST", "/vectorize", `"abc"`, 400, "must be a JSON object {\"texts\": [...], \"images\": [...]}, not a JSON string"},
		{"number body", "POST", "/vectorize", `42`, 400, "not a JSON number"},
		{"boolean body", "POST", "/vectorize", `true`, 400, "not a JSON bool"},
		{"null text item", "POST", "/vectorize", `{"texts":["a",null]}`, 400, "texts[1]: null: want a string"},
		{"null image item", "POST", "/vectorize", `{"images":[null]}`, 400, "images[0]: null: want a string"},
		{"empty body", "POST", "/vectorize", ``, 400, "empty request body"},
		{"trailing data", "POST", "/vectorize", `{"texts":["a"]} {}`, 400, "data after the object"},
		{"body too large", "POST", "/vectorize", `{"texts":["` + strings.Repeat("x", 300) + `"]}`, 413, "request body exceeds the limit of 200 bytes"},
		{"too many texts", "POST", "/vectorize", `{"texts":["a","b","c","d"]}`, 413, "4 texts in one request: the limit is 3"},
		{"too many images", "POST", "/vectorize", `{"images":["a","b","c"]}`, 413, "3 images in one request: the limit is 2"},
		{"GET vectorize", "GET", "/vectorize", ``, 405, "method GET not allowed: use POST"},
		{"POST meta", "POST", "/meta", `{}`, 405, "method POST not allowed: use GET"},
		{"unknown route", "GET", "/nope", ``, 404, `no such route: "/nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, context.Background(), tt.method, ts.URL+tt.path, tt.body)
			assert.Equal(t, tt.status, r.status)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Contains(t, r.decode(t).Error, tt.want)
		})
	}
}

// A body without Content-Length is cut off at the limit too.
func TestVectorizeRejectsLargeChunkedBody(t *testing.T) {
	_, ts := newTestServer(t, Options{MaxBodyBytes: 100}, &fakeencoder.Encoder{})
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(`{"texts":["` + strings.Repeat("y", 1000) + `"]}`))
		_ = pw.Close()
	}()
	res, err := http.Post(ts.URL+"/vectorize", "application/json", pr)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
}

func TestVectorizeReportsFailedItems(t *testing.T) {
	_, ts := newTestServer(t, Options{}, &fakeencoder.Encoder{})
	tests := []struct {
		name, body string
		want       string
	}{
		{"one text", `{"texts":["ok","bad text"]}`, `texts[1]: invalid text "bad text"`},
		{"text and image", `{"texts":["bad1"],"images":["ok","bad2"]}`, `texts[0]: invalid text "bad1"; images[1]: invalid image "bad2"`},
		{"many", `{"texts":["bad","bad","bad","bad","bad","bad","bad"]}`, `texts[4]: invalid text "bad"; and 2 more`},
		{"the vectorizer's batch index is dropped", `{"images":["ok","bad index"]}`, `images[1]: invalid image "bad index"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := vectorize(t, ts.URL, tt.body)
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Contains(t, r.decode(t).Error, tt.want)
		})
	}
}

func TestVectorizeSurvivesEncoderFaults(t *testing.T) {
	tests := []struct {
		name string
		enc  *fakeencoder.Encoder
		body string
		want string
	}{
		{"panic", &fakeencoder.Encoder{}, `{"texts":["panic now"]}`, "texts[0]: internal error in the encoder"},
		{"model fault", &fakeencoder.Encoder{}, `{"texts":["ok","fault"]}`, "texts[1]: internal error in the encoder (details in the server log)"},
		{"too few vectors", &fakeencoder.Encoder{Short: true}, `{"images":["a","b"]}`, "internal error: the encoder returned 1 vectors for 2 items"},
		{"NaN", &fakeencoder.Encoder{NonFinite: true}, `{"texts":["a"]}`, "internal error: text vector: item 0 has a non-finite value at 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ts := newTestServer(t, Options{}, tt.enc)
			r := vectorize(t, ts.URL, tt.body)
			assert.Equal(t, http.StatusInternalServerError, r.status)
			msg := r.decode(t).Error
			assert.Contains(t, msg, tt.want)
			assert.NotContains(t, msg, "/secret/path", "no file paths in responses")
			assert.NotContains(t, msg, "goroutine", "no stack traces in responses")

			tt.enc.Short, tt.enc.NonFinite = false, false
			r = vectorize(t, ts.URL, `{"texts":["still serving"]}`)
			assert.Equal(t, http.StatusOK, r.status, "the server keeps serving: %s", r.body)
		})
	}
}

func TestTokenGuardsVectorizeOnly(t *testing.T) {
	_, ts := newTestServer(t, Options{Token: "s3cret"}, &fakeencoder.Encoder{})
	tests := []struct {
		name   string
		header []string
		status int
	}{
		{"no token", nil, 401},
		{"wrong bearer", []string{"Authorization", "Bearer nope"}, 401},
		{"prefix of the token", []string{"Authorization", "Bearer s3cre"}, 401},
		{"bearer", []string{"Authorization", "Bearer s3cret"}, 200},
		{"lower-case scheme", []string{"Authorization", "bearer s3cret"}, 200},
		{"basic password (CLIP_INFERENCE_API=http://mclip:s3cret@host)", []string{"Authorization", "Basic bWNsaXA6czNjcmV0"}, 200},
		{"basic wrong password", []string{"Authorization", "Basic bWNsaXA6bm9wZQ=="}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := vectorize(t, ts.URL, `{"texts":["a"]}`, tt.header...)
			assert.Equal(t, tt.status, r.status, "body %s", r.body)
			if tt.status == 401 {
				assert.Equal(t, "missing or wrong API token", r.decode(t).Error)
				assert.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
			}
		})
	}
	for _, path := range []string{"/meta", "/.well-known/live", "/.well-known/ready", "/metrics"} {
		r := do(t, context.Background(), "GET", ts.URL+path, "")
		assert.Less(t, r.status, 300, "%s stays open", path)
	}
}

// smallBudget is options whose memory budget holds one request of the
// largest body (MaxBodyBytes) and no more.
func smallBudget(opts Options) Options {
	opts.MaxBodyBytes, opts.MaxTexts, opts.MaxImages = 64, 1, 1
	opts.MemoryBudget = worstCharge(opts.MaxBodyBytes, opts.MaxTexts+opts.MaxImages)
	return opts
}

// waiting reports how many requests wait for room in the budget.
func waiting(s *Server) int64 { return s.budget.waiting.Load() }

// A request that does not fit in the memory budget waits for room and is
// answered; none is refused.
func TestRequestsBeyondTheBudgetWait(t *testing.T) {
	enc := &fakeencoder.Encoder{Block: make(chan struct{}), Started: make(chan []string, 4)}
	s, ts := newTestServer(t, smallBudget(Options{}), enc)

	first := make(chan reply, 1)
	go func() { first <- vectorize(t, ts.URL, `{"texts":["first"]}`) }()
	<-enc.Started

	later := make(chan reply, 2)
	for _, body := range []string{`{"texts":["second"]}`, `{"images":["third"]}`} {
		go func() { later <- vectorize(t, ts.URL, body) }()
	}
	require.Eventually(t, func() bool { return waiting(s) == 2 }, 2*time.Second, time.Millisecond, "both wait")

	close(enc.Block)
	assert.Equal(t, http.StatusOK, (<-first).status)
	for range 2 {
		r := <-later
		assert.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	}
	assert.Zero(t, waiting(s))
	assert.Zero(t, s.budget.held.Load(), "every charge released")
	assert.ElementsMatch(t, []string{"first", "second", "third"}, enc.Items())
}

// A request that waited QueueTimeout is refused with the limit and how to
// raise it; room comes back when the others finish.
func TestQueueTimeoutAnswers429(t *testing.T) {
	enc := &fakeencoder.Encoder{Block: make(chan struct{}), Started: make(chan []string, 1)}
	_, ts := newTestServer(t, smallBudget(Options{QueueTimeout: 50 * time.Millisecond}), enc)

	first := make(chan reply, 1)
	go func() { first <- vectorize(t, ts.URL, `{"texts":["first"]}`) }()
	<-enc.Started

	r := vectorize(t, ts.URL, `{"texts":["second"]}`)
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	msg := r.decode(t).Error
	for _, want := range []string{"server busy: waited ", "of the request memory budget of 48.1 KiB",
		"--request-memory, MCLIP_REQUEST_MEMORY", "--queue-timeout, MCLIP_QUEUE_TIMEOUT"} {
		assert.Contains(t, msg, want)
	}

	close(enc.Block)
	assert.Equal(t, http.StatusOK, (<-first).status)
	assert.Equal(t, http.StatusOK, vectorize(t, ts.URL, `{"texts":["third"]}`).status, "room comes back")
}

// Once decoded, a request keeps only the charge of what it holds: a
// second request fits beside one whose worst case filled most of the
// budget.
func TestDecodedRequestShrinksItsCharge(t *testing.T) {
	enc := &fakeencoder.Encoder{Block: make(chan struct{}), Started: make(chan []string, 2)}
	opts := Options{MaxBodyBytes: 300, MaxTexts: 10, MaxImages: 1}
	opts.MemoryBudget = worstCharge(opts.MaxBodyBytes, opts.MaxTexts+opts.MaxImages)
	s, ts := newTestServer(t, opts, enc)
	body := `{"texts":["first"]}`
	require.Greater(t, 2*worstCharge(int64(len(body)), 11), opts.MemoryBudget, "two worst cases do not fit")

	first := make(chan reply, 1)
	go func() { first <- vectorize(t, ts.URL, body) }()
	<-enc.Started
	assert.Equal(t, exactCharge(int64(len(body)), vectorizeRequest{Texts: []string{"first"}}), s.budget.held.Load())

	second := make(chan reply, 1)
	go func() { second <- vectorize(t, ts.URL, `{"texts":["secnd"]}`) }()
	b := s.backend.Load()
	require.Eventually(t, func() bool {
		b.text.mu.Lock()
		defer b.text.mu.Unlock()
		return b.text.queued == 1
	}, 2*time.Second, time.Millisecond, "the second request is admitted and queued")
	assert.Zero(t, waiting(s))

	close(enc.Block)
	assert.Equal(t, http.StatusOK, (<-first).status)
	assert.Equal(t, http.StatusOK, (<-second).status)
}

// A request waiting for room when the server shuts down is answered 503
// at once.
func TestWaitingRequestEndsOnShutdown(t *testing.T) {
	enc := &fakeencoder.Encoder{Block: make(chan struct{}), Started: make(chan []string, 1)}
	s, ts := newTestServer(t, smallBudget(Options{QueueTimeout: time.Minute}), enc)

	first := make(chan reply, 1)
	go func() { first <- vectorize(t, ts.URL, `{"texts":["first"]}`) }()
	<-enc.Started
	second := make(chan reply, 1)
	go func() { second <- vectorize(t, ts.URL, `{"texts":["second"]}`) }()
	require.Eventually(t, func() bool { return waiting(s) == 1 }, 2*time.Second, time.Millisecond)

	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	r := <-second
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "server is shutting down", r.decode(t).Error)

	close(enc.Block)
	assert.Equal(t, http.StatusOK, (<-first).status, "the admitted request finishes")
	<-closed
}

// Concurrent single-item requests share model calls, and each gets its own
// vector back.
func TestCrossRequestBatching(t *testing.T) {
	const n = 48
	enc := &fakeencoder.Encoder{Overhead: 5 * time.Millisecond}
	_, ts := newTestServer(t, Options{BatchSize: 16, MaxWait: 2 * time.Millisecond}, enc)

	var wg sync.WaitGroup
	replies := make([]reply, n)
	for i := range n {
		wg.Go(func() {
			replies[i] = vectorize(t, ts.URL, fmt.Sprintf(`{"texts":["text %d"],"images":["image %d"]}`, i, i))
		})
	}
	wg.Wait()
	for i, r := range replies {
		require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
		got := r.decode(t)
		assert.Equal(t, [][]float32{fakeencoder.Vector("text", fmt.Sprintf("text %d", i))}, got.TextVectors)
		assert.Equal(t, [][]float32{fakeencoder.Vector("image", fmt.Sprintf("image %d", i))}, got.ImageVectors)
	}
	sizes := enc.CallSizes()
	t.Logf("%d model calls for %d items: %v", len(sizes), 2*n, sizes)
	assert.Less(t, len(sizes), n, "2*%d items in %d calls: %v", n, len(sizes), sizes)
	for _, size := range sizes {
		assert.LessOrEqual(t, size, 16, "batch size bound")
	}
	assert.Len(t, enc.Items(), 2*n, "every item encoded once")
}

// Without cross-request batching every request is its own model call.
func TestNoCrossRequestBatching(t *testing.T) {
	const n = 12
	enc := &fakeencoder.Encoder{Overhead: 2 * time.Millisecond}
	_, ts := newTestServer(t, Options{NoCrossRequestBatching: true}, enc)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			assert.Equal(t, http.StatusOK, vectorize(t, ts.URL, fmt.Sprintf(`{"texts":["t%d","u%d"]}`, i, i)).status)
		})
	}
	wg.Wait()
	sizes := enc.CallSizes()
	assert.Len(t, sizes, n)
	for _, s := range sizes {
		assert.Equal(t, 2, s)
	}
}

// A request of more items than the batch size is split into several calls.
func TestLargeRequestIsSplit(t *testing.T) {
	enc := &fakeencoder.Encoder{}
	_, ts := newTestServer(t, Options{BatchSize: 4}, enc)
	texts := make([]string, 10)
	for i := range texts {
		texts[i] = fmt.Sprintf("t%d", i)
	}
	body, _ := json.Marshal(map[string]any{"texts": texts})
	r := vectorize(t, ts.URL, string(body))
	require.Equal(t, http.StatusOK, r.status)
	got := r.decode(t)
	for i, s := range texts {
		assert.Equal(t, fakeencoder.Vector("text", s), got.TextVectors[i])
	}
	assert.Equal(t, []int{4, 4, 2}, enc.CallSizes())
}

// A lone request at an idle server does not wait for a batch to fill, even
// with a long wait configured, also right after concurrent traffic.
func TestLoneRequestIsNotDelayed(t *testing.T) {
	const wait = 400 * time.Millisecond
	enc := &fakeencoder.Encoder{}
	_, ts := newTestServer(t, Options{MaxWait: wait}, enc)

	start := time.Now()
	assert.Equal(t, http.StatusOK, vectorize(t, ts.URL, `{"texts":["alone"]}`).status)
	assert.Less(t, time.Since(start), wait/4, "cold start")

	// Concurrent traffic, then a quiet spell, then a lone request.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { vectorize(t, ts.URL, fmt.Sprintf(`{"texts":["c%d"]}`, i)) })
	}
	wg.Wait()
	time.Sleep(hotWindow + 10*time.Millisecond)
	start = time.Now()
	assert.Equal(t, http.StatusOK, vectorize(t, ts.URL, `{"texts":["alone again"]}`).status)
	assert.Less(t, time.Since(start), wait/4, "after traffic")
}

// A cancelled request's queued items never reach the model.
func TestCancelledRequestIsDropped(t *testing.T) {
	enc := &fakeencoder.Encoder{Block: make(chan struct{}), Started: make(chan []string, 4)}
	s, ts := newTestServer(t, Options{}, enc)

	first := make(chan reply, 1)
	go func() { first <- vectorize(t, ts.URL, `{"texts":["running"]}`) }()
	<-enc.Started

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/vectorize", strings.NewReader(`{"texts":["abandoned","also abandoned"]}`))
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	b := s.backend.Load()
	require.Eventually(t, func() bool {
		b.text.mu.Lock()
		defer b.text.mu.Unlock()
		return b.text.queued == 2
	}, 2*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	require.Eventually(t, func() bool {
		b.text.mu.Lock()
		defer b.text.mu.Unlock()
		return b.text.queued == 0
	}, 2*time.Second, time.Millisecond, "the abandoned items left the queue")

	close(enc.Block)
	assert.Equal(t, http.StatusOK, (<-first).status)
	assert.Equal(t, http.StatusOK, vectorize(t, ts.URL, `{"texts":["next"]}`).status)
	assert.Equal(t, []string{"running", "next"}, enc.Items())
}

func TestServeDrainsInFlightRequests(t *testing.T) {
	enc := &fakeencoder.Encoder{Block: make(chan struct{}), Started: make(chan []string, 1)}
	s, err := New(Options{ShutdownTimeout: 5 * time.Second})
	require.NoError(t, err)
	require.NoError(t, s.SetReady(enc, testMeta))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	inFlight := make(chan reply, 1)
	go func() { inFlight <- vectorize(t, url, `{"texts":["in flight"]}`) }()
	<-enc.Started
	stop()
	require.Eventually(t, func() bool { return s.draining.Load() }, 2*time.Second, time.Millisecond)
	select {
	case err := <-served:
		t.Fatalf("Serve returned before the in-flight request finished: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(enc.Block)
	r := <-inFlight
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, [][]float32{fakeencoder.Vector("text", "in flight")}, r.decode(t).TextVectors)
	require.NoError(t, <-served)
	_, err = net.Dial("tcp", ln.Addr().String())
	assert.Error(t, err, "the listener is closed")
}

func TestServeCancelsModelCallsAfterDrainTimeout(t *testing.T) {
	enc := &fakeencoder.Encoder{Block: make(chan struct{}), Started: make(chan []string, 1)}
	s, err := New(Options{ShutdownTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, s.SetReady(enc, testMeta))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	go func() {
		res, err := http.Post("http://"+ln.Addr().String()+"/vectorize", "application/json", strings.NewReader(`{"texts":["stuck"]}`))
		if err == nil {
			res.Body.Close()
		}
	}()
	<-enc.Started
	stop()
	select {
	case err := <-served:
		assert.ErrorContains(t, err, "drain in-flight requests")
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the drain timeout")
	}
}

func TestMetricsExposeRequestsAndBatches(t *testing.T) {
	_, ts := newTestServer(t, Options{}, &fakeencoder.Encoder{})
	vectorize(t, ts.URL, `{"texts":["a","b"],"images":["c"]}`)
	vectorize(t, ts.URL, `{"texts":["bad"]}`)
	vectorize(t, ts.URL, `{`)
	r := do(t, context.Background(), "GET", ts.URL+"/metrics", "")
	require.Equal(t, http.StatusOK, r.status)
	body := string(r.body)
	for _, want := range []string{
		`mclip_http_requests_total{code="200",route="/vectorize"} 1`,
		`mclip_http_requests_total{code="400",route="/vectorize"} 2`,
		`mclip_errors_total{kind="input"} 1`,
		`mclip_errors_total{kind="bad_request"} 1`,
		`mclip_batch_items_sum{modality="text"} 3`,
		`mclip_batch_items_count{modality="image"} 1`,
		`mclip_model_seconds_count{modality="text"} 2`,
		`mclip_queue_wait_seconds_count{modality="text"} 2`,
		`mclip_queued_items{modality="text"} 0`,
		`mclip_vectorize_waiting 0`,
		`mclip_vectorize_wait_seconds_count 3`,
		`mclip_request_memory_bytes 0`,
		`mclip_request_memory_limit_bytes 1.073741824e+09`,
		`go_goroutines`,
	} {
		assert.Contains(t, body, want)
	}
}

// A request queued while another is still being read waits (at most
// MaxWait) for it, so both share a model call.
func TestRequestWaitsForOneBeingRead(t *testing.T) {
	enc := &fakeencoder.Encoder{}
	s, ts := newTestServer(t, Options{MaxWait: 500 * time.Millisecond}, enc)

	pr, pw := io.Pipe()
	slow := make(chan int, 1)
	go func() {
		res, err := http.Post(ts.URL+"/vectorize", "application/json", pr)
		if err != nil {
			slow <- 0
			return
		}
		res.Body.Close()
		slow <- res.StatusCode
	}()
	_, err := pw.Write([]byte(`{"texts":["sl`))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.reading.Load() == 1 }, 2*time.Second, time.Millisecond)

	fast := make(chan reply, 1)
	go func() { fast <- vectorize(t, ts.URL, `{"texts":["fast"]}`) }()
	b := s.backend.Load()
	require.Eventually(t, func() bool {
		b.text.mu.Lock()
		defer b.text.mu.Unlock()
		return b.text.queued == 1
	}, 2*time.Second, time.Millisecond, "the fast request waits in the queue")
	_, err = pw.Write([]byte(`ow"]}`))
	require.NoError(t, err)
	require.NoError(t, pw.Close())

	assert.Equal(t, http.StatusOK, (<-fast).status)
	assert.Equal(t, http.StatusOK, <-slow)
	assert.Equal(t, []int{2}, enc.CallSizes(), "one model call for both")
}
