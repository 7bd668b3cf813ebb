/*
 * fpenv.c - flush-to-zero and denormals-are-zero through MXCSR, passed on
 * to OpenBLAS's worker threads by restarting them (a new thread starts
 * with its creator's MXCSR).
 */
#include "fpenv.h"

#include "blas.h"

#if defined(__SSE2__)
#include <pmmintrin.h>
#include <xmmintrin.h>

unsigned fpenv_flush_subnormals(void)
{
    unsigned saved = _mm_getcsr();
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
    blas_restart_threads();
    return saved;
}

void fpenv_restore(unsigned saved)
{
    _mm_setcsr(saved);
    blas_restart_threads();
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
