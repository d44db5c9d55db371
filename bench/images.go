package bench

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// photo draws a w×h image with smooth colour fields, edges and noise, so
// that its JPEG has a photograph's entropy, and returns it as a quality 90
// JPEG.
func photo(w, h int, seed uint64) ([]byte, error) {
	rng := rand.New(rand.NewPCG(seed, 7))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fx, fy := 2+rng.Float64()*4, 2+rng.Float64()*4
	cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
	rad := float64(min(w, h)) * (0.2 + 0.2*rng.Float64())
	for y := range h {
		v := float64(y) / float64(h)
		for x := range w {
			u := float64(x) / float64(w)
			r := 128 + 90*math.Sin(fx*u*math.Pi+v)
			g := 128 + 90*math.Cos(fy*v*math.Pi-u)
			b := 128 + 60*math.Sin((u+v)*5)
			if dx, dy := float64(x)-cx, float64(y)-cy; dx*dx+dy*dy < rad*rad {
				r, g, b = 240-r/2, 60+g/3, 40+b/4
			}
			n := rng.NormFloat64() * 12
			img.SetRGBA(x, y, color.RGBA{clamp8(r + n), clamp8(g + n), clamp8(b + n), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return nil, fmt.Errorf("encode benchmark jpeg: %w", err)
	}
	return buf.Bytes(), nil
}

func clamp8(v float64) uint8 { return uint8(max(0, min(255, math.Round(v)))) }

// jpegSet is n generated JPEGs of one size, in memory and on disk.
type jpegSet struct {
	W, H  int
	Data  [][]byte
	Paths []string
}

func (r *runner) jpegs(w, h, n int) (*jpegSet, error) {
	s := &jpegSet{W: w, H: h}
	for i := range n {
		b, err := photo(w, h, uint64(i+1))
		if err != nil {
			return nil, err
		}
		p := filepath.Join(r.work, fmt.Sprintf("photo_%dx%d_%d.jpg", w, h, i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, fmt.Errorf("write benchmark jpeg: %w", err)
		}
		s.Data = append(s.Data, b)
		s.Paths = append(s.Paths, p)
	}
	return s, nil
}
