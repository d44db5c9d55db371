package module

import (
	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/version"
)

// ModelMeta describes one loaded tower.
type ModelMeta struct {
	Repo     string `json:"repo"`
	Revision string `json:"revision"`
	File     string `json:"file"`
	Variant  string `json:"variant"`
	// FusedLayerNorms and OptimizedError are logged at start-up (see
	// vectorizer.ModelInfo); /v1/meta leaves them out.
	FusedLayerNorms int    `json:"-"`
	OptimizedError  string `json:"-"`
}

// Meta describes the loaded models, as /v1/meta shows them.
type Meta struct {
	Text       ModelMeta `json:"text"`
	Vision     ModelMeta `json:"vision"`
	Dimensions int       `json:"dimensions"`
	Runtime    string    `json:"onnxruntime"`
}

// MetaInfo reports the models, their dimensions, the ONNX Runtime version
// and mclip's version and commit under the module's entry of /v1/meta.
func (m *Module) MetaInfo() (map[string]any, error) {
	model := func(mm ModelMeta) map[string]any {
		return map[string]any{"repo": mm.Repo, "revision": mm.Revision, "file": mm.File, "variant": mm.Variant}
	}
	info := map[string]any{
		"name":        m.Name(),
		"textModel":   model(m.meta.Text),
		"visionModel": model(m.meta.Vision),
		"dimensions":  m.meta.Dimensions,
		"onnxruntime": m.meta.Runtime,
		"version":     version.Get().Version,
		"commit":      version.Get().Commit,
	}
	if m.Name() == ClipName {
		info["servedBy"] = "mclip, in-process (" + config.EnvReplaceClip + "=true); CLIP_INFERENCE_API is not used"
	}
	return info, nil
}
