package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
)

// facebook-metaclip-2-worldwide-b32-384 through the CLI: models gen writes
// the repository's files (weights, no ONNX), embed builds the graphs and
// returns unit vectors, a snapshot of the repository (its files in one
// directory) gives the same vectors, and serve answers /meta with the
// CLIPConfig and the text pooling that runs.
func TestMetaCLIP2Commands(t *testing.T) {
	for _, k := range []string{"MCLIP_MODEL", "MCLIP_MODEL_DIR", "MCLIP_VARIANT", "MCLIP_API_TOKEN", "MCLIP_REPLACE_MULTI2VEC_CLIP", "MCLIP_OPTIMIZED_CACHE_DIR"} {
		t.Setenv(k, "")
	}
	dir := filepath.Join(t.TempDir(), "metaclip")
	out, errOut, code := runCLI(t, "models", "gen", "--model", catalog.MetaCLIP2B32, "--out", dir)
	require.Equal(t, 0, code, errOut)
	for _, f := range []string{"text/tokenizer.json", "text/config.json", "text/model.safetensors",
		"vision/config.json", "vision/model.safetensors", "vision/preprocessor_config.json"} {
		assert.Contains(t, out, f)
	}
	assert.NotContains(t, out, ".onnx")

	img := filepath.Join(t.TempDir(), "dog.png")
	writePNG(t, img, 500, 300, 40)
	embed := func(modelDir string) embedOutput {
		out, errOut, code := runCLI(t, "embed", "--model", catalog.MetaCLIP2B32, "--model-dir", modelDir, "--text", "un chien", img)
		require.Equal(t, 0, code, errOut)
		var emb embedOutput
		require.NoError(t, json.Unmarshal([]byte(out), &emb), out)
		require.Len(t, emb.Texts, 1)
		require.Len(t, emb.Images, 1)
		return emb
	}
	emb := embed(dir)
	for _, v := range [][]float32{emb.Texts[0].Vector, emb.Images[0].Vector} {
		require.Len(t, v, 512)
		assert.InDelta(t, 1, vecNorm(v), 1e-5)
	}

	snap := t.TempDir()
	for _, f := range []string{"text/tokenizer.json", "text/config.json", "text/model.safetensors", "vision/preprocessor_config.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(snap, filepath.Base(f)), b, 0o644))
	}
	assert.Equal(t, emb, embed(snap), "a snapshot of the repository is a model directory")
	require.NoError(t, os.Remove(filepath.Join(snap, "model.safetensors")))
	_, errOut, code = runCLI(t, "embed", "--model", catalog.MetaCLIP2B32, "--model-dir", snap, "--text", "x")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, "model.safetensors")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	logs := &syncWriter{}
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, []string{"serve", "--addr", addr, "--model", catalog.MetaCLIP2B32, "--model-dir", dir}, io.Discard, logs)
	}()
	url := "http://" + addr
	require.Eventually(t, func() bool {
		res, err := http.Get(url + "/.well-known/ready")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusNoContent
	}, 60*time.Second, 20*time.Millisecond, "ready; log:\n%s", logs)
	res, err := http.Get(url + "/meta")
	require.NoError(t, err)
	var meta map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&meta))
	res.Body.Close()
	assert.Equal(t, "metaclip_2", meta["model_type"], "the repository's config itself")
	assert.Contains(t, meta, "text_config")
	mc := meta["mclip"].(map[string]any)
	assert.Equal(t, catalog.MetaCLIP2B32, mc["model"])
	assert.Equal(t, "eos", mc["textPooling"], "new collections get the model's own pooling")
	stop()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}
