// Package stress tries to break mclip: hostile inputs, sustained mixed
// load, faults at start-up and mid-request, and a three-node Weaviate
// cluster, all against real weaviate-mclip servers (and the inference API)
// on tiny generated models, checked against the vectorizer facade run in
// process on the same models.
//
// Short forms run in `go test ./...`; MCLIP_STRESS=1 (`make stress`)
// selects the long forms.
package stress

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer"
)

const mclipModule = "multi2vec-mclip"

// stressMode selects the long forms (make stress).
func stressMode() bool {
	v := strings.ToLower(os.Getenv("MCLIP_STRESS"))
	return v == "1" || v == "true"
}

// models is a tiny generated model directory, the module environment that
// points a server at it, and the facade loaded from the same settings.
type models struct {
	dir string
	env map[string]string
	vec *vectorizer.Encoder
}

// tinyModels writes tiny models and loads the facade with the settings
// that env gives the server (so both refuse and accept the same inputs).
func tinyModels(t testing.TB, seed int64, env map[string]string) *models {
	t.Helper()
	m, err := loadModels(t.TempDir(), seed, env)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.vec.Close() })
	return m
}

func loadModels(dir string, seed int64, env map[string]string) (*models, error) {
	if err := modelgen.Generate(modelgen.Options{Out: dir, Size: modelgen.Tiny, Seed: seed}); err != nil {
		return nil, fmt.Errorf("generate models: %w", err)
	}
	full := map[string]string{"ENABLE_MODULES": mclipModule, "MCLIP_MODEL_DIR": dir, "MCLIP_THREADS": "1"}
	for k, v := range env {
		full[k] = v
	}
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := full[k]; return v, ok })
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	vec, err := vectorizer.Load(cfg, modelstore.Dir{Root: dir})
	if err != nil {
		return nil, fmt.Errorf("load facade: %w", err)
	}
	return &models{dir: dir, env: full, vec: vec}, nil
}

// The shared server: one weaviate-mclip for the tests of the package
// that need no special start (each uses its own classes), started on
// first use and stopped by TestMain; a start costs seconds on a loaded
// machine.
var sharedState struct {
	once     sync.Once
	m        *models
	s        *server
	profPort int
	err      error
	cleanup  []func()
}

// sharedMaxPixels is the shared server's MCLIP_MAX_PIXELS: a 2048x2048
// image is the largest accepted.
const sharedMaxPixels = 2048 * 2048

// shared returns the shared server, its models and its pprof port.
func shared(t testing.TB) (*models, *server, int) {
	t.Helper()
	st := &sharedState
	st.once.Do(func() {
		root, err := os.MkdirTemp("", "mclip-stress-")
		if err != nil {
			st.err = err
			return
		}
		st.cleanup = append(st.cleanup, func() { _ = os.RemoveAll(root) })
		st.m, st.err = loadModels(filepath.Join(root, "models"), 7, map[string]string{"MCLIP_MAX_PIXELS": fmt.Sprint(sharedMaxPixels)})
		if st.err != nil {
			return
		}
		st.cleanup = append(st.cleanup, func() { _ = st.m.vec.Close() })
		// The pprof port stays bound while the harness picks the others,
		// so that it cannot pick it too. The harness turns the profiling
		// server off (it binds every interface); these tests read the
		// goroutine count from it, so they turn it on, on a free port.
		var ports portHolder
		st.profPort = ports.one(t)
		env := map[string]string{"GO_PROFILING_DISABLE": "false", "GO_PROFILING_PORT": fmt.Sprint(st.profPort)}
		for k, v := range st.m.env {
			env[k] = v
		}
		w := harness.NewWeaviate(t, weaviateBinary(t), env)
		ports.release()
		w.DataDir = filepath.Join(root, "data")
		w.Config.Env["PERSISTENCE_DATA_PATH"] = w.DataDir
		srv, err := harness.Launch(w.Config)
		if srv != nil {
			w.Server = srv
			st.cleanup = append(st.cleanup, srv.Stop)
		}
		if err != nil {
			log := ""
			if srv != nil {
				log = srv.Logs()
			}
			st.err = fmt.Errorf("start the shared weaviate-mclip: %w\n%s", err, clip([]byte(log)))
			return
		}
		st.s = &server{Weaviate: w, http: &http.Client{Timeout: 5 * time.Minute}}
	})
	require.NoError(t, st.err)
	require.True(t, st.s.Running(), "the shared server exited:\n%s", clip([]byte(st.s.Logs())))
	return st.m, st.s, st.profPort
}

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(sharedState.cleanup) - 1; i >= 0; i-- {
		sharedState.cleanup[i]()
	}
	os.Exit(code)
}

// server is a running weaviate-mclip with a raw HTTP client.
type server struct {
	*harness.Weaviate
	http *http.Client
}

func weaviateBinary(t testing.TB) string {
	t.Helper()
	return harness.Binary(t, "weaviate-mclip", "run `make weaviate` first")
}

func (s *server) url(path string) string { return "http://" + s.HTTPHost() + path }

// do sends a request with a JSON body (raw bytes, or a value to marshal)
// and returns the status and the body.
func (s *server) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, nil, fmt.Errorf("marshal %s body: %w", path, err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url(path), r)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return resp.StatusCode, out, nil
}

// mustDo is do that fails the test on a transport error or an unexpected
// status.
func (s *server) mustDo(t testing.TB, method, path string, body any, want int) []byte {
	t.Helper()
	status, out, err := s.do(context.Background(), method, path, body)
	require.NoError(t, err)
	require.Equal(t, want, status, "%s %s: %s", method, path, clip(out))
	return out
}

