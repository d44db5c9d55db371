package tokenize

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelgen/vocab"
)

var (
	fullOnce sync.Once
	fullTok  *Tokenizer
	fullErr  error
)

// full loads the full-size synthetic tokenizer once per test binary.
func full(t testing.TB) *Tokenizer {
	fullOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tokenize")
		if err != nil {
			fullErr = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "tokenizer.json")
		f, err := os.Create(path)
		if err != nil {
			fullErr = err
			return
		}
		if err := vocab.WriteTokenizerJSON(f, vocab.Full); err != nil {
			fullErr = err
			return
		}
		if err := f.Close(); err != nil {
			fullErr = err
			return
		}
		fullTok, fullErr = Load(path)
	})
	require.NoError(t, fullErr)
	return fullTok
}

func TestLoadTiny(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, vocab.WriteTokenizerJSON(f, vocab.Tiny))
	require.NoError(t, f.Close())
	tok, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, vocab.Tiny, tok.VocabSize())
	assert.Equal(t, int64(vocab.PadID), tok.PadID())
	ids := tok.Encode("Ein Bild von einem Hund. 水 [MASK]", 0)
	require.GreaterOrEqual(t, len(ids), 4)
	assert.Equal(t, int64(vocab.ClsID), ids[0])
	assert.Equal(t, int64(vocab.SepID), ids[len(ids)-1])
	assert.Contains(t, ids, int64(vocab.MaskID))
	for _, id := range ids {
		assert.Less(t, id, int64(vocab.Tiny))
	}
}

