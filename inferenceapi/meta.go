package inferenceapi

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
	"github.com/mclip-go/mclip/version"
)

// Meta is GET /meta: the Python container's keys, clip_model (the CLIP
// configuration, the vision tower's config.json) and text_model (the
// multilingual text model's config.json), and mclip's own.
type Meta struct {
	ClipModel json.RawMessage `json:"clip_model"`
	TextModel json.RawMessage `json:"text_model"`
	Mclip     MclipMeta       `json:"mclip"`
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

// NewMeta builds the /meta document of the models info describes, reading
// the two configurations from their model directory.
func NewMeta(info modelinfo.Info, batchSize int) (Meta, error) {
	dir := modelstore.Dir{Root: info.ModelDir}
	read := func(path string) (json.RawMessage, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("/meta: %w", err)
		}
		if !json.Valid(b) {
			return nil, fmt.Errorf("/meta: %s is not valid JSON", path)
		}
		return json.RawMessage(b), nil
	}
	clip, err := read(dir.Vision(modelstore.VisionConfigJSON))
	if err != nil {
		return Meta{}, err
	}
	text, err := read(dir.Text(modelstore.TextConfigJSON))
	if err != nil {
		return Meta{}, err
	}
	return Meta{ClipModel: clip, TextModel: text, Mclip: MclipMeta{
		Info: info, BatchSize: batchSize, Version: version.Get().Version, Commit: version.Get().Commit,
	}}, nil
}
