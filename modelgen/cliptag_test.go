package modelgen

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/tokenize"
)

// The generated sentence-transformers-clip-ViT-B-32 directory has exactly
// the files its manifest pulls, and its tokenizer.json is CLIP's.
func TestWriteCLIPB32Layout(t *testing.T) {
	out := t.TempDir()
	files, err := Write(Options{Model: catalog.CLIPB32, Out: out})
	require.NoError(t, err)
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
	}
	model, err := catalog.Lookup(catalog.CLIPB32)
	require.NoError(t, err)
	m, err := modelstore.ManifestForModel(model, modelstore.VariantFP32, modelstore.CPU{}, modelstore.Revisions{})
	require.NoError(t, err)
	assert.ElementsMatch(t, m.Rels(), got)
	dir := modelstore.Dir{Root: out, Model: catalog.CLIPB32}
	assert.Empty(t, dir.Missing(modelstore.VariantFP32))
	tok, err := tokenize.Load(dir.Text(modelstore.TokenizerJSON))
	require.NoError(t, err)
	ids := tok.Encode("a dog", 77)
	require.GreaterOrEqual(t, len(ids), 3)
	assert.Equal(t, int64(tok.VocabSize()-1), ids[len(ids)-1], "<|endoftext|> is the highest id, as in OpenAI's vocabulary")
}

func TestWriteModelsNotGeneratedYet(t *testing.T) {
	_, err := Write(Options{Model: catalog.MetaCLIP2B32, Out: t.TempDir()})
	assert.ErrorContains(t, err, "does not write model "+catalog.MetaCLIP2B32)
	_, err = Write(Options{Model: "nope", Out: t.TempDir()})
	assert.ErrorContains(t, err, `unknown model "nope"`)
}
