// Writes a goldens file: the ids Hugging Face tokenizers (npm tokenizers,
// the Rust library) gives for every entry of the corpus files (one after
// the other) with a synthetic tokenizer.json, untruncated, truncated to
// TRUNC (default 128; with TRUNC given the header records it and the
// field is ids_trunc instead of ids128) and to 1..8. Run through regen.sh.
//
// usage: node gen_goldens.js <tokenizers package dir> <tokenizer.json> <corpus.jsonl[,more.jsonl]> <out.json.gz> [TRUNC]
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const zlib = require('zlib');

const [pkgDir, tokPath, corpusPaths, outPath, truncArg] = process.argv.slice(2);
const corpusFiles = corpusPaths.split(',');
const trunc = truncArg === undefined ? 128 : parseInt(truncArg, 10);
const hf = require(pkgDir);
const version = JSON.parse(fs.readFileSync(pkgDir + '/package.json', 'utf8')).version;

const sha256 = (...ps) => {
  const h = crypto.createHash('sha256');
  for (const p of ps) h.update(fs.readFileSync(p));
  return h.digest('hex');
};

// Strings with invalid UTF-8 are stored as base64 bytes; decoding them
// replaces invalid sequences with U+FFFD, like Python's errors="replace".
const corpus = corpusFiles.map((p) => fs.readFileSync(p, 'utf8')).join('').split('\n').filter((l) => l !== '').map((l) => {
  const o = JSON.parse(l);
  return o.text !== undefined ? o.text : Buffer.from(o.bytes, 'base64').toString('utf8');
});

const SMALL = (i) => 1 + (i % 8); // max_length 1..8 for the edge cases

async function main() {
  const full = hf.Tokenizer.fromFile(tokPath);
  const t128 = hf.Tokenizer.fromFile(tokPath);
  t128.setTruncation(trunc);
  const small = [];
  for (let k = 1; k <= 8; k++) {
    const t = hf.Tokenizer.fromFile(tokPath);
    t.setTruncation(k);
    small.push(t);
  }
  const out = [];
  const header = {
    tokenizers_version: version,
    tokenizer_sha256: sha256(tokPath),
    corpus_sha256: sha256(...corpusFiles),
    entries: corpus.length,
  };
  if (truncArg !== undefined) header.truncation = trunc;
  out.push(JSON.stringify(header));
  for (let i = 0; i < corpus.length; i++) {
    const s = corpus[i];
    const ids = (await full.encode(s)).getIds();
    const ids128 = (await t128.encode(s)).getIds();
    const idsSmall = (await small[SMALL(i) - 1].encode(s)).getIds();
    const line = truncArg === undefined
      ? { ids, ids128, small_max_length: SMALL(i), ids_small: idsSmall }
      : { ids, ids_trunc: ids128, small_max_length: SMALL(i), ids_small: idsSmall };
    out.push(JSON.stringify(line));
  }
  fs.writeFileSync(outPath, zlib.gzipSync(Buffer.from(out.join('\n') + '\n'), { level: 9 }));
}

main().catch((e) => { console.error(e); process.exit(1); });
