// The C side of package onnxsession (trim.c).
#ifndef MCLIP_ONNXSESSION_H
#define MCLIP_ONNXSESSION_H

// mclip_malloc_trim returns the C heap's free memory to the system where
// the C library can (glibc's malloc_trim), and says whether any was; it
// does nothing elsewhere.
int mclip_malloc_trim(void);

#endif
