package clipprep

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/vectorizer/imagedecode"
)

// photoJPEG is a deterministic photo-like quality-90 4:2:0 JPEG (the
// golden script's "bench" mode times Pillow on the same kind of image).
func photoJPEG(t testing.TB, w, h int) []byte {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			n := rng.NormFloat64() * 6
			c := [3]float64{128 + 100*math.Sin(fx*9) + n, 128 + 100*math.Cos(fy*7) + n, 255*(fx+fy)/2 + n}
			i := m.PixOffset(x, y)
			for k, v := range c {
				m.Pix[i+k] = byte(math.Max(0, math.Min(255, math.Round(v))))
			}
			m.Pix[i+3] = 255
		}
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}))
	return buf.Bytes()
}

// BenchmarkDecodePreprocess is the whole path from JPEG bytes to the model
// input tensor.
func BenchmarkDecodePreprocess(b *testing.B) {
	c := Default()
	dst := make([]float32, c.TensorLen())
	for _, size := range [][2]int{{640, 480}, {4000, 3000}} {
		data := photoJPEG(b, size[0], size[1])
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			for b.Loop() {
				img, err := imagedecode.Decode(data, imagedecode.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Tensor(img, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPreprocess is resize, crop and normalisation alone.
func BenchmarkPreprocess(b *testing.B) {
	c := Default()
	dst := make([]float32, c.TensorLen())
	for _, size := range [][2]int{{640, 480}, {4000, 3000}} {
		img, err := imagedecode.Decode(photoJPEG(b, size[0], size[1]), imagedecode.Options{})
		require.NoError(b, err)
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			for b.Loop() {
				if err := c.Tensor(img, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPreprocessKinds is resize, crop and normalisation of each kind
// at 224 and 384 (KindCLIPPillow at 224 is BenchmarkPreprocess).
func BenchmarkPreprocessKinds(b *testing.B) {
	sizes := [][2]int{{640, 480}, {4000, 3000}}
	imgs := make([]*imagedecode.RGB, len(sizes))
	for i, size := range sizes {
		img, err := imagedecode.Decode(photoJPEG(b, size[0], size[1]), imagedecode.Options{})
		require.NoError(b, err)
		imgs[i] = img
	}
	for _, kind := range []Kind{KindCLIPPillow, KindCLIPFast, KindOpenCLIP} {
		for _, input := range []int{224, 384} {
			c := Default()
			c.Kind = kind
			c.ShortestEdge, c.CropHeight, c.CropWidth = input, input, input
			if kind == KindOpenCLIP {
				c = OpenCLIP(input)
			}
			dst := make([]float32, c.TensorLen())
			for i, size := range sizes {
				b.Run(fmt.Sprintf("%s/%d/%dx%d", kind, input, size[0], size[1]), func(b *testing.B) {
					for b.Loop() {
						if err := c.Tensor(imgs[i], dst); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkDecodePreprocessFile times decode + preprocess of the file that
// MCLIP_BENCH_IMAGE names (e.g. the corpus of bench/photos/build.sh, in
// .cache/photos/images), split into decode and crop; skipped when unset.
func BenchmarkDecodePreprocessFile(b *testing.B) {
	path := os.Getenv("MCLIP_BENCH_IMAGE")
	if path == "" {
		b.Skip("MCLIP_BENCH_IMAGE is not set")
	}
	data, err := os.ReadFile(path)
	require.NoError(b, err)
	c := Default()
	dst := make([]float32, c.TensorLen())
	img, err := imagedecode.Decode(data, imagedecode.Options{})
	require.NoError(b, err)
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			img, err := imagedecode.Decode(data, imagedecode.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Tensor(img, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := imagedecode.Decode(data, imagedecode.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("preprocess", func(b *testing.B) {
		for b.Loop() {
			if err := c.Tensor(img, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}
