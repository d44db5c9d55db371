package module

import (
	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
	"github.com/mclip-go/mclip/version"
)

// MetaInfo reports the models, their dimensions, the ONNX Runtime version
// and mclip's version and commit under the module's entry of /v1/meta.
func (m *Module) MetaInfo() (map[string]any, error) {
	model := func(t modelinfo.Tower) map[string]any {
		return map[string]any{"repo": t.Repo, "revision": t.Revision, "file": t.File, "variant": t.Variant}
	}
	tag := m.meta.Model
	if tag == "" {
		tag = catalog.Default
	}
	info := map[string]any{
		"name":        m.Name(),
		"model":       tag,
		"textModel":   model(m.meta.Text),
		"visionModel": model(m.meta.Vision),
		"dimensions":  m.meta.Dimensions,
		"onnxruntime": m.meta.Runtime,
		"version":     version.Get().Version,
		"commit":      version.Get().Commit,
	}
	if m.meta.TextPooling != "" {
		info["textPooling"] = m.meta.TextPooling
	}
	if m.Name() == ClipName {
		info["servedBy"] = "mclip, in-process (" + config.EnvReplaceClip + "=true); CLIP_INFERENCE_API is not used"
		info["vectorsOf"] = "semitechnologies/multi2vec-clip:" + tag + " (" + config.EnvModel + ")"
	}
	return info, nil
}
