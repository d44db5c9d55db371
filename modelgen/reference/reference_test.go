package reference

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/safetensors"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
)

const tolerance = 1e-4

func textGraph(dir string) string { return filepath.Join(dir, "text", "onnx", "model.onnx") }

func visionGraph(dir string) string {
	return filepath.Join(dir, "vision", "onnx", "vision_model.onnx")
}

// generate writes a model directory of the given size into a temp dir.
func generate(t testing.TB, size modelgen.Size, seed int64) string {
	t.Helper()
	dir := t.TempDir()
	start := time.Now()
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: dir, Size: size, Seed: seed}))
	t.Logf("generated %s model in %s", size, time.Since(start))
	return dir
}

// runText feeds padded ids through the ONNX text graph and returns
// last_hidden_state [batch, seq, dim].
func runText(t testing.TB, graph string, ids [][]int64) ([]float32, int, int) {
	t.Helper()
	require.NoError(t, ortlib.Init(""))
	sess, err := ort.NewDynamicAdvancedSession(graph,
		[]string{"input_ids", "attention_mask"}, []string{"last_hidden_state"}, nil)
	require.NoError(t, err)
	defer sess.Destroy()
	seq := 0
	for _, s := range ids {
		seq = max(seq, len(s))
	}
	flat := make([]int64, len(ids)*seq)
	mask := make([]int64, len(ids)*seq)
	for b, s := range ids {
		for i, id := range s {
			flat[b*seq+i] = id
			mask[b*seq+i] = 1
		}
	}
	shape := ort.NewShape(int64(len(ids)), int64(seq))
	in, err := ort.NewTensor(shape, flat)
	require.NoError(t, err)
	defer in.Destroy()
	m, err := ort.NewTensor(shape, mask)
	require.NoError(t, err)
	defer m.Destroy()
	outs := []ort.Value{nil}
	require.NoError(t, sess.Run([]ort.Value{in, m}, outs))
	defer outs[0].Destroy()
	out := outs[0].(*ort.Tensor[float32])
	dim := int(out.GetShape()[2])
	require.Equal(t, ort.NewShape(int64(len(ids)), int64(seq), int64(dim)), out.GetShape())
	return append([]float32(nil), out.GetData()...), seq, dim
}

func randomIDs(rng *rand.Rand, lengths []int, vocab int) [][]int64 {
	out := make([][]int64, len(lengths))
	for i, n := range lengths {
		s := make([]int64, n)
		s[0], s[n-1] = 101, 102
		for j := 1; j < n-1; j++ {
			s[j] = 104 + rng.Int64N(int64(vocab-104))
		}
		out[i] = s
	}
	return out
}

func TestTextMatchesONNX(t *testing.T) {
	dir := generate(t, modelgen.Tiny, 11)
	ref, err := LoadText(dir)
	require.NoError(t, err)
	st, err := safetensors.Open(filepath.Join(dir, "text", "2_Dense", "model.safetensors"))
	require.NoError(t, err)
	dense, err := st.Matrix("linear.weight", 512, int64(ref.Dim()))
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name    string
		lengths []int
	}{
		{"single", []int{7}},
		{"padded batch", []int{2, 9, 5}},
		{"long and short", []int{128, 3, 64, 17, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := randomIDs(rng, tc.lengths, 8192)
			got, seq, dim := runText(t, textGraph(dir), ids)
			want, err := ref.Embed(ids)
			require.NoError(t, err)
			var maxHidden, maxEmbed float64
			for b, s := range ids {
				h, err := ref.Hidden(s)
				require.NoError(t, err)
				mean := make([]float64, dim)
				for i := range s {
					for j := 0; j < dim; j++ {
						g := float64(got[(b*seq+i)*dim+j])
						maxHidden = math.Max(maxHidden, math.Abs(g-h[i*dim+j]))
						mean[j] += g / float64(len(s))
					}
				}
				for o := 0; o < 512; o++ {
					var e float64
					for j, m := range mean {
						e += m * float64(dense[o*dim+j])
					}
					maxEmbed = math.Max(maxEmbed, math.Abs(e-float64(want[b][o])))
				}
			}
			t.Logf("max |onnx - reference|: hidden %.3g, embedding %.3g", maxHidden, maxEmbed)
			assert.Less(t, maxHidden, tolerance)
			assert.Less(t, maxEmbed, tolerance)
		})
	}
}

