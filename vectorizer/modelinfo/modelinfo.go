// Package modelinfo describes the models a vectorizer loaded: which graph of
// which repository and revision runs each tower, how it was optimized, on
// which ONNX Runtime. It is the one description that the start-up logs, the
// module's entry of Weaviate's /v1/meta and `mclip serve`'s /meta derive
// from. It imports nothing of the runtime, so that the HTTP API can use it.
package modelinfo

import "github.com/mclip-go/mclip/config"

// Tower describes one loaded tower.
type Tower struct {
	Repo     string `json:"repo"`
	Revision string `json:"revision"`
	File     string `json:"file"`
	Variant  string `json:"variant"`
	// Optimized is the optimized copy of File that was loaded, if any.
	Optimized string `json:"optimized,omitempty"`
	// FusedLayerNorms counts the Add + LayerNormalization pairs that run
	// as one SkipLayerNormalization (see package graphfuse).
	FusedLayerNorms int `json:"fusedLayerNorms"`
	// OptimizedError says why the optimized-graph cache was not used (the
	// graph then loaded as it is) or was rebuilt.
	OptimizedError string `json:"optimizedError,omitempty"`
}

// Info describes the loaded models.
type Info struct {
	// Model is the catalog tag of the models (MCLIP_MODEL); empty in a
	// description built by hand means the default.
	Model string `json:"model,omitempty"`
	// TextPooling is the text tower's pooling where the catalog offers a
	// choice (the image's own, under the replace switch, or the model's).
	TextPooling string `json:"textPooling,omitempty"`
	Text        Tower  `json:"text"`
	Vision      Tower  `json:"vision"`
	Dimensions  int    `json:"dimensions"`
	Runtime     string `json:"onnxruntime"`
	// ModelDir is the model directory's path; it stays out of every
	// response (no file paths in responses).
	ModelDir string `json:"-"`
}

// CacheWarning is the start-up warning logged for each tower whose
// optimized-graph cache could not be used (see CacheProblems).
const CacheWarning = "optimized-graph cache: the entry was rebuilt, or the graph loaded unoptimized (slower start, no fusion); see " + config.EnvOptimizedDir

// CacheProblems returns, by tower ("text", "vision"), why the
// optimized-graph cache was not used or was rebuilt; towers without a
// problem are left out.
func (i Info) CacheProblems() map[string]string {
	out := map[string]string{}
	for tower, t := range map[string]Tower{"text": i.Text, "vision": i.Vision} {
		if t.OptimizedError != "" {
			out[tower] = t.OptimizedError
		}
	}
	return out
}
