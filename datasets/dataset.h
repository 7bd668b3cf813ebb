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

/* Load a named dataset ("mnist", "fashion-mnist", "cifar10") split
 * ("train", "test") from the data folder dir (NULL: $ISBENCH_DATA or
 * datasets/cache), laid out as datasets/fetch writes it (see
 * datasets/README.md; CIFAR-10 is read from dir/cifar10/
 * cifar-10-batches-bin, the official tarball's layout, with
 * CIFAR_RECORDS_PER_FILE records per file). Fashion-MNIST missing from
 * dir is also looked for in /usr/share/datasets/fashion-mnist (Debian's
 * dataset-fashion-mnist). An unknown name or split is an ISB_EINVAL
 * listing the valid ones; a missing file is an ISB_EIO with a hint naming
 * `datasets/fetch NAME`. */
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

/* The CIFAR-10 binary format (Krizhevsky 2009, "Learning Multiple Layers
 * of Features from Tiny Images", and the dataset page): each record is one
 * label byte followed by 3072 pixel bytes, the 1024 red, then green, then
 * blue values of a 32 x 32 image in row-major order, which is NCHW. */
#define CIFAR_CHANNELS 3
#define CIFAR_SIDE 32
#define CIFAR_CLASSES 10
#define CIFAR_RECORD_BYTES 3073
#define CIFAR_RECORDS_PER_FILE 10000  /* in every official file */

/* Load one CIFAR-10 split from folder (the cifar-10-batches-bin folder):
 * "train" is data_batch_1.bin .. data_batch_5.bin in that order, "test" is
 * test_batch.bin. Every file must hold exactly per_file records
 * (CIFAR_RECORDS_PER_FILE for the official files; tests pass smaller
 * counts to keep generated files small), so its size must be
 * per_file * CIFAR_RECORD_BYTES. Pixels stay uint8 (c = 3, h = w = 32),
 * mean 0 and std 1 per channel. Errors: a missing or unreadable file is
 * ISB_EIO naming it; a size that is not a whole number of records, or not
 * the expected count, or a label >= 10 is ISB_EFORMAT naming the file, the
 * value found and the value expected; an unknown split is ISB_EINVAL.
 * out is untouched on failure; name is copied into out->name. */
int dataset_load_cifar(const char *folder, const char *split,
                       size_t per_file, const char *name, Dataset *out,
                       IsbError *err);

/* Per-channel mean and standard deviation of the pixels of ds in [0, 1]
 * units (v / 255), over every example and position: mean [c], std [c],
 * the population standard deviation (divided by n h w). ds must hold u8
 * pixels (else ISB_EINVAL: float features are used as they are and are
 * not normalised by dataset_batch); a channel whose pixels are all equal
 * is ISB_EINVAL (normalising it would divide by zero). Computed in exact
 * integer sums, so the result does not depend on the order of examples. */
int dataset_channel_stats(const Dataset *ds, float *mean, float *std,
                          IsbError *err);

/* Set the per-channel map dataset_batch applies to ds: mean [c], std [c]
 * (std > 0, programmer error if not). Used to normalise both splits with
 * the training set's statistics. */
void dataset_set_normalization(Dataset *ds, const float *mean,
                               const float *std);

/* The data folder: $ISBENCH_DATA if set, else "datasets/cache". */
const char *dataset_default_dir(void);

#endif
