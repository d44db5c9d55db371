package imagedecode

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/bmp"
)

// decodeStd decodes PNG and BMP with Go's decoders after checking the
// header's dimensions.
func decodeStd(f Format, data []byte, maxPixels int64) (*RGB, error) {
	var (
		config func(io.Reader) (image.Config, error)
		decode func(io.Reader) (image.Image, error)
	)
	switch f {
	case PNG:
		config, decode = png.DecodeConfig, png.Decode
	case BMP:
		config, decode = bmp.DecodeConfig, bmp.Decode
	default:
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, f)
	}
	c, err := config(bytes.NewReader(data))
	if err != nil {
		return nil, stdError(f, err)
	}
	if err := checkSize(c.Width, c.Height, maxPixels); err != nil {
		return nil, err
	}
	m, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, stdError(f, err)
	}
	return toRGB(m, nil)
}

// stdError turns a Go decoder's error into one of the package's kinds,
// dropping the decoder's "png: " style prefix.
func stdError(f Format, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return ErrTruncated
	}
	msg := strings.TrimPrefix(err.Error(), string(f)+": ")
	var pu png.UnsupportedError
	switch {
	case errors.As(err, &pu), errors.Is(err, bmp.ErrUnsupported):
		return fmt.Errorf("%w: %s", ErrUnsupported, msg)
	case strings.Contains(msg, "unexpected EOF"), strings.Contains(msg, "not enough pixel data"):
		return ErrTruncated
	case strings.Contains(msg, "non-positive dimension"):
		return ErrZeroSize
	}
	return fmt.Errorf("%w: %s", ErrCorrupt, msg)
}

// toRGB converts a decoded image to packed RGB as Pillow's convert("RGB")
// does: alpha is dropped (not composited), palettes are expanded, grayscale
// is replicated and 16-bit samples keep their high byte. palette, when set,
// overrides a Paletted image's colours (GIF keeps the real colour of its
// transparent index there; image/gif blanks it).
func toRGB(m image.Image, palette [][3]byte) (*RGB, error) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("%w: %dx%d", ErrZeroSize, w, h)
	}
	out := NewRGB(w, h)
	dst := out.Pix
	switch m := m.(type) {
	case *image.RGBA:
		for y := 0; y < h; y++ {
			src := m.Pix[(y)*m.Stride:][:4*w]
			d := dst[3*w*y:][:3*w]
			for x := 0; x < w; x++ {
				d[3*x], d[3*x+1], d[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			src := m.Pix[y*m.Stride:][:4*w]
			d := dst[3*w*y:][:3*w]
			for x := 0; x < w; x++ {
				d[3*x], d[3*x+1], d[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
			}
		}
	case *image.RGBA64:
		for y := 0; y < h; y++ {
			src := m.Pix[y*m.Stride:][:8*w]
			d := dst[3*w*y:][:3*w]
			for x := 0; x < w; x++ {
				d[3*x], d[3*x+1], d[3*x+2] = src[8*x], src[8*x+2], src[8*x+4]
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			src := m.Pix[y*m.Stride:][:8*w]
			d := dst[3*w*y:][:3*w]
			for x := 0; x < w; x++ {
				d[3*x], d[3*x+1], d[3*x+2] = src[8*x], src[8*x+2], src[8*x+4]
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			src := m.Pix[y*m.Stride:][:w]
			d := dst[3*w*y:][:3*w]
			for x := 0; x < w; x++ {
				d[3*x], d[3*x+1], d[3*x+2] = src[x], src[x], src[x]
			}
		}
	case *image.Gray16:
		// Pillow 9 clips I;16 to 255 here (a white image); the high byte is
		// what the image means.
		for y := 0; y < h; y++ {
			src := m.Pix[y*m.Stride:][:2*w]
			d := dst[3*w*y:][:3*w]
			for x := 0; x < w; x++ {
				v := src[2*x]
				d[3*x], d[3*x+1], d[3*x+2] = v, v, v
			}
		}
	case *image.Paletted:
		var pal [256][3]byte
		for i, c := range m.Palette {
			if i >= 256 {
				break
			}
			pal[i] = straightRGB(c)
		}
		for i, c := range palette {
			if i >= 256 {
				break
			}
			pal[i] = c
		}
		for y := 0; y < h; y++ {
			src := m.Pix[y*m.Stride:][:w]
			d := dst[3*w*y:][:3*w]
			for x := 0; x < w; x++ {
				c := pal[src[x]]
				d[3*x], d[3*x+1], d[3*x+2] = c[0], c[1], c[2]
			}
		}
	default:
		for y := 0; y < h; y++ {
			d := dst[3*w*y:][:3*w]
			for x := 0; x < w; x++ {
				c := straightRGB(m.At(b.Min.X+x, b.Min.Y+y))
				d[3*x], d[3*x+1], d[3*x+2] = c[0], c[1], c[2]
			}
		}
	}
	return out, nil
}

// straightRGB returns a colour's non-premultiplied 8-bit RGB.
func straightRGB(c color.Color) [3]byte {
	switch c := c.(type) {
	case color.NRGBA:
		return [3]byte{c.R, c.G, c.B}
	case color.NRGBA64:
		return [3]byte{byte(c.R >> 8), byte(c.G >> 8), byte(c.B >> 8)}
	case color.Gray:
		return [3]byte{c.Y, c.Y, c.Y}
	case color.Gray16:
		return [3]byte{byte(c.Y >> 8), byte(c.Y >> 8), byte(c.Y >> 8)}
	case color.RGBA:
		if c.A == 0xff || c.A == 0 {
			return [3]byte{c.R, c.G, c.B}
		}
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return [3]byte{n.R, n.G, n.B}
}