func TestLoadErrors(t *testing.T) {
	var buf strings.Builder
	require.NoError(t, vocab.WriteTokenizerJSON(&buf, vocab.Min+50))
	good := buf.String()
	for _, tc := range []struct {
		name, json, want string
	}{
		{"not json", "{", "parse json"},
		{"lowercasing normalizer", strings.Replace(good, `"lowercase": false`, `"lowercase": true`, 1), "normalizer must be BertNormalizer"},
		{"no normalizer", strings.Replace(good, `"type": "BertNormalizer"`, `"type": "NFC"`, 1), "normalizer must be BertNormalizer"},
		{"other pre-tokenizer", strings.Replace(good, `"type": "BertPreTokenizer"`, `"type": "Whitespace"`, 1), "pre_tokenizer must be BertPreTokenizer"},
		{"other prefix", strings.Replace(good, `"continuing_subword_prefix": "##"`, `"continuing_subword_prefix": "@@"`, 1), "continuing_subword_prefix"},
		{"unk missing", strings.Replace(good, `"unk_token": "[UNK]"`, `"unk_token": "<unk>"`, 1), "unk token"},
		{"other post-processor", strings.Replace(good, `"type": "TemplateProcessing"`, `"type": "RobertaProcessing"`, 1), "post_processor"},
		{"vocab id not a number", strings.Replace(good, `"[PAD]": 0,`, `"[PAD]": "zero",`, 1), "build sugarme tokenizer"},
		{"lstrip special", strings.Replace(good, `"content": "[MASK]", "single_word": false, "lstrip": false`, `"content": "[MASK]", "single_word": false, "lstrip": true`, 1), "added token \"[MASK]\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NotEqual(t, good, tc.json, "replacement did not apply")
			path := filepath.Join(t.TempDir(), "tokenizer.json")
			require.NoError(t, os.WriteFile(path, []byte(tc.json), 0o644))
			_, err := Load(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), path)
		})
	}
	_, err := Load(filepath.Join(t.TempDir(), "missing.json"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestLoadType checks that a text tower that takes one tokenizer type
// refuses a file of another, naming both, and takes its own.
func TestLoadType(t *testing.T) {
	dir := t.TempDir()
	files := map[string]func(io.Writer) error{
		"WordPiece": func(w io.Writer) error { return vocab.WriteTokenizerJSON(w, vocab.Tiny) },
		"BPE":       func(w io.Writer) error { return vocab.WriteCLIPTokenizerJSON(w, vocab.CLIPTiny) },
		"Unigram":   func(w io.Writer) error { return vocab.WriteUnigramTokenizerJSON(w, vocab.UnigramTiny) },
	}
	paths := map[string]string{}
	for typ, write := range files {
		var buf bytes.Buffer
		require.NoError(t, write(&buf))
		paths[typ] = filepath.Join(dir, typ+".json")
		require.NoError(t, os.WriteFile(paths[typ], buf.Bytes(), 0o644))
	}
	for _, file := range []string{"WordPiece", "BPE", "Unigram"} {
		for _, want := range []string{"", "WordPiece", "BPE", "Unigram"} {
			t.Run(file+" for "+want, func(t *testing.T) {
				_, err := LoadType(paths[file], want)
				if want == "" || want == file {
					require.NoError(t, err)
					return
				}
				require.Error(t, err)
				assert.Contains(t, err.Error(), fmt.Sprintf("model type must be %s for this model's text tower, not %q", want, file))
				assert.Contains(t, err.Error(), paths[file])
			})
		}
	}
}

// TestLoadBertProcessing loads a file with the post-processor older
// tokenizers versions wrote, which must encode the same.
func TestLoadBertProcessing(t *testing.T) {
	var buf strings.Builder
	require.NoError(t, vocab.WriteTokenizerJSON(&buf, vocab.Tiny))
	template := buf.String()
	start := strings.Index(template, `"post_processor": {`)
	end := strings.Index(template, `"decoder": {`)
	require.True(t, start > 0 && end > start)
	bert := template[:start] + `"post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]},
  ` + template[end:]
	dir := t.TempDir()
	var toks []*Tokenizer
	for i, js := range []string{template, bert} {
		path := filepath.Join(dir, fmt.Sprintf("%d.json", i))
		require.NoError(t, os.WriteFile(path, []byte(js), 0o644))
		tok, err := Load(path)
		require.NoError(t, err)
		toks = append(toks, tok)
	}
	for _, s := range []string{"", "Ein Bild [MASK] von einem Hund.", "水で遊ぶ犬"} {
		assert.Equal(t, toks[0].Encode(s, 0), toks[1].Encode(s, 0), "%q", s)
	}
}

func TestEncodeTruncation(t *testing.T) {
	tok := full(t)
	text := strings.Repeat("Ein Bild von einem Hund im Wasser. ", 40)
	all := tok.Encode(text, 0)
	require.Greater(t, len(all), 200)
	for _, maxLen := range []int{2, 3, 16, 77, 128, len(all) - 1, len(all), len(all) + 5} {
		got := tok.Encode(text, maxLen)
		n := min(maxLen, len(all))
		require.Len(t, got, n, "maxLen %d", maxLen)
		assert.Equal(t, all[:n-1], got[:n-1], "maxLen %d keeps a prefix", maxLen)
		assert.Equal(t, all[len(all)-1], got[n-1], "maxLen %d ends with [SEP]", maxLen)
	}
	assert.Equal(t, all, tok.Encode(text, -1))
}

func TestEncodeConcurrent(t *testing.T) {
	tok := full(t)
	corpus := readCorpus(t)
	want := make([][]int64, len(corpus))
	for i, s := range corpus {
		want[i] = tok.Encode(s, 128)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := range corpus {
				i := (k*7 + w*131) % len(corpus)
				if !equalIDs(tok.Encode(corpus[i], 128), want[i]) {
					errs <- corpus[i]
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Encode differs on %+q", s)
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "a", "[CLS]", "x[SEP]y[CLS]z", "\ufeffab", "a\xffb", "水\u3000水", "e\u0301",
		"👨\u200d👩\u200d👧", strings.Repeat("a", 101), "ab\U0002b820cd", "[MASK]ed more words here"} {
		f.Add(s, 0)
		f.Add(s, 1)
		f.Add(s, 3)
	}
	tok := full(f)
	f.Fuzz(func(t *testing.T, s string, maxLen int) {
		maxLen %= 300
		ids := tok.Encode(s, maxLen)
		require.GreaterOrEqual(t, len(ids), 2)
		assert.Equal(t, int64(vocab.ClsID), ids[0])
		assert.Equal(t, int64(vocab.SepID), ids[len(ids)-1])
		if maxLen >= 2 {
			assert.LessOrEqual(t, len(ids), maxLen)
		}
		for _, id := range ids {
			assert.True(t, id >= 0 && id < int64(tok.VocabSize()), "id %d", id)
		}
		if !utf8.ValidString(s) {
			// Invalid bytes read as U+FFFD, which the normalizer drops.
			assert.Equal(t, tok.Encode(strings.ToValidUTF8(s, "\uFFFD"), maxLen), ids)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	tok := full(b)
	corpus := readCorpus(b)
	var n int
	for _, s := range corpus {
		n += len(s)
	}
	b.SetBytes(int64(n / len(corpus)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.Encode(corpus[i%len(corpus)], 128)
	}
}

func BenchmarkEncodeSentence(b *testing.B) {
	tok := full(b)
	s := "A photo of a dog playing in the water, Ein Bild von einem Hund, 水で遊ぶ犬の写真。"
	b.SetBytes(int64(len(s)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.Encode(s, 77)
	}
}

func TestLoadCLIPErrors(t *testing.T) {
	var buf strings.Builder
	require.NoError(t, vocab.WriteCLIPTokenizerJSON(&buf, vocab.CLIPMin+40))
	good := buf.String()
	for _, tc := range []struct {
		name, json, want string
	}{
		{"other model type", strings.Replace(good, `"type": "BPE"`, `"type": "WordLevel"`, 1), `model type "WordLevel" unsupported`},
		{"no lowercase", strings.Replace(good, `,
      {"type": "Lowercase"}`, ``, 1), "normalizer is Sequence[NFC, Replace], want"},
		{"NFKC", strings.Replace(good, `{"type": "NFC"}`, `{"type": "NFKC"}`, 1), "normalizer is Sequence[NFKC, Replace, Lowercase]"},
		{"GPT-2 split", strings.Replace(good, `'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+`, `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+`, 1), "pre_tokenizer Split regex"},
		{"isolated split", strings.Replace(good, `"behavior": "Removed"`, `"behavior": "Isolated"`, 1), "Split behavior \"Isolated\""},
		{"metaspace", strings.Replace(good, `{"type": "ByteLevel", "add_prefix_space": false`, `{"type": "Metaspace", "add_prefix_space": false`, 1), "pre_tokenizer is Sequence[Split, Metaspace]"},
		{"prefix space", strings.Replace(good, `{"type": "ByteLevel", "add_prefix_space": false`, `{"type": "ByteLevel", "add_prefix_space": true`, 1), "add_prefix_space"},
		{"no suffix", strings.Replace(good, `"end_of_word_suffix": "</w>"`, `"end_of_word_suffix": null`, 1), "end_of_word_suffix"},
		{"dropout", strings.Replace(good, `"dropout": null`, `"dropout": 0.1`, 1), "dropout"},
		{"byte fallback", strings.Replace(good, `"byte_fallback": false`, `"byte_fallback": true`, 1), "byte_fallback"},
		{"template processor", strings.Replace(good, `"type": "RobertaProcessing"`, `"type": "ByteLevel"`, 1), "post_processor"},
		{"merge of unknown token", strings.Replace(good, `"merges": [
      "`, `"merges": [
      "zzz zzz", "`, 1), `merge 0 "zzz"+"zzz"`},
		{"unk missing", strings.Replace(good, `"unk_token": "<|endoftext|>"`, `"unk_token": "<unk>"`, 1), "unk token"},
		{"lstrip special", strings.Replace(good, `"content": "<|endoftext|>", "single_word": false, "lstrip": false`, `"content": "<|endoftext|>", "single_word": false, "lstrip": true`, 1), "added token \"<|endoftext|>\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NotEqual(t, good, tc.json, "replacement did not apply")
			path := filepath.Join(t.TempDir(), "tokenizer.json")
			require.NoError(t, os.WriteFile(path, []byte(tc.json), 0o644))
			_, err := Load(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), path)
		})
	}
}

func TestLoadCLIPTiny(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, vocab.WriteCLIPTokenizerJSON(f, vocab.CLIPTiny))
	require.NoError(t, f.Close())
	tok, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, vocab.CLIPTiny, tok.VocabSize())
	assert.Equal(t, int64(vocab.CLIPTiny-1), tok.PadID())
	ids := tok.Encode("A photo of a DOG. 水で <|endoftext|>", 0)
	require.GreaterOrEqual(t, len(ids), 6)
	assert.Equal(t, int64(vocab.CLIPTiny-2), ids[0])
	assert.Equal(t, int64(vocab.CLIPTiny-1), ids[len(ids)-1])
	assert.Equal(t, int64(vocab.CLIPTiny-1), ids[len(ids)-2], "literal <|endoftext|>")
	assert.Equal(t, ids, tok.Encode("a   photo of a dog. 水で\u3000<|endoftext|>", 0), "case and whitespace runs do not matter")
}

// TestCLIPInvalidUTF8 checks that each maximal invalid subsequence is one
// U+FFFD, as JavaScript and Python decode it.
func TestCLIPInvalidUTF8(t *testing.T) {
	tok, _, _ := fullCLIP(t)
	for _, tc := range []struct{ in, want string }{
		{"a\xffb", "a\uFFFDb"},
		{"caf\xc3", "caf\uFFFD"},
		{"\xe2\x82 cut", "\uFFFD cut"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xf0\x9f\x98", "\uFFFD"},
		{"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"\xc0\xaf", "\uFFFD\uFFFD"},
		{"ok\x80\x80ok", "ok\uFFFD\uFFFDok"},
	} {
		assert.Equal(t, tc.want, replaceInvalid(tc.in), "%+q", tc.in)
		assert.Equal(t, tok.Encode(tc.want, 0), tok.Encode(tc.in, 0), "%+q", tc.in)
	}
}

func FuzzEncodeCLIP(f *testing.F) {
	for _, s := range []string{"", "a", "<|endoftext|>", "x<|STARTOFTEXT|>y", "It's A DOG", "a\xffb", "水\u3000水", "e\u0301",
		"👨\u200d👩\u200d👧", strings.Repeat("ab", 101), "\U00011935\U00011930", "İ 123"} {
		f.Add(s, 0)
		f.Add(s, 1)
		f.Add(s, 77)
	}
	tok, _, _ := fullCLIP(f)
	f.Fuzz(func(t *testing.T, s string, maxLen int) {
		maxLen %= 300
		ids := tok.Encode(s, maxLen)
		require.GreaterOrEqual(t, len(ids), 2)
		assert.Equal(t, int64(vocab.CLIPFull-2), ids[0])
		assert.Equal(t, int64(vocab.CLIPFull-1), ids[len(ids)-1])
		if maxLen >= 2 {
			assert.LessOrEqual(t, len(ids), maxLen)
		}
		for _, id := range ids {
			assert.True(t, id >= 0 && id < int64(tok.VocabSize()), "id %d", id)
		}
		if !utf8.ValidString(s) {
			assert.Equal(t, tok.Encode(replaceInvalid(s), maxLen), ids)
		}
	})
}

// BenchmarkEncodeCLIP is BenchmarkEncode for CLIP's byte-level BPE, on
// the same corpus, truncated to CLIP's 77.
func BenchmarkEncodeCLIP(b *testing.B) {
	tok, _, _ := fullCLIP(b)
	corpus := readCorpus(b)
	var n int
	for _, s := range corpus {
		n += len(s)
	}
	b.SetBytes(int64(n / len(corpus)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.Encode(corpus[i%len(corpus)], 77)
	}
}

func BenchmarkEncodeCLIPSentence(b *testing.B) {
	tok, _, _ := fullCLIP(b)
	s := "A photo of a dog playing in the water, Ein Bild von einem Hund, 水で遊ぶ犬の写真。"
	b.SetBytes(int64(len(s)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.Encode(s, 77)
	}
}

func TestLoadUnigramErrors(t *testing.T) {
	data, err := os.ReadFile(unigramJSON)
	require.NoError(t, err)
	good := string(data)
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"other pre-tokenizer", `"type": "Metaspace",
  "replacement"`, `"type": "Whitespace",
  "replacement"`, "pre_tokenizer is Whitespace, want Metaspace"},
		{"other replacement", `"replacement": "▁",
  "prepend_scheme": "always",
  "split": true
 },
 "post_processor"`, `"replacement": "_",
  "prepend_scheme": "always",
  "split": true
 },
 "post_processor"`, "Metaspace replacement"},
		{"NFKC normalizer", `"type": "Precompiled"`, `"type": "NFKC"`, "normalizer is Sequence[NFKC, Strip, Replace]"},
		{"bad charsmap", `"precompiled_charsmap": "`, `"precompiled_charsmap": "!!`, "precompiled_charsmap is not base64"},
		{"byte fallback", `"byte_fallback": false`, `"byte_fallback": true`, "byte_fallback"},
		{"no unk", `"unk_id": 3`, `"unk_id": null`, "unk_id"},
		{"prepend scheme", `"prepend_scheme": "always",
  "split": true
 },
 "post_processor"`, `"prepend_scheme": "sometimes",
  "split": true
 },
 "post_processor"`, "prepend_scheme"},
		{"no post-processor", `"type": "TemplateProcessing"`, `"type": "ByteLevel"`, "post_processor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := strings.Replace(good, tc.from, tc.to, 1)
			require.NotEqual(t, good, js, "replacement did not apply")
			path := filepath.Join(t.TempDir(), "tokenizer.json")
			require.NoError(t, os.WriteFile(path, []byte(js), 0o644))
			_, err := Load(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), path)
		})
	}
}

// TestUnigramOlderFormat loads the forms older transformers wrote for the
// same tokenizer (Metaspace with add_prefix_space, no prepend_scheme),
// which must encode the same.
func TestUnigramOlderFormat(t *testing.T) {
	data, err := os.ReadFile(unigramJSON)
	require.NoError(t, err)
	older := strings.Replace(string(data), `"prepend_scheme": "always",
  "split": true
 },
 "post_processor"`, `"add_prefix_space": true
 },
 "post_processor"`, 1)
	require.NotEqual(t, string(data), older)
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	require.NoError(t, os.WriteFile(path, []byte(older), 0o644))
	a, err := Load(unigramJSON)
	require.NoError(t, err)
	b, err := Load(path)
	require.NoError(t, err)
	for _, s := range []string{"", "Ein Bild <mask> von einem Hund.", "水で遊ぶ犬", "  x  y  "} {
		assert.Equal(t, a.Encode(s, 0), b.Encode(s, 0), "%q", s)
	}
	assert.Equal(t, int64(1), a.PadID())
}

func FuzzEncodeUnigram(f *testing.F) {
	for _, s := range []string{"", "a", "<mask>", "a  <mask>  b", "ＡＢＣ", "a\xffb", "水\u3000水", "e\u0301", "ﬁ\u0301",
		"👨\u200d👩\u200d👧", strings.Repeat("ab", 101), "  x  "} {
		f.Add(s, 0)
		f.Add(s, 1)
		f.Add(s, 77)
	}
	tok, err := Load(unigramJSON)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, s string, maxLen int) {
		maxLen %= 300
		ids := tok.Encode(s, maxLen)
		require.GreaterOrEqual(t, len(ids), 2)
		assert.Equal(t, int64(0), ids[0])
		assert.Equal(t, int64(2), ids[len(ids)-1])
		if maxLen >= 2 {
			assert.LessOrEqual(t, len(ids), maxLen)
		}
		for _, id := range ids {
			assert.True(t, id >= 0 && id < int64(tok.VocabSize()), "id %d", id)
		}
	})
}

// BenchmarkEncodeUnigram is BenchmarkEncode for the SentencePiece Unigram
// tokenizer of testdata/unigram, truncated to 77.
func BenchmarkEncodeUnigram(b *testing.B) {
	tok, err := Load(unigramJSON)
	require.NoError(b, err)
	corpus := readCorpus(b)
	var n int
	for _, s := range corpus {
		n += len(s)
	}
	b.SetBytes(int64(n / len(corpus)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.Encode(corpus[i%len(corpus)], 77)
	}
}

func BenchmarkEncodeUnigramSentence(b *testing.B) {
	tok, err := Load(unigramJSON)
	require.NoError(b, err)
	s := "A photo of a dog playing in the water, Ein Bild von einem Hund, 水で遊ぶ犬の写真。"
	b.SetBytes(int64(len(s)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.Encode(s, 77)
	}
}

// BenchmarkLoad measures Load of each generated full-size tokenizer.json
// (the size of the real model's).
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	for _, tc := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"wordpiece", func(w io.Writer) error { return vocab.WriteTokenizerJSON(w, vocab.Full) }},
		{"clip", func(w io.Writer) error { return vocab.WriteCLIPTokenizerJSON(w, vocab.CLIPFull) }},
		{"xlmv", func(w io.Writer) error { return vocab.WriteUnigramTokenizerJSON(w, vocab.XLMVFull) }},
	} {
		path := filepath.Join(dir, tc.name+".json")
		f, err := os.Create(path)
		require.NoError(b, err)
		require.NoError(b, tc.write(f))
		require.NoError(b, f.Close())
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Load(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
