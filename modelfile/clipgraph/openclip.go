package clipgraph

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// OpenCLIPSource presents an open_clip checkpoint (state-dict names such
// as transformer.resblocks.N.attn.in_proj_weight, visual.proj) under
// transformers' CLIPModel names, as transformers' conversion script maps
// them: in_proj_weight and in_proj_bias split in three (q, k, v in that
// order), text_projection and visual.proj ([width, embed_dim], used as
// x @ P) transposed to nn.Linear's [embed_dim, width]. Split tensors are
// slices of the source's bytes.
type OpenCLIPSource struct{ Src Source }

// Tensor implements Source.
func (o OpenCLIPSource) Tensor(name string) (Tensor, error) {
	switch name {
	case "text_projection.weight":
		return o.transposed("text_projection")
	case "visual_projection.weight":
		return o.transposed("visual.proj")
	}
	oc, part, err := openCLIPName(name)
	if err != nil {
		return Tensor{}, err
	}
	t, err := o.Src.Tensor(oc)
	if err != nil {
		return Tensor{}, err
	}
	if part < 0 {
		return t, nil
	}
	if len(t.Shape) == 0 || t.Shape[0]%3 != 0 {
		return Tensor{}, fmt.Errorf("open_clip weight %s has shape %v; want a first dimension of 3 x width", oc, t.Shape)
	}
	rows := t.Shape[0] / 3
	size := int64(len(t.Data)) / 3
	shape := append([]int64{rows}, t.Shape[1:]...)
	return Tensor{Dtype: t.Dtype, Shape: shape, Data: t.Data[int64(part)*size : int64(part+1)*size]}, nil
}

func (o OpenCLIPSource) transposed(name string) (Tensor, error) {
	t, err := o.Src.Tensor(name)
	if err != nil {
		return Tensor{}, err
	}
	if len(t.Shape) != 2 {
		return Tensor{}, fmt.Errorf("open_clip weight %s has shape %v; want 2 dimensions", name, t.Shape)
	}
	es := int64(t.Dtype.Size())
	rows, cols := t.Shape[0], t.Shape[1]
	if es == 0 || int64(len(t.Data)) != rows*cols*es {
		return Tensor{}, fmt.Errorf("open_clip weight %s holds %d bytes for shape %v of %s", name, len(t.Data), t.Shape, t.Dtype)
	}
	out := make([]byte, len(t.Data))
	for r := int64(0); r < rows; r++ {
		for c := int64(0); c < cols; c++ {
			copy(out[(c*rows+r)*es:(c*rows+r+1)*es], t.Data[(r*cols+c)*es:(r*cols+c+1)*es])
		}
	}
	return Tensor{Dtype: t.Dtype, Shape: []int64{cols, rows}, Data: out}, nil
}

// openCLIPName maps a transformers name to its open_clip name, and for
// q/k/v projections the third (0, 1, 2) of the packed in_proj to take;
// part is -1 otherwise.
func openCLIPName(hf string) (name string, part int, err error) {
	fixed := map[string]string{
		"text_model.embeddings.token_embedding.weight":      "token_embedding.weight",
		"text_model.embeddings.position_embedding.weight":   "positional_embedding",
		"text_model.final_layer_norm.weight":                "ln_final.weight",
		"text_model.final_layer_norm.bias":                  "ln_final.bias",
		"vision_model.embeddings.class_embedding":           "visual.class_embedding",
		"vision_model.embeddings.patch_embedding.weight":    "visual.conv1.weight",
		"vision_model.embeddings.position_embedding.weight": "visual.positional_embedding",
		"vision_model.pre_layrnorm.weight":                  "visual.ln_pre.weight",
		"vision_model.pre_layrnorm.bias":                    "visual.ln_pre.bias",
		"vision_model.post_layernorm.weight":                "visual.ln_post.weight",
		"vision_model.post_layernorm.bias":                  "visual.ln_post.bias",
	}
	if n, ok := fixed[hf]; ok {
		return n, -1, nil
	}
	var prefix, rest string
	switch {
	case strings.HasPrefix(hf, "text_model.encoder.layers."):
		prefix, rest = "transformer.resblocks.", strings.TrimPrefix(hf, "text_model.encoder.layers.")
	case strings.HasPrefix(hf, "vision_model.encoder.layers."):
		prefix, rest = "visual.transformer.resblocks.", strings.TrimPrefix(hf, "vision_model.encoder.layers.")
	default:
		return "", -1, fmt.Errorf("%w: %s has no open_clip counterpart", ErrMissing, hf)
	}
	layer, leaf, ok := strings.Cut(rest, ".")
	if !ok {
		return "", -1, fmt.Errorf("%w: %s has no open_clip counterpart", ErrMissing, hf)
	}
	mod, param, _ := strings.Cut(leaf, ".")
	if strings.HasPrefix(leaf, "self_attn.") {
		proj, p, _ := strings.Cut(strings.TrimPrefix(leaf, "self_attn."), ".")
		switch proj {
		case "q_proj", "k_proj", "v_proj":
			return prefix + layer + ".attn.in_proj_" + p, map[string]int{"q_proj": 0, "k_proj": 1, "v_proj": 2}[proj], nil
		case "out_proj":
			return prefix + layer + ".attn.out_proj." + p, -1, nil
		}
	}
	mods := map[string]string{"layer_norm1": "ln_1", "layer_norm2": "ln_2", "mlp": "mlp"}
	if m, ok := mods[mod]; ok {
		if m == "mlp" {
			sub, p, _ := strings.Cut(param, ".")
			subs := map[string]string{"fc1": "c_fc", "fc2": "c_proj"}
			if s, ok := subs[sub]; ok {
				return prefix + layer + ".mlp." + s + "." + p, -1, nil
			}
		} else {
			return prefix + layer + "." + m + "." + param, -1, nil
		}
	}
	return "", -1, fmt.Errorf("%w: %s has no open_clip counterpart", ErrMissing, hf)
}

