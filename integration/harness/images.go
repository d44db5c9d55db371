package harness

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
)

// GradientPNG is a deterministic w x h PNG for the end-to-end tests: a
// gradient with a tint chosen by seed, so that different seeds give
// different images (and vectors).
func GradientPNG(seed, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{
				R: uint8((x*255/max(w, 1) + seed*37) % 256),
				G: uint8((y*255/max(h, 1) + seed*91) % 256),
				B: uint8((x*y + seed*13) % 256),
				A: 255,
			})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding an in-memory RGBA image cannot fail
	}
	return b.Bytes()
}

// GradientPNGBase64 is GradientPNG as Weaviate's blob properties take it.
func GradientPNGBase64(seed, w, h int) string {
	return base64.StdEncoding.EncodeToString(GradientPNG(seed, w, h))
}
