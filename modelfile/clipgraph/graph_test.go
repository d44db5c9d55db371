package clipgraph_test

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/clipgraph"
	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/modelfile/safetensors"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
)

// tinySource returns a tiny config of arch and its random weights.
func tinySource(t *testing.T, arch modelgen.CLIPArch) (clipgraph.Config, clipgraph.MapSource) {
	t.Helper()
	c, err := modelgen.CLIPConfig(arch, modelgen.Tiny)
	require.NoError(t, err)
	c.Text.VocabSize = 1000 // small tables keep these tests fast
	src := clipgraph.MapSource{}
	for _, w := range modelgen.CLIPWeights(c, 3) {
		src[w.Name] = clipgraph.F32Tensor(w.Shape, w.Data)
	}
	return c, src
}

// ids is a batch of two rows, EOS (2) before the highest id in row 0 and
// after it in row 1; no id is the vocabulary's last (999), which
// TestTextPooling uses.
var ids = []int64{0, 17, 2, 900, 1, 1, 0, 998, 5, 6, 7, 2}

func run(t *testing.T, m *onnxpb.Model, in string, shape ort.Shape, data any) []float32 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.onnx")
	require.NoError(t, m.WriteFile(path))
	return runFile(t, path, in, shape, data)
}

func runFile(t *testing.T, path, in string, shape ort.Shape, data any) []float32 {
	t.Helper()
	require.NoError(t, ortlib.Init(""))
	_, outs, err := onnxpb.ReadInterface(path)
	require.NoError(t, err)
	sess, err := ort.NewDynamicAdvancedSession(path, []string{in}, []string{outs[0].Name}, nil)
	require.NoError(t, err)
	defer sess.Destroy()
	var x ort.Value
	switch d := data.(type) {
	case []int64:
		x, err = ort.NewTensor(shape, d)
	case []float32:
		x, err = ort.NewTensor(shape, d)
	}
	require.NoError(t, err)
	defer x.Destroy()
	res := []ort.Value{nil}
	require.NoError(t, sess.Run([]ort.Value{x}, res))
	defer res[0].Destroy()
	return append([]float32(nil), res[0].(*ort.Tensor[float32]).GetData()...)
}

func textEmbeds(t *testing.T, c clipgraph.Config, src clipgraph.Source, pool clipgraph.Pooling) []float32 {
	t.Helper()
	m, err := clipgraph.Text(c, src, pool)
	require.NoError(t, err)
	return run(t, m, clipgraph.InputIDs, ort.NewShape(2, 6), ids)
}

// Each pooling rule projects the position it names: with a second graph
// whose input is the sequence cut right after that position, the causal
// mask makes the last position's output the same vector.
func TestTextPooling(t *testing.T) {
	c, src := tinySource(t, modelgen.CLIPB32x384XLMV)
	for _, tt := range []struct {
		pool clipgraph.Pooling
		cut  [2]int // tokens up to and including the pooled one
	}{
		{clipgraph.PoolEOS, [2]int{3, 6}},
		{clipgraph.PoolArgmax, [2]int{4, 2}},
	} {
		t.Run(tt.pool.String(), func(t *testing.T) {
			got := textEmbeds(t, c, src, tt.pool)
			d := c.ProjectionDim
			for r := 0; r < 2; r++ {
				row := ids[r*6 : r*6+tt.cut[r]]
				// Pool the last position of the cut row: its id becomes the
				// vocabulary's last, given the same embedding, so that
				// argmax pools there.
				alone := append([]int64(nil), row...)
				alone[len(alone)-1] = int64(c.Text.VocabSize - 1)
				m, err := clipgraph.Text(c, replaceRow{src, row[len(row)-1], int64(c.Text.VocabSize - 1)}, clipgraph.PoolArgmax)
				require.NoError(t, err)
				want := run(t, m, clipgraph.InputIDs, ort.NewShape(1, int64(len(alone))), alone)
				assert.InDeltaSlice(t, want, got[r*d:(r+1)*d], 1e-4, "row %d", r)
			}
		})
	}
}

