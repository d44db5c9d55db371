package tokenize

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// words splits s into BERT words with this package's classes.
func words(s string) []string {
	var out []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			out = append(out, w.String())
			w.Reset()
		}
	}
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch classOf(r) {
		case classLetter:
			w.WriteRune(r)
		case classSpace:
			flush()
		case classSingle:
			flush()
			w.WriteRune(r)
			flush()
		}
	}
	flush()
	return out
}

// TestWordPieceMatchesSugarme checks the fast WordPiece against sugarme's
// on every word of the corpus and on words around the length limit.
func TestWordPieceMatchesSugarme(t *testing.T) {
	tok := full(t)
	var all []string
	for _, s := range readCorpus(t) {
		all = append(all, words(s)...)
	}
	for _, n := range []int{99, 100, 101} {
		all = append(all, strings.Repeat("ab", n/2)+"é", strings.Repeat("水", n))
	}
	require.Greater(t, len(all), 20000)
	for _, w := range all {
		ref, err := tok.model.Tokenize(w)
		require.NoError(t, err)
		want := make([]int64, len(ref))
		for i, r := range ref {
			want[i] = int64(r.Id)
		}
		got, _ := tok.wp.tokenize([]byte(w), nil, nil)
		require.Equal(t, want, got, "word %+q (%d chars)", w, utf8.RuneCountInString(w))
	}
}

// BenchmarkWordPiece compares the WordPiece of this package with sugarme's
// on the words of one multilingual sentence per language.
func BenchmarkWordPiece(b *testing.B) {
	tok := full(b)
	var ws []string
	for _, s := range sentences {
		ws = append(ws, words(s.text)...)
	}
	b.Run("ours", func(b *testing.B) {
		var ids []int64
		var key []byte
		for i := 0; i < b.N; i++ {
			ids, key = tok.wp.tokenize([]byte(ws[i%len(ws)]), ids[:0], key)
		}
	})
	b.Run("sugarme", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := tok.model.Tokenize(ws[i%len(ws)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
