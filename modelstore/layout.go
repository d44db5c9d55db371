package modelstore

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

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

// TextRequired lists the text files every variant needs besides its graph.
var TextRequired = []string{
	TokenizerJSON, TextConfigJSON, ModulesJSON, SentenceBertConfig,
	PoolingConfigJSON, DenseConfigJSON, DenseSafetensors,
}

// VisionRequired lists the vision files every variant needs besides its graph.
var VisionRequired = []string{VisionConfigJSON, PreprocessorConfig}

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

// TextGraphCandidates lists the text graph files for a resolved variant, in
// order of preference.
func TextGraphCandidates(v Variant) []string {
	switch v {
	case VariantInt8:
		return []string{TextONNXInt8AVX2, TextONNXInt8AVX512, TextONNXInt8VNNI, TextONNXInt8ARM64}
	case VariantFP16:
		// The text repository publishes no fp16 graph: a local model_fp16.onnx
		// wins, else the fp32 graph (what the hub download provides).
		return []string{TextONNXFP16, TextONNXFP32}
	default:
		return []string{TextONNXFP32}
	}
}

// VisionGraphCandidates lists the vision graph files for a resolved variant.
func VisionGraphCandidates(v Variant) []string {
	switch v {
	case VariantInt8:
		return []string{VisionONNXQuantized}
	case VariantFP16:
		return []string{VisionONNXFP16}
	default:
		return []string{VisionONNXFP32}
	}
}

// Dir is a local model directory in the contract layout.
type Dir struct {
	Root string
}

// Text returns the path of a text-tower file.
func (d Dir) Text(rel string) string { return filepath.Join(d.Root, TextDir, filepath.FromSlash(rel)) }

// Vision returns the path of a vision-tower file.
func (d Dir) Vision(rel string) string {
	return filepath.Join(d.Root, VisionDir, filepath.FromSlash(rel))
}

// TextGraph returns the text ONNX graph for the variant. A graph named
// explicitly (a path relative to MODEL_DIR/text ending in .onnx) is used as
// is; otherwise the first existing candidate of the variant is.
func (d Dir) TextGraph(v Variant) (string, error) {
	return pickGraph(d.Text, TextDir, TextGraphCandidates(v), v)
}

// VisionGraph returns the vision ONNX graph for the variant.
func (d Dir) VisionGraph(v Variant) (string, error) {
	return pickGraph(d.Vision, VisionDir, VisionGraphCandidates(v), v)
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
// their tower directory) absent from the directory, sorted.
func (d Dir) Missing(v Variant) []string {
	var out []string
	for _, f := range TextRequired {
		if _, err := os.Stat(d.Text(f)); err != nil {
			out = append(out, TextDir+"/"+f)
		}
	}
	if _, err := d.TextGraph(v); err != nil {
		g := TextGraphCandidates(v)[0]
		if v == VariantFP16 {
			g = TextONNXFP32 // what the hub download provides for fp16
		}
		out = append(out, TextDir+"/"+g)
	}
	for _, f := range VisionRequired {
		if _, err := os.Stat(d.Vision(f)); err != nil {
			out = append(out, VisionDir+"/"+f)
		}
	}
	if _, err := d.VisionGraph(v); err != nil {
		out = append(out, VisionDir+"/"+VisionGraphCandidates(v)[0])
	}
	sort.Strings(out)
	return out
}
