package tokenize

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelgen/vocab"
)

// unigramJSON is the XLM-R type tokenizer.json written by
// testdata/unigram/gen_unigram.py (SentencePiece-trained, converted as
// transformers does).
const unigramJSON = "testdata/unigram/tokenizer.json"

// TestUnigramGoldens compares Encode on the SentencePiece Unigram
// tokenizer with Hugging Face tokenizers on every string of the three
// corpora, untruncated, truncated to 77 and truncated to 1..8.
func TestUnigramGoldens(t *testing.T) {
	h, goldens := readGoldensFile(t, "testdata/goldens_unigram.json.gz")
	require.Equal(t, h.TokenizerSHA256, fileSHA256(t, unigramJSON), "tokenizer.json changed: run testdata/regen.sh")
	tok, err := Load(unigramJSON)
	require.NoError(t, err)
	checkUnigramGoldens(t, tok, h, goldens)
}

// TestXLMVGoldens is TestUnigramGoldens for the XLM-V size tokenizer.json
// that modelgen/vocab generates.
func TestXLMVGoldens(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and loads a 40 MB tokenizer.json")
	}
	h, goldens := readGoldensFile(t, "testdata/goldens_xlmv.json.gz")
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, vocab.WriteUnigramTokenizerJSON(f, vocab.XLMVFull))
	require.NoError(t, f.Close())
	require.Equal(t, h.TokenizerSHA256, fileSHA256(t, path),
		"modelgen/vocab Unigram output changed since the goldens were made: run testdata/regen.sh")
	tok, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, vocab.XLMVFull, tok.VocabSize())
	checkUnigramGoldens(t, tok, h, goldens)
}

// checkUnigramGoldens compares tok with goldens made on corpus.jsonl,
// corpus_clip.jsonl and corpus_unigram.jsonl.
func checkUnigramGoldens(t *testing.T, tok *Tokenizer, h goldenHeader, goldens []golden) {
	var all []byte
	var corpus []string
	for _, p := range []string{corpusPath, clipCorpusPath, unigramCorpusPath} {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		all = append(all, b...)
		corpus = append(corpus, readCorpusFile(t, p)...)
	}
	cs := sha256.Sum256(all)
	require.Equal(t, h.CorpusSHA256, hex.EncodeToString(cs[:]), "corpus changed: run testdata/regen.sh")
	require.Len(t, goldens, len(corpus))

	var mismatches []string
	for i, s := range corpus {
		g := goldens[i]
		for _, c := range []struct {
			maxLen int
			want   []int64
		}{{0, g.IDs}, {h.Truncation, g.IDsTrunc}, {g.SmallMaxLength, g.IDsSmall}} {
			got := tok.Encode(s, c.maxLen)
			if !equalIDs(got, c.want) {
				mismatches = append(mismatches, fmt.Sprintf("entry %d, max_length %d: %+q\n  got  %v\n  want %v",
					i+1, c.maxLen, s, got, c.want))
			}
		}
	}
	if len(mismatches) > 0 {
		t.Errorf("%d mismatches with HF tokenizers %s, first ones:\n%s", len(mismatches), h.TokenizersVersion,
			strings.Join(mismatches[:min(len(mismatches), 12)], "\n"))
	}
	t.Logf("%d corpus strings match HF tokenizers %s", len(corpus), h.TokenizersVersion)
}
