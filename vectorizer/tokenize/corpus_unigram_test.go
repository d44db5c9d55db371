package tokenize

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const unigramCorpusPath = "testdata/corpus_unigram.jsonl"

// buildUnigramCorpus returns the strings added to the differential corpus
// for the SentencePiece Unigram tokenizer: its added tokens (<mask> takes
// the spaces before it), spaces at the ends and in runs, and characters
// the precompiled map (nmt_nfkc) changes, alone and in grapheme clusters.
// The Unigram goldens cover corpus.jsonl, corpus_clip.jsonl and these.
func buildUnigramCorpus() []string {
	var c []string
	add := func(s ...string) { c = append(c, s...) }
	for _, tmpl := range []string{"%s", "a %s b", "a%sb", "  %s  ", "x\u3000%s", "%s%s", "\t%s\n"} {
		for _, sp := range []string{"<s>", "</s>", "<pad>", "<unk>", "<mask>", "<MASK>", "< mask>"} {
			add(strings.ReplaceAll(tmpl, "%s", sp))
		}
	}
	add("Paris is the <mask> of France.", "Paris is the   <mask>   of France.", "<mask><mask> <mask>")
	add(" leading", "   leading three", "trailing ", "trailing three   ", "  both  ", "a  b   c    d", " ", "   ", "\u3000x\u3000 \u3000y")
	add("ＡＢＣ ａｂｃ １２３", "ﬁ ﬂ ﬃ", "① ⑴ ⒈ ㈠", "㍻ ㌔ ㎏", "ｶﾀｶﾅ ﾊﾟ", "Å Ω K", "e\u0301 a\u0308 ñ n\u0303", "\u1100\u1161\u11a8",
		"ＡE\u0301", "ﬁ\u0301", "①\u20dd", "Ａ\U0001f3fd", "\u00a0x\u2000y\u200bz", "ǅ Ǆ ǆ", "™ ℡ №", "½ ⅓", "…", "‘quotes’ “double”",
		"x\u00adx", "\ufeffbom", "a\u200db", "\U0001F468\u200d\U0001F469\u200d\U0001F467", "🇩🇪", "1\ufe0f\u20e3")
	return c
}

func TestUnigramCorpusUpToDate(t *testing.T) {
	want := encodeCorpus(buildUnigramCorpus())
	if *update {
		require.NoError(t, os.WriteFile(unigramCorpusPath, want, 0o644))
	}
	got, err := os.ReadFile(unigramCorpusPath)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "%s is stale: run testdata/regen.sh", unigramCorpusPath)
}
