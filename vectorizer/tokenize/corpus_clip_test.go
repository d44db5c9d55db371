package tokenize

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const clipCorpusPath = "testdata/corpus_clip.jsonl"

// buildCLIPCorpus returns the strings added to the differential corpus for
// CLIP's byte-level BPE: its literal specials, case mapping, contractions,
// numbers, NFC and whitespace, and the fuzz seeds of testdata/fuzz. The
// CLIP goldens cover corpus.jsonl followed by these.
func buildCLIPCorpus() []string {
	var c []string
	add := func(s ...string) { c = append(c, s...) }
	// Literal specials: <|endoftext|> is matched on the raw text,
	// <|startoftext|> on the normalized (lower-cased) text.
	for _, tmpl := range []string{"%s", "foo%sbar", "%s%s", " %s ", "a %s b", "x%s%sy", "%s.", "[%s]"} {
		for _, sp := range []string{"<|startoftext|>", "<|endoftext|>", "<|STARTOFTEXT|>", "<|EndOfText|>", "<|startoftext", "endoftext|>",
			"< |endoftext| >", "<|start\u00a0oftext|>", "<|endoftext|>\u0301", "<|ｅｎｄｏｆｔｅｘｔ|>", "<|ıstartoftext|>", "<|endoftext\u200b|>"} {
			add(strings.ReplaceAll(tmpl, "%s", sp))
		}
	}
	add("<|startoftext|><|endoftext|><|startoftext|>", "<|endoftext|> a photo <|startoftext|> of a dog <|endoftext|>",
		"\u00a0<|startoftext|>\u3000x", "<|<|endoftext|>|>", "<|endoftext|>'s")
	// Case mapping: upper-cased sentences and the characters whose lower
	// case is special (İ to "i\u0307", final sigma, titlecase digraphs,
	// scripts whose case pairs are recent).
	for _, s := range sentences {
		add(strings.ToUpper(s.text))
	}
	add("İSTANBUL İzmir", "ΟΔΥΣΣΕΥΣ ΣΑΣ σας", "ǅemal ǈubljana ǋeko", "ẞ STRASSE", "I ı İ i", "ᲐᲑᲒ Ა", "ᏣᎳᎩ ꭰꭱ",
		"ⰀⰁ ⰰ", "𐐀𐐁 𐐨", "𞤀𞤁 𞤢", "Ꙁ ꙁ", "ᾈ ᾼ ῌ", "K Å Ω", "Ⅻ ⅻ Ⓐ ⓐ", "Ａｂｃ ＡＢＣ", "𝐀𝐁𝐂 ℌ")
	// Contractions and apostrophes.
	add("it's don't we're they've i'm you'll he'd", "IT'S DON'T WE'RE THEY'VE I'M YOU'LL HE'D", "'s 't 're 've 'm 'll 'd",
		"'sa 'tb 'rex 'vex 'ma 'lla 'dx", "''s '''t ''", "it’s don’t", "a'b'c'd", "'", "'r 'v 'l", "rock'n'roll", "!'s ?'t", "5's 5'5")
	// Numbers: one digit per pre-token, in every script.
	add("12345 67890", "2024-12-08 10:30", "٠١٢٣٤ ۵۶۷", "१२३ ৪৫৬", "½ ¾ ² ³ ⁴ ₅", "Ⅻ ⅻ ↂ", "①②③ ⑴ ⒈", "𝟘𝟙𝟚 𐄇", "〇一二三", "x2y3z", "3.14159 1,000,000")
	// NFC: composition, canonical reordering, exclusions, singletons.
	add("e\u0301te\u0301 cafe\u0301", "\u1100\u1161\u11a8 \u1100\u1161", "\u212b \u2126 \u212a", "\u0958 \u0915\u093c", "a\u0316\u0301 a\u0301\u0316",
		"\u1e9b\u0323", "\u0041\u030a\u0301", "\u00c5\u0301", "\u2000\u2001", "\u0344 \u0340\u0341", "\U0001d15e\U0001d15f", "\u0f73 \u0f75 \u0f81",
		"\U00011099\U000110ba \U00011131\U00011127 \U00011935\U00011930", "\u05b8\u05b9\u05b1\u0591\u05c3\u05b0\u05ac\u059f")
	// Whitespace: every candidate between words, and runs.
	for _, r := range []rune{'\t', '\n', '\v', '\f', '\r', ' ', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0, 0x1680, 0x180e, 0x2000, 0x2007, 0x200a,
		0x200b, 0x2028, 0x2029, 0x202f, 0x205f, 0x2060, 0x3000, 0xfeff} {
		ws := string(r)
		add("a"+ws+"b", ws+"x"+ws+ws+"y"+ws, "It's"+ws+"A"+ws+"Dog")
	}
	// Long words: BPE on hundreds of symbols.
	for _, n := range []int{77, 200, 500} {
		add(strings.Repeat("a", n), strings.Repeat("ab", n), strings.Repeat("水", n), strings.Repeat("!?", n), strings.Repeat("😀", n/2))
	}
	// The fuzz seeds.
	files, _ := filepath.Glob("testdata/fuzz/FuzzEncode/*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "string(") && strings.HasSuffix(line, ")") {
				s, err := strconv.Unquote(line[len("string(") : len(line)-1])
				if err != nil {
					panic(err)
				}
				add(s)
			}
		}
	}
	return c
}

// TestCLIPCorpusUpToDate checks the committed CLIP corpus is what
// buildCLIPCorpus makes; -update rewrites it.
func TestCLIPCorpusUpToDate(t *testing.T) {
	want := encodeCorpus(buildCLIPCorpus())
	if *update {
		require.NoError(t, os.WriteFile(clipCorpusPath, want, 0o644))
	}
	got, err := os.ReadFile(clipCorpusPath)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "%s is stale: run testdata/regen.sh", clipCorpusPath)
}
