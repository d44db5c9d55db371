package tokenize

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// byteLevelBPE is CLIP's tokenizer as its tokenizer.json describes it:
// normalizer Sequence[NFC, Replace(\s+ -> " "), Lowercase], pre-tokenizer
// Sequence[Split(CLIP's regex, removed, inverted), ByteLevel], BPE over
// byte symbols with "</w>" on a word's last byte, and "<|startoftext|> $A
// <|endoftext|>" around the text.
type byteLevelBPE struct {
	raw  *specials // added tokens matched on the raw text (normalized false)
	norm *specials // added tokens matched on the normalized text
	// first and last are the ids of each byte's symbol, without and with
	// the end-of-word suffix.
	first, last [256]int32
	// merges maps a pair of ids (left<<32 | right) to the merge's rank
	// (high half) and the merged id (low half).
	merges map[uint64]uint64
	start  int64
	end    int64
}

// clipSplitPatterns are the forms of CLIP's pre-tokenizer regex that
// byteLevelBPE implements (split.go): the one transformers' CLIPConverter
// writes.
var clipSplitPatterns = []string{
	`'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`,
}

// component is a normalizer, pre-tokenizer or decoder entry of
// tokenizer.json, with the fields the supported ones use.
type component struct {
	Type          string      `json:"type"`
	Normalizers   []component `json:"normalizers"`
	Pretokenizers []component `json:"pretokenizers"`
	Pattern       struct {
		Regex  *string `json:"Regex"`
		String *string `json:"String"`
	} `json:"pattern"`
	Content        string  `json:"content"`
	Behavior       string  `json:"behavior"`
	Invert         bool    `json:"invert"`
	AddPrefixSpace bool    `json:"add_prefix_space"`
	UseRegex       *bool   `json:"use_regex"`
	Replacement    string  `json:"replacement"`
	PrependScheme  *string `json:"prepend_scheme"`
	Split          *bool   `json:"split"`
	Precompiled    *string `json:"precompiled_charsmap"`
	StripLeft      bool    `json:"strip_left"`
	StripRight     bool    `json:"strip_right"`
}

// String names the component and its parts, for error messages.
func (c *component) String() string {
	if c == nil {
		return "none"
	}
	var parts []string
	for i := range c.Normalizers {
		parts = append(parts, c.Normalizers[i].String())
	}
	for i := range c.Pretokenizers {
		parts = append(parts, c.Pretokenizers[i].String())
	}
	if len(parts) == 0 {
		return c.Type
	}
	return c.Type + "[" + strings.Join(parts, ", ") + "]"
}

// isCLIPNormalizer reports whether c is Sequence[NFC, Replace(\s+, " "),
// Lowercase].
func isCLIPNormalizer(c *component) bool {
	if c == nil || c.Type != "Sequence" || len(c.Normalizers) != 3 {
		return false
	}
	n := c.Normalizers
	return n[0].Type == "NFC" &&
		n[1].Type == "Replace" && n[1].Pattern.Regex != nil && *n[1].Pattern.Regex == `\s+` && n[1].Content == " " &&
		n[2].Type == "Lowercase"
}

// checkCLIPPreTokenizer accepts Sequence[Split(CLIP's regex, Removed,
// invert), ByteLevel(add_prefix_space false)]. ByteLevel's own GPT-2 split
// (use_regex, true when absent) leaves every piece of CLIP's split whole,
// so both settings are accepted.
func checkCLIPPreTokenizer(c *component) error {
	want := fmt.Errorf("pre_tokenizer is %s, want Sequence[Split, ByteLevel] with CLIP's split regex", c)
	if c == nil || c.Type != "Sequence" || len(c.Pretokenizers) != 2 {
		return want
	}
	s, b := c.Pretokenizers[0], c.Pretokenizers[1]
	if s.Type != "Split" || b.Type != "ByteLevel" {
		return want
	}
	if s.Pattern.Regex == nil {
		return fmt.Errorf("pre_tokenizer Split has no regex pattern")
	}
	known := false
	for _, p := range clipSplitPatterns {
		known = known || *s.Pattern.Regex == p
	}
	if !known {
		return fmt.Errorf("pre_tokenizer Split regex %q unsupported, want %q", *s.Pattern.Regex, clipSplitPatterns[0])
	}
	if s.Behavior != "Removed" || !s.Invert {
		return fmt.Errorf("pre_tokenizer Split behavior %q invert %v unsupported, want Removed, invert true", s.Behavior, s.Invert)
	}
	if b.AddPrefixSpace {
		return fmt.Errorf("pre_tokenizer ByteLevel add_prefix_space true unsupported")
	}
	return nil
}

