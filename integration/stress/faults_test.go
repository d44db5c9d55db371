package stress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/testfixture/testimage"
)

// TestStartupRefusesBrokenModels starts weaviate-mclip on model
// directories with one file broken: the server must exit before it is
// ready, with a log line naming the module and the file.
func TestStartupRefusesBrokenModels(t *testing.T) {
	bin := weaviateBinary(t)
	tests := []struct {
		name      string
		file      string // relative to the model directory
		breakFile func(t *testing.T, path string)
		want      []string // in the same log line; $DIR is the model directory
	}{
		{"text graph is garbage", "text/onnx/model.onnx", overwrite([]byte("this is not an ONNX protobuf\x00\x01\x02")), []string{"$DIR/text/onnx/model.onnx", "Protobuf parsing failed"}},
		{"vision graph truncated", "vision/onnx/vision_model.onnx", truncate, []string{"$DIR/vision/onnx/vision_model.onnx", "Protobuf parsing failed"}},
		{"vision graph is the text graph", "vision/onnx/vision_model.onnx", copyFrom("text/onnx/model.onnx"), []string{"$DIR/vision/onnx/vision_model.onnx", "does not fit the model contract", "pixel_values"}},
		{"dense safetensors truncated", "text/2_Dense/model.safetensors", truncate, []string{"$DIR/text/2_Dense/model.safetensors", "but the file holds"}},
		{"dense safetensors header lies", "text/2_Dense/model.safetensors", overwrite([]byte("\xff\xff\xff\xff\xff\xff\xff\x7f{}")), []string{"$DIR/text/2_Dense/model.safetensors", "header length", "exceeds"}},
		{"tokenizer.json not JSON", "text/tokenizer.json", overwrite([]byte(`{"model": {"type": "WordPiece", "vocab": {`)), []string{"$DIR/text/tokenizer.json", "parse json"}},
		{"tokenizer.json of a BPE model", "text/tokenizer.json", overwrite([]byte(`{"version":"1.0","model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`)), []string{"$DIR/text/tokenizer.json", "must be"}},
		{"preprocessor_config.json missing", "vision/preprocessor_config.json", remove, []string{"$DIR lacks", "vision/preprocessor_config.json"}},
		{"2_Dense/config.json wrong shape", "text/2_Dense/config.json", overwrite([]byte(`{"in_features": 7, "out_features": 512, "bias": true, "activation_function": "torch.nn.modules.linear.Identity"}`)), []string{"$DIR/text/2_Dense/config.json", "in_features 7 does not match"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, modelgen.Generate(modelgen.Options{Out: dir, Size: modelgen.Tiny, Seed: 3}))
			tt.breakFile(t, filepath.Join(dir, filepath.FromSlash(tt.file)))
			w := harness.NewWeaviate(t, bin, map[string]string{"ENABLE_MODULES": mclipModule, "MCLIP_MODEL_DIR": dir, "MCLIP_THREADS": "1"})
			w.Config.StartTimeout = time.Minute
			start := time.Now()
			srv, err := harness.Launch(w.Config)
			require.NotNil(t, srv)
			defer srv.Stop()
			require.Error(t, err, "started on a broken %s", tt.file)
			require.Contains(t, err.Error(), "exited before it was ready")
			line := ""
			for _, l := range strings.Split(srv.Logs(), "\n") {
				if !strings.Contains(l, mclipModule) {
					continue
				}
				all := true
				for _, w := range tt.want {
					all = all && strings.Contains(l, strings.ReplaceAll(w, "$DIR", dir))
				}
				if all {
					line = l
					break
				}
			}
			require.NotEmpty(t, line, "no log line names %s and %v:\n%s", mclipModule, tt.want, clip([]byte(srv.Logs())))
			t.Logf("refused in %s: %s", time.Since(start).Round(time.Millisecond), clip([]byte(line)))
		})
	}
}

func overwrite(b []byte) func(t *testing.T, path string) {
	return func(t *testing.T, path string) { require.NoError(t, os.WriteFile(path, b, 0o644)) }
}

func truncate(t *testing.T, path string) {
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, st.Size()/2))
}

func remove(t *testing.T, path string) { require.NoError(t, os.Remove(path)) }

// copyFrom replaces the file with another of the model directory (given
// relative to it).
func copyFrom(rel string) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		root := path
		for range strings.Count(filepath.ToSlash(strings.TrimPrefix(path, "/")), "/") {
			if _, err := os.Stat(filepath.Join(root, rel)); err == nil {
				break
			}
			root = filepath.Dir(root)
		}
		b, err := os.ReadFile(filepath.Join(root, rel))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, b, 0o644))
	}
}

