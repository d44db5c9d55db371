// webp_bound times libwebp alone on one WebP file, one thread unless said:
// the decode to YUV (no colour conversion: the floor for any exact
// decoder built on libwebp), to RGB (what mclip asks for), to RGBA (what
// Pillow asks for), and both again with libwebp's own worker thread
// (use_threads). Each is the best of the repetitions, in milliseconds.
//
//   cc -O2 -o /tmp/webp_bound bench/photos/webp_bound.c $(pkg-config --cflags --libs libwebp)
//   /tmp/webp_bound FILE.webp [REPS]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <webp/decode.h>
#include "bound.h"

int main(int argc, char **argv) {
	size_t n;
	int reps;
	uint8_t *data = bound_args(argc, argv, "FILE.webp", &n, &reps);
	int w, h;
	if (!WebPGetInfo(data, n, &w, &h)) {
		fprintf(stderr, "not a WebP file\n");
		return 1;
	}
	size_t plane = (size_t)w * h, cw = (size_t)(w + 1) / 2, ch = (size_t)(h + 1) / 2;
	uint8_t *out = malloc(plane * 4);
	if (out == NULL) return 1;
	memset(out, 0, plane * 4); // fault the pages in once, outside the timing
	static const struct {
		const char *name;
		WEBP_CSP_MODE mode;
		int threads;
	} cases[] = {
		{"YUV", MODE_YUV, 0}, {"RGB", MODE_RGB, 0}, {"RGBA", MODE_RGBA, 0},
		{"RGB, use_threads", MODE_RGB, 1}, {"RGBA, use_threads", MODE_RGBA, 1},
	};
	enum { ncases = sizeof cases / sizeof cases[0] };
	double best[ncases];
	for (int c = 0; c < ncases; c++) best[c] = 1e300;
	for (int r = 0; r < reps; r++) {
		for (int c = 0; c < ncases; c++) { // interleaved, so load drifts alike
			WebPDecoderConfig cfg;
			if (!WebPInitDecoderConfig(&cfg)) return 1;
			cfg.options.use_threads = cases[c].threads;
			cfg.output.colorspace = cases[c].mode;
			cfg.output.is_external_memory = 1;
			if (cases[c].mode == MODE_YUV) {
				WebPYUVABuffer *b = &cfg.output.u.YUVA;
				b->y = out, b->y_stride = w, b->y_size = plane;
				b->u = out + plane, b->u_stride = (int)cw, b->u_size = cw * ch;
				b->v = out + 2 * plane, b->v_stride = (int)cw, b->v_size = cw * ch;
			} else {
				int bpp = cases[c].mode == MODE_RGB ? 3 : 4;
				cfg.output.u.RGBA.rgba = out, cfg.output.u.RGBA.stride = w * bpp, cfg.output.u.RGBA.size = plane * bpp;
			}
			double t = now_ms();
			VP8StatusCode st = WebPDecode(data, n, &cfg);
			double d = now_ms() - t;
			WebPFreeDecBuffer(&cfg.output);
			if (st != VP8_STATUS_OK) {
				fprintf(stderr, "%s: libwebp status %d\n", cases[c].name, (int)st);
				return 1;
			}
			if (d < best[c]) best[c] = d;
		}
	}
	int v = WebPGetDecoderVersion();
	printf("%s %dx%d, libwebp %d.%d.%d, best of %d\n", argv[1], w, h, v >> 16, (v >> 8) & 255, v & 255, reps);
	for (int c = 0; c < ncases; c++) printf("  %-18s %7.1f ms\n", cases[c].name, best[c]);
	return 0;
}
