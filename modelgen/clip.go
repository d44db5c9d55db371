package modelgen

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mclip-go/mclip/modelfile/clipgraph"
	"github.com/mclip-go/mclip/modelfile/safetensors"
)

// CLIPArch is a CLIP architecture among the supported tags'.
type CLIPArch string

// The architectures of the CLIP tags, by what sets them apart.
const (
	// CLIPB32QuickGELU is OpenAI's ViT-B/32 at 224 with QuickGELU:
	// openai/clip-vit-base-patch32 (sentence-transformers' clip-ViT-B-32)
	// and open_clip's ViT-B-32-quickgelu.
	CLIPB32QuickGELU CLIPArch = "b32-224-quickgelu"
	// CLIPB16QuickGELU is openai/clip-vit-base-patch16.
	CLIPB16QuickGELU CLIPArch = "b16-224-quickgelu"
	// CLIPB16GELU is open_clip's ViT-B-16 (laion2b_s34b_b88k): exact GELU.
	CLIPB16GELU CLIPArch = "b16-224-gelu"
	// CLIPB32x384XLMV is facebook/metaclip-2-worldwide-b32-384: ViT-B/32
	// at 384 and XLM-V's 901,629-token vocabulary (EOS id 2).
	CLIPB32x384XLMV CLIPArch = "b32-384-xlmv"
)

// CLIPArchs lists the architectures.
var CLIPArchs = []CLIPArch{CLIPB32QuickGELU, CLIPB16QuickGELU, CLIPB16GELU, CLIPB32x384XLMV}

// XLMVVocab is XLM-V's vocabulary size; its <s>, <pad>, </s>, <unk> are
// ids 0, 1, 2, 3.
const XLMVVocab = 901629

// CLIPConfig returns an architecture's config at a size. Full is the
// published model's; Tiny keeps the vocabulary, the input size, the patch
// size, the activation and the 512-dim projection and shrinks the towers
// (hidden 32, 2 layers, 2 heads).
func CLIPConfig(arch CLIPArch, size Size) (clipgraph.Config, error) {
	c := clipgraph.DefaultConfig()
	c.Text.EOSTokenID = 2 // as OpenAI's config.json (legacy) and MetaCLIP 2's
	switch arch {
	case CLIPB32QuickGELU:
	case CLIPB16QuickGELU:
		c.Vision.PatchSize = 16
	case CLIPB16GELU:
		c.Vision.PatchSize = 16
		c.Text.HiddenAct, c.Vision.HiddenAct = clipgraph.GELU, clipgraph.GELU
	case CLIPB32x384XLMV:
		c.Vision.ImageSize = 384
		c.Text.VocabSize = XLMVVocab
		c.Text.HiddenAct, c.Vision.HiddenAct = clipgraph.GELU, clipgraph.GELU
	default:
		return clipgraph.Config{}, fmt.Errorf("unknown CLIP architecture %q (have %s)", arch, archNames())
	}
	if _, err := ParseSize(string(size)); err != nil {
		return clipgraph.Config{}, err
	}
	if size != Full {
		c.Text.HiddenSize, c.Text.IntermediateSize, c.Text.NumHiddenLayers, c.Text.NumAttentionHeads = 32, 64, 2, 2
		c.Vision.HiddenSize, c.Vision.IntermediateSize, c.Vision.NumHiddenLayers, c.Vision.NumAttentionHeads = 32, 64, 2, 2
	}
	return c, c.Validate()
}

func archNames() string {
	var s []string
	for _, a := range CLIPArchs {
		s = append(s, string(a))
	}
	return strings.Join(s, ", ")
}

