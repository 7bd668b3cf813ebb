/*
 * blas.h - OpenBLAS facts and settings, behind a header of our own.
 *
 * OpenBLAS's cblas.h and GSL's gsl_cblas.h (pulled in by gsl_randist.h)
 * declare the same enums, so no file may include both: code that needs
 * GSL's distributions talks to OpenBLAS through these functions.
 */
#ifndef ISB_BLAS_H
#define ISB_BLAS_H

/* Set the number of OpenBLAS threads (n > 0). */
void blas_set_threads(int n);

/* The number of threads OpenBLAS uses now. */
int blas_threads(void);

/* OpenBLAS's build description ("OpenBLAS 0.3.21 DYNAMIC_ARCH ..."). */
const char *blas_config(void);

/* Stop OpenBLAS's worker threads so that its next threaded call starts
 * them again from the calling thread, with that thread's floating-point
 * control state (MXCSR): how flush-to-zero reaches them (fpenv.h). */
void blas_restart_threads(void);

/* The core type OpenBLAS chose at run time ("Haswell", ...). */
const char *blas_core(void);

#endif
