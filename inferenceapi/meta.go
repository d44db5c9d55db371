package inferenceapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
	"github.com/mclip-go/mclip/version"
)

// Meta is GET /meta, shaped as the /meta of the multi2vec-clip image of the
// model (catalog.MetaShape), with mclip's own section added under "mclip":
//
//   - sentence-transformers images: clip_model (the CLIP configuration, the
//     vision tower's config.json) and text_model (the text model's
//     config.json);
//   - transformers CLIPModel images: the CLIP configuration itself (the
//     text tower's config.json, which holds text_config and vision_config);
//   - open_clip images: model_name, pretrained, model_config (the model's
//     open_clip configuration) and cache_dir, as that image's download.py
//     writes them.
type Meta struct {
	ClipModel json.RawMessage `json:"clip_model"`
	TextModel json.RawMessage `json:"text_model"`
	Mclip     MclipMeta       `json:"mclip"`

	// doc is the image's document for the shapes other than
	// sentence-transformers' (ClipModel and TextModel are then unused).
	doc json.RawMessage
}

// MclipMeta is mclip's part of /meta: which graphs run, on what, in which
// batches, by which mclip. The model directory's path stays out (no file
// paths in responses).
type MclipMeta struct {
	modelinfo.Info
	BatchSize int    `json:"batchSize"`
	Version   string `json:"version"`
	Commit    string `json:"commit"`
}

// openCLIPCacheDir is where the open_clip images keep their weights; their
// /meta names it.
const openCLIPCacheDir = "./models/openclip"

// NewMeta builds the /meta document of the models info describes, reading
// the configurations from their model directory.
func NewMeta(info modelinfo.Info, batchSize int) (Meta, error) {
	model, err := catalog.Lookup(info.Model)
	if err != nil {
		return Meta{}, fmt.Errorf("/meta: %w", err)
	}
	dir := modelstore.Dir{Root: info.ModelDir, Model: info.Model}
	mclip := MclipMeta{Info: info, BatchSize: batchSize, Version: version.Get().Version, Commit: version.Get().Commit}
	switch model.Meta {
	case catalog.MetaCLIPConfig:
		clip, err := readJSON(dir.Text(modelstore.TextConfigJSON))
		if err != nil {
			return Meta{}, err
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(clip, &obj); err != nil {
			return Meta{}, fmt.Errorf("/meta: %s is not a JSON object", dir.Text(modelstore.TextConfigJSON))
		}
		return Meta{Mclip: mclip, doc: clip}, nil
	case catalog.MetaOpenCLIP:
		cfg, err := readJSON(dir.Text(openCLIPConfigJSON))
		if err != nil {
			return Meta{}, err
		}
		var oc struct {
			ModelCfg json.RawMessage `json:"model_cfg"`
		}
		if err := json.Unmarshal(cfg, &oc); err != nil || len(oc.ModelCfg) == 0 {
			return Meta{}, fmt.Errorf("/meta: %s has no model_cfg object", dir.Text(openCLIPConfigJSON))
		}
		doc, err := json.Marshal(struct {
			ModelName   string          `json:"model_name"`
			Pretrained  string          `json:"pretrained"`
			ModelConfig json.RawMessage `json:"model_config"`
			CacheDir    string          `json:"cache_dir"`
		}{model.OpenCLIP.Model, model.OpenCLIP.Pretrained, oc.ModelCfg, openCLIPCacheDir})
		if err != nil {
			return Meta{}, fmt.Errorf("/meta: %w", err)
		}
		return Meta{Mclip: mclip, doc: doc}, nil
	}
	clip, err := readJSON(dir.Vision(modelstore.VisionConfigJSON))
	if err != nil {
		return Meta{}, err
	}
	text, err := readJSON(dir.Text(modelstore.TextConfigJSON))
	if err != nil {
		return Meta{}, err
	}
	return Meta{ClipModel: clip, TextModel: text, Mclip: mclip}, nil
}

// openCLIPConfigJSON is the open_clip configuration a hub repository of
// open_clip weights publishes (its model_cfg is what open_clip's
// get_model_config returns).
const openCLIPConfigJSON = "open_clip_config.json"

func readJSON(path string) (json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("/meta: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("/meta: %s is not valid JSON", path)
	}
	return json.RawMessage(b), nil
}

// MarshalJSON writes the document: the image's keys in their order, then
// "mclip".
func (m Meta) MarshalJSON() ([]byte, error) {
	mclip, err := json.Marshal(m.Mclip)
	if err != nil {
		return nil, err
	}
	if m.doc == nil {
		type plain Meta // the sentence-transformers shape, the struct's fields
		return json.Marshal(plain(m))
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, m.doc); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("/meta: the model's configuration is not a JSON object")
	}
	out := append([]byte{}, b[:len(b)-1]...)
	if len(b) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"mclip":`...)
	out = append(out, mclip...)
	return append(out, '}'), nil
}
