package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/imagedecode"
)

const goldenImages = "../../vectorizer/imagedecode/testdata"

// goldenCrop returns the Pillow crop sha256 recorded for an image.
func goldenCrop(t *testing.T, file string) (string, int, int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenImages, "golden.json"))
	require.NoError(t, err)
	var g struct {
		Images []struct {
			File          string `json:"file"`
			Width, Height int
			CropSHA256    string `json:"crop_sha256"`
		} `json:"images"`
	}
	require.NoError(t, json.Unmarshal(b, &g))
	for _, im := range g.Images {
		if im.File == file {
			return im.CropSHA256, im.Width, im.Height
		}
	}
	t.Fatalf("%s not in the goldens", file)
	return "", 0, 0
}

func TestPreprocessCommand(t *testing.T) {
	model := t.TempDir()
	cfg, err := os.ReadFile("../../vectorizer/clipprep/testdata/preprocessor_config.json")
	require.NoError(t, err)
	dir := modelstore.Dir{Root: model}
	require.NoError(t, os.MkdirAll(filepath.Dir(dir.Vision(modelstore.PreprocessorConfig)), 0o755))
	require.NoError(t, os.WriteFile(dir.Vision(modelstore.PreprocessorConfig), cfg, 0o644))
	t.Setenv("MCLIP_MODEL_DIR", "")

	bad := filepath.Join(t.TempDir(), "bad.png")
	require.NoError(t, os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644))
	images := []string{"png_333x517.png", "webp_lossless_alpha.webp", "gif_transparent.gif"}
	args := []string{"preprocess", "--model-dir", model, "--out", filepath.Join(t.TempDir(), "crops")}
	for _, f := range images {
		args = append(args, filepath.Join(goldenImages, "images", f))
	}
	args = append(args, bad, filepath.Join(goldenImages, "images", "png_333x517.png"))

	var stdout, stderr bytes.Buffer
	code := runMain(context.Background(), args, &stdout, &stderr)
	assert.Equal(t, 1, code, "one image failed")
	assert.Contains(t, stderr.String(), "decode png")
	var out struct {
		Images []preprocessResult `json:"images"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), stdout.String())
	require.Len(t, out.Images, 5)
	for i, f := range append(images, "", "png_333x517.png") {
		r := out.Images[i]
		if f == "" {
			assert.Contains(t, r.Error, "decode png")
			assert.Empty(t, r.CropSHA256)
			continue
		}
		require.Empty(t, r.Error)
		sha, w, h := goldenCrop(t, f)
		assert.Equal(t, sha, r.CropSHA256, f)
		assert.Equal(t, [2]int{w, h}, [2]int{r.Width, r.Height}, f)
		data, err := os.ReadFile(r.Crop)
		require.NoError(t, err)
		crop, err := imagedecode.Decode(data, imagedecode.Options{})
		require.NoError(t, err)
		assert.Equal(t, r.CropSHA256, shaOf(crop.Pix), "the PNG holds the crop")
	}
	assert.NotEqual(t, out.Images[0].Crop, out.Images[4].Crop, "same name twice gets two files")
}

func TestPreprocessUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no out", []string{"preprocess", "--model-dir", "x", "a.png"}, 2, "--out is required"},
		{"no images", []string{"preprocess", "--model-dir", "x", "--out", "o"}, 2, "no images"},
		{"missing config", []string{"preprocess", "--model-dir", "/nonexistent", "--out", t.TempDir(), "a.png"}, 1, "preprocessor config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, tt.code, runMain(context.Background(), tt.args, &stdout, &stderr))
			assert.Contains(t, stderr.String(), tt.want)
		})
	}
}

func shaOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