// CLIPWeights draws random weights for a config under transformers'
// CLIPModel names and shapes (nn.Linear [out, in]), the text and vision
// towers from independent streams of seed. Linear weights are N(0, 1/in),
// biases and LayerNorm betas N(0, 0.1²), LayerNorm gammas N(1, 0.1²).
func CLIPWeights(c clipgraph.Config, seed int64) []safetensors.Tensor {
	var out []safetensors.Tensor
	w := newWeights(seed, streamText)
	put := func(name string, mean, std float64, shape ...int64) {
		n := 1
		for _, d := range shape {
			n *= int(d)
		}
		out = append(out, safetensors.Tensor{Name: name, Shape: shape, Data: w.normal(n, mean, std)})
	}
	linear := func(prefix string, in, outDim int, bias bool) {
		put(prefix+".weight", 0, 1/math.Sqrt(float64(in)), int64(outDim), int64(in))
		if bias {
			put(prefix+".bias", 0, 0.1, int64(outDim))
		}
	}
	ln := func(prefix string, d int) {
		put(prefix+".weight", 1, 0.1, int64(d))
		put(prefix+".bias", 0, 0.1, int64(d))
	}
	layers := func(prefix string, n, d, inter int) {
		for l := 0; l < n; l++ {
			p := fmt.Sprintf("%s.encoder.layers.%d.", prefix, l)
			ln(p+"layer_norm1", d)
			for _, proj := range []string{"q_proj", "k_proj", "v_proj", "out_proj"} {
				linear(p+"self_attn."+proj, d, d, true)
			}
			ln(p+"layer_norm2", d)
			linear(p+"mlp.fc1", d, inter, true)
			linear(p+"mlp.fc2", inter, d, true)
		}
	}
	t := c.Text
	put("text_model.embeddings.token_embedding.weight", 0, 1, int64(t.VocabSize), int64(t.HiddenSize))
	put("text_model.embeddings.position_embedding.weight", 0, 0.5, int64(t.MaxPositions), int64(t.HiddenSize))
	layers("text_model", t.NumHiddenLayers, t.HiddenSize, t.IntermediateSize)
	ln("text_model.final_layer_norm", t.HiddenSize)
	linear("text_projection", t.HiddenSize, c.ProjectionDim, false)

	w = newWeights(seed, streamVision)
	v := c.Vision
	put("vision_model.embeddings.class_embedding", 0, 1, int64(v.HiddenSize))
	put("vision_model.embeddings.patch_embedding.weight", 0, 1/math.Sqrt(float64(v.PatchSize*v.PatchSize*v.NumChannels)),
		int64(v.HiddenSize), int64(v.NumChannels), int64(v.PatchSize), int64(v.PatchSize))
	put("vision_model.embeddings.position_embedding.weight", 0, 0.5, int64(v.Positions()), int64(v.HiddenSize))
	ln("vision_model.pre_layrnorm", v.HiddenSize)
	layers("vision_model", v.NumHiddenLayers, v.HiddenSize, v.IntermediateSize)
	ln("vision_model.post_layernorm", v.HiddenSize)
	linear("visual_projection", v.HiddenSize, c.ProjectionDim, false)
	out = append(out, safetensors.Tensor{Name: "logit_scale", Shape: []int64{}, Data: []float32{float32(math.Log(1 / 0.07))}})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CLIPConfigJSON is a config.json of transformers' CLIPModel for a config
// (MetaClip2Model's for the XLM-V architecture, whose fields are the
// same): what transformers reads, and what clipgraph.ReadConfig reads.
func CLIPConfigJSON(arch CLIPArch, c clipgraph.Config) map[string]any {
	model, text, vision, archName := "clip", "clip_text_model", "clip_vision_model", "CLIPModel"
	if arch == CLIPB32x384XLMV {
		model, text, vision, archName = "metaclip_2", "metaclip_2_text_model", "metaclip_2_vision_model", "MetaClip2Model"
	}
	pad, bos := 1, 0
	return map[string]any{
		"architectures":          []string{archName},
		"initializer_factor":     1.0,
		"logit_scale_init_value": 2.6592,
		"model_type":             model,
		"projection_dim":         c.ProjectionDim,
		"torch_dtype":            "float32",
		"text_config": map[string]any{
			"bos_token_id": bos, "eos_token_id": c.Text.EOSTokenID, "pad_token_id": pad,
			"hidden_act": c.Text.HiddenAct, "hidden_size": c.Text.HiddenSize, "intermediate_size": c.Text.IntermediateSize,
			"layer_norm_eps": c.Text.LayerNormEps, "max_position_embeddings": c.Text.MaxPositions, "model_type": text,
			"num_attention_heads": c.Text.NumAttentionHeads, "num_hidden_layers": c.Text.NumHiddenLayers,
			"projection_dim": c.ProjectionDim, "vocab_size": c.Text.VocabSize,
		},
		"vision_config": map[string]any{
			"hidden_act": c.Vision.HiddenAct, "hidden_size": c.Vision.HiddenSize, "image_size": c.Vision.ImageSize,
			"intermediate_size": c.Vision.IntermediateSize, "layer_norm_eps": c.Vision.LayerNormEps, "model_type": vision,
			"num_attention_heads": c.Vision.NumAttentionHeads, "num_channels": c.Vision.NumChannels,
			"num_hidden_layers": c.Vision.NumHiddenLayers, "patch_size": c.Vision.PatchSize, "projection_dim": c.ProjectionDim,
		},
	}
}

// WriteCLIPCheckpoint writes config.json and model.safetensors of a
// transformers CLIPModel with random weights into dir, as the hub
// repository of the architecture's tag publishes them, and returns the
// config written.
func WriteCLIPCheckpoint(dir string, arch CLIPArch, size Size, seed int64, vocab int) (clipgraph.Config, error) {
	if size == "" {
		size = Tiny
	}
	c, err := CLIPConfig(arch, size)
	if err != nil {
		return c, err
	}
	if vocab != 0 {
		c.Text.VocabSize = vocab
		if err := c.Validate(); err != nil {
			return c, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return c, fmt.Errorf("create %s: %w", dir, err)
	}
	cj, err := json.MarshalIndent(CLIPConfigJSON(arch, c), "", "  ")
	if err != nil {
		return c, fmt.Errorf("encode config.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(cj, '\n'), 0o644); err != nil {
		return c, fmt.Errorf("write config.json: %w", err)
	}
	meta := map[string]string{"format": "pt", "generator": "mclip-modelgen", "arch": string(arch), "size": string(size)}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), CLIPWeights(c, seed), meta); err != nil {
		return c, err
	}
	return c, nil
}

// CLIP graph files WriteCLIPGraphs writes, as the Xenova exports name
// them.
const (
	CLIPTextGraph   = "onnx/text_model.onnx"
	CLIPVisionGraph = "onnx/vision_model.onnx"
)

// WriteCLIPGraphs builds the text and vision graphs of the checkpoint in
// dir (config.json and model.safetensors) with clipgraph, the text tower
// pooled by pool, into dir/onnx.
func WriteCLIPGraphs(dir string, pool clipgraph.Pooling) error {
	ck, err := clipgraph.OpenCheckpoint(filepath.Join(dir, "model.safetensors"), filepath.Join(dir, "config.json"))
	if err != nil {
		return err
	}
	defer ck.Close()
	if err := os.MkdirAll(filepath.Join(dir, "onnx"), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Join(dir, "onnx"), err)
	}
	if err := ck.WriteText(filepath.Join(dir, filepath.FromSlash(CLIPTextGraph)), pool); err != nil {
		return err
	}
	return ck.WriteVision(filepath.Join(dir, filepath.FromSlash(CLIPVisionGraph)))
}
