package tokenize

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// unigram is the SentencePiece Unigram tokenizer of XLM-R and XLM-V as
// their tokenizer.json describes it: the added tokens split out of the raw
// text, then per remaining part the normalizer (SentencePiece's
// precompiled character map, then optionally Strip and a Replace of space
// runs), the Metaspace pre-tokenizer ("▁" for spaces, one prepended,
// split before each "▁"), the Unigram model (the Viterbi path of highest
// total score, unknown characters fused into one <unk>), and
// "<s> $A </s>" around the text.
type unigram struct {
	added    *specials
	charsmap *charsmap // nil without a Precompiled normalizer
	steps    []normStep
	prepend  string // "always", "first" or "never"
	split    bool   // Metaspace splits before each "▁"
	pieces   map[string]int32
	scores   []float64
	maxPiece int // bytes of the longest piece
	unkID    int32
	unkScore float64
	start    int64
	end      int64
}

const metaspace = "▁"

// normStep is a normalizer after the precompiled map: Strip or Replace.
type normStep struct {
	stripLeft, stripRight bool
	spaceRuns             bool   // Replace(Regex " {2,}")
	from                  string // Replace(String from), when not spaceRuns
	to                    string
	replace               bool
}

// unigramConfig is the part of a Unigram tokenizer.json read here.
type unigramConfig struct {
	AddedTokens   []addedToken   `json:"added_tokens"`
	Normalizer    *component     `json:"normalizer"`
	PreTokenizer  *component     `json:"pre_tokenizer"`
	PostProcessor *postProcessor `json:"post_processor"`
	Model         struct {
		UnkID        *int                 `json:"unk_id"`
		Vocab        [][2]json.RawMessage `json:"vocab"`
		ByteFallback bool                 `json:"byte_fallback"`
	} `json:"model"`
}

// parseUnigram builds the Tokenizer of an XLM-R type tokenizer.json.
func parseUnigram(data []byte) (*Tokenizer, error) {
	var c unigramConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parse json: %w", err)
	}
	u := &unigram{pieces: make(map[string]int32, len(c.Model.Vocab))}
	if err := u.normalizer(c.Normalizer); err != nil {
		return nil, err
	}
	if err := u.preTokenizer(c.PreTokenizer); err != nil {
		return nil, err
	}
	if c.Model.ByteFallback {
		return nil, fmt.Errorf("Unigram byte_fallback unsupported")
	}
	if c.PostProcessor == nil {
		return nil, fmt.Errorf("post_processor missing: want \"<s> $A </s>\"")
	}
	var err error
	if u.start, u.end, err = c.PostProcessor.clsSep(); err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	minScore := math.Inf(1)
	for i, entry := range c.Model.Vocab {
		var piece string
		var score float64
		if err := json.Unmarshal(entry[0], &piece); err != nil {
			return nil, fmt.Errorf("Unigram vocab entry %d: piece: %w", i, err)
		}
		if err := json.Unmarshal(entry[1], &score); err != nil {
			return nil, fmt.Errorf("Unigram vocab entry %d: score: %w", i, err)
		}
		u.pieces[piece] = int32(i) // the last of duplicates, as HF's map

		u.scores = append(u.scores, score)
		u.maxPiece = max(u.maxPiece, len(piece))
		minScore = min(minScore, score)
	}
	if c.Model.UnkID == nil || *c.Model.UnkID < 0 || *c.Model.UnkID >= len(c.Model.Vocab) {
		return nil, fmt.Errorf("Unigram unk_id missing or out of range")
	}
	u.unkID = int32(*c.Model.UnkID)
	u.unkScore = minScore - 10 // HF's kUnkPenalty

	maxID := len(c.Model.Vocab) - 1
	byContent := map[string]int64{}
	strip := map[string][2]bool{}
	for _, a := range c.AddedTokens {
		if a.SingleWord || a.Normalized {
			return nil, fmt.Errorf("added token %q: single_word and normalized must be false", a.Content)
		}
		if a.Content == "" || a.ID < 0 {
			return nil, fmt.Errorf("added token %d %q is empty or has a negative id", a.ID, a.Content)
		}
		byContent[a.Content] = int64(a.ID)
		strip[a.Content] = [2]bool{a.LStrip, a.RStrip}
		maxID = max(maxID, a.ID)
	}
	u.added = newSpecials(byContent)
	u.added.strip = make([][2]bool, len(u.added.tokens))
	for i, tok := range u.added.tokens {
		u.added.strip[i] = strip[tok]
	}
	pad, ok := byContent["<pad>"]
	if !ok {
		if p, ok := u.pieces["<pad>"]; ok {
			pad = int64(p)
		}
	}
	return &Tokenizer{uni: u, padID: pad, vocabSize: maxID + 1}, nil
}

