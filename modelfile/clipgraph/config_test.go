package clipgraph

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{
			name: "openai layout with the legacy eos id",
			json: `{"projection_dim": 512, "text_config": {"eos_token_id": 2, "hidden_act": "quick_gelu", "vocab_size": 49408},
				"vision_config": {"patch_size": 16, "hidden_size": 768, "image_size": 224}}`,
			check: func(t *testing.T, c Config) {
				assert.Equal(t, int64(2), c.Text.EOSTokenID)
				assert.Equal(t, 16, c.Vision.PatchSize)
				assert.Equal(t, 197, c.Vision.Positions())
				assert.Equal(t, 77, c.Text.MaxPositions, "default kept")
				assert.Equal(t, PoolArgmax, CLIPModelPooling(c.Text))
			},
		},
		{
			name: "empty object gives transformers' defaults",
			json: `{}`,
			check: func(t *testing.T, c Config) {
				assert.Equal(t, DefaultConfig(), c)
				assert.Equal(t, PoolEOS, CLIPModelPooling(c.Text), "eos_token_id 49407")
			},
		},
		{
			name: "metaclip 2 at 384 with gelu",
			json: `{"model_type": "metaclip_2", "text_config": {"vocab_size": 901629, "eos_token_id": 2, "hidden_act": "gelu"},
				"vision_config": {"image_size": 384, "hidden_act": "gelu"}}`,
			check: func(t *testing.T, c Config) {
				assert.Equal(t, 901629, c.Text.VocabSize)
				assert.Equal(t, GELU, c.Vision.HiddenAct)
				assert.Equal(t, 145, c.Vision.Positions())
			},
		},
		{name: "unknown activation", json: `{"text_config": {"hidden_act": "relu"}}`, wantErr: `text_config.hidden_act "relu" is not supported`},
		{name: "heads do not divide", json: `{"vision_config": {"num_attention_heads": 5}}`, wantErr: "vision_config.hidden_size 768 is not a multiple of num_attention_heads 5"},
		{name: "image not a multiple of the patch", json: `{"vision_config": {"image_size": 100}}`, wantErr: "image_size 100 is not a multiple of patch_size 32"},
		{name: "eos outside the vocabulary", json: `{"text_config": {"vocab_size": 100, "eos_token_id": 100}}`, wantErr: "eos_token_id 100 is outside the vocabulary of 100"},
		{name: "zero layers", json: `{"text_config": {"num_hidden_layers": 0}}`, wantErr: "text_config.num_hidden_layers is 0"},
		{name: "not json", json: `{"text_config": `, wantErr: "clip config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.json))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestParseOpenCLIPConfig(t *testing.T) {
	tests := []struct {
		name string
		json string
		want func(c *Config)
	}{
		{
			name: "ViT-B-32-quickgelu in open_clip_config.json",
			json: `{"model_cfg": {"embed_dim": 512, "quick_gelu": true, "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32},
				"text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}}, "preprocess_cfg": {}}`,
			want: func(c *Config) {},
		},
		{
			name: "ViT-B-16 as a bare model config",
			json: `{"embed_dim": 512, "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 16},
				"text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}}`,
			want: func(c *Config) {
				c.Vision.PatchSize = 16
				c.Text.HiddenAct, c.Vision.HiddenAct = GELU, GELU
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := DefaultConfig()
			tt.want(&want)
			got, err := ParseOpenCLIPConfig([]byte(tt.json))
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	_, err := ParseOpenCLIPConfig([]byte(`{"model_cfg": {"embed_dim": 512}}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vision_config.hidden_size is 0")
}

func TestPooling(t *testing.T) {
	for _, p := range []Pooling{PoolEOS, PoolArgmax} {
		got, err := ParsePooling(p.String())
		require.NoError(t, err)
		assert.Equal(t, p, got)
	}
	_, err := ParsePooling("first")
	assert.ErrorContains(t, err, `unknown text pooling "first"`)
	assert.Equal(t, PoolEOS, CLIPModelPooling(TextConfig{EOSTokenID: 49407}))
	assert.Equal(t, PoolArgmax, CLIPModelPooling(TextConfig{EOSTokenID: 2}))
}
