// Package imagedecode turns encoded images (JPEG, PNG, GIF, WebP, BMP, TIFF,
// PBM/PGM/PPM, ICO/CUR, TGA, PCX, and beyond Pillow HEIF/HEIC and AVIF)
// into packed 8-bit RGB pixels that match what Pillow 9's
// Image.open(...).convert("RGB") gives, so that the CLIP vectors computed from
// them equal sentence-transformers' ones. HEIF and AVIF, which Pillow 9.4
// does not read, go through libheif and libavif (heif.go) and match their
// command-line decoders.
//
// JPEG, WebP and TIFF are decoded by libjpeg-turbo, libwebp and libtiff
// through cgo (Debian packages libjpeg62-turbo-dev, libwebp-dev and
// libtiff-dev at build time), the libraries Pillow itself uses: with the
// same settings (islow IDCT, fancy chroma upsampling, libwebp's default
// YUV->RGB, libtiff's codecs and Pillow's own unpacking of the samples) the
// pixels are identical to Pillow's. The pure-Go decoders are not used
// (purego_test.go checks that they still miss): image/jpeg upsamples chroma
// by nearest neighbour and x/image/webp converts YUV with its own formulas,
// which puts them dozens of levels away from Pillow on 4:2:0/4:2:2 JPEGs
// and lossy WebP (docs/models.md), where libjpeg-turbo and libwebp give 0.
// They are also slower (BenchmarkJPEG, BenchmarkWebP; the figures are in
// docs/performance.md). Porting libjpeg-turbo's fancy upsampling and both
// libraries' YUV->RGB tables to Go would fix parity, not speed;
// x/image/tiff lacks JPEG and CCITT compression. PNG is inflated by
// libdeflate and unfiltered in C (png.go; faster than image/png, and than
// zlib for the inflating) where the file is one image/png would decode, and
// goes through image/png otherwise; GIF and BMP go through Go's decoders
// (identical pixels; the conversion to RGB follows Pillow's rules, see
// toRGB); PNM, ICO/CUR, TGA and PCX through Go ports of Pillow's readers
// (pnm.go, ico.go, tga.go, pcx.go).
//
// Deliberate differences from Pillow 9:
//   - 16-bit grayscale (PNG/TIFF "I;16", PGM with maxval > 255) becomes
//     8-bit by taking the high byte, as Pillow does for 16-bit RGB(A);
//     Pillow 9 clips those values to 255 instead, which makes nearly every
//     such image white. 16-bit min-is-white TIFFs are also inverted, which
//     Pillow does not do.
//   - Uncompressed YCbCr TIFFs are converted to RGB as Pillow's own
//     libtiff path does for compressed ones; Pillow 9.4's raw path fails
//     on them ("image file is truncated"). TGAs with 32-bit colour maps,
//     which Pillow 9.4 fails on, are read.
//   - EXIF orientation is ignored by default, as Pillow does for JPEG, PNG
//     and WebP; Options.ApplyEXIF rotates the pixels as
//     ImageOps.exif_transpose would. TIFFs are always oriented, because
//     Pillow 9 transposes them on load (and exif_transpose on a TIFF that
//     is not loaded yet then transposes twice; mclip does it once).
//
// A still lossy WebP can also be decoded to its YUV 4:2:0 planes
// (DecodeYUV420) and converted to RGB a row at a time, with the bytes Decode
// gives, for a caller that only reduces the image (webpyuv.go).
//
// Animated GIF and WebP give their first frame, multi-page TIFF its first
// page, as Pillow does. Not supported (a clear ErrUnsupported): a GIF
// whose first frame reaches outside its logical screen, RLE-compressed BMP
// (Go's decoder lacks it), TIFFs with signed, floating-point or 12-bit
// samples or LAB colour (Pillow cannot convert those to RGB either).
//
// Every decoder runs under recover, dimensions read from headers are checked
// against the pixel budget before any pixel memory is allocated, and errors
// name the format and the problem ("decode png: truncated data").
package imagedecode

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/mclip-go/mclip/config"
)

// Errors that Decode wraps; test with errors.Is.
var (
	ErrEmpty       = errors.New("empty input")
	ErrUnsupported = errors.New("unsupported image format")
	ErrTooLarge    = errors.New("image too large")
	ErrTruncated   = errors.New("truncated data")
	ErrCorrupt     = errors.New("corrupt data")
	ErrZeroSize    = errors.New("zero-sized image")
)

// Options bound and adjust decoding.
type Options struct {
	// MaxPixels is the largest width*height accepted; 0 means
	// config.DefaultMaxPixels (Pillow's Image.MAX_IMAGE_PIXELS).
	MaxPixels int64
	// MaxBytes is the largest encoded input accepted; 0 means
	// config.DefaultMaxImageBytes.
	MaxBytes int64
	// ApplyEXIF rotates/flips the image by its EXIF orientation tag (JPEG,
	// PNG, WebP, TIFF) like PIL.ImageOps.exif_transpose.
	ApplyEXIF bool
}

func (o Options) maxPixels() int64 {
	if o.MaxPixels <= 0 {
		return config.DefaultMaxPixels
	}
	return o.MaxPixels
}