// replaceRow serves the token embedding table with row to's vector set to
// row from's, so that an input holding to embeds as if it held from.
type replaceRow struct {
	clipgraph.Source
	from, to int64
}

func (s replaceRow) Tensor(name string) (clipgraph.Tensor, error) {
	tt, err := s.Source.Tensor(name)
	if err != nil || name != "text_model.embeddings.token_embedding.weight" {
		return tt, err
	}
	d := tt.Shape[1] * 4
	data := append([]byte(nil), tt.Data...)
	copy(data[s.to*d:(s.to+1)*d], tt.Data[s.from*d:(s.from+1)*d])
	tt.Data = data
	return tt, nil
}

// An open_clip checkpoint (packed in_proj, [width, embed_dim]
// projections, open_clip's names) builds the same graph as the
// transformers checkpoint it converts to.
func TestOpenCLIPSourceBuildsTheSameGraphs(t *testing.T) {
	for _, arch := range []modelgen.CLIPArch{modelgen.CLIPB32QuickGELU, modelgen.CLIPB16GELU} {
		t.Run(string(arch), func(t *testing.T) {
			c, hf := tinySource(t, arch)
			oc := toOpenCLIP(t, hf)
			for name, build := range map[string]func(clipgraph.Source) (*onnxpb.Model, error){
				"text":   func(s clipgraph.Source) (*onnxpb.Model, error) { return clipgraph.Text(c, s, clipgraph.PoolArgmax) },
				"vision": func(s clipgraph.Source) (*onnxpb.Model, error) { return clipgraph.Vision(c, s) },
			} {
				want, err := build(hf)
				require.NoError(t, err)
				got, err := build(clipgraph.OpenCLIPSource{Src: oc})
				require.NoError(t, err, name)
				wb, err := want.Marshal()
				require.NoError(t, err)
				gb, err := got.Marshal()
				require.NoError(t, err)
				assert.True(t, string(wb) == string(gb), "%s graphs differ", name)
			}
		})
	}
}

// toOpenCLIP renames and repacks transformers' weights as open_clip's
// state dict holds them.
func toOpenCLIP(t *testing.T, hf clipgraph.MapSource) clipgraph.MapSource {
	t.Helper()
	out := clipgraph.MapSource{}
	transpose := func(tt clipgraph.Tensor) clipgraph.Tensor {
		r, c := tt.Shape[0], tt.Shape[1]
		data := make([]byte, len(tt.Data))
		for i := int64(0); i < r; i++ {
			for j := int64(0); j < c; j++ {
				copy(data[(j*r+i)*4:(j*r+i+1)*4], tt.Data[(i*c+j)*4:(i*c+j+1)*4])
			}
		}
		return clipgraph.Tensor{Dtype: tt.Dtype, Shape: []int64{c, r}, Data: data}
	}
	packed := map[string][]byte{}
	for _, name := range hf.Names() {
		tt := hf[name]
		var n string
		switch {
		case name == "text_projection.weight":
			out["text_projection"] = transpose(tt)
			continue
		case name == "visual_projection.weight":
			out["visual.proj"] = transpose(tt)
			continue
		case name == "logit_scale":
			out[name] = tt
			continue
		}
		r := strings.NewReplacer(
			"text_model.embeddings.token_embedding.weight", "token_embedding.weight",
			"text_model.embeddings.position_embedding.weight", "positional_embedding",
			"text_model.final_layer_norm", "ln_final",
			"vision_model.embeddings.class_embedding", "visual.class_embedding",
			"vision_model.embeddings.patch_embedding.weight", "visual.conv1.weight",
			"vision_model.embeddings.position_embedding.weight", "visual.positional_embedding",
			"vision_model.pre_layrnorm", "visual.ln_pre",
			"vision_model.post_layernorm", "visual.ln_post",
			"text_model.encoder.layers.", "transformer.resblocks.",
			"vision_model.encoder.layers.", "visual.transformer.resblocks.",
			"layer_norm1", "ln_1", "layer_norm2", "ln_2", "mlp.fc1", "mlp.c_fc", "mlp.fc2", "mlp.c_proj",
			"self_attn.out_proj", "attn.out_proj",
		)
		n = r.Replace(name)
		for i, p := range []string{"self_attn.q_proj.", "self_attn.k_proj.", "self_attn.v_proj."} {
			if strings.Contains(n, p) {
				key := strings.Replace(n, p, "attn.in_proj_", 1)
				if packed[key] == nil {
					packed[key] = make([]byte, 3*len(tt.Data))
					shape := append([]int64{3 * tt.Shape[0]}, tt.Shape[1:]...)
					out[key] = clipgraph.Tensor{Dtype: tt.Dtype, Shape: shape, Data: packed[key]}
				}
				copy(packed[key][i*len(tt.Data):], tt.Data)
				n = ""
			}
		}
		if n != "" {
			out[n] = tt
		}
	}
	return out
}

