#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include "imagedecode.h"

// mclip_webp_info returns 0 and the canvas size, or the VP8StatusCode.
int mclip_webp_info(const uint8_t *data, size_t len, int *w, int *h, int *alpha, int *anim) {
	WebPBitstreamFeatures f;
	VP8StatusCode st = WebPGetFeatures(data, len, &f);
	if (st != VP8_STATUS_OK) return (int)st;
	*w = f.width; *h = f.height; *alpha = f.has_alpha; *anim = f.has_animation;
	return 0;
}

// mclip_webp_decode decodes into packed RGB with libwebp's defaults (fancy
// upsampling, its fixed-point BT.601 YUV->RGB), as Pillow's decoder does;
// alpha is dropped without compositing, as convert("RGB") does.
int mclip_webp_decode(const uint8_t *data, size_t len, uint8_t *out, int w, int h) {
	WebPDecoderConfig config;
	if (!WebPInitDecoderConfig(&config)) return -1;
	config.output.colorspace = MODE_RGB;
	config.output.is_external_memory = 1;
	config.output.u.RGBA.rgba = out;
	config.output.u.RGBA.stride = w * 3;
	config.output.u.RGBA.size = (size_t)w * h * 3;
	VP8StatusCode st = WebPDecode(data, len, &config);
	WebPFreeDecBuffer(&config.output);
	return (int)st;
}

// mclip_webp_anim_first renders the first frame of an animation as
// Pillow does (WebPAnimDecoder, non-premultiplied RGBA on a transparent
// black canvas) and keeps RGB.
int mclip_webp_anim_first(const uint8_t *data, size_t len, uint8_t *out, int w, int h) {
	WebPData wd = {data, len};
	WebPAnimDecoderOptions opts;
	if (!WebPAnimDecoderOptionsInit(&opts)) return -1;
	opts.color_mode = MODE_RGBA;
	opts.use_threads = 0;
	WebPAnimDecoder *dec = WebPAnimDecoderNew(&wd, &opts);
	if (dec == NULL) return -2;
	WebPAnimInfo info;
	uint8_t *buf;
	int ts;
	if (!WebPAnimDecoderGetInfo(dec, &info) || (int)info.canvas_width != w || (int)info.canvas_height != h) {
		WebPAnimDecoderDelete(dec);
		return -2;
	}
	if (!WebPAnimDecoderGetNext(dec, &buf, &ts)) {
		WebPAnimDecoderDelete(dec);
		return -3;
	}
	for (size_t i = 0; i < (size_t)w * h; i++) {
		memcpy(out + 3 * i, buf + 4 * i, 3);
	}
	WebPAnimDecoderDelete(dec);
	return 0;
}
