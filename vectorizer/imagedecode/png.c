#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>

#include "imagedecode.h"

// AVX2 where the CPU has it (chosen at load time), baseline otherwise.
#if defined(__x86_64__) && defined(__linux__)
#define MCLIP_PNG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MCLIP_PNG_CLONES
#endif

static inline uint8_t mclip_paeth(int a, int b, int c) {
	int pa = b - c, pb = a - c, pc = pa + pb;
	pa = pa < 0 ? -pa : pa;
	pb = pb < 0 ? -pb : pb;
	pc = pc < 0 ? -pc : pc;
	if (pa <= pb && pa <= pc) return (uint8_t)a;
	return (uint8_t)(pb <= pc ? b : c);
}

// mclip_png_unfilter undoes one row's filter (PNG 1.2 section 6), from
// src into cur, which is src itself or lies before it (each byte is read
// before anything is written over it); prev is the previous row of the
// pass, already unfiltered (zeros for the first). Returns 1 for a filter
// type that does not exist.
MCLIP_PNG_CLONES
static int mclip_png_unfilter(int f, uint8_t *cur, const uint8_t *src, const uint8_t *prev, size_t n, int bpp) {
	size_t i;
	switch (f) {
	case 0:
		if (cur != src) memmove(cur, src, n);
		return 0;
	case 1:
		for (i = 0; i < (size_t)bpp && i < n; i++) cur[i] = src[i];
		for (; i < n; i++) cur[i] = src[i] + cur[i - bpp];
		return 0;
	case 2:
		for (i = 0; i < n; i++) cur[i] = src[i] + prev[i];
		return 0;
	case 3:
		for (i = 0; i < (size_t)bpp && i < n; i++) cur[i] = src[i] + (prev[i] >> 1);
		for (; i < n; i++) cur[i] = src[i] + (uint8_t)(((int)cur[i - bpp] + prev[i]) >> 1);
		return 0;
	case 4:
		for (i = 0; i < (size_t)bpp && i < n; i++) cur[i] = src[i] + prev[i];
		if (bpp == 3) {
			for (; i + 2 < n; i += 3) {
				cur[i] = src[i] + mclip_paeth(cur[i - 3], prev[i], prev[i - 3]);
				cur[i + 1] = src[i + 1] + mclip_paeth(cur[i - 2], prev[i + 1], prev[i - 2]);
				cur[i + 2] = src[i + 2] + mclip_paeth(cur[i - 1], prev[i + 2], prev[i - 1]);
			}
		} else if (bpp == 4) {
			for (; i + 3 < n; i += 4) {
				cur[i] = src[i] + mclip_paeth(cur[i - 4], prev[i], prev[i - 4]);
				cur[i + 1] = src[i + 1] + mclip_paeth(cur[i - 3], prev[i + 1], prev[i - 3]);
				cur[i + 2] = src[i + 2] + mclip_paeth(cur[i - 2], prev[i + 2], prev[i - 2]);
				cur[i + 3] = src[i + 3] + mclip_paeth(cur[i - 1], prev[i + 3], prev[i - 1]);
			}
		}
		for (; i < n; i++) cur[i] = src[i] + mclip_paeth(cur[i - bpp], prev[i], prev[i - bpp]);
		return 0;
	}
	return 1;
}

#if defined(__SSE2__)
#include <emmintrin.h>
#define MCLIP_PNG_SSE2 1

// 3-byte pixels in 16-bit lanes, loaded and stored 4 bytes at a time: the
// fourth lane's predictor is zero, so it only passes the next byte along
// (a store past the row's end must have a byte there to spare).
static inline __m128i mclip_png_ld4(const uint8_t *p) {
	uint32_t v;
	memcpy(&v, p, 4);
	return _mm_unpacklo_epi8(_mm_cvtsi32_si128((int)v), _mm_setzero_si128());
}

static inline void mclip_png_st4(uint8_t *p, __m128i x) {
	uint32_t v = (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(x, x));
	memcpy(p, &v, 4);
}

static inline __m128i mclip_png_abs16(__m128i x) { return _mm_max_epi16(x, _mm_sub_epi16(_mm_setzero_si128(), x)); }

// The Paeth predictor of PNG on 16-bit lanes: a (left), b (above), c
// (above left); ties go to a, then b, as the specification says.
static inline __m128i mclip_png_paeth_pred(__m128i a, __m128i b, __m128i c) {
	__m128i p = _mm_sub_epi16(b, c), q = _mm_sub_epi16(a, c);
	__m128i pa = mclip_png_abs16(p), pb = mclip_png_abs16(q), pc = mclip_png_abs16(_mm_add_epi16(p, q));
	__m128i nota = _mm_or_si128(_mm_cmpgt_epi16(pa, pb), _mm_cmpgt_epi16(pa, pc));
	__m128i usec = _mm_cmpgt_epi16(pb, pc);
	__m128i bc = _mm_or_si128(_mm_and_si128(usec, c), _mm_andnot_si128(usec, b));
	return _mm_or_si128(_mm_and_si128(nota, bc), _mm_andnot_si128(nota, a));
}

