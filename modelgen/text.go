package modelgen

import (
	"fmt"
	"math"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/modelgen/vocab"
)

// TextParams are the dimensions of the DistilBERT text tower and its Dense
// projection.
type TextParams struct {
	Vocab, Dim, Layers, Heads, Hidden, MaxPositions int
	DenseOut                                        int
	MaxSeqLength                                    int
}

// TextLayerNormEps is DistilBERT's LayerNorm epsilon.
const TextLayerNormEps = 1e-12

// TextParamsFor returns the text tower dimensions of a size.
func TextParamsFor(s Size) TextParams {
	if s == Full {
		return TextParams{Vocab: vocab.Full, Dim: 768, Layers: 6, Heads: 12, Hidden: 3072, MaxPositions: 512, DenseOut: 512, MaxSeqLength: 128}
	}
	return TextParams{Vocab: vocab.Tiny, Dim: 32, Layers: 2, Heads: 2, Hidden: 64, MaxPositions: 512, DenseOut: 512, MaxSeqLength: 128}
}

// textGraph builds DistilBERT as Hugging Face's DistilBertModel computes
// it: inputs input_ids and attention_mask (int64 [batch_size,
// sequence_length]), output last_hidden_state [batch_size,
// sequence_length, dim].
func textGraph(p TextParams, w *weights) *onnxpb.Model {
	b := newGraph("distilbert", w)
	g := b.g
	dyn := []onnxpb.Dim{onnxpb.P("batch_size"), onnxpb.P("sequence_length")}
	g.Inputs = []onnxpb.ValueInfo{
		{Name: "input_ids", ElemType: onnxpb.TypeInt64, Shape: dyn},
		{Name: "attention_mask", ElemType: onnxpb.TypeInt64, Shape: dyn},
	}
	g.Outputs = []onnxpb.ValueInfo{{Name: "last_hidden_state", ElemType: onnxpb.TypeFloat,
		Shape: []onnxpb.Dim{onnxpb.P("batch_size"), onnxpb.P("sequence_length"), onnxpb.D(int64(p.Dim))}}}

	// Embeddings: word + learned position, LayerNorm.
	wordEmb := b.normal("embeddings.word_embeddings.weight", 0, 1, int64(p.Vocab), int64(p.Dim))
	posEmb := b.normal("embeddings.position_embeddings.weight", 0, 0.5, int64(p.MaxPositions), int64(p.Dim))
	words := b.op("Gather", []string{wordEmb, "input_ids"}, onnxpb.Int("axis", 0))
	shape := b.op("Shape", []string{"input_ids"})
	seqLen := b.op("Gather", []string{shape, b.constI64([]int64{1})}, onnxpb.Int("axis", 0))
	posIDs := b.op("Range", []string{b.constI64([]int64{0}), seqLen, b.constI64([]int64{1})})
	pos := b.op("Gather", []string{posEmb, posIDs}, onnxpb.Int("axis", 0))
	x := b.op("Add", []string{words, pos})
	x = b.layerNorm(x, "embeddings.LayerNorm", p.Dim, TextLayerNormEps, "")

	// mask [B, 1, 1, S]: true where attention_mask == 0 (each layer
	// expands it to the scores' shape, as torch.onnx exports DistilBERT's
	// (mask == 0).view(bs, 1, 1, k_length).expand_as(scores)).
	masked := b.op("Equal", []string{"attention_mask", b.constI64([]int64{0})})
	mask := b.op("Unsqueeze", []string{masked, b.constI64([]int64{1, 2}, 2)})

	for l := 0; l < p.Layers; l++ {
		pre := fmt.Sprintf("transformer.layer.%d.", l)
		attn := b.attention(x, attnNames{
			q: pre + "attention.q_lin", k: pre + "attention.k_lin",
			v: pre + "attention.v_lin", out: pre + "attention.out_lin",
		}, p.Dim, p.Heads, mask)
		sa := b.layerNorm(b.op("Add", []string{attn, x}), pre+"sa_layer_norm", p.Dim, TextLayerNormEps, "")
		h := b.linear(sa, pre+"ffn.lin1", p.Dim, p.Hidden, true)
		h = gelu(b, h)
		h = b.linear(h, pre+"ffn.lin2", p.Hidden, p.Dim, true)
		out := ""
		if l == p.Layers-1 {
			out = "last_hidden_state"
		}
		x = b.layerNorm(b.op("Add", []string{h, sa}), pre+"output_layer_norm", p.Dim, TextLayerNormEps, out)
	}
	return b.model("DistilBERT text tower of clip-ViT-B-32-multilingual-v1 with random weights; linear weights are stored [in, out]")
}

// gelu adds the exact GELU, x·(1 + erf(x/√2))·0.5, in the nodes and order
// torch.onnx exports it (Div, Erf, Add, Mul, Mul): ONNX Runtime fuses that
// pattern (with the bias Add before it) into one BiasGelu node.
func gelu(b *graph, x string) string {
	e := b.op("Erf", []string{b.op("Div", []string{x, b.constF32(float32(math.Sqrt2))})})
	e = b.op("Add", []string{e, b.constF32(1)})
	return b.op("Mul", []string{b.op("Mul", []string{x, e}), b.constF32(0.5)})
}

// textConfig is DistilBertConfig as in the real model's config.json.
func textConfig(p TextParams) map[string]any {
	return map[string]any{
		"_name_or_path":           "old_models/clip-ViT-B-32-multilingual-v1/0_Transformer",
		"activation":              "gelu",
		"architectures":           []string{"DistilBertModel"},
		"attention_dropout":       0.1,
		"dim":                     p.Dim,
		"dropout":                 0.1,
		"hidden_dim":              p.Hidden,
		"initializer_range":       0.02,
		"max_position_embeddings": p.MaxPositions,
		"model_type":              "distilbert",
		"n_heads":                 p.Heads,
		"n_layers":                p.Layers,
		"output_past":             true,
		"pad_token_id":            0,
		"qa_dropout":              0.1,
		"seq_classif_dropout":     0.2,
		"sinusoidal_pos_embds":    false,
		"tie_weights_":            true,
		"torch_dtype":             "float32",
		"transformers_version":    "4.30.2",
		"vocab_size":              p.Vocab,
	}
}

func modulesJSON() []map[string]any {
	return []map[string]any{
		{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
		{"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
		{"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
	}
}

func poolingConfig(p TextParams) map[string]any {
	return map[string]any{
		"word_embedding_dimension":          p.Dim,
		"pooling_mode_cls_token":            false,
		"pooling_mode_mean_tokens":          true,
		"pooling_mode_max_tokens":           false,
		"pooling_mode_mean_sqrt_len_tokens": false,
	}
}

func denseConfig(p TextParams) map[string]any {
	return map[string]any{
		"in_features":         p.Dim,
		"out_features":        p.DenseOut,
		"bias":                false,
		"activation_function": "torch.nn.modules.linear.Identity",
	}
}

func sentenceBertConfig(p TextParams) map[string]any {
	return map[string]any{"max_seq_length": p.MaxSeqLength, "do_lower_case": false}
}
