package imagedecode

import (
	"encoding/binary"
	"fmt"
)

// A HEIF "grid" or "iovl" item is a canvas whose size is written in the
// item's data, not checked by libheif 1.15 against the item's ispe: a
// hostile file can declare a 37x29 image whose canvas libheif allocates at
// 14441x27759. heifCanvases reads those sizes (meta: iinf for the item
// types, iloc and idat for the data) so that Decode refuses them first.

type isoBox struct {
	typ  string
	body []byte
}

// isoBoxes splits data into boxes; a malformed tail is ignored.
func isoBoxes(data []byte) []isoBox {
	var out []isoBox
	for len(data) >= 8 {
		size := uint64(binary.BigEndian.Uint32(data))
		typ := string(data[4:8])
		hdr := uint64(8)
		switch size {
		case 0:
			size = uint64(len(data))
		case 1:
			if len(data) < 16 {
				return out
			}
			size, hdr = binary.BigEndian.Uint64(data[8:]), 16
		}
		if size < hdr || size > uint64(len(data)) {
			return out
		}
		out = append(out, isoBox{typ, data[hdr:size]})
		data = data[size:]
	}
	return out
}

func findBox(bs []isoBox, typ string) []byte {
	for _, b := range bs {
		if b.typ == typ {
			return b.body
		}
	}
	return nil
}

// beUint reads an n-byte big-endian number (n = 0, 1, 2, 4 or 8).
func beUint(b []byte, n int) (uint64, []byte, bool) {
	if len(b) < n {
		return 0, nil, false
	}
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, b[n:], true
}

// errCanvas is a grid or overlay item whose data lies outside its
// container (libheif 1.15 then reads its size from whatever follows).
var errCanvas = fmt.Errorf("%w: grid or overlay item data outside the file", ErrCorrupt)

// heifCanvases returns the output sizes of the grid and overlay items.
func heifCanvases(data []byte) (sizes [][2]uint64, err error) {
	meta := findBox(isoBoxes(data), "meta")
	if len(meta) < 4 {
		return nil, nil
	}
	inner := isoBoxes(meta[4:])
	types := map[uint64]string{}
	if iinf := findBox(inner, "iinf"); len(iinf) >= 6 {
		skip := 6
		if iinf[0] != 0 {
			skip = 8
		}
		if len(iinf) >= skip {
			for _, b := range isoBoxes(iinf[skip:]) {
				if b.typ != "infe" || len(b.body) < 4 || b.body[0] < 2 {
					continue
				}
				idLen := 2
				if b.body[0] >= 3 {
					idLen = 4
				}
				id, rest, ok := beUint(b.body[4:], idLen)
				if ok && len(rest) >= 6 {
					types[id] = string(rest[2:6])
				}
			}
		}
	}
	idat := findBox(inner, "idat")
	iloc := findBox(inner, "iloc")
	if len(iloc) < 8 {
		return nil, nil
	}
	v := iloc[0]
	offSize, lenSize, baseSize := int(iloc[4]>>4), int(iloc[4]&15), int(iloc[5]>>4)
	idxSize := 0
	if v == 1 || v == 2 {
		idxSize = int(iloc[5] & 15)
	}
	b := iloc[6:]
	cntLen := 2
	if v == 2 {
		cntLen = 4
	}
	count, b, ok := beUint(b, cntLen)
	for i := uint64(0); ok && i < count; i++ {
		var id, method, base, n uint64
		id, b, ok = beUint(b, cntLen)
		if ok && (v == 1 || v == 2) {
			method, b, ok = beUint(b, 2)
			method &= 15
		}
		if ok {
			_, b, ok = beUint(b, 2) // data_reference_index
		}
		if ok {
			base, b, ok = beUint(b, baseSize)
		}
		if ok {
			n, b, ok = beUint(b, 2)
		}
		var firstOff, firstLen uint64
		for e := uint64(0); ok && e < n; e++ {
			var off, l uint64
			_, b, ok = beUint(b, idxSize)
			if ok {
				off, b, ok = beUint(b, offSize)
			}
			if ok {
				l, b, ok = beUint(b, lenSize)
			}
			if e == 0 {
				firstOff, firstLen = off, l
			}
		}
		t := types[id]
		if !ok || (t != "grid" && t != "iovl") {
			continue
		}
		src := data
		if method == 1 {
			src = idat
		} else if method != 0 {
			continue
		}
		start := base + firstOff
		if start >= uint64(len(src)) || firstLen > uint64(len(src))-start {
			return nil, errCanvas
		}
		item := src[start:]
		if firstLen > 0 {
			item = item[:firstLen]
		}
		if len(item) < 2 {
			return nil, errCanvas
		}
		fieldLen := 2
		if item[1]&1 != 0 {
			fieldLen = 4
		}
		skip := 4 // version, flags, rows-1, columns-1
		if t == "iovl" {
			skip = 2 + 8 // version, flags, canvas_fill_value[4]
		}
		if len(item) < skip {
			return nil, errCanvas
		}
		w, r, ok1 := beUint(item[skip:], fieldLen)
		h, _, ok2 := beUint(r, fieldLen)
		if !ok1 || !ok2 {
			return nil, errCanvas
		}
		sizes = append(sizes, [2]uint64{w, h})
	}
	return sizes, nil
}

// checkHEIFCanvases refuses grid or overlay canvases beyond the budget.
func checkHEIFCanvases(data []byte, maxPixels int64) error {
	sizes, err := heifCanvases(data)
	if err != nil {
		return err
	}
	for _, s := range sizes {
		if s[0]*s[1] > uint64(maxPixels) || s[0] > 1<<31 || s[1] > 1<<31 {
			return fmt.Errorf("%w: a %dx%d grid or overlay canvas is more than the limit of %d pixels", ErrTooLarge, s[0], s[1], maxPixels)
		}
	}
	return nil
}
