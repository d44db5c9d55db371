package inferenceapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
	"github.com/mclip-go/mclip/version"
)

// modelDir writes the two configurations /meta reads; an absent one is
// left out.
func modelDir(t *testing.T, visionConfig, textConfig string) modelstore.Dir {
	t.Helper()
	dir := modelstore.Dir{Root: t.TempDir()}
	for path, content := range map[string]string{dir.Vision(modelstore.VisionConfigJSON): visionConfig, dir.Text(modelstore.TextConfigJSON): textConfig} {
		if content == "" {
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	return dir
}

// The document keeps the Python container's keys and mclip's, in their
// order, and never the model directory's path.
func TestNewMeta(t *testing.T) {
	info := modelinfo.Info{
		Text:       modelinfo.Tower{Repo: "r/text", Revision: "local", File: "onnx/model.onnx", Variant: "fp32", FusedLayerNorms: 12},
		Vision:     modelinfo.Tower{Repo: "r/vision", Revision: "abc", File: "onnx/vision_model.onnx", Variant: "fp32", Optimized: "/o/v.onnx", OptimizedError: "read-only"},
		Dimensions: 512, Runtime: "1.24.0",
	}
	info.ModelDir = modelDir(t, `{"model_type": "clip"}`, `{"model_type":"distilbert"}`).Root
	meta, err := NewMeta(info, 16)
	require.NoError(t, err)
	b, err := json.Marshal(meta)
	require.NoError(t, err)
	v := version.Get()
	want := `{"clip_model":{"model_type":"clip"},"text_model":{"model_type":"distilbert"},"mclip":{` +
		`"text":{"repo":"r/text","revision":"local","file":"onnx/model.onnx","variant":"fp32","fusedLayerNorms":12},` +
		`"vision":{"repo":"r/vision","revision":"abc","file":"onnx/vision_model.onnx","variant":"fp32","optimized":"/o/v.onnx","fusedLayerNorms":0,"optimizedError":"read-only"},` +
		`"dimensions":512,"onnxruntime":"1.24.0","batchSize":16,"version":` + quote(t, v.Version) + `,"commit":` + quote(t, v.Commit) + `}}`
	assert.Equal(t, want, string(b))
	assert.NotContains(t, string(b), info.ModelDir)

	for _, tc := range []struct {
		name, vision, text, want string
	}{
		{"no CLIP configuration", "", `{}`, "/meta: "},
		{"no text configuration", `{}`, "", "/meta: "},
		{"invalid JSON", `{}`, `{"model_type":`, "is not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info.ModelDir = modelDir(t, tc.vision, tc.text).Root
			_, err := NewMeta(info, 16)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func quote(t *testing.T, s string) string {
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b)
}
