#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clipprep.h"

// Pillow's ImagingResampleHorizontal_8bpc and ImagingResampleVertical_8bpc
// on packed RGB, for the window's output pixels: the same integer sums (each
// output value accumulates from 1<<21 the products of its taps, in 32-bit
// integers that cannot overflow) and the same clip.
static inline uint8_t mclip_clip8(int32_t v, int bits) {
	v >>= bits;
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

#define MCLIP_HBLOCK 64

// AVX2 where the CPU has it (chosen at load time), baseline otherwise.
#if defined(__x86_64__) && defined(__linux__)
#define MCLIP_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MCLIP_CLONES
#endif

// The horizontal pass, rows at a time: a block of MCLIP_HBLOCK rows is
// transposed (source column x becomes a line of the block's pixels), so
// that each tap adds a whole line to the accumulators, a loop the compiler
// vectorizes; then the block's output is transposed back. Each output value
// is still the sum of the same products, so the result is the same.
MCLIP_CLONES
int mclip_resample_hpass(const uint8_t *src, long srcStride, uint8_t *dst, long dstStride, int rows,
		int outW, const int32_t *xmin, const int32_t *count, const int32_t *k, int ksize, int bits) {
	const int32_t half = 1 << (bits - 1);
	int c0 = xmin[0], c1 = xmin[0];
	for (int i = 0; i < outW; i++) {
		if (xmin[i] < c0) c0 = xmin[i];
		if (xmin[i] + count[i] > c1) c1 = xmin[i] + count[i];
	}
	const long line = 3 * MCLIP_HBLOCK;
	uint8_t *t = malloc((size_t)(c1 - c0) * line);
	int32_t *acc = malloc(sizeof(int32_t) * line);
	uint8_t *o = malloc((size_t)outW * line);
	if (!t || !acc || !o) {
		free(t); free(acc); free(o);
		return -1;
	}
	for (int y0 = 0; y0 < rows; y0 += MCLIP_HBLOCK) {
		int nb = rows - y0 < MCLIP_HBLOCK ? rows - y0 : MCLIP_HBLOCK;
		long n = 3L * nb;
		for (int y = 0; y < nb; y++) {
			const uint8_t *in = src + srcStride * (y0 + y) + 3L * c0;
			uint8_t *col = t + 3L * y;
			for (int x = 0; x < c1 - c0; x++) {
				col[x * line] = in[3 * x];
				col[x * line + 1] = in[3 * x + 1];
				col[x * line + 2] = in[3 * x + 2];
			}
		}
		for (int i = 0; i < outW; i++) {
			const int32_t *kk = k + (long)i * ksize;
			for (long j = 0; j < n; j++) acc[j] = half;
			const uint8_t *l = t + (long)(xmin[i] - c0) * line;
			for (int tp = 0; tp < count[i]; tp++, l += line) {
				int32_t kv = kk[tp];
				for (long j = 0; j < n; j++) acc[j] += (int32_t)l[j] * kv;
			}
			uint8_t *oi = o + (long)i * line;
			for (long j = 0; j < n; j++) oi[j] = mclip_clip8(acc[j], bits);
		}
		for (int y = 0; y < nb; y++) {
			uint8_t *out = dst + dstStride * (y0 + y);
			const uint8_t *col = o + 3L * y;
			for (int i = 0; i < outW; i++) {
				out[3 * i] = col[i * line];
				out[3 * i + 1] = col[i * line + 1];
				out[3 * i + 2] = col[i * line + 2];
			}
		}
	}
	free(t); free(acc); free(o);
	return 0;
}

#if defined(__x86_64__)
#include <immintrin.h>

// mclip_resample_have_avx2 says whether the AVX2 functions may run on this
// CPU.
int mclip_resample_have_avx2(void) {
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}

// mclip_hrow_avx2 is the horizontal pass of one row with 16 multiply-adds
// per instruction (vpmaddwd, int16 x int16 summed in pairs into int32).
// The row is three planes of int16 (R, G, B), zero past the row's end;
// each 22-bit coefficient k comes split as k = hi*2^11 + lo (hi = k >> 11
// in kh, lo = k & 2047 in kl; Go's splitCoeffs), kp per output pixel,
// zero past its count. Output value v gets hi_sum*2^11 + lo_sum + 2^21,
// which is Pillow's sum: the same integer modulo 2^32 (wrapping is
// harmless, the exact sum fits in int32), then Pillow's shift and clip.
// With kl NULL the coefficients are int16 themselves (torch's), in kh, and
// one multiply-add per tap suffices.
__attribute__((target("avx2")))
static inline void mclip_hrow16_avx2(const int16_t *pr, const int16_t *pg, const int16_t *pb, uint8_t *out, int outW,
		const int32_t *xmin, const int16_t *k, int kp, int bits) {
	const __m128i half = _mm_set1_epi32(1 << (bits - 1));
	for (int i = 0; i < outW; i++) {
		const int16_t *c = k + (long)i * kp;
		const long x0 = xmin[i];
		__m256i sr = _mm256_setzero_si256(), sg = sr, sb = sr;
		for (int j = 0; j < kp; j += 16) {
			__m256i w = _mm256_loadu_si256((const __m256i *)(c + j));
			sr = _mm256_add_epi32(sr, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(pr + x0 + j)), w));
			sg = _mm256_add_epi32(sg, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(pg + x0 + j)), w));
			sb = _mm256_add_epi32(sb, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(pb + x0 + j)), w));
		}
		__m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(sr, sg), _mm256_hadd_epi32(sb, sb));
		__m128i v = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
		v = _mm_srai_epi32(_mm_add_epi32(v, half), bits);
		v = _mm_packus_epi16(_mm_packs_epi32(v, v), v);
		uint32_t px = (uint32_t)_mm_cvtsi128_si32(v);
		out[3 * i] = (uint8_t)px;
		out[3 * i + 1] = (uint8_t)(px >> 8);
		out[3 * i + 2] = (uint8_t)(px >> 16);
	}
}

