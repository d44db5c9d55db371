package onnxsession

/*
#cgo CFLAGS: -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wpointer-arith -Wundef -Wvla -Wcast-qual -Wwrite-strings
#include "onnxsession.h"
*/
import "C"

// trimHeap hands the C heap's free memory back to the system. Opening a
// graph parses the whole file and copies its weights, and glibc keeps
// the freed parse buffers in its per-thread arenas: without this, a
// process holding both towers stays hundreds of MiB above what the
// sessions use (see bench/results). A no-op on other C libraries.
func trimHeap() { C.mclip_malloc_trim() }
