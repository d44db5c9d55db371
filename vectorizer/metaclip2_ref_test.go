package vectorizer

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelgen"
)

// The graphs mclip builds at load for facebook-metaclip-2-worldwide-b32-384
// compute what transformers' CLIPModel computes on the same checkpoint:
// modelgen's PyTorch reference (modelgen/testdata/clipref, reference.py
// and regen.sh) wrote goldens.json for the tiny XLM-V checkpoint of seed
// 7, with both poolings, on fixed token ids and pixels. The model
// directory here holds that checkpoint in the repository's layout; the
// graphs the vectorizer built (EOS for new collections, argmax under the
// replace switch) run on the same ids and pixels.
func TestMetaCLIP2BuiltGraphsMatchPyTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "modelgen", "testdata", "clipref", "goldens.json"))
	require.NoError(t, err)
	var g struct {
		Seed  int64 `json:"seed"`
		Archs map[string]struct {
			InputIDs    [][]int64              `json:"input_ids"`
			TextEmbeds  map[string][][]float64 `json:"text_embeds"`
			ImageEmbeds [][]float64            `json:"image_embeds"`
		} `json:"archs"`
	}
	require.NoError(t, json.Unmarshal(b, &g))
	want, ok := g.Archs[string(modelgen.CLIPB32x384XLMV)]
	require.True(t, ok)

	dir := t.TempDir()
	text, vision := filepath.Join(dir, "text"), filepath.Join(dir, "vision")
	c, err := modelgen.WriteCLIPCheckpoint(text, modelgen.CLIPB32x384XLMV, modelgen.Tiny, g.Seed, 0)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(vision, 0o755))
	for _, f := range []string{"config.json", "model.safetensors"} {
		require.NoError(t, os.Link(filepath.Join(text, f), filepath.Join(vision, f)))
	}
	// The tokenizer and the processor's settings are the tiny model's;
	// the ids and pixels below bypass them.
	gen := t.TempDir()
	_, err = modelgen.Write(modelgen.Options{Model: catalog.MetaCLIP2B32, Out: gen, Seed: 1})
	require.NoError(t, err)
	require.NoError(t, copyFile(filepath.Join(gen, "text", "tokenizer.json"), filepath.Join(text, "tokenizer.json")))
	require.NoError(t, copyFile(filepath.Join(gen, "vision", "preprocessor_config.json"), filepath.Join(vision, "preprocessor_config.json")))

	ids := want.InputIDs
	flat := make([]int64, 0, len(ids)*len(ids[0]))
	for _, row := range ids {
		flat = append(flat, row...)
	}
	for _, tc := range []struct {
		replace bool
		pool    string
	}{{false, "eos"}, {true, "argmax"}} {
		t.Run(tc.pool, func(t *testing.T) {
			cfg := config.Default()
			cfg.Model, cfg.ModelDir, cfg.Threads, cfg.OptimizedCacheDir = catalog.MetaCLIP2B32, dir, 1, t.TempDir()
			cfg.ReplaceMulti2VecClip = tc.replace
			v, err := Open(context.Background(), cfg, OpenOptions{})
			require.NoError(t, err)
			defer v.Close()
			info := v.Info()
			assert.Equal(t, tc.pool, info.TextPooling)
			rows := runGraphRows(t, info.Text.File, "input_ids", "text_embeds", ort.NewShape(int64(len(ids)), int64(len(ids[0]))), flat)
			gold := want.TextEmbeds[tc.pool]
			require.Len(t, rows, len(gold))
			for r := range rows {
				assert.GreaterOrEqual(t, centeredCosine(rows[r], gold[r]), 0.9999, "text row %d", r)
			}
			s := int64(c.Vision.ImageSize)
			rows = runGraphRows(t, info.Vision.File, "pixel_values", "image_embeds", ort.NewShape(2, 3, s, s), refPixels(int(s), 2))
			require.Len(t, rows, len(want.ImageEmbeds))
			for r := range rows {
				assert.GreaterOrEqual(t, centeredCosine(rows[r], want.ImageEmbeds[r]), 0.9999, "image row %d", r)
			}
		})
	}
}

// refPixels repeats reference.py's pixels(): value i of image b is
// ((i*(7919 + 3989b) + 104729b) mod 1000)/250 - 2.
func refPixels(size, batch int) []float32 {
	n := 3 * size * size
	out := make([]float32, batch*n)
	for b := 0; b < batch; b++ {
		for i := 0; i < n; i++ {
			out[b*n+i] = float32(float64((int64(i)*(7919+3989*int64(b))+int64(b)*104729)%1000)/250 - 2)
		}
	}
	return out
}

// centeredCosine is the cosine of a and b after subtracting each one's
// mean.
func centeredCosine(a []float32, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += float64(a[i])
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i])-ma, b[i]-mb
		dot += x * y
		na += x * x
		nb += y * y
	}
	return dot / math.Sqrt(na*nb)
}

// runGraphRows runs a one-input, one-output graph on a batch and returns
// the output rows.
func runGraphRows[T ort.TensorData](t *testing.T, path, in, out string, shape ort.Shape, data []T) [][]float32 {
	t.Helper()
	flat := runGraph(t, path, in, out, shape, data)
	n := int(shape[0])
	dim := len(flat) / n
	rows := make([][]float32, n)
	for r := range rows {
		rows[r] = flat[r*dim : (r+1)*dim]
	}
	return rows
}
