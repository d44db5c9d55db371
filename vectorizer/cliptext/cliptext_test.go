package cliptext

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelfile/clipgraph"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
	"github.com/mclip-go/mclip/vectorizer/text"
)

// wordTokenizer is a stand-in for CLIP's BPE: one id per word (its length
// and first letter), between <|startoftext|> and <|endoftext|> (the
// highest id, as in OpenAI's vocabulary), truncated keeping the end token.
type wordTokenizer struct{ maxLens []int }

const (
	bos = 49406
	eos = 49407
)

func (w *wordTokenizer) Encode(s string, maxLen int) []int64 {
	w.maxLens = append(w.maxLens, maxLen)
	ids := []int64{bos}
	for _, f := range strings.Fields(s) {
		ids = append(ids, int64(len(f)*97+int(f[0]))%40000)
	}
	if len(ids) > maxLen-1 {
		ids = ids[:maxLen-1]
	}
	return append(ids, eos)
}

// tinyCLIP writes a tiny CLIP checkpoint, its graphs (pooled at the
// highest id, as CLIPModel pools OpenAI's vocabulary) and returns the
// model directory holding them as its text tower.
func tinyCLIP(t *testing.T) modelstore.Dir {
	t.Helper()
	root := t.TempDir()
	textDir := filepath.Join(root, modelstore.TextDir)
	_, err := modelgen.WriteCLIPCheckpoint(textDir, modelgen.CLIPB32QuickGELU, modelgen.Tiny, 3, 0)
	require.NoError(t, err)
	require.NoError(t, modelgen.WriteCLIPGraphs(textDir, clipgraph.PoolArgmax))
	return modelstore.Dir{Root: root, Model: "sentence-transformers-clip-ViT-B-32"}
}

var texts = []string{
	"a dog",
	"a photo of a cat on a sofa in the afternoon sun",
	"",
	"x",
	strings.Repeat("many words ", 60),
}

func load(t *testing.T, dir modelstore.Dir, tok Tokenizer, opts Options) *Encoder {
	t.Helper()
	opts.Session = onnxsession.Options{IntraOpThreads: 1}
	e, err := Load(dir, tok, opts)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// A text's vector does not depend on the texts it shares a model call
// with: padding after the end token never reaches the pooled position.
func TestEncodeIndependentOfBatch(t *testing.T) {
	dir := tinyCLIP(t)
	alone := load(t, dir, &wordTokenizer{}, Options{BatchSize: 1})
	together := load(t, dir, &wordTokenizer{}, Options{BatchSize: 32})
	want, errs := alone.Encode(context.Background(), texts)
	for _, err := range errs {
		require.NoError(t, err)
	}
	got, errs := together.Encode(context.Background(), texts)
	for i, err := range errs {
		require.NoError(t, err)
		require.Len(t, got[i], 512)
		assert.Less(t, maxAbsDiff(want[i], got[i]), 1e-5, "text %d", i)
	}
	assert.Greater(t, maxAbsDiff(got[0], got[1]), 1e-3, "different texts, different vectors")
}

func TestTruncationAndLimits(t *testing.T) {
	dir := tinyCLIP(t)
	tok := &wordTokenizer{}
	e := load(t, dir, tok, Options{MaxTextBytes: 100})
	_, errs := e.Encode(context.Background(), []string{"short", strings.Repeat("y", 101)})
	assert.NoError(t, errs[0])
	assert.True(t, errors.Is(errs[1], text.ErrTooLong), "%v", errs[1])
	assert.Equal(t, []int{77}, tok.maxLens, "the tokenizer truncates to the model's positions")

	tok = &wordTokenizer{}
	e = load(t, dir, tok, Options{MaxTokens: 16})
	ids, err := e.Tokenize(strings.Repeat("w ", 50))
	require.NoError(t, err)
	assert.Len(t, ids, 16)
	assert.Equal(t, int64(eos), ids[15])
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		breakDir func(dir modelstore.Dir)
		want     string
	}{
		{"no config", func(d modelstore.Dir) { os.Remove(d.Text("config.json")) }, "config.json"},
		{"config without projection", func(d modelstore.Dir) {
			os.WriteFile(d.Text("config.json"), []byte(`{"text_config":{"max_position_embeddings":77}}`), 0o644)
		}, "projection_dim"},
		{"no graph", func(d modelstore.Dir) { os.Remove(d.Text("onnx/text_model.onnx")) }, "text_model.onnx"},
		{"a graph of another contract", func(d modelstore.Dir) {
			os.Rename(d.Text("onnx/vision_model.onnx"), d.Text("onnx/text_model.onnx"))
		}, "input_ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tinyCLIP(t)
			tt.breakDir(dir)
			_, err := Load(dir, &wordTokenizer{}, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
