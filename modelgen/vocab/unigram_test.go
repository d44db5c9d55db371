package vocab

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnigramStructure checks the generated file has the components
// transformers writes for XLM-R and XLM-V and their id layout.
func TestUnigramStructure(t *testing.T) {
	for _, n := range []int{UnigramMin, UnigramTiny} {
		var buf bytes.Buffer
		require.NoError(t, WriteUnigramTokenizerJSON(&buf, n))
		var f struct {
			AddedTokens []struct {
				ID      int    `json:"id"`
				Content string `json:"content"`
				LStrip  bool   `json:"lstrip"`
			} `json:"added_tokens"`
			Normalizer struct {
				Normalizers []struct {
					Type        string `json:"type"`
					Precompiled string `json:"precompiled_charsmap"`
				} `json:"normalizers"`
			} `json:"normalizer"`
			PreTokenizer struct {
				Type          string `json:"type"`
				PrependScheme string `json:"prepend_scheme"`
			} `json:"pre_tokenizer"`
			Model struct {
				Type  string  `json:"type"`
				UnkID int     `json:"unk_id"`
				Vocab [][]any `json:"vocab"`
			} `json:"model"`
		}
		require.NoError(t, json.Unmarshal(buf.Bytes(), &f))
		require.Len(t, f.Normalizer.Normalizers, 3)
		assert.Equal(t, "Precompiled", f.Normalizer.Normalizers[0].Type)
		assert.NotEmpty(t, f.Normalizer.Normalizers[0].Precompiled)
		assert.Equal(t, "Strip", f.Normalizer.Normalizers[1].Type)
		assert.Equal(t, "Replace", f.Normalizer.Normalizers[2].Type)
		assert.Equal(t, "Metaspace", f.PreTokenizer.Type)
		assert.Equal(t, "always", f.PreTokenizer.PrependScheme)
		assert.Equal(t, "Unigram", f.Model.Type)
		assert.Equal(t, UnigramUnk, f.Model.UnkID)
		require.Len(t, f.Model.Vocab, n)
		for i, want := range []string{"<s>", "<pad>", "</s>", "<unk>"} {
			assert.Equal(t, want, f.Model.Vocab[i][0])
		}
		assert.Equal(t, "<mask>", f.Model.Vocab[n-1][0])
		require.Len(t, f.AddedTokens, 5)
		assert.Equal(t, n-1, f.AddedTokens[4].ID)
		assert.True(t, f.AddedTokens[4].LStrip, "<mask> takes the spaces before it, as XLM-R's")
	}
}

func TestUnigramVocab(t *testing.T) {
	toks, scores, err := UnigramVocab(XLMVFull)
	require.NoError(t, err)
	require.Len(t, toks, XLMVFull)
	seen := map[string]bool{}
	for i, tok := range toks {
		require.False(t, seen[tok], "duplicate piece %q", tok)
		seen[tok] = true
		assert.LessOrEqual(t, scores[i], 0.0)
	}
	assert.True(t, seen["▁photo"])
	small, _, err := UnigramVocab(UnigramTiny)
	require.NoError(t, err)
	assert.Equal(t, small[:UnigramTiny-1], toks[:UnigramTiny-1], "a larger vocabulary extends a smaller one")
	_, _, err = UnigramVocab(UnigramMin - 1)
	assert.ErrorContains(t, err, "below minimum")
}
