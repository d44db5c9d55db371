package tokenize

import "unicode"

// Character data of CLIP's tokenizer.json as HF tokenizers applies it,
// where it is newer than Go's unicode package (Unicode 15.0): the Split
// regex runs on Oniguruma with Unicode 16.0 categories, and Lowercase is
// Rust's char::to_lowercase with Unicode 17.0 case mappings. The tables
// below are the differences, found by comparing every code point against
// tokenizers 0.23.2; TestCLIPClassesMatchHF checks isLetter, isNumber,
// isSpace and appendLower on every code point against
// testdata/clip_classes.bin.gz (written by testdata/regen.sh).

// newerLetters are in \p{L} for HF's regex and unassigned in Go's tables.
var newerLetters = &unicode.RangeTable{
	R16: []unicode.Range16{{0x1C89, 0x1C8A, 1}, {0xA7CB, 0xA7CD, 1}, {0xA7DA, 0xA7DC, 1}},
	R32: []unicode.Range32{
		{0x105C0, 0x105F3, 1}, {0x10D4A, 0x10D65, 1}, {0x10D6F, 0x10D85, 1}, {0x10EC2, 0x10EC4, 1},
		{0x11380, 0x11389, 1}, {0x1138B, 0x1138B, 1}, {0x1138E, 0x1138E, 1}, {0x11390, 0x113B5, 1},
		{0x113B7, 0x113B7, 1}, {0x113D1, 0x113D1, 1}, {0x113D3, 0x113D3, 1}, {0x11BC0, 0x11BE0, 1},
		{0x13460, 0x143FA, 1}, {0x16100, 0x1611D, 1}, {0x16D40, 0x16D6C, 1}, {0x18CFF, 0x18CFF, 1},
		{0x1E5D0, 0x1E5ED, 1}, {0x1E5F0, 0x1E5F0, 1}, {0x2EBF0, 0x2EE5D, 1},
	},
}

// newerNumbers are in \p{N} for HF's regex and unassigned in Go's tables.
var newerNumbers = &unicode.RangeTable{
	R32: []unicode.Range32{
		{0x10D40, 0x10D49, 1}, {0x116D0, 0x116E3, 1}, {0x11BF0, 0x11BF9, 1}, {0x16130, 0x16139, 1},
		{0x16D70, 0x16D79, 1}, {0x1CCF0, 0x1CCF9, 1}, {0x1E5F1, 0x1E5FA, 1},
	},
}

// newerLower are the lower-case mappings Rust has and Go's tables lack:
// code points lo..hi map to code point + delta.
var newerLower = []struct{ lo, hi, delta rune }{
	{0x1C89, 0x1C89, 1}, {0xA7CB, 0xA7CB, 0x0264 - 0xA7CB}, {0xA7CC, 0xA7CC, 1}, {0xA7CE, 0xA7CE, 1},
	{0xA7D2, 0xA7D2, 1}, {0xA7D4, 0xA7D4, 1}, {0xA7DA, 0xA7DA, 1}, {0xA7DC, 0xA7DC, 0x019B - 0xA7DC},
	{0x10D50, 0x10D65, 0x20}, {0x16EA0, 0x16EB8, 0x1B},
}

// newerLowerFrom is the smallest code point of newerLower: below it only
// Go's mapping applies.
const newerLowerFrom = 0x1C89

// toLower is Rust's single-character lower case for r >= 0x80, except
// U+0130 (see appendLower).
func toLower(r rune) rune {
	if r >= newerLowerFrom && !unicode.IsUpper(r) {
		for _, m := range newerLower {
			if r >= m.lo && r <= m.hi {
				return r + m.delta
			}
		}
	}
	return unicode.ToLower(r)
}
