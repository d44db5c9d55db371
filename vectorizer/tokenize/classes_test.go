package tokenize

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestClassesMatchHF checks classOf against what HF tokenizers does with
// every code point (testdata/classes.bin.gz, written by regen.sh).
func TestClassesMatchHF(t *testing.T) {
	f, err := os.Open("testdata/classes.bin.gz")
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	hf, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Len(t, hf, 0x110000)

	var bad []string
	for r := rune(0); r < 0x110000; r++ {
		var want class
		switch hf[r] {
		case 'S':
			continue // surrogates are not characters; Go reads them as U+FFFD
		case 'R':
			want = classRemoved
		case 'W':
			want = classSpace
		case 'C':
			want = classSingle
			require.True(t, isChinese(r), "%U split off as CJK by HF", r)
		case 'P':
			want = classSingle
			require.True(t, isPunct(r), "%U split off as punctuation by HF", r)
		case 'L':
			want = classLetter
		default:
			t.Fatalf("%U: unknown class %q", r, hf[r])
		}
		if got := classOf(r); got != want {
			bad = append(bad, fmt.Sprintf("%U: got %d want %d (%c)", r, got, want, hf[r]))
		}
	}
	require.Empty(t, bad, "%d code points classified differently from HF", len(bad))
}
