package imagedecode

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/webp"
)

// The pure-Go decoders, measured against Pillow and against the cgo path
// to justify decoding JPEG and WebP with libjpeg-turbo and libwebp.

func decodePureGo(t testing.TB, data []byte) *RGB {
	t.Helper()
	f, err := Sniff(data)
	require.NoError(t, err)
	var m image.Image
	switch f {
	case JPEG:
		m, err = jpeg.Decode(bytes.NewReader(data))
	case WebP:
		m, err = webp.Decode(bytes.NewReader(data))
	default:
		t.Fatalf("no pure-Go comparison for %s", f)
	}
	require.NoError(t, err)
	img, err := toRGB(m, nil)
	require.NoError(t, err)
	return img
}

// TestPureGoDecodersMissPillow records how far image/jpeg and x/image/webp
// are from Pillow: beyond the tolerance, which is why they are not used.
func TestPureGoDecodersMissPillow(t *testing.T) {
	for _, f := range []string{
		"jpeg_420.jpg", "jpeg_422.jpg", "jpeg_444.jpg", "jpeg_420_progressive.jpg", "jpeg_333x517_420.jpg",
		"webp_lossy.webp", "webp_333x517.webp",
	} {
		data := readImage(t, f)
		want := readRGBPNG(t, filepath.Join("testdata", "golden", f+".png"))
		pure := maxDiff(decodePureGo(t, data), want)
		got, err := Decode(data, Options{})
		require.NoError(t, err)
		ours := maxDiff(got, want)
		t.Logf("%-26s max |pure Go - Pillow| = %3d, max |mclip - Pillow| = %d", f, pure, ours)
		assert.LessOrEqual(t, ours, lossyTolerance, f)
		if f != "jpeg_444.jpg" { // no chroma upsampling: only rounding differs
			assert.Greater(t, pure, lossyTolerance, "%s: the pure-Go decoder now matches Pillow; reconsider cgo", f)
		}
	}
}

// photoRGBA is a deterministic photo-like image: smooth colour fields and
// grain.
func photoRGBA(w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			n := rng.NormFloat64() * 6
			r := 128 + 100*math.Sin(fx*9) + n
			g := 128 + 100*math.Cos(fy*7) + n
			b := 255*(fx+fy)/2 + n
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = clampByte(r), clampByte(g), clampByte(b), 255
		}
	}
	return m
}

func clampByte(v float64) byte { return byte(math.Max(0, math.Min(255, math.Round(v)))) }

// BenchmarkJPEG generates quality-90 4:2:0 JPEGs (Go's encoder) and decodes
// them with libjpeg-turbo (mclip, to RGB) and with image/jpeg (to YCbCr).
func BenchmarkJPEG(b *testing.B) {
	for _, size := range [][2]int{{640, 480}, {4000, 3000}} {
		var buf bytes.Buffer
		require.NoError(b, jpeg.Encode(&buf, photoRGBA(size[0], size[1]), &jpeg.Options{Quality: 90}))
		data := buf.Bytes()
		name := fmt.Sprintf("%dx%d", size[0], size[1])
		b.Run("libjpeg-turbo/"+name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Decode(data, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		// Decode only (YCbCr out): the pure-Go side is spared the RGB
		// conversion.
		b.Run("image-jpeg/"+name, func(b *testing.B) {
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWebP(b *testing.B) {
	data := readImage(b, "webp_lossy.webp")
	b.Run("libwebp/320x240", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decode(data, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("x-image-webp/320x240", func(b *testing.B) {
		for b.Loop() {
			if _, err := webp.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
