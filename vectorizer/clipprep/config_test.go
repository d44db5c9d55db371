package clipprep

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/vectorizer/imagedecode"
)

func TestParseConfig(t *testing.T) {
	def := Default()
	tests := []struct {
		name string
		json string
		want Config
		err  string
	}{
		{"xenova (integers)", `{"size": 224, "crop_size": 224, "resample": 3, "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711]}`, def, ""},
		{"transformers 4.x (dicts)", `{"size": {"shortest_edge": 224}, "crop_size": {"height": 224, "width": 224}, "rescale_factor": 0.00392156862745098, "do_rescale": true}`, def, ""},
		{"empty takes defaults", `{}`, def, ""},
		{"other sizes", `{"size": {"shortest_edge": 256}, "crop_size": {"height": 240, "width": 200}, "do_normalize": false}`,
			func() Config {
				c := def
				c.ShortestEdge, c.CropHeight, c.CropWidth, c.DoNormalize = 256, 240, 200, false
				return c
			}(), ""},
		{"fixed resize", `{"size": {"height": 300, "width": 200}}`,
			func() Config { c := def; c.ShortestEdge, c.ResizeHeight, c.ResizeWidth = 0, 300, 200; return c }(), ""},
		{"bilinear", `{"resample": 2}`, Config{}, "resample 2: only 3 (bicubic)"},
		{"no center crop", `{"do_center_crop": false}`, Config{}, "do_center_crop false"},
		{"two means", `{"image_mean": [0.5, 0.5]}`, Config{}, "image_mean: want 3 values, got 2"},
		{"zero std", `{"image_std": [0.5, 0, 0.5]}`, Config{}, "image_std[1] is zero"},
		{"bad size", `{"size": "big"}`, Config{}, "size: want an integer or an object"},
		{"size dict without keys", `{"size": {"longest_edge": 3}}`, Config{}, "size: want shortest_edge or height and width"},
		{"zero crop", `{"crop_size": 0}`, Config{}, "crop_size 0x0: want positive"},
		{"huge", `{"size": 100000}`, Config{}, "above 4096"},
		{"not json", `{`, Config{}, "parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tt.json))
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestOutputSize(t *testing.T) {
	c := Default()
	tests := []struct {
		w, h, nw, nh int
	}{
		{640, 480, 298, 224},           // int(224*640/480) = 298
		{480, 640, 224, 298},           // portrait
		{224, 224, 224, 224},           // unchanged
		{225, 224, 225, 224},           // no resize, crop only
		{32, 32, 224, 224},             // upscale
		{1, 4000, 224, 896000},         // what transformers computes (only the crop is)
		{4000, 1, 896000, 224},         // and the other way
		{1, 1, 224, 224},               // single pixel
		{333, 517, 224, 347},           // int(347.75...)
		{3, 50, 224, 3733},             // int(3733.33)
		{1000, 999, 224224 / 999, 224}, // 224.224... truncated
	}
	for _, tt := range tests {
		nw, nh := c.OutputSize(tt.w, tt.h)
		assert.Equal(t, [2]int{tt.nw, tt.nh}, [2]int{nw, nh}, "%dx%d", tt.w, tt.h)
	}
	fixed := c
	fixed.ShortestEdge, fixed.ResizeWidth, fixed.ResizeHeight = 0, 100, 50
	nw, nh := fixed.OutputSize(640, 480)
	assert.Equal(t, [2]int{100, 50}, [2]int{nw, nh})
}

// TestCropPadsLikeTransformers: without a resize, an image smaller than the
// crop is centred on zeros (transformers' center_crop pads with
// ceil((crop-size)/2) before).
func TestCropPadsLikeTransformers(t *testing.T) {
	c := Default()
	c.DoResize = false
	img := imagedecode.NewRGB(3, 250)
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	crop, err := c.Crop(img)
	require.NoError(t, err)
	require.Equal(t, [2]int{224, 224}, [2]int{crop.Width, crop.Height})
	// Columns: pad = ceil(221/2) = 111 before, the 3 columns at 111..113.
	// Rows: top = (250-224)//2 = 13, no padding.
	for x := 0; x < 224; x++ {
		want := byte(0)
		if x >= 111 && x <= 113 {
			want = 200
		}
		assert.Equal(t, want, crop.Pix[3*(100*224+x)], "column %d", x)
	}
}

func TestNormalizeChecks(t *testing.T) {
	c := Default()
	crop := imagedecode.NewRGB(224, 224)
	assert.ErrorContains(t, c.Normalize(crop, make([]float32, 10)), "holds 10 floats, want 150528")
	assert.ErrorContains(t, c.Normalize(imagedecode.NewRGB(10, 10), make([]float32, c.TensorLen())), "crop is 10x10")
	_, err := c.Crop(&imagedecode.RGB{Width: 2, Height: 2, Pix: make([]byte, 3)})
	assert.ErrorContains(t, err, "invalid image")
	dst := make([]float32, c.TensorLen())
	require.NoError(t, c.Normalize(crop, dst))
	assert.InDelta(t, -0.48145466/0.26862954, dst[0], 1e-6, "black, red channel")
	assert.InDelta(t, -0.40821073/0.27577711, dst[len(dst)-1], 1e-6, "black, blue channel")
}