func (o Options) maxBytes() int64 {
	if o.MaxBytes <= 0 {
		return config.DefaultMaxImageBytes
	}
	return o.MaxBytes
}

// RGB is a packed 8-bit RGB image: pixel (x, y) is Pix[3*(y*Width+x):][:3].
type RGB struct {
	Width, Height int
	Pix           []byte
}

// NewRGB allocates a black w x h image.
func NewRGB(w, h int) *RGB { return &RGB{Width: w, Height: h, Pix: make([]byte, 3*w*h)} }

// Format is an encoded image format.
type Format string

// Supported formats.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	GIF  Format = "gif"
	WebP Format = "webp"
	BMP  Format = "bmp"
	TIFF Format = "tiff"
	// PPM is the PNM family (PBM, PGM, PPM), named as Pillow names it.
	PPM Format = "ppm"
	ICO Format = "ico"
	CUR Format = "cur"
	PCX Format = "pcx"
	TGA Format = "tga"
	// HEIF and AVIF are beyond Pillow 9.4 (see heif.go).
	HEIF Format = "heif"
	AVIF Format = "avif"
)

// readable lists what Decode reads, for errors.
const readable = "want JPEG, PNG, GIF, WebP, BMP, TIFF, PBM/PGM/PPM, ICO, CUR, TGA, PCX, HEIF/HEIC or AVIF"

// Sniff names the format of data by its magic bytes.
func Sniff(data []byte) (Format, error) {
	switch {
	case len(data) == 0:
		return "", ErrEmpty
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG, nil
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return GIF, nil
	case len(data) >= 12 && bytes.HasPrefix(data, []byte("RIFF")) && string(data[8:12]) == "WEBP":
		return WebP, nil
	case bytes.HasPrefix(data, []byte("BM")):
		return BMP, nil
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return TIFF, nil
	case sniffPNM(data):
		return PPM, nil
	case sniffICO(data):
		return ICO, nil
	case sniffCUR(data):
		return CUR, nil
	case sniffPCX(data):
		return PCX, nil
	case sniffISO(data) != "":
		return sniffISO(data), nil
	}
	name := unsupportedFormat(data)
	switch {
	case name != "":
	case sniffTGA(data):
		// Last: TGA has no magic number.
		return TGA, nil
	case bytes.HasPrefix(data, []byte{0, 0, 2, 0}):
		// A cursor whose directory is broken (sniffCUR): say so.
		return CUR, nil
	}
	head := data[:min(len(data), 12)]
	if name != "" {
		return "", fmt.Errorf("%w: %s (%s; data starts with %q)", ErrUnsupported, name, readable, head)
	}
	return "", fmt.Errorf("%w (%s; data starts with %q)", ErrUnsupported, readable, head)
}

// Decode decodes an image and converts it to RGB as Pillow's convert("RGB").
func Decode(data []byte, opts Options) (img *RGB, err error) {
	if int64(len(data)) > opts.maxBytes() {
		return nil, fmt.Errorf("decode image: %w: %d bytes exceed the limit of %d", ErrTooLarge, len(data), opts.maxBytes())
	}
	f, err := Sniff(data)
	if err != nil {
		return nil, fmt.Errorf("decode image: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("decode %s: %w: decoder panicked: %v", f, ErrCorrupt, r)
		}
	}()
	switch f {
	case JPEG:
		img, err = decodeJPEG(data, opts.maxPixels())
	case PNG:
		img, err = decodePNG(data, opts.maxPixels())
	case WebP:
		img, err = decodeWebP(data, opts.maxPixels())
	case GIF:
		img, err = decodeGIF(data, opts.maxPixels())
	case PPM:
		img, err = decodePNM(data, opts.maxPixels())
	case TIFF:
		img, err = decodeTIFF(data, opts.maxPixels())
	case ICO:
		img, err = decodeICO(data, opts.maxPixels())
	case CUR:
		img, err = decodeCUR(data, opts.maxPixels())
	case PCX:
		img, err = decodePCX(data, opts.maxPixels())
	case TGA:
		img, err = decodeTGA(data, opts.maxPixels())
	case HEIF:
		img, err = decodeHEIF(data, opts.maxPixels())
	case AVIF:
		img, err = decodeAVIF(data, opts.maxPixels())
	default:
		img, err = decodeStd(f, data, opts.maxPixels())
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", f, err)
	}
	// Pillow 9 transposes TIFFs by their orientation tag when loading them
	// (TiffImagePlugin.load_end), so a TIFF is always oriented; other
	// formats only when asked.
	if opts.ApplyEXIF || f == TIFF {
		if o := Orientation(f, data); o > 1 {
			img = Orient(img, o)
		}
	}
	return img, nil
}

// checkSize validates header dimensions against the pixel budget.
func checkSize(w, h int, maxPixels int64) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: %dx%d", ErrZeroSize, w, h)
	}
	if int64(w)*int64(h) > maxPixels {
		return fmt.Errorf("%w: %dx%d is %d pixels, more than the limit of %d", ErrTooLarge, w, h, int64(w)*int64(h), maxPixels)
	}
	return nil
}
