// Writes clip_classes.bin.gz: for every code point, what Hugging Face
// tokenizers (npm tokenizers, the Rust library) does with it in CLIP's
// tokenizer.json: the class its Split regex gives it and its Lowercase.
// The file holds 0x110000 class bytes (0 letter \p{L}, 1 number \p{N},
// 2 space \s, 3 other; surrogates 3), then one line "hex-code-point TAB
// lower-case" per code point that Lowercase changes. Run through regen.sh.
//
// usage: node gen_clip_classes.js <tokenizers package dir> <CLIP tokenizer.json> <out.bin.gz>
'use strict';
const fs = require('fs');
const zlib = require('zlib');

const [pkgDir, tokPath, outPath] = process.argv.slice(2);
const hf = require(pkgDir);

async function main() {
  // Without the normalizer the pre-tokenizer sees each code point as is.
  const cfg = JSON.parse(fs.readFileSync(tokPath, 'utf8'));
  cfg.normalizer = null;
  const tok = hf.Tokenizer.fromString(JSON.stringify(cfg));
  const lower = hf.lowercase();
  const N = 0x110000;
  const classes = Buffer.alloc(N, 3);
  const lines = [];
  const CHUNK = 20000;
  for (let lo = 0; lo < N; lo += CHUNK) {
    const cps = [];
    const probes = [];
    for (let cp = lo; cp < Math.min(lo + CHUNK, N); cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const c = String.fromCodePoint(cp);
      cps.push(cp);
      // "a" c c "a": one word if c is a letter, two if a space, three if
      // other (a run), four if a number (one word per digit).
      probes.push('a' + c + c + 'a');
      const l = lower.normalizeString(c);
      if (l !== c) lines.push(cp.toString(16) + '\t' + l);
    }
    const encs = await tok.encodeBatch(probes);
    for (let i = 0; i < cps.length; i++) {
      const words = new Set(encs[i].getWordIds().filter((w) => w !== null && w !== undefined));
      classes[cps[i]] = { 1: 0, 4: 1, 2: 2, 3: 3 }[words.size];
    }
  }
  const out = Buffer.concat([classes, Buffer.from(lines.join('\n') + '\n', 'utf8')]);
  fs.writeFileSync(outPath, zlib.gzipSync(out, { level: 9 }));
}

main().catch((e) => { console.error(e); process.exit(1); });
