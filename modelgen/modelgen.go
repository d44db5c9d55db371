// Package modelgen writes a complete model directory in the layout of
// package modelstore — sentence-transformers' clip-ViT-B-32-multilingual-v1
// text tower (DistilBERT, mean pooling, Dense 768->512) and the CLIP
// ViT-B/32 vision tower of Xenova/clip-vit-base-patch32 — with
// deterministic random weights, at the real size or a tiny one for tests.
//
// The ONNX graphs compute exactly what Hugging Face's DistilBertModel and
// CLIPVisionModelWithProjection compute. Linear layer weights are stored in
// MatMul layout [in, out] under the PyTorch parameter names.
package modelgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/modelfile/safetensors"
	"github.com/mclip-go/mclip/modelgen/vocab"
	"github.com/mclip-go/mclip/modelstore"
)

// Size selects the model dimensions.
type Size string

// Sizes.
const (
	// Tiny has small hidden sizes and vocabulary but the real input and
	// output shapes (224x224 images, 512-dim vectors).
	Tiny Size = "tiny"
	// Full has the real model's dimensions.
	Full Size = "full"
)

// ParseSize validates a size name.
func ParseSize(s string) (Size, error) {
	switch Size(strings.ToLower(strings.TrimSpace(s))) {
	case Tiny:
		return Tiny, nil
	case Full:
		return Full, nil
	default:
		return "", fmt.Errorf("unknown model size %q: want tiny or full", s)
	}
}

// Towers selects which towers to write.
type Towers uint8

// Tower selections; the zero value means both.
const (
	TowerText Towers = 1 << iota
	TowerVision
	BothTowers = TowerText | TowerVision
)

// ParseTowers parses a comma-separated list of "text" and "vision".
func ParseTowers(s string) (Towers, error) {
	var t Towers
	for _, part := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(part)) {
		case "text":
			t |= TowerText
		case "vision", "image":
			t |= TowerVision
		case "both", "all":
			t |= BothTowers
		default:
			return 0, fmt.Errorf("unknown tower %q: want text, vision or both", part)
		}
	}
	return t, nil
}

// Options configure Generate.
type Options struct {
	// Model is the catalog tag whose layout to write; empty means
	// catalog.Default.
	Model  string
	Out    string // MODEL_DIR to write into; created if missing
	Size   Size   // Tiny when empty
	Seed   int64
	Towers Towers // both when zero
	// Int8 also writes the dynamically quantized graphs
	// (text/onnx/model_quint8_avx2.onnx, vision/onnx/vision_model_quantized.onnx).
	Int8 bool
	// FP16 also writes float16 graphs with float32 inputs and outputs
	// (text/onnx/model_fp16.onnx, vision/onnx/vision_model_fp16.onnx).
	FP16 bool
}

// File is one written file.
type File struct {
	Path string // relative to Options.Out, slash-separated
	Size int64
}

// Generate writes the model directory.
func Generate(opts Options) error {
	_, err := Write(opts)
	return err
}

// Write writes the model directory and lists the files written.
func Write(opts Options) ([]File, error) {
	if opts.Out == "" {
		return nil, errors.New("no output directory given")
	}
	if opts.Size == "" {
		opts.Size = Tiny
	}
	if _, err := ParseSize(string(opts.Size)); err != nil {
		return nil, err
	}
	if opts.Towers == 0 {
		opts.Towers = BothTowers
	}
	model, err := catalog.Lookup(opts.Model)
	if err != nil {
		return nil, err
	}
	w := &writer{root: opts.Out, int8: opts.Int8, fp16: opts.FP16}
	text, vision := opts.Towers&TowerText != 0, opts.Towers&TowerVision != 0
	// The CLIPModel tags whose repository publishes both towers from one
	// checkpoint: the generator draws both from one set of weights.
	if arch, ok := clipModelArchs[model.Tag]; ok {
		return w.files, w.clipTowers(arch, opts.Size, opts.Seed, text, vision)
	}
	if model.Tag == catalog.MetaCLIP2B32 {
		if err := os.MkdirAll(opts.Out, 0o755); err != nil {
			return nil, err
		}
		return w.files, w.clipWeights(CLIPB32x384XLMV, opts.Size, opts.Seed, text, vision)
	}
	if text {
		var err error
		switch {
		case model.Text.Tower == catalog.TextSentenceTransformers:
			err = w.text(TextParamsFor(opts.Size), opts.Seed)
		case model.Tag == catalog.CLIPB32:
			// clipTowers names the tower in its errors.
			if err := w.clipTowers(CLIPB32QuickGELU, opts.Size, opts.Seed, true, false); err != nil {
				return w.files, err
			}
		default:
			err = fmt.Errorf("the generator does not write model %s yet", model.Tag)
		}
		if err != nil {
			return w.files, fmt.Errorf("text tower: %w", err)
		}
	}
	if vision {
		// The other tags' vision tower is the default model's: OpenAI's
		// ViT-B/32 in Xenova's layout.
		if def, _ := catalog.Lookup(""); model.Vision.Repo != def.Vision.Repo {
			return w.files, fmt.Errorf("vision tower: the generator does not write model %s's yet", model.Tag)
		}
		if err := w.vision(VisionParamsFor(opts.Size), opts.Seed); err != nil {
			return w.files, fmt.Errorf("vision tower: %w", err)
		}
	}
	return w.files, nil
}

