package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/modelstore/hubtest"
)

func vecNorm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// openai-clip-vit-base-patch16 through the CLI: models gen writes the
// layout of Xenova/clip-vit-base-patch16, embed returns unit vectors as
// the image's CLIPModel branch does, serve answers /meta with the
// CLIPConfig itself, and models pull fetches the tag's one repository.
func TestOpenAIB16Commands(t *testing.T) {
	for _, k := range []string{"MCLIP_MODEL", "MCLIP_MODEL_DIR", "MCLIP_VARIANT", "MCLIP_API_TOKEN", "MCLIP_MODELS_LOCK", "HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		t.Setenv(k, "")
	}
	dir := filepath.Join(t.TempDir(), "b16")
	out, errOut, code := runCLI(t, "models", "gen", "--model", catalog.OpenAIB16, "--out", dir)
	require.Equal(t, 0, code, errOut)
	for _, f := range []string{"text/tokenizer.json", "text/config.json", "text/onnx/text_model.onnx",
		"vision/config.json", "vision/onnx/vision_model.onnx", "vision/preprocessor_config.json"} {
		assert.Contains(t, out, f)
	}

	img := filepath.Join(t.TempDir(), "dog.png")
	writePNG(t, img, 300, 170, 40)
	out, errOut, code = runCLI(t, "embed", "--model", catalog.OpenAIB16, "--model-dir", dir, "--text", "a dog", img)
	require.Equal(t, 0, code, errOut)
	var emb embedOutput
	require.NoError(t, json.Unmarshal([]byte(out), &emb), out)
	require.Len(t, emb.Texts, 1)
	require.Len(t, emb.Images, 1)
	for _, v := range [][]float32{emb.Texts[0].Vector, emb.Images[0].Vector} {
		require.Len(t, v, 512)
		assert.InDelta(t, 1, vecNorm(v), 1e-5, "normalised as CLIPModel's branch returns them")
	}

	meta := serveMeta(t, "--model", catalog.OpenAIB16, "--model-dir", dir)
	assert.Equal(t, "clip", meta["model_type"], "the CLIPConfig itself, as the image's meta.py returns it")
	assert.Contains(t, meta, "text_config")
	assert.Contains(t, meta, "vision_config")
	assert.NotContains(t, meta, "clip_model")
	assert.Equal(t, catalog.OpenAIB16, meta["mclip"].(map[string]any)["model"])

	// The repository as published: one config.json (the CLIPConfig) for
	// both towers.
	repo, err := hubtest.ReadDir(filepath.Join(dir, "text"))
	require.NoError(t, err)
	vision, err := hubtest.ReadDir(filepath.Join(dir, "vision"))
	require.NoError(t, err)
	for p, b := range vision {
		if _, ok := repo[p]; !ok {
			repo[p] = b
		}
	}
	hub := hubtest.New(map[string]map[string][]byte{"Xenova/clip-vit-base-patch16": repo})
	t.Cleanup(hub.Close)
	cache := t.TempDir()
	t.Setenv("MCLIP_CACHE_DIR", cache)
	t.Setenv("HF_ENDPOINT", hub.URL)
	out, errOut, code = runCLI(t, "models", "pull", "--model", catalog.OpenAIB16)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, filepath.Join(cache, "models", catalog.OpenAIB16, "main")+"\n", out)
	assert.Contains(t, errOut, "Xenova/clip-vit-base-patch16@")
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("MCLIP_MODEL", catalog.OpenAIB16)
	out, errOut, code = runCLI(t, "embed", "--text", "a dog")
	require.Equal(t, 0, code, errOut)
	var pulled embedOutput
	require.NoError(t, json.Unmarshal([]byte(out), &pulled), out)
	assert.Equal(t, emb.Texts[0].Vector, pulled.Texts[0].Vector, "the pulled files are the generated ones")
}

// mclip preprocess crops as the tag's image does: the fast processor's
// torchvision resize for openai-clip-vit-base-patch16, Pillow's for the
// default, from the same preprocessor_config.json.
func TestPreprocessPerTag(t *testing.T) {
	t.Setenv("MCLIP_MODEL_DIR", "")
	t.Setenv("MCLIP_MODEL", "")
	img := filepath.Join(t.TempDir(), "dog.png")
	writePNG(t, img, 301, 173, 9)
	crops := map[string]string{}
	for _, tag := range []string{catalog.OpenAIB16, catalog.CLIPB32} {
		dir := t.TempDir()
		_, errOut, code := runCLI(t, "models", "gen", "--model", tag, "--towers", "vision", "--out", dir)
		require.Equal(t, 0, code, errOut)
		out, errOut, code := runCLI(t, "preprocess", "--model", tag, "--model-dir", dir, "--out", t.TempDir(), img)
		require.Equal(t, 0, code, errOut)
		var res struct {
			Images []preprocessResult `json:"images"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &res), out)
		require.Len(t, res.Images, 1)
		crops[tag] = res.Images[0].CropSHA256
	}
	assert.NotEqual(t, crops[catalog.OpenAIB16], crops[catalog.CLIPB32], "torchvision's and Pillow's resizes differ")
}
