// Package vocab generates a synthetic Hugging Face tokenizer.json shaped
// exactly like the one of distilbert-base-multilingual-cased (the text tower
// of sentence-transformers/clip-ViT-B-32-multilingual-v1), with a vocabulary
// that is deterministic in its size and exercises WordPiece in many scripts.
//
// Ids follow the real layout: 0 [PAD], 1..99 [unused1]..[unused99],
// 100 [UNK], 101 [CLS], 102 [SEP], 103 [MASK], then punctuation and single
// characters, their "##" continuation forms, words and word pieces of ~50
// languages, more characters (Hangul, Han), and generated pieces to fill.
// Some characters are deliberately absent so that [UNK] occurs.
package vocab

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Full is the vocabulary size of distilbert-base-multilingual-cased.
const Full = 119547

// Tiny is the vocabulary size used by the tiny generated model. It holds
// the specials, every core character of every script, their "##" forms and
// the embedded words and word pieces.
const Tiny = 8192

// Special token ids, as in distilbert-base-multilingual-cased.
const (
	PadID  = 0
	UnkID  = 100
	ClsID  = 101
	SepID  = 102
	MaskID = 103
)

// Min is the smallest vocabulary WriteTokenizerJSON accepts: the specials
// and [unused] entries.
const Min = MaskID + 1

// Tokens returns the first n entries of the generated vocabulary, index =
// id. It fails when n < Min or when n exceeds what the generator can make.
func Tokens(n int) ([]string, error) {
	if n < Min {
		return nil, fmt.Errorf("vocabulary size %d below minimum %d", n, Min)
	}
	b := newBuilder(n)
	b.specials()
	b.punctuation()
	core := coreLetters()
	b.chars(core)
	b.continuations(core)
	b.words()
	ext := extendedLetters()
	b.chars(ext)
	b.continuations(ext)
	b.fill()
	if len(b.toks) < n {
		return nil, fmt.Errorf("vocabulary generator exhausted at %d of %d entries", len(b.toks), n)
	}
	return b.toks, nil
}

