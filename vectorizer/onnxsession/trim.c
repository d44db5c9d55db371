#include <stdlib.h>

#include "onnxsession.h"

#ifdef __GLIBC__
#include <malloc.h>
int mclip_malloc_trim(void) { return malloc_trim(0); }
#else
int mclip_malloc_trim(void) { return 0; }
#endif