// bpeModel is the model section of a BPE tokenizer.json.
type bpeModel struct {
	Type                    string          `json:"type"`
	Dropout                 *float64        `json:"dropout"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   map[string]int  `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

// bpeMerges reads merges written as "a b" strings (tokenizers before 0.20)
// or as ["a", "b"] pairs.
func bpeMerges(raw json.RawMessage) ([][2]string, error) {
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("merges are neither \"a b\" strings nor [a, b] pairs: %w", err)
	}
	pairs = make([][2]string, len(lines))
	for i, l := range lines {
		a, b, ok := strings.Cut(l, " ")
		if !ok || strings.Contains(b, " ") {
			return nil, fmt.Errorf("merge %d %q is not two tokens separated by a space", i, l)
		}
		pairs[i] = [2]string{a, b}
	}
	return pairs, nil
}

// byteLevelConfig is the part of a byte-level BPE tokenizer.json read here.
type byteLevelConfig struct {
	AddedTokens   []addedToken   `json:"added_tokens"`
	Normalizer    *component     `json:"normalizer"`
	PreTokenizer  *component     `json:"pre_tokenizer"`
	PostProcessor *postProcessor `json:"post_processor"`
	Model         bpeModel       `json:"model"`
}

// parseByteLevelBPE builds the Tokenizer of a CLIP tokenizer.json.
func parseByteLevelBPE(data []byte) (*Tokenizer, error) {
	var c byteLevelConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parse json: %w", err)
	}
	if !isCLIPNormalizer(c.Normalizer) {
		return nil, fmt.Errorf("normalizer is %s, want Sequence[NFC, Replace(\\s+, \" \"), Lowercase] as CLIP's", c.Normalizer)
	}
	if err := checkCLIPPreTokenizer(c.PreTokenizer); err != nil {
		return nil, err
	}
	m := &c.Model
	switch {
	case m.EndOfWordSuffix == nil || *m.EndOfWordSuffix != "</w>":
		return nil, fmt.Errorf("BPE end_of_word_suffix must be \"</w>\" as CLIP's")
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return nil, fmt.Errorf("BPE continuing_subword_prefix %q unsupported", *m.ContinuingSubwordPrefix)
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, fmt.Errorf("BPE dropout unsupported: encoding would not be deterministic")
	case m.FuseUnk || m.ByteFallback || m.IgnoreMerges:
		return nil, fmt.Errorf("BPE fuse_unk, byte_fallback and ignore_merges must be false as CLIP's")
	}
	if c.PostProcessor == nil {
		return nil, fmt.Errorf("post_processor missing: want RobertaProcessing with start and end tokens")
	}
	start, end, err := c.PostProcessor.clsSep()
	if err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	merges, err := bpeMerges(m.Merges)
	if err != nil {
		return nil, err
	}

	b := &byteLevelBPE{start: start, end: end, merges: make(map[uint64]uint64, len(merges))}
	maxID := -1
	for tok, id := range m.Vocab {
		if id < 0 || id > 1<<31-1 {
			return nil, fmt.Errorf("vocabulary id %d of %q out of range", id, tok)
		}
		maxID = max(maxID, id)
	}
	unk := int32(-1)
	if m.UnkToken != nil {
		id, ok := m.Vocab[*m.UnkToken]
		if !ok {
			return nil, fmt.Errorf("unk token %q not in vocabulary", *m.UnkToken)
		}
		unk = int32(id)
	}
	_, char := byteToUnicode()
	for i := 0; i < 256; i++ {
		for k, suffix := range []string{"", "</w>"} {
			id, ok := m.Vocab[string(char[i])+suffix]
			if !ok {
				if unk < 0 {
					return nil, fmt.Errorf("byte symbol %q not in vocabulary and no unk_token", string(char[i])+suffix)
				}
				id = int(unk)
			}
			if k == 0 {
				b.first[i] = int32(id)
			} else {
				b.last[i] = int32(id)
			}
		}
	}
	for rank, p := range merges {
		l, okl := m.Vocab[p[0]]
		r, okr := m.Vocab[p[1]]
		n, okn := m.Vocab[p[0]+p[1]]
		if !okl || !okr || !okn {
			return nil, fmt.Errorf("merge %d %q+%q: token not in vocabulary", rank, p[0], p[1])
		}
		key := uint64(l)<<32 | uint64(r)
		if _, dup := b.merges[key]; !dup {
			b.merges[key] = uint64(rank)<<32 | uint64(n)
		}
	}

	raw, normalized := map[string]int64{}, map[string]int64{}
	for _, a := range c.AddedTokens {
		if err := a.check(); err != nil {
			return nil, err
		}
		if a.Normalized {
			normalized[clipNormalize(a.Content, nil)] = int64(a.ID)
		} else {
			raw[a.Content] = int64(a.ID)
		}
		maxID = max(maxID, a.ID)
	}
	b.raw, b.norm = newSpecials(raw), newSpecials(normalized)
	return &Tokenizer{bpe: b, padID: end, vocabSize: maxID + 1}, nil
}