// halfSources returns a source whose float weights are F16 (or BF16) and
// the F32 source holding exactly the values they decode to.
func halfSources(src clipgraph.MapSource, dtype safetensors.Dtype) (half, f32 clipgraph.MapSource) {
	half, f32 = clipgraph.MapSource{}, clipgraph.MapSource{}
	for name, tt := range src {
		n := len(tt.Data) / 4
		hb := make([]byte, 2*n)
		vals := make([]float32, n)
		for i := 0; i < n; i++ {
			bits := binary.LittleEndian.Uint32(tt.Data[4*i:])
			var h uint16
			if dtype == safetensors.BF16 {
				h = uint16(bits >> 16)
				vals[i] = math.Float32frombits(uint32(h) << 16)
			} else {
				h, vals[i] = toHalf(bits)
			}
			binary.LittleEndian.PutUint16(hb[2*i:], h)
		}
		half[name] = clipgraph.Tensor{Dtype: dtype, Shape: tt.Shape, Data: hb}
		f32[name] = clipgraph.F32Tensor(tt.Shape, vals)
	}
	return half, f32
}

// toHalf truncates a float32 to float16 (values below float16's normal
// range flush to zero) and returns the bits and the value they hold.
func toHalf(bits uint32) (uint16, float32) {
	sign := uint16(bits>>16) & 0x8000
	exp := int(bits>>23&0xff) - 127 + 15
	if exp <= 0 {
		return sign, math.Float32frombits(uint32(sign) << 16)
	}
	if exp >= 31 {
		exp = 30
	}
	h := sign | uint16(exp)<<10 | uint16(bits>>13&0x3ff)
	v := math.Float32frombits(uint32(sign)<<16 | uint32(exp-15+127)<<23 | uint32(h&0x3ff)<<13)
	return h, v
}

// Half-precision checkpoints give the graphs of their values in float32
// (the F16 token table stays F16 behind a Cast).
func TestHalfPrecisionWeights(t *testing.T) {
	c, src := tinySource(t, modelgen.CLIPB32x384XLMV)
	for _, dtype := range []safetensors.Dtype{safetensors.F16, safetensors.BF16} {
		t.Run(string(dtype), func(t *testing.T) {
			half, f32 := halfSources(src, dtype)
			m, err := clipgraph.Text(c, half, clipgraph.PoolEOS)
			require.NoError(t, err)
			table, ok := m.Graph.Initializer("text_model.embeddings.token_embedding.weight")
			require.True(t, ok)
			if dtype == safetensors.F16 {
				assert.Equal(t, onnxpb.TypeFloat16, table.DataType)
			} else {
				assert.Equal(t, onnxpb.TypeFloat, table.DataType)
			}
			assert.InDeltaSlice(t, textEmbeds(t, c, f32, clipgraph.PoolEOS), run(t, m, clipgraph.InputIDs, ort.NewShape(2, 6), ids), 1e-5)
		})
	}
}

