// The C side of package ortlib (probe.c): asks the dynamic loader about an
// ONNX Runtime library without onnxruntime_go.
#ifndef MCLIP_ORTLIB_H
#define MCLIP_ORTLIB_H

#include <stddef.h>
// malloc and free, which probe.go uses for the buffers.
#include <stdlib.h>

// mclip_ort_version opens the library at path and copies its version
// string into buf (n bytes); nonzero with the reason in buf when it is not
// an ONNX Runtime library.
int mclip_ort_version(const char *path, char *buf, size_t n);

// mclip_ort_resolve copies into buf the path of the file the dynamic loader
// loads for name; nonzero with the reason in buf when it loads none.
int mclip_ort_resolve(const char *name, char *buf, size_t n);

#endif
