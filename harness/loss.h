/*
 * loss.h - the softmax cross-entropy head shared by every network.
 *
 * Math names: b rows, K classes, z [b][K] logits, p = softmax(z), y the
 * labels (one-hot in the formulas). L_i = -log p_i[y_i], computed with the
 * log-sum-exp shift so no exp overflows; G_i = ||p_i - onehot(y_i)||_2 is
 * the upper-bound score, the norm of dL_i/dz_i (Katharopoulos & Fleuret
 * 2018; ALGORITHMS.md, upper-bound).
 */
#ifndef ISB_LOSS_H
#define ISB_LOSS_H

#include <stddef.h>

/* Softmax probabilities below this are set to exactly 0: their share of
 * any gradient is below float precision, and as subnormal floats they
 * would slow every product that reads them (see fpenv.h). Scaled by a
 * per-example weight of 1e-6 or more they stay above FLT_MIN. */
#define LOSS_PROB_FLOOR 1e-30

/* From logits z [b][K] and labels y [b] (each in 0..K-1): prob [b][K] =
 * softmax(z) (required), and per example loss [b], score [b] and correct
 * [b] (1 when the first argmax of z_i is y_i); each of the last three may
 * be NULL. Allocates nothing. */
void loss_softmax_ce(const float *z, const int *y, size_t b, int K,
                     float *prob, float *loss, float *score,
                     unsigned char *correct);

/* The gradient of sum_i s_i L_i with respect to z, where s_i = scale *
 * weight[i] (weight NULL means 1): delta [b][K] = s_i (p_i - onehot(y_i)).
 * delta may not alias prob. */
void loss_softmax_ce_delta(const float *prob, const int *y,
                           const float *weight, float scale, size_t b,
                           int K, float *delta);

#endif
