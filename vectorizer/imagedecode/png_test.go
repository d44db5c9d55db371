package imagedecode

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/config"
)

// pngChunk is one chunk of a PNG file.
type pngChunk struct {
	typ  string
	data []byte
}

func splitPNG(t testing.TB, b []byte) []pngChunk {
	t.Helper()
	require.True(t, bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")))
	var out []pngChunk
	for rest := b[8:]; len(rest) >= 12; {
		n := binary.BigEndian.Uint32(rest)
		out = append(out, pngChunk{string(rest[4:8]), rest[8 : 8+n]})
		rest = rest[12+n:]
	}
	return out
}

func joinPNG(chunks []pngChunk) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	for _, c := range chunks {
		out = binary.BigEndian.AppendUint32(out, uint32(len(c.data)))
		body := append([]byte(c.typ), c.data...)
		out = append(out, body...)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(body))
	}
	return out
}

// rechunk rewrites a PNG's image data as pieces IDAT chunks (pieces > 0),
// then adds the extra chunks after them.
func rechunk(t testing.TB, b []byte, pieces int, after ...pngChunk) []byte {
	var out []pngChunk
	var z []byte
	for _, c := range splitPNG(t, b) {
		switch c.typ {
		case "IDAT":
			z = append(z, c.data...)
		case "IEND":
			for i := range pieces {
				out = append(out, pngChunk{"IDAT", z[i*len(z)/pieces : (i+1)*len(z)/pieces]})
			}
			out = append(out, after...)
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return joinPNG(out)
}

// withIDATStream replaces the zlib stream of a PNG (one IDAT chunk).
func withIDATStream(t testing.TB, b, z []byte) []byte {
	var out []pngChunk
	done := false
	for _, c := range splitPNG(t, b) {
		if c.typ == "IDAT" {
			if !done {
				out = append(out, pngChunk{"IDAT", z})
				done = true
			}
			continue
		}
		out = append(out, c)
	}
	return joinPNG(out)
}

// generatedPNGs are PNGs written by image/png in every form it writes:
// grey 8/16, RGB, RGBA 8/16, palettes of 2, 4, 16 and 256 colours
// (1, 2, 4 and 8 bits) with and without transparency.
func generatedPNGs(t testing.TB) map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h = 67, 45
	smooth := func(x, y, c int) int { return (x*5 + y*3 + c*40 + rng.IntN(9)) & 0xff }
	out := map[string][]byte{}
	add := func(name string, m image.Image) {
		for level, lname := range map[png.CompressionLevel]string{png.DefaultCompression: "default", png.NoCompression: "none", png.BestCompression: "best"} {
			var buf bytes.Buffer
			require.NoError(t, (&png.Encoder{CompressionLevel: level}).Encode(&buf, m))
			out[name+"/"+lname] = buf.Bytes()
		}
	}
	gray, gray16 := image.NewGray(image.Rect(0, 0, w, h)), image.NewGray16(image.Rect(0, 0, w, h))
	rgba, nrgba := image.NewRGBA(image.Rect(0, 0, w, h)), image.NewNRGBA(image.Rect(0, 0, w, h))
	rgba64, nrgba64 := image.NewRGBA64(image.Rect(0, 0, w, h)), image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			gray.SetGray(x, y, color.Gray{uint8(smooth(x, y, 0))})
			gray16.SetGray16(x, y, color.Gray16{uint16(smooth(x, y, 0)<<8 | rng.IntN(256))})
			rgba.SetRGBA(x, y, color.RGBA{uint8(smooth(x, y, 0)), uint8(smooth(x, y, 1)), uint8(smooth(x, y, 2)), 0xff})
			nrgba.SetNRGBA(x, y, color.NRGBA{uint8(smooth(x, y, 0)), uint8(smooth(x, y, 1)), uint8(smooth(x, y, 2)), uint8(rng.IntN(256))})
			rgba64.SetRGBA64(x, y, color.RGBA64{uint16(rng.IntN(65536)), uint16(rng.IntN(65536)), uint16(rng.IntN(65536)), 0xffff})
			nrgba64.SetNRGBA64(x, y, color.NRGBA64{uint16(rng.IntN(65536)), uint16(rng.IntN(65536)), uint16(rng.IntN(65536)), uint16(rng.IntN(65536))})
		}
	}
	add("gray", gray)
	add("gray16", gray16)
	add("rgb", rgba)
	add("rgba", nrgba)
	add("rgb16", rgba64)
	add("rgba16", nrgba64)
	for _, n := range []int{2, 4, 16, 256} {
		for _, alpha := range []bool{false, true} {
			pal := make(color.Palette, n)
			for i := range pal {
				a := uint8(0xff)
				if alpha && i%3 == 0 {
					a = uint8(i)
				}
				pal[i] = color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), a}
			}
			m := image.NewPaletted(image.Rect(0, 0, w, h), pal)
			for i := range m.Pix {
				m.Pix[i] = uint8(rng.IntN(n))
			}
			name := fmt.Sprintf("palette%d", n)
			if alpha {
				name += "_trns"
			}
			add(name, m)
		}
	}
	return out
}

