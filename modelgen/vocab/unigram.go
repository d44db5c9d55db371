package vocab

import (
	"bufio"
	_ "embed"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// The SentencePiece Unigram vocabulary of XLM-V as the tokenizer.json of
// facebook/metaclip-2-worldwide-* holds it, converted by transformers'
// XLMRobertaConverter: <s> 0, <pad> 1, </s> 2, <unk> 3, the pieces with
// their log-probability scores, <mask> last.
const (
	// XLMVFull is the vocabulary size of XLM-V (facebook/xlm-v-base).
	XLMVFull = 901629
	// UnigramTiny is the vocabulary size of the tiny generated models.
	UnigramTiny = 8192
	// UnigramMin is the smallest Unigram vocabulary: the five specials
	// and the metaspace.
	UnigramMin = 6
)

// Unigram special token ids.
const (
	UnigramBOS  = 0
	UnigramPad  = 1
	UnigramEOS  = 2
	UnigramUnk  = 3
	metaspaceCh = "▁"
)

// charsmap is SentencePiece's nmt_nfkc precompiled normalization map, as
// SentencePiece writes it into every model trained with that rule
// (vectorizer/tokenize/testdata/unigram/gen_unigram.py saves it).
//
//go:embed nmt_nfkc.charsmap
var charsmap []byte

// UnigramVocab returns the n pieces (index = id) and their scores of the
// generated Unigram vocabulary, deterministic in n: the specials, the
// metaspace, then for each character of the core scripts the character and
// "▁" + character, the embedded words with "▁" and their halves, generated
// pieces, and <mask>. Scores fall with the id, characters score lower than
// longer pieces, so that Viterbi prefers whole words.
func UnigramVocab(n int) ([]string, []float64, error) {
	if n < UnigramMin {
		return nil, nil, fmt.Errorf("Unigram vocabulary size %d below minimum %d", n, UnigramMin)
	}
	b := newBuilder(n - 1) // <mask> comes last
	for _, s := range []string{"<s>", "<pad>", "</s>", "<unk>", metaspaceCh} {
		b.add(s)
	}
	for _, line := range words {
		for _, w := range strings.Fields(line) {
			b.add(metaspaceCh + w)
		}
	}
	for _, r := range coreLetters() {
		b.add(string(r))
		b.add(metaspaceCh + string(r))
	}
	for r := rune('!'); r <= '~'; r++ {
		b.add(string(r))
	}
	for _, line := range words {
		for _, w := range strings.Fields(line) {
			rs := []rune(w)
			if len(rs) >= 4 {
				half := len(rs) / 2
				b.add(metaspaceCh + string(rs[:half]))
				b.add(string(rs[half:]))
			}
		}
	}
	b.unigramFill()
	if len(b.toks) < n-1 {
		return nil, nil, fmt.Errorf("Unigram vocabulary generator exhausted at %d of %d entries", len(b.toks), n)
	}
	toks := append(b.toks, "<mask>")
	scores := make([]float64, len(toks))
	for i, t := range toks {
		switch {
		case i < 4 || i == len(toks)-1:
			scores[i] = 0
		case len([]rune(strings.TrimPrefix(t, metaspaceCh))) <= 1:
			// Single characters: low, as SentencePiece scores rare ones.
			scores[i] = float64(float32(-9 - 3*float64(i)/float64(n)))
		default:
			scores[i] = float64(float32(-2 - 8*math.Log1p(float64(i))/math.Log1p(float64(n))))
		}
	}
	return toks, scores, nil
}

// unigramFill adds generated pieces of 2 to 6 letters of one script, word
// initial ("▁" first) or not, until the vocabulary is full.
func (b *builder) unigramFill() {
	var scripts []script
	for _, s := range coreScripts() {
		var ls []rune
		for _, r := range s.letters {
			if unicode.IsLetter(r) {
				ls = append(ls, r)
			}
		}
		if len(ls) > 0 {
			scripts = append(scripts, script{name: s.name, letters: ls})
		}
	}
	state := uint64(0x756e69) // "uni"
	for misses := 0; !b.full() && misses < 1_000_000; {
		before := len(b.toks)
		for _, s := range scripts {
			state = mix(state)
			length := 2 + int(state%5)
			var sb strings.Builder
			if state>>8%2 == 0 {
				sb.WriteString(metaspaceCh)
			}
			for j := 0; j < length; j++ {
				state = mix(state)
				sb.WriteRune(s.letters[state%uint64(len(s.letters))])
			}
			b.add(sb.String())
		}
		if len(b.toks) == before {
			misses++
		}
	}
}

// WriteUnigramTokenizerJSON writes a tokenizer.json with n vocabulary
// entries in the structure transformers writes for XLM-R and XLM-V:
// normalizer Sequence[Precompiled(nmt_nfkc), Strip(right), Replace(" {2,}",
// "▁")], Metaspace pre-tokenizer (prepend_scheme "always"), Unigram with
// unk_id 3, "<s> $A </s>" post-processor, <mask> with lstrip.
func WriteUnigramTokenizerJSON(w io.Writer, n int) error {
	toks, scores, err := UnigramVocab(n)
	if err != nil {
		return fmt.Errorf("generate Unigram vocabulary: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, unigramHeader, n-1, base64.StdEncoding.EncodeToString(charsmap))
	for i, t := range toks {
		q, err := quote(t)
		if err != nil {
			return fmt.Errorf("encode vocabulary entry %d: %w", i, err)
		}
		sep := ","
		if i == len(toks)-1 {
			sep = ""
		}
		fmt.Fprintf(bw, "      [%s, %s]%s\n", q, strconv.FormatFloat(scores[i], 'g', -1, 64), sep)
	}
	bw.WriteString("    ],\n    \"byte_fallback\": false\n  }\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write tokenizer.json: %w", err)
	}
	return nil
}

// unigramHeader is everything before the vocabulary entries; the %d is
// the id of <mask>, the %s the base64 character map.
const unigramHeader = `{
  "version": "1.0",
  "truncation": null,
  "padding": null,
  "added_tokens": [
    {"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "<pad>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 3, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": %d, "content": "<mask>", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": {
    "type": "Sequence",
    "normalizers": [
      {"type": "Precompiled", "precompiled_charsmap": "%s"},
      {"type": "Strip", "strip_left": false, "strip_right": true},
      {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "▁"}
    ]
  },
  "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
  "post_processor": {
    "type": "TemplateProcessing",
    "single": [
      {"SpecialToken": {"id": "<s>", "type_id": 0}},
      {"Sequence": {"id": "A", "type_id": 0}},
      {"SpecialToken": {"id": "</s>", "type_id": 0}}
    ],
    "pair": [
      {"SpecialToken": {"id": "<s>", "type_id": 0}},
      {"Sequence": {"id": "A", "type_id": 0}},
      {"SpecialToken": {"id": "</s>", "type_id": 0}},
      {"SpecialToken": {"id": "</s>", "type_id": 0}},
      {"Sequence": {"id": "B", "type_id": 0}},
      {"SpecialToken": {"id": "</s>", "type_id": 0}}
    ],
    "special_tokens": {
      "<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
      "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}
    }
  },
  "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
  "model": {
    "type": "Unigram",
    "unk_id": 3,
    "vocab": [
`
