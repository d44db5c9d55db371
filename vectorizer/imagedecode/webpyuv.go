package imagedecode

/*
#cgo pkg-config: libwebp
#cgo CFLAGS: -O3
#include <stdint.h>
#include <string.h>
#include <webp/decode.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// mclip_webp_lossy_still says whether data is a still lossy WebP (its
// YUV planes are what libwebp converts to RGB), and its size.
static int mclip_webp_lossy_still(const uint8_t *data, size_t len, int *w, int *h) {
	WebPBitstreamFeatures f;
	if (WebPGetFeatures(data, len, &f) != VP8_STATUS_OK) return 0;
	*w = f.width, *h = f.height;
	return f.format == 1 && !f.has_animation;
}

// mclip_webp_decode_yuv decodes into the Y (w x h) and U, V ((w+1)/2 x
// (h+1)/2) planes, before libwebp's conversion to RGB.
static int mclip_webp_decode_yuv(const uint8_t *data, size_t len, uint8_t *y, uint8_t *u, uint8_t *v, int w, int h) {
	WebPDecoderConfig config;
	if (!WebPInitDecoderConfig(&config)) return -1;
	const int cw = (w + 1) / 2, ch = (h + 1) / 2;
	config.output.colorspace = MODE_YUV;
	config.output.is_external_memory = 1;
	WebPYUVABuffer *b = &config.output.u.YUVA;
	b->y = y, b->y_stride = w, b->y_size = (size_t)w * h;
	b->u = u, b->u_stride = cw, b->u_size = (size_t)cw * ch;
	b->v = v, b->v_stride = cw, b->v_size = (size_t)cw * ch;
	VP8StatusCode st = WebPDecode(data, len, &config);
	WebPFreeDecBuffer(&config.output);
	return (int)st;
}

// mclip_upsample_row is libwebp's fancy upsampler (dsp/upsampling.c,
// UPSAMPLE_FUNC; its SSE2 version gives the same bytes) for one output row
// of one chroma plane: near is the chroma row weighted 3, far the one
// weighted 1, each (w+1)/2 samples; out gets w samples.
// mclip_upsample_from does the pixel pairs from x on, and the last pixel.
static void mclip_upsample_from(const uint8_t *near, const uint8_t *far, int w, uint8_t *out, int x) {
	const int last = (w - 1) >> 1;
#if defined(__SSE2__)
	const __m128i z = _mm_setzero_si128(), k8 = _mm_set1_epi16(8);
	for (; x + 7 <= last; x += 8) {
		__m128i a = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(near + x - 1)), z);
		__m128i b = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(near + x)), z);
		__m128i c = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(far + x - 1)), z);
		__m128i d = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(far + x)), z);
		__m128i avg = _mm_add_epi16(_mm_add_epi16(_mm_add_epi16(a, b), _mm_add_epi16(c, d)), k8);
		__m128i d12 = _mm_srli_epi16(_mm_add_epi16(avg, _mm_slli_epi16(_mm_add_epi16(b, c), 1)), 3);
		__m128i d03 = _mm_srli_epi16(_mm_add_epi16(avg, _mm_slli_epi16(_mm_add_epi16(a, d), 1)), 3);
		__m128i o1 = _mm_srli_epi16(_mm_add_epi16(d12, a), 1);
		__m128i o2 = _mm_srli_epi16(_mm_add_epi16(d03, b), 1);
		__m128i o = _mm_unpacklo_epi8(_mm_packus_epi16(o1, o1), _mm_packus_epi16(o2, o2));
		_mm_storeu_si128((__m128i *)(out + 2 * x - 1), o);
	}
#endif
	for (; x <= last; x++) {
		const int a = near[x - 1], b = near[x], c = far[x - 1], d = far[x];
		const int avg = a + b + c + d + 8;
		out[2 * x - 1] = (uint8_t)((((avg + 2 * (b + c)) >> 3) + a) >> 1);
		out[2 * x] = (uint8_t)((((avg + 2 * (a + d)) >> 3) + b) >> 1);
	}
	if (!(w & 1)) out[w - 1] = (uint8_t)((3 * near[last] + far[last] + 2) >> 2);
}

static void mclip_upsample_row(const uint8_t *near, const uint8_t *far, int w, uint8_t *out) {
	out[0] = (uint8_t)((3 * near[0] + far[0] + 2) >> 2);
	mclip_upsample_from(near, far, w, out, 1);
}

// libwebp's YUV->RGB (dsp/yuv.h: VP8YUVToR/G/B; MultHi(v, c) = (v*c)>>8,
// then >> 6 clipped to 0..255), scalar.
static inline int mclip_clip6(int v) { return (v & ~16383) == 0 ? v >> 6 : v < 0 ? 0 : 255; }

// mclip_yuv_rgb converts w pixels: Y from y, U and V from the upsampled
// rows (in g and b on entry), R, G, B into r, g, b (in place). The SSE2
// part is libwebp's ConvertYUV444ToRGB_SSE2 (dsp/yuv_sse2.c), which equals
// the scalar formulas.
static void mclip_yuv_rgb_from(const uint8_t *y, int w, uint8_t *r, uint8_t *g, uint8_t *b, int i) {
#if defined(__SSE2__)
	const __m128i z = _mm_setzero_si128();
	const __m128i k19077 = _mm_set1_epi16(19077), k26149 = _mm_set1_epi16(26149), k14234 = _mm_set1_epi16(14234);
	const __m128i k33050 = _mm_set1_epi16((short)33050), k17685 = _mm_set1_epi16(17685);
	const __m128i k6419 = _mm_set1_epi16(6419), k13320 = _mm_set1_epi16(13320), k8708 = _mm_set1_epi16(8708);
	for (; i + 16 <= w; i += 16) {
		__m128i yy = _mm_loadu_si128((const __m128i *)(y + i));
		__m128i uu = _mm_loadu_si128((const __m128i *)(g + i));
		__m128i vv = _mm_loadu_si128((const __m128i *)(b + i));
		__m128i out[3][2];
		for (int h = 0; h < 2; h++) {
			// The bytes in the upper half of 16-bit words: v << 8.
			__m128i Y0 = h ? _mm_unpackhi_epi8(z, yy) : _mm_unpacklo_epi8(z, yy);
			__m128i U0 = h ? _mm_unpackhi_epi8(z, uu) : _mm_unpacklo_epi8(z, uu);
			__m128i V0 = h ? _mm_unpackhi_epi8(z, vv) : _mm_unpacklo_epi8(z, vv);
			__m128i Y1 = _mm_mulhi_epu16(Y0, k19077);
			__m128i R2 = _mm_add_epi16(_mm_sub_epi16(Y1, k14234), _mm_mulhi_epu16(V0, k26149));
			__m128i G4 = _mm_sub_epi16(_mm_add_epi16(Y1, k8708), _mm_add_epi16(_mm_mulhi_epu16(U0, k6419), _mm_mulhi_epu16(V0, k13320)));
			__m128i B2 = _mm_subs_epu16(_mm_adds_epu16(_mm_mulhi_epu16(U0, k33050), Y1), k17685);
			out[0][h] = _mm_srai_epi16(R2, 6);
			out[1][h] = _mm_srai_epi16(G4, 6);
			out[2][h] = _mm_srli_epi16(B2, 6);
		}
		_mm_storeu_si128((__m128i *)(r + i), _mm_packus_epi16(out[0][0], out[0][1]));
		_mm_storeu_si128((__m128i *)(g + i), _mm_packus_epi16(out[1][0], out[1][1]));
		_mm_storeu_si128((__m128i *)(b + i), _mm_packus_epi16(out[2][0], out[2][1]));
	}
#endif
	for (; i < w; i++) {
		const int Y = (y[i] * 19077) >> 8, U = g[i], V = b[i];
		r[i] = (uint8_t)mclip_clip6(Y + ((V * 26149) >> 8) - 14234);
		g[i] = (uint8_t)mclip_clip6(Y - ((U * 6419) >> 8) - ((V * 13320) >> 8) + 8708);
		b[i] = (uint8_t)mclip_clip6(Y + ((U * 33050) >> 8) - 17685);
	}
}

#if defined(__x86_64__)
#include <immintrin.h>

static int mclip_webp_have_avx2(void) {
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}

// The same two steps, twice as wide, where the CPU has AVX2.
__attribute__((target("avx2")))
static void mclip_upsample_row_avx2(const uint8_t *near, const uint8_t *far, int w, uint8_t *out) {
	const int last = (w - 1) >> 1;
	out[0] = (uint8_t)((3 * near[0] + far[0] + 2) >> 2);
	int x = 1;
	const __m256i k8 = _mm256_set1_epi16(8);
	for (; x + 15 <= last; x += 16) {
		__m256i a = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(near + x - 1)));
		__m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(near + x)));
		__m256i c = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(far + x - 1)));
		__m256i d = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(far + x)));
		__m256i avg = _mm256_add_epi16(_mm256_add_epi16(_mm256_add_epi16(a, b), _mm256_add_epi16(c, d)), k8);
		__m256i d12 = _mm256_srli_epi16(_mm256_add_epi16(avg, _mm256_slli_epi16(_mm256_add_epi16(b, c), 1)), 3);
		__m256i d03 = _mm256_srli_epi16(_mm256_add_epi16(avg, _mm256_slli_epi16(_mm256_add_epi16(a, d), 1)), 3);
		__m256i o1 = _mm256_srli_epi16(_mm256_add_epi16(d12, a), 1);
		__m256i o2 = _mm256_srli_epi16(_mm256_add_epi16(d03, b), 1);
		// Per 128-bit lane, 8 of o1 and 8 of o2 interleaved: in order.
		__m256i o = _mm256_unpacklo_epi8(_mm256_packus_epi16(o1, o1), _mm256_packus_epi16(o2, o2));
		_mm256_storeu_si256((__m256i *)(out + 2 * x - 1), o);
	}
	mclip_upsample_from(near, far, w, out, x);
}

__attribute__((target("avx2")))
static void mclip_yuv_rgb_avx2(const uint8_t *y, int w, uint8_t *r, uint8_t *g, uint8_t *b) {
	const __m256i z = _mm256_setzero_si256();
	const __m256i k19077 = _mm256_set1_epi16(19077), k26149 = _mm256_set1_epi16(26149), k14234 = _mm256_set1_epi16(14234);
	const __m256i k33050 = _mm256_set1_epi16((short)33050), k17685 = _mm256_set1_epi16(17685);
	const __m256i k6419 = _mm256_set1_epi16(6419), k13320 = _mm256_set1_epi16(13320), k8708 = _mm256_set1_epi16(8708);
	int i = 0;
	for (; i + 32 <= w; i += 32) {
		__m256i yy = _mm256_loadu_si256((const __m256i *)(y + i));
		__m256i uu = _mm256_loadu_si256((const __m256i *)(g + i));
		__m256i vv = _mm256_loadu_si256((const __m256i *)(b + i));
		__m256i out[3][2];
		for (int h = 0; h < 2; h++) {
			// Per 128-bit lane; packus below puts the halves back in order.
			__m256i Y0 = h ? _mm256_unpackhi_epi8(z, yy) : _mm256_unpacklo_epi8(z, yy);
			__m256i U0 = h ? _mm256_unpackhi_epi8(z, uu) : _mm256_unpacklo_epi8(z, uu);
			__m256i V0 = h ? _mm256_unpackhi_epi8(z, vv) : _mm256_unpacklo_epi8(z, vv);
			__m256i Y1 = _mm256_mulhi_epu16(Y0, k19077);
			__m256i R2 = _mm256_add_epi16(_mm256_sub_epi16(Y1, k14234), _mm256_mulhi_epu16(V0, k26149));
			__m256i G4 = _mm256_sub_epi16(_mm256_add_epi16(Y1, k8708), _mm256_add_epi16(_mm256_mulhi_epu16(U0, k6419), _mm256_mulhi_epu16(V0, k13320)));
			__m256i B2 = _mm256_subs_epu16(_mm256_adds_epu16(_mm256_mulhi_epu16(U0, k33050), Y1), k17685);
			out[0][h] = _mm256_srai_epi16(R2, 6);
			out[1][h] = _mm256_srai_epi16(G4, 6);
			out[2][h] = _mm256_srli_epi16(B2, 6);
		}
		_mm256_storeu_si256((__m256i *)(r + i), _mm256_packus_epi16(out[0][0], out[0][1]));
		_mm256_storeu_si256((__m256i *)(g + i), _mm256_packus_epi16(out[1][0], out[1][1]));
		_mm256_storeu_si256((__m256i *)(b + i), _mm256_packus_epi16(out[2][0], out[2][1]));
	}
	mclip_yuv_rgb_from(y, w, r, g, b, i);
}
#else
static int mclip_webp_have_avx2(void) { return 0; }
static void mclip_upsample_row_avx2(const uint8_t *near, const uint8_t *far, int w, uint8_t *out) {}
static void mclip_yuv_rgb_avx2(const uint8_t *y, int w, uint8_t *r, uint8_t *g, uint8_t *b) {}
#endif

// mclip_yuv420_row writes RGB row yy of the image as libwebp's
// EmitFancyRGB does (io_dec.c): rows 2k-1 and 2k are upsampled from chroma
// rows k-1 and k, each weighting its nearer one 3 to 1; the first row, and
// the last of an even height, from their one chroma row alone.
static void mclip_yuv420_row(const uint8_t *Y, const uint8_t *U, const uint8_t *V, int w, int h, int yy,
		uint8_t *r, uint8_t *g, uint8_t *b, int avx2) {
	const int cw = (w + 1) / 2, ch = (h + 1) / 2;
	const int near = yy >> 1;
	int far = (yy & 1) ? (yy + 1) >> 1 : (yy >> 1) - 1;
	if (far < 0) far = 0;
	if (far > ch - 1) far = ch - 1;
	if (avx2) {
		mclip_upsample_row_avx2(U + (long)near * cw, U + (long)far * cw, w, g);
		mclip_upsample_row_avx2(V + (long)near * cw, V + (long)far * cw, w, b);
		mclip_yuv_rgb_avx2(Y + (long)yy * w, w, r, g, b);
		return;
	}
	mclip_upsample_row(U + (long)near * cw, U + (long)far * cw, w, g);
	mclip_upsample_row(V + (long)near * cw, V + (long)far * cw, w, b);
	mclip_yuv_rgb_from(Y + (long)yy * w, w, r, g, b, 0);
}
*/
import "C"