// TestCancelledBatches cuts big batches short with a client timeout: the
// server keeps serving, its goroutines and memory come back down, and each
// object of the cut batches is either absent or stored with its right
// vector, never half-done.
func TestCancelledBatches(t *testing.T) {
	m, s, profPort := shared(t)
	s.createClass(t, hostileClass("Cut"))
	pid := s.pid(t)
	ctx := context.Background()

	images := make([]string, 8)
	for i := range images {
		images[i] = b64(testimage.GradientPNG(600+i, 96, 80))
	}
	makeBatch := func(n int) ([]byte, map[string]hostileCase) {
		objs := make([][]byte, n)
		cases := map[string]hostileCase{}
		for i := range objs {
			c := hostileCase{name: "cut", title: str(fmt.Sprintf("%s %d", phrases[i%len(phrases)], i)), image: images[i%len(images)]}
			id := uuid.NewString()
			cases[id] = c
			objs[i] = c.objectJSON(t, "Cut", id)
		}
		return batchBody(t, objs...), cases
	}

	// Warm up, then the baselines.
	body, _ := makeBatch(50)
	_, err := s.batch(ctx, body)
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	baseG := goroutines(profPort)
	require.Positive(t, baseG, "pprof on GO_PROFILING_PORT")
	baseRSS := rssMiB(t, pid)

	rounds, size := 3, 500
	if stressMode() {
		rounds, size = 30, 1000
	}
	all := map[string]hostileCase{}
	cut := 0
	for i := range rounds {
		body, cases := makeBatch(size)
		for id, c := range cases {
			all[id] = c
		}
		cctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		_, err := s.batch(cctx, body)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			cut++
		} else {
			require.NoError(t, err, "round %d", i)
		}
		require.True(t, s.ready(), "not ready after round %d", i)
	}
	require.Positive(t, cut, "no batch was cut short: the timeout is too long for this machine")

	// The server serves, and what it does not need any more it releases.
	require.NoError(t, s.query(ctx, `{Get{Cut(nearText:{concepts:["der Hund"]}, limit: 3){note}}}`))
	var g int
	deadline := time.Now().Add(60 * time.Second)
	for {
		g = goroutines(profPort)
		if (g >= 0 && g <= baseG+30) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	rss := rssMiB(t, pid)
	t.Logf("%d of %d batches of %d cut by a 150 ms client timeout; goroutines %d before, %d after; RSS %.0f MiB before, %.0f MiB after",
		cut, rounds, size, baseG, g, baseRSS, rss)
	assert.LessOrEqual(t, g, baseG+30, "goroutines left behind by cancelled batches")
	assert.Less(t, rss-baseRSS, 512.0, "memory held after cancelled batches")

	// Nothing half-done: every stored object of the cut batches has its
	// vector.
	stored := s.allVectors(t, "Cut")
	ids := []string{}
	for id := range stored {
		if _, ok := all[id]; ok {
			ids = append(ids, id)
		}
	}
	want := m.titleImageVectors(t, ctx, ids, all, images)
	bad := 0
	for _, id := range ids {
		if vectorDiff(want[id], stored[id]) > vectorTolerance {
			bad++
		}
	}
	t.Logf("%d of the %d objects sent in cut batches were stored, each with its vector checked", len(ids), len(all))
	assert.Zero(t, bad, "objects stored with a wrong or missing vector")
}

