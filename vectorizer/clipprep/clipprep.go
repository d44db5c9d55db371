package clipprep

import (
	"fmt"

	"github.com/mclip-go/mclip/vectorizer/imagedecode"
)

// Crop resizes and center-crops img to the CropWidth x CropHeight uint8
// image CLIP sees (cropAnchor: where the window starts; a crop larger than
// the resized image is padded with zeros).
func (c Config) Crop(img *imagedecode.RGB) (*imagedecode.RGB, error) {
	if img == nil || img.Width <= 0 || img.Height <= 0 || len(img.Pix) != 3*img.Width*img.Height {
		return nil, fmt.Errorf("preprocess: invalid image")
	}
	return c.crop(image8{w: img.Width, h: img.Height, pix: img.Pix}, nil)
}

// Rows is an image that gives its pixels a row at a time, as three planes
// (imagedecode.YUV420, whose RGB image is never built).
type Rows interface {
	// Size is the width and height.
	Size() (w, h int)
	// Row writes row y's red, green and blue samples into r, g and b.
	Row(y int, r, g, b []byte)
}

// CropRows is Crop of the image that src's rows make up: the same pixels,
// with only the rows being resized in memory at a time.
func (c Config) CropRows(src Rows) (*imagedecode.RGB, error) {
	w, h := src.Size()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("preprocess: invalid image")
	}
	return c.crop(image8{w: w, h: h}, src)
}

func (c Config) crop(img image8, rows Rows) (*imagedecode.RGB, error) {
	nw, nh := c.OutputSize(img.w, img.h)
	if nw <= 0 || nh <= 0 {
		return nil, fmt.Errorf("preprocess: %dx%d image resizes to %dx%d", img.w, img.h, nw, nh)
	}
	top := c.Kind.cropAnchor(nh, c.CropHeight)
	left := c.Kind.cropAnchor(nw, c.CropWidth)
	// The part of the crop window inside the resized image.
	x0, x1 := max(left, 0), min(left+c.CropWidth, nw)
	y0, y1 := max(top, 0), min(top+c.CropHeight, nh)
	win := resizeWindow(img, rows, nw, nh, x0, x1, y0, y1, c.Kind == KindCLIPFast)
	if win.w == c.CropWidth && win.h == c.CropHeight {
		return &imagedecode.RGB{Width: win.w, Height: win.h, Pix: win.pix}, nil
	}
	out := imagedecode.NewRGB(c.CropWidth, c.CropHeight)
	for y := 0; y < win.h; y++ {
		copy(out.Pix[3*((y+y0-top)*c.CropWidth+x0-left):][:3*win.w], win.pix[3*win.w*y:][:3*win.w])
	}
	return out, nil
}

// cropAnchor is the first row (or column) of the crop in a resized side of
// n pixels, negative when the crop pads. transformers' slow center_crop
// takes (n-crop)//2, padding included; torchvision's center_crop pads
// (crop-n)//2 before and rounds (n-crop)/2 half to even (Python's round).
func (k Kind) cropAnchor(n, crop int) int {
	if !k.torchvision() {
		return floorDiv(n-crop, 2)
	}
	if n < crop {
		return -((crop - n) / 2)
	}
	d := n - crop
	if d%2 == 1 && (d/2)%2 == 1 {
		return d/2 + 1
	}
	return d / 2
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// TensorLen is the number of floats Normalize writes.
func (c Config) TensorLen() int { return 3 * c.CropHeight * c.CropWidth }

// Normalize writes the crop as CHW float32 into dst (TensorLen long), each
// value as the kind's Python computes it (lut).
func (c Config) Normalize(crop *imagedecode.RGB, dst []float32) error {
	if crop.Width != c.CropWidth || crop.Height != c.CropHeight {
		return fmt.Errorf("normalize: crop is %dx%d, want %dx%d", crop.Width, crop.Height, c.CropWidth, c.CropHeight)
	}
	if len(dst) != c.TensorLen() {
		return fmt.Errorf("normalize: destination holds %d floats, want %d", len(dst), c.TensorLen())
	}
	lut := c.lut()
	plane := c.CropWidth * c.CropHeight
	for ch := 0; ch < 3; ch++ {
		t := &lut[ch]
		d := dst[ch*plane:][:plane]
		for i := range d {
			d[i] = t[crop.Pix[3*i+ch]]
		}
	}
	return nil
}

// lut maps each channel's byte value to its normalised float:
//   - KindCLIPPillow: float32(float64(v) * rescale_factor) (numpy's float64
//     rescale, then float32), then (x - mean) / std in float32;
//   - KindCLIPFast: rescale and normalise fused as BaseImageProcessorFast
//     does, (float32(v) - m) / s with m = float32(mean * float32(1 /
//     rescale_factor)) and s likewise; rescale alone is float32(v) *
//     float32(rescale_factor);
//   - KindOpenCLIP: ToTensor's float32(v) / 255, then (x - mean) / std.
func (c Config) lut() *[3][256]float32 {
	var t [3][256]float32
	for ch := 0; ch < 3; ch++ {
		mean, std := c.Mean[ch], c.Std[ch]
		fused := c.Kind == KindCLIPFast && c.DoRescale && c.DoNormalize
		if fused {
			inv := float32(1 / c.RescaleFactor)
			mean, std = float32(mean*inv), float32(std*inv)
		}
		for v := 0; v < 256; v++ {
			x := float32(v)
			switch {
			case c.Kind == KindOpenCLIP:
				x /= 255
			case fused:
			case c.Kind == KindCLIPFast && c.DoRescale:
				x *= float32(c.RescaleFactor)
			case c.DoRescale:
				x = float32(float64(v) * c.RescaleFactor)
			}
			if c.DoNormalize {
				x = (x - mean) / std
			}
			t[ch][v] = x
		}
	}
	return &t
}

// Tensor crops and normalises img into dst (TensorLen long).
func (c Config) Tensor(img *imagedecode.RGB, dst []float32) error {
	crop, err := c.Crop(img)
	if err != nil {
		return err
	}
	return c.Normalize(crop, dst)
}
