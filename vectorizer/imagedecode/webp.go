package imagedecode

/*
#cgo pkg-config: libwebp libwebpdemux
#include "imagedecode.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func webpStatus(st C.int) error {
	switch st {
	case C.VP8_STATUS_NOT_ENOUGH_DATA:
		return ErrTruncated
	case C.VP8_STATUS_UNSUPPORTED_FEATURE:
		return fmt.Errorf("%w: unsupported webp feature", ErrUnsupported)
	case C.VP8_STATUS_BITSTREAM_ERROR:
		return fmt.Errorf("%w: bitstream error", ErrCorrupt)
	case C.VP8_STATUS_INVALID_PARAM:
		return fmt.Errorf("%w: invalid header", ErrCorrupt)
	case C.VP8_STATUS_OUT_OF_MEMORY:
		return fmt.Errorf("%w: out of memory", ErrTooLarge)
	default:
		return fmt.Errorf("%w: libwebp status %d", ErrCorrupt, int(st))
	}
}

func decodeWebP(data []byte, maxPixels int64) (*RGB, error) {
	var w, h, alpha, anim C.int
	p := (*C.uint8_t)(unsafe.Pointer(&data[0]))
	if st := C.mclip_webp_info(p, C.size_t(len(data)), &w, &h, &alpha, &anim); st != 0 {
		return nil, webpStatus(st)
	}
	if err := checkSize(int(w), int(h), maxPixels); err != nil {
		return nil, err
	}
	img := NewRGB(int(w), int(h))
	if anim != 0 {
		switch C.mclip_webp_anim_first(p, C.size_t(len(data)), (*C.uint8_t)(unsafe.Pointer(&img.Pix[0])), w, h) {
		case 0:
			return img, nil
		case -3:
			return nil, fmt.Errorf("%w: first animation frame does not decode", ErrCorrupt)
		default:
			return nil, fmt.Errorf("%w: animation headers", ErrCorrupt)
		}
	}
	if st := C.mclip_webp_decode(p, C.size_t(len(data)), (*C.uint8_t)(unsafe.Pointer(&img.Pix[0])), w, h); st != 0 {
		return nil, webpStatus(st)
	}
	return img, nil
}