func TestTextIsSensitive(t *testing.T) {
	dir := generate(t, modelgen.Tiny, 11)
	ref, err := LoadText(dir)
	require.NoError(t, err)
	e, err := ref.Embed([][]int64{{101, 500, 102}, {101, 501, 102}, {101, 501, 500, 102}})
	require.NoError(t, err)
	assert.Greater(t, maxDiff(e[0], e[1]), 0.05, "different tokens")
	assert.Greater(t, maxDiff(e[1], e[2]), 0.05, "different length")

	other, err := LoadText(generate(t, modelgen.Tiny, 12))
	require.NoError(t, err)
	e2, err := other.Embed([][]int64{{101, 500, 102}})
	require.NoError(t, err)
	assert.Greater(t, maxDiff(e[0], e2[0]), 0.05, "different seed")

	_, err = ref.Embed([][]int64{{101, 9000}})
	assert.ErrorContains(t, err, "out of range")
	_, err = ref.Embed([][]int64{{}})
	assert.ErrorContains(t, err, "empty sequence")
}

func runVision(t testing.TB, graph string, pixels []float32, batch int) ([]float32, []float32) {
	t.Helper()
	require.NoError(t, ortlib.Init(""))
	sess, err := ort.NewDynamicAdvancedSession(graph,
		[]string{"pixel_values"}, []string{"image_embeds", "last_hidden_state"}, nil)
	require.NoError(t, err)
	defer sess.Destroy()
	in, err := ort.NewTensor(ort.NewShape(int64(batch), 3, 224, 224), pixels)
	require.NoError(t, err)
	defer in.Destroy()
	outs := []ort.Value{nil, nil}
	require.NoError(t, sess.Run([]ort.Value{in}, outs))
	defer outs[0].Destroy()
	defer outs[1].Destroy()
	return append([]float32(nil), outs[0].(*ort.Tensor[float32]).GetData()...),
		append([]float32(nil), outs[1].(*ort.Tensor[float32]).GetData()...)
}

func randomPixels(rng *rand.Rand, batch int) []float32 {
	px := make([]float32, batch*3*224*224)
	for i := range px {
		px[i] = float32(rng.NormFloat64())
	}
	return px
}

func TestVisionMatchesONNX(t *testing.T) {
	dir := generate(t, modelgen.Tiny, 21)
	ref, err := LoadVision(dir)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, batch := range []int{1, 3} {
		px := randomPixels(rng, batch)
		embeds, hidden := runVision(t, visionGraph(dir), px, batch)
		want, err := ref.Embed(px, batch)
		require.NoError(t, err)
		require.Len(t, want, batch)
		per := 3 * 224 * 224
		tokens := len(hidden) / batch
		var maxHidden, maxEmbed float64
		for b := 0; b < batch; b++ {
			h, err := ref.Hidden(px[b*per : (b+1)*per])
			require.NoError(t, err)
			require.Len(t, h, tokens)
			for i, v := range h {
				maxHidden = math.Max(maxHidden, math.Abs(v-float64(hidden[b*tokens+i])))
			}
			require.Len(t, want[b], 512)
			maxEmbed = math.Max(maxEmbed, maxDiff(want[b], embeds[b*512:(b+1)*512]))
		}
		t.Logf("batch %d: max |onnx - reference|: hidden %.3g, image_embeds %.3g", batch, maxHidden, maxEmbed)
		assert.Less(t, maxHidden, tolerance)
		assert.Less(t, maxEmbed, tolerance)
		if batch > 1 {
			assert.Greater(t, maxDiff(want[0], want[1]), 0.05, "different images")
		}
	}
	_, err = ref.Embed(make([]float32, 10), 1)
	assert.ErrorContains(t, err, "batch of 1")
}

func TestLoadErrors(t *testing.T) {
	dir := generate(t, modelgen.Tiny, 5)
	_, err := LoadText(t.TempDir())
	assert.ErrorContains(t, err, "text config")
	_, err = LoadVision(t.TempDir())
	assert.ErrorContains(t, err, "vision config")

	// A config that disagrees with the graph's weights is refused.
	cfg := filepath.Join(dir, "text", "config.json")
	b, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, []byte(strings.Replace(string(b), `"n_layers": 2`, `"n_layers": 3`, 1)), 0o644))
	_, err = LoadText(dir)
	assert.ErrorContains(t, err, `no initializer "transformer.layer.2.attention.q_lin.weight"`)
	require.NoError(t, os.WriteFile(cfg, []byte(strings.Replace(string(b), `"hidden_dim": 64`, `"hidden_dim": 96`, 1)), 0o644))
	_, err = LoadText(dir)
	assert.ErrorContains(t, err, `initializer "transformer.layer.0.ffn.lin1.weight" has dims [32 64], want [32 96]`)
}

