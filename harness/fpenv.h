/*
 * fpenv.h - the floating-point environment of a training run.
 *
 * As training goes on, softmax probabilities, back-propagated signals and
 * the weights of dead units (shrunk geometrically by L2 under RMSprop)
 * fall below FLT_MIN; arithmetic on such subnormal floats takes a slow
 * path on x86 that made a step of the MNIST MLP three to twenty times
 * slower. A run therefore flushes subnormal results and inputs to zero
 * (MXCSR FTZ and DAZ) on the calling thread and on OpenBLAS's worker
 * threads, which are restarted from the calling thread to inherit the
 * setting; the loss also sets probabilities below LOSS_PROB_FLOOR to zero
 * at the source.
 */
#ifndef ISB_FPENV_H
#define ISB_FPENV_H

/* Turn on flush-to-zero and denormals-are-zero for this thread and for
 * OpenBLAS's workers; returns the previous state for fpenv_restore. The
 * MXCSR part is a no-op off x86. */
unsigned fpenv_flush_subnormals(void);

/* Put back the state fpenv_flush_subnormals returned, here and in
 * OpenBLAS's workers. */
void fpenv_restore(unsigned saved);

#endif
