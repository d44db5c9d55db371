package text

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelgen/modeltest"
	"github.com/mclip-go/mclip/modelgen/reference"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
)

// tinyModel is a fresh tiny generated model, which a test may break.
func tinyModel(t *testing.T) modelstore.Dir { return modeltest.Tiny(t, 7) }

var multilingual = []string{
	"A dog in the snow",
	"Eine Katze",
	"Una playa con palmeras.",
	"Собака на снегу",
	"雪の中の犬",
	"海滩上的棕榈树",
	"كلب في الثلج",
	"कुत्ता बर्फ में",
	"눈 속의 개",
	"Ένας σκύλος στο χιόνι",
	"",
	"   \u00a0 padded with Unicode spaces \u3000 ",
	strings.Repeat("long text with many words to pass the limit ", 40),
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func TestEncodeMatchesReference(t *testing.T) {
	dir := tinyModel(t)
	ref, err := reference.LoadText(dir.Root)
	require.NoError(t, err)
	for _, batch := range []int{1, 3, 32} {
		enc, err := Load(dir, Options{BatchSize: batch, Session: onnxsession.Options{IntraOpThreads: 1}})
		require.NoError(t, err)
		vecs, errs := enc.Encode(context.Background(), multilingual)
		ids := make([][]int64, len(multilingual))
		for i, s := range multilingual {
			require.NoError(t, errs[i], "text %d", i)
			ids[i], err = enc.Tokenize(s)
			require.NoError(t, err)
		}
		want, err := ref.Embed(ids)
		require.NoError(t, err)
		for i := range multilingual {
			require.Len(t, vecs[i], enc.Dimensions())
			assert.Less(t, maxAbsDiff(vecs[i], want[i]), 1e-4, "batch %d text %d %q", batch, i, multilingual[i])
		}
		require.NoError(t, enc.Close())
	}
}

func TestEncodeIsBatchInvariantAndOrdered(t *testing.T) {
	enc, err := Load(tinyModel(t), Options{BatchSize: 4})
	require.NoError(t, err)
	defer enc.Close()
	all, errs := enc.Encode(context.Background(), multilingual)
	for i, s := range multilingual {
		require.NoError(t, errs[i])
		one, oneErrs := enc.Encode(context.Background(), []string{s})
		require.NoError(t, oneErrs[0])
		assert.Less(t, maxAbsDiff(all[i], one[0]), 1e-5, "text %d", i)
	}
	// distinct texts give distinct vectors: a mix-up of the order would show
	assert.Greater(t, maxAbsDiff(all[0], all[1]), 1e-4)
}

func TestEncodeConcurrent(t *testing.T) {
	enc, err := Load(tinyModel(t), Options{BatchSize: 2})
	require.NoError(t, err)
	defer enc.Close()
	want, _ := enc.Encode(context.Background(), multilingual)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, errs := enc.Encode(context.Background(), multilingual)
			for i := range got {
				assert.NoError(t, errs[i])
				assert.Less(t, maxAbsDiff(got[i], want[i]), 1e-5)
			}
		}()
	}
	wg.Wait()
}

func TestEncodePerItemErrors(t *testing.T) {
	enc, err := Load(tinyModel(t), Options{MaxTextBytes: 64})
	require.NoError(t, err)
	defer enc.Close()
	vecs, errs := enc.Encode(context.Background(), []string{"short", strings.Repeat("x", 65), "also short", "bad utf8 \xff\xfe"})
	require.NoError(t, errs[0])
	require.Error(t, errs[1])
	assert.Contains(t, errs[1].Error(), "65 bytes, more than the limit of 64")
	assert.Nil(t, vecs[1])
	require.NoError(t, errs[2])
	require.NoError(t, errs[3], "invalid UTF-8 is read as U+FFFD, never an error or a panic")
	assert.Len(t, vecs[2], enc.Dimensions())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, errs = enc.Encode(ctx, []string{"a", "b"})
	for _, err := range errs {
		assert.ErrorIs(t, err, context.Canceled)
	}
}

