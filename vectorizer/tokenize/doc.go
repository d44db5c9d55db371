// Package tokenize turns text into the input ids of a text tower,
// identically to Hugging Face tokenizers (checked against tokenizers 0.23.2
// on committed corpora, see testdata/regen.sh). Load reads any supported
// tokenizer.json and picks the tokenizer by its model type: the WordPiece
// of the multilingual DistilBERT (below), CLIP's byte-level BPE
// (bytelevel.go), or the SentencePiece Unigram of XLM-R and XLM-V
// (unigram.go: the precompiled character map, Metaspace, Viterbi over
// piece scores, "<s> $A </s>").
//
// CLIP's byte-level BPE is implemented here from its tokenizer.json
// (openai/clip-vit-base-patch32's layout, which transformers'
// CLIPConverter writes): <|endoftext|> split out of the raw text,
// NFC, whitespace runs to one space and lower case, <|startoftext|> split
// out of the normalized text, CLIP's split regex, GPT-2's byte-to-unicode
// map, BPE by merge rank with "</w>" on a word's last byte, and
// "<|startoftext|> $A <|endoftext|>". HF's regex engine and lower case
// know newer Unicode than Go's tables and its NFC older (clipclasses.go,
// nfc). This is the tokenizer of transformers' CLIPTokenizerFast, which
// the openai-clip and sentence-transformers-clip images call; open_clip's
// SimpleTokenizer (the LAION images) first runs ftfy.fix_text and
// html.unescape twice, which tokenizer.json cannot express and this
// package does not do (see docs/models.md).
//
// What is sugarme's and what is ours: github.com/sugarme/tokenizer v0.3.0
// parses tokenizer.json and builds the WordPiece model and its vocabulary
// (pretrained.FromReader), and its WordPiece.Tokenize is the reference our
// WordPiece is tested against. Everything else is implemented here because
// sugarme v0.3.0 diverges from HF (see divergence_test.go) or is slow:
//
//   - added tokens ([CLS], [SEP], [MASK], ...) written in the text are split
//     out of the raw text, leftmost-longest, before normalization; sugarme
//     mis-splits texts holding different ones ("x[SEP]y[CLS]z") (special.go);
//   - BertNormalizer clean_text and handle_chinese_chars and the
//     BertPreTokenizer split, in one pass over the text (classes.go):
//     sugarme treats only ASCII whitespace as space (NBSP, U+3000,
//     U+2000..U+200A, ... glue words), duplicates the text after a leading
//     removed character (BOM, U+2060, soft hyphen, ZWNJ, ...), keeps
//     private-use characters, counts U+2B820..U+2B91F as CJK but not
//     U+3400..U+4DBF (unsorted range table), uses Go's Unicode categories
//     where HF uses Unicode 8.0's, and panics on invalid UTF-8;
//   - WordPiece itself (wordpiece.go): same greedy longest-match-first as
//     sugarme, without its per-candidate fmt.Sprintf, which dominates
//     sugarme's time;
//   - "[CLS] ... [SEP]" and truncation, including HF's max_length=1 quirk.
//
// At run time sugarme only parses tokenizer.json into the WordPiece
// vocabulary. It stays a runtime dependency although encoding/json could
// read that map: the project is built on it by design, the WordPiece our
// fast one is tested against is the same object that built the
// vocabulary, and dropping it would save little (the figures are in
// bench/results/HISTORY.md, "Decisions measured"). Dropping it is one
// field (model.vocab) in config and the reference moving to the tests.
//
// Invalid UTF-8 is read as U+FFFD per invalid byte, as Python decoding with
// errors="replace" would give; BERT's normalizer drops U+FFFD, so invalid
// bytes vanish without splitting words.
package tokenize
