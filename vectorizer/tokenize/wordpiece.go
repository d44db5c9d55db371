package tokenize

import "unicode/utf8"

// wordPiece is the WordPiece model of HF tokenizers: greedy longest match
// first, "##" before pieces that do not start the word, and one [UNK] for
// a word longer than maxChars characters or with a part no piece matches.
// It computes what sugarme's wordpiece.WordPiece.Tokenize does (a test
// checks this) without its per-candidate formatting and allocations.
type wordPiece struct {
	vocab    map[string]int64
	unkID    int64
	maxChars int
	maxBytes int // length of the longest vocabulary entry
}

const continuingPrefix = "##"

// tokenize appends the ids of word (valid UTF-8) to ids. key is scratch
// space, returned for reuse.
func (w *wordPiece) tokenize(word []byte, ids []int64, key []byte) ([]int64, []byte) {
	if utf8.RuneCount(word) > w.maxChars {
		return append(ids, w.unkID), key
	}
	first := len(ids)
	for start := 0; start < len(word); {
		key = key[:0]
		if start > 0 {
			key = append(key, continuingPrefix...)
		}
		prefix := len(key)
		key = append(key, word[start:]...)
		// No entry is longer than maxBytes: skip candidates that are.
		end := min(len(word), start+w.maxBytes-prefix)
		for end > start && end < len(word) && !utf8.RuneStart(word[end]) {
			end--
		}
		found := false
		for end > start {
			if id, ok := w.vocab[string(key[:prefix+end-start])]; ok {
				ids = append(ids, id)
				found = true
				break
			}
			_, size := utf8.DecodeLastRune(word[start:end])
			end -= size
		}
		if !found {
			return append(ids[:first], w.unkID), key
		}
		start = end
	}
	return ids, key
}
