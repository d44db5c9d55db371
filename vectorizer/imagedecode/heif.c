#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libheif/heif.h>
#include <avif/avif.h>

#include "imagedecode.h"

// mclip_heif_run decodes the primary image of a HEIF file with libheif,
// its transformations (clap, irot, imir) applied and HDR narrowed to 8
// bits, as interleaved RGB into out (w*h*3 bytes), or only reports the
// size when out is NULL: *w, *h after the transformations, *cw, *ch the
// coded size (ispe). max_dim bounds each dimension inside libheif.
int mclip_heif_run(const unsigned char *data, size_t len, int max_dim, unsigned char *out, size_t out_len,
                   int *w, int *h, int *cw, int *ch, char *msg) {
	struct heif_context *ctx = heif_context_alloc();
	struct heif_image_handle *hd = NULL;
	struct heif_image *img = NULL;
	struct heif_decoding_options *opt = NULL;
	int rc = 1;
	if (ctx == NULL) {
		snprintf(msg, MCLIP_HEIF_MSG, "out of memory");
		return 1;
	}
	heif_context_set_maximum_image_size_limit(ctx, max_dim);
	struct heif_error err = heif_context_read_from_memory_without_copy(ctx, data, len, NULL);
	if (err.code != heif_error_Ok) goto fail;
	err = heif_context_get_primary_image_handle(ctx, &hd);
	if (err.code != heif_error_Ok) goto fail;
	*w = heif_image_handle_get_width(hd);
	*h = heif_image_handle_get_height(hd);
	*cw = heif_image_handle_get_ispe_width(hd);
	*ch = heif_image_handle_get_ispe_height(hd);
	if (out == NULL) {
		rc = 0;
		goto done;
	}
	opt = heif_decoding_options_alloc();
	if (opt == NULL) {
		snprintf(msg, MCLIP_HEIF_MSG, "out of memory");
		goto done;
	}
	opt->ignore_transformations = 0;
	opt->convert_hdr_to_8bit = 1;
	err = heif_decode_image(hd, &img, heif_colorspace_RGB, heif_chroma_interleaved_RGB, opt);
	if (err.code != heif_error_Ok) goto fail;
	int iw = heif_image_get_width(img, heif_channel_interleaved), ih = heif_image_get_height(img, heif_channel_interleaved);
	int stride = 0;
	const uint8_t *p = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
	if (p == NULL || iw != *w || ih != *h || (size_t)iw * ih * 3 > out_len || stride < iw * 3) {
		snprintf(msg, MCLIP_HEIF_MSG, "decoded image is %dx%d, header said %dx%d", iw, ih, *w, *h);
		goto done;
	}
	for (int y = 0; y < ih; y++) {
		memcpy(out + (size_t)y * iw * 3, p + (size_t)y * stride, (size_t)iw * 3);
	}
	rc = 0;
	goto done;
fail:
	snprintf(msg, MCLIP_HEIF_MSG, "%s", err.message ? err.message : "libheif error");
done:
	if (img) heif_image_release(img);
	if (opt) heif_decoding_options_free(opt);
	if (hd) heif_image_handle_release(hd);
	heif_context_free(ctx);
	return rc;
}

// mclip_avif_run decodes the first image of an AVIF file with libavif
// (colour conversion at 8 bits, alpha dropped) into out (w*h*3 bytes), or
// only reads the header when out is NULL. *irot and *imir receive the
// transformations (-1 when absent), which libavif leaves to the caller.
int mclip_avif_run(const unsigned char *data, size_t len, uint32_t max_pixels, unsigned char *out, size_t out_len,
                   int *w, int *h, int *irot, int *imir, char *msg) {
	avifDecoder *d = avifDecoderCreate();
	int rc = 1;
	if (d == NULL) {
		snprintf(msg, MCLIP_HEIF_MSG, "out of memory");
		return 1;
	}
	// libavif's own limit (16384x16384 by default) only makes parsing fail
	// ("BMFF parsing failed"); the caller checks the size against its
	// budget after parsing, before any pixel memory is allocated.
	// When decoding, the size has been checked: the exact budget then also
	// bounds the AV1 decoder's frames (libavif passes it to dav1d).
	if (out != NULL || max_pixels > d->imageSizeLimit) d->imageSizeLimit = max_pixels;
	d->imageCountLimit = 1 << 16;
	d->ignoreExif = AVIF_TRUE;
	d->ignoreXMP = AVIF_TRUE;
	avifResult r = avifDecoderSetIOMemory(d, data, len);
	if (r == AVIF_RESULT_OK) r = avifDecoderParse(d);
	if (r != AVIF_RESULT_OK) goto fail;
	*w = (int)d->image->width;
	*h = (int)d->image->height;
	*irot = (d->image->transformFlags & AVIF_TRANSFORM_IROT) ? d->image->irot.angle : -1;
	*imir = (d->image->transformFlags & AVIF_TRANSFORM_IMIR) ? d->image->imir.mode : -1;
	if (out == NULL) {
		rc = 0;
		goto done;
	}
	r = avifDecoderNextImage(d);
	if (r != AVIF_RESULT_OK) goto fail;
	if ((int)d->image->width != *w || (int)d->image->height != *h || (size_t)*w * *h * 3 > out_len) {
		snprintf(msg, MCLIP_HEIF_MSG, "decoded image is %ux%u, header said %dx%d", d->image->width, d->image->height, *w, *h);
		goto done;
	}
	avifRGBImage rgb;
	avifRGBImageSetDefaults(&rgb, d->image);
	rgb.depth = 8;
	if (d->image->alphaPlane != NULL) {
		// As avifdec does for an image with alpha: RGBA (libavif may take
		// a different conversion path for it), then alpha dropped.
		rgb.format = AVIF_RGB_FORMAT_RGBA;
		avifRGBImageAllocatePixels(&rgb);
		if (rgb.pixels == NULL) {
			snprintf(msg, MCLIP_HEIF_MSG, "out of memory");
			goto done;
		}
		r = avifImageYUVToRGB(d->image, &rgb);
		if (r == AVIF_RESULT_OK) {
			for (int y = 0; y < *h; y++) {
				const uint8_t *src = rgb.pixels + (size_t)y * rgb.rowBytes;
				unsigned char *dst = out + (size_t)y * *w * 3;
				for (int x = 0; x < *w; x++) {
					dst[3 * x] = src[4 * x];
					dst[3 * x + 1] = src[4 * x + 1];
					dst[3 * x + 2] = src[4 * x + 2];
				}
			}
		}
		avifRGBImageFreePixels(&rgb);
	} else {
		rgb.format = AVIF_RGB_FORMAT_RGB;
		rgb.pixels = out;
		rgb.rowBytes = (uint32_t)*w * 3;
		r = avifImageYUVToRGB(d->image, &rgb);
	}
	if (r != AVIF_RESULT_OK) goto fail;
	rc = 0;
	goto done;
fail:
	snprintf(msg, MCLIP_HEIF_MSG, "%s", avifResultToString(r));
done:
	avifDecoderDestroy(d);
	return rc;
}