// The Paeth filter on RGB, pixel by pixel: the same choice as mclip_paeth
// (a unless b or c is strictly nearer, then b unless c is strictly
// nearer). cur must not overlap the bytes of src not yet read, and
// src[n], prev[n] and cur[n] must exist.
static void mclip_png_paeth3(uint8_t *cur, const uint8_t *src, const uint8_t *prev, size_t n) {
	const __m128i keep = _mm_set_epi16(0, 0, 0, 0, 0, -1, -1, -1), m255 = _mm_set1_epi16(255);
	__m128i a = _mm_setzero_si128(), c = _mm_setzero_si128();
	for (size_t i = 0; i < n; i += 3) {
		__m128i b = mclip_png_ld4(prev + i), x = mclip_png_ld4(src + i);
		__m128i pred = _mm_and_si128(mclip_png_paeth_pred(a, b, c), keep);
		a = _mm_and_si128(_mm_add_epi16(x, pred), m255);
		mclip_png_st4(cur + i, a);
		c = b;
	}
}

// The Average filter on RGB, as mclip_png_paeth3.
static void mclip_png_avg3(uint8_t *cur, const uint8_t *src, const uint8_t *prev, size_t n) {
	const __m128i keep = _mm_set_epi16(0, 0, 0, 0, 0, -1, -1, -1), m255 = _mm_set1_epi16(255);
	__m128i a = _mm_setzero_si128();
	for (size_t i = 0; i < n; i += 3) {
		__m128i b = mclip_png_ld4(prev + i), x = mclip_png_ld4(src + i);
		__m128i pred = _mm_and_si128(_mm_srli_epi16(_mm_add_epi16(a, b), 1), keep);
		a = _mm_and_si128(_mm_add_epi16(x, pred), m255);
		mclip_png_st4(cur + i, a);
	}
}

// 4-byte pixels (RGBA, 16-bit grey + alpha), in place: each pixel is loaded
// and stored whole, 4 bytes after the last store.
static void mclip_png_paeth4(uint8_t *cur, const uint8_t *prev, size_t n) {
	const __m128i m255 = _mm_set1_epi16(255);
	__m128i a = _mm_setzero_si128(), c = _mm_setzero_si128();
	for (size_t i = 0; i + 4 <= n; i += 4) {
		__m128i b = mclip_png_ld4(prev + i), x = mclip_png_ld4(cur + i);
		__m128i pred = mclip_png_paeth_pred(a, b, c);
		a = _mm_and_si128(_mm_add_epi16(x, pred), m255);
		mclip_png_st4(cur + i, a);
		c = b;
	}
}

static void mclip_png_avg4(uint8_t *cur, const uint8_t *prev, size_t n) {
	const __m128i m255 = _mm_set1_epi16(255);
	__m128i a = _mm_setzero_si128();
	for (size_t i = 0; i + 4 <= n; i += 4) {
		__m128i b = mclip_png_ld4(prev + i), x = mclip_png_ld4(cur + i);
		a = _mm_and_si128(_mm_add_epi16(x, _mm_srli_epi16(_mm_add_epi16(a, b), 1)), m255);
		mclip_png_st4(cur + i, a);
	}
}
#endif

// mclip_png_row converts n unfiltered pixels to RGB as imagedecode's toRGB
// does with image/png's images: grey scaled to 8 bits and replicated,
// palette indices looked up (pal holds 256 entries, black past PLTE), alpha
// dropped, 16-bit samples cut to their high byte. Pixel i goes to
// out[3*step*i].
static void mclip_png_row(const uint8_t *row, size_t n, int depth, int ctype, const uint8_t *pal,
		uint8_t *out, size_t step) {
	size_t i;
	step *= 3;
	if (depth < 8) {
		int mask = (1 << depth) - 1, scale = 255 / mask;
		for (i = 0; i < n; i++, out += step) {
			size_t bit = i * depth;
			int v = (row[bit >> 3] >> (8 - depth - (int)(bit & 7))) & mask;
			if (ctype == 3) {
				memcpy(out, pal + 3 * v, 3);
			} else {
				out[0] = out[1] = out[2] = (uint8_t)(v * scale);
			}
		}
		return;
	}
	int s = depth / 8;
	switch (ctype) {
	case 0: // grey
	case 4: // grey + alpha
		for (i = 0; i < n; i++, out += step, row += s * (ctype == 4 ? 2 : 1)) out[0] = out[1] = out[2] = row[0];
		return;
	case 3: // palette, 8 bits
		for (i = 0; i < n; i++, out += step) memcpy(out, pal + 3 * row[i], 3);
		return;
	case 2: // RGB
		if (s == 1 && step == 3) {
			memmove(out, row, 3 * n);
			return;
		}
		for (i = 0; i < n; i++, out += step, row += 3 * s) {
			out[0] = row[0]; out[1] = row[s]; out[2] = row[2 * s];
		}
		return;
	case 6: // RGBA
		for (i = 0; i < n; i++, out += step, row += 4 * s) {
			out[0] = row[0]; out[1] = row[s]; out[2] = row[2 * s];
		}
		return;
	}
}