__attribute__((target("avx2")))
static inline void mclip_hrow_avx2(const int16_t *pr, const int16_t *pg, const int16_t *pb, uint8_t *out, int outW,
		const int32_t *xmin, const int16_t *kh, const int16_t *kl, int kp, int bits) {
	if (!kl) {
		mclip_hrow16_avx2(pr, pg, pb, out, outW, xmin, kh, kp, bits);
		return;
	}
	const __m128i half = _mm_set1_epi32(1 << (bits - 1));
	for (int i = 0; i < outW; i++) {
		const int16_t *ch = kh + (long)i * kp, *cl = kl + (long)i * kp;
		const long x0 = xmin[i];
		__m256i hr = _mm256_setzero_si256(), hg = hr, hb = hr, lr = hr, lg = hr, lb = hr;
		for (int j = 0; j < kp; j += 16) {
			__m256i h = _mm256_loadu_si256((const __m256i *)(ch + j));
			__m256i l = _mm256_loadu_si256((const __m256i *)(cl + j));
			__m256i r = _mm256_loadu_si256((const __m256i *)(pr + x0 + j));
			__m256i g = _mm256_loadu_si256((const __m256i *)(pg + x0 + j));
			__m256i b = _mm256_loadu_si256((const __m256i *)(pb + x0 + j));
			hr = _mm256_add_epi32(hr, _mm256_madd_epi16(r, h));
			lr = _mm256_add_epi32(lr, _mm256_madd_epi16(r, l));
			hg = _mm256_add_epi32(hg, _mm256_madd_epi16(g, h));
			lg = _mm256_add_epi32(lg, _mm256_madd_epi16(g, l));
			hb = _mm256_add_epi32(hb, _mm256_madd_epi16(b, h));
			lb = _mm256_add_epi32(lb, _mm256_madd_epi16(b, l));
		}
		__m256i sr = _mm256_add_epi32(_mm256_slli_epi32(hr, 11), lr);
		__m256i sg = _mm256_add_epi32(_mm256_slli_epi32(hg, 11), lg);
		__m256i sb = _mm256_add_epi32(_mm256_slli_epi32(hb, 11), lb);
		__m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(sr, sg), _mm256_hadd_epi32(sb, sb));
		__m128i v = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
		v = _mm_srai_epi32(_mm_add_epi32(v, half), bits);
		v = _mm_packus_epi16(_mm_packs_epi32(v, v), v);
		uint32_t px = (uint32_t)_mm_cvtsi128_si32(v);
		out[3 * i] = (uint8_t)px;
		out[3 * i + 1] = (uint8_t)(px >> 8);
		out[3 * i + 2] = (uint8_t)(px >> 16);
	}
}

