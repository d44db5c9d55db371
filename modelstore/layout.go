package modelstore

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
)

// The model directory contract shared by the towers, the generator and the
// hub download:
//
//	MODEL_DIR/text/    sentence-transformers/clip-ViT-B-32-multilingual-v1 files
//	MODEL_DIR/vision/  Xenova/clip-vit-base-patch32 files
const (
	TextDir   = "text"
	VisionDir = "vision"
)

// Files of the text tower, relative to MODEL_DIR/text.
const (
	TokenizerJSON       = "tokenizer.json"
	TextConfigJSON      = "config.json"
	ModulesJSON         = "modules.json"
	SentenceBertConfig  = "sentence_bert_config.json"
	PoolingConfigJSON   = "1_Pooling/config.json"
	DenseConfigJSON     = "2_Dense/config.json"
	DenseSafetensors    = "2_Dense/model.safetensors"
	TextONNXFP32        = "onnx/model.onnx"
	TextONNXInt8AVX2    = "onnx/model_quint8_avx2.onnx"
	TextONNXInt8AVX512  = "onnx/model_qint8_avx512.onnx"
	TextONNXInt8VNNI    = "onnx/model_qint8_avx512_vnni.onnx"
	TextONNXInt8ARM64   = "onnx/model_qint8_arm64.onnx"
	TextONNXFP16        = "onnx/model_fp16.onnx"
	VisionConfigJSON    = "config.json"
	PreprocessorConfig  = "preprocessor_config.json"
	VisionONNXFP32      = "onnx/vision_model.onnx"
	VisionONNXQuantized = "onnx/vision_model_quantized.onnx"
	VisionONNXFP16      = "onnx/vision_model_fp16.onnx"
)

// TextRequired lists the text files every variant of the default model
// needs besides its graph.
var TextRequired = defaultModel().Text.Required

// VisionRequired lists the vision files every variant of the default model
// needs besides its graph.
var VisionRequired = defaultModel().Vision.Required

func defaultModel() catalog.Model {
	m, err := catalog.Lookup(catalog.Default)
	if err != nil {
		panic(err) // the catalog always holds its default
	}
	return m
}

// Variant names a precision of the ONNX graphs.
type Variant string

const (
	VariantFP32 Variant = "fp32"
	VariantInt8 Variant = "int8"
	VariantFP16 Variant = "fp16"
	VariantAuto Variant = "auto"
)

// ParseVariant validates a variant name; empty means config.DefaultVariant.
func ParseVariant(s string) (Variant, error) {
	switch v := Variant(strings.ToLower(strings.TrimSpace(s))); v {
	case VariantFP32, VariantInt8, VariantFP16, VariantAuto:
		return v, nil
	case "":
		return Variant(config.DefaultVariant), nil
	default:
		return "", fmt.Errorf("unknown model variant %q: want fp32, int8, fp16 or auto", s)
	}
}

// TextGraphCandidates lists the default model's text graph files for a
// resolved variant, in order of preference.
func TextGraphCandidates(v Variant) []string { return defaultModel().Text.Graphs.For(string(v)) }

// VisionGraphCandidates lists the default model's vision graph files for a
// resolved variant.
func VisionGraphCandidates(v Variant) []string { return defaultModel().Vision.Graphs.For(string(v)) }

// Dir is a local model directory in the contract layout of a model.
type Dir struct {
	Root string
	// Model is the catalog tag whose files the directory holds; empty means
	// catalog.Default.
	Model string
	// Snapshot says that Root is a snapshot of the model's one hub
	// repository, its files as published (what `huggingface-cli download
	// REPO` writes), serving both towers, instead of the text/ and vision/
	// layout.
	Snapshot bool
	// BuiltText and BuiltVision, when set, are the towers' graphs built
	// from the repository's weights (BuildGraphs) for a model that
	// publishes no ONNX export.
	BuiltText, BuiltVision string
}