// mclip_png_pixels inflates the concatenated IDAT data z (a zlib stream
// that must decompress to exactly raw bytes and end exactly at zlen) into
// buf, unfilters it there and writes w x h RGB pixels to out. out may be
// buf itself when the image is not interlaced and has at least 3 bytes per
// pixel: row y is converted after row y+1 is unfiltered, and its RGB ends
// before row y+1's data begins. Returns 0, 1 when the data does not decode
// that way (the caller then asks image/png, whose verdict counts), 2 when
// memory runs out.
int mclip_png_pixels(const uint8_t *z, size_t zlen, uint8_t *buf, size_t raw, uint8_t *out, uint32_t w, uint32_t h,
		int depth, int ctype, int interlace, const uint8_t *pal) {
	static const int x0[7] = {0, 4, 0, 2, 0, 1, 0}, y0[7] = {0, 0, 4, 0, 2, 0, 1};
	static const int dx[7] = {8, 8, 4, 4, 2, 2, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
	int channels = ctype == 2 ? 3 : ctype == 4 ? 2 : ctype == 6 ? 4 : 1;
	int bits = channels * depth, bpp = bits < 8 ? 1 : bits / 8;
	uint8_t *zero = calloc(((size_t)w * bits + 7) / 8 + 1, 1);
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	int rc = 0;
	if (zero == NULL || d == NULL) {
		rc = 2;
		goto done;
	}
	size_t in = 0, got = 0;
	if (libdeflate_zlib_decompress_ex(d, z, zlen, buf, raw, &in, &got) != LIBDEFLATE_SUCCESS || in != zlen || got != raw) {
		rc = 1;
		goto done;
	}
	uint8_t *p = buf;
	if (!interlace && ctype == 2 && depth == 8 && out == buf) {
		// RGB: each row is unfiltered straight to its place in out, just
		// before its data (row y moves y+1 bytes back).
		const uint8_t *prev = zero;
		for (size_t y = 0; y < h; y++, p += 3 * (size_t)w + 1) {
			uint8_t *row = out + 3 * (size_t)w * y;
#ifdef MCLIP_PNG_SSE2
			// A row starts y+1 bytes before its data, so the stores do not
			// reach the bytes still to be loaded (which would stall them).
			// One byte follows the last row's data and its place in out.
			if (p[0] == 4 && y > 0) {
				mclip_png_paeth3(row, p + 1, prev, 3 * (size_t)w);
				prev = row;
				continue;
			}
			if (p[0] == 3 && y > 0) {
				mclip_png_avg3(row, p + 1, prev, 3 * (size_t)w);
				prev = row;
				continue;
			}
#endif
			if (mclip_png_unfilter(p[0], row, p + 1, prev, 3 * (size_t)w, 3)) {
				rc = 1;
				goto done;
			}
			prev = row;
		}
		goto done;
	}
	for (int pass = 0; pass < 7; pass++) {
		size_t pw = w, ph = h, sx = 0, sy = 0, stepx = 1, stepy = 1;
		if (interlace) {
			pw = (w - x0[pass] + dx[pass] - 1) / dx[pass];
			ph = (h - y0[pass] + dy[pass] - 1) / dy[pass];
			if (w <= (uint32_t)x0[pass]) pw = 0;
			if (h <= (uint32_t)y0[pass]) ph = 0;
			sx = x0[pass]; sy = y0[pass]; stepx = dx[pass]; stepy = dy[pass];
		}
		if (pw > 0 && ph > 0) {
			size_t rb = (pw * bits + 7) / 8;
			const uint8_t *prev = zero;
			for (size_t y = 0; y <= ph; y++) {
#ifdef MCLIP_PNG_SSE2
				if (y < ph && bpp == 4 && (p[0] == 3 || p[0] == 4)) {
					if (p[0] == 4) {
						mclip_png_paeth4(p + 1, prev, rb);
					} else {
						mclip_png_avg4(p + 1, prev, rb);
					}
				} else
#endif
				if (y < ph && mclip_png_unfilter(p[0], p + 1, p + 1, prev, rb, bpp)) {
					rc = 1;
					goto done;
				}
				if (y > 0) {
					mclip_png_row(prev, pw, depth, ctype, pal, out + 3 * ((sy + (y - 1) * stepy) * (size_t)w + sx), stepx);
				}
				if (y < ph) {
					prev = p + 1;
					p += rb + 1;
				}
			}
		}
		if (!interlace) break;
	}
done:
	if (d != NULL) libdeflate_free_decompressor(d);
	free(zero);
	return rc;
}
