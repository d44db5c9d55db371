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
	_, err := Write(Options{Model: catalog.OpenCLIPB16, Out: t.TempDir()})
	assert.ErrorContains(t, err, "does not write model "+catalog.OpenCLIPB16)
	_, err = Write(Options{Model: "nope", Out: t.TempDir()})
	assert.ErrorContains(t, err, `unknown model "nope"`)
}

// The generated directories of the CLIPModel tags have exactly the files
// their manifests pull: Xenova's ONNX export for
// openai-clip-vit-base-patch16, the weights without graphs for
// facebook-metaclip-2-worldwide-b32-384, whose tokenizer.json is XLM-V's
// Unigram (EOS 2 is not the highest id).
func TestWriteCLIPModelLayouts(t *testing.T) {
	for _, tag := range []string{catalog.OpenAIB16, catalog.MetaCLIP2B32} {
		t.Run(tag, func(t *testing.T) {
			out := t.TempDir()
			files, err := Write(Options{Model: tag, Out: out})
			require.NoError(t, err)
			var got []string
			for _, f := range files {
				got = append(got, f.Path)
			}
			model, err := catalog.Lookup(tag)
			require.NoError(t, err)
			m, err := modelstore.ManifestForModel(model, modelstore.VariantFP32, modelstore.CPU{}, modelstore.Revisions{})
			require.NoError(t, err)
			assert.ElementsMatch(t, m.Rels(), got)
			dir := modelstore.Dir{Root: out, Model: tag}
			assert.Empty(t, dir.Missing(modelstore.VariantFP32))
			tok, err := tokenize.Load(dir.Text(modelstore.TokenizerJSON))
			require.NoError(t, err)
			ids := tok.Encode("a dog", 77)
			require.GreaterOrEqual(t, len(ids), 3)
			if tag == catalog.MetaCLIP2B32 {
				assert.Equal(t, int64(2), ids[len(ids)-1], "</s>")
			} else {
				assert.Equal(t, int64(tok.VocabSize()-1), ids[len(ids)-1], "<|endoftext|>")
			}
		})
	}
}
