// Package webpenc encodes lossy WebP test images with libwebp (the
// libwebp-dev the decoders build against), so that tests can make them at
// any size. Only tests import it.
package webpenc

/*
#cgo pkg-config: libwebp
#include <stdlib.h>
#include <webp/encode.h>
*/
import "C"

import (
	"math/rand/v2"
	"unsafe"
)

// Lossy encodes packed RGB pixels (3*w*h bytes) as a lossy WebP of the
// given quality (0-100).
func Lossy(pix []byte, w, h int, quality float32) []byte {
	var out *C.uint8_t
	n := C.WebPEncodeRGB((*C.uint8_t)(unsafe.Pointer(&pix[0])), C.int(w), C.int(h), C.int(3*w), C.float(quality), &out)
	if n == 0 {
		panic("webpenc: WebPEncodeRGB failed")
	}
	defer C.WebPFree(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(n))
}

// Noisy is a deterministic w x h image of gradients, sharp edges and noise
// (saturated colours included), packed RGB: after lossy coding its chroma
// varies from pixel to pixel, which exercises the upsampling.
func Noisy(seed uint64, w, h int) []byte {
	rng := rand.New(rand.NewPCG(seed, uint64(w)<<32|uint64(h)))
	pix := make([]byte, 3*w*h)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			switch {
			case (x/7+y/5)%4 == 0:
				pix[i], pix[i+1], pix[i+2] = byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())
			case (x/11)%3 == 0:
				pix[i], pix[i+1], pix[i+2] = 255, 0, byte(255*(y&1))
			default:
				pix[i], pix[i+1], pix[i+2] = byte(x*255/max(w, 1)), byte(y*255/max(h, 1)), byte((x+y)*3)
			}
		}
	}
	return pix
}
