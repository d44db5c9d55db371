package imagedecode

/*
#cgo pkg-config: libdeflate
#cgo CFLAGS: -O3
#include "imagedecode.h"
*/
import "C"

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"unsafe"
)

// PNG goes through a fast path (libdeflate inflates the IDAT data in one
// call, C unfilters it) when the file is one that image/png would decode:
// pngLayout walks the chunks with image/png's rules (order, lengths, CRCs)
// and declines anything it does not take; the fast path also declines a
// zlib stream that does not decompress to exactly the pixel data and end
// exactly with the last IDAT chunk, and an unknown filter type. Whatever
// it declines goes to image/png, whose result or error is the answer; PNG
// is lossless, so both give the same pixels (the goldens and
// TestPNGFastPathMatchesImagePNG check it).

// pngImage is what pngLayout found: the header and the IDAT data.
type pngImage struct {
	w, h, depth, ctype, interlace int
	palette                       [256 * 3]byte
	idat                          []byte
}

// decodePNG decodes a PNG through the fast path or, where it declines,
// image/png.
func decodePNG(data []byte, maxPixels int64) (*RGB, error) {
	p, ok := pngLayout(data)
	if !ok {
		return decodeStd(PNG, data, maxPixels)
	}
	if err := checkSize(p.w, p.h, maxPixels); err != nil {
		return nil, err
	}
	img, ok, err := p.pixels()
	if err != nil || ok {
		return img, err
	}
	return decodeStd(PNG, data, maxPixels)
}

// pixels is the fast path's decode; ok is false where it declines.
func (p *pngImage) pixels() (img *RGB, ok bool, err error) {
	raw, ok := p.rawSize()
	if !ok || len(p.idat) == 0 {
		return nil, false, nil
	}
	// One buffer where the RGB pixels fit over the data they come from
	// (see mclip_png_pixels), two otherwise. Allocated by Go: its heap is
	// reused from one image to the next, where fresh pages from the kernel
	// cost more than the decoding.
	var buf []byte
	img = &RGB{Width: p.w, Height: p.h}
	if p.interlace == 0 && p.bits() >= 24 {
		buf = make([]byte, max(raw+1, 3*p.w*p.h))
		img.Pix = buf[: 3*p.w*p.h : 3*p.w*p.h]
	} else {
		buf = make([]byte, raw)
		img.Pix = make([]byte, 3*p.w*p.h)
	}
	switch C.mclip_png_pixels((*C.uint8_t)(unsafe.Pointer(&p.idat[0])), C.size_t(len(p.idat)),
		(*C.uint8_t)(unsafe.Pointer(&buf[0])), C.size_t(raw), (*C.uint8_t)(unsafe.Pointer(&img.Pix[0])), C.uint32_t(p.w), C.uint32_t(p.h), C.int(p.depth), C.int(p.ctype),
		C.int(p.interlace), (*C.uint8_t)(unsafe.Pointer(&p.palette[0]))) {
	case 0:
		return img, true, nil
	case 2:
		return nil, false, fmt.Errorf("%w: out of memory", ErrTooLarge)
	}
	return nil, false, nil
}

// bits is the number of bits per pixel.
func (p *pngImage) bits() int {
	switch p.ctype {
	case 2:
		return 3 * p.depth
	case 4:
		return 2 * p.depth
	case 6:
		return 4 * p.depth
	}
	return p.depth
}

