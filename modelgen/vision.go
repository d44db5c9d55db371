package modelgen

import (
	"fmt"
	"math"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

// VisionParams are the dimensions of the CLIP ViT vision tower.
type VisionParams struct {
	Hidden, Layers, Heads, Intermediate int
	ImageSize, PatchSize, Channels      int
	ProjectionDim                       int
}

// VisionLayerNormEps is CLIP's LayerNorm epsilon.
const VisionLayerNormEps = 1e-5

// VisionParamsFor returns the vision tower dimensions of a size.
func VisionParamsFor(s Size) VisionParams {
	if s == Full {
		return VisionParams{Hidden: 768, Layers: 12, Heads: 12, Intermediate: 3072, ImageSize: 224, PatchSize: 32, Channels: 3, ProjectionDim: 512}
	}
	return VisionParams{Hidden: 32, Layers: 2, Heads: 2, Intermediate: 64, ImageSize: 224, PatchSize: 32, Channels: 3, ProjectionDim: 512}
}

// Positions returns the number of tokens: patches plus the class token.
func (p VisionParams) Positions() int {
	n := p.ImageSize / p.PatchSize
	return n*n + 1
}

// visionGraph builds CLIPVisionModelWithProjection as Hugging Face computes
// it: input pixel_values float [batch_size, 3, 224, 224], outputs
// image_embeds [batch_size, 512] and last_hidden_state [batch_size, 50,
// hidden].
func visionGraph(p VisionParams, w *weights) *onnxpb.Model {
	b := newGraph("clip_vision", w)
	g := b.g
	g.Inputs = []onnxpb.ValueInfo{{Name: "pixel_values", ElemType: onnxpb.TypeFloat, Shape: []onnxpb.Dim{
		onnxpb.P("batch_size"), onnxpb.D(int64(p.Channels)), onnxpb.D(int64(p.ImageSize)), onnxpb.D(int64(p.ImageSize)),
	}}}
	g.Outputs = []onnxpb.ValueInfo{
		{Name: "image_embeds", ElemType: onnxpb.TypeFloat, Shape: []onnxpb.Dim{onnxpb.P("batch_size"), onnxpb.D(int64(p.ProjectionDim))}},
		{Name: "last_hidden_state", ElemType: onnxpb.TypeFloat, Shape: []onnxpb.Dim{
			onnxpb.P("batch_size"), onnxpb.D(int64(p.Positions())), onnxpb.D(int64(p.Hidden))}},
	}
	d := int64(p.Hidden)
	ps := int64(p.PatchSize)

	// Embeddings: class token, 32x32/32 patch convolution without bias,
	// learned positions.
	cls := b.normal("vision_model.embeddings.class_embedding", 0, 1, d)
	conv := b.normal("vision_model.embeddings.patch_embedding.weight", 0, 1/math.Sqrt(float64(ps*ps*int64(p.Channels))), d, int64(p.Channels), ps, ps)
	posEmb := b.normal("vision_model.embeddings.position_embedding.weight", 0, 0.5, int64(p.Positions()), d)
	patches := b.op("Conv", []string{"pixel_values", conv},
		onnxpb.Ints("kernel_shape", ps, ps), onnxpb.Ints("strides", ps, ps))
	patches = b.op("Reshape", []string{patches, b.constI64([]int64{0, d, -1}, 3)})
	patches = b.op("Transpose", []string{patches}, onnxpb.Ints("perm", 0, 2, 1))
	batch := b.op("Slice", []string{b.op("Shape", []string{"pixel_values"}), b.constI64([]int64{0}, 1), b.constI64([]int64{1}, 1)})
	clsShape := b.op("Concat", []string{batch, b.constI64([]int64{1, d}, 2)}, onnxpb.Int("axis", 0))
	clsTok := b.op("Reshape", []string{cls, b.constI64([]int64{1, 1, d}, 3)})
	clsTok = b.op("Expand", []string{clsTok, clsShape})
	x := b.op("Concat", []string{clsTok, patches}, onnxpb.Int("axis", 1))
	x = b.op("Add", []string{x, posEmb})
	x = b.layerNorm(x, "vision_model.pre_layrnorm", p.Hidden, VisionLayerNormEps, "")

	for l := 0; l < p.Layers; l++ {
		pre := fmt.Sprintf("vision_model.encoder.layers.%d.", l)
		h := b.layerNorm(x, pre+"layer_norm1", p.Hidden, VisionLayerNormEps, "")
		h = b.attention(h, attnNames{
			q: pre + "self_attn.q_proj", k: pre + "self_attn.k_proj",
			v: pre + "self_attn.v_proj", out: pre + "self_attn.out_proj",
		}, p.Hidden, p.Heads, "")
		x = b.op("Add", []string{x, h})
		h = b.layerNorm(x, pre+"layer_norm2", p.Hidden, VisionLayerNormEps, "")
		h = b.linear(h, pre+"mlp.fc1", p.Hidden, p.Intermediate, true)
		h = b.op("Mul", []string{h, b.op("Sigmoid", []string{b.op("Mul", []string{h, b.constF32(1.702)})})})
		h = b.linear(h, pre+"mlp.fc2", p.Intermediate, p.Hidden, true)
		if l == p.Layers-1 {
			x = b.opTo("last_hidden_state", "Add", []string{x, h})
		} else {
			x = b.op("Add", []string{x, h})
		}
	}
	pooled := b.op("Gather", []string{x, b.constI64([]int64{0})}, onnxpb.Int("axis", 1))
	pooled = b.layerNorm(pooled, "vision_model.post_layernorm", p.Hidden, VisionLayerNormEps, "")
	proj := b.normal("visual_projection.weight", 0, 1/math.Sqrt(float64(p.Hidden)), d, int64(p.ProjectionDim))
	b.opTo("image_embeds", "MatMul", []string{pooled, proj})
	return b.model("CLIP ViT-B/32 vision tower with random weights; linear weights are stored [in, out]")
}

// visionConfig is CLIPConfig as in Xenova/clip-vit-base-patch32's
// config.json, with the vision tower's dimensions.
func visionConfig(p VisionParams) map[string]any {
	return map[string]any{
		"_name_or_path":          "openai/clip-vit-base-patch32",
		"architectures":          []string{"CLIPModel"},
		"initializer_factor":     1.0,
		"logit_scale_init_value": 2.6592,
		"model_type":             "clip",
		"projection_dim":         p.ProjectionDim,
		"transformers_version":   "4.33.0.dev0",
		"text_config": map[string]any{
			"attention_dropout":       0.0,
			"bos_token_id":            0,
			"dropout":                 0.0,
			"eos_token_id":            2,
			"hidden_act":              "quick_gelu",
			"hidden_size":             512,
			"initializer_factor":      1.0,
			"initializer_range":       0.02,
			"intermediate_size":       2048,
			"layer_norm_eps":          1e-05,
			"max_position_embeddings": 77,
			"model_type":              "clip_text_model",
			"num_attention_heads":     8,
			"num_hidden_layers":       12,
			"pad_token_id":            1,
			"projection_dim":          p.ProjectionDim,
			"vocab_size":              49408,
		},
		"vision_config": map[string]any{
			"attention_dropout":   0.0,
			"dropout":             0.0,
			"hidden_act":          "quick_gelu",
			"hidden_size":         p.Hidden,
			"image_size":          p.ImageSize,
			"initializer_factor":  1.0,
			"initializer_range":   0.02,
			"intermediate_size":   p.Intermediate,
			"layer_norm_eps":      VisionLayerNormEps,
			"model_type":          "clip_vision_model",
			"num_attention_heads": p.Heads,
			"num_channels":        p.Channels,
			"num_hidden_layers":   p.Layers,
			"patch_size":          p.PatchSize,
			"projection_dim":      p.ProjectionDim,
		},
	}
}

// preprocessorConfig is openai/clip-vit-base-patch32's
// preprocessor_config.json (CLIPImageProcessor).
func preprocessorConfig(p VisionParams) map[string]any {
	return map[string]any{
		"crop_size":              p.ImageSize,
		"do_center_crop":         true,
		"do_convert_rgb":         true,
		"do_normalize":           true,
		"do_rescale":             true,
		"do_resize":              true,
		"feature_extractor_type": "CLIPFeatureExtractor",
		"image_mean":             []float64{0.48145466, 0.4578275, 0.40821073},
		"image_processor_type":   "CLIPImageProcessor",
		"image_std":              []float64{0.26862954, 0.26130258, 0.27577711},
		"resample":               3,
		"rescale_factor":         0.00392156862745098,
		"size":                   map[string]any{"shortest_edge": p.ImageSize},
	}
}
