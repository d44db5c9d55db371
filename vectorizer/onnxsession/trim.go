package onnxsession

/*
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
static void mclip_malloc_trim(void) { malloc_trim(0); }
#else
static void mclip_malloc_trim(void) {}
#endif
*/
import "C"

// trimHeap hands the C heap's free memory back to the system. Opening a
// graph parses the whole file and copies its weights, and glibc keeps
// the freed parse buffers in its per-thread arenas: without this, a
// process holding both towers stays hundreds of MiB above what the
// sessions use (see bench/results). A no-op on other C libraries.
func trimHeap() { C.mclip_malloc_trim() }