import (
	"sync"
	"unsafe"
)

// YUV420 is a still lossy WebP decoded by libwebp to its Y, U and V planes
// (4:2:0), before libwebp's conversion to RGB. Row computes that conversion
// (libwebp's default fancy upsampling and fixed-point BT.601) one row at a
// time, so that a caller which only reduces the image (clipprep) never
// holds the whole RGB image: the planes are half its size, and each row is
// consumed while it is in the cache. The rows are byte for byte the ones
// Decode gives.
type YUV420 struct {
	Width, Height int
	y, u, v       []byte
	buf           []byte // the three planes, from planesPool
}

// planesPool keeps the planes' buffers between decodes (YUV420.Release):
// a fresh 25 MB buffer (4096x4096) costs a page fault and a zeroed page
// per 4 KiB that libwebp writes, milliseconds of system time per image
// where the Go heap is large and collections rare (as in Weaviate, or
// mclip-bench; bench/results/HISTORY.md). A sync.Pool holds no more buffers than were in use at
// once (one per concurrent decode) and the collector drops them within two
// collections (the runtime forces one every two minutes when idle).
var planesPool sync.Pool // of *[]byte

// pooledPlanesMin is the smallest buffer worth keeping (1 MiB).
const pooledPlanesMin = 1 << 20

