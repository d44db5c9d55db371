package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/modelstore/hubtest"
)

// TestMakeRun runs the README's main command as a new user would, with the
// Hugging Face hub replaced by a local fake one serving generated models:
// `make run` must pull and verify the models into an empty cache, start
// weaviate-mclip on loopback with a local data directory, and answer a
// multilingual nearText query.
func TestMakeRun(t *testing.T) {
	harness.Binary(t, "weaviate-mclip", "run `make weaviate` first")
	harness.Binary(t, "mclip", "run `make build` first")
	makePath, err := exec.LookPath("make")
	require.NoError(t, err)

	models := t.TempDir()
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: models, Size: modelgen.Tiny, Seed: 21}))
	repos, err := hubtest.FromModelDir(models)
	require.NoError(t, err)
	hub := hubtest.New(repos)
	defer hub.Close()

	cache, data := t.TempDir(), t.TempDir()
	ports := weaviatePorts{
		rest: harness.FreePort(t), grpc: harness.FreePort(t), gossip: harness.FreePort(t),
		data: harness.FreePort(t), raft: harness.FreePort(t), raftRPC: harness.FreePort(t),
	}
	port, grpcPort := ports.rest, ports.grpc
	env := map[string]string{
		"HF_ENDPOINT":              hub.URL,
		"MCLIP_CACHE_DIR":          cache,
		"HF_HUB_CACHE":             t.TempDir(),
		"GOFLAGS":                  os.Getenv("GOFLAGS"),
		"CI":                       os.Getenv("CI"),
		"CLUSTER_GOSSIP_BIND_PORT": fmt.Sprint(ports.gossip),
		"CLUSTER_DATA_BIND_PORT":   fmt.Sprint(ports.data),
		"RAFT_PORT":                fmt.Sprint(ports.raft),
		"RAFT_INTERNAL_RPC_PORT":   fmt.Sprint(ports.raftRPC),
		"DISABLE_TELEMETRY":        "true",
	}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	srv := harness.Start(t, harness.Config{
		Binary: makePath,
		Args: []string{"-C", harness.RepoRoot(t), "--no-print-directory", "run",
			fmt.Sprintf("RUN_PORT=%d", port), fmt.Sprintf("RUN_GRPC_PORT=%d", grpcPort), "RUN_DATA=" + data},
		Env:          env,
		ReadyURL:     fmt.Sprintf("http://127.0.0.1:%d/v1/.well-known/ready", port),
		StartTimeout: 8 * time.Minute,
	})

	// the models were pulled into the empty cache, verified and pinned
	modelDir := filepath.Join(cache, "models", "main")
	lock, err := modelstore.ReadLock(filepath.Join(modelDir, modelstore.LockFileName))
	require.NoError(t, err)
	assert.NotEmpty(t, lock.Files)
	for _, rel := range []string{"text/onnx/model.onnx", "vision/onnx/vision_model.onnx", "text/tokenizer.json"} {
		e, ok := lock.Entry(rel)
		require.True(t, ok, rel)
		want, err := os.ReadFile(filepath.Join(models, filepath.FromSlash(rel)))
		require.NoError(t, err)
		assert.Equal(t, hubtest.SHA256(want), e.SHA256, rel)
	}
	// the sockets are the documented ones: nothing beyond loopback but
	// what Weaviate forces there, no profiling server
	assert.ElementsMatch(t, wantListeners(ports), listeners(t, srv))
	assertNoProfilingServer(t, srv.Logs())

	logs := srv.Logs()
	assert.Contains(t, logs, "Try:")
	assert.Contains(t, logs, fmt.Sprintf("http://127.0.0.1:%d", port))

	base := fmt.Sprintf("http://127.0.0.1:%d/v1", port)
	post := func(path, body string) map[string]any {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Less(t, resp.StatusCode, 300, "%s: %s", path, raw)
		var out map[string]any
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
		return out
	}
	post("/schema", `{"class":"Doc","vectorizer":"multi2vec-mclip","moduleConfig":{"multi2vec-mclip":{"textFields":["text"]}},
		"properties":[{"name":"text","dataType":["text"]},{"name":"image","dataType":["blob"]}]}`)
	for _, text := range []string{"ein Hund spielt im Schnee", "un chat sur le canapé", "海辺のヤシの木"} {
		post("/objects", fmt.Sprintf(`{"class":"Doc","properties":{"text":%q}}`, text))
	}
	res := post("/graphql", `{"query":"{Get{Doc(nearText:{concepts:[\"un chat sur le canapé\"]},limit:1){text _additional{distance}}}}"}`)
	raw, _ := json.Marshal(res)
	require.NotContains(t, string(raw), `"errors"`, string(raw))
	hits := res["data"].(map[string]any)["Get"].(map[string]any)["Doc"].([]any)
	require.Len(t, hits, 1)
	top := hits[0].(map[string]any)
	assert.Equal(t, "un chat sur le canapé", top["text"])
	assert.InDelta(t, 0, top["_additional"].(map[string]any)["distance"], 1e-4)

	// the data went to the directory asked for
	entries, err := os.ReadDir(data)
	require.NoError(t, err)
	assert.NotEmpty(t, entries)
}
