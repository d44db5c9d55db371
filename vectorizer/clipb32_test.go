package vectorizer

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/testfixture/testimage"
)

// sentence-transformers-clip-ViT-B-32 end to end on a generated tiny model
// in its real layout: CLIP's BPE and text tower, the default's vision tower,
// vectors as the graphs return them (not normalised, as
// sentence-transformers returns them).
func TestOpenCLIPB32(t *testing.T) {
	dir := t.TempDir()
	_, err := modelgen.Write(modelgen.Options{Model: catalog.CLIPB32, Out: dir, Seed: 9})
	require.NoError(t, err)
	cfg := config.Default()
	cfg.Model, cfg.ModelDir, cfg.Threads = catalog.CLIPB32, dir, 1
	v, err := Open(context.Background(), cfg, OpenOptions{})
	require.NoError(t, err)
	defer v.Close()
	info := v.Info()
	assert.Equal(t, catalog.CLIPB32, info.Model)
	assert.Equal(t, "Xenova/clip-vit-base-patch32", info.Text.Repo)
	assert.Equal(t, "onnx/text_model.onnx", info.Text.File)
	assert.Equal(t, "onnx/vision_model.onnx", info.Vision.File)
	assert.Equal(t, 512, info.Dimensions)
	assert.Nil(t, v.Text(), "no sentence-transformers text stack")

	texts := []string{"A dog in the snow", "a  DOG in the snow", "Eine Katze", "", "雪の中の犬"}
	vecs, errs := v.EncodeTexts(context.Background(), texts)
	for i, err := range errs {
		require.NoError(t, err, "text %d", i)
		require.Len(t, vecs[i], 512)
	}
	assert.Equal(t, vecs[0], vecs[1], "CLIP's normalizer collapses whitespace and lower-cases")
	assert.NotEqual(t, vecs[0], vecs[2])
	assert.Greater(t, math.Abs(norm(vecs[0])-1), 1e-3, "not normalised")

	imgs, errs := v.EncodeImages(context.Background(), [][]byte{testimage.GradientPNG(1, 40, 30), []byte("not an image")})
	require.NoError(t, errs[0])
	assert.Len(t, imgs[0], 512)
	assert.Error(t, errs[1], "bad input gets its own error")
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// A snapshot of the tag's one hub repository (its files as published, as
// huggingface-cli download writes them) serves as MCLIP_MODEL_DIR: the same
// vectors as the text/ and vision/ layout; a missing file is named by its
// repository path with the command that fetches it.
func TestOpenCLIPB32Snapshot(t *testing.T) {
	layout := t.TempDir()
	_, err := modelgen.Write(modelgen.Options{Model: catalog.CLIPB32, Out: layout, Seed: 9})
	require.NoError(t, err)
	snap := t.TempDir()
	// The repository has one config.json, the CLIPConfig the text
	// directory holds.
	require.NoError(t, os.CopyFS(snap, os.DirFS(filepath.Join(layout, "text"))))
	for _, rel := range []string{"preprocessor_config.json", "onnx/vision_model.onnx"} {
		require.NoError(t, copyFile(filepath.Join(layout, "vision", rel), filepath.Join(snap, rel)))
	}
	open := func(dir string) (*Encoder, error) {
		cfg := config.Default()
		cfg.Model, cfg.ModelDir, cfg.Threads, cfg.OptimizedCacheDir = catalog.CLIPB32, dir, 1, "off"
		return Open(context.Background(), cfg, OpenOptions{})
	}
	a, err := open(layout)
	require.NoError(t, err)
	defer a.Close()
	b, err := open(snap)
	require.NoError(t, err)
	defer b.Close()
	texts := []string{"a dog", "Eine Katze"}
	va, _ := a.EncodeTexts(context.Background(), texts)
	vb, errs := b.EncodeTexts(context.Background(), texts)
	require.NoError(t, errs[0])
	assert.Equal(t, va, vb)
	img := [][]byte{testimage.GradientPNG(3, 50, 20)}
	ia, _ := a.EncodeImages(context.Background(), img)
	ib, errs := b.EncodeImages(context.Background(), img)
	require.NoError(t, errs[0])
	assert.Equal(t, ia, ib)
	assert.Equal(t, "onnx/text_model.onnx", b.Info().Text.File)

	require.NoError(t, os.Remove(filepath.Join(snap, "onnx", "text_model.onnx")))
	_, err = open(snap)
	var dirErr *DirError
	require.ErrorAs(t, err, &dirErr)
	assert.Contains(t, err.Error(), "onnx/text_model.onnx")
	assert.NotContains(t, err.Error(), "text/onnx")
	assert.Contains(t, err.Error(), "huggingface-cli download Xenova/clip-vit-base-patch32 --local-dir "+snap)
}