// decodeBoth decodes through the fast path (which must take the file when
// fast is set) and through image/png.
func decodeBoth(t *testing.T, data []byte, fast bool) {
	t.Helper()
	if fast {
		p, ok := pngLayout(data)
		require.True(t, ok, "chunk walk declined")
		img, ok, err := p.pixels()
		require.NoError(t, err)
		require.True(t, ok, "fast path declined")
		want, err := decodeStd(PNG, data, config.DefaultMaxPixels)
		require.NoError(t, err)
		assert.Equal(t, [2]int{want.Width, want.Height}, [2]int{img.Width, img.Height})
		assert.Equal(t, shaHex(want.Pix), shaHex(img.Pix), "pixels differ from image/png's")
	}
	got, gerr := decodePNG(data, config.DefaultMaxPixels)
	want, werr := decodeStd(PNG, data, config.DefaultMaxPixels)
	if werr != nil {
		require.Error(t, gerr, "image/png refuses this file: %v", werr)
		assert.Equal(t, werr.Error(), gerr.Error())
		return
	}
	require.NoError(t, gerr)
	assert.Equal(t, shaHex(want.Pix), shaHex(got.Pix), "pixels differ from image/png's")
}

// filteredPNG writes a non-interlaced w x h PNG of the colour type and
// depth whose raw rows are random, row y filtered with filter type y%5
// (so every filter meets every position), one IDAT chunk.
func filteredPNG(t testing.TB, seed uint64, w, h, depth, ctype int) []byte {
	bits := depth * map[int]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
	bpp, rb := max(1, bits/8), (w*bits+7)/8
	rng := rand.New(rand.NewPCG(seed, uint64(ctype)))
	prev, cur := make([]byte, rb), make([]byte, rb)
	var raw []byte
	for y := range h {
		for i := range cur {
			// Smooth with noise, so that the predictors' choices vary.
			cur[i] = byte(int(prev[i]) + rng.IntN(9) - 4)
			if i >= bpp && rng.IntN(3) == 0 {
				cur[i] = byte(int(cur[i-bpp]) + rng.IntN(5) - 2)
			}
			if rng.IntN(50) == 0 {
				cur[i] = byte(rng.IntN(256))
			}
		}
		f := byte(y % 5)
		raw = append(raw, f)
		for i := range cur {
			var a, c int
			if i >= bpp {
				a, c = int(cur[i-bpp]), int(prev[i-bpp])
			}
			b := int(prev[i])
			pred := 0
			switch f {
			case 1:
				pred = a
			case 2:
				pred = b
			case 3:
				pred = (a + b) / 2
			case 4:
				pa, pb, pc := abs(b-c), abs(a-c), abs(a+b-2*c)
				switch {
				case pa <= pb && pa <= pc:
					pred = a
				case pb <= pc:
					pred = b
				default:
					pred = c
				}
			}
			raw = append(raw, cur[i]-byte(pred))
		}
		prev, cur = cur, prev
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, err := zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, byte(depth), byte(ctype), 0, 0, 0)
	chunks := []pngChunk{{"IHDR", ihdr}}
	if ctype == 3 {
		pal := make([]byte, 3<<depth)
		for i := range pal {
			pal[i] = byte(rng.IntN(256))
		}
		chunks = append(chunks, pngChunk{"PLTE", pal})
	}
	return joinPNG(append(chunks, pngChunk{"IDAT", z.Bytes()}, pngChunk{"IEND", nil}))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestPNGFastPathMatchesImagePNG(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "images", "*.png"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	tests := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		tests["testdata/"+filepath.Base(f)] = b
	}
	for name, b := range generatedPNGs(t) {
		tests["generated/"+name] = b
	}
	for _, f := range [][2]int{{8, 2}, {8, 6}, {8, 0}, {8, 4}, {8, 3}, {16, 2}, {16, 6}, {16, 0}, {16, 4}, {1, 0}, {2, 3}, {4, 0}} {
		for _, size := range [][2]int{{1, 11}, {2, 7}, {61, 40}} {
			name := fmt.Sprintf("filtered/depth%d_type%d_%dx%d", f[0], f[1], size[0], size[1])
			tests[name] = filteredPNG(t, uint64(size[0]), size[0], size[1], f[0], f[1])
		}
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			decodeBoth(t, b, true)
			// The same image data in several IDAT chunks, some empty, and
			// with empty IDAT chunks and an ancillary chunk after it.
			decodeBoth(t, rechunk(t, b, 3), true)
			decodeBoth(t, rechunk(t, b, 1, pngChunk{"IDAT", nil}, pngChunk{"tEXt", []byte("k\x00v")}, pngChunk{"IDAT", nil}), true)
		})
	}
}

