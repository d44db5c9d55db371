package tokenize

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/tokenizer/pretrained"
)

// TestSugarmeDivergences shows, for each way raw sugarme v0.3.0 differs from
// HF tokenizers, an input where it does (wrong ids or a panic) and that this
// package gives HF's ids. HF's ids come from the goldens, so every input
// here is a corpus string.
func TestSugarmeDivergences(t *testing.T) {
	_, goldens := readGoldens(t)
	corpus := readCorpus(t)
	index := make(map[string]int, len(corpus))
	for i, s := range corpus {
		if _, dup := index[s]; !dup {
			index[s] = i
		}
	}
	path, _ := writeFull(t)
	raw, err := pretrained.FromFile(path)
	require.NoError(t, err)
	ours, err := Load(path)
	require.NoError(t, err)

	sugarme := func(s string) (ids []int64, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		en, err := raw.EncodeSingle(s, true)
		if err != nil {
			return nil, err
		}
		for _, id := range en.Ids {
			ids = append(ids, int64(id))
		}
		return ids, nil
	}

	for _, tc := range []struct {
		name string
		text string
	}{
		// Known divergences.
		{"no-break space is not a space", "x\u00a0y"},
		{"ideographic space U+3000 is not a space", "x\u3000y"},
		{"em space U+2003 is not a space", "x\u2003y"},
		{"narrow no-break space U+202F is not a space", "x\u202fy"},
		{"line separator U+2028 is not a space", "x\u2028y"},
		{"paragraph separator U+2029 is not a space", "x\u2029y"},
		{"ogham space mark U+1680 is not a space", "x\u1680y"},
		{"leading BOM duplicates the text", "\ufeff\ufeffab cd"},
		{"leading U+2060 duplicates the text", "\u2060Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich. Ein Bild von einem Hund."},
		{"private use U+E000 kept", "wa\ue000ter"},
		{"private use plane 16 kept", "wa\U00100000ter"},
		{"U+2B820 counted as CJK", "ab\U0002b820cd"},
		{"U+2B91F counted as CJK", "ab\U0002b91fcd"},
		{"literal specials matched in the wrong order", "x[SEP]y[CLS]z"},
		{"later special before earlier one", "[SEP] a [CLS] b [MASK]"},
		{"literal specials adjacent", "[CLS][SEP][MASK][PAD][UNK]"},
		// Found by differential testing.
		{"CJK extension A U+3400 not CJK (unsorted range table)", "ab\u3400cd"},
		{"CJK extension A U+4DBF not CJK (unsorted range table)", "ab\u4dbfcd"},
		{"leading soft hyphen duplicates the text", "\u00adZəfər, jaketini də papağını da götür, bu axşam hava çox soyuq olacaq."},
		{"leading U+0085 duplicates the text", "\u0085Flygande bäckasiner söka hwila på mjuka tuvor. En bild på en katt."},
		{"leading ZWNJ duplicates the text", "\u200cThe quick brown fox jumps over the lazy dog. A photo of a dog playing in the water!"},
		{"punctuation newer than Unicode 8.0 split off", "a\u2e43b"},
		{"punctuation newer than Unicode 8.0 split off (U+061D)", "a\u061db"},
		{"U+111C9, punctuation in Unicode 8.0, not split", "a\U000111c9b"},
		{"U+166D, punctuation in Unicode 8.0, not split", "a\u166db"},
		{"format character newer than Unicode 8.0 removed", "x \U0001343f y\U0001343f\U0001343f"},
		{"invalid UTF-8 panics", "a\xffb"},
		{"invalid UTF-8 in a special token panics", "[CLS\xff]"},
		{"truncated UTF-8 sequence panics", "caf\xc3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, ok := index[tc.text]
			require.True(t, ok, "%+q is not in the corpus", tc.text)
			want := goldens[i].IDs
			got, err := sugarme(tc.text)
			if err == nil {
				assert.NotEqual(t, want, got, "raw sugarme already agrees with HF on %+q", tc.text)
			}
			assert.Equal(t, want, ours.Encode(tc.text, 0), "%+q", tc.text)
		})
	}
}