// mclip_resample_hpass_avx2 is the horizontal pass over rows of packed RGB:
// each row is spread into the planes (plane int16 apart, zero past inW) with
// SSSE3 shuffles, then filtered.
__attribute__((target("avx2")))
void mclip_resample_hpass_avx2(const uint8_t *src, long srcStride, uint8_t *dst, long dstStride, int rows, int inW,
		int16_t *planes, long plane, int outW, const int32_t *xmin, const int16_t *kh, const int16_t *kl, int kp, int bits) {
	int16_t *pr = planes, *pg = planes + plane, *pb = planes + 2 * plane;
	const __m128i m0r = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
	const __m128i m1r = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1);
	const __m128i m2r = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13);
	const __m128i m0g = _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
	const __m128i m1g = _mm_setr_epi8(-1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1);
	const __m128i m2g = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14);
	const __m128i m0b = _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
	const __m128i m1b = _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1);
	const __m128i m2b = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15);
	for (int y = 0; y < rows; y++) {
		const uint8_t *in = src + srcStride * y;
		int x = 0;
		for (; x + 16 <= inW; x += 16) {
			__m128i a = _mm_loadu_si128((const __m128i *)(in + 3 * x));
			__m128i b = _mm_loadu_si128((const __m128i *)(in + 3 * x + 16));
			__m128i c = _mm_loadu_si128((const __m128i *)(in + 3 * x + 32));
			__m128i r = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, m0r), _mm_shuffle_epi8(b, m1r)), _mm_shuffle_epi8(c, m2r));
			__m128i g = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, m0g), _mm_shuffle_epi8(b, m1g)), _mm_shuffle_epi8(c, m2g));
			__m128i bl = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, m0b), _mm_shuffle_epi8(b, m1b)), _mm_shuffle_epi8(c, m2b));
			_mm256_storeu_si256((__m256i *)(pr + x), _mm256_cvtepu8_epi16(r));
			_mm256_storeu_si256((__m256i *)(pg + x), _mm256_cvtepu8_epi16(g));
			_mm256_storeu_si256((__m256i *)(pb + x), _mm256_cvtepu8_epi16(bl));
		}
		for (; x < inW; x++) {
			pr[x] = in[3 * x];
			pg[x] = in[3 * x + 1];
			pb[x] = in[3 * x + 2];
		}
		mclip_hrow_avx2(pr, pg, pb, dst + dstStride * y, outW, xmin, kh, kl, kp, bits);
	}
}

// mclip_resample_hplanar_avx2 is the horizontal pass of one row given as
// three 8-bit planes (r, g, b; inW each).
__attribute__((target("avx2")))
void mclip_resample_hplanar_avx2(const uint8_t *r, const uint8_t *g, const uint8_t *b, int inW, int16_t *planes, long plane,
		uint8_t *dst, int outW, const int32_t *xmin, const int16_t *kh, const int16_t *kl, int kp, int bits) {
	const uint8_t *in[3] = {r, g, b};
	for (int c = 0; c < 3; c++) {
		int16_t *p = planes + c * plane;
		const uint8_t *s = in[c];
		int x = 0;
		for (; x + 16 <= inW; x += 16) {
			_mm256_storeu_si256((__m256i *)(p + x), _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s + x))));
		}
		for (; x < inW; x++) p[x] = s[x];
	}
	mclip_hrow_avx2(planes, planes + plane, planes + 2 * plane, dst, outW, xmin, kh, kl, kp, bits);
}
#else
// Never called: mclip_resample_have_avx2 is 0 here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
int mclip_resample_have_avx2(void) { return 0; }
void mclip_resample_hpass_avx2(const uint8_t *src, long srcStride, uint8_t *dst, long dstStride, int rows, int inW,
		int16_t *planes, long plane, int outW, const int32_t *xmin, const int16_t *kh, const int16_t *kl, int kp, int bits) {}
void mclip_resample_hplanar_avx2(const uint8_t *r, const uint8_t *g, const uint8_t *b, int inW, int16_t *planes, long plane,
		uint8_t *dst, int outW, const int32_t *xmin, const int16_t *kh, const int16_t *kl, int kp, int bits) {}
#pragma GCC diagnostic pop
#endif

// The vertical pass (ImagingResampleVertical_8bpc) row by row: each tap adds
// a whole intermediate row, a loop the compiler vectorizes.
void mclip_resample_vpass(const uint8_t *tmp, long stride, uint8_t *dst, int outH, const int32_t *ymin,
		const int32_t *count, const int32_t *k, int ksize, int bits, int32_t *acc) {
	const int32_t half = 1 << (bits - 1);
	for (int i = 0; i < outH; i++) {
		const int32_t *kk = k + (long)i * ksize;
		for (long x = 0; x < stride; x++) acc[x] = half;
		for (int t = 0; t < count[i]; t++) {
			const uint8_t *row = tmp + (long)(ymin[i] + t) * stride;
			int32_t kv = kk[t];
			for (long x = 0; x < stride; x++) acc[x] += (int32_t)row[x] * kv;
		}
		uint8_t *out = dst + stride * i;
		for (long x = 0; x < stride; x++) out[x] = mclip_clip8(acc[x], bits);
	}
}
