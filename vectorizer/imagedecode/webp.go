package imagedecode

/*
#cgo pkg-config: libwebp
#include <stdlib.h>
#include <webp/decode.h>

// mclip_webp_info returns 0 and the canvas size, or the VP8StatusCode.
static int mclip_webp_info(const uint8_t *data, size_t len, int *w, int *h, int *alpha, int *anim) {
	WebPBitstreamFeatures f;
	VP8StatusCode st = WebPGetFeatures(data, len, &f);
	if (st != VP8_STATUS_OK) return (int)st;
	*w = f.width; *h = f.height; *alpha = f.has_alpha; *anim = f.has_animation;
	return 0;
}

// mclip_webp_decode decodes into packed RGB with libwebp's defaults (fancy
// upsampling, its fixed-point BT.601 YUV->RGB), as Pillow's decoder does;
// alpha is dropped without compositing, as convert("RGB") does.
static int mclip_webp_decode(const uint8_t *data, size_t len, uint8_t *out, int w, int h) {
	WebPDecoderConfig config;
	if (!WebPInitDecoderConfig(&config)) return -1;
	config.output.colorspace = MODE_RGB;
	config.output.is_external_memory = 1;
	config.output.u.RGBA.rgba = out;
	config.output.u.RGBA.stride = w * 3;
	config.output.u.RGBA.size = (size_t)w * h * 3;
	VP8StatusCode st = WebPDecode(data, len, &config);
	WebPFreeDecBuffer(&config.output);
	return (int)st;
}
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
	if anim != 0 {
		return nil, fmt.Errorf("%w: animated webp", ErrUnsupported)
	}
	if err := checkSize(int(w), int(h), maxPixels); err != nil {
		return nil, err
	}
	img := NewRGB(int(w), int(h))
	if st := C.mclip_webp_decode(p, C.size_t(len(data)), (*C.uint8_t)(unsafe.Pointer(&img.Pix[0])), w, h); st != 0 {
		return nil, webpStatus(st)
	}
	return img, nil
}
