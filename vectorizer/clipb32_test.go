package vectorizer

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/testfixture/testimage"
)

// sentence-transformers-clip-ViT-B-32 end to end on a generated tiny model
// in its real layout: CLIP's BPE and text tower, the default's image tower,
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
