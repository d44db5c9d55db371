package clipgraph

import (
	"fmt"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

// Vision builds CLIPVisionModelWithProjection's image_embeds as
// transformers computes it, from weights named as in a CLIPModel
// checkpoint: the patch convolution (no bias), class and position
// embeddings, pre_layrnorm, the encoder, post_layernorm on the class token
// and visual_projection. Input pixel_values float32 [batch_size, 3, S, S]
// (S = image_size); output image_embeds float32 [batch_size,
// projection_dim], not normalised.
func Vision(c Config, src Source) (*onnxpb.Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	v := c.Vision
	d, ps, ch := int64(v.HiddenSize), int64(v.PatchSize), int64(v.NumChannels)
	b := newBuilder("clip_vision", src)
	b.g.Inputs = []onnxpb.ValueInfo{{Name: PixelValues, ElemType: onnxpb.TypeFloat, Shape: []onnxpb.Dim{
		onnxpb.P("batch_size"), onnxpb.D(ch), onnxpb.D(int64(v.ImageSize)), onnxpb.D(int64(v.ImageSize)),
	}}}
	b.g.Outputs = []onnxpb.ValueInfo{{Name: ImageEmbeds, ElemType: onnxpb.TypeFloat, Shape: []onnxpb.Dim{onnxpb.P("batch_size"), onnxpb.D(int64(c.ProjectionDim))}}}

	cls := b.f32("vision_model.embeddings.class_embedding", d)
	conv := b.f32("vision_model.embeddings.patch_embedding.weight", d, ch, ps, ps)
	posEmb := b.f32("vision_model.embeddings.position_embedding.weight", int64(v.Positions()), d)
	patches := b.op("Conv", []string{PixelValues, conv}, onnxpb.Ints("kernel_shape", ps, ps), onnxpb.Ints("strides", ps, ps))
	patches = b.op("Reshape", []string{patches, b.constI64([]int64{0, d, -1}, 3)})
	patches = b.op("Transpose", []string{patches}, onnxpb.Ints("perm", 0, 2, 1))
	batch := b.op("Slice", []string{b.op("Shape", []string{PixelValues}), b.constI64([]int64{0}, 1), b.constI64([]int64{1}, 1)})
	clsShape := b.op("Concat", []string{batch, b.constI64([]int64{1, d}, 2)}, onnxpb.Int("axis", 0))
	clsTok := b.op("Expand", []string{b.op("Reshape", []string{cls, b.constI64([]int64{1, 1, d}, 3)}), clsShape})
	x := b.op("Concat", []string{clsTok, patches}, onnxpb.Int("axis", 1))
	x = b.op("Add", []string{x, posEmb})
	x = b.layerNorm(x, "vision_model.pre_layrnorm", v.HiddenSize, v.LayerNormEps)
	for l := 0; l < v.NumHiddenLayers; l++ {
		x = b.encoderLayer(x, fmt.Sprintf("vision_model.encoder.layers.%d.", l), v.HiddenSize, v.NumAttentionHeads,
			v.IntermediateSize, v.HiddenAct, v.LayerNormEps, "")
	}
	pooled := b.op("Gather", []string{x, b.constI64([]int64{0})}, onnxpb.Int("axis", 1))
	pooled = b.layerNorm(pooled, "vision_model.post_layernorm", v.HiddenSize, v.LayerNormEps)
	b.linear(pooled, "visual_projection", v.HiddenSize, c.ProjectionDim, false)
	b.g.Nodes[len(b.g.Nodes)-1].Outputs[0] = ImageEmbeds
	if b.err != nil {
		return nil, fmt.Errorf("clip vision graph: %w", b.err)
	}
	return b.model(fmt.Sprintf("CLIP vision tower (CLIPVisionModelWithProjection), ViT %d layers, hidden %d, patch %d, %dx%d input, %s; linear weights stored [in, out]",
		v.NumHiddenLayers, v.HiddenSize, v.PatchSize, v.ImageSize, v.ImageSize, v.HiddenAct)), nil
}
