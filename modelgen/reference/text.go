package reference

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
	"github.com/mclip-go/mclip/modelfile/safetensors"
)

// textLayerNormEps is DistilBERT's LayerNorm epsilon (nn.LayerNorm(dim,
// eps=1e-12) in modeling_distilbert.py; it is not in config.json).
const textLayerNormEps = 1e-12

// Text is the text tower: DistilBERT, mean pooling and the Dense layer.
type Text struct {
	dim, vocab, maxPos int
	wordEmb, posEmb    []float32
	embLN              layerNorm
	layers             []textLayer
	dense              []float32 // [out, in]
	denseBias          []float32
	denseOut           int
}

type textLayer struct {
	attn     attention
	saLN     layerNorm
	lin1     linear
	lin2     linear
	outputLN layerNorm
}

// LoadText reads MODEL_DIR/text: config.json, 1_Pooling/config.json,
// 2_Dense/config.json and model.safetensors, and the initializers of
// onnx/model.onnx.
func LoadText(modelDir string) (*Text, error) {
	dir := filepath.Join(modelDir, "text")
	var cfg struct {
		Dim        int    `json:"dim"`
		Layers     int    `json:"n_layers"`
		Heads      int    `json:"n_heads"`
		Hidden     int    `json:"hidden_dim"`
		Vocab      int    `json:"vocab_size"`
		MaxPos     int    `json:"max_position_embeddings"`
		Activation string `json:"activation"`
		Sinusoidal bool   `json:"sinusoidal_pos_embds"`
	}
	if err := readJSON(filepath.Join(dir, "config.json"), &cfg); err != nil {
		return nil, fmt.Errorf("text config: %w", err)
	}
	if cfg.Activation != "gelu" || cfg.Sinusoidal {
		return nil, fmt.Errorf("text config: activation %q, sinusoidal %v: only gelu with learned positions is supported", cfg.Activation, cfg.Sinusoidal)
	}
	if cfg.Dim <= 0 || cfg.Heads <= 0 || cfg.Dim%cfg.Heads != 0 || cfg.Layers <= 0 || cfg.Hidden <= 0 {
		return nil, fmt.Errorf("text config: bad dimensions dim %d, heads %d, layers %d, hidden %d", cfg.Dim, cfg.Heads, cfg.Layers, cfg.Hidden)
	}
	var pool struct {
		Dim  int  `json:"word_embedding_dimension"`
		Mean bool `json:"pooling_mode_mean_tokens"`
		CLS  bool `json:"pooling_mode_cls_token"`
		Max  bool `json:"pooling_mode_max_tokens"`
	}
	if err := readJSON(filepath.Join(dir, "1_Pooling", "config.json"), &pool); err != nil {
		return nil, fmt.Errorf("pooling config: %w", err)
	}
	if !pool.Mean || pool.CLS || pool.Max || pool.Dim != cfg.Dim {
		return nil, fmt.Errorf("pooling config: want mean pooling over %d dims, got %+v", cfg.Dim, pool)
	}
	var dense struct {
		In         int    `json:"in_features"`
		Out        int    `json:"out_features"`
		Bias       bool   `json:"bias"`
		Activation string `json:"activation_function"`
	}
	if err := readJSON(filepath.Join(dir, "2_Dense", "config.json"), &dense); err != nil {
		return nil, fmt.Errorf("dense config: %w", err)
	}
	if dense.In != cfg.Dim || dense.Out <= 0 || dense.Activation != "torch.nn.modules.linear.Identity" {
		return nil, fmt.Errorf("dense config: want identity activation from %d inputs, got %+v", cfg.Dim, dense)
	}

	m, err := onnxpb.ReadFile(filepath.Join(dir, "onnx", "model.onnx"))
	if err != nil {
		return nil, err
	}
	p := &params{g: m.Graph}
	t := &Text{dim: cfg.Dim, vocab: cfg.Vocab, maxPos: cfg.MaxPos, denseOut: dense.Out}
	t.wordEmb = p.get("embeddings.word_embeddings.weight", cfg.Vocab, cfg.Dim)
	t.posEmb = p.get("embeddings.position_embeddings.weight", cfg.MaxPos, cfg.Dim)
	t.embLN = p.layerNorm("embeddings.LayerNorm", cfg.Dim, textLayerNormEps)
	for l := 0; l < cfg.Layers; l++ {
		pre := fmt.Sprintf("transformer.layer.%d.", l)
		t.layers = append(t.layers, textLayer{
			attn: attention{
				heads: cfg.Heads,
				q:     p.linear(pre+"attention.q_lin", cfg.Dim, cfg.Dim, true),
				k:     p.linear(pre+"attention.k_lin", cfg.Dim, cfg.Dim, true),
				v:     p.linear(pre+"attention.v_lin", cfg.Dim, cfg.Dim, true),
				o:     p.linear(pre+"attention.out_lin", cfg.Dim, cfg.Dim, true),
			},
			saLN:     p.layerNorm(pre+"sa_layer_norm", cfg.Dim, textLayerNormEps),
			lin1:     p.linear(pre+"ffn.lin1", cfg.Dim, cfg.Hidden, true),
			lin2:     p.linear(pre+"ffn.lin2", cfg.Hidden, cfg.Dim, true),
			outputLN: p.layerNorm(pre+"output_layer_norm", cfg.Dim, textLayerNormEps),
		})
	}
	if p.err != nil {
		return nil, fmt.Errorf("text graph weights: %w", p.err)
	}

	st, err := safetensors.Open(filepath.Join(dir, "2_Dense", "model.safetensors"))
	if err != nil {
		return nil, err
	}
	if t.dense, err = st.Matrix("linear.weight", int64(dense.Out), int64(dense.In)); err != nil {
		return nil, fmt.Errorf("dense weights: %w", err)
	}
	if dense.Bias {
		b, shape, err := st.Float32("linear.bias")
		if err != nil || len(shape) != 1 || shape[0] != int64(dense.Out) {
			return nil, fmt.Errorf("dense bias: shape %v: %v", shape, err)
		}
		t.denseBias = b
	}
	return t, nil
}

