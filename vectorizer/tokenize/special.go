package tokenize

import (
	"sort"
	"strings"
	"unicode"
)

// specials splits text on the literal added tokens ([CLS], [SEP], ...) like
// HF's AddedVocabulary: on the raw text, before normalization, taking at the
// leftmost position where any token matches the longest token matching
// there (Aho-Corasick leftmost-longest). Only tokens with normalized=false,
// single_word=false, lstrip=false and rstrip=false are supported; Load
// rejects others.
type specials struct {
	tokens []string // longest first
	ids    []int64
	strip  [][2]bool // per token: lstrip, rstrip (nil: none)
	first  [256]bool // first bytes of the tokens
}

func newSpecials(byContent map[string]int64) *specials {
	s := &specials{}
	for tok := range byContent {
		s.tokens = append(s.tokens, tok)
	}
	sort.Slice(s.tokens, func(i, j int) bool {
		if len(s.tokens[i]) != len(s.tokens[j]) {
			return len(s.tokens[i]) > len(s.tokens[j])
		}
		return s.tokens[i] < s.tokens[j]
	})
	for _, tok := range s.tokens {
		s.ids = append(s.ids, byContent[tok])
		s.first[tok[0]] = true
	}
	return s
}

// next finds the leftmost, longest token in text. It returns its byte
// offset, length and id, or start -1 when there is none.
func (s *specials) next(text string) (start, length int, id int64) {
	for i := 0; i < len(text); i++ {
		if !s.first[text[i]] {
			continue
		}
		for k, tok := range s.tokens {
			if strings.HasPrefix(text[i:], tok) {
				return i, len(tok), s.ids[k]
			}
		}
	}
	return -1, 0, 0
}

// nextStripped is next for tokens that may have lstrip or rstrip: the
// match then also takes the whitespace before or after it. It returns the
// start and end of the match and the id, or start -1.
func (s *specials) nextStripped(text string) (start, end int, id int64) {
	start, n, id := s.next(text)
	if start < 0 {
		return -1, 0, 0
	}
	end = start + n
	if s.strip != nil {
		k := 0
		for k < len(s.ids) && !(s.ids[k] == id && strings.HasPrefix(text[start:], s.tokens[k])) {
			k++
		}
		if k < len(s.strip) {
			if s.strip[k][0] {
				start = len(strings.TrimRightFunc(text[:start], unicode.IsSpace))
			}
			if s.strip[k][1] {
				end = len(text) - len(strings.TrimLeftFunc(text[end:], unicode.IsSpace))
			}
		}
	}
	return start, end, id
}
