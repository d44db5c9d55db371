package imagedecode

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
)

// decodeGIF decodes the first frame as Pillow 9 does: on a canvas of the
// logical screen size filled with the frame's transparent index (index 0
// when it has none), the frame pasted at its offset, then the palette
// expanded. image/gif replaces the transparent index's colour with
// transparent black, while Pillow's convert("RGB") keeps the palette colour,
// so the colour tables are read from the file (gifFirstFrame) instead.
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
	frame, ok := m.(*image.Paletted)
	if !ok {
		return nil, fmt.Errorf("%w: first frame is a %T", ErrCorrupt, m)
	}
	palette, transparent := gifFirstFrame(data)
	b := frame.Bounds()
	if b == image.Rect(0, 0, c.Width, c.Height) {
		return toRGB(frame, palette)
	}
	if !b.In(image.Rect(0, 0, c.Width, c.Height)) {
		return nil, fmt.Errorf("%w: first frame %v outside the %dx%d screen", ErrUnsupported, b, c.Width, c.Height)
	}
	canvas := image.NewPaletted(image.Rect(0, 0, c.Width, c.Height), frame.Palette)
	if transparent >= 0 {
		for i := range canvas.Pix {
			canvas.Pix[i] = byte(transparent)
		}
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		copy(canvas.Pix[canvas.PixOffset(b.Min.X, y):][:b.Dx()], frame.Pix[frame.PixOffset(b.Min.X, y):][:b.Dx()])
	}
	return toRGB(canvas, palette)
}

// gifFirstFrame returns the colour table in effect for the first image (its
// local table, else the global one) and the transparent index its graphic
// control extension names (-1 for none). The palette is nil when the stream
// cannot be walked (the decoder has accepted it by then, so this does not
// happen in practice).
func gifFirstFrame(data []byte) ([][3]byte, int) {
	transparent := -1
	if len(data) < 13 {
		return nil, transparent
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
			return nil, transparent
		}
		global = table(data[pos:], n)
		pos += 3 * n
	}
	for pos < len(data) {
		switch data[pos] {
		case 0x21: // extension: label, then sub-blocks
			if pos+6 < len(data) && data[pos+1] == 0xF9 && data[pos+2] == 4 {
				if data[pos+3]&1 != 0 {
					transparent = int(data[pos+6])
				} else {
					transparent = -1
				}
			}
			pos += 2
			for pos < len(data) && data[pos] != 0 {
				pos += int(data[pos]) + 1
			}
			pos++
		case 0x2C: // image descriptor
			if len(data) < pos+10 {
				return global, transparent
			}
			flags := data[pos+9]
			if flags&0x80 == 0 {
				return global, transparent
			}
			n := 1 << (int(flags&7) + 1)
			if len(data) < pos+10+3*n {
				return global, transparent
			}
			return table(data[pos+10:], n), transparent
		default:
			return global, transparent
		}
	}
	return global, transparent
}
