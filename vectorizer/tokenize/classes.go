package tokenize

import "unicode"

// Character classes of Hugging Face tokenizers' BertNormalizer and
// BertPreTokenizer, reimplemented here (sugarme v0.3.0 gets several wrong,
// see doc.go).
//
// HF takes general categories from the unicode_categories crate, which holds
// Unicode 8.0 data, while Go's unicode package holds a newer version. The
// tables below are the differences between the two for the categories BERT
// looks at; they were found by comparing every code point against
// tokenizers 0.23.2, and TestClassesMatchHF checks classOf on every code
// point against testdata/classes.bin.gz (written by testdata/regen.sh).

// newerPunct are code points in category P in Go's tables but not in
// Unicode 8.0 (unassigned there, so HF treats them as letters).
var newerPunct = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x061D, 0x061D, 1}, {0x09FD, 0x09FD, 1}, {0x0A76, 0x0A76, 1}, {0x0C77, 0x0C77, 1},
		{0x0C84, 0x0C84, 1}, {0x1B7D, 0x1B7E, 1}, {0x2E43, 0x2E4F, 1}, {0x2E52, 0x2E5D, 1},
	},
	R32: []unicode.Range32{
		{0x10EAD, 0x10EAD, 1}, {0x10F55, 0x10F59, 1}, {0x10F86, 0x10F89, 1}, {0x1144B, 0x1144F, 1},
		{0x1145A, 0x1145B, 1}, {0x1145D, 0x1145D, 1}, {0x11660, 0x1166C, 1}, {0x116B9, 0x116B9, 1},
		{0x1183B, 0x1183B, 1}, {0x11944, 0x11946, 1}, {0x119E2, 0x119E2, 1}, {0x11A3F, 0x11A46, 1},
		{0x11A9A, 0x11A9C, 1}, {0x11A9E, 0x11AA2, 1}, {0x11B00, 0x11B09, 1}, {0x11C41, 0x11C45, 1},
		{0x11C70, 0x11C71, 1}, {0x11EF7, 0x11EF8, 1}, {0x11F43, 0x11F4F, 1}, {0x11FFF, 0x11FFF, 1},
		{0x12FF1, 0x12FF2, 1}, {0x16E97, 0x16E9A, 1}, {0x16FE2, 0x16FE2, 1}, {0x1E95E, 0x1E95F, 1},
	},
}

// formerPunct were in category Po in Unicode 8.0 and were recategorised
// later (U+166D to So, U+111C9 to Mn).
var formerPunct = &unicode.RangeTable{
	R16: []unicode.Range16{{0x166D, 0x166D, 1}},
	R32: []unicode.Range32{{0x111C9, 0x111C9, 1}},
}

// newerFormat are code points in category Cf in Go's tables but unassigned
// in Unicode 8.0, so HF keeps them as letters.
var newerFormat = &unicode.RangeTable{
	R16: []unicode.Range16{{0x0890, 0x0891, 1}, {0x08E2, 0x08E2, 1}},
	R32: []unicode.Range32{{0x110CD, 0x110CD, 1}, {0x13430, 0x1343F, 1}},
}

// class is what BERT's normalizer and pre-tokenizer do with one character.
type class uint8

const (
	classLetter  class = iota // part of a word
	classRemoved              // dropped by clean_text, does not split words
	classSpace                // splits words
	classSingle               // punctuation or CJK ideograph: a word of its own
)

// classOf classifies r like BertNormalizer{clean_text, handle_chinese_chars}
// followed by BertPreTokenizer.
func classOf(r rune) class {
	if r < 0x80 {
		return asciiClass[r]
	}
	switch {
	case r == unicode.ReplacementChar || isControl(r):
		return classRemoved
	case unicode.Is(unicode.White_Space, r):
		return classSpace
	case isChinese(r) || isPunct(r):
		return classSingle
	}
	return classLetter
}

// isControl is HF's is_control: categories Cc, Cf and Co of Unicode 8.0,
// except tab, newline and carriage return. Unassigned code points (Cn) are
// not removed.
func isControl(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	}
	if unicode.In(r, unicode.Cc, unicode.Co) {
		return true
	}
	return unicode.Is(unicode.Cf, r) && !unicode.Is(newerFormat, r)
}

// isPunct is HF's is_bert_punc: ASCII punctuation (including symbols such as
// $ + < = > ^ ` | ~) or Unicode 8.0 category P.
func isPunct(r rune) bool {
	if r < 0x80 {
		return asciiClass[r] == classSingle
	}
	if unicode.Is(formerPunct, r) {
		return true
	}
	return unicode.Is(unicode.P, r) && !unicode.Is(newerPunct, r)
}

// isChinese is HF's is_chinese_char. Note the gap U+2B820..U+2B91F (CJK
// Extension E starts at U+2B820, HF's table starts it at U+2B920) and that
// extensions G and later are not included.
func isChinese(r rune) bool {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF,
		r >= 0x3400 && r <= 0x4DBF,
		r >= 0x20000 && r <= 0x2A6DF,
		r >= 0x2A700 && r <= 0x2B73F,
		r >= 0x2B740 && r <= 0x2B81F,
		r >= 0x2B920 && r <= 0x2CEAF,
		r >= 0xF900 && r <= 0xFAFF,
		r >= 0x2F800 && r <= 0x2FA1F:
		return true
	}
	return false
}

var asciiClass = func() (t [0x80]class) {
	for r := rune(0); r < 0x80; r++ {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == ' ':
			t[r] = classSpace
		case r < 0x20 || r == 0x7F: // NUL, other C0 controls (\v, \f too) and DEL
			t[r] = classRemoved
		case r >= '!' && r <= '/', r >= ':' && r <= '@', r >= '[' && r <= '`', r >= '{' && r <= '~':
			t[r] = classSingle
		default:
			t[r] = classLetter
		}
	}
	return t
}()
