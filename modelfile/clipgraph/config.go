package clipgraph

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Activation is a tower's hidden_act.
type Activation string

// Activations the towers use.
const (
	// QuickGELU is x·sigmoid(1.702x), OpenAI CLIP's activation.
	QuickGELU Activation = "quick_gelu"
	// GELU is the exact (erf) GELU of nn.GELU, open_clip's default.
	GELU Activation = "gelu"
)

// TextConfig holds the fields of transformers' CLIPTextConfig the text
// tower needs.
type TextConfig struct {
	VocabSize         int        `json:"vocab_size"`
	HiddenSize        int        `json:"hidden_size"`
	IntermediateSize  int        `json:"intermediate_size"`
	NumHiddenLayers   int        `json:"num_hidden_layers"`
	NumAttentionHeads int        `json:"num_attention_heads"`
	MaxPositions      int        `json:"max_position_embeddings"`
	HiddenAct         Activation `json:"hidden_act"`
	LayerNormEps      float64    `json:"layer_norm_eps"`
	EOSTokenID        int64      `json:"eos_token_id"`
}

// VisionConfig holds the fields of transformers' CLIPVisionConfig the
// vision tower needs.
type VisionConfig struct {
	HiddenSize        int        `json:"hidden_size"`
	IntermediateSize  int        `json:"intermediate_size"`
	NumHiddenLayers   int        `json:"num_hidden_layers"`
	NumAttentionHeads int        `json:"num_attention_heads"`
	NumChannels       int        `json:"num_channels"`
	ImageSize         int        `json:"image_size"`
	PatchSize         int        `json:"patch_size"`
	HiddenAct         Activation `json:"hidden_act"`
	LayerNormEps      float64    `json:"layer_norm_eps"`
}

// Config is the part of a CLIPConfig (config.json of a CLIPModel, or of
// MetaClip2Model, which has the same fields) that the graphs depend on.
type Config struct {
	ProjectionDim int          `json:"projection_dim"`
	Text          TextConfig   `json:"text_config"`
	Vision        VisionConfig `json:"vision_config"`
}

// DefaultConfig returns CLIPConfig's defaults (transformers'
// CLIPTextConfig and CLIPVisionConfig: the ViT-B/32 model), which a
// config.json's fields override.
func DefaultConfig() Config {
	return Config{
		ProjectionDim: 512,
		Text: TextConfig{
			VocabSize: 49408, HiddenSize: 512, IntermediateSize: 2048, NumHiddenLayers: 12,
			NumAttentionHeads: 8, MaxPositions: 77, HiddenAct: QuickGELU, LayerNormEps: 1e-5,
			EOSTokenID: 49407,
		},
		Vision: VisionConfig{
			HiddenSize: 768, IntermediateSize: 3072, NumHiddenLayers: 12, NumAttentionHeads: 12,
			NumChannels: 3, ImageSize: 224, PatchSize: 32, HiddenAct: QuickGELU, LayerNormEps: 1e-5,
		},
	}
}