// normalizer accepts Precompiled, optionally in a Sequence followed by
// Strip and Replace steps, as transformers' SpmConverter writes them.
func (u *unigram) normalizer(c *component) error {
	if c == nil {
		return fmt.Errorf("normalizer missing: want Precompiled (SentencePiece's character map)")
	}
	steps := []component{*c}
	if c.Type == "Sequence" {
		steps = c.Normalizers
	}
	for i, s := range steps {
		switch {
		case s.Type == "Precompiled" && i == 0:
			if s.Precompiled == nil {
				return fmt.Errorf("normalizer Precompiled has no precompiled_charsmap")
			}
			cm, err := parseCharsmap(*s.Precompiled)
			if err != nil {
				return fmt.Errorf("normalizer Precompiled: %w", err)
			}
			u.charsmap = cm
		case s.Type == "Strip":
			u.steps = append(u.steps, normStep{stripLeft: s.StripLeft, stripRight: s.StripRight})
		case s.Type == "Replace" && s.Pattern.Regex != nil && *s.Pattern.Regex == " {2,}":
			u.steps = append(u.steps, normStep{replace: true, spaceRuns: true, to: s.Content})
		case s.Type == "Replace" && s.Pattern.String != nil && *s.Pattern.String != "":
			u.steps = append(u.steps, normStep{replace: true, from: *s.Pattern.String, to: s.Content})
		default:
			return fmt.Errorf("normalizer is %s, want Precompiled optionally followed by Strip and Replace(\" {2,}\") as transformers writes for SentencePiece", c)
		}
	}
	return nil
}

// preTokenizer accepts Metaspace with "▁", in the form of tokenizers >=
// 0.19 (prepend_scheme, split) or older (add_prefix_space).
func (u *unigram) preTokenizer(c *component) error {
	if c == nil || c.Type != "Metaspace" {
		return fmt.Errorf("pre_tokenizer is %s, want Metaspace", c)
	}
	if c.Replacement != metaspace {
		return fmt.Errorf("pre_tokenizer Metaspace replacement %q unsupported, want %q", c.Replacement, metaspace)
	}
	u.prepend = "never"
	if c.AddPrefixSpace {
		u.prepend = "always"
	}
	if c.PrependScheme != nil {
		switch *c.PrependScheme {
		case "always", "first", "never":
			u.prepend = *c.PrependScheme
		default:
			return fmt.Errorf("pre_tokenizer Metaspace prepend_scheme %q unsupported", *c.PrependScheme)
		}
	}
	u.split = c.Split == nil || *c.Split
	return nil
}

// charsmap is SentencePiece's precompiled normalization map: a
// darts-clone double-array trie over UTF-8 keys whose values are offsets
// of NUL-terminated replacements in normalized.
type charsmap struct {
	units      []uint32
	normalized string
}

func parseCharsmap(b64 string) (*charsmap, error) {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("precompiled_charsmap is not base64: %w", err)
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("precompiled_charsmap too short")
	}
	size := binary.LittleEndian.Uint32(data)
	if size%4 != 0 || uint64(size) > uint64(len(data)-4) || size == 0 {
		return nil, fmt.Errorf("precompiled_charsmap trie size %d invalid for %d bytes", size, len(data))
	}
	cm := &charsmap{units: make([]uint32, size/4), normalized: string(data[4+size:])}
	for i := range cm.units {
		cm.units[i] = binary.LittleEndian.Uint32(data[4+4*i:])
	}
	return cm, nil
}

// first returns the replacement of the shortest key that is a prefix of
// key, as spm_precompiled's transform (the first result of its common
// prefix search), and whether there is one.
func (cm *charsmap) first(key string) (string, bool) {
	units := cm.units
	unit := units[0]
	pos := offset(unit)
	for i := 0; i < len(key); i++ {
		c := uint32(key[i])
		pos ^= c
		if int(pos) >= len(units) {
			return "", false
		}
		unit = units[pos]
		if unit&(1<<31|0xFF) != c {
			return "", false
		}
		pos ^= offset(unit)
		if unit>>8&1 == 1 {
			if int(pos) >= len(units) {
				return "", false
			}
			v := int(units[pos] & (1<<31 - 1))
			if v >= len(cm.normalized) {
				return "", false
			}
			end := strings.IndexByte(cm.normalized[v:], 0)
			if end < 0 {
				end = len(cm.normalized) - v
			}
			return cm.normalized[v : v+end], true
		}
	}
	return "", false
}

func offset(unit uint32) uint32 { return (unit >> 10) << ((unit & (1 << 9)) >> 6) }

// normalize applies the character map as HF's Precompiled does: a
// grapheme cluster shorter than 6 bytes with a match is replaced whole,
// otherwise each character with a match is replaced.
func (cm *charsmap) normalize(s string, dst []byte) []byte {
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		gr := g.Str()
		if len(gr) < 6 {
			if rep, ok := cm.first(gr); ok {
				dst = append(dst, rep...)
				continue
			}
		}
		for i, r := range gr {
			part := gr[i : i+utf8.RuneLen(r)]
			if r == utf8.RuneError {
				part = string(r)
			}
			if rep, ok := cm.first(part); ok {
				dst = append(dst, rep...)
			} else {
				dst = append(dst, part...)
			}
		}
	}
	return dst
}

