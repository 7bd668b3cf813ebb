/*
 * dataset.c - freeing datasets, building normalised batches, and finding
 * named datasets on disk. The on-disk layout (one folder per dataset under
 * the data folder) is the one datasets/fetch writes.
 */
#include "dataset.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATASET_DEFAULT_DIR "datasets/cache"
#define DATASET_PATH_MAX 4096

/* A dataset datasets/fetch knows how to install. system_dir is where a
 * distribution package puts the same files, or NULL. */
typedef struct NamedDataset {
    const char *name;
    const char *suffix;     /* file name suffix: "" raw, ".gz" gzip'd */
    int n_classes;
    const char *system_dir;
} NamedDataset;

static const NamedDataset named_datasets[] = {
    {"mnist", "", 10, NULL},
    {"fashion-mnist", ".gz", 10, "/usr/share/datasets/fashion-mnist"},
};

#define N_NAMED (sizeof named_datasets / sizeof *named_datasets)

void dataset_free(Dataset *ds)
{
    if (ds == NULL) {
        return;
    }
    free(ds->u8);
    free(ds->f32);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

void dataset_batch(const Dataset *ds, const size_t *idx, size_t b,
                   float *x, int *y)
{
    size_t d = ds->d;
    size_t plane = (size_t)ds->h * (size_t)ds->w;

    assert(ds->c >= 1 && ds->c <= DATASET_MAX_CHANNELS);
    for (size_t i = 0; i < b; i++) {
        size_t row = idx[i];
        assert(row < ds->n);
        float *dst = x + i * d; /* [c][h][w] */
        y[i] = ds->labels[row];
        if (ds->f32 != NULL) {
            memcpy(dst, ds->f32 + row * d, d * sizeof *dst);
            continue;
        }
        const uint8_t *src = ds->u8 + row * d;
        for (int ch = 0; ch < ds->c; ch++) {
            float mean = ds->mean[ch];
            float std = ds->std[ch];
            for (size_t p = 0; p < plane; p++) {
                size_t k = (size_t)ch * plane + p;
                dst[k] = ((float)src[k] / 255.0f - mean) / std;
            }
        }
    }
}

const char *dataset_default_dir(void)
{
    const char *env = getenv("ISBENCH_DATA");
    if (env != NULL && env[0] != '\0') {
        return env;
    }
    return DATASET_DEFAULT_DIR;
}

static const NamedDataset *find_named(const char *name)
{
    for (size_t i = 0; i < N_NAMED; i++) {
        if (strcmp(named_datasets[i].name, name) == 0) {
            return &named_datasets[i];
        }
    }
    return NULL;
}

/* Write "folder/stem-idxK-ubyte<suffix>" into path (DATASET_PATH_MAX). */
static int build_path(char *path, const char *folder, const char *stem,
                      const char *kind, const char *suffix, IsbError *err)
{
    int len = snprintf(path, DATASET_PATH_MAX, "%s/%s-%s-ubyte%s", folder,
                       stem, kind, suffix);
    if (len < 0 || len >= DATASET_PATH_MAX) {
        return isb_fail(err, ISB_EINVAL, "data folder %s: path too long "
                        "(expected under %d bytes)", folder,
                        DATASET_PATH_MAX);
    }
    return 0;
}

/* Fill images and labels with the paths of one split in folder. */
static int split_paths(const NamedDataset *nd, const char *folder,
                       const char *stem, char *images, char *labels,
                       IsbError *err)
{
    int rc = build_path(images, folder, stem, "images-idx3", nd->suffix,
                        err);
    if (rc == 0) {
        rc = build_path(labels, folder, stem, "labels-idx1", nd->suffix,
                        err);
    }
    return rc;
}

static int both_readable(const char *a, const char *b)
{
    return access(a, R_OK) == 0 && access(b, R_OK) == 0;
}

/* CIFAR-10 from dir/cifar10/cifar-10-batches-bin, the folder the
 * official tarball extracts to. */
static int load_cifar10(const char *split, const char *dir, Dataset *out,
                        IsbError *err)
{
    char folder[DATASET_PATH_MAX];
    char name[64];
    const char *root = dir != NULL ? dir : dataset_default_dir();
    int len = snprintf(folder, sizeof folder,
                       "%s/cifar10/cifar-10-batches-bin", root);
    if (len < 0 || (size_t)len >= sizeof folder) {
        return isb_fail(err, ISB_EINVAL, "data folder %s: path too long "
                        "(expected under %zu bytes)", root, sizeof folder);
    }
    snprintf(name, sizeof name, "cifar10/%s", split);
    int rc = dataset_load_cifar(folder, split, CIFAR_RECORDS_PER_FILE,
                                name, out, err);
    if (rc == ISB_EIO) {
        if (dir == NULL) {
            isb_hint(err, "run: datasets/fetch cifar10 --from "
                     "cifar-10-binary.tar.gz (see datasets/README.md)");
        } else {
            isb_hint(err, "run: datasets/fetch cifar10 --dir %s --from "
                     "cifar-10-binary.tar.gz", dir);
        }
    }
    return rc;
}

int dataset_load_named(const char *dataset, const char *split,
                       const char *dir, Dataset *out, IsbError *err)
{
    char folder[DATASET_PATH_MAX];
    char images[DATASET_PATH_MAX];
    char labels[DATASET_PATH_MAX];
    char name[64];

    /* 1. Known dataset and split. */
    if (strcmp(dataset, "cifar10") == 0) {
        return load_cifar10(split, dir, out, err);
    }
    const NamedDataset *nd = find_named(dataset);
    if (nd == NULL) {
        return isb_fail(err, ISB_EINVAL, "unknown dataset '%s' (expected "
                        "mnist, fashion-mnist or cifar10)", dataset);
    }
    const char *stem = NULL;
    if (strcmp(split, "train") == 0) {
        stem = "train";
    } else if (strcmp(split, "test") == 0) {
        stem = "t10k";
    } else {
        return isb_fail(err, ISB_EINVAL, "%s: unknown split '%s' (expected "
                        "train or test)", dataset, split);
    }

    /* 2. The cache copy, else the distribution package's copy. */
    const char *root = dir != NULL ? dir : dataset_default_dir();
    int len = snprintf(folder, sizeof folder, "%s/%s", root, nd->name);
    if (len < 0 || (size_t)len >= sizeof folder) {
        return isb_fail(err, ISB_EINVAL, "data folder %s: path too long "
                        "(expected under %zu bytes)", root, sizeof folder);
    }
    int rc = split_paths(nd, folder, stem, images, labels, err);
    if (rc < 0) {
        return rc;
    }
    if (!both_readable(images, labels) && nd->system_dir != NULL) {
        char sys_images[DATASET_PATH_MAX];
        char sys_labels[DATASET_PATH_MAX];
        rc = split_paths(nd, nd->system_dir, stem, sys_images, sys_labels,
                         err);
        if (rc == 0 && both_readable(sys_images, sys_labels)) {
            memcpy(images, sys_images, sizeof images);
            memcpy(labels, sys_labels, sizeof labels);
        }
    }

    /* 3. Load; a missing file gets a hint on how to fetch it. */
    snprintf(name, sizeof name, "%s/%s", nd->name, split);
    rc = dataset_load_idx(images, labels, nd->n_classes, name, out, err);
    if (rc == ISB_EIO && !both_readable(images, labels)) {
        if (dir == NULL) {
            isb_hint(err, "run: datasets/fetch %s", nd->name);
        } else {
            isb_hint(err, "run: datasets/fetch %s --dir %s", nd->name, dir);
        }
    }
    return rc;
}
