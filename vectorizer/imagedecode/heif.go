package imagedecode

/*
#cgo pkg-config: libheif libavif
#include "imagedecode.h"
*/
import "C"

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unsafe"
)

// HEIF (HEIC) and AVIF are not read by Pillow 9.4; they are the formats
// phones and modern sites write. HEIF goes through Debian's libheif, which
// applies the file's transformations (clean aperture, rotation, mirroring)
// as the format requires; AVIF through libavif, which leaves rotation and
// mirroring to the caller: they are applied here in the order MIAF
// prescribes (rotation, then mirroring). An AVIF's clean aperture (crop)
// is not applied; avifdec does not apply it either.

// isoBrands returns the major and compatible brands of an ISO base media
// file whose first box is "ftyp".
func isoBrands(data []byte) []string {
	if len(data) < 16 || string(data[4:8]) != "ftyp" {
		return nil
	}
	size := int(binary.BigEndian.Uint32(data))
	if size < 16 || size > len(data) {
		size = min(len(data), 16)
	}
	brands := []string{string(data[8:12])}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, string(data[i:i+4]))
	}
	return brands
}

// sniffISO returns AVIF or HEIF by the brands, or "".
func sniffISO(data []byte) Format {
	brands := isoBrands(data)
	if len(brands) == 0 {
		return ""
	}
	switch brands[0] {
	case "avif", "avis":
		return AVIF
	case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs":
		return HEIF
	}
	has := func(b string) bool {
		for _, x := range brands[1:] {
			if x == b {
				return true
			}
		}
		return false
	}
	switch {
	case has("avif"), has("avis"):
		return AVIF
	case has("heic"), has("heix"), has("mif1"), has("msf1"):
		return HEIF
	}
	return ""
}

func cMsg(msg []byte) string {
	if i := bytes.IndexByte(msg, 0); i >= 0 {
		msg = msg[:i]
	}
	return string(msg)
}

// heifError classifies a libheif or libavif message.
func heifError(msg string) error {
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "end of") || strings.Contains(low, "truncated") || strings.Contains(low, "insufficient") ||
		strings.Contains(low, "not enough") || strings.Contains(low, "eof"):
		return fmt.Errorf("%w: %s", ErrTruncated, msg)
	case strings.Contains(low, "unsupported") || strings.Contains(low, "no decoder") || strings.Contains(low, "not implemented"):
		return fmt.Errorf("%w: %s", ErrUnsupported, msg)
	case strings.Contains(low, "security limit") || strings.Contains(low, "too large") || strings.Contains(low, "exceed"):
		return fmt.Errorf("%w: %s", ErrTooLarge, msg)
	}
	return fmt.Errorf("%w: %s", ErrCorrupt, msg)
}

// maxDim is the largest width or height the libraries are allowed
// before our own check, which needs the header: 2^16 or the whole budget.
func maxDim(maxPixels int64) int {
	return int(min(maxPixels, 1<<16))
}

func decodeHEIF(data []byte, maxPixels int64) (*RGB, error) {
	var w, h, cw, ch C.int
	msg := make([]byte, C.MCLIP_HEIF_MSG)
	src := (*C.uchar)(unsafe.Pointer(&data[0]))
	if C.mclip_heif_run(src, C.size_t(len(data)), C.int(maxDim(maxPixels)), nil, 0, &w, &h, &cw, &ch, (*C.char)(unsafe.Pointer(&msg[0]))) != 0 {
		return nil, heifError(cMsg(msg))
	}
	if err := checkSize(int(cw), int(ch), maxPixels); err != nil {
		return nil, err
	}
	if err := checkSize(int(w), int(h), maxPixels); err != nil {
		return nil, err
	}
	if err := checkHEVCFrames(data, maxPixels); err != nil {
		return nil, err
	}
	if err := checkHEIFCanvases(data, maxPixels); err != nil {
		return nil, err
	}
	img := NewRGB(int(w), int(h))
	if C.mclip_heif_run(src, C.size_t(len(data)), C.int(maxDim(maxPixels)), (*C.uchar)(unsafe.Pointer(&img.Pix[0])), C.size_t(len(img.Pix)),
		&w, &h, &cw, &ch, (*C.char)(unsafe.Pointer(&msg[0]))) != 0 {
		return nil, heifError(cMsg(msg))
	}
	return img, nil
}

func decodeAVIF(data []byte, maxPixels int64) (*RGB, error) {
	var w, h, irot, imir C.int
	msg := make([]byte, C.MCLIP_HEIF_MSG)
	src := (*C.uchar)(unsafe.Pointer(&data[0]))
	limit := C.uint32_t(min(maxPixels, 1<<32-1))
	if C.mclip_avif_run(src, C.size_t(len(data)), limit, nil, 0, &w, &h, &irot, &imir, (*C.char)(unsafe.Pointer(&msg[0]))) != 0 {
		return nil, heifError(cMsg(msg))
	}
	if err := checkSize(int(w), int(h), maxPixels); err != nil {
		return nil, err
	}
	img := NewRGB(int(w), int(h))
	if C.mclip_avif_run(src, C.size_t(len(data)), limit, (*C.uchar)(unsafe.Pointer(&img.Pix[0])), C.size_t(len(img.Pix)),
		&w, &h, &irot, &imir, (*C.char)(unsafe.Pointer(&msg[0]))) != 0 {
		return nil, heifError(cMsg(msg))
	}
	return isoTransform(img, int(irot), int(imir)), nil
}

// isoTransform applies irot (angle*90 degrees anti-clockwise; -1 none)
// then imir (mode 0: top and bottom exchanged, 1: left and right; -1
// none), expressed as EXIF orientations for Orient.
func isoTransform(img *RGB, irot, imir int) *RGB {
	// anti-clockwise 90 = EXIF 8, 180 = 3, 270 = 6.
	switch irot {
	case 1:
		img = Orient(img, 8)
	case 2:
		img = Orient(img, 3)
	case 3:
		img = Orient(img, 6)
	}
	switch imir {
	case 0:
		img = Orient(img, 4)
	case 1:
		img = Orient(img, 2)
	}
	return img
}
