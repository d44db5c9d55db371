package catalog

import (
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name, tag string
		want      string
		errHas    []string
	}{
		{"empty is the default", "", MultilingualB32, nil},
		{"spaces around", "  " + CLIPB32 + " ", CLIPB32, nil},
		{"each known tag", OpenCLIPB32, OpenCLIPB32, nil},
		{"unknown lists the known", "clip-ViT-L-14", "", []string{`unknown model "clip-ViT-L-14"`, MultilingualB32, MetaCLIP2B32, OpenCLIPB16}},
		{"case matters", strings.ToLower(MultilingualB32), "", []string{"unknown model"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Lookup(tt.tag)
			if tt.errHas != nil {
				var ue *UnknownError
				require.True(t, errors.As(err, &ue), "%v", err)
				for _, s := range tt.errHas {
					assert.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, m.Tag)
		})
	}
}

func TestRunnable(t *testing.T) {
	m, err := Runnable("")
	require.NoError(t, err)
	assert.Equal(t, Default, m.Tag)

	_, err = Runnable(OpenCLIPB16)
	var ua *UnavailableError
	require.True(t, errors.As(err, &ua), "%v", err)
	assert.Contains(t, err.Error(), "not yet available")
	assert.Contains(t, err.Error(), "conversion")
	assert.Contains(t, err.Error(), "available models: "+MetaCLIP2B32+", "+OpenAIB16+", "+CLIPB32+", "+MultilingualB32)

	_, err = Runnable("nope")
	var ue *UnknownError
	assert.True(t, errors.As(err, &ue))
}

// Every entry is complete and its paths stay inside a model directory.
func TestEntries(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range All() {
		t.Run(m.Tag, func(t *testing.T) {
			assert.False(t, seen[m.Tag], "listed twice")
			seen[m.Tag] = true
			assert.Positive(t, m.Dimension)
			assert.NotEmpty(t, m.Upstream)
			assert.NotEmpty(t, m.Languages)
			assert.NotEmpty(t, m.Meta)
			assert.Equal(t, "semitechnologies/multi2vec-clip:"+m.Tag, m.Image())
			for tower, f := range map[string]Files{"text": m.Text.Files, "vision": m.Vision.Files} {
				assert.Len(t, strings.Split(f.Repo, "/"), 2, "%s repository %q", tower, f.Repo)
				assert.NotEmpty(t, f.Graphs.Published("fp32"), "%s: an fp32 graph", tower)
				all := append(append([]string{f.Weights}, f.Required...), f.Graphs.FP32...)
				all = append(append(all, f.Graphs.FP16...), f.Graphs.Int8...)
				for _, p := range all {
					if p == "" {
						continue
					}
					assert.Equal(t, path.Clean(p), p, "%s: %s", tower, p)
					assert.False(t, path.IsAbs(p) || strings.HasPrefix(p, ".."), "%s: %s", tower, p)
				}
			}
			assert.NotZero(t, m.Vision.InputSize)
			if m.Text.Tower == TextCLIP {
				assert.NotEqual(t, PoolingMean, m.Text.Pooling)
			}
			assert.Equal(t, len(m.Missing) == 0, m.Available())
		})
	}
	assert.Len(t, seen, len(Tags()))
}

func TestStatus(t *testing.T) {
	def, err := Lookup("")
	require.NoError(t, err)
	assert.Equal(t, "available", def.Status())
	assert.Contains(t, AvailableTags(), Default)
	for _, m := range All() {
		if !m.Available() {
			assert.True(t, strings.HasPrefix(m.Status(), "not yet available: needs "), m.Status())
			assert.NotContains(t, AvailableTags(), m.Tag)
		}
	}
}

func TestGraphs(t *testing.T) {
	def, err := Lookup(MultilingualB32)
	require.NoError(t, err)
	g := def.Text.Graphs
	assert.Equal(t, []string{"onnx/model_fp16.onnx", "onnx/model.onnx"}, g.For("fp16"))
	assert.Equal(t, []string{"onnx/model.onnx"}, g.Published("fp16"), "the local-only fp16 graph is never pulled")
	assert.Len(t, g.Published("int8"), 4)
	assert.Equal(t, g.FP32, g.For("anything else"))
}

func TestRepos(t *testing.T) {
	def, _ := Lookup(MultilingualB32)
	assert.Equal(t, []string{"sentence-transformers/clip-ViT-B-32-multilingual-v1", "Xenova/clip-vit-base-patch32"}, def.Repos())
	b32, _ := Lookup(CLIPB32)
	assert.Equal(t, []string{"Xenova/clip-vit-base-patch32"}, b32.Repos())
}

func TestOpenCLIPNames(t *testing.T) {
	for _, m := range All() {
		assert.Equal(t, m.Meta == MetaOpenCLIP, m.OpenCLIP != (OpenCLIPName{}), m.Tag)
	}
}

func TestTextPooling(t *testing.T) {
	mc, err := Lookup(MetaCLIP2B32)
	require.NoError(t, err)
	assert.Equal(t, PoolingEOS, mc.TextPooling(false), "new collections get the model's own pooling")
	assert.Equal(t, PoolingArgmax, mc.TextPooling(true), "under the switch, the image's")
	def, err := Lookup(Default)
	require.NoError(t, err)
	assert.Equal(t, PoolingMean, def.TextPooling(true))
	assert.Equal(t, PoolingMean, def.TextPooling(false))
}
