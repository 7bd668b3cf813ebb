/*
 * augment.h - training-time data augmentation: random crop with zero
 * padding and horizontal flip, on rows already converted by dataset_batch.
 *
 * A crop with padding p places the h x w image in an (h + 2p) x (w + 2p)
 * field of zeros and cuts an h x w window at offset (oy, ox), each in
 * [0, 2p]; the flip then mirrors the columns. This is the standard
 * CIFAR-10 augmentation of He et al. 2016 ("Deep Residual Learning",
 * sec. 4.2), used by the wide residual networks (Zagoruyko & Komodakis
 * 2016) of the paper's CIFAR experiments. The zeros are in the
 * network's input units: after channel normalisation, zero is the
 * training set's mean pixel.
 */
#ifndef ISB_AUGMENT_H
#define ISB_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "../harness/error.h"

typedef struct AugmentSpec {
    int pad;   /* crop padding p in pixels, 0 = no crop */
    int flip;  /* 1 = mirror columns with probability 1/2 */
} AugmentSpec;

/* The transform of one example. */
typedef struct AugmentDraw {
    int oy, ox;  /* window offset in the padded field, in [0, 2p] */
    int flip;    /* 1 = mirror columns after the crop */
} AugmentDraw;

/* 1 when spec changes anything (pad > 0 or flip). */
int augment_enabled(const AugmentSpec *spec);

/* Check spec against examples of c x h x w: pad must be in [0, h) and
 * [0, w) and flip 0 or 1. ISB_EINVAL names the value and the shape. */
int augment_check(const AugmentSpec *spec, int c, int h, int w,
                  IsbError *err);

/* Draw one transform from rng: oy, ox uniform in [0, 2p], flip a fair
 * coin when spec->flip (else 0). With pad 0 the offsets are 0 and no
 * number is drawn for them. */
AugmentDraw augment_draw(const AugmentSpec *spec, gsl_rng *rng);

/* The transform of example `index` under a per-step key: a pure function
 * of (key, index) through splitmix64, so every conversion of the same
 * example within one step (scoring, then training) gets the same
 * transform, whatever order the rows come in. The flip is a fair bit;
 * offsets are uniform up to a relative bias of (2p + 1) / 2^20. */
AugmentDraw augment_draw_keyed(const AugmentSpec *spec, uint64_t key,
                               size_t index);

/* Apply draw to one example: in and out are [c][h][w] and must not
 * overlap. Pixels that come from the padding are 0. With pad 0 and no
 * flip, out is a copy of in. */
void augment_apply(const AugmentDraw *draw, const AugmentSpec *spec,
                   int c, int h, int w, const float *in, float *out);

/* Augment rows examples of in [rows][c][h][w] into out (no overlap),
 * each with its own augment_draw from rng, in row order. */
void augment_rows(const AugmentSpec *spec, gsl_rng *rng, size_t rows,
                  int c, int h, int w, const float *in, float *out);

/* As augment_rows, with row i transformed by
 * augment_draw_keyed(spec, key, idx[i]). */
void augment_rows_keyed(const AugmentSpec *spec, uint64_t key,
                        const size_t *idx, size_t rows, int c, int h,
                        int w, const float *in, float *out);

#endif