func (s *server) createClass(t testing.TB, class map[string]any) {
	t.Helper()
	s.mustDo(t, "POST", "/v1/schema", class, http.StatusOK)
}

// graphQL runs a query; it returns the data and the errors' messages.
func (s *server) graphQL(ctx context.Context, query string) (json.RawMessage, []string, error) {
	status, out, err := s.do(ctx, "POST", "/v1/graphql", map[string]string{"query": query})
	if err != nil {
		return nil, nil, err
	}
	if status != http.StatusOK {
		return nil, nil, fmt.Errorf("graphql: status %d: %s", status, clip(out))
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, nil, fmt.Errorf("graphql: %w: %s", err, clip(out))
	}
	var msgs []string
	for _, e := range r.Errors {
		msgs = append(msgs, e.Message)
	}
	return r.Data, msgs, nil
}

// batch imports objects over REST and returns each one's error text by id.
func (s *server) batch(ctx context.Context, body []byte) (map[string]string, error) {
	status, out, err := s.do(ctx, "POST", "/v1/batch/objects", body)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("batch: status %d: %s", status, clip(out))
	}
	var res []harness.BatchResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("batch answer: %w: %s", err, clip(out))
	}
	errs := make(map[string]string, len(res))
	for _, r := range res {
		errs[r.ID] = r.Err()
	}
	return errs, nil
}

// object fetches an object with its vectors; found is false on 404.
func (s *server) object(ctx context.Context, class, id string, extraQuery string) (vec []float32, found bool, err error) {
	status, out, err := s.do(ctx, "GET", fmt.Sprintf("/v1/objects/%s/%s?include=vector%s", class, id, extraQuery), nil)
	if err != nil {
		return nil, false, err
	}
	if status == http.StatusNotFound {
		return nil, false, nil
	}
	if status != http.StatusOK {
		return nil, false, fmt.Errorf("get %s/%s: status %d: %s", class, id, status, clip(out))
	}
	var o struct {
		Vector []float32 `json:"vector"`
	}
	if err := json.Unmarshal(out, &o); err != nil {
		return nil, false, fmt.Errorf("get %s/%s: %w", class, id, err)
	}
	return o.Vector, true, nil
}

// ready reports whether /v1/.well-known/ready answers 200.
func (s *server) ready() bool {
	status, _, err := s.do(context.Background(), "GET", "/v1/.well-known/ready", nil)
	return err == nil && status == http.StatusOK
}

// pid finds the server's process by its --port argument in /proc (the
// harness does not expose it).
func (s *server) pid(t testing.TB) int {
	t.Helper()
	return pidOfArgs(t, s.Config.Binary, "--port", strconv.Itoa(s.HTTPPort))
}

// procStatus reads a kB field (VmRSS, VmHWM) and Threads of a process.
func procStatus(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("process status: %w", err)
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, sc.Err()
}

// rssMiB is the process's resident set in MiB.
func rssMiB(t testing.TB, pid int) float64 {
	t.Helper()
	st, err := procStatus(pid)
	require.NoError(t, err)
	return float64(st["VmRSS"]) / 1024
}

// goroutines reads the server's goroutine count from pprof, which
// Weaviate serves on GO_PROFILING_PORT; -1 when unreachable.
func goroutines(port int) int {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/goroutine?debug=1", port))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return -1
	}
	// "goroutine profile: total 123"
	n, err := strconv.Atoi(strings.TrimSpace(line[strings.LastIndex(line, " ")+1:]))
	if err != nil {
		return -1
	}
	return n
}

// vector helpers

// titleImageVectors is what each object (a title and an image among
// images) must be stored with: the mean of its title's and its image's
// vectors from the facade, each encoded once.
func (m *models) titleImageVectors(t testing.TB, ctx context.Context, ids []string, objs map[string]hostileCase, images []string) map[string][]float32 {
	t.Helper()
	titles := make([]string, len(ids))
	for i, id := range ids {
		titles[i] = *objs[id].title
	}
	textVecs, errs := m.vec.EncodeTexts(ctx, titles)
	require.NoError(t, errors.Join(errs...))
	imageVecs, errs := m.vec.EncodeImagesBase64(ctx, images)
	require.NoError(t, errors.Join(errs...))
	imageIndex := make(map[string]int, len(images))
	for i, im := range images {
		imageIndex[im] = i
	}
	want := make(map[string][]float32, len(ids))
	for i, id := range ids {
		want[id] = harness.Mean(textVecs[i], imageVecs[imageIndex[objs[id].image]])
	}
	return want
}

// vectorDiff is the largest absolute difference relative to the larger of
// 1 and want's largest magnitude; +Inf on a length mismatch.
func vectorDiff(want, got []float32) float64 {
	if len(want) != len(got) {
		return math.Inf(1)
	}
	scale := 1.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	var d float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(want[i]-got[i]))/scale)
	}
	return d
}

// vectorTolerance allows float32 sums in another order (Weaviate's mean
// of many vectors against ours).
const vectorTolerance = 1e-4

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// clip shortens a body for a message.
func clip(b []byte) string {
	const n = 600
	if len(b) > n {
		return string(b[:n]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}

// testImage reads a sample image of imagedecode's golden set.
func testImage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(harness.RepoRoot(t), "vectorizer", "imagedecode", "testdata", "images", name))
	require.NoError(t, err)
	return b
}
