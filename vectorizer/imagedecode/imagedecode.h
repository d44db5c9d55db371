// The C side of package imagedecode: one .c file per format beside its Go
// file (jpeg.c beside jpeg.go, ...), called through cgo. Each function is
// documented where it is defined.
#ifndef MCLIP_IMAGEDECODE_H
#define MCLIP_IMAGEDECODE_H

#include <stddef.h>
#include <stdint.h>

// VP8StatusCode, which webp.go maps to errors.
#include <webp/decode.h>

// jpeg.c: libjpeg-turbo. Messages are MCLIP_JPEG_MSG bytes (libjpeg's
// JMSG_LENGTH_MAX, checked in jpeg.c).
#define MCLIP_JPEG_MSG 200
int mclip_jpeg_run(const unsigned char *data, unsigned long len, unsigned char *out,
		int *w, int *h, int *comps, char *msg, int *truncated);

// png.c: libdeflate and the PNG filters.
int mclip_png_pixels(const uint8_t *z, size_t zlen, uint8_t *buf, size_t raw, uint8_t *out, uint32_t w, uint32_t h,
		int depth, int ctype, int interlace, const uint8_t *pal);

// tiff.c: libtiff. Messages are MCLIP_TIFF_MSG bytes.
#define MCLIP_TIFF_MSG 512

// mclip_tiff_info is the first directory's fields.
struct mclip_tiff_info {
	uint32_t w, h;
	uint16_t bps, spp, photometric, planar, compression, sampleformat;
	uint16_t nextra, extra0;
	int has_photometric;
};

int mclip_tiff_header(const unsigned char *data, uint64_t len, struct mclip_tiff_info *in, char *msg);
int mclip_tiff_decode(const unsigned char *data, uint64_t len, int64_t max_alloc, int rgba,
		unsigned char *out, uint64_t out_len, unsigned char *pal, int *has_pal, char *msg);

// webp.c: libwebp and libwebpdemux.
int mclip_webp_info(const uint8_t *data, size_t len, int *w, int *h, int *alpha, int *anim);
int mclip_webp_decode(const uint8_t *data, size_t len, uint8_t *out, int w, int h);
int mclip_webp_anim_first(const uint8_t *data, size_t len, uint8_t *out, int w, int h);

// webpyuv.c: lossy WebP's YUV 4:2:0 planes, converted to RGB row by row.
int mclip_webp_lossy_still(const uint8_t *data, size_t len, int *w, int *h);
int mclip_webp_decode_yuv(const uint8_t *data, size_t len, uint8_t *y, uint8_t *u, uint8_t *v, int w, int h);
int mclip_webp_have_avx2(void);
void mclip_yuv420_row(const uint8_t *Y, const uint8_t *U, const uint8_t *V, int w, int h, int yy,
		uint8_t *r, uint8_t *g, uint8_t *b, int avx2);

// heif.c: libheif (HEIC) and libavif (AVIF). Messages are MCLIP_HEIF_MSG
// bytes.
#define MCLIP_HEIF_MSG 256
int mclip_heif_run(const unsigned char *data, size_t len, int max_dim, unsigned char *out, size_t out_len,
		int *w, int *h, int *cw, int *ch, char *msg);
int mclip_avif_run(const unsigned char *data, size_t len, uint32_t max_pixels, unsigned char *out, size_t out_len,
		int *w, int *h, int *irot, int *imir, char *msg);

#endif
