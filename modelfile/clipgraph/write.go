package clipgraph

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/modelfile/safetensors"
)

// InlineLimit is the most initializer bytes WriteModel keeps inside the
// .onnx file; a larger model (protobuf caps a message at 2 GiB) has its
// large tensors written to an external data file beside it.
const InlineLimit = 1 << 30

// externalThreshold is the smallest tensor moved to the external file.
const externalThreshold = 1 << 20

// ExternalDataName is the name of the external data file WriteModel
// writes beside path for a large model: path's base name + ".data".
func ExternalDataName(path string) string { return filepath.Base(path) + ".data" }

// WriteModel writes m to path, with its large tensors in
// ExternalDataName(path) when its weights exceed InlineLimit (ONNX
// Runtime finds that file beside the graph); it removes a stale data file
// otherwise. The write goes to temporary names renamed into place, so a
// failed conversion leaves no half-written graph behind.
func WriteModel(m *onnxpb.Model, path string) error {
	total := 0
	for _, t := range m.Graph.Initializers {
		total += len(t.Raw)
	}
	dataName := ExternalDataName(path)
	dataPath := filepath.Join(filepath.Dir(path), dataName)
	tmp := path + ".tmp"
	if total <= InlineLimit {
		if err := m.WriteFile(tmp); err != nil {
			os.Remove(tmp)
			return err
		}
		if err := os.Remove(dataPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			os.Remove(tmp)
			return fmt.Errorf("remove stale external data: %w", err)
		}
		return rename(tmp, path)
	}
	// The graph names its data file, so the data is written under its
	// final name; the graph, renamed last, is what makes the pair valid.
	if err := m.WriteFileExternal(tmp, dataName, externalThreshold); err != nil {
		os.Remove(tmp)
		os.Remove(dataPath)
		return err
	}
	return rename(tmp, path)
}

func rename(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write onnx model: %w", err)
	}
	return nil
}

// Checkpoint is an opened model checkpoint: its Config and its weights by
// transformers' names, read from a mapped safetensors file.
type Checkpoint struct {
	Config Config
	Source Source
	// OpenCLIP is true when the weights carry open_clip's names (and
	// Source maps them).
	OpenCLIP bool
	file     *safetensors.File
}

// OpenCheckpoint maps the safetensors file at weights (transformers'
// model.safetensors, or open_clip's open_clip_model.safetensors: told
// apart by their tensor names) and reads its config: config.json for
// transformers' layout, open_clip_config.json for open_clip's. Close
// releases the mapping once the graphs are written.
func OpenCheckpoint(weights, config string) (*Checkpoint, error) {
	f, err := safetensors.OpenMapped(weights)
	if err != nil {
		return nil, err
	}
	ck := &Checkpoint{file: f, Source: SafetensorsSource{File: f}}
	_, hf := f.Info("text_model.embeddings.token_embedding.weight")
	_, oc := f.Info("token_embedding.weight")
	switch {
	case hf:
		ck.Config, err = ReadConfig(config)
	case oc:
		ck.OpenCLIP = true
		ck.Source = OpenCLIPSource{Src: ck.Source}
		ck.Config, err = ReadOpenCLIPConfig(config)
	default:
		err = fmt.Errorf("%s holds neither transformers' CLIPModel weights (text_model.*) nor open_clip's (token_embedding.weight, visual.*)", weights)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return ck, nil
}

// Close releases the checkpoint's mapping.
func (c *Checkpoint) Close() error { return c.file.Close() }

// WriteText builds the text graph (see Text) and writes it to path (see
// WriteModel).
func (c *Checkpoint) WriteText(path string, pool Pooling) error {
	m, err := Text(c.Config, c.Source, pool)
	if err != nil {
		return err
	}
	return WriteModel(m, path)
}

// WriteVision builds the vision graph (see Vision) and writes it to path
// (see WriteModel).
func (c *Checkpoint) WriteVision(path string) error {
	m, err := Vision(c.Config, c.Source)
	if err != nil {
		return err
	}
	return WriteModel(m, path)
}
