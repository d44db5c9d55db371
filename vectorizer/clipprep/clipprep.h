// The C side of package clipprep (resample.c): Pillow's 8-bit resampling
// passes, which resample_c.go calls through cgo.
#ifndef MCLIP_CLIPPREP_H
#define MCLIP_CLIPPREP_H

#include <stdint.h>

// mclip_resample_hpass is the horizontal pass (Pillow's
// ImagingResampleHorizontal_8bpc) over rows of packed RGB; -1 when out of
// memory.
int mclip_resample_hpass(const uint8_t *src, long srcStride, uint8_t *dst, long dstStride, int rows,
		int outW, const int32_t *xmin, const int32_t *count, const int32_t *k, int ksize, int bits);

// mclip_resample_have_avx2 says whether the _avx2 functions may run on this
// CPU (always 0 off x86-64, where they do nothing).
int mclip_resample_have_avx2(void);

// mclip_resample_hpass_avx2 is the horizontal pass over rows of packed RGB
// with the coefficients split for vpmaddwd.
void mclip_resample_hpass_avx2(const uint8_t *src, long srcStride, uint8_t *dst, long dstStride, int rows, int inW,
		int16_t *planes, long plane, int outW, const int32_t *xmin, const int16_t *kh, const int16_t *kl, int kp, int bits);

// mclip_resample_hplanar_avx2 is the horizontal pass of one row given as
// three 8-bit planes.
void mclip_resample_hplanar_avx2(const uint8_t *r, const uint8_t *g, const uint8_t *b, int inW, int16_t *planes, long plane,
		uint8_t *dst, int outW, const int32_t *xmin, const int16_t *kh, const int16_t *kl, int kp, int bits);

// mclip_resample_vpass is the vertical pass (ImagingResampleVertical_8bpc)
// row by row; acc holds stride int32.
void mclip_resample_vpass(const uint8_t *tmp, long stride, uint8_t *dst, int outH, const int32_t *ymin,
		const int32_t *count, const int32_t *k, int ksize, int bits, int32_t *acc);

#endif
