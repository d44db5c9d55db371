package clipgraph

import (
	"fmt"
	"math"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

// Graph inputs and outputs, named as in the Xenova ONNX exports of
// CLIPTextModelWithProjection and CLIPVisionModelWithProjection.
const (
	InputIDs    = "input_ids"
	TextEmbeds  = "text_embeds"
	PixelValues = "pixel_values"
	ImageEmbeds = "image_embeds"
)

// Text builds CLIPTextModelWithProjection's text_embeds as transformers
// computes it, from weights named as in a CLIPModel checkpoint: token and
// position embeddings, the causal pre-LN encoder, final_layer_norm at the
// pooled position and text_projection. Input input_ids int64
// [batch_size, sequence_length] (at most max_position_embeddings long);
// output text_embeds float32 [batch_size, projection_dim], not normalised.
// The pooled position follows pool. The returned model refers to the
// source's bytes where no conversion is needed (an F32 or F16 token
// embedding table), so the source must stay open until it is written.
func Text(c Config, src Source, pool Pooling) (*onnxpb.Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if pool != PoolEOS && pool != PoolArgmax {
		return nil, fmt.Errorf("clip text graph: unknown pooling %v", pool)
	}
	t := c.Text
	d := int64(t.HiddenSize)
	b := newBuilder("clip_text", src)
	b.g.Inputs = []onnxpb.ValueInfo{{Name: InputIDs, ElemType: onnxpb.TypeInt64, Shape: []onnxpb.Dim{onnxpb.P("batch_size"), onnxpb.P("sequence_length")}}}
	b.g.Outputs = []onnxpb.ValueInfo{{Name: TextEmbeds, ElemType: onnxpb.TypeFloat, Shape: []onnxpb.Dim{onnxpb.P("batch_size"), onnxpb.D(int64(c.ProjectionDim))}}}

	x := b.embeddingLookup("text_model.embeddings.token_embedding.weight", int64(t.VocabSize), d, InputIDs)
	seqLen := b.op("Slice", []string{b.op("Shape", []string{InputIDs}), b.constI64([]int64{1}, 1), b.constI64([]int64{2}, 1)})
	pos := b.f32("text_model.embeddings.position_embedding.weight", int64(t.MaxPositions), d)
	pos = b.op("Slice", []string{pos, b.constI64([]int64{0}, 1), seqLen, b.constI64([]int64{0}, 1)})
	x = b.op("Add", []string{x, pos})

	// Causal mask, added to the scores as transformers adds it: 0 where
	// position i attends to position j (j <= i), the float32 minimum
	// elsewhere.
	p := t.MaxPositions
	causal := make([]float32, p*p)
	for i := 0; i < p; i++ {
		for j := i + 1; j < p; j++ {
			causal[i*p+j] = -math.MaxFloat32
		}
	}
	maskAll := b.add(onnxpb.FloatTensor("causal_mask", []int64{int64(p), int64(p)}, causal))
	mask := b.op("Slice", []string{maskAll, b.constI64([]int64{0, 0}, 2),
		b.op("Concat", []string{seqLen, seqLen}, onnxpb.Int("axis", 0)), b.constI64([]int64{0, 1}, 2)})

	for l := 0; l < t.NumHiddenLayers; l++ {
		x = b.encoderLayer(x, fmt.Sprintf("text_model.encoder.layers.%d.", l), t.HiddenSize, t.NumAttentionHeads,
			t.IntermediateSize, t.HiddenAct, t.LayerNormEps, mask)
	}

	// The pooled position of each row: the first EOS, or the highest id.
	var key string
	if pool == PoolEOS {
		key = b.op("Cast", []string{b.op("Equal", []string{InputIDs, b.constI64([]int64{t.EOSTokenID})})}, onnxpb.Int("to", int64(onnxpb.TypeInt32)))
	} else {
		key = b.op("Cast", []string{InputIDs}, onnxpb.Int("to", int64(onnxpb.TypeInt32)))
	}
	idx := b.op("ArgMax", []string{key}, onnxpb.Int("axis", 1), onnxpb.Int("keepdims", 0))
	idx = b.op("Reshape", []string{idx, b.constI64([]int64{-1, 1, 1}, 3)})
	idx = b.op("Expand", []string{idx, b.constI64([]int64{1, 1, d}, 3)})
	pooled := b.op("GatherElements", []string{x, idx}, onnxpb.Int("axis", 1))
	pooled = b.op("Reshape", []string{pooled, b.constI64([]int64{-1, d}, 2)})
	pooled = b.layerNorm(pooled, "text_model.final_layer_norm", t.HiddenSize, t.LayerNormEps)
	b.linear(pooled, "text_projection", t.HiddenSize, c.ProjectionDim, false)
	b.g.Nodes[len(b.g.Nodes)-1].Outputs[0] = TextEmbeds
	if b.err != nil {
		return nil, fmt.Errorf("clip text graph: %w", b.err)
	}
	return b.model(fmt.Sprintf("CLIP text tower (CLIPTextModelWithProjection), %d layers, hidden %d, %s, pooled at %s; linear weights stored [in, out]",
		t.NumHiddenLayers, t.HiddenSize, t.HiddenAct, pool)), nil
}
