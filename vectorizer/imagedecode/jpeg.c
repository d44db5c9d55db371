#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

#include "imagedecode.h"

_Static_assert(MCLIP_JPEG_MSG == JMSG_LENGTH_MAX, "the Go side sizes the message buffer with MCLIP_JPEG_MSG");

// A progressive JPEG can declare thousands of scans, each a full pass over
// the coefficients; libjpeg-turbo recommends a limit against that CPU
// exhaustion. Real encoders write at most a few dozen.
#define MCLIP_MAX_SCANS 500

struct mclip_jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
	int truncated;
};

struct mclip_jprog {
	struct jpeg_progress_mgr pub;
	j_decompress_ptr cinfo;
};

static void mclip_jpeg_error_exit(j_common_ptr cinfo) {
	struct mclip_jerr *e = (struct mclip_jerr *)cinfo->err;
	(*cinfo->err->format_message)(cinfo, e->msg);
	longjmp(e->jb, 1);
}

// Warnings are ignored as Pillow ignores them, except a premature end of
// data: libjpeg would pad the image with grey where Pillow reports
// "image file is truncated".
static void mclip_jpeg_emit(j_common_ptr cinfo, int level) {
	struct mclip_jerr *e = (struct mclip_jerr *)cinfo->err;
	if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
		e->truncated = 1;
		snprintf(e->msg, sizeof e->msg, "truncated data");
		longjmp(e->jb, 1);
	}
}

static void mclip_jpeg_output(j_common_ptr cinfo) { (void)cinfo; }

static void mclip_jpeg_progress(j_common_ptr cinfo) {
	j_decompress_ptr d = (j_decompress_ptr)cinfo;
	if (d->is_decompressor && d->inputctl != NULL && d->input_scan_number > MCLIP_MAX_SCANS) {
		struct mclip_jerr *e = (struct mclip_jerr *)cinfo->err;
		snprintf(e->msg, sizeof e->msg, "more than %d progressive scans", MCLIP_MAX_SCANS);
		longjmp(e->jb, 1);
	}
}

// mclip_jpeg_run reads the header (out == NULL) or decodes into out, which
// holds w*h*3 bytes. Colour handling follows Pillow's JpegImagePlugin:
// 1 component -> L, 3 -> RGB (libjpeg's YCbCr->RGB), 4 -> CMYK with Adobe
// inversion, then Pillow's cmyk2rgb. Returns 0 on success, 1 on error with
// msg filled and *truncated set for a premature end.
int mclip_jpeg_run(const unsigned char *data, unsigned long len, unsigned char *out,
                   int *w, int *h, int *comps, char *msg, int *truncated) {
	struct jpeg_decompress_struct cinfo;
	struct mclip_jerr jerr;
	struct mclip_jprog prog;
	JSAMPARRAY row = NULL;
	memset(&cinfo, 0, sizeof cinfo);
	memset(&jerr, 0, sizeof jerr);
	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = mclip_jpeg_error_exit;
	jerr.pub.emit_message = mclip_jpeg_emit;
	jerr.pub.output_message = mclip_jpeg_output;
	if (setjmp(jerr.jb)) {
		snprintf(msg, MCLIP_JPEG_MSG, "%s", jerr.msg);
		*truncated = jerr.truncated;
		jpeg_destroy_decompress(&cinfo);
		return 1;
	}
	jpeg_create_decompress(&cinfo);
	prog.pub.progress_monitor = mclip_jpeg_progress;
	cinfo.progress = &prog.pub;
	jpeg_mem_src(&cinfo, data, len);
	jpeg_read_header(&cinfo, TRUE);
	*w = (int)cinfo.image_width;
	*h = (int)cinfo.image_height;
	*comps = cinfo.num_components;
	if (out == NULL) {
		jpeg_destroy_decompress(&cinfo);
		return 0;
	}
	switch (cinfo.num_components) {
	case 1: cinfo.out_color_space = JCS_GRAYSCALE; break;
	case 3: cinfo.out_color_space = JCS_RGB; break;
	case 4: cinfo.out_color_space = JCS_CMYK; break;
	default:
		snprintf(jerr.msg, sizeof jerr.msg, "%d colour components", cinfo.num_components);
		longjmp(jerr.jb, 1);
	}
	jpeg_start_decompress(&cinfo);
	int ow = (int)cinfo.output_width, oc = cinfo.output_components;
	if (ow != *w || (int)cinfo.output_height != *h) {
		snprintf(jerr.msg, sizeof jerr.msg, "output size %dx%d differs from header", ow, (int)cinfo.output_height);
		longjmp(jerr.jb, 1);
	}
	if (oc == 3) {
		while (cinfo.output_scanline < cinfo.output_height) {
			JSAMPROW dst = out + (size_t)cinfo.output_scanline * ow * 3;
			jpeg_read_scanlines(&cinfo, &dst, 1);
		}
	} else {
		row = (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo, JPOOL_IMAGE, (JDIMENSION)ow * oc, 1);
		while (cinfo.output_scanline < cinfo.output_height) {
			unsigned char *dst = out + (size_t)cinfo.output_scanline * ow * 3;
			jpeg_read_scanlines(&cinfo, row, 1);
			const unsigned char *src = row[0];
			if (oc == 1) {
				for (int x = 0; x < ow; x++) {
					dst[3*x] = dst[3*x+1] = dst[3*x+2] = src[x];
				}
			} else {
				for (int x = 0; x < ow; x++) {
					// Pillow reads CMYK JPEGs as "CMYK;I" (Adobe's inverted
					// convention), then converts with
					// nk - nk*c/255 (MULDIV255 rounding).
					int c = 255 - src[4*x], m = 255 - src[4*x+1], y = 255 - src[4*x+2], k = 255 - src[4*x+3];
					int nk = 255 - k, t;
					t = c * nk + 128; dst[3*x]   = (unsigned char)(nk - (((t >> 8) + t) >> 8));
					t = m * nk + 128; dst[3*x+1] = (unsigned char)(nk - (((t >> 8) + t) >> 8));
					t = y * nk + 128; dst[3*x+2] = (unsigned char)(nk - (((t >> 8) + t) >> 8));
				}
			}
		}
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	return 0;
}
