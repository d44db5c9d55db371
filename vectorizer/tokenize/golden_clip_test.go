package tokenize

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelgen/vocab"
)

var (
	clipOnce sync.Once
	clipPath string
	clipSum  string
	clipTok  *Tokenizer
	clipErr  error
)

// fullCLIP writes the full-size synthetic CLIP tokenizer.json once per
// test binary and loads it; it returns the tokenizer, the file's path and
// its sha256.
func fullCLIP(t testing.TB) (*Tokenizer, string, string) {
	clipOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tokenize-clip")
		if err != nil {
			clipErr = err
			return
		}
		clipPath = filepath.Join(dir, "tokenizer.json")
		f, err := os.Create(clipPath)
		if err != nil {
			clipErr = err
			return
		}
		h := sha256.New()
		if clipErr = vocab.WriteCLIPTokenizerJSON(io.MultiWriter(f, h), vocab.CLIPFull); clipErr != nil {
			return
		}
		if clipErr = f.Close(); clipErr != nil {
			return
		}
		clipSum = hex.EncodeToString(h.Sum(nil))
		clipTok, clipErr = Load(clipPath)
	})
	require.NoError(t, clipErr)
	return clipTok, clipPath, clipSum
}

// clipCorpus is corpus.jsonl followed by corpus_clip.jsonl, as the CLIP
// goldens cover them.
func clipCorpus(t testing.TB) []string {
	return append(readCorpus(t), readCorpusFile(t, clipCorpusPath)...)
}

// TestCLIPGoldens compares Encode on CLIP's byte-level BPE with Hugging
// Face tokenizers on every string of both corpora, untruncated, truncated
// to CLIP's 77 and truncated to 1..8.
func TestCLIPGoldens(t *testing.T) {
	h, goldens := readGoldensFile(t, "testdata/goldens_clip.json.gz")
	corpus := clipCorpus(t)
	tok, _, sum := fullCLIP(t)
	require.Equal(t, h.TokenizerSHA256, sum,
		"modelgen/vocab CLIP output changed since the goldens were made: run testdata/regen.sh")
	both, err := os.ReadFile(corpusPath)
	require.NoError(t, err)
	extra, err := os.ReadFile(clipCorpusPath)
	require.NoError(t, err)
	cs := sha256.Sum256(append(both, extra...))
	require.Equal(t, h.CorpusSHA256, hex.EncodeToString(cs[:]), "corpus changed: run testdata/regen.sh")
	require.Len(t, goldens, len(corpus))
	require.Equal(t, 77, h.Truncation)
	require.Equal(t, vocab.CLIPFull, tok.VocabSize())

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
			strings.Join(mismatches[:min(len(mismatches), 10)], "\n"))
	}
	t.Logf("%d corpus strings match HF tokenizers %s", len(corpus), h.TokenizersVersion)
}
