#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <tiffio.h>

#include "imagedecode.h"

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
// The procedures libtiff calls that a read-only memory source has no use
// for.
static tmsize_t mclip_tiff_write_proc(thandle_t h, void *buf, tmsize_t n) {
	(void)h, (void)buf, (void)n;
	return -1;
}
static toff_t mclip_tiff_seek_proc(thandle_t h, toff_t off, int whence) {
	struct mclip_tiff_src *s = (struct mclip_tiff_src *)h;
	uint64_t base = whence == SEEK_CUR ? s->pos : whence == SEEK_END ? s->len : 0;
	s->pos = base + off;
	return s->pos;
}
static toff_t mclip_tiff_size_proc(thandle_t h) { return ((struct mclip_tiff_src *)h)->len; }
static int mclip_tiff_close_proc(thandle_t h) {
	(void)h;
	return 0;
}
static int mclip_tiff_map_proc(thandle_t h, void **base, toff_t *size) {
	(void)h, (void)base, (void)size;
	return 0;
}
static void mclip_tiff_unmap_proc(thandle_t h, void *base, toff_t size) { (void)h, (void)base, (void)size; }

// The first error is kept; warnings are dropped, as Pillow drops them.
static int mclip_tiff_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
	(void)tif, (void)module;
	struct mclip_tiff_src *s = (struct mclip_tiff_src *)user;
	if (s->msg[0] == 0) {
		vsnprintf(s->msg, sizeof s->msg, fmt, ap);
	}
	return 1;
}
static int mclip_tiff_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
	(void)tif, (void)user, (void)module, (void)fmt, (void)ap;
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
int mclip_tiff_header(const unsigned char *data, uint64_t len, struct mclip_tiff_info *in, char *msg) {
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
int mclip_tiff_decode(const unsigned char *data, uint64_t len, int64_t max_alloc, int rgba,
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
