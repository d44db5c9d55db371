// png_bound compares ways to decode one 8-bit RGB or RGBA PNG (not
// interlaced), one thread, each the best of the repetitions in
// milliseconds: inflating its image data with zlib (what Pillow uses) and
// with libdeflate (what mclip uses) into memory already faulted in, and
// the whole decode to RGB through libpng's simplified API and, built with
// -DWITH_SPNG (Debian's libspng-dev), through libspng.
//
//   cc -O2 -o /tmp/png_bound bench/photos/png_bound.c $(pkg-config --cflags --libs libpng zlib libdeflate)
//   cc -O2 -DWITH_SPNG -o /tmp/png_bound bench/photos/png_bound.c $(pkg-config --cflags --libs libpng zlib libdeflate spng)
//   /tmp/png_bound FILE.png [REPS]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libdeflate.h>
#include <png.h>
#include <zlib.h>
#include "bound.h"
#ifdef WITH_SPNG
#include <spng.h>
#endif

static unsigned be32(const unsigned char *p) { return (unsigned)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

int main(int argc, char **argv) {
	size_t n;
	int reps;
	unsigned char *data = bound_args(argc, argv, "FILE.png", &n, &reps), *idat = malloc(n);
	if (idat == NULL || n < 33) {
		fprintf(stderr, "cannot read %s\n", argv[1]);
		return 1;
	}
	unsigned w = be32(data + 16), h = be32(data + 20);
	int depth = data[24], ctype = data[25], interlace = data[28];
	if (depth != 8 || (ctype != 2 && ctype != 6) || interlace != 0) {
		fprintf(stderr, "want an 8-bit RGB or RGBA PNG, not interlaced\n");
		return 1;
	}
	size_t zlen = 0;
	for (size_t i = 8; i + 12 <= n;) {
		unsigned len = be32(data + i);
		if (len > n - i - 12) break;
		if (memcmp(data + i + 4, "IDAT", 4) == 0) {
			memcpy(idat + zlen, data + i + 8, len);
			zlen += len;
		}
		i += 12 + (size_t)len;
	}
	size_t raw = ((size_t)w * (ctype == 6 ? 4 : 3) + 1) * h;
	unsigned char *buf = malloc(raw), *rgb = malloc((size_t)w * h * 3);
	if (buf == NULL || rgb == NULL) return 1;
	memset(buf, 0, raw); // fault the pages in once, outside the timing
	memset(rgb, 0, (size_t)w * h * 3);
	struct libdeflate_decompressor *dd = libdeflate_alloc_decompressor();
	enum { ZLIB, LIBDEFLATE, LIBPNG, SPNG, ncases };
	static const char *names[ncases] = {"zlib inflate", "libdeflate inflate", "libpng to RGB", "libspng to RGB"};
	double best[ncases];
	for (int c = 0; c < ncases; c++) best[c] = 1e300;
	for (int r = 0; r < reps; r++) {
		for (int c = 0; c < ncases; c++) { // interleaved, so load drifts alike
			double t = now_ms();
			int ok = 1;
			if (c == ZLIB) {
				uLongf out = raw;
				ok = uncompress(buf, &out, idat, zlen) == Z_OK && out == raw;
			} else if (c == LIBDEFLATE) {
				ok = libdeflate_zlib_decompress(dd, idat, zlen, buf, raw, NULL) == LIBDEFLATE_SUCCESS;
			} else if (c == LIBPNG) {
				png_image im;
				memset(&im, 0, sizeof im);
				im.version = PNG_IMAGE_VERSION;
				ok = png_image_begin_read_from_memory(&im, data, n);
				im.format = PNG_FORMAT_RGB;
				ok = ok && png_image_finish_read(&im, NULL, rgb, 0, NULL);
				png_image_free(&im);
			} else {
#ifdef WITH_SPNG
				spng_ctx *ctx = spng_ctx_new(0);
				ok = ctx != NULL && spng_set_png_buffer(ctx, data, n) == 0 &&
				     spng_decode_image(ctx, rgb, (size_t)w * h * 3, SPNG_FMT_RGB8, 0) == 0;
				spng_ctx_free(ctx);
#else
				continue;
#endif
			}
			double d = now_ms() - t;
			if (!ok) {
				fprintf(stderr, "%s failed\n", names[c]);
				return 1;
			}
			if (d < best[c]) best[c] = d;
		}
	}
	libdeflate_free_decompressor(dd);
	printf("%s %ux%u %s, %.1f MB of image data, best of %d\n", argv[1], w, h, ctype == 6 ? "RGBA" : "RGB", raw / 1e6, reps);
	for (int c = 0; c < ncases; c++) {
		if (best[c] < 1e300) printf("  %-18s %7.1f ms\n", names[c], best[c]);
	}
	return 0;
}
