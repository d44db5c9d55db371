package imagedecode

import (
	"bytes"
	"fmt"
	"image/gif"
)

// decodeGIF decodes the first frame as Pillow does. image/gif replaces the
// transparent index's colour with transparent black, while Pillow's
// convert("RGB") keeps the palette colour, so the colour tables are read
// from the file (gifPalette) and used instead.
func decodeGIF(data []byte, maxPixels int64) (*RGB, error) {
	c, err := gif.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, stdError(GIF, err)
	}
	if err := checkSize(c.Width, c.Height, maxPixels); err != nil {
		return nil, err
	}
	m, err := gif.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, stdError(GIF, err)
	}
	b := m.Bounds()
	if b.Dx() != c.Width || b.Dy() != c.Height || b.Min.X != 0 || b.Min.Y != 0 {
		// Pillow 9 pastes a partial first frame on a canvas of the logical
		// screen size filled with the background index.
		return nil, fmt.Errorf("%w: first frame %v does not cover the %dx%d screen", ErrUnsupported, b, c.Width, c.Height)
	}
	return toRGB(m, gifPalette(data))
}

// gifPalette returns the colour table in effect for the first image: its
// local table, else the global one; nil when the stream cannot be walked
// (the decoder has accepted it by then, so this does not happen in
// practice).
func gifPalette(data []byte) [][3]byte {
	if len(data) < 13 {
		return nil
	}
	table := func(p []byte, n int) [][3]byte {
		out := make([][3]byte, n)
		for i := range out {
			copy(out[i][:], p[3*i:])
		}
		return out
	}
	var global [][3]byte
	pos := 13
	if flags := data[10]; flags&0x80 != 0 {
		n := 1 << (int(flags&7) + 1)
		if len(data) < pos+3*n {
			return nil
		}
		global = table(data[pos:], n)
		pos += 3 * n
	}
	for pos < len(data) {
		switch data[pos] {
		case 0x21: // extension: label, then sub-blocks
			pos += 2
			for pos < len(data) && data[pos] != 0 {
				pos += int(data[pos]) + 1
			}
			pos++
		case 0x2C: // image descriptor
			if len(data) < pos+10 {
				return global
			}
			flags := data[pos+9]
			if flags&0x80 == 0 {
				return global
			}
			n := 1 << (int(flags&7) + 1)
			if len(data) < pos+10+3*n {
				return global
			}
			return table(data[pos+10:], n)
		default:
			return global
		}
	}
	return global
}
