package vocab

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CLIP's byte-level BPE vocabulary, shaped like the tokenizer.json of
// openai/clip-vit-base-patch32 (and patch16, and the open_clip LAION
// models, which share OpenAI's vocabulary): ids 0..255 are the 256 byte
// symbols in GPT-2's byte-to-unicode order, 256..511 the same symbols with
// the end-of-word suffix "</w>", then one token per merge in merge order,
// then <|startoftext|> and <|endoftext|>.
const (
	// CLIPFull is the vocabulary size of OpenAI's CLIP (48,894 merges).
	CLIPFull = 49408
	// CLIPTiny is the vocabulary size of the tiny generated CLIP models.
	CLIPTiny = 4096
	// CLIPMin is the smallest CLIP vocabulary: the 512 byte symbols and
	// the two specials, no merges.
	CLIPMin = 514
)

// CLIPEndOfWord is the suffix CLIP's BPE puts on the last symbol of a word.
const CLIPEndOfWord = "</w>"

// CLIP special tokens: the start and end tokens are the last two ids.
const (
	CLIPStart = "<|startoftext|>"
	CLIPEnd   = "<|endoftext|>"
)

// ByteToUnicode is GPT-2's reversible map from bytes to printable
// characters that byte-level BPE works on: printable Latin-1 bytes map to
// themselves, the others to U+0100 onwards in byte order. The order of the
// result (printable bytes first) is the order of CLIP's first 256 ids.
func ByteToUnicode() (order []byte, char [256]rune) {
	var printable [256]bool
	for b := '!'; b <= '~'; b++ {
		printable[b] = true
	}
	for b := 0xA1; b <= 0xAC; b++ {
		printable[b] = true
	}
	for b := 0xAE; b <= 0xFF; b++ {
		printable[b] = true
	}
	for b := 0; b < 256; b++ {
		if printable[b] {
			order = append(order, byte(b))
			char[b] = rune(b)
		}
	}
	n := 0
	for b := 0; b < 256; b++ {
		if !printable[b] {
			order = append(order, byte(b))
			char[b] = rune(256 + n)
			n++
		}
	}
	return order, char
}

// CLIPVocab returns the n tokens (index = id) and the n-514 merges of the
// generated CLIP vocabulary, deterministic in n.
func CLIPVocab(n int) (toks []string, merges [][2]string, err error) {
	if n < CLIPMin {
		return nil, nil, fmt.Errorf("CLIP vocabulary size %d below minimum %d", n, CLIPMin)
	}
	g := newClipGen(n - CLIPMin)
	g.train(clipCorpus(), 400)
	for _, w := range clipCorpus() {
		g.word(w)
	}
	g.fill()
	if len(g.merges) < g.want {
		return nil, nil, fmt.Errorf("CLIP merge generator exhausted at %d of %d merges", len(g.merges), g.want)
	}
	return append(g.toks, CLIPStart, CLIPEnd), g.merges, nil
}

// clipGen builds merges: first by training BPE on the embedded words, then
// by making whole words single tokens, then from generated words.
type clipGen struct {
	want   int
	toks   []string
	ids    map[string]int
	merges [][2]string
	rank   map[[2]string]int
	char   [256]rune
}

func newClipGen(want int) *clipGen {
	order, char := ByteToUnicode()
	g := &clipGen{want: want, ids: map[string]int{}, rank: map[[2]string]int{}, char: char}
	for _, suffix := range []string{"", CLIPEndOfWord} {
		for _, b := range order {
			g.add(string(char[b]) + suffix)
		}
	}
	return g
}

func (g *clipGen) add(t string) {
	g.ids[t] = len(g.toks)
	g.toks = append(g.toks, t)
}

func (g *clipGen) full() bool { return len(g.merges) >= g.want }

// merge adds the merge a+b unless the result is already a token.
func (g *clipGen) merge(a, b string) {
	if g.full() {
		return
	}
	if _, ok := g.ids[a+b]; ok {
		return
	}
	g.rank[[2]string{a, b}] = len(g.merges)
	g.merges = append(g.merges, [2]string{a, b})
	g.add(a + b)
}

// symbols is word in byte-level symbols, "</w>" on the last one.
func (g *clipGen) symbols(word string) []string {
	out := make([]string, len(word))
	for i := 0; i < len(word); i++ {
		out[i] = string(g.char[word[i]])
	}
	out[len(out)-1] += CLIPEndOfWord
	return out
}