// TestFullSize checks the full-size graphs against the reference. It
// generates about 900 MB and takes minutes, so it runs only when
// MCLIP_MODELGEN_FULL is set.
func TestFullSize(t *testing.T) {
	if os.Getenv("MCLIP_MODELGEN_FULL") == "" {
		t.Skip("set MCLIP_MODELGEN_FULL=1 to check the full-size model")
	}
	dir := generate(t, modelgen.Full, 1)
	for _, rel := range []string{"text/onnx/model.onnx", "text/2_Dense/model.safetensors", "vision/onnx/vision_model.onnx", "text/tokenizer.json"} {
		st, err := os.Stat(filepath.Join(dir, rel))
		require.NoError(t, err)
		t.Logf("%s: %d bytes", rel, st.Size())
	}
	ref, err := LoadText(dir)
	require.NoError(t, err)
	ids := randomIDs(rand.New(rand.NewPCG(5, 6)), []int{12, 5}, 119547)
	got, seq, dim := runText(t, textGraph(dir), ids)
	var maxHidden float64
	for b, s := range ids {
		h, err := ref.Hidden(s)
		require.NoError(t, err)
		for i := range s {
			for j := 0; j < dim; j++ {
				maxHidden = math.Max(maxHidden, math.Abs(float64(got[(b*seq+i)*dim+j])-h[i*dim+j]))
			}
		}
	}
	t.Logf("full text: max |onnx - reference| hidden %.3g", maxHidden)
	assert.Less(t, maxHidden, tolerance)

	vref, err := LoadVision(dir)
	require.NoError(t, err)
	px := randomPixels(rand.New(rand.NewPCG(7, 8)), 1)
	embeds, _ := runVision(t, visionGraph(dir), px, 1)
	want, err := vref.Embed(px, 1)
	require.NoError(t, err)
	d := maxDiff(want[0], embeds)
	t.Logf("full vision: max |onnx - reference| image_embeds %.3g", d)
	assert.Less(t, d, tolerance)
}

// TestVariantsCloseToReference checks the int8 and fp16 graphs: close to
// the float reference, but not equal to it.
func TestVariantsCloseToReference(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: dir, Seed: 31, Int8: true, FP16: true}))
	ref, err := LoadText(dir)
	require.NoError(t, err)
	st, err := safetensors.Open(filepath.Join(dir, "text", "2_Dense", "model.safetensors"))
	require.NoError(t, err)
	dense, err := st.Matrix("linear.weight", 512, int64(ref.Dim()))
	require.NoError(t, err)
	ids := randomIDs(rand.New(rand.NewPCG(9, 10)), []int{9, 4, 30}, 8192)
	want, err := ref.Embed(ids)
	require.NoError(t, err)
	vref, err := LoadVision(dir)
	require.NoError(t, err)
	px := randomPixels(rand.New(rand.NewPCG(11, 12)), 2)
	vwant, err := vref.Embed(px, 2)
	require.NoError(t, err)

	tests := []struct {
		name, text, vision string
		minCosine          float64
	}{
		{"int8", "model_quint8_avx2.onnx", "vision_model_quantized.onnx", 0.999},
		{"fp16", "model_fp16.onnx", "vision_model_fp16.onnx", 0.99999},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, seq, dim := runText(t, filepath.Join(dir, "text", "onnx", tc.text), ids)
			for b, s := range ids {
				mean := make([]float64, dim)
				for i := range s {
					for j := range mean {
						mean[j] += float64(got[(b*seq+i)*dim+j]) / float64(len(s))
					}
				}
				e := make([]float32, 512)
				for o := range e {
					for j, m := range mean {
						e[o] += float32(m * float64(dense[o*dim+j]))
					}
				}
				cos := cosine(e, want[b])
				t.Logf("text sequence %d: cosine to fp32 reference %.5f, max diff %.3g", b, cos, maxDiff(e, want[b]))
				assert.Greater(t, cos, tc.minCosine)
				assert.Greater(t, maxDiff(e, want[b]), 1e-5, "output identical to fp32")
			}
			embeds, _ := runVision(t, filepath.Join(dir, "vision", "onnx", tc.vision), px, 2)
			for b := range vwant {
				e := embeds[b*512 : (b+1)*512]
				cos := cosine(e, vwant[b])
				t.Logf("image %d: cosine to fp32 reference %.5f, max diff %.3g", b, cos, maxDiff(e, vwant[b]))
				assert.Greater(t, cos, tc.minCosine)
				assert.Greater(t, maxDiff(e, vwant[b]), 1e-5, "output identical to fp32")
			}
		})
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func maxDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}
