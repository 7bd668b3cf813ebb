/*
 * blas.c - thin wrappers over OpenBLAS's extension functions.
 */
#include "blas.h"

#include <cblas.h>

void blas_set_threads(int n)
{
    openblas_set_num_threads(n);
}

int blas_threads(void)
{
    return openblas_get_num_threads();
}

const char *blas_config(void)
{
    return openblas_get_config();
}

/* OpenBLAS's own: stops its worker threads; the next threaded call
 * starts them again from the calling thread (used by its fork handler). */
extern int blas_thread_shutdown_(void);

void blas_restart_threads(void)
{
    blas_thread_shutdown_();
}

const char *blas_core(void)
{
    return openblas_get_corename();
}