// A graph written with external data runs as the inline one does.
func TestExternalData(t *testing.T) {
	c, src := tinySource(t, modelgen.CLIPB16GELU)
	m, err := clipgraph.Vision(c, src)
	require.NoError(t, err)
	s := int64(c.Vision.ImageSize)
	px := make([]float32, 3*s*s)
	for i := range px {
		px[i] = float32(i%251)/125 - 1
	}
	want := run(t, m, clipgraph.PixelValues, ort.NewShape(1, 3, s, s), px)
	dir := t.TempDir()
	path := filepath.Join(dir, "vision.onnx")
	require.NoError(t, m.WriteFileExternal(path, "vision.onnx.data", 1024))
	st, err := os.Stat(filepath.Join(dir, "vision.onnx.data"))
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(100_000))
	got := runFile(t, path, clipgraph.PixelValues, ort.NewShape(1, 3, s, s), px)
	assert.Equal(t, want, got)
}

func TestBuildErrors(t *testing.T) {
	c, src := tinySource(t, modelgen.CLIPB32QuickGELU)
	without := func(name string) clipgraph.MapSource {
		out := clipgraph.MapSource{}
		for k, v := range src {
			if k != name {
				out[k] = v
			}
		}
		return out
	}
	with := func(name string, tt clipgraph.Tensor) clipgraph.MapSource {
		out := without(name)
		out[name] = tt
		return out
	}
	tests := []struct {
		name    string
		build   func() error
		wantErr string
	}{
		{"missing weight", func() error {
			_, err := clipgraph.Text(c, without("text_model.encoder.layers.1.mlp.fc2.bias"), clipgraph.PoolEOS)
			return err
		}, "weight missing from the checkpoint: text_model.encoder.layers.1.mlp.fc2.bias"},
		{"wrong shape", func() error {
			_, err := clipgraph.Vision(c, with("visual_projection.weight", clipgraph.F32Tensor([]int64{2, 2}, make([]float32, 4))))
			return err
		}, "weight visual_projection.weight has shape [2 2]; the config wants [512 32]"},
		{"integer weight", func() error {
			_, err := clipgraph.Vision(c, with("vision_model.post_layernorm.bias", clipgraph.Tensor{Dtype: safetensors.I64, Shape: []int64{32}, Data: make([]byte, 256)}))
			return err
		}, "weight vision_model.post_layernorm.bias has dtype I64"},
		{"unknown pooling", func() error {
			_, err := clipgraph.Text(c, src, clipgraph.Pooling(7))
			return err
		}, "unknown pooling"},
		{"invalid config", func() error {
			bad := c
			bad.Vision.HiddenAct = "swish"
			_, err := clipgraph.Vision(bad, src)
			return err
		}, `vision_config.hidden_act "swish" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.build()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestOpenCheckpoint(t *testing.T) {
	dir := t.TempDir()
	_, err := modelgen.WriteCLIPCheckpoint(dir, modelgen.CLIPB32QuickGELU, modelgen.Tiny, 1, 0)
	require.NoError(t, err)
	ck, err := clipgraph.OpenCheckpoint(filepath.Join(dir, "model.safetensors"), filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	assert.False(t, ck.OpenCLIP)
	text := filepath.Join(dir, "text.onnx")
	require.NoError(t, ck.WriteText(text, clipgraph.PoolArgmax))
	require.NoError(t, ck.Close())
	in, out, err := onnxpb.ReadInterface(text)
	require.NoError(t, err)
	require.Len(t, in, 1)
	require.Len(t, out, 1)
	assert.Equal(t, clipgraph.InputIDs, in[0].Name)
	assert.Equal(t, onnxpb.TypeInt64, in[0].ElemType)
	assert.Equal(t, clipgraph.TextEmbeds, out[0].Name)
	assert.Equal(t, []onnxpb.Dim{onnxpb.P("batch_size"), onnxpb.D(512)}, out[0].Shape)

	other := filepath.Join(dir, "other.safetensors")
	require.NoError(t, safetensors.WriteFile(other, []safetensors.Tensor{{Name: "x", Shape: []int64{1}, Data: []float32{1}}}, nil))
	_, err = clipgraph.OpenCheckpoint(other, filepath.Join(dir, "config.json"))
	assert.ErrorContains(t, err, "holds neither transformers' CLIPModel weights")
	_, err = clipgraph.OpenCheckpoint(filepath.Join(dir, "model.safetensors"), filepath.Join(dir, "missing.json"))
	assert.ErrorContains(t, err, "missing.json")
}
