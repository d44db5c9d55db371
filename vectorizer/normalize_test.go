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
	"github.com/mclip-go/mclip/modelfile/clipgraph"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelgen/modeltest"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/cliptext"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
)

func TestNormalized(t *testing.T) {
	tests := []struct {
		name      string
		normalize bool
		in, want  [][]float32
	}{
		{"off leaves vectors as they are", false, [][]float32{{3, 4}}, [][]float32{{3, 4}}},
		{"unit length", true, [][]float32{{3, 4}, {0, -2}}, [][]float32{{0.6, 0.8}, {0, -1}}},
		{"failed items and zero vectors are left alone", true, [][]float32{nil, {0, 0}}, [][]float32{nil, {0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Encoder{normalize: tt.normalize}
			v.normalized(tt.in)
			for i := range tt.want {
				assert.InDeltaSlice(t, tt.want[i], tt.in[i], 1e-7)
			}
		})
	}
}

// loadCLIPText reads the tokenizer of the text directory and opens CLIP's
// text tower with the catalog's token limit.
func TestLoadCLIPText(t *testing.T) {
	dir := modelstore.Dir{Root: t.TempDir(), Model: catalog.CLIPB32}
	textDir := filepath.Join(dir.Root, modelstore.TextDir)
	_, err := modelgen.WriteCLIPCheckpoint(textDir, modelgen.CLIPB32QuickGELU, modelgen.Tiny, 5, 0)
	require.NoError(t, err)
	require.NoError(t, modelgen.WriteCLIPGraphs(textDir, clipgraph.PoolArgmax))

	model, err := catalog.Lookup(catalog.CLIPB32)
	require.NoError(t, err)
	_, err = loadCLIPText(dir, model, cliptext.Options{})
	require.Error(t, err, "no tokenizer.json yet")
	assert.Contains(t, err.Error(), "tokenizer.json")

	// Any tokenizer.json the tokenizer package reads will do for the wiring.
	tiny := modeltest.Tiny(t, 2)
	require.NoError(t, copyFile(tiny.Text(modelstore.TokenizerJSON), dir.Text(modelstore.TokenizerJSON)))
	enc, err := loadCLIPText(dir, model, cliptext.Options{Session: onnxsession.Options{IntraOpThreads: 1}})
	require.NoError(t, err)
	defer enc.Close()
	assert.Equal(t, 512, enc.Dimensions())
	vecs, errs := enc.Encode(context.Background(), []string{"ein Hund"})
	require.NoError(t, errs[0])
	var n float64
	for _, x := range vecs[0] {
		n += float64(x) * float64(x)
	}
	assert.Greater(t, math.Sqrt(n), 0.0)
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}
