package clipprep

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/testfixture/webpenc"
	"github.com/mclip-go/mclip/vectorizer/imagedecode"
)

// planar gives a packed RGB image's rows as planes.
type planar struct{ img *imagedecode.RGB }

func (p planar) Size() (int, int) { return p.img.Width, p.img.Height }

func (p planar) Row(y int, r, g, b []byte) {
	row := p.img.Pix[3*p.img.Width*y:]
	for x := range p.img.Width {
		r[x], g[x], b[x] = row[3*x], row[3*x+1], row[3*x+2]
	}
}

// TestCropRowsEqualsCrop checks that cropping from rows gives Crop's
// pixels on both horizontal paths: downscales, upscales, a width that
// needs no horizontal pass, tall and wide images; and from a lossy WebP's
// YUV rows against Decode + Crop.
func TestCropRowsEqualsCrop(t *testing.T) {
	c := testConfig(t)
	fast := c
	fast.Kind = KindCLIPFast
	sizes := [][2]int{{224, 224}, {224, 600}, {600, 224}, {1000, 300}, {300, 1000}, {1001, 1003}, {50, 40}, {7, 300}, {3000, 2000}}
	for _, s := range sizes {
		img := &imagedecode.RGB{Width: s[0], Height: s[1], Pix: webpenc.Noisy(uint64(s[0]), s[0], s[1])}
		for _, kc := range []struct {
			avx2 bool
			c    Config
		}{{false, c}, {true, c}, {false, fast}, {true, fast}, {true, OpenCLIP(384)}} {
			avx2, c := kc.avx2, kc.c
			t.Run(fmt.Sprintf("%dx%d %s avx2=%v", s[0], s[1], c.Kind, avx2), func(t *testing.T) {
				if avx2 && !useAVX2 {
					t.Skip("no AVX2 on this CPU")
				}
				saved := useAVX2
				useAVX2 = avx2
				defer func() { useAVX2 = saved }()
				want, err := c.Crop(img)
				require.NoError(t, err)
				got, err := c.CropRows(planar{img})
				require.NoError(t, err)
				require.Equal(t, want, got)
			})
		}
	}
	for _, s := range [][2]int{{640, 480}, {333, 517}, {225, 2000}, {64, 64}} {
		data := webpenc.Lossy(webpenc.Noisy(7, s[0], s[1]), s[0], s[1], 75)
		t.Run(fmt.Sprintf("webp %dx%d", s[0], s[1]), func(t *testing.T) {
			img, err := imagedecode.Decode(data, imagedecode.Options{})
			require.NoError(t, err)
			want, err := c.Crop(img)
			require.NoError(t, err)
			yuv, ok := imagedecode.DecodeYUV420(data, imagedecode.Options{})
			require.True(t, ok)
			got, err := c.CropRows(yuv)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}
