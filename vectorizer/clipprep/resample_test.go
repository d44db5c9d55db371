package clipprep

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// refHorizontal is Pillow's ImagingResampleHorizontal_8bpc on packed RGB,
// pixel by pixel, the reference for both C paths.
func refHorizontal(src []byte, srcStride int, dst []byte, dstStride, rows int, hc *coeffs) {
	for y := 0; y < rows; y++ {
		for i := range hc.min {
			for c := 0; c < 3; c++ {
				ss := int32(1 << (hc.bits - 1))
				for t := 0; t < hc.count[i]; t++ {
					ss += int32(src[srcStride*y+3*(hc.min[i]+t)+c]) * hc.k[i*hc.ksize+t]
				}
				dst[dstStride*y+3*i+c] = clip8(ss, hc.bits)
			}
		}
	}
}

// randomCoeffs is a coefficient set for outW outputs over inW inputs with
// random windows (touching both edges) and random weights of either sign
// below bound (bound*ksize*255 < 2^31 keeps the sums in int32, as
// Pillow's are).
func randomCoeffs(rng *rand.Rand, inW, outW, ksize int, bound int32) coeffs {
	c := coeffs{ksize: ksize, bits: precisionBits, min: make([]int, outW), count: make([]int, outW), k: make([]int32, outW*ksize)}
	for i := range outW {
		n := 1 + rng.IntN(min(ksize, inW))
		switch i % 3 {
		case 0:
			c.min[i] = 0
		case 1:
			c.min[i] = inW - n
		default:
			c.min[i] = rng.IntN(inW - n + 1)
		}
		c.count[i] = n
		for t := range n {
			c.k[i*ksize+t] = rng.Int32N(2*bound) - bound
		}
		// Garbage past count must be ignored.
		for t := n; t < ksize; t++ {
			c.k[i*ksize+t] = rng.Int32()
		}
	}
	return c
}

func TestHorizontalPathsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type tc struct {
		name             string
		inW, outW, rows  int
		ksize            int
		bound            int32
		maxPixel         int
		precomputedScale bool
		torch            bool
	}
	cases := []tc{
		{name: "downscale 4096 to 224", inW: 4096, outW: 224, rows: 3, precomputedScale: true},
		{name: "downscale 1000 to 224", inW: 1000, outW: 224, rows: 5, precomputedScale: true},
		{name: "downscale 301 to 224", inW: 301, outW: 224, rows: 4, precomputedScale: true},
		{name: "upscale 17 to 224", inW: 17, outW: 224, rows: 2, precomputedScale: true},
		{name: "upscale 1 to 224", inW: 1, outW: 224, rows: 2, precomputedScale: true},
		{name: "torch downscale 4096 to 224", inW: 4096, outW: 224, rows: 3, precomputedScale: true, torch: true},
		{name: "torch downscale 301 to 224", inW: 301, outW: 224, rows: 4, precomputedScale: true, torch: true},
		{name: "torch upscale 17 to 384", inW: 17, outW: 384, rows: 2, precomputedScale: true, torch: true},
		{name: "random int16 weights, 9 taps", inW: 40, outW: 31, rows: 3, ksize: 9, bound: 1 << 15},
		{name: "random weights, 5 taps", inW: 40, outW: 31, rows: 3, ksize: 5, bound: 1 << 20},
		{name: "random weights, 3 taps", inW: 7, outW: 9, rows: 3, ksize: 3, bound: 1 << 21},
		{name: "random weights, 17 taps", inW: 50, outW: 20, rows: 3, ksize: 17, bound: 1 << 18},
		{name: "random weights, 75 taps", inW: 4096, outW: 64, rows: 2, ksize: 75, bound: 1 << 16},
		{name: "random weights, 300 taps", inW: 999, outW: 10, rows: 2, ksize: 300, bound: 1 << 14},
		{name: "weights past the split (2^26 and more), small pixels", inW: 64, outW: 8, rows: 2, ksize: 2, bound: 1 << 27, maxPixel: 7},
	}
	for _, c := range cases {
		for _, avx2 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s avx2=%v", c.name, avx2), func(t *testing.T) {
				if avx2 && !useAVX2 {
					t.Skip("no AVX2 on this CPU")
				}
				var hc coeffs
				if c.precomputedScale {
					hc = precompute(c.inW, c.outW, 0, c.outW, c.torch)
				} else {
					hc = randomCoeffs(rng, c.inW, c.outW, c.ksize, c.bound)
				}
				maxPixel := 255
				if c.maxPixel != 0 {
					maxPixel = c.maxPixel
					hc.k[0] = 1 << 26 // not splittable: the other path
				}
				require.Equal(t, c.maxPixel == 0, splittable(&hc))
				require.Equal(t, c.torch || (c.bound != 0 && c.bound <= 1<<15), fitsInt16(&hc))
				// Extra bytes past each row: the paths must not read them.
				srcStride := 3*c.inW + 7
				src := make([]byte, srcStride*c.rows)
				for i := range src {
					src[i] = byte(rng.IntN(maxPixel + 1))
				}
				// Saturated rows too (0 and 255), where clipping bites.
				if c.rows > 2 && maxPixel == 255 {
					for x := 0; x < 3*c.inW; x++ {
						src[x] = 255 * byte(x&1)
					}
				}
				dstStride := 3*c.outW + 5
				want := make([]byte, dstStride*c.rows)
				refHorizontal(src, srcStride, want, dstStride, c.rows, &hc)
				got := make([]byte, dstStride*c.rows)
				saved := useAVX2
				useAVX2 = avx2
				defer func() { useAVX2 = saved }()
				horizontalRows(src, srcStride, got, dstStride, c.rows, &hc)
				for y := 0; y < c.rows; y++ {
					require.Equal(t, want[dstStride*y:][:3*c.outW], got[dstStride*y:][:3*c.outW], "row %d", y)
				}
			})
		}
	}
}

// BenchmarkHorizontal is the horizontal pass of a 4096x4096 image to 224
// columns, on each path, with Pillow's and torch's coefficients.
func BenchmarkHorizontal(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	const inW, rows, outW = 4096, 4096, 224
	src := make([]byte, 3*inW*rows)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	dst := make([]byte, 3*outW*rows)
	for _, torch := range []bool{false, true} {
		hc := precompute(inW, outW, 0, outW, torch)
		for _, avx2 := range []bool{false, true} {
			b.Run(fmt.Sprintf("torch=%v/avx2=%v", torch, avx2), func(b *testing.B) {
				if avx2 && !useAVX2 {
					b.Skip("no AVX2 on this CPU")
				}
				saved := useAVX2
				useAVX2 = avx2
				defer func() { useAVX2 = saved }()
				for b.Loop() {
					horizontalRows(src, 3*inW, dst, 3*outW, rows, &hc)
				}
			})
		}
	}
}
