/*
 * cifar.c - loader for the CIFAR-10 binary files, and per-channel
 * statistics for normalisation. A file is accepted only when its size is
 * exactly the expected number of 3073-byte records and every label is
 * below 10, so a truncated download never loads as a smaller dataset.
 */
#include "dataset.h"
#include "dataset_fill.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CIFAR_PIXELS (CIFAR_CHANNELS * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_PATH_MAX 4096
#define CIFAR_TRAIN_FILES 5

/* Check that path exists and holds exactly per_file records. */
static int cifar_check_size(const char *path, size_t per_file,
                            IsbError *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        return isb_fail(err, ISB_EIO, "%s: cannot open: %s", path,
                        strerror(errno));
    }
    unsigned long long size = (unsigned long long)st.st_size;
    unsigned long long want = (unsigned long long)per_file *
                              CIFAR_RECORD_BYTES;
    if (size % CIFAR_RECORD_BYTES != 0) {
        return isb_fail(err, ISB_EFORMAT, "%s: %llu bytes is not a whole "
                        "number of %d-byte records (expected %llu bytes, "
                        "%zu records; truncated?)", path, size,
                        CIFAR_RECORD_BYTES, want, per_file);
    }
    if (size != want) {
        return isb_fail(err, ISB_EFORMAT, "%s: %llu records (%llu bytes; "
                        "expected %zu records, %llu bytes)", path,
                        size / CIFAR_RECORD_BYTES, size, per_file, want);
    }
    return 0;
}

/* Read per_file records of path into pixels [per_file][3072] and labels
 * [per_file], checking each label. */
static int cifar_read_file(const char *path, size_t per_file,
                           uint8_t *pixels, int *labels, IsbError *err)
{
    uint8_t record[CIFAR_RECORD_BYTES];
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return isb_fail(err, ISB_EIO, "%s: cannot open: %s", path,
                        strerror(errno));
    }
    int rc = 0;
    for (size_t i = 0; i < per_file && rc == 0; i++) {
        if (fread(record, 1, sizeof record, f) != sizeof record) {
            rc = isb_fail(err, ISB_EIO, "%s: read failed at record %zu "
                          "(expected %zu records)", path, i, per_file);
        } else if (record[0] >= CIFAR_CLASSES) {
            rc = isb_fail(err, ISB_EFORMAT, "%s: record %zu: label %d "
                          "(expected 0..%d)", path, i, record[0],
                          CIFAR_CLASSES - 1);
        } else {
            labels[i] = record[0];
            memcpy(pixels + i * CIFAR_PIXELS, record + 1, CIFAR_PIXELS);
        }
    }
    fclose(f);
    return rc;
}

/* The file names of a split, or 0 for an unknown split. */
static int cifar_split_files(const char *split, const char **names)
{
    static const char *train[CIFAR_TRAIN_FILES] = {
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
        "data_batch_4.bin", "data_batch_5.bin"};
    if (strcmp(split, "train") == 0) {
        memcpy(names, train, sizeof train);
        return CIFAR_TRAIN_FILES;
    }
    if (strcmp(split, "test") == 0) {
        names[0] = "test_batch.bin";
        return 1;
    }
    return 0;
}

int dataset_load_cifar(const char *folder, const char *split,
                       size_t per_file, const char *name, Dataset *out,
                       IsbError *err)
{
    const char *files[CIFAR_TRAIN_FILES];
    char paths[CIFAR_TRAIN_FILES][CIFAR_PATH_MAX];

    /* 1. Every file of the split exists and has the right size, before
     *    anything is allocated. */
    int n_files = cifar_split_files(split, files);
    if (n_files == 0) {
        return isb_fail(err, ISB_EINVAL, "cifar10: unknown split '%s' "
                        "(expected train or test)", split);
    }
    if (per_file == 0) {
        return isb_fail(err, ISB_EINVAL, "cifar10: 0 records per file "
                        "(expected > 0)");
    }
    for (int k = 0; k < n_files; k++) {
        int len = snprintf(paths[k], CIFAR_PATH_MAX, "%s/%s", folder,
                           files[k]);
        if (len < 0 || len >= CIFAR_PATH_MAX) {
            return isb_fail(err, ISB_EINVAL, "data folder %s: path too "
                            "long (expected under %d bytes)", folder,
                            CIFAR_PATH_MAX);
        }
        int rc = cifar_check_size(paths[k], per_file, err);
        if (rc != 0) {
            return rc;
        }
    }

    /* 2. Read them in order into one [n][3][32][32] array. */
    size_t n = per_file * (size_t)n_files;
    uint8_t *pixels = malloc(n * CIFAR_PIXELS);
    int *labels = malloc(n * sizeof *labels);
    if (pixels == NULL || labels == NULL) {
        free(pixels);
        free(labels);
        return isb_fail(err, ISB_ENOMEM, "cifar10/%s: out of memory for "
                        "%zu images", split, n);
    }
    for (int k = 0; k < n_files; k++) {
        size_t first = (size_t)k * per_file;
        int rc = cifar_read_file(paths[k], per_file,
                                 pixels + first * CIFAR_PIXELS,
                                 labels + first, err);
        if (rc != 0) {
            free(pixels);
            free(labels);
            return rc;
        }
    }

    /* 3. Fill out. */
    dataset_fill_u8(out, name, n, CIFAR_CHANNELS, CIFAR_SIDE, CIFAR_SIDE,
                    CIFAR_CLASSES, pixels, labels);
    return 0;
}

int dataset_channel_stats(const Dataset *ds, float *mean, float *std,
                          IsbError *err)
{
    if (ds->u8 == NULL) {
        return isb_fail(err, ISB_EINVAL, "%s: channel statistics need "
                        "image pixels (the data are float features, "
                        "used as they are)", ds->name);
    }
    assert(ds->c >= 1 && ds->c <= DATASET_MAX_CHANNELS);
    size_t plane = (size_t)ds->h * (size_t)ds->w;
    double count = (double)ds->n * (double)plane;

    for (int ch = 0; ch < ds->c; ch++) {
        /* Exact sums of v and v^2 (at most 255^2 n h w, far below
         * 2^64 for any dataset that fits in memory). */
        unsigned long long sum = 0, sum_sq = 0;
        for (size_t i = 0; i < ds->n; i++) {
            const uint8_t *p = ds->u8 + i * ds->d + (size_t)ch * plane;
            for (size_t k = 0; k < plane; k++) {
                sum += p[k];
                sum_sq += (unsigned long long)p[k] * p[k];
            }
        }
        double m = (double)sum / count;
        double var = (double)sum_sq / count - m * m;
        if (!(var > 0)) {
            return isb_fail(err, ISB_EINVAL, "%s: channel %d: every pixel "
                            "is %g (expected some spread to normalise)",
                            ds->name, ch, m);
        }
        mean[ch] = (float)(m / 255.0);
        std[ch] = (float)(sqrt(var) / 255.0);
    }
    return 0;
}

void dataset_set_normalization(Dataset *ds, const float *mean,
                               const float *std)
{
    for (int ch = 0; ch < ds->c; ch++) {
        assert(std[ch] > 0);
        ds->mean[ch] = mean[ch];
        ds->std[ch] = std[ch];
    }
}
