package imagedecode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// ICO and CUR, read as Pillow 9.4's IcoImagePlugin and CurImagePlugin do.
// An icon holds several images; Pillow loads the largest (by width*height,
// then colour depth, the last of equals in the directory), a PNG or a
// headerless BMP (DIB) twice as high as the image, whose second half is the
// AND mask that only sets alpha, which convert("RGB") drops. A cursor takes
// the first entry unless a later one is wider and higher, and must be a DIB.

func sniffICO(data []byte) bool { return bytes.HasPrefix(data, []byte{0, 0, 1, 0}) }

// sniffCUR also checks the directory and the bitmap header it points at:
// an uncompressed true-colour TGA without ID or colour map starts with the
// same four bytes, and Pillow opens such a file as TGA after its cursor
// reader refused it.
func sniffCUR(data []byte) bool {
	if !bytes.HasPrefix(data, []byte{0, 0, 2, 0}) {
		return false
	}
	es, err := icoEntries(data)
	if err != nil {
		return false
	}
	off := uint64(curPick(es).offset)
	if off+4 > uint64(len(data)) {
		return false
	}
	hdr := binary.LittleEndian.Uint32(data[off:])
	return hdr == 12 || hdr >= 40 && hdr <= 124
}

// curPick is CurImagePlugin's choice: the first entry unless a later one
// is wider and higher than the one chosen so far.
func curPick(es []icoEntry) icoEntry {
	m := es[0]
	for _, e := range es[1:] {
		if e.w > m.w && e.h > m.h {
			m = e
		}
	}
	return m
}

// icoEntry is one directory entry; offset is where its image starts.
type icoEntry struct {
	w, h, colors, bpp int
	offset            uint32
}

func icoEntries(data []byte) ([]icoEntry, error) {
	if len(data) < 6 {
		return nil, fmt.Errorf("%w: icon header", ErrTruncated)
	}
	n := int(binary.LittleEndian.Uint16(data[4:]))
	if n == 0 {
		return nil, fmt.Errorf("%w: no images in the icon directory", ErrCorrupt)
	}
	if len(data) < 6+16*n {
		return nil, fmt.Errorf("%w: icon directory of %d entries", ErrTruncated, n)
	}
	es := make([]icoEntry, n)
	for i := range es {
		e := data[6+16*i:]
		es[i] = icoEntry{w: int(e[0]), h: int(e[1]), colors: int(e[2]), bpp: int(binary.LittleEndian.Uint16(e[6:])),
			offset: binary.LittleEndian.Uint32(e[12:])}
	}
	return es, nil
}

// icoPick is the entry Pillow's IcoFile puts first: the largest square,
// then the deepest colour; of equals, the last in the directory.
func icoPick(es []icoEntry) icoEntry {
	best, bestSq, bestDepth := 0, -1, -1.0
	for i, e := range es {
		w, h := e.w, e.h
		if w == 0 {
			w = 256
		}
		if h == 0 {
			h = 256
		}
		depth := float64(e.bpp)
		if depth == 0 && e.colors != 0 {
			depth = math.Ceil(math.Log(float64(e.colors)) / math.Log(2))
		}
		if depth == 0 {
			depth = 256
		}
		if sq := w * h; sq > bestSq || sq == bestSq && depth >= bestDepth {
			best, bestSq, bestDepth = i, sq, depth
		}
	}
	return es[best]
}

func decodeICO(data []byte, maxPixels int64) (*RGB, error) {
	es, err := icoEntries(data)
	if err != nil {
		return nil, err
	}
	e := icoPick(es)
	if uint64(e.offset) >= uint64(len(data)) {
		return nil, fmt.Errorf("%w: icon image at offset %d of %d bytes", ErrTruncated, e.offset, len(data))
	}
	img := data[e.offset:]
	if bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) {
		m, err := decodeStd(PNG, img, maxPixels)
		if err != nil {
			return nil, fmt.Errorf("png entry: %w", err)
		}
		return m, nil
	}
	return decodeDIB(img, maxPixels, false)
}

func decodeCUR(data []byte, maxPixels int64) (*RGB, error) {
	es, err := icoEntries(data)
	if err != nil {
		return nil, err
	}
	m := curPick(es)
	if uint64(m.offset) >= uint64(len(data)) {
		return nil, fmt.Errorf("%w: cursor image at offset %d of %d bytes", ErrTruncated, m.offset, len(data))
	}
	return decodeDIB(data[m.offset:], maxPixels, true)
}

// decodeDIB decodes an icon's or cursor's BMP without its file header,
// whose height counts the AND mask: the image is the upper half. floor
// selects CurImagePlugin's h // 2 over IcoImagePlugin's int(h / 2), which
// differ for odd negative heights.
func decodeDIB(dib []byte, maxPixels int64, floor bool) (*RGB, error) {
	if len(dib) < 40 {
		return nil, fmt.Errorf("%w: bitmap header", ErrTruncated)
	}
	hdr := binary.LittleEndian.Uint32(dib)
	if hdr < 40 || hdr > 124 || uint64(len(dib)) < uint64(hdr) {
		return nil, fmt.Errorf("%w: bitmap header of %d bytes", ErrUnsupported, hdr)
	}
	bpp := int(binary.LittleEndian.Uint16(dib[14:]))
	palette := 0
	if bpp <= 8 {
		colors := int(binary.LittleEndian.Uint32(dib[32:]))
		if colors == 0 || colors > 1<<bpp {
			colors = 1 << bpp
		}
		palette = 4 * colors
	}
	h := int32(binary.LittleEndian.Uint32(dib[8:]))
	half := h / 2
	if floor && h < 0 && h%2 != 0 {
		half--
	}
	b := make([]byte, 14, 14+len(dib))
	b[0], b[1] = 'B', 'M'
	binary.LittleEndian.PutUint32(b[2:], uint32(14+len(dib)))
	binary.LittleEndian.PutUint32(b[10:], uint32(14+int(hdr)+palette))
	b = append(b, dib...)
	binary.LittleEndian.PutUint32(b[14+8:], uint32(half))
	m, err := decodeStd(BMP, b, maxPixels)
	if err != nil {
		return nil, fmt.Errorf("bitmap entry: %w", err)
	}
	return m, nil
}