func TestTokenize(t *testing.T) {
	enc, err := Load(tinyModel(t), Options{})
	require.NoError(t, err)
	defer enc.Close()
	cls, sep := int64(101), int64(102)
	long, err := enc.Tokenize(strings.Repeat("word ", 500))
	require.NoError(t, err)
	assert.Len(t, long, enc.Settings().MaxSeqLength)
	assert.Equal(t, cls, long[0])
	assert.Equal(t, sep, long[len(long)-1])
	empty, err := enc.Tokenize("")
	require.NoError(t, err)
	assert.Equal(t, []int64{cls, sep}, empty)
	spaced, err := enc.Tokenize("\u3000\u00a0 Eine Katze \u2029")
	require.NoError(t, err)
	plain, err := enc.Tokenize("Eine Katze")
	require.NoError(t, err)
	assert.Equal(t, plain, spaced)
}

func TestStripPython(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  a b  ", "a b"},
		{"\t\n\v\f\r\x1c\x1d\x1e\x1f\u0085\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000x\u3000", "x"},
		{"\ufeffx", "\ufeffx"},             // the BOM is not whitespace to Python
		{"\u200bx\u200b", "\u200bx\u200b"}, // nor is the zero-width space
		{"\u180ex", "\u180ex"},             // Mongolian vowel separator: not since Unicode 6.3
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, StripPython(tt.in), "%q", tt.in)
	}
}

func TestLoadRefusesBrokenModels(t *testing.T) {
	editJSON := func(rel string, edit func(m map[string]any)) func(t *testing.T, d modelstore.Dir) {
		return func(t *testing.T, d modelstore.Dir) {
			p := d.Text(rel)
			raw, err := os.ReadFile(p)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(raw, &m))
			edit(m)
			raw, err = json.Marshal(m)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, raw, 0o644))
		}
	}
	write := func(rel, content string) func(t *testing.T, d modelstore.Dir) {
		return func(t *testing.T, d modelstore.Dir) {
			require.NoError(t, os.WriteFile(d.Text(rel), []byte(content), 0o644))
		}
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, d modelstore.Dir)
		want   []string
	}{
		{"missing tokenizer", func(t *testing.T, d modelstore.Dir) { require.NoError(t, os.Remove(d.Text(modelstore.TokenizerJSON))) }, []string{"tokenizer.json"}},
		{"missing graph", func(t *testing.T, d modelstore.Dir) { require.NoError(t, os.Remove(d.Text(modelstore.TextONNXFP32))) }, []string{"onnx/model.onnx"}},
		{"corrupt graph", write(modelstore.TextONNXFP32, "not an onnx file"), []string{"model.onnx"}},
		{"unknown module", write(modelstore.ModulesJSON, `[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},{"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"},{"idx":3,"name":"3","path":"3_Normalize","type":"sentence_transformers.models.Normalize"}]`), []string{"modules.json", "Normalize"}},
		{"two pooling modes", editJSON(modelstore.PoolingConfigJSON, func(m map[string]any) { m["pooling_mode_cls_token"] = true }), []string{"1_Pooling/config.json", "[cls mean]"}},
		{"dense shape", editJSON(modelstore.DenseConfigJSON, func(m map[string]any) { m["out_features"] = 256 }), []string{"linear.weight", "want [256"}},
		{"dense activation", editJSON(modelstore.DenseConfigJSON, func(m map[string]any) { m["activation_function"] = "torch.nn.modules.activation.ReLU" }), []string{"2_Dense/config.json", "ReLU"}},
		{"dense bias claimed", editJSON(modelstore.DenseConfigJSON, func(m map[string]any) { m["bias"] = true }), []string{"no linear.bias"}},
		{"max_seq_length", editJSON(modelstore.SentenceBertConfig, func(m map[string]any) { m["max_seq_length"] = 100000 }), []string{"sentence_bert_config.json", "max_seq_length 100000"}},
		{"bad json", write(modelstore.TextConfigJSON, "{"), []string{"config.json"}},
		{"truncated safetensors", write(modelstore.DenseSafetensors, "\x08\x00"), []string{"model.safetensors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tinyModel(t)
			tt.mutate(t, d)
			enc, err := Load(d, Options{})
			if enc != nil {
				enc.Close()
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadSettingsFromFiles(t *testing.T) {
	d := tinyModel(t)
	s, err := LoadSettings(d)
	require.NoError(t, err)
	assert.Equal(t, 128, s.MaxSeqLength)
	assert.Equal(t, "mean", s.Pooling)
	assert.Equal(t, 512, s.DenseOut)
	assert.Equal(t, "1_Pooling", s.PoolingDir)
	assert.Equal(t, "2_Dense", filepath.ToSlash(s.DenseDir))
}
