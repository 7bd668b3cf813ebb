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

const char *blas_core(void)
{
    return openblas_get_corename();
}
