package imagedecode

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/config"
)

// golden mirrors testdata/golden.json, written by testdata/regen.sh.
type golden struct {
	Pillow string        `json:"pillow"`
	Images []goldenImage `json:"images"`
}

type goldenImage struct {
	File            string `json:"file"`
	Format          string `json:"format"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
	Lossy           bool   `json:"lossy"`
	DecodeSHA256    string `json:"decode_sha256"`
	ExifOrientation int    `json:"exif_orientation"`
	ExifWidth       int    `json:"exif_width"`
	ExifHeight      int    `json:"exif_height"`
}

func loadGolden(t testing.TB) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	require.NoError(t, err)
	var g golden
	require.NoError(t, json.Unmarshal(b, &g))
	require.NotEmpty(t, g.Images)
	return g
}

func readRGBPNG(t testing.TB, path string) *RGB {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, err := png.Decode(f)
	require.NoError(t, err)
	img, err := toRGB(m, nil)
	require.NoError(t, err)
	return img
}

// maxDiff is the largest per-sample difference of two same-sized images.
func maxDiff(a, b *RGB) int {
	d := 0
	for i := range a.Pix {
		v := int(a.Pix[i]) - int(b.Pix[i])
		if v < 0 {
			v = -v
		}
		d = max(d, v)
	}
	return d
}

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// JPEG and lossy WebP may differ from Pillow by this much (a different
// libjpeg-turbo/libwebp build); with Debian's libraries they are identical.
const lossyTolerance = 2

func TestDecodeMatchesPillow(t *testing.T) {
	g := loadGolden(t)
	perFormat := map[string]int{}
	for _, gi := range g.Images {
		t.Run(gi.File, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "images", gi.File))
			require.NoError(t, err)
			f, err := Sniff(data)
			require.NoError(t, err)
			assert.Equal(t, gi.Format, string(f))
			img, err := Decode(data, Options{})
			require.NoError(t, err)
			require.Equal(t, [2]int{gi.Width, gi.Height}, [2]int{img.Width, img.Height})
			if !gi.Lossy {
				assert.Equal(t, gi.DecodeSHA256, shaHex(img.Pix), "lossless decode must equal Pillow's exactly")
				return
			}
			want := readRGBPNG(t, filepath.Join("testdata", "golden", gi.File+".png"))
			require.Equal(t, gi.DecodeSHA256, shaHex(want.Pix), "golden png does not hold Pillow's pixels")
			d := maxDiff(img, want)
			perFormat[gi.Format] = max(perFormat[gi.Format], d)
			assert.LessOrEqual(t, d, lossyTolerance, "max sample difference from Pillow")
		})
	}
	t.Logf("max sample difference from Pillow %s by format: %v", g.Pillow, perFormat)
}

func TestDecodeEXIFOrientation(t *testing.T) {
	g := loadGolden(t)
	n := 0
	for _, gi := range g.Images {
		if gi.ExifOrientation == 0 {
			continue
		}
		n++
		t.Run(gi.File, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "images", gi.File))
			require.NoError(t, err)
			f, err := Sniff(data)
			require.NoError(t, err)
			assert.Equal(t, gi.ExifOrientation, Orientation(f, data))

			plain, err := Decode(data, Options{})
			require.NoError(t, err)
			assert.Equal(t, [2]int{gi.Width, gi.Height}, [2]int{plain.Width, plain.Height}, "orientation applied without ApplyEXIF")

			img, err := Decode(data, Options{ApplyEXIF: true})
			require.NoError(t, err)
			want := readRGBPNG(t, filepath.Join("testdata", "golden", gi.File+".exif.png"))
			require.Equal(t, [2]int{gi.ExifWidth, gi.ExifHeight}, [2]int{img.Width, img.Height})
			assert.LessOrEqual(t, maxDiff(img, want), lossyTolerance)
		})
	}
	assert.Equal(t, 10, n, "orientations 2-8 in JPEG, and PNG, WebP, TIFF")
}

// libheif reads AVIF too and applies irot/imir itself: its decode of a
// rotated and mirrored AVIF (made by heif-convert) must match the libavif
// path's transformation, up to the two libraries' YUV->RGB rounding.
func TestAVIFTransformsAgreeWithLibheif(t *testing.T) {
	const name = "avif_irot1_imir0.avif"
	data := readImage(t, name)
	want := readRGBPNG(t, filepath.Join("testdata", "golden", name+".libheif.png"))
	viaHeif, err := decodeHEIF(data, config.DefaultMaxPixels)
	require.NoError(t, err)
	require.Equal(t, [2]int{want.Width, want.Height}, [2]int{viaHeif.Width, viaHeif.Height})
	assert.Equal(t, shaHex(want.Pix), shaHex(viaHeif.Pix), "libheif through mclip equals heif-convert")
	viaAvif, err := Decode(data, Options{})
	require.NoError(t, err)
	require.Equal(t, [2]int{want.Width, want.Height}, [2]int{viaAvif.Width, viaAvif.Height})
	assert.LessOrEqual(t, maxDiff(viaAvif, want), 1)
	plain := readImage(t, "avif_odd_444.avif")
	unrotated, err := Decode(plain, Options{})
	require.NoError(t, err)
	assert.Equal(t, [2]int{37, 29}, [2]int{unrotated.Width, unrotated.Height})
}