// ParseConfig reads a config.json, starting from DefaultConfig, and checks
// the result.
func ParseConfig(b []byte) (Config, error) {
	c := DefaultConfig()
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("clip config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ReadConfig reads and checks the config.json at path.
func ReadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("clip config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate checks that the dimensions describe a tower the graphs can
// build.
func (c Config) Validate() error {
	var errs []error
	pos := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s is %d, want a positive number", name, v))
		}
	}
	act := func(name string, a Activation) {
		if a != QuickGELU && a != GELU {
			errs = append(errs, fmt.Errorf("%s %q is not supported (want %q or %q)", name, a, QuickGELU, GELU))
		}
	}
	pos("projection_dim", c.ProjectionDim)
	t, v := c.Text, c.Vision
	for _, f := range []struct {
		name string
		v    int
	}{
		{"text_config.vocab_size", t.VocabSize}, {"text_config.hidden_size", t.HiddenSize},
		{"text_config.intermediate_size", t.IntermediateSize}, {"text_config.num_hidden_layers", t.NumHiddenLayers},
		{"text_config.num_attention_heads", t.NumAttentionHeads}, {"text_config.max_position_embeddings", t.MaxPositions},
		{"vision_config.hidden_size", v.HiddenSize}, {"vision_config.intermediate_size", v.IntermediateSize},
		{"vision_config.num_hidden_layers", v.NumHiddenLayers}, {"vision_config.num_attention_heads", v.NumAttentionHeads},
		{"vision_config.num_channels", v.NumChannels}, {"vision_config.image_size", v.ImageSize},
		{"vision_config.patch_size", v.PatchSize},
	} {
		pos(f.name, f.v)
	}
	act("text_config.hidden_act", t.HiddenAct)
	act("vision_config.hidden_act", v.HiddenAct)
	if t.NumAttentionHeads > 0 && t.HiddenSize%t.NumAttentionHeads != 0 {
		errs = append(errs, fmt.Errorf("text_config.hidden_size %d is not a multiple of num_attention_heads %d", t.HiddenSize, t.NumAttentionHeads))
	}
	if v.NumAttentionHeads > 0 && v.HiddenSize%v.NumAttentionHeads != 0 {
		errs = append(errs, fmt.Errorf("vision_config.hidden_size %d is not a multiple of num_attention_heads %d", v.HiddenSize, v.NumAttentionHeads))
	}
	if v.PatchSize > 0 && v.ImageSize%v.PatchSize != 0 {
		errs = append(errs, fmt.Errorf("vision_config.image_size %d is not a multiple of patch_size %d", v.ImageSize, v.PatchSize))
	}
	if t.EOSTokenID < 0 || (t.VocabSize > 0 && t.EOSTokenID >= int64(t.VocabSize)) {
		errs = append(errs, fmt.Errorf("text_config.eos_token_id %d is outside the vocabulary of %d", t.EOSTokenID, t.VocabSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clip config: %w", err)
	}
	return nil
}

// Positions is the vision tower's number of tokens: the patches and the
// class token.
func (v VisionConfig) Positions() int {
	n := v.ImageSize / v.PatchSize
	return n*n + 1
}

// Pooling says which position of the text tower's last hidden state is
// projected.
type Pooling int

// Pooling rules.
const (
	// PoolEOS pools at the first position holding eos_token_id: what
	// transformers' CLIPModel does when eos_token_id is not 2, what
	// MetaClip2Model always does, and what the models were trained with.
	PoolEOS Pooling = iota
	// PoolArgmax pools at the position of the highest token id
	// (input_ids.argmax(-1)): CLIPModel's legacy rule whenever
	// eos_token_id == 2, and open_clip's text.argmax(-1). With OpenAI's
	// BPE vocabulary, whose EOS has the highest id, it is the EOS
	// position; with XLM-V's (EOS id 2) it is the highest-id word piece.
	PoolArgmax
)

func (p Pooling) String() string {
	switch p {
	case PoolEOS:
		return "eos"
	case PoolArgmax:
		return "argmax"
	default:
		return fmt.Sprintf("Pooling(%d)", int(p))
	}
}

// ParsePooling reads "eos" or "argmax".
func ParsePooling(s string) (Pooling, error) {
	switch s {
	case "eos":
		return PoolEOS, nil
	case "argmax":
		return PoolArgmax, nil
	}
	return 0, fmt.Errorf("unknown text pooling %q: want eos or argmax", s)
}

// CLIPModelPooling returns the pooling transformers' CLIPModel applies
// for a text config: argmax of input_ids when eos_token_id == 2, else the
// first EOS position.
func CLIPModelPooling(t TextConfig) Pooling {
	if t.EOSTokenID == 2 {
		return PoolArgmax
	}
	return PoolEOS
}
