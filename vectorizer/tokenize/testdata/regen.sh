#!/bin/sh
# Regenerates the differential-test data of package tokenize:
#   corpus.jsonl          from buildCorpus in corpus_test.go
#   corpus_clip.jsonl     from buildCLIPCorpus in corpus_clip_test.go
#   classes.bin.gz        what the reference's BERT normalizer and
#                         pre-tokenizer do with every code point
#   clip_classes.bin.gz   what the reference's CLIP split regex and
#                         Lowercase do with every code point
#   goldens.json.gz       ids from the reference, Hugging Face tokenizers
#                         0.23.2 (npm package: the Rust library with native
#                         binaries), for the synthetic WordPiece
#                         tokenizer.json of modelgen/vocab
#                         (vocab.WriteTokenizerJSON(w, vocab.Full)), on
#                         corpus.jsonl
#   goldens_clip.json.gz  the same for the synthetic CLIP tokenizer.json
#                         (vocab.WriteCLIPTokenizerJSON(w, vocab.CLIPFull))
#                         on corpus.jsonl then corpus_clip.jsonl, truncated
#                         to CLIP's 77
#   corpus_unigram.jsonl  from buildUnigramCorpus in corpus_unigram_test.go
#   unigram/tokenizer.json  an XLM-R type SentencePiece Unigram
#                         tokenizer.json (unigram/gen_unigram.py: trained
#                         by SentencePiece with nmt_nfkc, converted as
#                         transformers does); other SentencePiece versions
#                         may train a different model, so regenerate the
#                         goldens with it
#   goldens_unigram.json.gz  the same for unigram/tokenizer.json on the
#                         three corpora, truncated to 77
# Needs go, node and npm (registry access for `npm pack`; no npm install)
# and Debian's python3-sentencepiece (/usr/bin/python3).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$root"
go test ./vectorizer/tokenize/ -run '^(TestCorpusUpToDate|TestCLIPCorpusUpToDate|TestUnigramCorpusUpToDate)$' -update -count=1
go run ./vectorizer/tokenize/testdata/writevocab > "$tmp/tokenizer.json"
go run ./vectorizer/tokenize/testdata/writevocab -type clip > "$tmp/clip.json"

(cd "$tmp" && npm pack --silent tokenizers@0.23.2 > /dev/null && tar xzf tokenizers-0.23.2.tgz)
node "$here/gen_classes.js" "$tmp/package" "$here/classes.bin.gz"
node "$here/gen_clip_classes.js" "$tmp/package" "$tmp/clip.json" "$here/clip_classes.bin.gz"
node "$here/gen_goldens.js" "$tmp/package" "$tmp/tokenizer.json" "$here/corpus.jsonl" "$here/goldens.json.gz"
node "$here/gen_goldens.js" "$tmp/package" "$tmp/clip.json" "$here/corpus.jsonl,$here/corpus_clip.jsonl" "$here/goldens_clip.json.gz" 77
/usr/bin/python3 "$here/unigram/gen_unigram.py"
node "$here/gen_goldens.js" "$tmp/package" "$here/unigram/tokenizer.json" "$here/corpus.jsonl,$here/corpus_clip.jsonl,$here/corpus_unigram.jsonl" "$here/goldens_unigram.json.gz" 77
echo "wrote the corpora, classes, unigram/tokenizer.json and goldens in $here"
