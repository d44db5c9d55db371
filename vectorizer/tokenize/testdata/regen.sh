#!/bin/sh
# Regenerates the differential-test data of package tokenize:
#   corpus.jsonl     from buildCorpus in corpus_test.go
#   classes.bin.gz   what the reference's BERT normalizer and pre-tokenizer
#                    do with every code point
#   goldens.json.gz  ids from the reference, Hugging Face tokenizers 0.23.2
#                    (npm package: the Rust library with native binaries),
#                    for the synthetic tokenizer.json of modelgen/vocab
#                    (vocab.WriteTokenizerJSON(w, vocab.Full)).
# Needs go, node and npm (registry access for `npm pack`); no npm install.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$root"
go test ./vectorizer/tokenize/ -run '^TestCorpusUpToDate$' -update -count=1
go run ./vectorizer/tokenize/testdata/writevocab > "$tmp/tokenizer.json"

(cd "$tmp" && npm pack --silent tokenizers@0.23.2 > /dev/null && tar xzf tokenizers-0.23.2.tgz)
node "$here/gen_classes.js" "$tmp/package" "$here/classes.bin.gz"
node "$here/gen_goldens.js" "$tmp/package" "$tmp/tokenizer.json" "$here/corpus.jsonl" "$here/goldens.json.gz"
echo "wrote $here/corpus.jsonl, $here/classes.bin.gz and $here/goldens.json.gz"
