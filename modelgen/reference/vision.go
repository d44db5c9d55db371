package reference

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

// Vision is the CLIP ViT vision tower with its projection.
type Vision struct {
	hidden, channels, image, patch, proj int
	classEmb, patchW, posEmb             []float32
	preLN, postLN                        layerNorm
	layers                               []visionLayer
	projW                                linear
}

type visionLayer struct {
	ln1, ln2 layerNorm
	attn     attention
	fc1, fc2 linear
}

// LoadVision reads MODEL_DIR/vision: config.json and the initializers of
// onnx/vision_model.onnx.
func LoadVision(modelDir string) (*Vision, error) {
	dir := filepath.Join(modelDir, "vision")
	var cfg struct {
		Projection int `json:"projection_dim"`
		Vision     struct {
			Hidden       int     `json:"hidden_size"`
			Layers       int     `json:"num_hidden_layers"`
			Heads        int     `json:"num_attention_heads"`
			Intermediate int     `json:"intermediate_size"`
			Image        int     `json:"image_size"`
			Patch        int     `json:"patch_size"`
			Channels     int     `json:"num_channels"`
			Eps          float64 `json:"layer_norm_eps"`
			Act          string  `json:"hidden_act"`
		} `json:"vision_config"`
	}
	if err := readJSON(filepath.Join(dir, "config.json"), &cfg); err != nil {
		return nil, fmt.Errorf("vision config: %w", err)
	}
	c := cfg.Vision
	if c.Channels == 0 {
		c.Channels = 3
	}
	if c.Act != "quick_gelu" {
		return nil, fmt.Errorf("vision config: activation %q, only quick_gelu is supported", c.Act)
	}
	if c.Hidden <= 0 || c.Heads <= 0 || c.Hidden%c.Heads != 0 || c.Patch <= 0 || c.Image%c.Patch != 0 || cfg.Projection <= 0 {
		return nil, fmt.Errorf("vision config: bad dimensions %+v, projection %d", c, cfg.Projection)
	}
	m, err := onnxpb.ReadFile(filepath.Join(dir, "onnx", "vision_model.onnx"))
	if err != nil {
		return nil, err
	}
	p := &params{g: m.Graph}
	grid := c.Image / c.Patch
	v := &Vision{hidden: c.Hidden, channels: c.Channels, image: c.Image, patch: c.Patch, proj: cfg.Projection}
	v.classEmb = p.get("vision_model.embeddings.class_embedding", c.Hidden)
	v.patchW = p.get("vision_model.embeddings.patch_embedding.weight", c.Hidden, c.Channels, c.Patch, c.Patch)
	v.posEmb = p.get("vision_model.embeddings.position_embedding.weight", grid*grid+1, c.Hidden)
	v.preLN = p.layerNorm("vision_model.pre_layrnorm", c.Hidden, c.Eps)
	for l := 0; l < c.Layers; l++ {
		pre := fmt.Sprintf("vision_model.encoder.layers.%d.", l)
		v.layers = append(v.layers, visionLayer{
			ln1: p.layerNorm(pre+"layer_norm1", c.Hidden, c.Eps),
			ln2: p.layerNorm(pre+"layer_norm2", c.Hidden, c.Eps),
			attn: attention{
				heads: c.Heads,
				q:     p.linear(pre+"self_attn.q_proj", c.Hidden, c.Hidden, true),
				k:     p.linear(pre+"self_attn.k_proj", c.Hidden, c.Hidden, true),
				v:     p.linear(pre+"self_attn.v_proj", c.Hidden, c.Hidden, true),
				o:     p.linear(pre+"self_attn.out_proj", c.Hidden, c.Hidden, true),
			},
			fc1: p.linear(pre+"mlp.fc1", c.Hidden, c.Intermediate, true),
			fc2: p.linear(pre+"mlp.fc2", c.Intermediate, c.Hidden, true),
		})
	}
	v.postLN = p.layerNorm("vision_model.post_layernorm", c.Hidden, c.Eps)
	v.projW = p.linear("visual_projection", c.Hidden, cfg.Projection, false)
	if p.err != nil {
		return nil, fmt.Errorf("vision graph weights: %w", p.err)
	}
	return v, nil
}

// Hidden returns the last hidden state [tokens, hidden] of one image given
// as CHW pixel values.
func (v *Vision) Hidden(img []float32) ([]float64, error) {
	c, s, ps, d := v.channels, v.image, v.patch, v.hidden
	if len(img) != c*s*s {
		return nil, fmt.Errorf("image has %d values, want %d (%dx%dx%d)", len(img), c*s*s, c, s, s)
	}
	grid := s / ps
	tokens := grid*grid + 1
	x := make([]float64, tokens*d)
	for j := 0; j < d; j++ {
		x[j] = float64(v.classEmb[j])
	}
	for py := 0; py < grid; py++ {
		for px := 0; px < grid; px++ {
			row := x[(1+py*grid+px)*d:]
			for o := 0; o < d; o++ {
				var sum float64
				for ch := 0; ch < c; ch++ {
					for ky := 0; ky < ps; ky++ {
						in := img[ch*s*s+(py*ps+ky)*s+px*ps:]
						w := v.patchW[((o*c+ch)*ps+ky)*ps:]
						for kx := 0; kx < ps; kx++ {
							sum += float64(in[kx]) * float64(w[kx])
						}
					}
				}
				row[o] = sum
			}
		}
	}
	for i := range x {
		x[i] += float64(v.posEmb[i])
	}
	x = v.preLN.apply(x)
	for _, l := range v.layers {
		x = add(x, l.attn.apply(l.ln1.apply(x)))
		h := l.fc1.apply(l.ln2.apply(x))
		for i, t := range h {
			h[i] = t / (1 + math.Exp(-1.702*t))
		}
		x = add(x, l.fc2.apply(h))
	}
	return x, nil
}

// Embed returns image_embeds [batch][projection] for pixels in NCHW layout.
func (v *Vision) Embed(pixels []float32, batch int) ([][]float32, error) {
	per := v.channels * v.image * v.image
	if batch <= 0 || len(pixels) != batch*per {
		return nil, fmt.Errorf("%d pixel values for a batch of %d images of %d values", len(pixels), batch, per)
	}
	out := make([][]float32, batch)
	for b := range out {
		h, err := v.Hidden(pixels[b*per : (b+1)*per])
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", b, err)
		}
		pooled := v.postLN.apply(h[:v.hidden])
		e := v.projW.apply(pooled)
		out[b] = make([]float32, len(e))
		for i, x := range e {
			out[b][i] = float32(x)
		}
	}
	return out, nil
}
