package vocab

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type tokenizerFile struct {
	Version     string `json:"version"`
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		Special    bool   `json:"special"`
		Normalized bool   `json:"normalized"`
	} `json:"added_tokens"`
	Normalizer struct {
		Type               string `json:"type"`
		CleanText          bool   `json:"clean_text"`
		HandleChineseChars bool   `json:"handle_chinese_chars"`
		StripAccents       *bool  `json:"strip_accents"`
		Lowercase          bool   `json:"lowercase"`
	} `json:"normalizer"`
	PreTokenizer  struct{ Type string } `json:"pre_tokenizer"`
	PostProcessor struct{ Type string } `json:"post_processor"`
	Decoder       struct{ Type string } `json:"decoder"`
	Model         struct {
		Type                    string         `json:"type"`
		UnkToken                string         `json:"unk_token"`
		ContinuingSubwordPrefix string         `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    int            `json:"max_input_chars_per_word"`
		Vocab                   map[string]int `json:"vocab"`
	} `json:"model"`
}

func decode(t *testing.T, n int) (tokenizerFile, []byte) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteTokenizerJSON(&buf, n))
	var f tokenizerFile
	require.NoError(t, json.Unmarshal(buf.Bytes(), &f))
	return f, buf.Bytes()
}

func TestWriteTokenizerJSONStructure(t *testing.T) {
	for _, n := range []int{Min, 1000, Tiny, Full} {
		f, _ := decode(t, n)
		assert.Equal(t, "1.0", f.Version)
		assert.Equal(t, "BertNormalizer", f.Normalizer.Type)
		assert.True(t, f.Normalizer.CleanText)
		assert.True(t, f.Normalizer.HandleChineseChars)
		assert.Nil(t, f.Normalizer.StripAccents)
		assert.False(t, f.Normalizer.Lowercase)
		assert.Equal(t, "BertPreTokenizer", f.PreTokenizer.Type)
		assert.Equal(t, "TemplateProcessing", f.PostProcessor.Type)
		assert.Equal(t, "WordPiece", f.Decoder.Type)
		assert.Equal(t, "WordPiece", f.Model.Type)
		assert.Equal(t, "[UNK]", f.Model.UnkToken)
		assert.Equal(t, "##", f.Model.ContinuingSubwordPrefix)
		assert.Equal(t, 100, f.Model.MaxInputCharsPerWord)
		// A JSON object drops duplicate keys: n distinct entries, ids 0..n-1.
		require.Len(t, f.Model.Vocab, n, "n=%d", n)
		seen := make([]bool, n)
		for tok, id := range f.Model.Vocab {
			require.True(t, id >= 0 && id < n, "id %d of %q", id, tok)
			require.False(t, seen[id], "id %d twice", id)
			seen[id] = true
		}
		for _, a := range f.AddedTokens {
			assert.True(t, a.Special)
			assert.False(t, a.Normalized)
			assert.Equal(t, a.ID, f.Model.Vocab[a.Content], a.Content)
		}
	}
}

func TestSpecialIDs(t *testing.T) {
	toks, err := Tokens(Tiny)
	require.NoError(t, err)
	for _, tc := range []struct {
		id  int
		tok string
	}{
		{PadID, "[PAD]"}, {1, "[unused1]"}, {99, "[unused99]"}, {UnkID, "[UNK]"},
		{ClsID, "[CLS]"}, {SepID, "[SEP]"}, {MaskID, "[MASK]"}, {MaskID + 1, "!"},
	} {
		assert.Equal(t, tc.tok, toks[tc.id], "id %d", tc.id)
	}
}

func TestDeterministic(t *testing.T) {
	for _, n := range []int{Tiny, Full} {
		_, a := decode(t, n)
		_, b := decode(t, n)
		assert.Equal(t, a, b, "n=%d", n)
	}
	small, err := Tokens(Tiny)
	require.NoError(t, err)
	full, err := Tokens(Full)
	require.NoError(t, err)
	assert.Equal(t, small, full[:Tiny], "smaller vocabularies are prefixes of larger ones")
}

func TestCoverage(t *testing.T) {
	tiny, err := Tokens(Tiny)
	require.NoError(t, err)
	full, err := Tokens(Full)
	require.NoError(t, err)
	in := func(toks []string) map[string]bool {
		m := make(map[string]bool, len(toks))
		for _, t := range toks {
			m[t] = true
		}
		return m
	}
	tinySet, fullSet := in(tiny), in(full)
	for _, tc := range []struct {
		tok        string
		tiny, full bool
	}{
		{"a", true, true}, {"##a", true, true}, {"é", true, true}, {"##ß", true, true},
		{"α", true, true}, {"ж", true, true}, {"##ж", true, true}, {"ա", true, true},
		{"ა", true, true}, {"ש", true, true}, {"ع", true, true}, {"پ", true, true},
		{"क", true, true}, {"##ा", true, true}, {"ક", true, true}, {"ก", true, true},
		{"က", true, true}, {"가", true, true}, {"あ", true, true}, {"ア", true, true},
		{"的", true, true}, {"中", true, true}, {"the", true, true},
		// "Katze" is kept split: "Kat" "##ze".
		{"Katze", false, false}, {"Kat", true, true}, {"##ze", true, true}, {"Hund", true, true},
		{"한", false, true}, {"##한", false, true},
		{"\U0002B820", false, false}, {"\uE000", false, false}, {"🦄", false, false},
	} {
		assert.Equal(t, tc.tiny, tinySet[tc.tok], "tiny %q", tc.tok)
		assert.Equal(t, tc.full, fullSet[tc.tok], "full %q", tc.tok)
	}
	// Some Han characters of the main block are absent and map to [UNK].
	absent := 0
	for r := rune(0x4E00); r <= 0x9FFF; r++ {
		if !fullSet[string(r)] {
			absent++
		}
	}
	assert.Greater(t, absent, 1000)
	assert.Less(t, absent, 0x9FFF-0x4E00)
}

func TestTooSmall(t *testing.T) {
	for _, n := range []int{-1, 0, Min - 1} {
		var buf bytes.Buffer
		err := WriteTokenizerJSON(&buf, n)
		require.Error(t, err, "n=%d", n)
		assert.Contains(t, err.Error(), "below minimum")
	}
}
