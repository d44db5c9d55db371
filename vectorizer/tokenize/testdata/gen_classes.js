// Writes classes.bin.gz: for every code point, what HF tokenizers'
// BertNormalizer (clean_text, handle_chinese_chars) and BertPreTokenizer do
// with it, one byte each: R removed, W whitespace, C CJK (split off),
// P punctuation (split off), L part of a word, S surrogate (not a char).
// Run through regen.sh.
//
// usage: node gen_classes.js <tokenizers package dir> <out.bin.gz>
'use strict';
const fs = require('fs');
const zlib = require('zlib');

const [pkgDir, outPath] = process.argv.slice(2);
const hf = require(pkgDir);
const norm = hf.bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false });
const pre = hf.bertPreTokenizer();

const out = Buffer.alloc(0x110000);
for (let c = 0; c < 0x110000; c++) {
  if (c >= 0xd800 && c <= 0xdfff) {
    out[c] = 'S'.charCodeAt(0);
    continue;
  }
  const s = String.fromCodePoint(c);
  const n = norm.normalizeString(s);
  let k;
  if (n === '') k = 'R';
  else if (n === ' ') k = 'W';
  else if (n === ' ' + s + ' ') k = 'C';
  else if (n === s) {
    const parts = pre.preTokenizeString('a' + s + 'a').length;
    if (parts === 3) k = 'P';
    else if (parts === 1) k = 'L';
    else throw new Error('U+' + c.toString(16) + ': unexpected pre-tokenization into ' + parts);
  } else throw new Error('U+' + c.toString(16) + ': unexpected normalization ' + JSON.stringify(n));
  out[c] = k.charCodeAt(0);
}
fs.writeFileSync(outPath, zlib.gzipSync(out, { level: 9 }));
