/*
 * fpenv.c - flush-to-zero and denormals-are-zero through MXCSR.
 */
#include "fpenv.h"

#if defined(__SSE2__)
#include <pmmintrin.h>
#include <xmmintrin.h>

unsigned fpenv_flush_subnormals(void)
{
    unsigned saved = _mm_getcsr();
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
    return saved;
}

void fpenv_restore(unsigned saved)
{
    _mm_setcsr(saved);
}
#else
unsigned fpenv_flush_subnormals(void)
{
    return 0;
}

void fpenv_restore(unsigned saved)
{
    (void)saved;
}
#endif
