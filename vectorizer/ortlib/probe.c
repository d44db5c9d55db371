#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "ortlib.h"

typedef struct {
	const void *(*GetApi)(unsigned int);
	const char *(*GetVersionString)(void);
} mclip_ort_api_base;
typedef const mclip_ort_api_base *(*mclip_get_api_base)(void);

static void mclip_copy(char *dst, size_t n, const char *src) {
	strncpy(dst, src ? src : "", n - 1);
	dst[n - 1] = 0;
}

// mclip_ort_version opens the library and copies its version string. The
// handle stays open: onnxruntime_go opens the same library next, and ONNX
// Runtime does not like being unloaded.
int mclip_ort_version(const char *path, char *buf, size_t n) {
	void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		mclip_copy(buf, n, dlerror());
		return 1;
	}
	mclip_get_api_base get = (mclip_get_api_base)dlsym(h, "OrtGetApiBase");
	if (!get) {
		mclip_copy(buf, n, "no OrtGetApiBase symbol: not an ONNX Runtime library");
		return 2;
	}
	const mclip_ort_api_base *base = get();
	if (!base || !base->GetVersionString) {
		mclip_copy(buf, n, "OrtGetApiBase returned nothing");
		return 3;
	}
	mclip_copy(buf, n, base->GetVersionString());
	return 0;
}

// mclip_ort_resolve asks the dynamic loader for name (its usual search:
// LD_LIBRARY_PATH, ld.so.cache, the default directories) and copies the
// path of the file it loaded, found through an ONNX Runtime symbol.
int mclip_ort_resolve(const char *name, char *buf, size_t n) {
	void *h = dlopen(name, RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		mclip_copy(buf, n, dlerror());
		return 1;
	}
	void *sym = dlsym(h, "OrtGetApiBase");
	if (!sym) {
		mclip_copy(buf, n, "no OrtGetApiBase symbol: not an ONNX Runtime library");
		return 2;
	}
	Dl_info info;
	if (!dladdr(sym, &info) || !info.dli_fname) {
		mclip_copy(buf, n, name);
		return 0;
	}
	mclip_copy(buf, n, info.dli_fname);
	return 0;
}