// rawSize is the size of the filtered pixel data: each pass's rows with
// their filter bytes.
func (p *pngImage) rawSize() (int, bool) {
	bits := p.bits()
	passes := [][4]int{{0, 0, 1, 1}}
	if p.interlace == 1 {
		passes = [][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	}
	total := 0
	for _, ps := range passes {
		pw := (p.w - ps[0] + ps[2] - 1) / ps[2]
		ph := (p.h - ps[1] + ps[3] - 1) / ps[3]
		if p.w <= ps[0] || p.h <= ps[1] {
			continue
		}
		if pw > (math.MaxInt-7)/bits {
			return 0, false
		}
		rb := (pw*bits+7)/8 + 1
		if ph > (math.MaxInt-total)/rb {
			return 0, false
		}
		total += ph * rb
	}
	return total, true
}

// pngLayout walks the chunks as image/png's Decode does and returns the
// header, palette and IDAT data; ok is false for anything image/png would
// refuse and for what the fast path leaves to it (a chunk before IHDR,
// garbage IDAT chunks after the image data).
func pngLayout(data []byte) (p *pngImage, ok bool) {
	const (
		start = iota
		seenIHDR
		seenPLTE
		seentRNS
		seenIDAT
	)
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		return nil, false
	}
	p = &pngImage{}
	stage := start
	paletted := false
	rest := data[8:]
	var idat [][]byte
	for {
		if len(rest) < 12 {
			return nil, false
		}
		n := binary.BigEndian.Uint32(rest)
		if n > 0x7fffffff || uint64(len(rest)) < 12+uint64(n) {
			return nil, false
		}
		typ, body := string(rest[4:8]), rest[8:8+n]
		if crc32.ChecksumIEEE(rest[4:8+n]) != binary.BigEndian.Uint32(rest[8+n:]) {
			return nil, false
		}
		rest = rest[12+n:]
		switch typ {
		case "IHDR":
			if stage != start || !p.header(body) {
				return nil, false
			}
			stage, paletted = seenIHDR, p.ctype == 3
		case "PLTE":
			np := int(n / 3)
			if stage != seenIHDR || n%3 != 0 || np <= 0 || np > 256 || np > 1<<p.depth || p.ctype == 0 || p.ctype == 4 {
				return nil, false
			}
			stage = seenPLTE
			if paletted {
				copy(p.palette[:], body)
			}
		case "tRNS":
			switch {
			case paletted && stage != seenPLTE,
				!paletted && (p.ctype == 2 || p.ctype == 6) && stage != seenIHDR && stage != seenPLTE,
				!paletted && p.ctype != 2 && p.ctype != 6 && stage != seenIHDR,
				p.ctype == 0 && n != 2, p.ctype == 2 && n != 6, paletted && n > 256,
				p.ctype == 4, p.ctype == 6:
				return nil, false
			}
			stage = seentRNS
		case "IDAT":
			if stage < seenIHDR || (stage == seenIHDR && paletted) {
				return nil, false
			}
			if stage == seenIDAT {
				// image/png ignores IDAT chunks after the image data; the
				// data must end with the chunks before this one, so only
				// empty ones are taken here.
				if n != 0 || len(idat) == 0 {
					return nil, false
				}
				continue
			}
			stage = seenIDAT
			idat = append(idat, body)
			// The consecutive IDAT chunks make up the zlib stream.
			for len(rest) >= 12 && string(rest[4:8]) == "IDAT" {
				m := binary.BigEndian.Uint32(rest)
				if m > 0x7fffffff || uint64(len(rest)) < 12+uint64(m) ||
					crc32.ChecksumIEEE(rest[4:8+m]) != binary.BigEndian.Uint32(rest[8+m:]) {
					return nil, false
				}
				idat = append(idat, rest[8:8+m])
				rest = rest[12+m:]
			}
		case "IEND":
			if stage != seenIDAT || n != 0 {
				return nil, false
			}
			p.idat = bytes.Join(idat, nil)
			return p, true
		}
		if stage == start {
			return nil, false
		}
	}
}

// header reads IHDR as image/png does; false for what it refuses.
func (p *pngImage) header(b []byte) bool {
	if len(b) != 13 || b[10] != 0 || b[11] != 0 || b[12] > 1 {
		return false
	}
	w, h := int32(binary.BigEndian.Uint32(b)), int32(binary.BigEndian.Uint32(b[4:]))
	if w <= 0 || h <= 0 || int64(w)*int64(h) > math.MaxInt64/8 {
		return false
	}
	p.w, p.h, p.depth, p.ctype, p.interlace = int(w), int(h), int(b[8]), int(b[9]), int(b[12])
	switch p.depth {
	case 1, 2, 4:
		return p.ctype == 0 || p.ctype == 3
	case 8:
		return p.ctype <= 6 && p.ctype != 1 && p.ctype != 5
	case 16:
		return p.ctype == 0 || p.ctype == 2 || p.ctype == 4 || p.ctype == 6
	}
	return false
}
