// Writes goldens.json.gz: the ids Hugging Face tokenizers (npm tokenizers,
// the Rust library) gives for every entry of corpus.jsonl with the
// synthetic tokenizer.json. Run through regen.sh.
//
// usage: node gen_goldens.js <tokenizers package dir> <tokenizer.json> <corpus.jsonl> <out.json.gz>
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const zlib = require('zlib');

const [pkgDir, tokPath, corpusPath, outPath] = process.argv.slice(2);
const hf = require(pkgDir);
const version = JSON.parse(fs.readFileSync(pkgDir + '/package.json', 'utf8')).version;

const sha256 = (p) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');

// Strings with invalid UTF-8 are stored as base64 bytes; decoding them
// replaces invalid sequences with U+FFFD, like Python's errors="replace".
const corpus = fs.readFileSync(corpusPath, 'utf8').split('\n').filter((l) => l !== '').map((l) => {
  const o = JSON.parse(l);
  return o.text !== undefined ? o.text : Buffer.from(o.bytes, 'base64').toString('utf8');
});

const SMALL = (i) => 1 + (i % 8); // max_length 1..8 for the edge cases

async function main() {
  const full = hf.Tokenizer.fromFile(tokPath);
  const t128 = hf.Tokenizer.fromFile(tokPath);
  t128.setTruncation(128);
  const small = [];
  for (let k = 1; k <= 8; k++) {
    const t = hf.Tokenizer.fromFile(tokPath);
    t.setTruncation(k);
    small.push(t);
  }
  const out = [];
  out.push(JSON.stringify({
    tokenizers_version: version,
    tokenizer_sha256: sha256(tokPath),
    corpus_sha256: sha256(corpusPath),
    entries: corpus.length,
  }));
  for (let i = 0; i < corpus.length; i++) {
    const s = corpus[i];
    const ids = (await full.encode(s)).getIds();
    const ids128 = (await t128.encode(s)).getIds();
    const idsSmall = (await small[SMALL(i) - 1].encode(s)).getIds();
    out.push(JSON.stringify({ ids, ids128, small_max_length: SMALL(i), ids_small: idsSmall }));
  }
  fs.writeFileSync(outPath, zlib.gzipSync(Buffer.from(out.join('\n') + '\n'), { level: 9 }));
}

main().catch((e) => { console.error(e); process.exit(1); });
