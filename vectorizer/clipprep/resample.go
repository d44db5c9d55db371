package clipprep

import "math"

// This file ports Pillow 9's libImaging/Resample.c (ImagingResample with the
// BICUBIC filter on an 8-bit RGB image) bit for bit: coefficients computed
// in double precision per output pixel, normalised to 22-bit fixed point,
// a horizontal pass into an 8-bit intermediate image, then a vertical pass,
// each accumulating from 1<<21 and clipping with an arithmetic shift
// (torchresample.go gives the same passes torch's coefficients). Only
// the output pixels inside a window (the center crop) are computed; each
// depends only on its own coordinate, so the window equals that part of the
// full resize. Explicit float64 conversions keep the compiler from fusing
// multiply-adds (allowed by the Go spec, done on arm64), which C compiled
// for x86-64 does not do either.

const precisionBits = 32 - 8 - 2

// bicubic is Pillow's bicubic_filter with a = -0.5.
func bicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return float64(float64(float64(float64((a+2)*x)-(a+3))*x)*x) + 1
	}
	if x < 2 {
		return float64(float64(float64(float64(float64(x-5)*x)+8)*x)-4) * a
	}
	return 0
}

const bicubicSupport = 2.0

// coeffs holds, for output pixels from..from+n-1, the first input pixel,
// the tap count and ksize fixed-point weights each, with bits fraction
// bits.
type coeffs struct {
	ksize int
	bits  int
	min   []int
	count []int
	k     []int32
}

// precompute is the coefficients of the output pixels [from, to) of a
// resize of inSize pixels to outSize: Pillow's (precompute_coeffs followed
// by normalize_coeffs_8bpc) or, with torch set, torch's for uint8
// (torchCoeffs).
func precompute(inSize, outSize, from, to int, torch bool) coeffs {
	if torch {
		return torchCoeffs(inSize, outSize, from, to)
	}
	return pillowCoeffs(inSize, outSize, from, to)
}

func pillowCoeffs(inSize, outSize, from, to int) coeffs {
	scale := float64(inSize) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := bicubicSupport * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	n := to - from
	c := coeffs{ksize: ksize, bits: precisionBits, min: make([]int, n), count: make([]int, n), k: make([]int32, n*ksize)}
	pre := make([]float64, ksize)
	ss := 1.0 / filterscale
	for i := 0; i < n; i++ {
		xx := from + i
		center := float64((float64(xx) + 0.5) * scale)
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w := bicubic(float64(float64(x+xmin)-center+0.5) * ss)
			pre[x] = w
			ww += w
		}
		k := c.k[i*ksize : (i+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := pre[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + float64(v*(1<<precisionBits)))
			} else {
				k[x] = int32(0.5 + float64(v*(1<<precisionBits)))
			}
		}
		c.min[i], c.count[i] = xmin, xmax
	}
	return c
}

func clip8(v int32, bits int) byte {
	v >>= bits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return byte(v)
}

// image8 is packed 8-bit RGB.
type image8 struct {
	w, h int
	pix  []byte
}

// resizeWindow returns the part [x0,x1) x [y0,y1) of the w x h bicubic
// resize of src, as Pillow's ImagingResample computes it, or with torch
// set as torch's uint8 antialiased bicubic does (the same passes in the
// same order, with torch's coefficients). When rows is not nil, src has no
// pixels and its rows come from rows.
func resizeWindow(src image8, rows Rows, w, h, x0, x1, y0, y1 int, torch bool) image8 {
	needH := w != src.w
	needV := h != src.h
	// Rows of the source the vertical pass reads (all of [y0,y1) when there
	// is no vertical pass).
	var vc coeffs
	rowFirst, rowLast := y0, y1
	if needV {
		vc = precompute(src.h, h, y0, y1, torch)
		rowFirst = vc.min[0]
		rowLast = vc.min[len(vc.min)-1] + vc.count[len(vc.count)-1]
		for i := range vc.min {
			rowFirst = min(rowFirst, vc.min[i])
			rowLast = max(rowLast, vc.min[i]+vc.count[i])
		}
	}
	// Horizontal pass over the needed rows, window columns only.
	tmp := image8{w: x1 - x0, h: rowLast - rowFirst}
	tmp.pix = make([]byte, 3*tmp.w*tmp.h)
	switch {
	case needH && rows != nil:
		hc := precompute(src.w, w, x0, x1, torch)
		horizontalFromRows(rows, src.w, rowFirst, tmp.h, tmp.pix, 3*tmp.w, &hc)
	case needH:
		hc := precompute(src.w, w, x0, x1, torch)
		horizontalRows(src.pix[3*src.w*rowFirst:], 3*src.w, tmp.pix, 3*tmp.w, tmp.h, &hc)
	case rows != nil:
		r, g, b := make([]byte, src.w), make([]byte, src.w), make([]byte, src.w)
		for y := 0; y < tmp.h; y++ {
			rows.Row(y+rowFirst, r, g, b)
			interleave(tmp.pix[3*tmp.w*y:][:3*tmp.w], r[x0:], g[x0:], b[x0:])
		}
	default:
		for y := 0; y < tmp.h; y++ {
			copy(tmp.pix[3*tmp.w*y:][:3*tmp.w], src.pix[3*(src.w*(y+rowFirst)+x0):][:3*tmp.w])
		}
	}
	if !needV {
		return tmp
	}
	out := image8{w: tmp.w, h: y1 - y0}
	out.pix = make([]byte, 3*out.w*out.h)
	// Row by row: each tap adds a whole source row to the accumulators
	// (the integer sums equal Pillow's pixel-by-pixel ones).
	verticalRows(tmp.pix, 3*tmp.w, out.pix, &vc, rowFirst)
	return out
}
