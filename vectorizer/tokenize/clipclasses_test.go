package tokenize

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// readCLIPClasses reads testdata/clip_classes.bin.gz (see
// gen_clip_classes.js): the class byte of every code point and the
// lower-case of the code points Lowercase changes.
func readCLIPClasses(t *testing.T) ([]byte, map[rune]string) {
	f, err := os.Open("testdata/clip_classes.bin.gz")
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	data, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Greater(t, len(data), int(utf8.MaxRune)+1)
	classes, rest := data[:utf8.MaxRune+1], data[utf8.MaxRune+1:]
	lower := map[rune]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(rest), "\n"), "\n") {
		cp, l, ok := strings.Cut(line, "\t")
		require.True(t, ok, "line %q", line)
		r, err := strconv.ParseUint(cp, 16, 32)
		require.NoError(t, err)
		lower[rune(r)] = l
	}
	return classes, lower
}

// TestCLIPClassesMatchHF checks, for every code point, the class CLIP's
// split gives it and its lower case against HF tokenizers.
func TestCLIPClassesMatchHF(t *testing.T) {
	classes, lower := readCLIPClasses(t)
	var bad []string
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		var got byte = 3
		switch {
		case isLetter(r):
			got = 0
		case isNumber(r):
			got = 1
		case isSpace(r):
			got = 2
		}
		if got != classes[r] {
			bad = append(bad, fmt.Sprintf("U+%04X class %d, HF %d", r, got, classes[r]))
		}
		want, ok := lower[r]
		if !ok {
			want = string(r)
		}
		if l := string(appendLower(nil, r)); l != want {
			bad = append(bad, fmt.Sprintf("U+%04X lower %+q, HF %+q", r, l, want))
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d differences:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