// Layout returns the catalog entry of the directory's model.
func (d Dir) Layout() (catalog.Model, error) { return catalog.Lookup(d.Model) }

// Text returns the path of a text-tower file.
func (d Dir) Text(rel string) string {
	return filepath.Join(d.towerRoot(TextDir), filepath.FromSlash(rel))
}

// towerRoot is the directory of a tower's files.
func (d Dir) towerRoot(tower string) string {
	if d.Snapshot {
		return d.Root
	}
	return filepath.Join(d.Root, tower)
}

// TowerRoot is the directory of a tower's files (TextDir or VisionDir).
func (d Dir) TowerRoot(tower string) string { return d.towerRoot(tower) }

// Vision returns the path of a vision-tower file.
func (d Dir) Vision(rel string) string {
	return filepath.Join(d.towerRoot(VisionDir), filepath.FromSlash(rel))
}

// TextGraph returns the text ONNX graph for the variant. A graph named
// explicitly (a path relative to MODEL_DIR/text ending in .onnx) is used as
// is; otherwise the first existing candidate of the variant is.
func (d Dir) TextGraph(v Variant) (string, error) {
	if d.BuiltText != "" {
		return d.BuiltText, nil
	}
	m, err := d.Layout()
	if err != nil {
		return "", err
	}
	return pickGraph(d.Text, TextDir, m.Text.Graphs.For(string(v)), v)
}

// VisionGraph returns the vision ONNX graph for the variant.
func (d Dir) VisionGraph(v Variant) (string, error) {
	if d.BuiltVision != "" {
		return d.BuiltVision, nil
	}
	m, err := d.Layout()
	if err != nil {
		return "", err
	}
	return pickGraph(d.Vision, VisionDir, m.Vision.Graphs.For(string(v)), v)
}

func pickGraph(join func(string) string, tower string, candidates []string, v Variant) (string, error) {
	for _, c := range candidates {
		p := join(c)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no %s graph for variant %s: none of %s exists under %s", tower, v,
		strings.Join(candidates, ", "), join(""))
}

// Missing returns the required files (tower-relative paths prefixed with
// their tower directory) absent from the directory, sorted. A graph that is
// missing is named by the file the hub download provides for the variant.
func (d Dir) Missing(v Variant) []string {
	m, err := d.Layout()
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, t := range []struct {
		tower string
		files catalog.Files
		join  func(string) string
		graph func(Variant) (string, error)
	}{
		{TextDir, m.Text.Files, d.Text, d.TextGraph},
		{VisionDir, m.Vision.Files, d.Vision, d.VisionGraph},
	} {
		prefix := t.tower + "/"
		if d.Snapshot {
			prefix = ""
		}
		for _, f := range t.files.Required {
			if _, err := os.Stat(t.join(f)); err != nil {
				out = append(out, prefix+f)
			}
		}
		if t.files.Weights != "" {
			// The graphs are built from the weights (BuildGraphs).
			if _, err := os.Stat(t.join(t.files.Weights)); err != nil {
				out = append(out, prefix+t.files.Weights)
			}
			continue
		}
		if _, err := t.graph(v); err != nil {
			g := t.files.Graphs.For(string(v))
			if pub := t.files.Graphs.Published(string(v)); len(pub) > 0 {
				g = pub
			}
			out = append(out, prefix+g[0])
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// LocalDir returns the model directory of a user's directory for a model:
// the text/ and vision/ layout, or, for a model whose towers come from one
// hub repository and a directory with neither text/ nor vision/, a
// snapshot of that repository as published.
func LocalDir(root string, model catalog.Model) Dir {
	d := Dir{Root: root, Model: dirModel(model.Tag)}
	for _, tower := range []string{TextDir, VisionDir} {
		if _, err := os.Stat(filepath.Join(root, tower)); err == nil {
			return d
		}
	}
	d.Snapshot = len(model.Repos()) == 1
	return d
}
