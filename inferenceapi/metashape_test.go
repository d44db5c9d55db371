package inferenceapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
)

// /meta takes the shape of the model's own image: its keys first, in their
// order, then mclip's section naming the model.
func TestNewMetaShapes(t *testing.T) {
	tests := []struct {
		name, model string
		files       map[string]string
		want        string
		wantErr     string
	}{
		{name: "sentence-transformers image", model: catalog.CLIPB32,
			files: map[string]string{"vision/config.json": `{"model_type":"clip"}`, "text/config.json": `{"model_type":"clip","projection_dim":512}`},
			want:  `{"clip_model":{"model_type":"clip"},"text_model":{"model_type":"clip","projection_dim":512},"mclip":`},
		{name: "CLIPModel image: the configuration itself", model: catalog.OpenAIB16,
			files: map[string]string{"text/config.json": "{\n  \"projection_dim\": 512,\n  \"model_type\": \"clip\"\n}"},
			want:  `{"projection_dim":512,"model_type":"clip","mclip":`},
		{name: "CLIPModel image, configuration not an object", model: catalog.MetaCLIP2B32,
			files: map[string]string{"text/config.json": `[1]`}, wantErr: "is not a JSON object"},
		{name: "CLIPModel image, no configuration", model: catalog.MetaCLIP2B32, wantErr: "/meta: "},
		{name: "open_clip image", model: catalog.OpenCLIPB32,
			files: map[string]string{"text/open_clip_config.json": `{"model_cfg":{"embed_dim":512,"quick_gelu":true},"preprocess_cfg":{}}`},
			want:  `{"model_name":"ViT-B-32-quickgelu","pretrained":"laion400m_e32","model_config":{"embed_dim":512,"quick_gelu":true},"cache_dir":"./models/openclip","mclip":`},
		{name: "open_clip image without model_cfg", model: catalog.OpenCLIPB16,
			files: map[string]string{"text/open_clip_config.json": `{}`}, wantErr: "has no model_cfg"},
		{name: "unknown model", model: "nope", wantErr: `unknown model "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, content := range tt.files {
				p := filepath.Join(root, rel)
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
			}
			info := modelinfo.Info{Model: tt.model, Dimensions: 512, ModelDir: root}
			meta, err := NewMeta(info, 8)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			b, err := json.Marshal(meta)
			require.NoError(t, err)
			assert.Contains(t, string(b), tt.want)
			var mclip map[string]any
			require.NoError(t, json.Unmarshal(mclipPart(t, b), &mclip))
			assert.Equal(t, tt.model, mclip["model"])
			assert.NotContains(t, string(b), root)
		})
	}
}

func mclipPart(t *testing.T, b []byte) json.RawMessage {
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &doc))
	return doc["mclip"]
}
