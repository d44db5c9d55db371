package vectorizer

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/testfixture/testimage"
	"github.com/mclip-go/mclip/vectorizer/clipprep"
	"github.com/mclip-go/mclip/vectorizer/itemerror"
)

// openai-clip-vit-base-patch16 end to end on a generated tiny model in the
// layout of Xenova/clip-vit-base-patch16 (both towers from one CLIPModel
// checkpoint through clipgraph, whose graphs modelgen's
// TestCLIPGraphsMatchPyTorch holds to transformers' CLIPModel): the
// vectors are the graphs' outputs on the tokenizer's ids and on the fast
// processor's pixels, L2-normalised as the image's CLIPModel branch
// returns them.
func TestOpenAIB16(t *testing.T) {
	dir := t.TempDir()
	_, err := modelgen.Write(modelgen.Options{Model: catalog.OpenAIB16, Out: dir, Seed: 5})
	require.NoError(t, err)
	cfg := config.Default()
	cfg.Model, cfg.ModelDir, cfg.Threads, cfg.OptimizedCacheDir = catalog.OpenAIB16, dir, 1, "off"
	v, err := Open(context.Background(), cfg, OpenOptions{})
	require.NoError(t, err)
	defer v.Close()
	info := v.Info()
	assert.Equal(t, catalog.OpenAIB16, info.Model)
	assert.Equal(t, "Xenova/clip-vit-base-patch16", info.Text.Repo)
	assert.Equal(t, "Xenova/clip-vit-base-patch16", info.Vision.Repo)
	assert.Equal(t, "onnx/text_model.onnx", info.Text.File)
	assert.Equal(t, "onnx/vision_model.onnx", info.Vision.File)
	assert.Equal(t, 512, info.Dimensions)
	assert.Equal(t, clipprep.KindCLIPFast, v.vision.Preprocessor().Kind, "the image's CLIPProcessor(use_fast=True)")

	mdir := modelstore.Dir{Root: dir, Model: catalog.OpenAIB16}
	texts := []string{"A dog in the snow", "a  DOG in the snow", "Eine Katze", "", "雪の中の犬"}
	vecs, errs := v.EncodeTexts(context.Background(), texts)
	prep, err := LoadTextPreparer(cfg, mdir)
	require.NoError(t, err)
	for i, text := range texts {
		require.NoError(t, errs[i], "text %d", i)
		ids, err := prep.Tokenize(text)
		require.NoError(t, err)
		want := runGraph(t, filepath.Join(dir, "text", "onnx", "text_model.onnx"), "input_ids", "text_embeds",
			ort.NewShape(1, int64(len(ids))), ids)
		assertUnitAndParallel(t, vecs[i], want, "text %d", i)
	}
	assert.Equal(t, vecs[0], vecs[1], "CLIP's normalizer collapses whitespace and lower-cases")
	assert.NotEqual(t, vecs[0], vecs[2])

	imgs := [][]byte{testimage.GradientPNG(1, 300, 170), testimage.GradientPNG(4, 97, 251), []byte("not an image")}
	ivecs, errs := v.EncodeImages(context.Background(), imgs)
	for i, img := range imgs[:2] {
		require.NoError(t, errs[i], "image %d", i)
		px := make([]float32, v.vision.Preprocessor().TensorLen())
		require.NoError(t, v.vision.Preprocess(img, px))
		want := runGraph(t, filepath.Join(dir, "vision", "onnx", "vision_model.onnx"), "pixel_values", "image_embeds",
			ort.NewShape(1, 3, 224, 224), px)
		assertUnitAndParallel(t, ivecs[i], want, "image %d", i)
	}
	var item *itemerror.Error
	require.ErrorAs(t, errs[2], &item, "bad input gets its own error")
	assert.Equal(t, 2, item.Index)
}

// assertUnitAndParallel checks that got is a unit vector with cosine >=
// 0.9999 to want (a graph's raw output).
func assertUnitAndParallel(t *testing.T, got, want []float32, msg string, args ...any) {
	t.Helper()
	m := append([]any{msg}, args...)
	require.Len(t, got, len(want))
	assert.InDelta(t, 1, norm(got), 1e-5, m...)
	var dot float64
	for i := range got {
		dot += float64(got[i]) * float64(want[i])
	}
	assert.GreaterOrEqual(t, dot/(norm(got)*norm(want)), 0.9999, m...)
	assert.Greater(t, math.Abs(norm(want)-1), 1e-3, append([]any{"the graph itself does not normalise: " + msg}, args...)...)
}

// runGraph runs a one-input, one-output graph on one item and returns its
// output row.
func runGraph[T ort.TensorData](t *testing.T, path, in, out string, shape ort.Shape, data []T) []float32 {
	t.Helper()
	sess, err := ort.NewDynamicAdvancedSession(path, []string{in}, []string{out}, nil)
	require.NoError(t, err, path)
	defer sess.Destroy()
	x, err := ort.NewTensor(shape, data)
	require.NoError(t, err)
	defer x.Destroy()
	outs := []ort.Value{nil}
	require.NoError(t, sess.Run([]ort.Value{x}, outs))
	y := outs[0].(*ort.Tensor[float32])
	defer y.Destroy()
	return append([]float32(nil), y.GetData()...)
}
