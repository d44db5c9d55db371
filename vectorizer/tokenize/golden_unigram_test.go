package tokenize

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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

	tok, err := Load(unigramJSON)
	require.NoError(t, err)
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
