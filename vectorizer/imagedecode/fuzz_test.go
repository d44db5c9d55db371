package imagedecode

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode: it must return an image or an
// error, never panic (a recovered panic is reported as a failure here),
// crash in C, or return an image outside the limits.
func FuzzDecode(f *testing.F) {
	for _, b := range seedImages(f, "*") {
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add(pngWithIHDR(1<<20, 1<<20))
	f.Add(webpVP8LWithSize(3, 3))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("II*\x00\x08\x00\x00\x00"))
	opts := Options{MaxPixels: 1 << 20, MaxBytes: 1 << 20, ApplyEXIF: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(data, opts)
		// The YUV row path takes only what Decode reads, with its pixels.
		if yuv, ok := DecodeYUV420(data, opts); ok {
			if err != nil {
				t.Fatalf("DecodeYUV420 took an input Decode rejects: %v", err)
			}
			if got := yuv.RGB(); got.Width != img.Width || got.Height != img.Height || string(got.Pix) != string(img.Pix) {
				t.Fatal("YUV420 rows differ from Decode's pixels")
			}
		}
		if err != nil {
			if strings.Contains(err.Error(), "panicked") {
				t.Fatalf("decoder panicked: %v", err)
			}
			if img != nil {
				t.Fatal("image and error")
			}
			return
		}
		if img.Width <= 0 || img.Height <= 0 || int64(img.Width)*int64(img.Height) > opts.MaxPixels {
			t.Fatalf("image %dx%d outside the limits", img.Width, img.Height)
		}
		if len(img.Pix) != 3*img.Width*img.Height {
			t.Fatalf("%d bytes for %dx%d", len(img.Pix), img.Width, img.Height)
		}
	})
}

// seedImages returns the test images matching glob (in testdata/images)
// of at most 8 KiB: small seeds keep the fuzzers fast.
func seedImages(f *testing.F, glob string) [][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "images", glob))
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= 8<<10 {
			out = append(out, b)
		}
	}
	return out
}
