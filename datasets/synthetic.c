/*
 * synthetic.c - a K-class Gaussian mixture in D dimensions, a task whose
 * difficulty is set by one number (separation) and whose label noise is
 * known exactly. Invariant: the features never depend on label_noise, so
 * the same seed with and without noise gives the same points.
 */
#include "dataset.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

/* The three random streams: class means, training and test examples. */
enum { STREAM_MEANS = 1, STREAM_TRAIN = 2, STREAM_TEST = 3 };

/* Seed of one stream from the master seed: the SplitMix64 finaliser
 * (Steele, Lea & Flood, OOPSLA 2014) applied to seed + stream * golden
 * ratio, folded to the 32 bits mt19937 uses; 0 (which mt19937 maps to
 * 4357) becomes 1. dataset_synthetic checks the three are distinct. */
static unsigned long derive_seed(unsigned long seed, unsigned stream)
{
    uint64_t z = (uint64_t)seed + (uint64_t)stream * 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    unsigned long s = (unsigned long)((z ^ (z >> 32)) & 0xffffffffu);
    return s != 0 ? s : 1;
}

static int check_spec(const SyntheticSpec *spec, unsigned long seed,
                      IsbError *err)
{
    if (spec->n_train == 0 || spec->n_test == 0) {
        return isb_fail(err, ISB_EINVAL, "synthetic: %s 0 (expected at "
                        "least 1)", spec->n_train == 0 ? "n_train"
                                                       : "n_test");
    }
    if (spec->dim <= 0) {
        return isb_fail(err, ISB_EINVAL, "synthetic: dim %d (expected at "
                        "least 1)", spec->dim);
    }
    if (spec->n_classes < 2) {
        return isb_fail(err, ISB_EINVAL, "synthetic: n_classes %d "
                        "(expected at least 2)", spec->n_classes);
    }
    if (!(spec->separation >= 0.0) || isinf(spec->separation)) {
        return isb_fail(err, ISB_EINVAL, "synthetic: separation %g "
                        "(expected a finite value >= 0)", spec->separation);
    }
    if (!(spec->label_noise >= 0.0 && spec->label_noise <= 1.0)) {
        return isb_fail(err, ISB_EINVAL, "synthetic: label_noise %g "
                        "(expected 0 to 1)", spec->label_noise);
    }
    if (seed == 0 || seed > 0xffffffffu) {
        return isb_fail(err, ISB_EINVAL, "synthetic: seed %lu (expected 1 "
                        "to 4294967295; mt19937 maps 0 to 4357 and ignores "
                        "higher bits)", seed);
    }
    size_t largest = spec->n_train > spec->n_test ? spec->n_train
                                                  : spec->n_test;
    if (largest > SIZE_MAX / sizeof(float) / (size_t)spec->dim) {
        return isb_fail(err, ISB_EINVAL, "synthetic: %zu examples of dim "
                        "%d overflow memory sizes", largest, spec->dim);
    }
    return 0;
}

/* Allocate one split of n examples and name it. */
static int split_alloc(const SyntheticSpec *spec, size_t n,
                       const char *name, Dataset *ds, IsbError *err)
{
    size_t d = (size_t)spec->dim;

    memset(ds, 0, sizeof *ds);
    ds->f32 = malloc(n * d * sizeof *ds->f32);
    ds->labels = malloc(n * sizeof *ds->labels);
    if (ds->f32 == NULL || ds->labels == NULL) {
        dataset_free(ds);
        return isb_fail(err, ISB_ENOMEM, "synthetic: cannot allocate %zu "
                        "examples of dim %zu", n, d);
    }
    snprintf(ds->name, sizeof ds->name, "%s", name);
    ds->n = n;
    ds->c = 1;
    ds->h = 1;
    ds->w = spec->dim;
    ds->d = d;
    ds->n_classes = spec->n_classes;
    for (int ch = 0; ch < DATASET_MAX_CHANNELS; ch++) {
        ds->mean[ch] = 0.0f;
        ds->std[ch] = 1.0f;
    }
    return 0;
}

