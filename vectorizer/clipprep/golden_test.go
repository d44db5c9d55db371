package clipprep

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/vectorizer/imagedecode"
)

// The goldens live with the decoder's; imagedecode/testdata/regen.sh
// computes them with Pillow and a numpy reimplementation of
// CLIPImageProcessor.
var goldenDir = filepath.Join("..", "imagedecode", "testdata")

type goldenImage struct {
	File         string `json:"file"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	Lossy        bool   `json:"lossy"`
	DecodeSHA256 string `json:"decode_sha256"`
	CropSHA256   string `json:"crop_sha256"`
	TensorSHA256 string `json:"tensor_sha256"`
}

func loadGolden(t testing.TB) []goldenImage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, "golden.json"))
	require.NoError(t, err)
	var g struct {
		Images []goldenImage `json:"images"`
	}
	require.NoError(t, json.Unmarshal(b, &g))
	require.NotEmpty(t, g.Images)
	return g.Images
}

func testConfig(t testing.TB) Config {
	t.Helper()
	c, err := LoadConfig(filepath.Join("testdata", "preprocessor_config.json"))
	require.NoError(t, err)
	return c
}

func readPNG(t testing.TB, path string) *imagedecode.RGB {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	img, err := imagedecode.Decode(data, imagedecode.Options{})
	require.NoError(t, err)
	return img
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func tensorSHA(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return shaHex(b)
}

func maxDiff(a, b []byte) int {
	d := 0
	for i := range a {
		d = max(d, int(math.Abs(float64(int(a[i])-int(b[i])))))
	}
	return d
}

// TestPreprocessMatchesPillow feeds Pillow's decoded pixels (the source
// itself for lossless formats, the golden PNG for lossy ones) through Crop
// and Normalize and wants Pillow's crop and transformers' tensor exactly.
func TestPreprocessMatchesPillow(t *testing.T) {
	c := testConfig(t)
	for _, gi := range loadGolden(t) {
		t.Run(gi.File, func(t *testing.T) {
			var img *imagedecode.RGB
			if gi.Lossy {
				img = readPNG(t, filepath.Join(goldenDir, "golden", gi.File+".png"))
			} else {
				img = readPNG(t, filepath.Join(goldenDir, "images", gi.File))
			}
			require.Equal(t, gi.DecodeSHA256, shaHex(img.Pix), "input is not Pillow's decode")
			crop, err := c.Crop(img)
			require.NoError(t, err)
			require.Equal(t, [2]int{224, 224}, [2]int{crop.Width, crop.Height})
			assert.Equal(t, gi.CropSHA256, shaHex(crop.Pix), "crop differs from Pillow's bicubic resize + crop")
			tensor := make([]float32, c.TensorLen())
			require.NoError(t, c.Normalize(crop, tensor))
			assert.Equal(t, gi.TensorSHA256, tensorSHA(tensor), "tensor differs from CLIPImageProcessor's")
		})
	}
}

// TestEndToEndLossy decodes JPEG/WebP with mclip's decoder and compares the
// crop with Pillow's: identical with Debian's libraries, within the
// decoder's tolerance elsewhere.
func TestEndToEndLossy(t *testing.T) {
	c := testConfig(t)
	worst := 0
	for _, gi := range loadGolden(t) {
		if !gi.Lossy {
			continue
		}
		t.Run(gi.File, func(t *testing.T) {
			img := readPNG(t, filepath.Join(goldenDir, "images", gi.File))
			crop, err := c.Crop(img)
			require.NoError(t, err)
			want := readPNG(t, filepath.Join(goldenDir, "golden", gi.File+".crop.png"))
			d := maxDiff(crop.Pix, want.Pix)
			worst = max(worst, d)
			assert.LessOrEqual(t, d, 2)
		})
	}
	t.Logf("max crop sample difference from Pillow over lossy images: %d", worst)
}