// normalizeText runs the whole normalizer on one part of the text.
func (u *unigram) normalizeText(s string) string {
	if u.charsmap != nil {
		s = string(u.charsmap.normalize(s, nil))
	}
	for _, st := range u.steps {
		switch {
		case st.stripLeft || st.stripRight:
			if st.stripLeft {
				s = strings.TrimLeftFunc(s, unicode.IsSpace)
			}
			if st.stripRight {
				s = strings.TrimRightFunc(s, unicode.IsSpace)
			}
		case st.spaceRuns:
			s = replaceSpaceRuns(s, st.to)
		case st.replace:
			s = strings.ReplaceAll(s, st.from, st.to)
		}
	}
	return s
}

// replaceSpaceRuns replaces every run of two or more ASCII spaces by to.
func replaceSpaceRuns(s, to string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == ' ' && i+1 < len(s) && s[i+1] == ' ' {
			j := i
			for j < len(s) && s[j] == ' ' {
				j++
			}
			b.WriteString(to)
			i = j
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// uniEncoder accumulates the ids of one Encode call.
type uniEncoder struct {
	u        *unigram
	ids      []int64
	limit    int
	maxWords int
	words    int
	best     []uniNode
}

// uniNode is the best path ending at a byte position.
type uniNode struct {
	id    int32
	score float64
	from  int // -1: not reached
}

func (e *uniEncoder) full() bool {
	return (e.limit >= 0 && len(e.ids)-1 >= e.limit) || (e.maxWords >= 0 && e.words >= e.maxWords)
}

func (e *uniEncoder) add(id int64) {
	if !e.full() {
		e.ids = append(e.ids, id)
	}
}

func (u *unigram) encode(text string, maxLen int) []int64 {
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
	e := uniEncoder{u: u, ids: []int64{u.start}, limit: limit, maxWords: maxWords}
	first := true
	for text != "" && !e.full() {
		start, end, id := u.added.nextStripped(text)
		if start < 0 {
			e.part(text, first)
			break
		}
		e.part(text[:start], first)
		e.add(id)
		text = text[end:]
		first = false
	}
	return append(e.ids, u.end)
}

// part normalizes, pre-tokenizes and encodes a part of the text between
// added tokens; first tells whether it starts the text.
func (e *uniEncoder) part(s string, first bool) {
	if s == "" {
		return
	}
	s = e.u.normalizeText(s)
	if s == "" {
		return
	}
	s = strings.ReplaceAll(s, " ", metaspace)
	if !strings.HasPrefix(s, metaspace) && (e.u.prepend == "always" || (e.u.prepend == "first" && first)) {
		s = metaspace + s
	}
	if !e.u.split {
		e.word(s)
		return
	}
	for s != "" && !e.full() {
		next := strings.Index(s[len(metaspace):], metaspace)
		if !strings.HasPrefix(s, metaspace) {
			next = strings.Index(s, metaspace)
		} else if next >= 0 {
			next += len(metaspace)
		}
		if next <= 0 {
			next = len(s)
		}
		e.word(s[:next])
		s = s[next:]
	}
}

// word runs the Unigram model on one pre-token: the segmentation into
// pieces with the highest total score (HF's encode_optimized: at equal
// scores the first path found wins), characters no piece starts with
// become <unk>, consecutive ones fused into one.
func (e *uniEncoder) word(w string) {
	u := e.u
	n := len(w)
	if cap(e.best) < n+1 {
		e.best = make([]uniNode, n+1)
	}
	best := e.best[:n+1]
	for i := range best {
		best[i] = uniNode{from: -1}
	}
	best[0].from = 0
	for at := 0; at < n; {
		_, mb := utf8.DecodeRuneInString(w[at:])
		base := best[at].score
		single := false
		for end := at + 1; end <= n && end-at <= u.maxPiece; end++ {
			if end < n && !utf8.RuneStart(w[end]) {
				continue
			}
			id, ok := u.pieces[w[at:end]]
			if !ok {
				continue
			}
			cand := base + u.scores[id]
			if t := &best[end]; t.from < 0 || cand > t.score {
				*t = uniNode{id: id, score: cand, from: at}
			}
			if end-at == mb {
				single = true
			}
		}
		if !single {
			cand := base + u.unkScore
			if t := &best[at+mb]; t.from < 0 || cand > t.score {
				*t = uniNode{id: u.unkID, score: cand, from: at}
			}
		}
		at += mb
	}
	// Backtrack, fusing runs of <unk>.
	var rev []int32
	for end := n; end > 0; {
		nd := best[end]
		if nd.id == u.unkID && len(rev) > 0 && rev[len(rev)-1] == u.unkID {
			end = nd.from
			continue
		}
		rev = append(rev, nd.id)
		end = nd.from
	}
	for i := len(rev) - 1; i >= 0; i-- {
		e.add(int64(rev[i]))
	}
	e.words++
}