// TestInferenceAPIKilledDuringImport runs stock Weaviate's multi2vec-clip
// against `mclip serve`, kills the server (SIGKILL) in the middle of an
// import and starts it again (five times): objects imported while it was down fail
// with an error the client sees, none is stored without its vector, and
// after a retry every object is there with the facade's vector.
//
// Long form only (MCLIP_STRESS=1, make stress, which builds
// bin/weaviate-stock; make test does not).
func TestInferenceAPIKilledDuringImport(t *testing.T) {
	if !stressMode() {
		t.Skip("long form: MCLIP_STRESS=1 (make stress)")
	}
	stock := harness.Binary(t, "weaviate-stock",
		"go build -o bin/weaviate-stock github.com/weaviate/weaviate/cmd/weaviate-server (from a module requiring github.com/weaviate/weaviate v1.35.2)")
	mclipBin := harness.Binary(t, "mclip", "make build")
	m := tinyModels(t, 13, nil)
	const token = "kill-test"
	port := harness.FreePort(t)
	serveCfg := harness.Config{
		Binary:   mclipBin,
		Args:     []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port)},
		Env:      map[string]string{"MCLIP_API_TOKEN": token, "MCLIP_MODEL_DIR": m.dir, "MCLIP_THREADS": "1"},
		ReadyURL: fmt.Sprintf("http://127.0.0.1:%d/.well-known/ready", port),
	}
	if lib := filepath.Join(harness.RepoRoot(t), "third_party", "onnxruntime", "libonnxruntime.so.1"); fileExists(lib) {
		serveCfg.Env["ONNXRUNTIME_LIB"] = lib
	}
	harness.Start(t, serveCfg)
	w := harness.StartWeaviate(t, stock, map[string]string{
		"ENABLE_MODULES":     "multi2vec-clip",
		"CLIP_INFERENCE_API": fmt.Sprintf("http://mclip:%s@127.0.0.1:%d", token, port),
	})
	s := &server{Weaviate: w, http: &http.Client{Timeout: 2 * time.Minute}}
	s.createClass(t, map[string]any{
		"class":        "Caption",
		"vectorizer":   "multi2vec-clip",
		"moduleConfig": map[string]any{"multi2vec-clip": map[string]any{"textFields": []string{"title"}}},
		"properties":   []map[string]any{{"name": "title", "dataType": []string{"text"}}, {"name": "note", "dataType": []string{"text"}}},
	})
	ctx := context.Background()

	var (
		mu      sync.Mutex
		titles  = map[string]string{} // id -> title
		failed  = map[string]string{} // id -> error
		okCount int
	)
	importBatch := func(round int) error {
		var objs [][]byte
		ids := make([]string, 10)
		for i := range ids {
			ids[i] = uuid.NewString()
			title := fmt.Sprintf("%s %d-%d", phrases[(round+i)%len(phrases)], round, i)
			c := hostileCase{name: "kill", title: &title}
			objs = append(objs, c.objectJSON(t, "Caption", ids[i]))
			mu.Lock()
			titles[ids[i]] = title
			mu.Unlock()
		}
		errs, err := s.batch(ctx, batchBody(t, objs...))
		if err != nil {
			return err
		}
		mu.Lock()
		refused := 0
		for _, id := range ids {
			if e := errs[id]; e != "" {
				failed[id] = e
				refused++
			} else {
				okCount++
			}
		}
		mu.Unlock()
		if refused > 0 {
			time.Sleep(100 * time.Millisecond) // a client's back-off
		}
		return nil
	}

	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for round := 0; ; round++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := importBatch(round); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(time.Second)
	kills := 1
	if stressMode() {
		kills = 5
	}
	for range kills {
		pid := pidOfArgs(t, mclipBin, "--addr", fmt.Sprintf("127.0.0.1:%d", port))
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		killedAt := time.Now()
		time.Sleep(time.Second) // imports meet a dead inference API
		harness.Start(t, serveCfg)
		t.Logf("mclip serve killed and back in %s", time.Since(killedAt).Round(time.Millisecond))
		time.Sleep(time.Second) // imports go on against the new one
	}
	close(stop)
	require.NoError(t, <-done)

	mu.Lock()
	nFailed, nOK := len(failed), okCount
	var sample string
	for _, e := range failed {
		sample = e
		break
	}
	mu.Unlock()
	t.Logf("during the import: %d objects stored, %d refused with an error (e.g. %q)", nOK, nFailed, clip([]byte(sample)))
	require.Positive(t, nFailed, "no import met the dead inference API")
	require.Positive(t, nOK)

	// Refused objects are absent; retried, they land.
	var retry [][]byte
	for id := range failed {
		_, found, err := s.object(ctx, "Caption", id, "")
		require.NoError(t, err)
		assert.False(t, found, "a refused object was stored")
		c := hostileCase{name: "kill", title: str(titles[id])}
		retry = append(retry, c.objectJSON(t, "Caption", id))
	}
	for i := 0; i < len(retry); i += 100 {
		errs, err := s.batch(ctx, batchBody(t, retry[i:min(i+100, len(retry))]...))
		require.NoError(t, err)
		for id, e := range errs {
			require.Empty(t, e, "retry of %s", id)
		}
	}

	// Every object, with the facade's vector.
	stored := s.allVectors(t, "Caption")
	ids := make([]string, 0, len(titles))
	texts := make([]string, 0, len(titles))
	for id, title := range titles {
		ids = append(ids, id)
		texts = append(texts, title)
	}
	vecs, errs := m.vec.EncodeTexts(ctx, texts)
	require.NoError(t, errors.Join(errs...))
	lost, wrong := 0, 0
	for i, id := range ids {
		got, ok := stored[id]
		switch {
		case !ok:
			lost++
		case vectorDiff(vecs[i], got) > vectorTolerance:
			wrong++
		}
	}
	t.Logf("%d objects in the end; lost %d, wrong vector %d", len(ids), lost, wrong)
	assert.Zero(t, lost, "objects lost")
	assert.Zero(t, wrong, "objects with a wrong vector")
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// pidOfArgs finds a process of binary whose arguments hold flag value.
func pidOfArgs(t testing.TB, binary, flag, value string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := bytes.Split(raw, []byte{0})
		if len(args) == 0 || string(args[0]) != binary {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if string(args[i]) == flag && string(args[i+1]) == value {
				var pid int
				_, err := fmt.Sscan(e.Name(), &pid)
				require.NoError(t, err)
				return pid
			}
		}
	}
	t.Fatalf("no process %s %s %s", binary, flag, value)
	return 0
}
