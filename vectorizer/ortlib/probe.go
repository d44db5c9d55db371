package ortlib

/*
#cgo CFLAGS: -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wpointer-arith -Wundef -Wvla -Wcast-qual -Wwrite-strings
#cgo LDFLAGS: -ldl
#include "ortlib.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// probeVersion loads the library at path and returns its version string,
// without initialising anything. A file that is not ONNX Runtime is an error.
func probeVersion(path string) (string, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	buf := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(buf))
	if rc := C.mclip_ort_version(cpath, buf, 512); rc != 0 {
		return "", errors.New(C.GoString(buf))
	}
	return C.GoString(buf), nil
}

// systemLibrary asks the dynamic loader for name and returns the path of the
// file it found.
func systemLibrary(name string) (string, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	buf := (*C.char)(C.malloc(4096))
	defer C.free(unsafe.Pointer(buf))
	if rc := C.mclip_ort_resolve(cname, buf, 4096); rc != 0 {
		return "", errors.New(C.GoString(buf))
	}
	return C.GoString(buf), nil
}
