package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mclip-go/mclip/catalog"
)

// --model (and MCLIP_MODEL) names the model on every command that opens
// models: an unknown tag is a usage error listing the known ones; a known
// tag this build cannot run fails with what it lacks, before any file is
// read or fetched.
func TestModelFlag(t *testing.T) {
	for _, k := range []string{"MCLIP_MODEL", "MCLIP_MODEL_DIR", "MCLIP_VARIANT", "MCLIP_MODELS_LOCK", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("MCLIP_CACHE_DIR", t.TempDir())
	img := filepath.Join(t.TempDir(), "a.png")
	writePNG(t, img, 8, 8, 1)
	out := t.TempDir()
	commands := [][]string{
		{"embed", "--text", "hallo"},
		{"similarity", "--text", "hallo", img},
		{"tokenize", "--text", "hallo"},
		{"serve", "--addr", "127.0.0.1:0"},
		{"preprocess", "--model-dir", out, "--out", out, img},
		{"models", "pull"},
		{"models", "path"},
		{"models", "verify"},
		{"models", "gen", "--out", out},
	}
	for _, cmd := range commands {
		name := strings.Join(cmd[:min(2, len(cmd))], " ")
		t.Run(name+"/unknown", func(t *testing.T) {
			_, errOut, code := runCLI(t, append(append([]string{}, cmd...), "--model", "clip-ViT-L-14")...)
			assert.Equal(t, 2, code, errOut)
			assert.Contains(t, errOut, `unknown model "clip-ViT-L-14"`)
			assert.Contains(t, errOut, catalog.Default)
		})
		t.Run(name+"/not yet available", func(t *testing.T) {
			_, errOut, code := runCLI(t, append(append([]string{}, cmd...), "--model", catalog.OpenCLIPB16)...)
			assert.NotEqual(t, 0, code, errOut)
			assert.Contains(t, errOut, catalog.OpenCLIPB16+" is not yet available")
			assert.NotContains(t, errOut, "downloading")
		})
	}
	t.Run("from the environment", func(t *testing.T) {
		t.Setenv("MCLIP_MODEL", catalog.OpenCLIPB16)
		_, errOut, code := runCLI(t, "embed", "--text", "hallo")
		assert.NotEqual(t, 0, code)
		assert.Contains(t, errOut, catalog.OpenCLIPB16+" is not yet available")
	})
}

func TestModelsListCatalog(t *testing.T) {
	for _, k := range []string{"MCLIP_MODEL", "MCLIP_MODEL_DIR", "MCLIP_VARIANT", "MCLIP_MODELS_LOCK"} {
		t.Setenv(k, "")
	}
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("MCLIP_CACHE_DIR", t.TempDir())

	out, errOut, code := runCLI(t, "models", "list")
	assert.Equal(t, 0, code, errOut)
	for _, m := range catalog.All() {
		line := lineWith(out, " "+m.Tag+" ")
		assert.NotEmpty(t, line, "%s is listed", m.Tag)
		assert.Contains(t, line, m.Text.Repo)
		assert.Contains(t, line, m.Status())
		assert.Equal(t, m.Tag == catalog.Default, strings.HasPrefix(line, "* "), "the selected model is marked: %q", line)
	}
	assert.Contains(t, out, "files of "+catalog.Default)
	assert.Contains(t, out, "text/onnx/model.onnx")

	out, errOut, code = runCLI(t, "models", "list", "--model", catalog.OpenCLIPB16)
	assert.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(lineWith(out, " "+catalog.OpenCLIPB16+" "), "* "))
	assert.Contains(t, out, catalog.OpenCLIPB16+" is not yet available: needs ")
	assert.NotContains(t, out, "FILE", "no files for a model this build cannot run")
}

// lineWith returns the first line of s containing sub.
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
