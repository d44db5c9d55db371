package imagedecode

/*
#cgo pkg-config: libwebp
#cgo CFLAGS: -O3
#include "imagedecode.h"
*/
import "C"

import (
	"sync"
	"unsafe"
)

// YUV420 is a still lossy WebP decoded by libwebp to its Y, U and V planes
// (4:2:0), before libwebp's conversion to RGB. Row computes that conversion
// (libwebp's default fancy upsampling and fixed-point BT.601) one row at a
// time, so that a caller which only reduces the image (clipprep) never
// holds the whole RGB image: the planes are half its size, and each row is
// consumed while it is in the cache. The rows are byte for byte the ones
// Decode gives.
type YUV420 struct {
	Width, Height int
	y, u, v       []byte
	buf           []byte // the three planes, from planesPool
}

// planesPool keeps the planes' buffers between decodes (YUV420.Release):
// a fresh 25 MB buffer (4096x4096) costs a page fault and a zeroed page
// per 4 KiB that libwebp writes, milliseconds of system time per image
// where the Go heap is large and collections rare (as in Weaviate, or
// mclip-bench; bench/results/HISTORY.md). A sync.Pool holds no more buffers than were in use at
// once (one per concurrent decode) and the collector drops them within two
// collections (the runtime forces one every two minutes when idle).
var planesPool sync.Pool // of *[]byte

// pooledPlanesMin is the smallest buffer worth keeping (1 MiB).
const pooledPlanesMin = 1 << 20

// DecodeYUV420 decodes data as a YUV420 when it is a still lossy WebP
// that Decode would return unrotated (opts.ApplyEXIF unset or no EXIF
// orientation); ok is false otherwise, and for anything Decode would
// reject, so that the caller falls back to Decode (which gives the error).
func DecodeYUV420(data []byte, opts Options) (img *YUV420, ok bool) {
	if int64(len(data)) > opts.maxBytes() || len(data) < 12 {
		return nil, false
	}
	if f, err := Sniff(data); err != nil || f != WebP {
		return nil, false
	}
	if opts.ApplyEXIF && Orientation(WebP, data) > 1 {
		return nil, false
	}
	defer func() {
		if r := recover(); r != nil {
			img, ok = nil, false
		}
	}()
	p := (*C.uint8_t)(unsafe.Pointer(&data[0]))
	var w, h C.int
	if C.mclip_webp_lossy_still(p, C.size_t(len(data)), &w, &h) == 0 {
		return nil, false
	}
	if checkSize(int(w), int(h), opts.maxPixels()) != nil {
		return nil, false
	}
	width, height := int(w), int(h)
	cw, ch := (width+1)/2, (height+1)/2
	n := width*height + 2*cw*ch
	var pix []byte
	if p, _ := planesPool.Get().(*[]byte); p != nil && cap(*p) >= n {
		pix = (*p)[:n] // not cleared: libwebp writes every byte of the planes
	} else {
		pix = make([]byte, n)
	}
	img = &YUV420{Width: width, Height: height, y: pix[:width*height], u: pix[width*height:][:cw*ch], v: pix[width*height+cw*ch:][:cw*ch], buf: pix}
	if C.mclip_webp_decode_yuv(p, C.size_t(len(data)), (*C.uint8_t)(unsafe.Pointer(&img.y[0])), (*C.uint8_t)(unsafe.Pointer(&img.u[0])),
		(*C.uint8_t)(unsafe.Pointer(&img.v[0])), w, h) != 0 {
		img.Release()
		return nil, false
	}
	return img, true
}

// Size is the image's width and height.
func (img *YUV420) Size() (int, int) { return img.Width, img.Height }

// Row writes row y's red, green and blue samples into r, g and b (Width
// bytes each).
func (img *YUV420) Row(y int, r, g, b []byte) {
	if y < 0 || y >= img.Height || len(r) < img.Width || len(g) < img.Width || len(b) < img.Width {
		panic("imagedecode: YUV420.Row out of range")
	}
	C.mclip_yuv420_row((*C.uint8_t)(unsafe.Pointer(&img.y[0])), (*C.uint8_t)(unsafe.Pointer(&img.u[0])), (*C.uint8_t)(unsafe.Pointer(&img.v[0])),
		C.int(img.Width), C.int(img.Height), C.int(y), (*C.uint8_t)(unsafe.Pointer(&r[0])), (*C.uint8_t)(unsafe.Pointer(&g[0])),
		(*C.uint8_t)(unsafe.Pointer(&b[0])), yuvAVX2)
}

// yuvAVX2 says whether Row may take the AVX2 versions (the CPU has AVX2);
// tests turn it off to check the others.
var yuvAVX2 C.int = C.mclip_webp_have_avx2()

// RGB converts the whole image (what Decode returns).
func (img *YUV420) RGB() *RGB {
	out := NewRGB(img.Width, img.Height)
	r, g, b := make([]byte, img.Width), make([]byte, img.Width), make([]byte, img.Width)
	for y := range img.Height {
		img.Row(y, r, g, b)
		row := out.Pix[3*img.Width*y:]
		for x := range img.Width {
			row[3*x], row[3*x+1], row[3*x+2] = r[x], g[x], b[x]
		}
	}
	return out
}

// Release gives the planes' buffer back for a later DecodeYUV420; img must
// not be used afterwards.
func (img *YUV420) Release() {
	if img == nil || img.buf == nil {
		return
	}
	if cap(img.buf) >= pooledPlanesMin {
		b := img.buf[:0]
		planesPool.Put(&b)
	}
	img.buf, img.y, img.u, img.v = nil, nil, nil, nil
}