// DecodeYUV420 decodes data as a YUV420 when it is a still lossy WebP
// that Decode would return unrotated (opts.ApplyEXIF unset or no EXIF
// orientation); ok is false otherwise, and for anything Decode would
// reject, so that the caller falls back to Decode (which gives the error).
func DecodeYUV420(data []byte, opts Options) (img *YUV420, ok bool) {
	if int64(len(data)) > opts.maxBytes() || len(data) < 12 {
		return nil, false
	}
	if f, err := Sniff(data); err != nil || f != WebP {
		return nil, false
	}
	if opts.ApplyEXIF && Orientation(WebP, data) > 1 {
		return nil, false
	}
	defer func() {
		if r := recover(); r != nil {
			img, ok = nil, false
		}
	}()
	p := (*C.uint8_t)(unsafe.Pointer(&data[0]))
	var w, h C.int
	if C.mclip_webp_lossy_still(p, C.size_t(len(data)), &w, &h) == 0 {
		return nil, false
	}
	if checkSize(int(w), int(h), opts.maxPixels()) != nil {
		return nil, false
	}
	width, height := int(w), int(h)
	cw, ch := (width+1)/2, (height+1)/2
	n := width*height + 2*cw*ch
	var pix []byte
	if p, _ := planesPool.Get().(*[]byte); p != nil && cap(*p) >= n {
		pix = (*p)[:n] // not cleared: libwebp writes every byte of the planes
	} else {
		pix = make([]byte, n)
	}
	img = &YUV420{Width: width, Height: height, y: pix[:width*height], u: pix[width*height:][:cw*ch], v: pix[width*height+cw*ch:][:cw*ch], buf: pix}
	if C.mclip_webp_decode_yuv(p, C.size_t(len(data)), (*C.uint8_t)(unsafe.Pointer(&img.y[0])), (*C.uint8_t)(unsafe.Pointer(&img.u[0])),
		(*C.uint8_t)(unsafe.Pointer(&img.v[0])), w, h) != 0 {
		img.Release()
		return nil, false
	}
	return img, true
}

