package clipprep

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/vectorizer/imagedecode"
)

// The goldens of every kind at 224 and 384; testdata/kinds/regen.sh
// computes them with Python references (see regen.py).
var kindsDir = filepath.Join("testdata", "kinds")

type kindsGolden struct {
	Configs map[string]struct {
		Kind string `json:"kind"`
		Size int    `json:"size"`
	} `json:"configs"`
	Inputs []struct {
		Name     string `json:"name"`
		Generate *struct {
			Width, Height int
			Seed          uint64
		} `json:"generate"`
		File         string `json:"file"`
		DecodeSHA256 string `json:"decode_sha256"`
	} `json:"inputs"`
	Cases []struct {
		Config       string `json:"config"`
		Image        string `json:"image"`
		CropSHA256   string `json:"crop_sha256"`
		TensorSHA256 string `json:"tensor_sha256"`
		FloatPath    *struct {
			Differing int `json:"differing"`
			Max       int `json:"max"`
		} `json:"float_path"`
		FloatCrop string `json:"float_crop"`
	} `json:"cases"`
}

// genImage is regen.py's gen(): gradients, hard edges and grain from
// integer arithmetic only.
func genImage(w, h int, seed uint64) *imagedecode.RGB {
	img := imagedecode.NewRGB(w, h)
	const m32 = 0xFFFFFFFF
	for y := range uint64(h) {
		for x := range uint64(w) {
			for c := range uint64(3) {
				hh := (x*0x9E3779B1 + y*0x85EBCA77 + (c+1)*0xC2B2AE3D + seed*0x27D4EB2F) & m32
				hh ^= hh >> 15
				hh = (hh * 0x2C1B3C6D) & m32
				hh ^= hh >> 12
				g := int64((x*256/uint64(w) + y*192/uint64(h) + c*85) % 256)
				if (x/37+y/29+c)%4 == 0 {
					g = 255 - g
				}
				v := g + int64(hh%33) - 16
				img.Pix[3*(int(y)*w+int(x))+int(c)] = byte(max(0, min(255, v)))
			}
		}
	}
	return img
}

func kindConfig(t testing.TB, kind string, size int) Config {
	t.Helper()
	k, err := ParseKind(kind)
	require.NoError(t, err)
	if k == KindOpenCLIP {
		return OpenCLIP(size)
	}
	c := Default()
	c.Kind = k
	c.ShortestEdge, c.CropHeight, c.CropWidth = size, size, size
	require.NoError(t, c.Validate())
	return c
}

// TestKindsMatchReferences wants every kind's crop and tensor exactly as
// the Python references compute them, on generated images of odd sizes
// (1x4000, 4000x1, upscales from 2x2, 384 inputs) and the decoder's test
// images; and for the fast kind, its distance from torch's float resize
// (torchvision 0.14, which keeps the intermediate image in float) as the
// reference script measured it.
func TestKindsMatchReferences(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(kindsDir, "golden.json"))
	require.NoError(t, err)
	var g kindsGolden
	require.NoError(t, json.Unmarshal(b, &g))
	require.NotEmpty(t, g.Cases)
	images := map[string]*imagedecode.RGB{}
	for _, in := range g.Inputs {
		var img *imagedecode.RGB
		if in.Generate != nil {
			img = genImage(in.Generate.Width, in.Generate.Height, in.Generate.Seed)
		} else {
			img = readPNG(t, filepath.Join(goldenDir, in.File))
		}
		require.Equal(t, in.DecodeSHA256, shaHex(img.Pix), "input %s is not the reference's", in.Name)
		images[in.Name] = img
	}
	kinds := map[string]int{}
	floatSamples, floatDiffering := 0, 0
	for _, cs := range g.Cases {
		cfg, ok := g.Configs[cs.Config]
		require.True(t, ok, cs.Config)
		kinds[cfg.Kind]++
		t.Run(cs.Config+"/"+cs.Image, func(t *testing.T) {
			c := kindConfig(t, cfg.Kind, cfg.Size)
			crop, err := c.Crop(images[cs.Image])
			require.NoError(t, err)
			require.Equal(t, [2]int{cfg.Size, cfg.Size}, [2]int{crop.Width, crop.Height})
			assert.Equal(t, cs.CropSHA256, shaHex(crop.Pix), "crop differs from the reference's")
			tensor := make([]float32, c.TensorLen())
			require.NoError(t, c.Normalize(crop, tensor))
			assert.Equal(t, cs.TensorSHA256, tensorSHA(tensor), "tensor differs from the reference's")
			if cs.FloatCrop == "" {
				return
			}
			want := readPNG(t, filepath.Join(kindsDir, cs.FloatCrop))
			differing, worst := 0, 0
			for i := range crop.Pix {
				d := int(math.Abs(float64(int(crop.Pix[i]) - int(want.Pix[i]))))
				if d > 0 {
					differing++
				}
				worst = max(worst, d)
			}
			assert.Equal(t, cs.FloatPath.Differing, differing, "samples that differ from torch's float path")
			assert.Equal(t, cs.FloatPath.Max, worst, "largest difference from torch's float path")
			floatSamples += len(crop.Pix)
			floatDiffering += differing
		})
	}
	for _, k := range []Kind{KindCLIPPillow, KindCLIPFast, KindOpenCLIP} {
		assert.Positive(t, kinds[string(k)], "%s has goldens", k)
	}
	t.Logf("cases per kind: %v; against torch's float path %d of %d samples differ", kinds, floatDiffering, floatSamples)
}

