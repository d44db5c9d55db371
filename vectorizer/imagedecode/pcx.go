package imagedecode

import (
	"encoding/binary"
	"fmt"
)

// PCX (ZSoft Paintbrush), read as Pillow 9.4's PcxImagePlugin and
// PcxDecode.c do: 1-bit (1 is white), 2 or 4 bit planes with the header's
// 16-colour palette, 8-bit with the VGA palette at the end of the file (or
// gray without one), and 24-bit as three 8-bit planes; RLE per line of
// planes*stride bytes. Pillow's quirks are kept: a stride that differs from
// the header's is rounded up to even, and planes are moved together only
// when the line length is not a multiple of the width.

func sniffPCX(data []byte) bool {
	return len(data) >= 2 && data[0] == 10 && (data[1] == 0 || data[1] == 2 || data[1] == 3 || data[1] == 5)
}

func decodePCX(data []byte, maxPixels int64) (*RGB, error) {
	if len(data) < 128 {
		return nil, fmt.Errorf("%w: PCX header", ErrTruncated)
	}
	u16 := func(i int) int { return int(binary.LittleEndian.Uint16(data[i:])) }
	x0, y0, x1, y1 := u16(4), u16(6), u16(8)+1, u16(10)+1
	if x1 <= x0 || y1 <= y0 {
		return nil, fmt.Errorf("%w: bad PCX image size", ErrCorrupt)
	}
	version, bits, planes, provided := int(data[1]), int(data[3]), int(data[65]), u16(66)
	w, h := x1-x0, y1-y0
	const (
		bilevel = iota
		bitPlanes
		gray8
		rgb24
	)
	kind := 0
	var pal [256][3]byte
	for i := range pal {
		pal[i] = [3]byte{byte(i), byte(i), byte(i)}
	}
	switch {
	case bits == 1 && planes == 1:
		kind = bilevel
	case bits == 1 && (planes == 2 || planes == 4):
		kind = bitPlanes
		for i := 0; i < 16; i++ {
			copy(pal[i][:], data[16+3*i:])
		}
	case version == 5 && bits == 8 && planes == 1:
		kind = gray8
		if len(data) >= 769 {
			if vga := data[len(data)-769:]; vga[0] == 12 {
				for i := range pal {
					copy(pal[i][:], vga[1+3*i:])
				}
			}
		}
	case version == 5 && bits == 8 && planes == 3:
		kind = rgb24
	default:
		return nil, fmt.Errorf("%w: PCX version %d with %d bits and %d planes", ErrUnsupported, version, bits, planes)
	}
	if err := checkSize(w, h, maxPixels); err != nil {
		return nil, err
	}
	stride := (w*bits + 7) / 8
	if provided != stride {
		stride += stride % 2
	}
	lineBytes := planes * stride
	line := make([]byte, lineBytes)
	img := NewRGB(w, h)
	src := data[128:]
	for y := 0; y < h; y++ {
		for x := 0; x < lineBytes; {
			if len(src) == 0 {
				return nil, ErrTruncated
			}
			if src[0]&0xC0 == 0xC0 {
				if len(src) < 2 {
					return nil, ErrTruncated
				}
				n := int(src[0] & 0x3F)
				if x+n > lineBytes {
					return nil, fmt.Errorf("%w: PCX run past the end of a line", ErrCorrupt)
				}
				for i := 0; i < n; i++ {
					line[x+i] = src[1]
				}
				x += n
				src = src[2:]
			} else {
				line[x] = src[0]
				x++
				src = src[1:]
			}
		}
		if lineBytes%w != 0 && lineBytes > w {
			bands := lineBytes / w
			bstride := lineBytes / bands
			for i := 1; i < bands; i++ {
				copy(line[i*w:i*w+w], line[i*bstride:i*bstride+w])
			}
		}
		pcxRow(img.Pix[3*w*y:3*w*(y+1)], line, kind, planes, &pal)
	}
	return img, nil
}

// pcxRow is Pillow's unpacker for the line ("1", "P;2L"/"P;4L", "L"/"P",
// "RGB;L"), then the palette.
func pcxRow(dst, line []byte, kind, planes int, pal *[256][3]byte) {
	w := len(dst) / 3
	s := (w + 7) / 8
	for x := 0; x < w; x++ {
		var c [3]byte
		switch kind {
		case 0: // bilevel
			v := byte(0)
			if line[x>>3]&(0x80>>(x&7)) != 0 {
				v = 255
			}
			c = [3]byte{v, v, v}
		case 1: // bitPlanes
			m, j := byte(0x80>>(x&7)), x>>3
			idx := 0
			for p := 0; p < planes; p++ {
				if line[j+p*s]&m != 0 {
					idx |= 1 << p
				}
			}
			c = pal[idx]
		case 2: // gray8
			c = pal[line[x]]
		default: // rgb24
			c = [3]byte{line[x], line[x+w], line[x+2*w]}
		}
		dst[3*x], dst[3*x+1], dst[3*x+2] = c[0], c[1], c[2]
	}
}
