package imagedecode

import (
	"encoding/binary"
	"fmt"
)

// TGA (Truevision Targa), read as Pillow 9.4's TgaImagePlugin does:
// colour-mapped 8-bit, true-colour 16 (5-5-5), 24 and 32-bit (alpha
// dropped), grayscale 1, 8 and 16-bit (gray and alpha), each uncompressed
// or RLE (runs may cross rows), bottom-up unless the descriptor says
// top-down, mirrored when it says right-to-left. TGA has no magic number;
// Pillow tries it last, and so does Sniff, on a plausible header.

type tgaHeader struct {
	idLen, mapType, imageType  int
	mapStart, mapLen, mapDepth int
	w, h, depth, flags         int
}

func parseTGAHeader(data []byte) (tgaHeader, bool) {
	if len(data) < 18 {
		return tgaHeader{}, false
	}
	t := tgaHeader{
		idLen: int(data[0]), mapType: int(data[1]), imageType: int(data[2]),
		mapStart: int(binary.LittleEndian.Uint16(data[3:])), mapLen: int(binary.LittleEndian.Uint16(data[5:])),
		mapDepth: int(data[7]),
		w:        int(binary.LittleEndian.Uint16(data[12:])), h: int(binary.LittleEndian.Uint16(data[14:])),
		depth: int(data[16]), flags: int(data[17]),
	}
	if t.mapType > 1 || t.w == 0 || t.h == 0 {
		return t, false
	}
	switch t.imageType &^ 8 {
	case 1, 2, 3:
	default:
		return t, false
	}
	switch t.depth {
	case 1, 8, 16, 24, 32:
	default:
		return t, false
	}
	return t, true
}

// sniffTGA accepts a header that Pillow would open and that has pixels
// it can decode, with a colour map exactly when the image type needs one.
func sniffTGA(data []byte) bool {
	t, ok := parseTGAHeader(data)
	if !ok || t.flags&0xC0 != 0 {
		return false
	}
	if _, ok := tgaBytes(t); !ok {
		return false
	}
	if t.imageType&7 == 1 {
		return t.mapType == 1 && (t.mapDepth == 16 || t.mapDepth == 24 || t.mapDepth == 32)
	}
	return t.mapType == 0 || t.mapDepth == 15 || t.mapDepth == 16 || t.mapDepth == 24 || t.mapDepth == 32
}

// tgaBytes is the size of one stored pixel for Pillow's (type, depth)
// modes; 0 for 1-bit (packed rows).
func tgaBytes(t tgaHeader) (int, bool) {
	switch [2]int{t.imageType & 7, t.depth} {
	case [2]int{1, 8}, [2]int{3, 8}:
		return 1, true
	case [2]int{3, 1}:
		return 0, true
	case [2]int{3, 16}, [2]int{2, 16}:
		return 2, true
	case [2]int{2, 24}:
		return 3, true
	case [2]int{2, 32}:
		return 4, true
	}
	return 0, false
}

// scale5 is Pillow's 5-bit to 8-bit expansion (Unpack.c, BGR;15).
func scale5(v uint16) byte { return byte(int(v&31) * 255 / 31) }

func decodeTGA(data []byte, maxPixels int64) (*RGB, error) {
	t, ok := parseTGAHeader(data)
	if !ok {
		return nil, fmt.Errorf("%w: not a TGA header", ErrCorrupt)
	}
	bpp, ok := tgaBytes(t)
	if !ok || bpp == 0 && t.imageType&8 != 0 {
		return nil, fmt.Errorf("%w: TGA image type %d with %d bits per pixel", ErrUnsupported, t.imageType, t.depth)
	}
	if err := checkSize(t.w, t.h, maxPixels); err != nil {
		return nil, err
	}
	off := 18 + t.idLen
	if len(data) < off {
		return nil, fmt.Errorf("%w: image ID", ErrTruncated)
	}
	// The colour map: Pillow reads it whenever the map type says there is
	// one, with entries below mapStart black.
	var pal [256][3]byte
	for i := range pal {
		pal[i] = [3]byte{byte(i), byte(i), byte(i)} // Pillow's palette before putpalette
	}
	if t.mapType == 1 {
		esz := 0
		switch t.mapDepth {
		case 16:
			esz = 2
		case 24:
			esz = 3
		case 32:
			esz = 4
		}
		if len(data) < off+esz*t.mapLen {
			return nil, fmt.Errorf("%w: colour map", ErrTruncated)
		}
		if esz > 0 {
			for i := 0; i < t.mapStart+t.mapLen && i < 256; i++ {
				if i < t.mapStart {
					pal[i] = [3]byte{}
					continue
				}
				e := data[off+esz*(i-t.mapStart):]
				if esz == 2 {
					v := binary.LittleEndian.Uint16(e)
					pal[i] = [3]byte{scale5(v >> 10), scale5(v >> 5), scale5(v)}
				} else {
					pal[i] = [3]byte{e[2], e[1], e[0]}
				}
			}
			off += esz * t.mapLen
		}
	}
	w, h := t.w, t.h
	var raw []byte
	rowBytes := w * bpp
	if bpp == 0 {
		rowBytes = (w + 7) / 8
	}
	if t.imageType&8 == 0 {
		if int64(len(data)-off) < int64(rowBytes)*int64(h) {
			return nil, ErrTruncated
		}
		raw = data[off : off+rowBytes*h]
	} else {
		var err error
		if raw, err = tgaRLE(data[off:], bpp, rowBytes*h); err != nil {
			return nil, err
		}
	}
	img := NewRGB(w, h)
	bottomUp := t.flags&0x20 == 0
	mirror := t.flags&0x10 != 0
	for y := 0; y < h; y++ {
		sy := y
		if bottomUp {
			sy = h - 1 - y
		}
		src := raw[sy*rowBytes:]
		dst := img.Pix[3*w*y:]
		for x := 0; x < w; x++ {
			var c [3]byte
			switch {
			case bpp == 0:
				v := byte(0)
				if src[x>>3]&(0x80>>(x&7)) != 0 {
					v = 255
				}
				c = [3]byte{v, v, v}
			case t.imageType&7 == 1:
				c = pal[src[x]]
			case t.imageType&7 == 3:
				v := src[x*bpp]
				c = [3]byte{v, v, v}
			case bpp == 2:
				v := binary.LittleEndian.Uint16(src[2*x:])
				c = [3]byte{scale5(v >> 10), scale5(v >> 5), scale5(v)}
			default:
				p := src[x*bpp:]
				c = [3]byte{p[2], p[1], p[0]}
			}
			dx := x
			if mirror {
				dx = w - 1 - x
			}
			dst[3*dx], dst[3*dx+1], dst[3*dx+2] = c[0], c[1], c[2]
		}
	}
	return img, nil
}

// tgaRLE expands RLE packets of bpp-byte pixels into n bytes.
func tgaRLE(src []byte, bpp, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		if len(src) == 0 {
			return nil, ErrTruncated
		}
		c := int(src[0])
		src = src[1:]
		k := (c&0x7f + 1) * bpp
		if c&0x80 != 0 {
			if len(src) < bpp {
				return nil, ErrTruncated
			}
			px := src[:bpp]
			src = src[bpp:]
			for i := 0; i < k && len(out) < n; i += bpp {
				out = append(out, px...)
			}
		} else {
			if len(src) < k {
				return nil, ErrTruncated
			}
			out = append(out, src[:k]...)
			src = src[k:]
		}
	}
	return out[:n], nil
}
