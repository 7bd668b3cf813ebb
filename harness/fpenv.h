/*
 * fpenv.h - the floating-point environment of a training run.
 *
 * As training converges, softmax probabilities and the gradients built
 * from them fall below FLT_MIN; arithmetic on such subnormal floats takes
 * a slow path on x86 that made a step of the MNIST MLP almost three times
 * slower by its third epoch. A run therefore flushes subnormal results
 * and inputs to zero (MXCSR FTZ and DAZ) on the calling thread, and the
 * loss sets probabilities below LOSS_PROB_FLOOR to zero at the source, so
 * OpenBLAS's worker threads (whose MXCSR we do not control) see none.
 */
#ifndef ISB_FPENV_H
#define ISB_FPENV_H

/* Turn on flush-to-zero and denormals-are-zero for this thread; returns
 * the previous state for fpenv_restore. A no-op off x86. */
unsigned fpenv_flush_subnormals(void);

/* Put back the state fpenv_flush_subnormals returned. */
void fpenv_restore(unsigned saved);

#endif
