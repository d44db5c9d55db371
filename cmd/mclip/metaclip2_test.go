package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/modelstore/hubtest"
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

	meta := serveMeta(t, "--model", catalog.MetaCLIP2B32, "--model-dir", dir)
	assert.Equal(t, "metaclip_2", meta["model_type"], "the repository's config itself")
	assert.Contains(t, meta, "text_config")
	mc := meta["mclip"].(map[string]any)
	assert.Equal(t, catalog.MetaCLIP2B32, mc["model"])
	assert.Equal(t, "eos", mc["textPooling"], "new collections get the model's own pooling")
}

// mclip models pull --model facebook-metaclip-2-worldwide-b32-384 fetches
// the repository's weights once for both towers (the second is a link to
// the first, verified), and embed then builds the graphs offline.
func TestMetaCLIP2Pull(t *testing.T) {
	for _, k := range []string{"MCLIP_MODEL", "MCLIP_MODEL_DIR", "MCLIP_VARIANT", "MCLIP_MODELS_LOCK", "HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "MCLIP_OPTIMIZED_CACHE_DIR"} {
		t.Setenv(k, "")
	}
	gen := t.TempDir()
	_, errOut, code := runCLI(t, "models", "gen", "--model", catalog.MetaCLIP2B32, "--out", gen)
	require.Equal(t, 0, code, errOut)
	repo, err := hubtest.ReadDir(filepath.Join(gen, "text"))
	require.NoError(t, err)
	vision, err := hubtest.ReadDir(filepath.Join(gen, "vision"))
	require.NoError(t, err)
	for p, b := range vision {
		if _, ok := repo[p]; !ok {
			repo[p] = b
		}
	}
	hub := hubtest.New(map[string]map[string][]byte{"facebook/metaclip-2-worldwide-b32-384": repo})
	t.Cleanup(hub.Close)
	cache := t.TempDir()
	t.Setenv("MCLIP_CACHE_DIR", cache)
	t.Setenv("HF_ENDPOINT", hub.URL)
	want := filepath.Join(cache, "models", catalog.MetaCLIP2B32, "main")

	out, errOut, code := runCLI(t, "models", "pull", "--model", catalog.MetaCLIP2B32)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, want+"\n", out)
	assert.Contains(t, errOut, "the same file as the other tower's")
	a, err := os.Stat(filepath.Join(want, "text", "model.safetensors"))
	require.NoError(t, err)
	b, err := os.Stat(filepath.Join(want, "vision", "model.safetensors"))
	require.NoError(t, err)
	assert.True(t, os.SameFile(a, b), "one copy on disk")

	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("MCLIP_MODEL", catalog.MetaCLIP2B32)
	out, errOut, code = runCLI(t, "models", "verify")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 6, strings.Count(out, "ok "))
	out, errOut, code = runCLI(t, "embed", "--text", "un chien")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"vector"`)
}
