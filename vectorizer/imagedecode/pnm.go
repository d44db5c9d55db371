package imagedecode

import (
	"fmt"
	"math"
)

// The PNM family (PBM, PGM, PPM; P1-P6) read as Pillow 9.4's
// PpmImagePlugin does: the same header tokenizer (comments from '#' to the
// end of the line, tokens of at most 10 characters), P1/P4 bits inverted
// (1 is black), and samples whose maxval is not 255 scaled by
// round(v/maxval*out) with Python's round-half-even, where out is 255, or
// 65535 for a PGM with maxval > 255 (Pillow's mode "I"). Those 16-bit
// grayscale values are then taken by their high byte, as for 16-bit PNG and
// TIFF: Pillow 9 clips mode "I" to 255 in convert("RGB"), a white image.

// pnmSafeBlock is ImageFile.SAFEBLOCK, the block size Pillow's plain
// decoder reads and validates at a time.
const pnmSafeBlock = 1 << 20

func isPNMSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// sniffPNM reports whether data starts like a PNM file Pillow opens.
func sniffPNM(data []byte) bool {
	return len(data) >= 3 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6' && isPNMSpace(data[2])
}

type pnmHeader struct {
	magic  byte // '1'..'6'
	w, h   int
	maxval int
	data   int // offset of the first sample
}

// pnmToken is PpmImageFile._read_token.
func pnmToken(data []byte, i *int) (string, error) {
	var tok []byte
	for len(tok) <= 10 {
		if *i >= len(data) {
			break
		}
		c := data[*i]
		*i++
		switch {
		case isPNMSpace(c):
			if len(tok) == 0 {
				continue
			}
			return string(tok), nil
		case c == '#':
			for *i < len(data) {
				c := data[*i]
				*i++
				if c == '\r' || c == '\n' {
					break
				}
			}
			continue
		}
		tok = append(tok, c)
	}
	if len(tok) == 0 {
		return "", fmt.Errorf("%w: end of data in the header", ErrTruncated)
	}
	if len(tok) > 10 {
		return "", fmt.Errorf("%w: header token too long: %q", ErrCorrupt, tok)
	}
	return string(tok), nil
}