// Dim returns the width of the hidden states.
func (t *Text) Dim() int { return t.dim }

// Hidden returns DistilBERT's last hidden state [len(ids), dim] for one
// unpadded sequence.
func (t *Text) Hidden(ids []int64) ([]float64, error) {
	if len(ids) == 0 {
		return nil, errors.New("empty sequence")
	}
	if len(ids) > t.maxPos {
		return nil, fmt.Errorf("sequence of %d tokens exceeds %d positions", len(ids), t.maxPos)
	}
	d := t.dim
	x := make([]float64, len(ids)*d)
	for i, id := range ids {
		if id < 0 || id >= int64(t.vocab) {
			return nil, fmt.Errorf("token id %d out of range [0, %d)", id, t.vocab)
		}
		for j := 0; j < d; j++ {
			x[i*d+j] = float64(t.wordEmb[int(id)*d+j]) + float64(t.posEmb[i*d+j])
		}
	}
	x = t.embLN.apply(x)
	for _, l := range t.layers {
		sa := l.saLN.apply(add(l.attn.apply(x), x))
		h := l.lin1.apply(sa)
		for i, v := range h {
			h[i] = 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
		}
		x = l.outputLN.apply(add(l.lin2.apply(h), sa))
	}
	return x, nil
}

// Embed returns the un-normalised sentence vectors: the mean of the last
// hidden states over each sequence's tokens (sequences are unpadded), then
// the Dense layer.
func (t *Text) Embed(ids [][]int64) ([][]float32, error) {
	out := make([][]float32, len(ids))
	for s, seq := range ids {
		h, err := t.Hidden(seq)
		if err != nil {
			return nil, fmt.Errorf("sequence %d: %w", s, err)
		}
		mean := make([]float64, t.dim)
		for i := 0; i < len(seq); i++ {
			for j := range mean {
				mean[j] += h[i*t.dim+j]
			}
		}
		for j := range mean {
			mean[j] /= float64(len(seq))
		}
		out[s] = t.project(mean)
	}
	return out, nil
}

// project applies the Dense layer (weight [out, in]).
func (t *Text) project(x []float64) []float32 {
	y := make([]float32, t.denseOut)
	for o := range y {
		var s float64
		if t.denseBias != nil {
			s = float64(t.denseBias[o])
		}
		for i, v := range x {
			s += v * float64(t.dense[o*t.dim+i])
		}
		y[o] = float32(s)
	}
	return y
}