// clipModelArchs are the architectures of the tags whose two towers the
// generator builds from one CLIPModel checkpoint.
var clipModelArchs = map[string]CLIPArch{
	catalog.OpenAIB16: CLIPB16QuickGELU,
}

type writer struct {
	root  string
	int8  bool
	fp16  bool
	files []File
}

func (w *writer) text(p TextParams, seed int64) error {
	dir := modelstore.TextDir
	var tok bytes.Buffer
	if err := vocab.WriteTokenizerJSON(&tok, p.Vocab); err != nil {
		return err
	}
	if err := w.bytes(dir, modelstore.TokenizerJSON, tok.Bytes()); err != nil {
		return err
	}
	for _, j := range []struct {
		rel string
		v   any
	}{
		{modelstore.TextConfigJSON, textConfig(p)},
		{modelstore.ModulesJSON, modulesJSON()},
		{modelstore.SentenceBertConfig, sentenceBertConfig(p)},
		{modelstore.PoolingConfigJSON, poolingConfig(p)},
		{modelstore.DenseConfigJSON, denseConfig(p)},
	} {
		if err := w.json(dir, j.rel, j.v); err != nil {
			return err
		}
	}
	rng := newWeights(seed, streamText)
	if err := w.graph(dir, textGraph(p, rng), modelstore.TextONNXFP32, modelstore.TextONNXInt8AVX2, modelstore.TextONNXFP16); err != nil {
		return err
	}
	dense := rng.normal(p.DenseOut*p.Dim, 0, 1/sqrt(p.Dim))
	return w.create(dir, modelstore.DenseSafetensors, func(path string) error {
		return safetensors.WriteFile(path, []safetensors.Tensor{
			{Name: "linear.weight", Shape: []int64{int64(p.DenseOut), int64(p.Dim)}, Data: dense},
		}, map[string]string{"format": "pt"})
	})
}

func (w *writer) vision(p VisionParams, seed int64) error {
	dir := modelstore.VisionDir
	if err := w.json(dir, modelstore.VisionConfigJSON, visionConfig(p)); err != nil {
		return err
	}
	if err := w.json(dir, modelstore.PreprocessorConfig, preprocessorConfig(p)); err != nil {
		return err
	}
	return w.graph(dir, visionGraph(p, newWeights(seed, streamVision)),
		modelstore.VisionONNXFP32, modelstore.VisionONNXQuantized, modelstore.VisionONNXFP16)
}

func (w *writer) json(dir, rel string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", rel, err)
	}
	return w.bytes(dir, rel, append(b, '\n'))
}

func (w *writer) bytes(dir, rel string, b []byte) error {
	return w.create(dir, rel, func(path string) error {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", rel, err)
		}
		return nil
	})
}

// graph writes the fp32 model at rel and, when asked, its int8 and fp16
// variants.
func (w *writer) graph(dir string, m *onnxpb.Model, rel, int8Rel, fp16Rel string) error {
	if err := w.create(dir, rel, m.WriteFile); err != nil {
		return err
	}
	if w.int8 {
		q, err := quantizeDynamic(m)
		if err != nil {
			return fmt.Errorf("%s: %w", int8Rel, err)
		}
		if err := w.create(dir, int8Rel, q.WriteFile); err != nil {
			return err
		}
	}
	if w.fp16 {
		h, err := convertFloat16(m)
		if err != nil {
			return fmt.Errorf("%s: %w", fp16Rel, err)
		}
		if err := w.create(dir, fp16Rel, h.WriteFile); err != nil {
			return err
		}
	}
	return nil
}

// create makes the parent directories of dir/rel, lets write produce the
// file, and records it.
func (w *writer) create(dir, rel string, write func(path string) error) error {
	name := dir + "/" + rel
	path := filepath.Join(w.root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", name, err)
	}
	if err := write(path); err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat %s: %w", name, err)
	}
	w.files = append(w.files, File{Path: name, Size: st.Size()})
	return nil
}