// pnmInt parses a decimal header or sample token; ok is false for anything
// Python's int() would refuse (and for the exotic forms it accepts).
func pnmInt(tok string) (v int64, ok bool) {
	neg := false
	if tok != "" && (tok[0] == '+' || tok[0] == '-') {
		neg = tok[0] == '-'
		tok = tok[1:]
	}
	if tok == "" {
		return 0, false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return 0, false
		}
		v = 10*v + int64(tok[i]-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

func parsePNMHeader(data []byte) (pnmHeader, error) {
	var hd pnmHeader
	if !sniffPNM(data) {
		return hd, fmt.Errorf("%w: not a PNM file", ErrCorrupt)
	}
	hd.magic = data[1]
	i := 3
	n := 3
	if hd.magic == '1' || hd.magic == '4' {
		n = 2
	}
	var vals [3]int64
	for k := 0; k < n; k++ {
		tok, err := pnmToken(data, &i)
		if err != nil {
			return hd, err
		}
		v, ok := pnmInt(tok)
		if !ok || v > math.MaxInt32 || v < math.MinInt32 {
			return hd, fmt.Errorf("%w: bad header number %q", ErrCorrupt, tok)
		}
		vals[k] = v
	}
	hd.w, hd.h, hd.maxval, hd.data = int(vals[0]), int(vals[1]), int(vals[2]), i
	if n == 3 && (hd.maxval <= 0 || hd.maxval >= 65536) {
		return hd, fmt.Errorf("%w: maxval %d not in 1..65535", ErrCorrupt, hd.maxval)
	}
	return hd, nil
}

// pnmScale is Pillow's round(value / maxval * out_max), Python's
// round-half-even on IEEE doubles.
func pnmScale(v, maxval int64, outMax float64) int64 {
	return int64(math.RoundToEven(float64(v) / float64(maxval) * outMax))
}

func decodePNM(data []byte, maxPixels int64) (*RGB, error) {
	hd, err := parsePNMHeader(data)
	if err != nil {
		return nil, err
	}
	if err := checkSize(hd.w, hd.h, maxPixels); err != nil {
		return nil, err
	}
	body := data[hd.data:]
	switch hd.magic {
	case '4':
		return decodePBMRaw(body, hd.w, hd.h)
	case '1':
		return decodePBMPlain(body, hd.w, hd.h)
	case '2', '3':
		return decodePNMPlain(body, hd)
	}
	return decodePNMRaw(body, hd)
}

// pnmGray16 is the high byte of a 16-bit (mode "I") sample; see the
// package comment.
func pnmGray16(v int64) byte { return byte(min(max(v, 0), 65535) >> 8) }

func decodePBMRaw(body []byte, w, h int) (*RGB, error) {
	stride := (w + 7) / 8
	if int64(len(body)) < int64(stride)*int64(h) {
		return nil, ErrTruncated
	}
	img := NewRGB(w, h)
	for y := 0; y < h; y++ {
		row := body[y*stride:]
		d := img.Pix[3*w*y:]
		for x := 0; x < w; x++ {
			v := byte(255)
			if row[x>>3]&(0x80>>(x&7)) != 0 {
				v = 0
			}
			d[3*x], d[3*x+1], d[3*x+2] = v, v, v
		}
	}
	return img, nil
}

// pnmPlainBlocks yields the remaining data in Pillow's read blocks with
// comments ('#' up to and including the next CR or LF) removed.
func pnmPlainBlocks(body []byte, yield func(block []byte) bool) {
	inComment := false
	for off := 0; off < len(body); off += pnmSafeBlock {
		raw := body[off:min(len(body), off+pnmSafeBlock)]
		block := make([]byte, 0, len(raw))
		for _, c := range raw {
			if inComment {
				if c == '\r' || c == '\n' {
					inComment = false
				}
				continue
			}
			if c == '#' {
				inComment = true
				continue
			}
			block = append(block, c)
		}
		if !yield(block) {
			return
		}
	}
}

func decodePBMPlain(body []byte, w, h int) (*RGB, error) {
	total := w * h
	img := NewRGB(w, h)
	n := 0
	var bad error
	pnmPlainBlocks(body, func(block []byte) bool {
		for _, c := range block {
			if isPNMSpace(c) {
				continue
			}
			if c != '0' && c != '1' {
				bad = fmt.Errorf("%w: invalid PBM token %q", ErrCorrupt, c)
				return false
			}
			if n < total {
				v := byte(255)
				if c == '1' {
					v = 0
				}
				img.Pix[3*n], img.Pix[3*n+1], img.Pix[3*n+2] = v, v, v
				n++
			}
		}
		return n < total
	})
	if bad != nil {
		return nil, bad
	}
	if n < total {
		return nil, ErrTruncated
	}
	return img, nil
}

// pnmSink stores samples in order: three per pixel for PPM, one replicated
// for PGM.
type pnmSink struct {
	pix   []byte
	bands int
	n     int // samples stored
	total int
}

func (s *pnmSink) put(v byte) {
	if s.bands == 3 {
		s.pix[s.n] = v
	} else {
		s.pix[3*s.n], s.pix[3*s.n+1], s.pix[3*s.n+2] = v, v, v
	}
	s.n++
}

func newPNMSink(hd pnmHeader) (*RGB, *pnmSink) {
	img := NewRGB(hd.w, hd.h)
	bands := 1
	if hd.magic == '3' || hd.magic == '6' {
		bands = 3
	}
	return img, &pnmSink{pix: img.Pix, bands: bands, total: hd.w * hd.h * bands}
}

func decodePNMPlain(body []byte, hd pnmHeader) (*RGB, error) {
	img, s := newPNMSink(hd)
	modeI := hd.magic == '2' && hd.maxval > 255
	var bad error
	var tok []byte
	flush := func() bool {
		if len(tok) == 0 {
			return true
		}
		if len(tok) > 10 {
			bad = fmt.Errorf("%w: sample token too long: %.11q", ErrCorrupt, tok)
			return false
		}
		v, ok := pnmInt(string(tok))
		if !ok {
			bad = fmt.Errorf("%w: bad sample %q", ErrCorrupt, tok)
			return false
		}
		tok = tok[:0]
		if v > int64(hd.maxval) {
			bad = fmt.Errorf("%w: sample %d above maxval %d", ErrCorrupt, v, hd.maxval)
			return false
		}
		if modeI {
			if v < 0 {
				bad = fmt.Errorf("%w: negative sample %d", ErrCorrupt, v)
				return false
			}
			s.put(pnmGray16(pnmScale(v, int64(hd.maxval), 65535)))
		} else {
			// Pillow's o8 keeps the low byte of what it is given.
			s.put(byte(pnmScale(v, int64(hd.maxval), 255)))
		}
		return s.n < s.total
	}
	pnmPlainBlocks(body, func(block []byte) bool {
		for _, c := range block {
			if isPNMSpace(c) {
				if !flush() {
					return false
				}
				continue
			}
			tok = append(tok, c)
		}
		return true
	})
	if bad == nil && s.n < s.total {
		flush()
	}
	if bad != nil {
		return nil, bad
	}
	if s.n < s.total {
		return nil, ErrTruncated
	}
	return img, nil
}

func decodePNMRaw(body []byte, hd pnmHeader) (*RGB, error) {
	img, s := newPNMSink(hd)
	in := 1
	if hd.maxval > 255 {
		in = 2
	}
	if int64(len(body)) < int64(s.total)*int64(in) {
		return nil, ErrTruncated
	}
	modeI := hd.magic == '5' && hd.maxval > 255
	maxval := int64(hd.maxval)
	switch {
	case hd.maxval == 255:
		for i := 0; i < s.total; i++ {
			s.put(body[i])
		}
	case modeI && hd.maxval == 65535:
		for i := 0; i < s.total; i++ {
			s.put(body[2*i])
		}
	case in == 1:
		var lut [256]byte
		for v := range lut {
			lut[v] = byte(min(255, pnmScale(int64(v), maxval, 255)))
		}
		for i := 0; i < s.total; i++ {
			s.put(lut[body[i]])
		}
	default:
		outMax := 255.0
		if modeI {
			outMax = 65535
		}
		for i := 0; i < s.total; i++ {
			v := int64(body[2*i])<<8 | int64(body[2*i+1])
			v = min(int64(outMax), pnmScale(v, maxval, outMax))
			if modeI {
				s.put(pnmGray16(v))
			} else {
				s.put(byte(v))
			}
		}
	}
	return img, nil
}
