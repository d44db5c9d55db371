package imagedecode

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/testfixture/webpenc"
)

// TestYUV420RowsEqualDecode checks that the YUV planes converted row by row
// give Decode's pixels (libwebp's own conversion) byte for byte: on the
// test WebPs, on lossy WebPs of every parity of width and height down to
// 1x1, and on the real-photo corpus when it is there (bench/photos).
func TestYUV420RowsEqualDecode(t *testing.T) {
	type tc struct {
		name string
		data []byte
		ok   bool // DecodeYUV420 takes it
	}
	var cases []tc
	for _, f := range []struct {
		name string
		ok   bool
	}{
		{"webp_lossy.webp", true}, {"webp_lossy_alpha.webp", true}, {"webp_333x517.webp", true},
		{"webp_lossless.webp", false}, {"webp_lossless_alpha.webp", false}, {"webp_animated.webp", false},
		{"webp_lossless_exif8.webp", false},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "images", f.name))
		require.NoError(t, err)
		cases = append(cases, tc{f.name, data, f.ok})
	}
	for _, s := range [][2]int{{1, 1}, {2, 1}, {1, 2}, {2, 2}, {3, 3}, {5, 4}, {4, 5}, {16, 16}, {17, 16}, {33, 34}, {35, 35}, {64, 63}, {100, 101}, {257, 130}} {
		for _, q := range []float32{20, 90} {
			data := webpenc.Lossy(webpenc.Noisy(uint64(s[0]*1000+s[1]), s[0], s[1]), s[0], s[1], q)
			cases = append(cases, tc{fmt.Sprintf("generated %dx%d q%v", s[0], s[1], q), data, true})
		}
	}
	corpus, _ := filepath.Glob(filepath.Join("..", "..", ".cache", "photos", "images", "*.webp"))
	for _, path := range corpus {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		cases = append(cases, tc{"corpus " + filepath.Base(path), data, true})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := Decode(c.data, Options{})
			require.NoError(t, err)
			img, ok := DecodeYUV420(c.data, Options{})
			require.Equal(t, c.ok, ok)
			if !ok {
				return
			}
			saved := yuvAVX2
			defer func() { yuvAVX2 = saved }()
			for _, avx2 := range []bool{false, true} {
				if avx2 && saved == 0 {
					continue // no AVX2 on this CPU
				}
				yuvAVX2 = 0
				if avx2 {
					yuvAVX2 = 1
				}
				got := img.RGB()
				require.Equal(t, [2]int{want.Width, want.Height}, [2]int{got.Width, got.Height})
				if !assert.True(t, string(want.Pix) == string(got.Pix), "pixels differ, avx2=%v", avx2) {
					for i := range want.Pix {
						if want.Pix[i] != got.Pix[i] {
							t.Fatalf("avx2=%v: first difference at byte %d (x %d, y %d): want %d, got %d", avx2, i, i/3%want.Width, i/3/want.Width, want.Pix[i], got.Pix[i])
						}
					}
				}
			}
		})
	}
}

// TestDecodeYUV420Declines checks the inputs left to Decode.
func TestDecodeYUV420Declines(t *testing.T) {
	lossy, err := os.ReadFile(filepath.Join("testdata", "images", "webp_lossy.webp"))
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		data []byte
		opts Options
	}{
		{"empty", nil, Options{}},
		{"png", []byte("\x89PNG\r\n\x1a\n"), Options{}},
		{"truncated", lossy[:len(lossy)/2], Options{}},
		{"header only", lossy[:30], Options{}},
		{"too many pixels", lossy, Options{MaxPixels: 100}},
		{"too many bytes", lossy, Options{MaxBytes: 100}},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, ok := DecodeYUV420(c.data, c.opts)
			assert.False(t, ok)
			assert.Nil(t, img)
		})
	}
}

// TestYUV420ReusedPlanes decodes into planes that held another image
// (Release hands them back uncleared): the rows must still be Decode's.
func TestYUV420ReusedPlanes(t *testing.T) {
	big := webpenc.Lossy(webpenc.Noisy(1, 1024, 1024), 1024, 1024, 50)
	small := webpenc.Lossy(webpenc.Noisy(2, 700, 601), 700, 601, 80)
	for range 3 {
		for _, data := range [][]byte{big, small} {
			want, err := Decode(data, Options{})
			require.NoError(t, err)
			img, ok := DecodeYUV420(data, Options{})
			require.True(t, ok)
			got := img.RGB()
			img.Release()
			require.Equal(t, want.Width, got.Width)
			require.True(t, string(want.Pix) == string(got.Pix), "pixels differ after reuse")
			img.Release() // twice is harmless
		}
	}
}