// TestPNGFastPathDeclines: files that image/png refuses, or that the fast
// path leaves to it, give image/png's answer.
func TestPNGFastPathDeclines(t *testing.T) {
	b := readImage(t, "png_rgb8.png")
	chunks := splitPNG(t, b)
	var z []byte
	for _, c := range chunks {
		if c.typ == "IDAT" {
			z = append(z, c.data...)
		}
	}
	inflated, err := zlib.NewReader(bytes.NewReader(z))
	require.NoError(t, err)
	var raw bytes.Buffer
	_, err = raw.ReadFrom(inflated)
	require.NoError(t, err)
	deflate := func(p []byte) []byte {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		_, err := zw.Write(p)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		return buf.Bytes()
	}
	badFilter := bytes.Clone(raw.Bytes())
	badFilter[0] = 5
	tests := []struct {
		name string
		data []byte
		fast bool // whether the fast path takes it
	}{
		{"as is", b, true},
		{"too much pixel data", withIDATStream(t, b, deflate(append(bytes.Clone(raw.Bytes()), 0))), false},
		{"not enough pixel data", withIDATStream(t, b, deflate(raw.Bytes()[:raw.Len()-1])), false},
		{"bad filter type", withIDATStream(t, b, deflate(badFilter)), false},
		{"bytes after the zlib stream", withIDATStream(t, b, append(bytes.Clone(z), 1, 2, 3)), false},
		{"garbage IDAT after the image data", rechunk(t, b, 1, pngChunk{"IDAT", []byte("junk")}), false},
		{"ancillary chunk before IHDR", joinPNG(append([]pngChunk{{"tEXt", []byte("k\x00v")}}, chunks...)), false},
		{"no IEND", joinPNG(chunks[:len(chunks)-1]), false},
		{"PLTE after IDAT", rechunk(t, b, 1, pngChunk{"PLTE", []byte{1, 2, 3}}), false},
		{"truncated", b[:len(b)-20], false},
		{"preset dictionary", withIDATStream(t, b, append([]byte{0x78, 0xbb}, z[2:]...)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { decodeBoth(t, tt.data, tt.fast) })
	}
	// Every single-byte change of the zlib stream (CRCs fixed up), and of
	// the file (CRCs left as they are): the same answer either way.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		zz := bytes.Clone(z)
		zz[rng.IntN(len(zz))] ^= byte(1 + rng.IntN(255))
		decodeBoth(t, withIDATStream(t, b, zz), false)
		bb := bytes.Clone(b)
		bb[rng.IntN(len(bb))] ^= byte(1 + rng.IntN(255))
		decodeBoth(t, bb, false)
	}
}

// BenchmarkDecodePNG compares the fast path with image/png on a
// photo-like RGB PNG.
func BenchmarkDecodePNG(b *testing.B) {
	const w, h = 1920, 1080
	rng := rand.New(rand.NewPCG(5, 6))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(i/4%w/8 + i/4/w/8 + rng.IntN(4))
		if i%4 == 3 {
			m.Pix[i] = 0xff
		}
	}
	var buf bytes.Buffer
	require.NoError(b, png.Encode(&buf, m))
	for _, c := range []struct {
		name   string
		decode func([]byte, int64) (*RGB, error)
	}{
		{"fast", decodePNG},
		{"image-png", func(d []byte, n int64) (*RGB, error) { return decodeStd(PNG, d, n) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.decode(buf.Bytes(), config.DefaultMaxPixels); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzPNGFastPath: on any input, Decode's PNG path answers as image/png
// does (the same pixels, or the same error).
func FuzzPNGFastPath(f *testing.F) {
	for _, b := range seedImages(f, "png_*.png") {
		f.Add(b)
	}
	f.Add(filteredPNG(f, 1, 5, 4, 8, 2))
	f.Add(filteredPNG(f, 2, 9, 3, 2, 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, gerr := decodePNG(data, 1<<20)
		want, werr := decodeStd(PNG, data, 1<<20)
		if werr != nil || gerr != nil {
			if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
				t.Fatalf("fast path: %v; image/png: %v", gerr, werr)
			}
			return
		}
		if got.Width != want.Width || got.Height != want.Height || !bytes.Equal(got.Pix, want.Pix) {
			t.Fatal("pixels differ from image/png's")
		}
	})
}