// apply runs BPE with the merges so far: repeatedly the adjacent pair of
// lowest rank, leftmost first.
func (g *clipGen) apply(syms []string) []string {
	for len(syms) > 1 {
		best, at := -1, -1
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := g.rank[[2]string{syms[i], syms[i+1]}]; ok && (best < 0 || r < best) {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		syms = append(syms[:at+1], syms[at+2:]...)
		syms[at] = g.merges[best][0] + g.merges[best][1]
	}
	return syms
}

// train adds up to rounds merges of the most frequent adjacent pair of the
// corpus (ties broken by the pair's text), as a BPE trainer does.
func (g *clipGen) train(corpus []string, rounds int) {
	words := make([][]string, len(corpus))
	for i, w := range corpus {
		words[i] = g.symbols(w)
	}
	for r := 0; r < rounds && !g.full(); r++ {
		counts := map[[2]string]int{}
		for _, w := range words {
			for i := 0; i+1 < len(w); i++ {
				counts[[2]string{w[i], w[i+1]}]++
			}
		}
		var best [2]string
		n := 1
		for p, c := range counts {
			if c > n || (c == n && n > 1 && p[0]+" "+p[1] < best[0]+" "+best[1]) {
				best, n = p, c
			}
		}
		if n < 2 {
			return
		}
		g.merge(best[0], best[1])
		for k, w := range words {
			words[k] = g.apply(w)
		}
	}
}

// word makes w a single token: it adds the merges joining w's current
// pieces from left to right.
func (g *clipGen) word(w string) {
	syms := g.apply(g.symbols(w))
	acc := syms[0]
	for _, s := range syms[1:] {
		g.merge(acc, s)
		acc += s
	}
}

// clipCorpus is the lower-cased embedded words and some punctuation runs.
func clipCorpus() []string {
	var out []string
	for _, line := range words {
		for _, w := range strings.Fields(strings.ToLower(line)) {
			out = append(out, w)
		}
	}
	return append(out, "...", "!!", "?!", "),", "\".", "'s", "'t", "'re", "'ll", "--", "://", "😀😀")
}

// fill adds generated lower-case words of 2 to 7 letters of one script
// until the vocabulary is full.
func (g *clipGen) fill() {
	var scripts []script
	for _, s := range coreScripts() {
		var ls []rune
		for _, r := range s.letters {
			if unicode.IsLetter(r) && unicode.ToLower(r) == r {
				ls = append(ls, r)
			}
		}
		if len(ls) > 0 && s.name != "han" {
			scripts = append(scripts, script{name: s.name, letters: ls})
		}
	}
	state := uint64(0x636c6970) // "clip"
	for misses := 0; !g.full() && misses < 1_000_000; misses++ {
		for _, s := range scripts {
			state = mix(state)
			length := 2 + int(state%6)
			var sb strings.Builder
			for j := 0; j < length; j++ {
				state = mix(state)
				sb.WriteRune(s.letters[state%uint64(len(s.letters))])
			}
			if w := sb.String(); utf8.ValidString(w) {
				g.word(w)
			}
		}
	}
}

// WriteCLIPTokenizerJSON writes a tokenizer.json with n vocabulary entries
// in the structure of openai/clip-vit-base-patch32's: normalizer
// Sequence[NFC, Replace(\s+, " "), Lowercase], pre-tokenizer
// Sequence[Split(CLIP's regex, removed, inverted), ByteLevel], BPE with
// "</w>", RobertaProcessing with <|startoftext|> and <|endoftext|>.
func WriteCLIPTokenizerJSON(w io.Writer, n int) error {
	toks, merges, err := CLIPVocab(n)
	if err != nil {
		return fmt.Errorf("generate CLIP vocabulary: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, clipHeader, n-2, n-1, n-1, n-2, CLIPEnd)
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
	bw.WriteString("    },\n    \"merges\": [\n")
	for i, m := range merges {
		q, err := quote(m[0] + " " + m[1])
		if err != nil {
			return fmt.Errorf("encode merge %d: %w", i, err)
		}
		sep := ","
		if i == len(merges)-1 {
			sep = ""
		}
		fmt.Fprintf(bw, "      %s%s\n", q, sep)
	}
	bw.WriteString("    ]\n  }\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write tokenizer.json: %w", err)
	}
	return nil
}

// clipHeader is everything before the vocabulary entries; the %d are the
// ids of <|startoftext|> and <|endoftext|>, %s the unk token.
const clipHeader = `{
  "version": "1.0",
  "truncation": null,
  "padding": null,
  "added_tokens": [
    {"id": %d, "content": "<|startoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": true},
    {"id": %d, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": {
    "type": "Sequence",
    "normalizers": [
      {"type": "NFC"},
      {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
      {"type": "Lowercase"}
    ]
  },
  "pre_tokenizer": {
    "type": "Sequence",
    "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"}, "behavior": "Removed", "invert": true},
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}
    ]
  },
  "post_processor": {
    "type": "RobertaProcessing",
    "sep": ["<|endoftext|>", %d],
    "cls": ["<|startoftext|>", %d],
    "trim_offsets": false,
    "add_prefix_space": false
  },
  "decoder": {
    "type": "ByteLevel",
    "add_prefix_space": true,
    "trim_offsets": true,
    "use_regex": true
  },
  "model": {
    "type": "BPE",
    "dropout": null,
    "unk_token": %q,
    "continuing_subword_prefix": "",
    "end_of_word_suffix": "</w>",
    "fuse_unk": false,
    "byte_fallback": false,
    "vocab": {
`
