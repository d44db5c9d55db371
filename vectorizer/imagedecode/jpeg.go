package imagedecode

/*
#cgo pkg-config: libjpeg
#include "imagedecode.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

func jpegRun(data []byte, out []byte) (w, h, comps int, err error) {
	var cw, ch, cc, trunc C.int
	msg := make([]byte, C.MCLIP_JPEG_MSG)
	var outp *C.uchar
	if out != nil {
		outp = (*C.uchar)(unsafe.Pointer(&out[0]))
	}
	rc := C.mclip_jpeg_run((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), outp,
		&cw, &ch, &cc, (*C.char)(unsafe.Pointer(&msg[0])), &trunc)
	if rc != 0 {
		if trunc != 0 {
			return 0, 0, 0, ErrTruncated
		}
		return 0, 0, 0, jpegError(C.GoString((*C.char)(unsafe.Pointer(&msg[0]))))
	}
	return int(cw), int(ch), int(cc), nil
}

// jpegError classifies libjpeg's message.
func jpegError(msg string) error {
	if msg == "" {
		return ErrCorrupt
	}
	if strings.Contains(msg, "Unsupported") || strings.Contains(msg, "colour components") {
		return fmt.Errorf("%w: %s", ErrUnsupported, msg)
	}
	return fmt.Errorf("%w: %s", ErrCorrupt, msg)
}

func decodeJPEG(data []byte, maxPixels int64) (*RGB, error) {
	w, h, _, err := jpegRun(data, nil)
	if err != nil {
		return nil, err
	}
	if err := checkSize(w, h, maxPixels); err != nil {
		return nil, err
	}
	img := NewRGB(w, h)
	gw, gh, _, err := jpegRun(data, img.Pix)
	if err != nil {
		return nil, err
	}
	if gw != w || gh != h {
		return nil, errors.New("header changed between passes")
	}
	return img, nil
}
