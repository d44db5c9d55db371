package vocab

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type clipFile struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		Normalized bool   `json:"normalized"`
	} `json:"added_tokens"`
	Normalizer struct {
		Type        string `json:"type"`
		Normalizers []struct {
			Type string `json:"type"`
		} `json:"normalizers"`
	} `json:"normalizer"`
	PreTokenizer struct {
		Type          string `json:"type"`
		Pretokenizers []struct {
			Type    string `json:"type"`
			Pattern struct {
				Regex string `json:"Regex"`
			} `json:"pattern"`
		} `json:"pretokenizers"`
	} `json:"pre_tokenizer"`
	PostProcessor struct {
		Type string `json:"type"`
		Sep  []any  `json:"sep"`
		Cls  []any  `json:"cls"`
	} `json:"post_processor"`
	Model struct {
		Type            string         `json:"type"`
		UnkToken        string         `json:"unk_token"`
		EndOfWordSuffix string         `json:"end_of_word_suffix"`
		Vocab           map[string]int `json:"vocab"`
		Merges          []string       `json:"merges"`
	} `json:"model"`
}

func decodeCLIP(t *testing.T, n int) (clipFile, []byte) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteCLIPTokenizerJSON(&buf, n))
	var f clipFile
	require.NoError(t, json.Unmarshal(buf.Bytes(), &f))
	return f, buf.Bytes()
}

// TestCLIPStructure checks the generated file has the components of
// openai/clip-vit-base-patch32's tokenizer.json and its id layout.
func TestCLIPStructure(t *testing.T) {
	for _, n := range []int{CLIPMin, CLIPTiny, CLIPFull} {
		f, _ := decodeCLIP(t, n)
		assert.Equal(t, "Sequence", f.Normalizer.Type)
		var norms []string
		for _, c := range f.Normalizer.Normalizers {
			norms = append(norms, c.Type)
		}
		assert.Equal(t, []string{"NFC", "Replace", "Lowercase"}, norms)
		require.Len(t, f.PreTokenizer.Pretokenizers, 2)
		assert.Equal(t, "Split", f.PreTokenizer.Pretokenizers[0].Type)
		assert.Equal(t, `'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`, f.PreTokenizer.Pretokenizers[0].Pattern.Regex)
		assert.Equal(t, "ByteLevel", f.PreTokenizer.Pretokenizers[1].Type)
		assert.Equal(t, "RobertaProcessing", f.PostProcessor.Type)
		assert.Equal(t, []any{CLIPEnd, float64(n - 1)}, f.PostProcessor.Sep)
		assert.Equal(t, []any{CLIPStart, float64(n - 2)}, f.PostProcessor.Cls)
		assert.Equal(t, "BPE", f.Model.Type)
		assert.Equal(t, CLIPEnd, f.Model.UnkToken)
		assert.Equal(t, CLIPEndOfWord, f.Model.EndOfWordSuffix)
		assert.Len(t, f.Model.Vocab, n)
		assert.Len(t, f.Model.Merges, n-CLIPMin)
		assert.Equal(t, n-2, f.Model.Vocab[CLIPStart])
		assert.Equal(t, n-1, f.Model.Vocab[CLIPEnd])
		require.Len(t, f.AddedTokens, 2)
		assert.True(t, f.AddedTokens[0].Normalized, "<|startoftext|> is normalized as in OpenAI's file")
		assert.False(t, f.AddedTokens[1].Normalized)
	}
}

// TestCLIPMergesValid checks what HF's BPE requires of every merge: both
// parts are earlier tokens and the merged token has the next id.
func TestCLIPMergesValid(t *testing.T) {
	toks, merges, err := CLIPVocab(CLIPFull)
	require.NoError(t, err)
	ids := map[string]int{}
	for i, tok := range toks {
		_, dup := ids[tok]
		require.False(t, dup, "duplicate token %q", tok)
		ids[tok] = i
	}
	order, char := ByteToUnicode()
	require.Len(t, order, 256)
	for i, b := range order {
		assert.Equal(t, i, ids[string(char[b])])
		assert.Equal(t, 256+i, ids[string(char[b])+CLIPEndOfWord])
	}
	for k, m := range merges {
		id := CLIPMin - 2 + k
		assert.Equal(t, id, ids[m[0]+m[1]], "merge %d", k)
		assert.Less(t, ids[m[0]], id)
		assert.Less(t, ids[m[1]], id)
		assert.NotContains(t, m[0], CLIPEndOfWord, "merge %d: only a word's last piece ends with </w>", k)
		assert.False(t, strings.ContainsAny(m[0]+m[1], " "), "merge %d holds a space", k)
	}
	// Words of the embedded list end as one token.
	assert.Contains(t, ids, "photo"+CLIPEndOfWord)
	assert.Contains(t, ids, string([]rune{char['d'], char['o'], char['g']})+CLIPEndOfWord)
}

func TestCLIPDeterministic(t *testing.T) {
	_, a := decodeCLIP(t, CLIPTiny)
	_, b := decodeCLIP(t, CLIPTiny)
	assert.Equal(t, a, b)
	// A larger vocabulary extends a smaller one: same merges first.
	_, small, err := CLIPVocab(CLIPTiny)
	require.NoError(t, err)
	_, large, err := CLIPVocab(CLIPTiny + 100)
	require.NoError(t, err)
	assert.Equal(t, small, large[:len(small)])
}

func TestCLIPTooSmall(t *testing.T) {
	var buf bytes.Buffer
	assert.ErrorContains(t, WriteCLIPTokenizerJSON(&buf, CLIPMin-1), "below minimum")
}