// byteToUnicode is GPT-2's byte-to-character map of byte-level BPE (see
// modelgen/vocab.ByteToUnicode, which writes the vocabulary in its order).
func byteToUnicode() (order []byte, char [256]rune) {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			char[b] = rune(b)
			order = append(order, byte(b))
		}
	}
	for b := 0; b < 256; b++ {
		if !((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) {
			char[b] = rune(256 + n)
			order = append(order, byte(b))
			n++
		}
	}
	return order, char
}

// isSpace is \s of Oniguruma, the regex engine of HF tokenizers: tab to
// carriage return, U+0085 and the separators (Zs, Zl, Zp).
func isSpace(r rune) bool {
	if r < 0x80 {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return r == 0x85 || unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp)
}

// clipNormalize appends to dst the NFC form of s with every run of
// whitespace replaced by one space and every character lower-cased as
// Rust's char::to_lowercase does (U+0130 becomes "i\u0307").
func clipNormalize(s string, dst []byte) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		s = nfc(s)
	}
	dst = dst[:0]
	space := false
	for _, r := range s {
		if isSpace(r) {
			if !space {
				dst = append(dst, ' ')
			}
			space = true
			continue
		}
		space = false
		dst = appendLower(dst, r)
	}
	return string(dst)
}

// appendLower appends the lower case of r as Rust's char::to_lowercase
// gives it (U+0130 becomes "i\u0307").
func appendLower(dst []byte, r rune) []byte {
	switch {
	case r < 0x80:
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, byte(r))
	case r == 0x130:
		return append(dst, "i\u0307"...)
	}
	return utf8.AppendRune(dst, toLower(r))
}

// nfc is the NFC of HF tokenizers, whose tables are older than Go's
// (Unicode 15.0): it does not compose U+11935 U+11930 into U+11938 (a
// composition of Unicode 13.0), so the text is normalized in parts split
// before each U+11930. Combining marks assigned after HF's tables are
// still reordered here and not there; text that is already NFC, as text
// in the wild is, is not affected.
func nfc(s string) string {
	const dot = "\U00011930"
	if !strings.Contains(s, dot) {
		return norm.NFC.String(s)
	}
	var b strings.Builder
	for s != "" {
		i := strings.Index(s[len(dot):], dot)
		if !strings.HasPrefix(s, dot) {
			i = strings.Index(s, dot)
		} else if i >= 0 {
			i += len(dot)
		}
		if i < 0 {
			i = len(s)
		}
		b.WriteString(norm.NFC.String(s[:i]))
		s = s[i:]
	}
	return b.String()
}

// bpeEncoder accumulates the ids of one Encode call.
type bpeEncoder struct {
	m        *byteLevelBPE
	ids      []int64
	limit    int // tokens of the text allowed; -1 for no limit
	maxWords int // words through BPE allowed; -1 for no limit
	words    int
	syms     []int32  // scratch: the symbols of the current word
	ranks    []uint64 // scratch: the merge of each adjacent pair
	buf      []byte   // scratch: normalized text
}

func (e *bpeEncoder) full() bool {
	return (e.limit >= 0 && len(e.ids)-1 >= e.limit) || (e.maxWords >= 0 && e.words >= e.maxWords)
}

func (e *bpeEncoder) add(id int64) {
	if !e.full() {
		e.ids = append(e.ids, id)
	}
}

// encode returns the ids of "<|startoftext|> text <|endoftext|>", truncated
// as Tokenizer.Encode describes.
func (m *byteLevelBPE) encode(text string, maxLen int) []int64 {
	limit, maxWords := -1, -1
	switch {
	case maxLen == 1:
		maxWords = 1
	case maxLen >= 2:
		limit = maxLen - 2
	}
	if !utf8.ValidString(text) {
		text = replaceInvalid(text)
	}
	size := len(text)/3 + 2
	if limit >= 0 {
		size = min(size, limit+2)
	}
	ids := make([]int64, 1, size)
	ids[0] = m.start
	e := bpeEncoder{m: m, ids: ids, limit: limit, maxWords: maxWords}
	for text != "" && !e.full() {
		start, n, id := m.raw.next(text)
		if start < 0 {
			e.segment(text)
			break
		}
		e.segment(text[:start])
		e.add(id)
		text = text[start+n:]
	}
	return append(e.ids, m.end)
}