// Size is the image's width and height.
func (img *YUV420) Size() (int, int) { return img.Width, img.Height }

// Row writes row y's red, green and blue samples into r, g and b (Width
// bytes each).
func (img *YUV420) Row(y int, r, g, b []byte) {
	if y < 0 || y >= img.Height || len(r) < img.Width || len(g) < img.Width || len(b) < img.Width {
		panic("imagedecode: YUV420.Row out of range")
	}
	C.mclip_yuv420_row((*C.uint8_t)(unsafe.Pointer(&img.y[0])), (*C.uint8_t)(unsafe.Pointer(&img.u[0])), (*C.uint8_t)(unsafe.Pointer(&img.v[0])),
		C.int(img.Width), C.int(img.Height), C.int(y), (*C.uint8_t)(unsafe.Pointer(&r[0])), (*C.uint8_t)(unsafe.Pointer(&g[0])),
		(*C.uint8_t)(unsafe.Pointer(&b[0])), yuvAVX2)
}

// yuvAVX2 says whether Row may take the AVX2 versions (the CPU has AVX2);
// tests turn it off to check the others.
var yuvAVX2 C.int = C.mclip_webp_have_avx2()

// RGB converts the whole image (what Decode returns).
func (img *YUV420) RGB() *RGB {
	out := NewRGB(img.Width, img.Height)
	r, g, b := make([]byte, img.Width), make([]byte, img.Width), make([]byte, img.Width)
	for y := range img.Height {
		img.Row(y, r, g, b)
		row := out.Pix[3*img.Width*y:]
		for x := range img.Width {
			row[3*x], row[3*x+1], row[3*x+2] = r[x], g[x], b[x]
		}
	}
	return out
}

// Release gives the planes' buffer back for a later DecodeYUV420; img must
// not be used afterwards.
func (img *YUV420) Release() {
	if img == nil || img.buf == nil {
		return
	}
	if cap(img.buf) >= pooledPlanesMin {
		b := img.buf[:0]
		planesPool.Put(&b)
	}
	img.buf, img.y, img.u, img.v = nil, nil, nil, nil
}
