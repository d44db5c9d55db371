// Package tokenize turns text into the input ids of the multilingual
// DistilBERT text tower, identically to Hugging Face tokenizers (checked
// against tokenizers 0.23.2 on a committed corpus, see testdata/regen.sh).
//
// It wraps github.com/sugarme/tokenizer v0.3.0, which parses tokenizer.json
// and provides the WordPiece model (greedy longest-match-first with "##"
// continuations and [UNK] for words over max_input_chars_per_word). The
// rest of the pipeline is implemented here, because sugarme v0.3.0 diverges
// from HF in it:
//
//   - added tokens ([CLS], [SEP], [MASK], ...) written in the text are split
//     out of the raw text, leftmost-longest, before normalization; sugarme
//     matches them in the wrong order and misses some (special.go);
//   - BertNormalizer clean_text and handle_chinese_chars and the
//     BertPreTokenizer split are done in one pass over the text (classes.go):
//     sugarme treats only ASCII whitespace as space (so NBSP, U+3000,
//     U+2000..U+200A, ... glue words together), duplicates the text after
//     a leading removed character (BOM, U+2060), keeps private-use
//     characters, counts U+2B820..U+2B91F as CJK, and uses Go's Unicode
//     categories where HF uses Unicode 8.0's;
//   - "[CLS] ... [SEP]" and truncation are applied here.
package tokenize