// openCLIPModelConfig is open_clip's model config (model_cfg of
// open_clip_config.json, or a model_configs/*.json file).
type openCLIPModelConfig struct {
	EmbedDim  int  `json:"embed_dim"`
	QuickGELU bool `json:"quick_gelu"`
	VisionCfg struct {
		ImageSize int     `json:"image_size"`
		Layers    int     `json:"layers"`
		Width     int     `json:"width"`
		HeadWidth int     `json:"head_width"`
		MLPRatio  float64 `json:"mlp_ratio"`
		PatchSize int     `json:"patch_size"`
	} `json:"vision_cfg"`
	TextCfg struct {
		ContextLength int     `json:"context_length"`
		VocabSize     int     `json:"vocab_size"`
		Width         int     `json:"width"`
		Heads         int     `json:"heads"`
		Layers        int     `json:"layers"`
		MLPRatio      float64 `json:"mlp_ratio"`
	} `json:"text_cfg"`
}

// ParseOpenCLIPConfig reads an open_clip_config.json (or a bare model
// config) into a Config: open_clip's defaults are a head width of 64 and an
// MLP ratio of 4, LayerNorm eps 1e-5, GELU unless quick_gelu. open_clip
// pools the text at input_ids.argmax(-1) (PoolArgmax); EOSTokenID is set
// to CLIP's <|endoftext|> (49407) for PoolEOS users.
func ParseOpenCLIPConfig(b []byte) (Config, error) {
	var wrapped struct {
		ModelCfg *openCLIPModelConfig `json:"model_cfg"`
	}
	if err := json.Unmarshal(b, &wrapped); err != nil {
		return Config{}, fmt.Errorf("open_clip config: %w", err)
	}
	m := wrapped.ModelCfg
	if m == nil {
		m = &openCLIPModelConfig{}
		if err := json.Unmarshal(b, m); err != nil {
			return Config{}, fmt.Errorf("open_clip config: %w", err)
		}
	}
	act := GELU
	if m.QuickGELU {
		act = QuickGELU
	}
	headWidth := m.VisionCfg.HeadWidth
	if headWidth == 0 {
		headWidth = 64
	}
	ratio := func(r float64) float64 {
		if r == 0 {
			return 4
		}
		return r
	}
	c := Config{
		ProjectionDim: m.EmbedDim,
		Text: TextConfig{
			VocabSize: m.TextCfg.VocabSize, HiddenSize: m.TextCfg.Width,
			IntermediateSize: int(float64(m.TextCfg.Width) * ratio(m.TextCfg.MLPRatio)),
			NumHiddenLayers:  m.TextCfg.Layers, NumAttentionHeads: m.TextCfg.Heads,
			MaxPositions: m.TextCfg.ContextLength, HiddenAct: act, LayerNormEps: 1e-5, EOSTokenID: 49407,
		},
		Vision: VisionConfig{
			HiddenSize: m.VisionCfg.Width, IntermediateSize: int(float64(m.VisionCfg.Width) * ratio(m.VisionCfg.MLPRatio)),
			NumHiddenLayers: m.VisionCfg.Layers, NumAttentionHeads: m.VisionCfg.Width / headWidth,
			NumChannels: 3, ImageSize: m.VisionCfg.ImageSize, PatchSize: m.VisionCfg.PatchSize,
			HiddenAct: act, LayerNormEps: 1e-5,
		},
	}
	if c.Text.MaxPositions == 0 {
		c.Text.MaxPositions = 77
	}
	if c.Text.VocabSize == 0 {
		c.Text.VocabSize = 49408
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("open_clip config: %w", err)
	}
	return c, nil
}

// ReadOpenCLIPConfig reads ParseOpenCLIPConfig's input from path.
func ReadOpenCLIPConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("open_clip config: %w", err)
	}
	c, err := ParseOpenCLIPConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