/* Fill ds with examples drawn from rng around means [K][D]. Each example
 * takes the same draws (class, D normals, a uniform, a spare class)
 * whatever label_noise is, so noise changes labels and nothing else. */
static void split_fill(const SyntheticSpec *spec, const double *means,
                       gsl_rng *rng, Dataset *ds)
{
    size_t d = ds->d;
    unsigned long k = (unsigned long)spec->n_classes;

    for (size_t i = 0; i < ds->n; i++) {
        int label = (int)gsl_rng_uniform_int(rng, k);
        const double *mu = means + (size_t)label * d;
        float *x = ds->f32 + i * d;
        for (size_t j = 0; j < d; j++) {
            x[j] = (float)(mu[j] + gsl_ran_gaussian_ziggurat(rng, 1.0));
        }
        double u = gsl_rng_uniform(rng);
        int spare = (int)gsl_rng_uniform_int(rng, k);
        ds->labels[i] = u < spec->label_noise ? spare : label;
    }
}

static void rngs_free(gsl_rng **rng)
{
    for (int s = 0; s < 3; s++) {
        gsl_rng_free(rng[s]);
    }
}

int dataset_synthetic(const SyntheticSpec *spec, unsigned long seed,
                      Dataset *train, Dataset *test, IsbError *err)
{
    Dataset tr, te;
    gsl_rng *rng[3] = {NULL, NULL, NULL};
    double *means = NULL;
    unsigned long seeds[3];
    int rc;

    if (spec == NULL) {
        return isb_fail(err, ISB_EINVAL, "synthetic: spec is NULL");
    }
    rc = check_spec(spec, seed, err);
    if (rc < 0) {
        return rc;
    }

    /* 1. Three distinct streams, so each split depends only on its size. */
    seeds[0] = derive_seed(seed, STREAM_MEANS);
    seeds[1] = derive_seed(seed, STREAM_TRAIN);
    seeds[2] = derive_seed(seed, STREAM_TEST);
    while (seeds[1] == seeds[0]) {
        seeds[1] = seeds[1] % 0xffffffffu + 1;
    }
    while (seeds[2] == seeds[0] || seeds[2] == seeds[1]) {
        seeds[2] = seeds[2] % 0xffffffffu + 1;
    }
    for (int s = 0; s < 3; s++) {
        rng[s] = gsl_rng_alloc(gsl_rng_mt19937);
        if (rng[s] == NULL) {
            rc = isb_fail(err, ISB_ENOMEM, "synthetic: cannot allocate a "
                          "random generator");
            goto fail_rng;
        }
        gsl_rng_set(rng[s], seeds[s]);
    }

    /* 2. Class means [K][D], each coordinate N(0, separation^2 / (2D)), so
     * the difference of two means has expected squared length
     * separation^2: separation is the typical distance between classes. */
    size_t d = (size_t)spec->dim;
    size_t k = (size_t)spec->n_classes;
    double sigma = spec->separation / sqrt(2.0 * (double)d);
    means = malloc(k * d * sizeof *means);
    if (means == NULL) {
        rc = isb_fail(err, ISB_ENOMEM, "synthetic: cannot allocate %zu "
                      "class means", k);
        goto fail_rng;
    }
    for (size_t i = 0; i < k * d; i++) {
        means[i] = gsl_ran_gaussian_ziggurat(rng[0], sigma);
    }

    /* 3. The two splits. */
    rc = split_alloc(spec, spec->n_train, "synthetic/train", &tr, err);
    if (rc < 0) {
        goto fail_means;
    }
    rc = split_alloc(spec, spec->n_test, "synthetic/test", &te, err);
    if (rc < 0) {
        goto fail_train;
    }
    split_fill(spec, means, rng[1], &tr);
    split_fill(spec, means, rng[2], &te);
    *train = tr;
    *test = te;
    free(means);
    rngs_free(rng);
    return 0;

fail_train:
    dataset_free(&tr);
fail_means:
    free(means);
fail_rng:
    rngs_free(rng);
    return rc;
}
