package clipprep

/*
#cgo CFLAGS: -O3
#include <stdint.h>
#include <stdlib.h>

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
static int mclip_hpass(const uint8_t *src, long srcStride, uint8_t *dst, long dstStride, int rows,
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

// The vertical pass (ImagingResampleVertical_8bpc) row by row: each tap adds
// a whole intermediate row, a loop the compiler vectorizes.
static void mclip_vpass(const uint8_t *tmp, long stride, uint8_t *dst, int outH, const int32_t *ymin,
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
*/
import "C"

import "unsafe"

// int32s converts coefficient indices for C.
func int32s(v []int, shift int) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x - shift)
	}
	return out
}

// horizontalRows filters rows rows of packed RGB (srcStride bytes apart)
// into the window's columns (dstStride bytes apart).
func horizontalRows(src []byte, srcStride int, dst []byte, dstStride, rows int, hc *coeffs) {
	if rows == 0 || len(hc.min) == 0 {
		return
	}
	mins, counts := int32s(hc.min, 0), int32s(hc.count, 0)
	if C.mclip_hpass((*C.uint8_t)(unsafe.Pointer(&src[0])), C.long(srcStride), (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.long(dstStride),
		C.int(rows), C.int(len(hc.min)), (*C.int32_t)(unsafe.Pointer(&mins[0])), (*C.int32_t)(unsafe.Pointer(&counts[0])),
		(*C.int32_t)(unsafe.Pointer(&hc.k[0])), C.int(hc.ksize), C.int(precisionBits)) != 0 {
		panic("clipprep: out of memory") // as make would
	}
}

// verticalRows filters the intermediate image (rows of stride bytes, the
// first being source row rowFirst) into len(vc.min) output rows.
func verticalRows(tmp []byte, stride int, dst []byte, vc *coeffs, rowFirst int) {
	if stride == 0 || len(vc.min) == 0 {
		return
	}
	mins, counts := int32s(vc.min, rowFirst), int32s(vc.count, 0)
	acc := make([]int32, stride)
	C.mclip_vpass((*C.uint8_t)(unsafe.Pointer(&tmp[0])), C.long(stride), (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(len(vc.min)),
		(*C.int32_t)(unsafe.Pointer(&mins[0])), (*C.int32_t)(unsafe.Pointer(&counts[0])), (*C.int32_t)(unsafe.Pointer(&vc.k[0])),
		C.int(vc.ksize), C.int(precisionBits), (*C.int32_t)(unsafe.Pointer(&acc[0])))
}
