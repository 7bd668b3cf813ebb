/*
 * dataset.h - in-memory labelled image datasets.
 *
 * Examples are kept as they come from disk (uint8 pixels for IDX and
 * CIFAR files) or as floats (synthetic data); dataset_batch converts the
 * rows a step needs to normalised floats. Invariant: every label is in
 * [0, n_classes) and exactly one of u8 / f32 is non-NULL.
 */
#ifndef ISB_DATASET_H
#define ISB_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "../harness/error.h"

#define DATASET_MAX_CHANNELS 4

typedef struct Dataset {
    char name[64];      /* "mnist/train", "synthetic/test", ... */
    size_t n;           /* number of examples */
    int c, h, w;        /* shape of one example, NCHW; d = c * h * w */
    size_t d;           /* features per example */
    int n_classes;      /* labels are in [0, n_classes) */
    uint8_t *u8;        /* [n][d] raw pixels, or NULL */
    float *f32;         /* [n][d] features, or NULL */
    int *labels;        /* [n] */
    /* Per-channel affine map applied by dataset_batch to u8 data:
     * x = (v / 255 - mean[ch]) / std[ch]. Defaults mean 0, std 1. */
    float mean[DATASET_MAX_CHANNELS];
    float std[DATASET_MAX_CHANNELS];
} Dataset;

/* Parameters of the synthetic Gaussian-mixture task. */
typedef struct SyntheticSpec {
    size_t n_train;       /* training examples */
    size_t n_test;        /* test examples */
    int dim;              /* D, features per example */
    int n_classes;        /* K */
    double separation;    /* distance scale between class means */
    double label_noise;   /* fraction of labels replaced uniformly */
} SyntheticSpec;

/* Free the buffers of ds and zero it; safe on a zeroed Dataset. */
void dataset_free(Dataset *ds);

/* Fill x [b][d] with the normalised features of rows idx[0..b-1] and y [b]
 * with their labels. Indices must be < ds->n (programmer error if not). */
void dataset_batch(const Dataset *ds, const size_t *idx, size_t b,
                   float *x, int *y);

/* Load an IDX image file and its label file (raw or gzip'd, detected by
 * content) into out, validating magic numbers, element types, dimensions,
 * counts, label range (< n_classes) and file lengths. Each failure is an
 * ISB_EFORMAT / ISB_EIO naming the file, the value found and the value
 * expected. out is untouched on failure. */
int dataset_load_idx(const char *images_path, const char *labels_path,
                     int n_classes, const char *name, Dataset *out,
                     IsbError *err);

/* Load a named dataset ("mnist", "fashion-mnist") split ("train", "test")
 * from the data folder dir (NULL: $ISBENCH_DATA or datasets/cache), laid
 * out as datasets/fetch writes it (see datasets/README.md). Fashion-MNIST
 * missing from dir is also looked for in /usr/share/datasets/fashion-mnist
 * (Debian's dataset-fashion-mnist). An unknown name or split is an
 * ISB_EINVAL listing the valid ones; a missing file is an ISB_EIO with a
 * hint naming `datasets/fetch NAME`. */
int dataset_load_named(const char *dataset, const char *split,
                       const char *dir, Dataset *out, IsbError *err);

/* Generate a K-class Gaussian mixture in D dimensions from seed: class
 * means are drawn once, examples are mean + N(0, 1) noise, and a fraction
 * label_noise of labels is replaced by a uniform class. Both splits come
 * from the same means. Deterministic in (spec, seed).
 * Mean coordinates are N(0, separation^2 / (2 D)), so two class means are
 * separation apart in expected squared distance. A replaced label may
 * equal the clean one, so labels change at rate label_noise (K - 1) / K.
 * Features are f32 [n][D] with c = h = 1, w = D. seed must be in
 * [1, 2^32 - 1] (mt19937 uses 32 bits and maps 0 to 4357). A bad spec or
 * seed is an ISB_EINVAL naming the field; train and test are untouched on
 * failure and must be freed with dataset_free on success. */
int dataset_synthetic(const SyntheticSpec *spec, unsigned long seed,
                      Dataset *train, Dataset *test, IsbError *err);

/* The data folder: $ISBENCH_DATA if set, else "datasets/cache". */
const char *dataset_default_dir(void);

#endif