func TestCropAnchor(t *testing.T) {
	tests := []struct {
		kind      Kind
		n, crop   int
		wantStart int
	}{
		{KindCLIPPillow, 224, 224, 0},
		{KindCLIPPillow, 225, 224, 0},
		{KindCLIPPillow, 227, 224, 1},
		{KindCLIPPillow, 229, 224, 2},
		{KindCLIPPillow, 223, 224, -1},
		{KindCLIPPillow, 221, 224, -2},
		{KindCLIPFast, 225, 224, 0},
		{KindCLIPFast, 227, 224, 2},
		{KindCLIPFast, 229, 224, 2},
		{KindCLIPFast, 231, 224, 4},
		{KindCLIPFast, 228, 224, 2},
		{KindCLIPFast, 223, 224, 0},
		{KindCLIPFast, 221, 224, -1},
		{KindOpenCLIP, 227, 224, 2},
		{KindOpenCLIP, 384, 384, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %d crop %d", tc.kind, tc.n, tc.crop), func(t *testing.T) {
			assert.Equal(t, tc.wantStart, tc.kind.cropAnchor(tc.n, tc.crop))
		})
	}
}

func TestParseKind(t *testing.T) {
	for _, s := range []string{"clip-pillow", "clip-fast", "open_clip", ""} {
		k, err := ParseKind(s)
		require.NoError(t, err)
		assert.NotEmpty(t, k.String())
	}
	_, err := ParseKind("siglip")
	require.ErrorContains(t, err, `preprocessing "siglip": want clip-pillow, clip-fast or open_clip`)
	c := Default()
	c.Kind = "bilinear"
	require.ErrorContains(t, c.Validate(), `preprocessing "bilinear"`)
}

// TestTorchPrecision checks the weights precision against torch's rule on
// the bounds: the largest weight times 2^(p+1), rounded, reaches 2^15.
func TestTorchPrecision(t *testing.T) {
	tests := []struct {
		max  float64
		want int
	}{
		{1, 14},
		{1.2, 14},
		{0.99999, 14},
		{0.99, 15},
		{0.5, 15},
		{0.25, 16},
		{0.03, 20},
		{0, 22},
		{2, 13},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, torchPrecision(tc.max), "max weight %v", tc.max)
	}
}

// TestTorchMaxWeightEdges checks that a huge upscale's largest weight,
// taken from the edges' windows, is the whole axis's.
func TestTorchMaxWeightEdges(t *testing.T) {
	for _, c := range [][2]int{{2, 1<<20 + 7}, {3, 1<<20 + 100}, {17, 1 << 21}, {1, 1<<20 + 1}, {640, 1<<20 + 3}} {
		t.Run(fmt.Sprintf("%d to %d", c[0], c[1]), func(t *testing.T) {
			got := torchMaxWeightLimit(c[0], c[1], 1<<20)
			full := torchMaxWeightLimit(c[0], c[1], math.MaxInt)
			assert.Equal(t, torchPrecision(full), torchPrecision(got))
			assert.GreaterOrEqual(t, got, 1.0)
		})
	}
}

// TestFastNotPillow guards against the kinds collapsing into one: on a
// photo-like image the torch coefficients must change some samples.
func TestFastNotPillow(t *testing.T) {
	img := genImage(640, 480, 1)
	pil := kindConfig(t, "clip-pillow", 224)
	fast := kindConfig(t, "clip-fast", 224)
	a, err := pil.Crop(img)
	require.NoError(t, err)
	b, err := fast.Crop(img)
	require.NoError(t, err)
	differing := 0
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			differing++
		}
	}
	assert.Positive(t, differing)
	t.Logf("clip-fast differs from clip-pillow in %d of %d samples on a 640x480 image", differing, len(a.Pix))
}

func TestLoad(t *testing.T) {
	path := filepath.Join("testdata", "preprocessor_config.json")
	tests := []struct {
		kind  Kind
		input int
		want  Config
		err   string
	}{
		{KindCLIPPillow, 224, Default(), ""},
		{"", 224, Default(), ""},
		{KindCLIPFast, 224, func() Config { c := Default(); c.Kind = KindCLIPFast; return c }(), ""},
		{KindCLIPFast, 384, Config{}, "crop_size 224x224, but the vision tower takes 384x384"},
		{KindOpenCLIP, 384, OpenCLIP(384), ""},
		{"squash", 224, Config{}, `preprocessing "squash"`},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %d", tc.kind, tc.input), func(t *testing.T) {
			got, err := Load(tc.kind, tc.input, path)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := Load(KindCLIPFast, 224, filepath.Join("testdata", "missing.json"))
	require.ErrorContains(t, err, "preprocessor config")
}
