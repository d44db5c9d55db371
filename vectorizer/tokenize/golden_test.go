package tokenize

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelgen/vocab"
)

type goldenHeader struct {
	TokenizersVersion string `json:"tokenizers_version"`
	TokenizerSHA256   string `json:"tokenizer_sha256"`
	CorpusSHA256      string `json:"corpus_sha256"`
	Entries           int    `json:"entries"`
	Truncation        int    `json:"truncation"` // 0: the goldens' ids128
}

type golden struct {
	IDs            []int64 `json:"ids"`
	IDs128         []int64 `json:"ids128"`
	IDsTrunc       []int64 `json:"ids_trunc"` // truncated to the header's truncation
	SmallMaxLength int     `json:"small_max_length"`
	IDsSmall       []int64 `json:"ids_small"`
}

func readGoldens(t testing.TB) (goldenHeader, []golden) {
	return readGoldensFile(t, "testdata/goldens.json.gz")
}

func readGoldensFile(t testing.TB, path string) (goldenHeader, []golden) {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	require.True(t, sc.Scan())
	var h goldenHeader
	require.NoError(t, json.Unmarshal(sc.Bytes(), &h))
	var out []golden
	for sc.Scan() {
		var g golden
		require.NoError(t, json.Unmarshal(sc.Bytes(), &g))
		out = append(out, g)
	}
	require.NoError(t, sc.Err())
	return h, out
}

// writeFull writes the full-size synthetic tokenizer.json into a temporary
// directory and returns its path and sha256.
func writeFull(t testing.TB) (string, string) {
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	f, err := os.Create(path)
	require.NoError(t, err)
	h := sha256.New()
	require.NoError(t, vocab.WriteTokenizerJSON(io.MultiWriter(f, h), vocab.Full))
	require.NoError(t, f.Close())
	return path, hex.EncodeToString(h.Sum(nil))
}

func fileSHA256(t testing.TB, path string) string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestGoldens compares Encode with Hugging Face tokenizers on every corpus
// string, untruncated, truncated to 128 and truncated to 1..8.
func TestGoldens(t *testing.T) {
	h, goldens := readGoldens(t)
	corpus := readCorpus(t)
	path, sum := writeFull(t)
	require.Equal(t, h.TokenizerSHA256, sum,
		"modelgen/vocab output changed since the goldens were made: run testdata/regen.sh")
	require.Equal(t, h.CorpusSHA256, fileSHA256(t, corpusPath), "corpus changed: run testdata/regen.sh")
	require.Len(t, goldens, len(corpus))
	require.Equal(t, h.Entries, len(corpus))

	tok, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, vocab.Full, tok.VocabSize())

	var mismatches []string
	for i, s := range corpus {
		g := goldens[i]
		for _, c := range []struct {
			maxLen int
			want   []int64
		}{{0, g.IDs}, {128, g.IDs128}, {g.SmallMaxLength, g.IDsSmall}} {
			got := tok.Encode(s, c.maxLen)
			if !equalIDs(got, c.want) {
				mismatches = append(mismatches, fmt.Sprintf("line %d, max_length %d: %+q\n  got  %v\n  want %v",
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

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
