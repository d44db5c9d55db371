package imagedecode

/*
#cgo pkg-config: libtiff-4
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <tiffio.h>

#define MCLIP_TIFF_MSG 512

struct mclip_tiff_src {
	const unsigned char *data;
	uint64_t len, pos;
	char msg[MCLIP_TIFF_MSG];
};

static tmsize_t mclip_tiff_read_proc(thandle_t h, void *buf, tmsize_t n) {
	struct mclip_tiff_src *s = (struct mclip_tiff_src *)h;
	if (s->pos >= s->len) return 0;
	uint64_t left = s->len - s->pos;
	if ((uint64_t)n > left) n = (tmsize_t)left;
	memcpy(buf, s->data + s->pos, (size_t)n);
	s->pos += (uint64_t)n;
	return n;
}
static tmsize_t mclip_tiff_write_proc(thandle_t h, void *buf, tmsize_t n) { return -1; }
static toff_t mclip_tiff_seek_proc(thandle_t h, toff_t off, int whence) {
	struct mclip_tiff_src *s = (struct mclip_tiff_src *)h;
	uint64_t base = whence == SEEK_CUR ? s->pos : whence == SEEK_END ? s->len : 0;
	s->pos = base + off;
	return s->pos;
}
static int mclip_tiff_close_proc(thandle_t h) { return 0; }
static toff_t mclip_tiff_size_proc(thandle_t h) { return ((struct mclip_tiff_src *)h)->len; }
static int mclip_tiff_map_proc(thandle_t h, void **base, toff_t *size) { return 0; }
static void mclip_tiff_unmap_proc(thandle_t h, void *base, toff_t size) {}

// The first error is kept; warnings are dropped, as Pillow drops them.
static int mclip_tiff_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
	struct mclip_tiff_src *s = (struct mclip_tiff_src *)user;
	if (s->msg[0] == 0) {
		vsnprintf(s->msg, sizeof s->msg, fmt, ap);
	}
	return 1;
}
static int mclip_tiff_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
	return 1;
}

static TIFF *mclip_tiff_open(struct mclip_tiff_src *s, int64_t max_alloc) {
	TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
	if (o == NULL) return NULL;
	TIFFOpenOptionsSetMaxSingleMemAlloc(o, (tmsize_t)max_alloc);
	TIFFOpenOptionsSetErrorHandlerExtR(o, mclip_tiff_error, s);
	TIFFOpenOptionsSetWarningHandlerExtR(o, mclip_tiff_warning, s);
	// "m": no memory mapping (the procs do not map), "h": header only
	// is not wanted, the first directory is read.
	TIFF *tif = TIFFClientOpenExt("image.tif", "rm", (thandle_t)s,
		mclip_tiff_read_proc, mclip_tiff_write_proc, mclip_tiff_seek_proc,
		mclip_tiff_close_proc, mclip_tiff_size_proc, mclip_tiff_map_proc,
		mclip_tiff_unmap_proc, o);
	TIFFOpenOptionsFree(o);
	return tif;
}

struct mclip_tiff_info {
	uint32_t w, h;
	uint16_t bps, spp, photometric, planar, compression, sampleformat;
	uint16_t nextra, extra0;
	int has_photometric;
};

static void mclip_tiff_get_info(TIFF *tif, struct mclip_tiff_info *in) {
	uint16_t *extra = NULL;
	memset(in, 0, sizeof *in);
	TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &in->w);
	TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &in->h);
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &in->bps);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &in->spp);
	in->has_photometric = TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &in->photometric);
	TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &in->planar);
	TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &in->compression);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &in->sampleformat);
	if (TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &in->nextra, &extra) && in->nextra > 0 && extra != NULL) {
		in->extra0 = extra[0];
	}
}

// mclip_tiff_header reads the first directory's fields.
static int mclip_tiff_header(const unsigned char *data, uint64_t len, struct mclip_tiff_info *in, char *msg) {
	struct mclip_tiff_src s = {data, len, 0, {0}};
	TIFF *tif = mclip_tiff_open(&s, 64 << 20);
	if (tif == NULL) {
		snprintf(msg, MCLIP_TIFF_MSG, "%s", s.msg[0] ? s.msg : "cannot read the TIFF header");
		return 1;
	}
	mclip_tiff_get_info(tif, in);
	TIFFClose(tif);
	return 0;
}

// mclip_tiff_copy_rows copies rows of one strip or tile into out, the
// image's samples as rows of out_row bytes (contiguous samples) or, for
// separate planes, plane after plane. 16-bit samples are narrowed to
// their high byte (libtiff returns native byte order) on the way.
static void mclip_tiff_copy(const unsigned char *src, unsigned char *dst, uint32_t n, int bps) {
	if (bps == 16) {
		const uint16_t *s16 = (const uint16_t *)src;
		for (uint32_t i = 0; i < n; i++) dst[i] = (unsigned char)(s16[i] >> 8);
	} else {
		memcpy(dst, src, n);
	}
}

// mclip_tiff_decode decodes the first image. rgba != 0: through
// TIFFRGBAImage (YCbCr other than new-style JPEG, as Pillow does), packed
// RGB into out (which must hold 4*w*h bytes). Otherwise the raw samples:
// out holds planes * h * row bytes, row = ceil(w*samples_per_plane*bps/8)
// with 16-bit samples narrowed to 8 bits. pal receives the colour map's
// high bytes (3*256) when there is one.
static int mclip_tiff_decode(const unsigned char *data, uint64_t len, int64_t max_alloc, int rgba,
                             unsigned char *out, uint64_t out_len, unsigned char *pal, int *has_pal, char *msg) {
	struct mclip_tiff_src s = {data, len, 0, {0}};
	struct mclip_tiff_info in;
	unsigned char *buf = NULL;
	int rc = 1;
	TIFF *tif = mclip_tiff_open(&s, max_alloc);
	if (tif == NULL) {
		snprintf(msg, MCLIP_TIFF_MSG, "%s", s.msg[0] ? s.msg : "cannot read the TIFF header");
		return 1;
	}
	mclip_tiff_get_info(tif, &in);
	uint64_t w = in.w, h = in.h;
	if (rgba) {
		TIFFRGBAImage img;
		char emsg[1024] = "";
		if (out_len < 4 * w * h) {
			snprintf(msg, MCLIP_TIFF_MSG, "output buffer too small");
			goto done;
		}
		// Keep the stored row order; the orientation tag is applied once,
		// afterwards, as for every other TIFF.
		TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
		if (!TIFFRGBAImageOK(tif, emsg) || !TIFFRGBAImageBegin(&img, tif, 0, emsg)) {
			snprintf(msg, MCLIP_TIFF_MSG, "%s", s.msg[0] ? s.msg : emsg);
			goto done;
		}
		img.req_orientation = ORIENTATION_TOPLEFT;
		uint32_t *raster = (uint32_t *)out;
		int ok = TIFFRGBAImageGet(&img, raster, in.w, in.h);
		TIFFRGBAImageEnd(&img);
		if (!ok || s.msg[0]) {
			snprintf(msg, MCLIP_TIFF_MSG, "%s", s.msg[0] ? s.msg : "cannot decode the image");
			goto done;
		}
		for (uint64_t i = 0; i < w * h; i++) {
			uint32_t p = raster[i];
			out[3 * i] = (unsigned char)TIFFGetR(p);
			out[3 * i + 1] = (unsigned char)TIFFGetG(p);
			out[3 * i + 2] = (unsigned char)TIFFGetB(p);
		}
		rc = 0;
		goto done;
	}
	if (in.photometric == PHOTOMETRIC_YCBCR && in.compression == COMPRESSION_JPEG) {
		TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
	}
	int bps = in.bps, planes = in.planar == PLANARCONFIG_SEPARATE ? in.spp : 1;
	int per_plane = planes > 1 ? 1 : in.spp;
	int out_bps = bps == 16 ? 8 : bps;
	uint64_t out_row = (w * per_plane * out_bps + 7) / 8;
	if (out_len < out_row * h * planes) {
		snprintf(msg, MCLIP_TIFF_MSG, "output buffer too small");
		goto done;
	}
	if (TIFFIsTiled(tif)) {
		uint32_t tw = 0, th = 0;
		TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
		TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
		tmsize_t tsize = TIFFTileSize(tif), trow = TIFFTileRowSize(tif);
		if (tw == 0 || th == 0 || tsize <= 0 || trow <= 0 || (uint64_t)trow * th > (uint64_t)tsize) {
			snprintf(msg, MCLIP_TIFF_MSG, "%s", s.msg[0] ? s.msg : "bad tile layout");
			goto done;
		}
		buf = _TIFFmalloc(tsize);
		if (buf == NULL) {
			snprintf(msg, MCLIP_TIFF_MSG, "%s", s.msg[0] ? s.msg : "out of memory for a tile");
			goto done;
		}
		for (int p = 0; p < planes; p++) {
			for (uint64_t y = 0; y < h; y += th) {
				for (uint64_t x = 0; x < w; x += tw) {
					if (TIFFReadEncodedTile(tif, TIFFComputeTile(tif, x, y, 0, p), buf, tsize) < 0) {
						snprintf(msg, MCLIP_TIFF_MSG, "%s", s.msg[0] ? s.msg : "cannot decode a tile");
						goto done;
					}
					uint64_t cw = w - x < tw ? w - x : tw;
					uint64_t xoff = x * per_plane * out_bps / 8; // tile widths are multiples of 16
					uint64_t n = (cw * per_plane * out_bps + 7) / 8;
					for (uint64_t r = 0; r < th && y + r < h; r++) {
						unsigned char *dst = out + ((uint64_t)p * h + y + r) * out_row + xoff;
						mclip_tiff_copy(buf + r * trow, dst, bps == 16 ? n : n, bps);
					}
				}
			}
		}
	} else {
		uint32_t rps = 0;
		TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
		if (rps == 0 || rps > in.h) rps = in.h;
		tmsize_t ssize = TIFFStripSize(tif), srow = TIFFScanlineSize(tif);
		if (ssize <= 0 || srow <= 0) {
			snprintf(msg, MCLIP_TIFF_MSG, "%s", s.msg[0] ? s.msg : "bad strip layout");
			goto done;
		}
		buf = _TIFFmalloc(ssize);
		if (buf == NULL) {
			snprintf(msg, MCLIP_TIFF_MSG, "%s", s.msg[0] ? s.msg : "out of memory for a strip");
			goto done;
		}
		uint32_t per = (uint32_t)((h + rps - 1) / rps);
		for (int p = 0; p < planes; p++) {
			for (uint32_t st = 0; st < per; st++) {
				uint64_t y = (uint64_t)st * rps;
				uint64_t rows = h - y < rps ? h - y : rps;
				tmsize_t got = TIFFReadEncodedStrip(tif, (uint32_t)p * per + st, buf, (tmsize_t)(rows * srow));
				if (got < (tmsize_t)(rows * srow)) {
					snprintf(msg, MCLIP_TIFF_MSG, "%s", s.msg[0] ? s.msg : "truncated strip");
					goto done;
				}
				for (uint64_t r = 0; r < rows; r++) {
					mclip_tiff_copy(buf + r * srow, out + ((uint64_t)p * h + y + r) * out_row, out_row, bps);
				}
			}
		}
	}
	*has_pal = 0;
	if (in.photometric == PHOTOMETRIC_PALETTE && in.bps <= 8) {
		uint16_t *r = NULL, *g = NULL, *b = NULL;
		if (TIFFGetField(tif, TIFFTAG_COLORMAP, &r, &g, &b) && r && g && b) {
			int n = 1 << in.bps;
			for (int i = 0; i < n; i++) {
				pal[3 * i] = (unsigned char)(r[i] >> 8);
				pal[3 * i + 1] = (unsigned char)(g[i] >> 8);
				pal[3 * i + 2] = (unsigned char)(b[i] >> 8);
			}
			*has_pal = 1;
		}
	}
	rc = 0;
done:
	if (buf) _TIFFfree(buf);
	TIFFClose(tif);
	return rc;
}
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
