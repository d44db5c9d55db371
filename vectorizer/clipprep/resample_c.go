package clipprep

/*
#cgo CFLAGS: -O3 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wpointer-arith -Wundef -Wvla -Wcast-qual -Wwrite-strings
#include "clipprep.h"
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

// useAVX2 says whether the horizontal pass may take
// mclip_resample_hpass_avx2 (the CPU has AVX2); tests turn it off to check
// the other path.
var useAVX2 = C.mclip_resample_have_avx2() != 0

// splittable says whether every coefficient splits into an 11-bit low part
// and a high part that fits in int16, as mclip_resample_hpass_avx2 needs
// (Pillow's normalised coefficients stay within a few times 2^22).
func splittable(c *coeffs) bool {
	for i, n := range c.count {
		for _, v := range c.k[i*c.ksize:][:n] {
			if v < -1<<26 || v >= 1<<26 {
				return false
			}
		}
	}
	return true
}

// low is the low parts for C, NULL when there are none.
func (s *split) low() *C.int16_t {
	if s.kl == nil {
		return nil
	}
	return (*C.int16_t)(unsafe.Pointer(&s.kl[0]))
}

// fitsInt16 says whether every coefficient is an int16 (torch's always
// are, Pillow's 22-bit ones are not).
func fitsInt16(c *coeffs) bool {
	for i, n := range c.count {
		for _, v := range c.k[i*c.ksize:][:n] {
			if v < -1<<15 || v >= 1<<15 {
				return false
			}
		}
	}
	return true
}

// split is a coefficient set in mclip_hrow_avx2's form: per output pixel,
// kp int16 high and low parts (zero past its count; the low parts nil when
// the coefficients are int16 themselves, which kh then holds), and the
// int16 planes a row is spread into (plane values apart, zero past the
// row's end).
type split struct {
	kh, kl []int16
	kp     int
	mins   []int32
	planes []int16
	plane  int
}

func splitCoeffs(hc *coeffs, inW int) split {
	kp := (hc.ksize + 15) &^ 15
	s := split{kp: kp, kh: make([]int16, len(hc.min)*kp), mins: int32s(hc.min, 0)}
	if fitsInt16(hc) {
		// torch's coefficients: no split, kl stays nil.
		for i, n := range hc.count {
			for t, v := range hc.k[i*hc.ksize:][:n] {
				s.kh[i*kp+t] = int16(v)
			}
		}
	} else {
		s.kl = make([]int16, len(hc.min)*kp)
		for i, n := range hc.count {
			for t, v := range hc.k[i*hc.ksize:][:n] {
				s.kh[i*kp+t], s.kl[i*kp+t] = int16(v>>11), int16(v&2047)
			}
		}
	}
	// Loads reach xmin+kp <= inW+kp.
	s.plane = inW + kp + 16
	s.planes = make([]int16, 3*s.plane)
	return s
}

// horizontalRows filters rows rows of packed RGB (srcStride bytes apart)
// into the window's columns (dstStride bytes apart).
func horizontalRows(src []byte, srcStride int, dst []byte, dstStride, rows int, hc *coeffs) {
	if rows == 0 || len(hc.min) == 0 {
		return
	}
	if useAVX2 && splittable(hc) {
		s := splitCoeffs(hc, srcStride/3)
		C.mclip_resample_hpass_avx2((*C.uint8_t)(unsafe.Pointer(&src[0])), C.long(srcStride), (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.long(dstStride),
			C.int(rows), C.int(srcStride/3), (*C.int16_t)(unsafe.Pointer(&s.planes[0])), C.long(s.plane), C.int(len(hc.min)),
			(*C.int32_t)(unsafe.Pointer(&s.mins[0])), (*C.int16_t)(unsafe.Pointer(&s.kh[0])), s.low(),
			C.int(s.kp), C.int(hc.bits))
		return
	}
	mins, counts := int32s(hc.min, 0), int32s(hc.count, 0)
	if C.mclip_resample_hpass((*C.uint8_t)(unsafe.Pointer(&src[0])), C.long(srcStride), (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.long(dstStride),
		C.int(rows), C.int(len(hc.min)), (*C.int32_t)(unsafe.Pointer(&mins[0])), (*C.int32_t)(unsafe.Pointer(&counts[0])),
		(*C.int32_t)(unsafe.Pointer(&hc.k[0])), C.int(hc.ksize), C.int(hc.bits)) != 0 {
		panic("clipprep: out of memory") // as make would
	}
}

// horizontalFromRows filters rows first..first+rows-1 of src (inW pixels
// wide) into dst (dstStride bytes apart) as horizontalRows would from the
// packed image, one row at a time while it is in the cache.
func horizontalFromRows(src Rows, inW, first, rows int, dst []byte, dstStride int, hc *coeffs) {
	if rows == 0 || len(hc.min) == 0 {
		return
	}
	r, g, b := make([]byte, inW), make([]byte, inW), make([]byte, inW)
	if useAVX2 && splittable(hc) {
		s := splitCoeffs(hc, inW)
		for y := range rows {
			src.Row(first+y, r, g, b)
			C.mclip_resample_hplanar_avx2((*C.uint8_t)(unsafe.Pointer(&r[0])), (*C.uint8_t)(unsafe.Pointer(&g[0])), (*C.uint8_t)(unsafe.Pointer(&b[0])),
				C.int(inW), (*C.int16_t)(unsafe.Pointer(&s.planes[0])), C.long(s.plane), (*C.uint8_t)(unsafe.Pointer(&dst[dstStride*y])),
				C.int(len(hc.min)), (*C.int32_t)(unsafe.Pointer(&s.mins[0])), (*C.int16_t)(unsafe.Pointer(&s.kh[0])),
				s.low(), C.int(s.kp), C.int(hc.bits))
		}
		return
	}
	// Otherwise blocks of packed rows through the other path.
	const block = 64
	packed := make([]byte, 3*inW*min(block, rows))
	for y0 := 0; y0 < rows; y0 += block {
		n := min(block, rows-y0)
		for y := range n {
			src.Row(first+y0+y, r, g, b)
			interleave(packed[3*inW*y:][:3*inW], r, g, b)
		}
		horizontalRows(packed, 3*inW, dst[dstStride*y0:], dstStride, n, hc)
	}
}

// interleave packs three planes into RGB.
func interleave(dst, r, g, b []byte) {
	for x := range len(dst) / 3 {
		dst[3*x], dst[3*x+1], dst[3*x+2] = r[x], g[x], b[x]
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
	C.mclip_resample_vpass((*C.uint8_t)(unsafe.Pointer(&tmp[0])), C.long(stride), (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(len(vc.min)),
		(*C.int32_t)(unsafe.Pointer(&mins[0])), (*C.int32_t)(unsafe.Pointer(&counts[0])), (*C.int32_t)(unsafe.Pointer(&vc.k[0])),
		C.int(vc.ksize), C.int(vc.bits), (*C.int32_t)(unsafe.Pointer(&acc[0])))
}
