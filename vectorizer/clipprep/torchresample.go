package clipprep

import "math"

// This file computes the coefficients of torch's antialiased bicubic resize
// of a uint8 image (aten/src/ATen/native/cpu/UpSampleKernel.cpp,
// HelperInterpBase::_compute_index_ranges_int16_weights with
// HelperInterpCubic, used by upsample_avx_bilinear_bicubic_uint8 and by the
// generic separable kernel alike, torch 2.1 and later). Per output pixel i:
// scale = in/out, center = scale*(i+0.5), support = 2*max(scale, 1),
// xmin = max(int(center-support+0.5), 0), xsize = min(int(center+support+
// 0.5), in) - xmin clamped to [0, ksize], weights filter((j+xmin-center+
// 0.5)/max(scale, 1)) normalised by their sum, in float64; the cubic
// filter with a = -0.5 equals Pillow's in float64, bit for bit (its
// factors differ by the exact scale -0.5). The weights then become int16
// fixed point with a precision chosen from the largest weight of the whole
// axis, and the passes run as Pillow's do with that precision (the C
// functions take it as bits).

// maxInt16Bits is torch's bound on the weights precision.
const maxInt16Bits = 22

// torchWeights writes output pixel i's normalised float64 weights into w
// (ksize long) and returns its first input pixel and tap count, and
// whether they were normalised (torch leaves a zero sum alone and keeps
// such weights out of the axis's largest).
func torchWeights(i int, scale, support, invscale float64, inSize int, w []float64) (xmin, xsize int, normalised bool) {
	center := scale * (float64(i) + 0.5)
	xmin = max(int(center-support+0.5), 0)
	xsize = min(int(center+support+0.5), inSize) - xmin
	xsize = max(min(xsize, len(w)), 0)
	total := 0.0
	for j := 0; j < xsize; j++ {
		v := bicubic(float64(float64(j+xmin)-center+0.5) * invscale)
		w[j] = v
		total += v
	}
	if total == 0 {
		return xmin, xsize, false
	}
	for j := 0; j < xsize; j++ {
		w[j] /= total
	}
	return xmin, xsize, true
}

// torchAxis is the per-axis constants of a resize of inSize to outSize.
func torchAxis(inSize, outSize int) (scale, support, invscale float64, ksize int) {
	scale = float64(inSize) / float64(outSize)
	support = 2.0
	invscale = 1.0
	if scale >= 1 {
		support = 2.0 * scale
		invscale = 1.0 / scale
	}
	return scale, support, invscale, int(math.Ceil(support))*2 + 1
}

// torchPrecision is the weights precision torch picks for an axis: the
// first p with round(maxWeight*2^(p+1)) >= 2^15, at most 22.
func torchPrecision(maxWeight float64) int {
	p := 0
	for ; p < maxInt16Bits; p++ {
		if int(0.5+maxWeight*float64(int(1)<<(p+1))) >= 1<<15 {
			break
		}
	}
	return p
}

// torchMaxWeight is the largest normalised weight over every output pixel
// of the axis. An upscale to a huge axis (a 1x40000 image resized to
// 224x8960000) takes only the output pixels whose window an edge clips:
// every other window holds the whole cubic, whose weights sum to one and
// peak at one, so that an interior weight never exceeds 1+1e-15 and the
// edges' largest (above one whenever the input has two pixels or more, as
// a clipped negative lobe raises the rest; exactly one with one pixel)
// already sets the same precision. Should the edges stay below one, every
// output pixel is scanned.
func torchMaxWeight(inSize, outSize int) float64 {
	return torchMaxWeightLimit(inSize, outSize, 1<<20)
}

// torchMaxWeightLimit is torchMaxWeight scanning every output pixel of an
// axis up to direct pixels long.
func torchMaxWeightLimit(inSize, outSize, direct int) float64 {
	scale, support, invscale, ksize := torchAxis(inSize, outSize)
	w := make([]float64, ksize)
	scan := func(from, to int) float64 {
		m := 0.0
		for i := from; i < to; i++ {
			_, n, ok := torchWeights(i, scale, support, invscale, inSize, w)
			if !ok {
				continue
			}
			for _, v := range w[:n] {
				m = max(m, v)
			}
		}
		return m
	}
	if outSize <= direct || scale >= 1 {
		return scan(0, outSize)
	}
	// Output pixels whose window reaches past an edge: center within
	// support+1 of it.
	edge := min(int((support+2)/scale)+2, outSize)
	m := max(scan(0, edge), scan(max(outSize-edge, edge), outSize))
	if m >= 1 {
		return m
	}
	return scan(0, outSize)
}

// torchCoeffs is torch's int16 coefficients of the output pixels [from, to)
// of a resize of inSize pixels to outSize (kept in int32 for the shared
// passes).
func torchCoeffs(inSize, outSize, from, to int) coeffs {
	scale, support, invscale, ksize := torchAxis(inSize, outSize)
	bits := torchPrecision(torchMaxWeight(inSize, outSize))
	n := to - from
	c := coeffs{ksize: ksize, bits: bits, min: make([]int, n), count: make([]int, n), k: make([]int32, n*ksize)}
	w := make([]float64, ksize)
	for i := 0; i < n; i++ {
		xmin, xsize, _ := torchWeights(from+i, scale, support, invscale, inSize, w)
		k := c.k[i*ksize : (i+1)*ksize]
		for j := 0; j < xsize; j++ {
			v := w[j] * float64(int(1)<<bits)
			if v < 0 {
				k[j] = int32(int16(int32(-0.5 + v)))
			} else {
				k[j] = int32(int16(int32(0.5 + v)))
			}
		}
		c.min[i], c.count[i] = xmin, xsize
	}
	return c
}
