package vectorizer

import (
	"context"
	"os"
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
)

// facebook-metaclip-2-worldwide-b32-384 end to end on a generated tiny
// model in its repository's layout (model.safetensors and config.json, no
// ONNX export): the graphs are built from the weights at load, once, into
// the cache; the text tower pools at EOS, or at the highest id as the
// image's CLIPModel does under the replace switch; vectors are the built
// graphs' outputs on the tokenizer's ids and the fast processor's 384
// pixels, L2-normalised.
func TestMetaCLIP2(t *testing.T) {
	dir := t.TempDir()
	_, err := modelgen.Write(modelgen.Options{Model: catalog.MetaCLIP2B32, Out: dir, Seed: 6})
	require.NoError(t, err)
	cache := t.TempDir()
	open := func(replace bool) *Encoder {
		cfg := config.Default()
		cfg.Model, cfg.ModelDir, cfg.Threads, cfg.OptimizedCacheDir = catalog.MetaCLIP2B32, dir, 1, cache
		cfg.ReplaceMulti2VecClip = replace
		v, err := Open(context.Background(), cfg, OpenOptions{})
		require.NoError(t, err)
		t.Cleanup(func() { v.Close() })
		return v
	}
	texts := []string{"A dog in the snow", "Un chien dans la neige", "雪の中の犬", ""}
	byPool := map[string][][]float32{}
	for _, replace := range []bool{false, true} {
		v := open(replace)
		info := v.Info()
		want := map[bool]string{false: "eos", true: "argmax"}[replace]
		assert.Equal(t, want, info.TextPooling)
		assert.Equal(t, clipprep.KindCLIPFast, v.vision.Preprocessor().Kind)
		assert.Equal(t, 384, v.vision.Preprocessor().CropWidth)
		textGraph := info.Text.File
		require.True(t, filepath.IsAbs(textGraph), textGraph)
		assert.True(t, filepath.HasPrefix(textGraph, cache), "built into the cache: %s", textGraph)
		assert.Contains(t, filepath.Base(textGraph), want)

		vecs, errs := v.EncodeTexts(context.Background(), texts)
		prep, err := LoadTextPreparer(config.Config{Model: catalog.MetaCLIP2B32, MaxTextBytes: config.Default().MaxTextBytes}, modelstore.Dir{Root: dir, Model: catalog.MetaCLIP2B32})
		require.NoError(t, err)
		for i, text := range texts {
			require.NoError(t, errs[i], "text %d", i)
			ids, err := prep.Tokenize(text)
			require.NoError(t, err)
			assertUnitAndParallel(t, vecs[i], runGraph(t, textGraph, "input_ids", "text_embeds", ort.NewShape(1, int64(len(ids))), ids), "text %d", i)
		}
		byPool[want] = vecs

		img := testimage.GradientPNG(2, 500, 300)
		ivecs, errs := v.EncodeImages(context.Background(), [][]byte{img})
		require.NoError(t, errs[0])
		px := make([]float32, v.vision.Preprocessor().TensorLen())
		require.NoError(t, v.vision.Preprocess(img, px))
		assertUnitAndParallel(t, ivecs[0], runGraph(t, info.Vision.File, "pixel_values", "image_embeds", ort.NewShape(1, 3, 384, 384), px), "image")
	}
	// XLM-V's EOS (2) is not its highest id: the two poolings differ.
	for i := range texts[:3] {
		assert.NotEqual(t, byPool["eos"][i], byPool["argmax"][i], "text %d", i)
	}

	// Built once: a second load finds the graphs.
	built, err := filepath.Glob(filepath.Join(cache, "clipgraph-v*", "*", "*.onnx"))
	require.NoError(t, err)
	require.Len(t, built, 3, "text (eos, argmax) and vision: %v", built)
	st, err := os.Stat(built[0])
	require.NoError(t, err)
	open(false)
	st2, err := os.Stat(built[0])
	require.NoError(t, err)
	assert.Equal(t, st.ModTime(), st2.ModTime())

	// A missing weights file is named.
	require.NoError(t, os.Remove(filepath.Join(dir, "vision", "model.safetensors")))
	cfg := config.Default()
	cfg.Model, cfg.ModelDir, cfg.Threads, cfg.OptimizedCacheDir = catalog.MetaCLIP2B32, dir, 1, cache
	_, err = Open(context.Background(), cfg, OpenOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vision/model.safetensors")
}
