package imagedecode

import (
	"bytes"
	"encoding/binary"
)

// Orientation returns the EXIF orientation (1-8) stored in data, or 1 when
// there is none or it cannot be read. It looks where Pillow's getexif does:
// JPEG APP1 "Exif", PNG eXIf, WebP EXIF chunk, and TIFF's own first IFD.
func Orientation(f Format, data []byte) int {
	var tiffData []byte
	switch f {
	case JPEG:
		tiffData = jpegExif(data)
	case PNG:
		tiffData = pngExif(data)
	case WebP:
		tiffData = webpExif(data)
	case TIFF:
		tiffData = data
	}
	if o := exifOrientation(tiffData); o >= 1 && o <= 8 {
		return o
	}
	return 1
}

func jpegExif(d []byte) []byte {
	pos := 2
	for pos+4 <= len(d) {
		if d[pos] != 0xFF {
			return nil
		}
		marker := d[pos+1]
		if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 || marker == 0xFF {
			pos++
			continue
		}
		if marker == 0xDA || marker == 0xD9 {
			return nil
		}
		n := int(binary.BigEndian.Uint16(d[pos+2:]))
		if n < 2 || pos+2+n > len(d) {
			return nil
		}
		seg := d[pos+4 : pos+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		pos += 2 + n
	}
	return nil
}

func pngExif(d []byte) []byte {
	pos := 8
	for pos+8 <= len(d) {
		n := int(binary.BigEndian.Uint32(d[pos:]))
		typ := string(d[pos+4 : pos+8])
		if n < 0 || n > len(d)-pos-12 {
			return nil
		}
		if typ == "eXIf" {
			return d[pos+8 : pos+8+n]
		}
		if typ == "IDAT" || typ == "IEND" {
			return nil
		}
		pos += 12 + n
	}
	return nil
}

func webpExif(d []byte) []byte {
	pos := 12
	for pos+8 <= len(d) {
		n := int(binary.LittleEndian.Uint32(d[pos+4:]))
		if n < 0 || n > len(d)-pos-8 {
			return nil
		}
		if string(d[pos:pos+4]) == "EXIF" {
			e := d[pos+8 : pos+8+n]
			return bytes.TrimPrefix(e, []byte("Exif\x00\x00"))
		}
		pos += 8 + n + n&1
	}
	return nil
}

// exifOrientation reads tag 0x0112 from the first IFD of a TIFF structure.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := int(bo.Uint32(t[4:]))
	if ifd < 8 || ifd > len(t)-2 {
		return 0
	}
	n := int(bo.Uint16(t[ifd:]))
	for i := 0; i < n; i++ {
		e := ifd + 2 + 12*i
		if e+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 {
			return int(bo.Uint16(t[e+8:]))
		}
	}
	return 0
}

// Orient applies an EXIF orientation as PIL.ImageOps.exif_transpose does
// (2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
// 7 transverse, 8 rotate 90 counter-clockwise).
func Orient(img *RGB, o int) *RGB {
	w, h := img.Width, img.Height
	// src maps an output pixel to its input pixel.
	var src func(x, y int) (int, int)
	ow, oh := w, h
	switch o {
	case 2:
		src = func(x, y int) (int, int) { return w - 1 - x, y }
	case 3:
		src = func(x, y int) (int, int) { return w - 1 - x, h - 1 - y }
	case 4:
		src = func(x, y int) (int, int) { return x, h - 1 - y }
	case 5:
		src = func(x, y int) (int, int) { return y, x }
	case 6:
		src = func(x, y int) (int, int) { return y, h - 1 - x }
	case 7:
		src = func(x, y int) (int, int) { return w - 1 - y, h - 1 - x }
	case 8:
		src = func(x, y int) (int, int) { return w - 1 - y, x }
	default:
		return img
	}
	if o >= 5 {
		ow, oh = h, w
	}
	out := NewRGB(ow, oh)
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			sx, sy := src(x, y)
			copy(out.Pix[3*(y*ow+x):][:3], img.Pix[3*(sy*w+sx):][:3])
		}
	}
	return out
}
