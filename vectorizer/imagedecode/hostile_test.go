package imagedecode

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readImage(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "images", name))
	require.NoError(t, err)
	return b
}

// pngWithIHDR is a PNG declaring w x h followed by an empty IDAT and IEND.
func pngWithIHDR(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		body := append([]byte(typ), data...)
		b = append(b, body...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(body))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", nil)...)
	return append(out, chunk("IEND", nil)...)
}

// jpegWithSOF patches the frame size of a real JPEG.
func jpegWithSOF(t testing.TB, w, h uint16) []byte {
	b := bytes.Clone(readImage(t, "jpeg_1x1.jpg"))
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	require.Positive(t, i)
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

func gifWithScreen(t testing.TB, w, h uint16) []byte {
	b := bytes.Clone(readImage(t, "gif_gray.gif"))
	binary.LittleEndian.PutUint16(b[6:], w)
	binary.LittleEndian.PutUint16(b[8:], h)
	return b
}

func bmpWithSize(t testing.TB, w, h int32) []byte {
	b := bytes.Clone(readImage(t, "bmp_rgb.bmp"))
	binary.LittleEndian.PutUint32(b[18:], uint32(w))
	binary.LittleEndian.PutUint32(b[22:], uint32(h))
	return b
}

// webpVP8LWithSize is a lossless WebP header declaring w x h (14-bit
// fields) and no image data.
func webpVP8LWithSize(w, h int) []byte {
	v := uint32(w-1) | uint32(h-1)<<14
	payload := append([]byte{0x2f}, binary.LittleEndian.AppendUint32(nil, v)...)
	payload = append(payload, 0, 0, 0)
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+8+len(payload)))
	b = append(b, "WEBPVP8L"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

func TestDecodeHostile(t *testing.T) {
	jpeg := readImage(t, "jpeg_420.jpg")
	png := readImage(t, "png_rgb8.png")
	webp := readImage(t, "webp_lossy.webp")
	tests := []struct {
		name  string
		input []byte
		opts  Options
		want  error
		msg   string
	}{
		{"empty", nil, Options{}, ErrEmpty, "decode image: empty input"},
		{"unknown format", []byte("GIF90a not an image"), Options{}, ErrUnsupported, "decode image: unsupported image format"},
		{"svg", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), Options{}, ErrUnsupported, "unsupported image format: SVG (want JPEG"},
		{"svg with xml declaration", []byte("<?xml version='1.0'?>\n<svg/>"), Options{}, ErrUnsupported, "unsupported image format: SVG"},
		{"psd", []byte("8BPS\x00\x01\x00\x00\x00\x00\x00\x00"), Options{}, ErrUnsupported, "decode image: unsupported image format: PSD ("},
		{"jpeg 2000", []byte("\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00"), Options{}, ErrUnsupported, "unsupported image format: JPEG 2000"},
		{"mp4", []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00"), Options{}, ErrUnsupported, "unsupported image format: ISO media (isom)"},
		{"pam", []byte("P7\nWIDTH 1\n"), Options{}, ErrUnsupported, "unsupported image format: PAM"},
		{"jpeg truncated in scan", jpeg[:len(jpeg)/2], Options{}, ErrTruncated, "decode jpeg: truncated data"},
		{"jpeg header only", jpeg[:20], Options{}, nil, "decode jpeg:"},
		{"jpeg corrupt", append(bytes.Clone(jpeg[:200]), bytes.Repeat([]byte{0xFF, 0x00, 0x12}, 100)...), Options{}, nil, "decode jpeg:"},
		{"jpeg huge declared", jpegWithSOF(t, 65000, 65000), Options{}, ErrTooLarge, "decode jpeg: image too large: 65000x65000"},
		{"jpeg 0x0", jpegWithSOF(t, 0, 0), Options{}, nil, "decode jpeg:"},
		{"png truncated", png[:len(png)/2], Options{}, ErrTruncated, "decode png: truncated data"},
		{"png bad crc", append(bytes.Clone(png[:30]), 0, 0, 0, 0), Options{}, ErrCorrupt, "decode png: corrupt data"},
		{"png huge declared", pngWithIHDR(100000, 100000), Options{}, ErrTooLarge, "decode png: image too large: 100000x100000"},
		{"png 0x0", pngWithIHDR(0, 0), Options{}, ErrZeroSize, "decode png: zero-sized image"},
		{"png no pixels", pngWithIHDR(10, 10), Options{}, ErrTruncated, "decode png: truncated data"},
		{"gif huge declared", gifWithScreen(t, 60000, 60000), Options{}, ErrTooLarge, "decode gif: image too large"},
		{"gif 0x0", gifWithScreen(t, 0, 0), Options{}, ErrZeroSize, "decode gif: zero-sized image: 0x0"},
		{"gif truncated", readImage(t, "gif_photo.gif")[:500], Options{}, ErrTruncated, "decode gif: truncated data"},
		{"tiff huge declared", tiffWithSize(t, 40000, 40000), Options{}, ErrTooLarge, "decode tiff: image too large"},
		{"bmp huge declared", bmpWithSize(t, 50000, 50000), Options{}, ErrTooLarge, "decode bmp: image too large"},
		{"bmp truncated", readImage(t, "bmp_rgb.bmp")[:1000], Options{}, ErrTruncated, "decode bmp: truncated data"},
		{"tiff truncated", readImage(t, "tiff_rgb_lzw.tif")[:300], Options{}, nil, "decode tiff:"},
		{"tiff jpeg truncated", readImage(t, "tiff_ycbcr_jpeg.tif")[:4000], Options{}, nil, "decode tiff:"},
		{"tiff header only", []byte("II*\x00\x08\x00\x00\x00"), Options{}, nil, "decode tiff:"},
		{"tiff lab", tiffWithTags(t, "tiff_rgb.tif", map[uint16]uint32{262: 8}), Options{}, ErrUnsupported, "photometric interpretation 8"},
		{"tiff 12-bit", tiffWithTags(t, "tiff_gray16.tif", map[uint16]uint32{258: 12}), Options{}, ErrUnsupported, "12-bit grayscale"},
		{"tiff tiled huge", tiffWithTags(t, "tiff_rgb_tiled_zip.tif", map[uint16]uint32{256: 100000, 257: 100000}), Options{}, nil, "decode tiff:"},
		{"tiff g4 huge", tiffWithTags(t, "tiff_1bit_group4.tif", map[uint16]uint32{256: 60000, 257: 60000}), Options{}, ErrTooLarge, "decode tiff: image too large"},
		{"tiff g4 lying size", tiffWithTags(t, "tiff_1bit_group4.tif", map[uint16]uint32{257: 5000}), Options{}, nil, "decode tiff:"},
		{"webp truncated", webp[:len(webp)/2], Options{}, ErrTruncated, "decode webp: truncated data"},
		{"webp huge declared", webpVP8LWithSize(16000, 16000), Options{}, ErrTooLarge, "decode webp: image too large"},
		{"webp header only", webp[:16], Options{}, nil, "decode webp:"},
		{"pnm huge declared", []byte("P6 90000 90000 255\n"), Options{}, ErrTooLarge, "decode ppm: image too large: 90000x90000"},
		{"pnm truncated", readImage(t, "pnm_p6.ppm")[:1000], Options{}, ErrTruncated, "decode ppm: truncated data"},
		{"pnm 16-bit truncated", readImage(t, "pnm_p6_max65535.ppm")[:1000], Options{}, ErrTruncated, "decode ppm: truncated data"},
		{"pnm header only", []byte("P5\n# c\n12 "), Options{}, ErrTruncated, "decode ppm: truncated data: end of data in the header"},
		{"pnm maxval 0", []byte("P5 1 1 0\n\x00"), Options{}, ErrCorrupt, "maxval 0 not in 1..65535"},
		{"pnm maxval 65536", []byte("P5 1 1 65536\n\x00\x00"), Options{}, ErrCorrupt, "maxval 65536"},
		{"pnm bad width", []byte("P6 1x 1 255\n\x00\x00\x00"), Options{}, ErrCorrupt, `bad header number "1x"`},
		{"pnm long token", []byte("P6 00000000001 1 255\n"), Options{}, ErrCorrupt, "header token too long"},
		{"pnm 0x0", []byte("P6 0 0 255\n"), Options{}, ErrZeroSize, "decode ppm: zero-sized image"},
		{"pbm plain bad bit", []byte("P1 2 1\n0 2\n"), Options{}, ErrCorrupt, "invalid PBM token"},
		{"pbm plain short", []byte("P1 2 2\n0 1 1\n"), Options{}, ErrTruncated, "decode ppm: truncated data"},
		{"pgm plain above maxval", []byte("P2 2 1 10\n3 11\n"), Options{}, ErrCorrupt, "sample 11 above maxval 10"},
		{"pgm plain bad sample", []byte("P2 2 1 10\n3 x\n"), Options{}, ErrCorrupt, `bad sample "x"`},
		{"ppm plain short", []byte("P3 1 1 255\n3 4\n"), Options{}, ErrTruncated, "decode ppm: truncated data"},
		{"ico truncated directory", []byte("\x00\x00\x01\x00\x03\x00\x10\x10"), Options{}, ErrTruncated, "decode ico: truncated data: icon directory of 3 entries"},
		{"ico no entries", []byte("\x00\x00\x01\x00\x00\x00"), Options{}, ErrCorrupt, "no images in the icon directory"},
		{"ico offset past end", icoWithOffset(t, "ico_dib.ico", 1<<30), Options{}, ErrTruncated, "icon image at offset 1073741824"},
		{"ico png entry truncated", readImage(t, "ico_png.ico")[:3100], Options{}, ErrTruncated, "decode ico: png entry: truncated data"},
		{"ico dib truncated", readImage(t, "ico_dib_8bit_odd.ico")[:600], Options{}, ErrTruncated, "decode ico: bitmap entry: truncated data"},
		{"ico dib huge declared", icoDIBWithSize(t, 60000, 120000), Options{}, ErrTooLarge, "decode ico: bitmap entry: image too large: 60000x60000"},
		{"cur truncated", readImage(t, "cur_dib.cur")[:300], Options{}, nil, "decode cur:"},
		{"tga truncated", readImage(t, "tga_rgb.tga")[:5000], Options{}, ErrTruncated, "decode tga: truncated data"},
		{"tga rle truncated", readImage(t, "tga_rgb_rle.tga")[:5000], Options{}, ErrTruncated, "decode tga: truncated data"},
		{"tga rle image ID past the end", []byte("0\x00\n000000000000\x00 0"), Options{}, ErrTruncated, "decode tga: truncated data: image ID"},
		{"tga huge declared", tgaWithSize(t, 65535, 65535), Options{}, ErrTooLarge, "decode tga: image too large: 65535x65535"},
		{"pcx truncated", readImage(t, "pcx_rgb.pcx")[:5000], Options{}, ErrTruncated, "decode pcx: truncated data"},
		{"pcx header only", readImage(t, "pcx_rgb.pcx")[:100], Options{}, ErrTruncated, "decode pcx: truncated data: PCX header"},
		{"pcx huge declared", pcxWithSize(t, 65535, 65535), Options{}, ErrTooLarge, "decode pcx: image too large: 65535x65535"},
		{"pcx unknown mode", pcxWithBits(t, 4), Options{}, ErrUnsupported, "PCX version 5 with 4 bits and 1 planes"},
		{"heif truncated", readImage(t, "heif_photo.heic")[:1000], Options{}, nil, "decode heif:"},
		{"heif header only", readImage(t, "heif_photo.heic")[:40], Options{}, nil, "decode heif:"},
		{"heif over pixel budget", readImage(t, "heif_photo.heic"), Options{MaxPixels: 1000}, ErrTooLarge, "decode heif: image too large"},
		{"heif grid canvas huge", heifGridWithSize(t, 60000, 60000), Options{}, ErrTooLarge, "a 60000x60000 grid or overlay canvas"},
		{"heif grid data outside idat", heifGridDataOffset(t, 7), Options{}, ErrCorrupt, "grid or overlay item data outside the file"},
		{"avif truncated", readImage(t, "avif_photo.avif")[:600], Options{}, nil, "decode avif:"},
		{"avif header only", readImage(t, "avif_photo.avif")[:40], Options{}, nil, "decode avif:"},
		{"avif over pixel budget", readImage(t, "avif_photo.avif"), Options{MaxPixels: 1000}, ErrTooLarge, "decode avif:"},
		{"over byte limit", png, Options{MaxBytes: 100}, ErrTooLarge, "exceed the limit of 100"},
		{"over pixel budget", png, Options{MaxPixels: 320*240 - 1}, ErrTooLarge, "320x240 is 76800 pixels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(tt.input, tt.opts)
			require.Error(t, err)
			assert.Nil(t, img)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestSniff(t *testing.T) {
	for _, tt := range []struct {
		file string
		want Format
	}{
		{"jpeg_gray.jpg", JPEG}, {"png_l8.png", PNG}, {"gif_gray.gif", GIF}, {"webp_lossless.webp", WebP},
		{"bmp_l.bmp", BMP}, {"tiff_l.tif", TIFF}, {"pnm_p1.pbm", PPM}, {"pnm_p4.pbm", PPM},
		{"ico_png.ico", ICO}, {"ico_dib.ico", ICO}, {"cur_dib.cur", CUR}, {"tga_rgb.tga", TGA}, {"tga_p.tga", TGA},
		{"tga_l_rle.tga", TGA}, {"pcx_rgb.pcx", PCX}, {"pcx_1bit.pcx", PCX},
		{"heif_photo.heic", HEIF}, {"avif_photo.avif", AVIF}, {"avif_alpha.avif", AVIF},
		{"pnm_p2.pgm", PPM}, {"pnm_p5.pgm", PPM}, {"pnm_p3.ppm", PPM}, {"pnm_p6.ppm", PPM},
	} {
		f, err := Sniff(readImage(t, tt.file))
		require.NoError(t, err, tt.file)
		assert.Equal(t, tt.want, f, tt.file)
	}
}

func TestOrient(t *testing.T) {
	// A 3x2 image whose pixels are numbered 0..5 row by row.
	src := NewRGB(3, 2)
	for i := 0; i < 6; i++ {
		src.Pix[3*i] = byte(i)
	}
	tests := []struct {
		o    int
		w, h int
		want []byte
	}{
		{1, 3, 2, []byte{0, 1, 2, 3, 4, 5}},
		{2, 3, 2, []byte{2, 1, 0, 5, 4, 3}},
		{3, 3, 2, []byte{5, 4, 3, 2, 1, 0}},
		{4, 3, 2, []byte{3, 4, 5, 0, 1, 2}},
		{5, 2, 3, []byte{0, 3, 1, 4, 2, 5}},
		{6, 2, 3, []byte{3, 0, 4, 1, 5, 2}},
		{7, 2, 3, []byte{5, 2, 4, 1, 3, 0}},
		{8, 2, 3, []byte{2, 5, 1, 4, 0, 3}},
	}
	for _, tt := range tests {
		got := Orient(src, tt.o)
		require.Equal(t, [2]int{tt.w, tt.h}, [2]int{got.Width, got.Height}, "orientation %d", tt.o)
		var r []byte
		for i := 0; i < 6; i++ {
			r = append(r, got.Pix[3*i])
		}
		assert.Equal(t, tt.want, r, "orientation %d", tt.o)
	}
}

// tiffWithSize patches the ImageWidth and ImageLength tags of an
// uncompressed little-endian TIFF.
func tiffWithSize(t testing.TB, w, h uint32) []byte {
	return tiffWithTags(t, "tiff_rgb.tif", map[uint16]uint32{256: w, 257: h})
}

// tiffWithTags patches the values of existing one-value SHORT or LONG tags
// of a little-endian TIFF.
func tiffWithTags(t testing.TB, file string, v map[uint16]uint32) []byte {
	b := bytes.Clone(readImage(t, file))
	require.Equal(t, "II*\x00", string(b[:4]))
	ifd := int(binary.LittleEndian.Uint32(b[4:]))
	n := int(binary.LittleEndian.Uint16(b[ifd:]))
	for i := 0; i < n; i++ {
		e := ifd + 2 + 12*i
		tag, typ := binary.LittleEndian.Uint16(b[e:]), binary.LittleEndian.Uint16(b[e+2:])
		if val, ok := v[tag]; ok {
			if typ == 3 {
				binary.LittleEndian.PutUint16(b[e+2:], 4) // LONG
			}
			binary.LittleEndian.PutUint32(b[e+8:], val)
		}
	}
	return b
}

// icoWithOffset points every directory entry of an icon at off.
func icoWithOffset(t testing.TB, file string, off uint32) []byte {
	b := bytes.Clone(readImage(t, file))
	n := int(binary.LittleEndian.Uint16(b[4:]))
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(b[6+16*i+12:], off)
	}
	return b
}

// icoDIBWithSize patches the bitmap header of a one-entry DIB icon.
func icoDIBWithSize(t testing.TB, w, h int32) []byte {
	b := bytes.Clone(readImage(t, "ico_dib_8bit_odd.ico"))
	off := binary.LittleEndian.Uint32(b[6+12:])
	binary.LittleEndian.PutUint32(b[off+4:], uint32(w))
	binary.LittleEndian.PutUint32(b[off+8:], uint32(h))
	return b
}

func tgaWithSize(t testing.TB, w, h uint16) []byte {
	b := bytes.Clone(readImage(t, "tga_rgb.tga"))
	binary.LittleEndian.PutUint16(b[12:], w)
	binary.LittleEndian.PutUint16(b[14:], h)
	return b
}

func pcxWithSize(t testing.TB, w, h uint16) []byte {
	b := bytes.Clone(readImage(t, "pcx_rgb.pcx"))
	binary.LittleEndian.PutUint16(b[4:], 0)
	binary.LittleEndian.PutUint16(b[6:], 0)
	binary.LittleEndian.PutUint16(b[8:], w-1)
	binary.LittleEndian.PutUint16(b[10:], h-1)
	return b
}

func pcxWithBits(t testing.TB, bits byte) []byte {
	b := bytes.Clone(readImage(t, "pcx_l.pcx"))
	b[3] = bits
	return b
}

// heifGridWithSize patches the output size in the grid item of
// heif_odd.heic (heif-enc writes the grid descriptor into idat).
func heifGridWithSize(t testing.TB, w, h uint16) []byte {
	b := bytes.Clone(readImage(t, "heif_odd.heic"))
	i := bytes.Index(b, []byte("idat"))
	require.Positive(t, i)
	grid := b[i+4:]
	require.Equal(t, byte(0), grid[1]&1, "16-bit grid sizes")
	binary.BigEndian.PutUint16(grid[4:], w)
	binary.BigEndian.PutUint16(grid[6:], h)
	return b
}

// heifGridDataOffset moves the grid item's data (the second iloc entry,
// in idat) to base offset off: libheif 1.15 then reads the canvas size
// past the end of idat, a 14441x27759 canvas for off 7.
func heifGridDataOffset(t testing.TB, off uint32) []byte {
	b := bytes.Clone(readImage(t, "heif_odd.heic"))
	i := bytes.Index(b, []byte("iloc"))
	require.Positive(t, i)
	body := b[i+4:]
	require.Equal(t, []byte{1, 0, 0, 0, 0x44, 0x40}, body[:6], "iloc v1, 4-byte offsets, lengths and base offsets")
	item2 := body[8+20:]
	require.Equal(t, []byte{0, 2, 0, 1}, item2[:4], "item 2 built from idat")
	binary.BigEndian.PutUint32(item2[6:], off)
	return b
}
