package imagedecode

/*
#cgo pkg-config: libtiff-4
#include "imagedecode.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// TIFF photometric interpretations and compressions that matter here.
const (
	tiffMinIsWhite = 0
	tiffMinIsBlack = 1
	tiffRGB        = 2
	tiffPalette    = 3
	tiffCMYK       = 5
	tiffYCbCr      = 6
	tiffOJPEG      = 6 // compression
	tiffJPEG       = 7 // compression
)

type tiffInfo struct {
	w, h                    int
	bps, spp, photometric   int
	planar, compression     int
	sampleFormat            int
	nExtra, extra0          int
	hasPhotometric, rgbaWay bool
}

func tiffHeader(data []byte) (tiffInfo, error) {
	var in C.struct_mclip_tiff_info
	msg := make([]byte, C.MCLIP_TIFF_MSG)
	if C.mclip_tiff_header((*C.uchar)(unsafe.Pointer(&data[0])), C.uint64_t(len(data)), &in, (*C.char)(unsafe.Pointer(&msg[0]))) != 0 {
		return tiffInfo{}, tiffError(msg)
	}
	t := tiffInfo{
		w: int(in.w), h: int(in.h), bps: int(in.bps), spp: int(in.spp), photometric: int(in.photometric),
		planar: int(in.planar), compression: int(in.compression), sampleFormat: int(in.sampleformat),
		nExtra: int(in.nextra), extra0: int(in.extra0), hasPhotometric: in.has_photometric != 0,
	}
	if t.compression == tiffOJPEG {
		// Pillow reads old-style JPEG as YCbCr; libtiff's RGBA path
		// handles its subsampling and colour conversion.
		t.photometric = tiffYCbCr
	}
	t.rgbaWay = t.photometric == tiffYCbCr && t.compression != tiffJPEG
	return t, nil
}

// tiffError classifies libtiff's first error message.
func tiffError(msg []byte) error {
	s := C.GoString((*C.char)(unsafe.Pointer(&msg[0])))
	low := strings.ToLower(s)
	switch {
	case s == "":
		return ErrCorrupt
	case strings.Contains(low, "not implemented"), strings.Contains(low, "unsupported"), strings.Contains(low, "not supported"):
		return fmt.Errorf("%w: %s", ErrUnsupported, s)
	case strings.Contains(low, "premature"), strings.Contains(low, "truncat"), strings.Contains(low, "read error"),
		strings.Contains(low, "unexpected end"), strings.Contains(low, "past end"), strings.Contains(low, "cannot read"):
		return fmt.Errorf("%w: %s", ErrTruncated, s)
	}
	return fmt.Errorf("%w: %s", ErrCorrupt, s)
}

// tiffLayout checks that a TIFF is one mclip converts, returning the
// samples per pixel of each kind; see decodeTIFF.
func (t tiffInfo) check() error {
	if t.rgbaWay {
		if t.bps != 8 {
			return fmt.Errorf("%w: %d-bit YCbCr", ErrUnsupported, t.bps)
		}
		return nil
	}
	if t.sampleFormat != 1 {
		return fmt.Errorf("%w: sample format %d (signed or floating-point samples)", ErrUnsupported, t.sampleFormat)
	}
	if t.spp < 1 || t.spp > 6 {
		return fmt.Errorf("%w: %d samples per pixel", ErrUnsupported, t.spp)
	}
	base := 1
	switch t.photometric {
	case tiffMinIsWhite, tiffMinIsBlack:
		if t.bps != 1 && t.bps != 2 && t.bps != 4 && t.bps != 8 && t.bps != 16 {
			return fmt.Errorf("%w: %d-bit grayscale", ErrUnsupported, t.bps)
		}
	case tiffPalette:
		if t.bps != 1 && t.bps != 2 && t.bps != 4 && t.bps != 8 {
			return fmt.Errorf("%w: %d-bit palette", ErrUnsupported, t.bps)
		}
	case tiffRGB, tiffYCbCr:
		base = 3
	case tiffCMYK:
		base = 4
	default:
		return fmt.Errorf("%w: photometric interpretation %d", ErrUnsupported, t.photometric)
	}
	if base > 1 && t.bps != 8 && t.bps != 16 {
		return fmt.Errorf("%w: %d bits per sample with photometric interpretation %d", ErrUnsupported, t.bps, t.photometric)
	}
	if t.bps < 8 && t.spp != 1 {
		return fmt.Errorf("%w: %d-bit samples with %d samples per pixel", ErrUnsupported, t.bps, t.spp)
	}
	if t.spp < base {
		return fmt.Errorf("%w: %d samples per pixel for photometric interpretation %d", ErrCorrupt, t.spp, t.photometric)
	}
	return nil
}

// decodeTIFF decodes the first image of a TIFF through libtiff (Debian's
// libtiff-dev; every compression Pillow reads through it: none, LZW,
// Deflate, PackBits, JPEG, old-style JPEG, CCITT G3/G4, ...) and converts
// it as Pillow 9.4 does: bilevel and 2/4-bit gray scaled to 0..255 (and
// inverted for min-is-white), palettes by the colour map's high bytes,
// 16-bit samples by their high byte, extra samples (alpha) dropped after
// unpremultiplying associated alpha, CMYK by Pillow's cmyk2rgb, new-style
// JPEG YCbCr by libjpeg's conversion and other YCbCr by libtiff's RGBA
// path.
func decodeTIFF(data []byte, maxPixels int64) (*RGB, error) {
	t, err := tiffHeader(data)
	if err != nil {
		return nil, err
	}
	if err := checkSize(t.w, t.h, maxPixels); err != nil {
		return nil, err
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	w, h := t.w, t.h
	planes, perPlane := 1, t.spp
	if t.planar == 2 {
		planes, perPlane = t.spp, 1
	}
	bits := min(t.bps, 8)
	row := (w*perPlane*bits + 7) / 8
	size := int64(row) * int64(h) * int64(planes)
	if t.rgbaWay {
		size = 4 * int64(w) * int64(h)
	}
	// libtiff's own buffers (a strip or tile) are at most the image's raw
	// size; 16 MiB more covers the directory and codec state.
	maxAlloc := 2*size + 16<<20
	raw := make([]byte, size)
	var pal [768]byte
	var hasPal C.int
	msg := make([]byte, C.MCLIP_TIFF_MSG)
	rgba := C.int(0)
	if t.rgbaWay {
		rgba = 1
	}
	if C.mclip_tiff_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.uint64_t(len(data)), C.int64_t(maxAlloc), rgba,
		(*C.uchar)(unsafe.Pointer(&raw[0])), C.uint64_t(len(raw)), (*C.uchar)(unsafe.Pointer(&pal[0])), &hasPal,
		(*C.char)(unsafe.Pointer(&msg[0]))) != 0 {
		return nil, tiffError(msg)
	}
	if t.rgbaWay {
		return &RGB{Width: w, Height: h, Pix: raw[: 3*w*h : 3*w*h]}, nil
	}
	if planes > 1 {
		// Interleave the planes: raw becomes rows of w*spp samples.
		inter := make([]byte, w*h*t.spp)
		plane := w * h
		for i := 0; i < plane; i++ {
			for s := 0; s < t.spp; s++ {
				inter[i*t.spp+s] = raw[s*plane+i]
			}
		}
		raw, row = inter, w*t.spp
	}
	img := NewRGB(w, h)
	if t.photometric == tiffPalette && hasPal == 0 {
		return nil, fmt.Errorf("%w: palette image without a colour map", ErrCorrupt)
	}
	for y := 0; y < h; y++ {
		tiffRow(img.Pix[3*w*y:3*w*(y+1)], raw[y*row:(y+1)*row], t, &pal)
	}
	return img, nil
}

// tiffRow converts one row of 8-bit (or packed 1/2/4-bit) samples.
func tiffRow(dst, src []byte, t tiffInfo, pal *[768]byte) {
	w := len(dst) / 3
	spp := t.spp
	switch t.photometric {
	case tiffMinIsWhite, tiffMinIsBlack, tiffPalette:
		for x := 0; x < w; x++ {
			var v byte
			switch t.bps {
			case 1, 2, 4:
				per := 8 / t.bps
				mask := byte(1<<t.bps - 1)
				v = src[x/per] >> (8 - t.bps*(x%per+1)) & mask
			default:
				v = src[x*spp]
			}
			if t.photometric == tiffPalette {
				c := pal[3*int(v):]
				dst[3*x], dst[3*x+1], dst[3*x+2] = c[0], c[1], c[2]
				continue
			}
			switch t.bps {
			case 1:
				v *= 255
			case 2:
				v *= 0x55
			case 4:
				v *= 0x11
			}
			if t.photometric == tiffMinIsWhite {
				v = 255 - v
			}
			dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
		}
	case tiffRGB, tiffYCbCr:
		assoc := t.nExtra > 0 && t.extra0 == 1 && spp >= 4
		for x := 0; x < w; x++ {
			p := src[x*spp:]
			r, g, b := p[0], p[1], p[2]
			if assoc {
				// Pillow's "RGBa" unpacker.
				switch a := int(p[3]); a {
				case 0:
					r, g, b = 0, 0, 0
				case 255:
				default:
					r, g, b = byte(min(255, int(r)*255/a)), byte(min(255, int(g)*255/a)), byte(min(255, int(b)*255/a))
				}
			}
			dst[3*x], dst[3*x+1], dst[3*x+2] = r, g, b
		}
	case tiffCMYK:
		for x := 0; x < w; x++ {
			p := src[x*spp:]
			nk := 255 - int(p[3])
			dst[3*x] = byte(nk - muldiv255(int(p[0]), nk))
			dst[3*x+1] = byte(nk - muldiv255(int(p[1]), nk))
			dst[3*x+2] = byte(nk - muldiv255(int(p[2]), nk))
		}
	}
}

// muldiv255 is Pillow's MULDIV255: a*b/255 rounded.
func muldiv255(a, b int) int {
	t := a*b + 128
	return ((t >> 8) + t) >> 8
}
