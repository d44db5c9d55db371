package imagedecode

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// libheif checks a HEIF image's declared size (ispe) but then lets
// libde265 decode whatever frame size the HEVC sequence parameter set
// declares, which a hostile file can set to billions of pixels behind a
// 37x29 ispe. hevcSizes finds the SPS of the file (in hvcC configuration
// boxes and as length-prefixed NAL units in the item data) and returns the
// largest frame they declare, so that Decode refuses it before libde265
// allocates it.

// bitReader reads an HEVC RBSP (emulation prevention bytes removed).
type bitReader struct {
	b   []byte
	pos int // in bits
	bad bool
}

func (r *bitReader) u(n int) uint64 {
	var v uint64
	for i := 0; i < n; i++ {
		if r.pos >= 8*len(r.b) {
			r.bad = true
			return 0
		}
		v = v<<1 | uint64(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

// ue is an Exp-Golomb code.
func (r *bitReader) ue() uint64 {
	zeros := 0
	for r.u(1) == 0 {
		if r.bad || zeros > 32 {
			r.bad = true
			return 0
		}
		zeros++
	}
	return 1<<zeros - 1 + r.u(zeros)
}

func rbsp(nal []byte) []byte {
	out := make([]byte, 0, len(nal))
	zeros := 0
	for _, c := range nal {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

// spsSize parses pic_width/height_in_luma_samples of an HEVC SPS NAL unit
// (with its two-byte header).
func spsSize(nal []byte) (w, h uint64, ok bool) {
	if len(nal) < 3 || nal[0]>>1&0x3f != 33 {
		return 0, 0, false
	}
	r := &bitReader{b: rbsp(nal[2:])}
	r.u(4) // sps_video_parameter_set_id
	sub := int(r.u(3))
	r.u(1)
	// profile_tier_level(1, sub)
	r.u(88)
	r.u(8)
	var prof, lvl [8]bool
	for i := 0; i < sub; i++ {
		prof[i], lvl[i] = r.u(1) == 1, r.u(1) == 1
	}
	if sub > 0 {
		for i := sub; i < 8; i++ {
			r.u(2)
		}
	}
	for i := 0; i < sub; i++ {
		if prof[i] {
			r.u(88)
		}
		if lvl[i] {
			r.u(8)
		}
	}
	r.ue() // sps_seq_parameter_set_id
	if r.ue() == 3 {
		r.u(1)
	}
	w, h = r.ue(), r.ue()
	return w, h, !r.bad
}

// hevcMaxFrame returns the largest w*h declared by an SPS in data, and
// that size.
func hevcMaxFrame(data []byte) (area uint64, w, h uint64) {
	consider := func(nal []byte) {
		if sw, sh, ok := spsSize(nal); ok && sw*sh > area {
			area, w, h = sw*sh, sw, sh
		}
	}
	// hvcC boxes: arrays of NAL units with 2-byte lengths.
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte("hvcC"))
		if i < 0 {
			break
		}
		box := off + i - 4
		off += i + 4
		if box < 0 {
			continue
		}
		size := int(binary.BigEndian.Uint32(data[box:]))
		if size < 31 || box+size > len(data) {
			continue
		}
		c := data[box+8 : box+size]
		n, p := int(c[22]), 23
		for a := 0; a < n && p+3 <= len(c); a++ {
			cnt := int(binary.BigEndian.Uint16(c[p+1:]))
			p += 3
			for k := 0; k < cnt && p+2 <= len(c); k++ {
				l := int(binary.BigEndian.Uint16(c[p:]))
				p += 2
				if p+l > len(c) {
					break
				}
				consider(c[p : p+l])
				p += l
			}
		}
	}
	// SPS NAL units in the coded data, 4-byte length prefixed (header
	// 0x42 0x01: type 33, layer 0, temporal id 0).
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte{0x42, 0x01})
		if i < 0 {
			break
		}
		p := off + i
		off = p + 1
		if p < 4 {
			continue
		}
		l := int(binary.BigEndian.Uint32(data[p-4:]))
		if l < 3 || p+l > len(data) {
			continue
		}
		consider(data[p : p+l])
	}
	return area, w, h
}

// checkHEVCFrames refuses a HEIF file whose HEVC streams declare frames
// beyond the pixel budget.
func checkHEVCFrames(data []byte, maxPixels int64) error {
	area, w, h := hevcMaxFrame(data)
	if area > uint64(maxPixels) {
		return fmt.Errorf("%w: HEVC stream declares %dx%d frames, more than the limit of %d pixels", ErrTooLarge, w, h, maxPixels)
	}
	return nil
}