// segment normalizes a span free of raw added tokens, splits it on the
// normalized added tokens and encodes the rest.
func (e *bpeEncoder) segment(s string) {
	if s == "" {
		return
	}
	s = clipNormalize(s, e.buf)
	for s != "" && !e.full() {
		start, n, id := e.m.norm.next(s)
		if start < 0 {
			e.split(s)
			return
		}
		e.split(s[:start])
		e.add(id)
		s = s[start+n:]
	}
}

// split is CLIP's pre-tokenizer regex
// 's|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+ on normalized
// text: the matches are the words, the whitespace between them is dropped.
func (e *bpeEncoder) split(s string) {
	for i := 0; i < len(s) && !e.full(); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isSpace(r):
			i += size
			continue
		case r == '\'':
			if n := contraction(s[i+1:]); n > 0 {
				e.word(s[i : i+1+n])
				i += 1 + n
				continue
			}
		}
		j := i + size
		switch {
		case isLetter(r):
			for j < len(s) {
				r2, n := utf8.DecodeRuneInString(s[j:])
				if !isLetter(r2) {
					break
				}
				j += n
			}
		case isNumber(r):
		default:
			for j < len(s) {
				r2, n := utf8.DecodeRuneInString(s[j:])
				if isSpace(r2) || isLetter(r2) || isNumber(r2) {
					break
				}
				j += n
			}
		}
		e.word(s[i:j])
		i = j
	}
}

// contraction returns the length of the contraction suffix (s, t, re, ve,
// m, ll, d) at the start of s, or 0.
func contraction(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if len(s) >= 2 && s[1] == 'e' {
			return 2
		}
	case 'l':
		if len(s) >= 2 && s[1] == 'l' {
			return 2
		}
	}
	return 0
}

func isLetter(r rune) bool {
	if r < 0x80 {
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
	}
	return unicode.IsLetter(r) || unicode.Is(newerLetters, r)
}

func isNumber(r rune) bool {
	if r < 0x80 {
		return r >= '0' && r <= '9'
	}
	return unicode.IsNumber(r) || unicode.Is(newerNumbers, r)
}

const noMerge = ^uint64(0)

// word runs BPE on the bytes of one pre-token and appends its ids: the
// adjacent pair with the lowest merge rank is merged first, the leftmost
// of equal ones, as HF's BPE does.
func (e *bpeEncoder) word(w string) {
	m := e.m
	syms := e.syms[:0]
	for i := 0; i < len(w)-1; i++ {
		syms = append(syms, m.first[w[i]])
	}
	syms = append(syms, m.last[w[len(w)-1]])
	ranks := e.ranks[:0]
	for i := 0; i+1 < len(syms); i++ {
		ranks = append(ranks, m.pair(syms[i], syms[i+1]))
	}
	for len(syms) > 1 {
		best := 0
		for i := 1; i < len(ranks); i++ {
			if ranks[i] < ranks[best] {
				best = i
			}
		}
		if ranks[best] == noMerge {
			break
		}
		syms[best] = int32(uint32(ranks[best]))
		syms = append(syms[:best+1], syms[best+2:]...)
		ranks = append(ranks[:best], ranks[best+1:]...)
		if best > 0 {
			ranks[best-1] = m.pair(syms[best-1], syms[best])
		}
		if best < len(ranks) {
			ranks[best] = m.pair(syms[best], syms[best+1])
		}
	}
	for _, id := range syms {
		e.add(int64(id))
	}
	e.syms, e.ranks = syms, ranks
	e.words++
}

// pair returns the merge of two adjacent symbols (rank in the high half,
// merged id in the low half; lower is earlier) or noMerge.
func (m *byteLevelBPE) pair(l, r int32) uint64 {
	if v, ok := m.merges[uint64(l)<<32|uint64(uint32(r))]; ok {
		return v
	}
	return noMerge
}

// replaceInvalid replaces each maximal invalid subsequence of s with one
// U+FFFD, as Python's and JavaScript's UTF-8 decoders do (the Unicode
// "maximal subpart" practice).
func replaceInvalid(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || size > 1 {
			b = append(b, s[i:i+size]...)
			i += size
			continue
		}
		b = append(b, "\uFFFD"...)
		i += invalidPrefix(s[i:])
	}
	return string(b)
}

// invalidPrefix is the length of the maximal subpart starting s: the lead
// byte and the continuation bytes that could still have led to a valid
// sequence (at least 1).
func invalidPrefix(s string) int {
	c := s[0]
	var n int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		n = 2
	case c >= 0xE0 && c <= 0xEF:
		n = 3
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
	case c >= 0xF0 && c <= 0xF4:
		n = 4
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
	default:
		return 1
	}
	i := 1
	for ; i < n && i < len(s); i++ {
		if s[i] < lo || s[i] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return i
}
