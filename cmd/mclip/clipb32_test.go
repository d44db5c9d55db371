package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/modelstore/hubtest"
)

// sentence-transformers-clip-ViT-B-32 through the CLI: models gen writes
// its real layout, embed and tokenize read it, serve answers with that
// image's /meta.
func TestCLIPB32Commands(t *testing.T) {
	for _, k := range []string{"MCLIP_MODEL", "MCLIP_MODEL_DIR", "MCLIP_VARIANT", "MCLIP_API_TOKEN"} {
		t.Setenv(k, "")
	}
	dir := filepath.Join(t.TempDir(), "b32")
	out, errOut, code := runCLI(t, "models", "gen", "--model", catalog.CLIPB32, "--out", dir)
	require.Equal(t, 0, code, errOut)
	for _, f := range []string{"text/tokenizer.json", "text/config.json", "text/onnx/text_model.onnx", "vision/onnx/vision_model.onnx", "vision/preprocessor_config.json"} {
		assert.Contains(t, out, f)
	}
	assert.NotContains(t, out, "modules.json")

	out, errOut, code = runCLI(t, "embed", "--model", catalog.CLIPB32, "--model-dir", dir, "--text", "a dog")
	require.Equal(t, 0, code, errOut)
	var emb struct {
		Texts []struct{ Vector []float32 } `json:"texts"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &emb), out)
	require.Len(t, emb.Texts, 1)
	assert.Len(t, emb.Texts[0].Vector, 512)

	t.Setenv("MCLIP_MODEL", catalog.CLIPB32)
	out, errOut, code = runCLI(t, "tokenize", "--model-dir", dir, "--text", strings.Repeat("word ", 100))
	require.Equal(t, 0, code, errOut)
	var tok struct {
		Texts []struct {
			InputIDs []int64 `json:"input_ids"`
		} `json:"texts"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &tok))
	assert.Len(t, tok.Texts[0].InputIDs, 77, "truncated to CLIP's positions")

	// The directory of one tag never serves another.
	_, errOut, code = runCLI(t, "embed", "--model", catalog.Default, "--model-dir", dir, "--text", "a dog")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, "modules.json")

	meta := serveMeta(t, "--model", catalog.CLIPB32, "--model-dir", dir)
	assert.Equal(t, "clip", meta["clip_model"].(map[string]any)["model_type"])
	assert.Equal(t, "clip", meta["text_model"].(map[string]any)["model_type"], "the text model is CLIP's, as the image's 0_CLIPModel config")
	assert.Equal(t, catalog.CLIPB32, meta["mclip"].(map[string]any)["model"])
}

// mclip models pull --model TAG fetches that tag's files from its one
// repository into a cache directory of its own, pinned in its lock; the
// tag then runs offline from the cache.
func TestCLIPB32Pull(t *testing.T) {
	for _, k := range []string{"MCLIP_MODEL", "MCLIP_MODEL_DIR", "MCLIP_VARIANT", "MCLIP_MODELS_LOCK", "HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		t.Setenv(k, "")
	}
	gen := t.TempDir()
	_, errOut, code := runCLI(t, "models", "gen", "--model", catalog.CLIPB32, "--out", gen)
	require.Equal(t, 0, code, errOut)
	// The repository as published: the text directory's files, and the
	// vision directory's beside them (one config.json, the CLIPConfig).
	repo, err := hubtest.ReadDir(filepath.Join(gen, "text"))
	require.NoError(t, err)
	vision, err := hubtest.ReadDir(filepath.Join(gen, "vision"))
	require.NoError(t, err)
	for p, b := range vision {
		if _, ok := repo[p]; !ok {
			repo[p] = b
		}
	}
	hub := hubtest.New(map[string]map[string][]byte{"Xenova/clip-vit-base-patch32": repo})
	t.Cleanup(hub.Close)
	cache := t.TempDir()
	t.Setenv("MCLIP_CACHE_DIR", cache)
	t.Setenv("HF_ENDPOINT", hub.URL)
	want := filepath.Join(cache, "models", catalog.CLIPB32, "main")

	out, errOut, code := runCLI(t, "models", "pull", "--model", catalog.CLIPB32)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, want+"\n", out)
	assert.Contains(t, errOut, "6 files downloaded")
	assert.Contains(t, errOut, "Xenova/clip-vit-base-patch32@")

	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("MCLIP_MODEL", catalog.CLIPB32)
	out, errOut, code = runCLI(t, "models", "verify")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 6, strings.Count(out, "ok "))
	out, errOut, code = runCLI(t, "embed", "--text", "a dog")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"vector"`)

	// The default model's cache is elsewhere and still empty.
	_, errOut, code = runCLI(t, "models", "verify", "--model", catalog.Default)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, filepath.Join(cache, "models", "main"))
}