// WriteTokenizerJSON writes a complete Hugging Face tokenizer.json with n
// vocabulary entries, deterministic in n, in the structure of
// distilbert-base-multilingual-cased's tokenizer.json.
func WriteTokenizerJSON(w io.Writer, n int) error {
	toks, err := Tokens(n)
	if err != nil {
		return fmt.Errorf("generate vocabulary: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(header)
	for i, t := range toks {
		q, err := quote(t)
		if err != nil {
			return fmt.Errorf("encode vocabulary entry %d: %w", i, err)
		}
		sep := ","
		if i == len(toks)-1 {
			sep = ""
		}
		fmt.Fprintf(bw, "      %s: %d%s\n", q, i, sep)
	}
	bw.WriteString("    }\n  }\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write tokenizer.json: %w", err)
	}
	return nil
}

func quote(s string) (string, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return strings.TrimSuffix(sb.String(), "\n"), nil
}

const header = `{
  "version": "1.0",
  "truncation": null,
  "padding": null,
  "added_tokens": [
    {"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 100, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 101, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 102, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 103, "content": "[MASK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": {
    "type": "BertNormalizer",
    "clean_text": true,
    "handle_chinese_chars": true,
    "strip_accents": null,
    "lowercase": false
  },
  "pre_tokenizer": {
    "type": "BertPreTokenizer"
  },
  "post_processor": {
    "type": "TemplateProcessing",
    "single": [
      {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
      {"Sequence": {"id": "A", "type_id": 0}},
      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}
    ],
    "pair": [
      {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
      {"Sequence": {"id": "A", "type_id": 0}},
      {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
      {"Sequence": {"id": "B", "type_id": 1}},
      {"SpecialToken": {"id": "[SEP]", "type_id": 1}}
    ],
    "special_tokens": {
      "[CLS]": {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]},
      "[SEP]": {"id": "[SEP]", "ids": [102], "tokens": ["[SEP]"]}
    }
  },
  "decoder": {
    "type": "WordPiece",
    "prefix": "##",
    "cleanup": true
  },
  "model": {
    "type": "WordPiece",
    "unk_token": "[UNK]",
    "continuing_subword_prefix": "##",
    "max_input_chars_per_word": 100,
    "vocab": {
`

type builder struct {
	n    int
	toks []string
	seen map[string]bool
}

func newBuilder(n int) *builder {
	return &builder{n: n, toks: make([]string, 0, n), seen: make(map[string]bool, n)}
}

func (b *builder) full() bool { return len(b.toks) >= b.n }

// add appends t unless it is already present or the vocabulary is full.
func (b *builder) add(t string) {
	if b.full() || t == "" || b.seen[t] {
		return
	}
	b.seen[t] = true
	b.toks = append(b.toks, t)
}

func (b *builder) specials() {
	b.add("[PAD]")
	for i := 1; i < UnkID; i++ {
		b.add(fmt.Sprintf("[unused%d]", i))
	}
	b.add("[UNK]")
	b.add("[CLS]")
	b.add("[SEP]")
	b.add("[MASK]")
}

// punctuation adds ASCII punctuation and digits, then common punctuation
// and symbols of other scripts, each as a single-character entry.
func (b *builder) punctuation() {
	for r := rune('!'); r <= '~'; r++ {
		if !unicode.IsLetter(r) {
			b.add(string(r))
		}
	}
	for _, r := range "¡¢£¤¥¦§¨©ª«¬®¯°±²³´µ¶·¸¹º»¼½¾¿×÷" +
		"‐‑‒–—―‖‗‘’‚‛“”„‟†‡•‣․‥…‧‰′″‹›※‼‽⁂⁄€₹₽₩₺" +
		"、。〃〈〉《》「」『』【】〔〕〖〗〜・（）！＂＃％＆＇＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～" +
		"،؛؟٪٫٬۔।॥෴๏๚๛၊။־׀׃׳״՚՛՜՝՞։჻" +
		"←↑→↓↔⇒∀∂∃∅∇∈∑−√∞∧∨∩∪∫≈≠≡≤≥⊂⊃⊕⊗■□▲►▼◆○●★☆☎♀♂♠♣♥♦♪♫✓✔✕✖✗✘❤" +
		"😀😂😊😍😭👍👏🙏🔥🎉🌍🐶🐱" {
		b.add(string(r))
	}
}

// letterRange lists the letters (and combining vowel signs, which BERT keeps
// inside words) of [lo, hi], skipping unassigned code points.
func letterRange(lo, hi rune) []rune {
	var out []rune
	for r := lo; r <= hi; r++ {
		if unicode.In(r, unicode.L, unicode.M, unicode.Nd) {
			out = append(out, r)
		}
	}
	return out
}

// script is the alphabet of one writing system, used for words and for
// generated pieces.
type script struct {
	name    string
	letters []rune
}

// coreScripts are the alphabets whose every letter is in the core tier.
func coreScripts() []script {
	latin := append(letterRange('A', 'Z'), letterRange('a', 'z')...)
	latin = append(latin, letterRange('0', '9')...)
	latin = append(latin, letterRange(0xC0, 0xFF)...)
	return []script{
		{"latin", latin},
		{"latin-ext", letterRange(0x100, 0x17F)},
		{"latin-viet", []rune("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")},
		{"latin-more", []rune("əșțȘȚ")},
		{"greek", append(letterRange(0x391, 0x3A9), letterRange(0x3AC, 0x3CE)...)},
		{"cyrillic", append(letterRange(0x400, 0x45F), []rune("ҐґҒғҚқҢңҮүҰұҺһӘәӨө")...)},
		{"armenian", append(letterRange(0x531, 0x556), letterRange(0x561, 0x587)...)},
		{"georgian", letterRange(0x10D0, 0x10FA)},
		{"hebrew", letterRange(0x5D0, 0x5EA)},
		{"arabic", append(append(letterRange(0x621, 0x64A), letterRange(0x660, 0x669)...), []rune("پچژگکیۀہھےٹڈڑںۓ")...)},
		{"devanagari", letterRange(0x901, 0x94D)},
		{"gujarati", letterRange(0xA81, 0xACD)},
		{"bengali", letterRange(0x981, 0x9CD)},
		{"tamil", letterRange(0xB82, 0xBCD)},
		{"telugu", letterRange(0xC01, 0xC4D)},
		{"thai", append(letterRange(0xE01, 0xE3A), letterRange(0xE40, 0xE4E)...)},
		{"myanmar", letterRange(0x1000, 0x103E)},
		{"hiragana", letterRange(0x3041, 0x3096)},
		{"katakana", append(letterRange(0x30A1, 0x30FA), 0x30FC)},
		{"hangul", hangulOpen()},
		{"han", []rune(cjkCommon)},
	}
}

// hangulOpen lists the Hangul syllables without a final consonant.
func hangulOpen() []rune {
	var out []rune
	for lead := 0; lead < 19; lead++ {
		for vowel := 0; vowel < 21; vowel++ {
			out = append(out, rune(0xAC00+(lead*21+vowel)*28))
		}
	}
	return out
}

func coreLetters() []rune {
	var out []rune
	for _, s := range coreScripts() {
		out = append(out, s.letters...)
	}
	return out
}

// mix is a fixed integer hash (splitmix64 finaliser) used to pick
// deterministic, scattered subsets.
func mix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// extendedLetters are the characters of the second tier: Hangul syllables
// with final consonants and Han ideographs of the main block and of
// extensions A and B, each kept with a fixed probability so that some are
// absent and map to [UNK]. Extensions beyond B (including U+2B820..) are
// never in the vocabulary.
func extendedLetters() []rune {
	var out []rune
	for r := rune(0xAC00); r <= 0xD7A3; r++ {
		if mix(uint64(r))%3 != 0 {
			out = append(out, r)
		}
	}
	for r := rune(0x4E00); r <= 0x9FFF; r++ {
		if mix(uint64(r))%5 != 0 {
			out = append(out, r)
		}
	}
	for r := rune(0x3400); r <= 0x4DBF; r += 7 {
		out = append(out, r)
	}
	for r := rune(0x20000); r <= 0x2A6DF; r += 97 {
		out = append(out, r)
	}
	return out
}

func (b *builder) chars(rs []rune) {
	for _, r := range rs {
		b.add(string(r))
	}
}

// continuations adds "##c" for every letter c of rs.
func (b *builder) continuations(rs []rune) {
	for _, r := range rs {
		b.add("##" + string(r))
	}
}

// words adds the embedded words. Every other word is kept whole; all words
// of three or more characters also contribute a stem and "##" suffix
// pieces, so that the words not kept whole split into several pieces.
func (b *builder) words() {
	i := 0
	for _, line := range words {
		for _, w := range strings.Fields(line) {
			rs := []rune(w)
			if i%2 == 0 || len(rs) < 3 {
				b.add(w)
			}
			if len(rs) >= 3 {
				half := (len(rs) + 1) / 2
				b.add(string(rs[:half]))
				b.add("##" + string(rs[half:]))
				if len(rs) >= 6 {
					third := len(rs) / 3
					b.add("##" + string(rs[third:half]))
				}
			}
			i++
		}
	}
}

// fill adds generated pieces: strings of 2 to 5 letters of one script, word
// initial or "##", taken round-robin over the scripts from a fixed
// pseudo-random sequence until the vocabulary is full.
func (b *builder) fill() {
	var scripts []script
	for _, s := range coreScripts() {
		// Han characters are always split one by one: pieces of several
		// would never match.
		if s.name != "han" {
			scripts = append(scripts, s)
		}
	}
	// Prefer letters, not digits, for generated pieces.
	for i := range scripts {
		var ls []rune
		for _, r := range scripts[i].letters {
			if !unicode.IsDigit(r) {
				ls = append(ls, r)
			}
		}
		scripts[i].letters = ls
	}
	state := uint64(0x6d636c6970) // "mclip"
	misses := 0
	for !b.full() && misses < 1_000_000 {
		before := len(b.toks)
		for _, s := range scripts {
			state = mix(state)
			length := 2 + int(state%4)
			var sb strings.Builder
			if state>>8%3 == 0 {
				sb.WriteString("##")
			}
			for j := 0; j < length; j++ {
				state = mix(state)
				sb.WriteRune(s.letters[state%uint64(len(s.letters))])
			}
			if utf8.ValidString(sb.String()) {
				b.add(sb.String())
			}
		}
		if len(b.toks) == before {
			misses++
		}
	}
}
