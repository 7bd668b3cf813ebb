/*
 * dataset_fill.h - internal to datasets/: the last step of the image
 * loaders (idx.c, cifar.c), which hand their pixel and label buffers to
 * the Dataset once nothing can fail. Not part of the public interface.
 */
#ifndef ISB_DATASET_FILL_H
#define ISB_DATASET_FILL_H

#include <stdio.h>
#include <string.h>

#include "dataset.h"

/* Fill out with n images of c x h x w uint8 pixels [n][c*h*w] and labels
 * [n] in [0, n_classes), named name; out takes ownership of both buffers
 * (dataset_free releases them). Normalisation starts as the identity
 * map: mean 0, std 1 in every channel. */
static inline void dataset_fill_u8(Dataset *out, const char *name,
                                   size_t n, int c, int h, int w,
                                   int n_classes, uint8_t *pixels,
                                   int *labels)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    out->n = n;
    out->c = c;
    out->h = h;
    out->w = w;
    out->d = (size_t)c * (size_t)h * (size_t)w;
    out->n_classes = n_classes;
    out->u8 = pixels;
    out->labels = labels;
    for (int ch = 0; ch < DATASET_MAX_CHANNELS; ch++) {
        out->mean[ch] = 0.0f;
        out->std[ch] = 1.0f;
    }
}

#endif
