/*
 * test_synthetic.c - the Gaussian-mixture task: determinism, the meaning
 * of separation and label_noise, and spec validation. Statistical checks
 * use a 4-standard-error threshold (false alarm rate about 6e-5).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"

static SyntheticSpec spec_make(size_t n_train, size_t n_test, int dim,
                               int k, double separation, double noise)
{
    SyntheticSpec s = {.n_train = n_train, .n_test = n_test, .dim = dim,
                       .n_classes = k, .separation = separation,
                       .label_noise = noise};
    return s;
}

static void make(const SyntheticSpec *spec, unsigned long seed,
                 Dataset *train, Dataset *test)
{
    IsbError err;
    isb_error_clear(&err);
    int rc = dataset_synthetic(spec, seed, train, test, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
}

/* Per-class means of ds, [k][d], from its (possibly noisy) labels. */
static double *class_means(const Dataset *ds, size_t *counts)
{
    size_t d = ds->d, k = (size_t)ds->n_classes;
    double *m = calloc(k * d, sizeof *m);
    cr_assert_not_null(m);
    memset(counts, 0, k * sizeof *counts);
    for (size_t i = 0; i < ds->n; i++) {
        size_t c = (size_t)ds->labels[i];
        counts[c]++;
        for (size_t j = 0; j < d; j++) {
            m[c * d + j] += ds->f32[i * d + j];
        }
    }
    for (size_t c = 0; c < k; c++) {
        cr_assert_gt(counts[c], 0u, "class %zu is empty", c);
        for (size_t j = 0; j < d; j++) {
            m[c * d + j] /= (double)counts[c];
        }
    }
    return m;
}

/* Accuracy on test of the nearest-class-mean rule fitted on train. */
static double nearest_mean_accuracy(const Dataset *train,
                                    const Dataset *test)
{
    size_t d = train->d, k = (size_t)train->n_classes;
    size_t counts[64];
    cr_assert_leq(k, 64u);
    double *m = class_means(train, counts);
    size_t right = 0;
    for (size_t i = 0; i < test->n; i++) {
        size_t best = 0;
        double best_dist = INFINITY;
        for (size_t c = 0; c < k; c++) {
            double dist = 0.0;
            for (size_t j = 0; j < d; j++) {
                double t = test->f32[i * d + j] - m[c * d + j];
                dist += t * t;
            }
            if (dist < best_dist) {
                best_dist = dist;
                best = c;
            }
        }
        right += (int)best == test->labels[i];
    }
    free(m);
    return (double)right / (double)test->n;
}

Test(synthetic, has_the_declared_shape_and_label_range)
{
    SyntheticSpec spec = spec_make(500, 200, 7, 4, 3.0, 0.2);
    Dataset tr, te;
    make(&spec, 11, &tr, &te);
    const Dataset *both[2] = {&tr, &te};
    size_t n[2] = {500, 200};
    for (int s = 0; s < 2; s++) {
        const Dataset *ds = both[s];
        cr_assert_eq(ds->n, n[s]);
        cr_assert(ds->c == 1 && ds->h == 1 && ds->w == 7 && ds->d == 7);
        cr_assert_eq(ds->n_classes, 4);
        cr_assert_not_null(ds->f32);
        cr_assert_null(ds->u8);
        for (size_t i = 0; i < ds->n; i++) {
            cr_assert(ds->labels[i] >= 0 && ds->labels[i] < 4);
        }
        for (size_t k = 0; k < ds->n * ds->d; k++) {
            cr_assert(isfinite(ds->f32[k]));
        }
    }
    cr_assert_str_eq(tr.name, "synthetic/train");
    cr_assert_str_eq(te.name, "synthetic/test");
    dataset_free(&tr);
    dataset_free(&te);
}

Test(synthetic, same_seed_gives_identical_data)
{
    SyntheticSpec spec = spec_make(300, 100, 5, 3, 2.0, 0.1);
    Dataset a, b, ta, tb;
    make(&spec, 42, &a, &ta);
    make(&spec, 42, &b, &tb);
    cr_assert_eq(memcmp(a.f32, b.f32, a.n * a.d * sizeof *a.f32), 0);
    cr_assert_eq(memcmp(a.labels, b.labels, a.n * sizeof *a.labels), 0);
    cr_assert_eq(memcmp(ta.f32, tb.f32, ta.n * ta.d * sizeof *ta.f32), 0);
    cr_assert_eq(memcmp(ta.labels, tb.labels, ta.n * sizeof *ta.labels),
                 0);
    dataset_free(&a);
    dataset_free(&b);
    dataset_free(&ta);
    dataset_free(&tb);
}

Test(synthetic, different_seeds_give_different_data)
{
    SyntheticSpec spec = spec_make(300, 100, 5, 3, 2.0, 0.0);
    Dataset a, b, ta, tb;
    make(&spec, 1, &a, &ta);
    make(&spec, 2, &b, &tb);
    size_t same = 0;
    for (size_t k = 0; k < a.n * a.d; k++) {
        same += a.f32[k] == b.f32[k];
    }
    cr_assert_lt(same, 10u, "%zu of %zu features agree", same, a.n * a.d);
    cr_assert_neq(memcmp(ta.f32, tb.f32, ta.n * ta.d * sizeof *ta.f32), 0);
    dataset_free(&a);
    dataset_free(&b);
    dataset_free(&ta);
    dataset_free(&tb);
}

Test(synthetic, train_split_does_not_depend_on_test_size)
{
    SyntheticSpec small = spec_make(200, 10, 4, 3, 2.0, 0.1);
    SyntheticSpec large = spec_make(200, 900, 4, 3, 2.0, 0.1);
    Dataset a, b, ta, tb;
    make(&small, 5, &a, &ta);
    make(&large, 5, &b, &tb);
    cr_assert_eq(memcmp(a.f32, b.f32, a.n * a.d * sizeof *a.f32), 0);
    cr_assert_eq(memcmp(a.labels, b.labels, a.n * sizeof *a.labels), 0);
    /* The test split is a prefix of the larger one. */
    cr_assert_eq(memcmp(ta.f32, tb.f32, ta.n * ta.d * sizeof *ta.f32), 0);
    dataset_free(&a);
    dataset_free(&b);
    dataset_free(&ta);
    dataset_free(&tb);
}

Test(synthetic, label_noise_changes_the_declared_fraction_of_labels_only)
{
    /* A replaced label is uniform over K classes, so it differs from the
     * clean one with probability noise * (K - 1) / K. */
    const size_t n = 20000;
    const int k = 5;
    const double noise = 0.3;
    SyntheticSpec clean = spec_make(n, 10, 3, k, 4.0, 0.0);
    SyntheticSpec noisy = spec_make(n, 10, 3, k, 4.0, noise);
    Dataset a, b, ta, tb;
    make(&clean, 77, &a, &ta);
    make(&noisy, 77, &b, &tb);

    cr_assert_eq(memcmp(a.f32, b.f32, n * a.d * sizeof *a.f32), 0,
                 "features changed with label_noise");
    size_t changed = 0;
    for (size_t i = 0; i < n; i++) {
        changed += a.labels[i] != b.labels[i];
    }
    double p = noise * (k - 1) / k;
    double se = sqrt(p * (1.0 - p) / (double)n);
    double got = (double)changed / (double)n;
    cr_assert_lt(fabs(got - p), 4.0 * se, "changed fraction %f (expected "
                 "%f +- %f)", got, p, 4.0 * se);
    dataset_free(&a);
    dataset_free(&b);
    dataset_free(&ta);
    dataset_free(&tb);
}

Test(synthetic, full_label_noise_makes_labels_uniform)
{
    const size_t n = 20000;
    SyntheticSpec spec = spec_make(n, 10, 2, 4, 4.0, 1.0);
    Dataset tr, te;
    make(&spec, 3, &tr, &te);
    size_t counts[4] = {0};
    for (size_t i = 0; i < n; i++) {
        counts[tr.labels[i]]++;
    }
    double se = sqrt(0.25 * 0.75 / (double)n);
    for (int c = 0; c < 4; c++) {
        cr_assert_lt(fabs((double)counts[c] / (double)n - 0.25), 4.0 * se);
    }
    dataset_free(&tr);
    dataset_free(&te);
}

Test(synthetic, large_separation_is_nearly_separable)
{
    SyntheticSpec spec = spec_make(5000, 2000, 20, 5, 10.0, 0.0);
    Dataset tr, te;
    make(&spec, 2024, &tr, &te);
    double acc = nearest_mean_accuracy(&tr, &te);
    cr_assert_gt(acc, 0.95, "nearest-mean accuracy %f", acc);
    dataset_free(&tr);
    dataset_free(&te);
}

Test(synthetic, zero_separation_is_chance_level)
{
    /* Test labels are independent of the features, so any classifier
     * is right with probability 1/K. */
    const int k = 4;
    SyntheticSpec spec = spec_make(2000, 8000, 10, k, 0.0, 0.0);
    Dataset tr, te;
    make(&spec, 9, &tr, &te);
    double acc = nearest_mean_accuracy(&tr, &te);
    double p = 1.0 / k;
    double se = sqrt(p * (1.0 - p) / (double)te.n);
    cr_assert_lt(fabs(acc - p), 4.0 * se, "accuracy %f (expected %f)", acc,
                 p);
    dataset_free(&tr);
    dataset_free(&te);
}

Test(synthetic, separation_is_the_typical_distance_between_classes)
{
    /* E|mu_a - mu_b|^2 = separation^2. Each pair's squared distance is
     * separation^2 * chi2_D / D, sd separation^2 * sqrt(2 / D); sample
     * means add D (1/n_a + 1/n_b) on average, which is subtracted. */
    const int dim = 2000, k = 4;
    const double sep = 10.0;
    SyntheticSpec spec = spec_make(4000, 10, dim, k, sep, 0.0);
    Dataset tr, te;
    make(&spec, 31, &tr, &te);
    size_t counts[4];
    double *m = class_means(&tr, counts);
    double sum = 0.0;
    int pairs = 0;
    for (int a = 0; a < k; a++) {
        for (int b = a + 1; b < k; b++) {
            double d2 = 0.0;
            for (int j = 0; j < dim; j++) {
                double t = m[a * dim + j] - m[b * dim + j];
                d2 += t * t;
            }
            d2 -= dim * (1.0 / counts[a] + 1.0 / counts[b]);
            sum += d2;
            pairs++;
        }
    }
    double ratio = sum / pairs / (sep * sep);
    double tol = 4.0 * sqrt(2.0 / dim);
    cr_assert_lt(fabs(ratio - 1.0), tol, "mean squared distance / sep^2 "
                 "= %f (expected 1 +- %f)", ratio, tol);
    free(m);
    dataset_free(&tr);
    dataset_free(&te);
}

Test(synthetic, noise_around_class_means_has_unit_variance)
{
    const size_t n = 5000;
    const int dim = 20;
    SyntheticSpec spec = spec_make(n, 10, dim, 5, 6.0, 0.0);
    Dataset tr, te;
    make(&spec, 8, &tr, &te);
    size_t counts[5];
    double *m = class_means(&tr, counts);
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        size_t c = (size_t)tr.labels[i];
        for (int j = 0; j < dim; j++) {
            double t = tr.f32[i * dim + j] - m[c * dim + j];
            ss += t * t;
        }
    }
    /* Pooled variance with K means removed; its sd is about sqrt(2/N). */
    double dof = (double)(n - 5) * dim;
    double var = ss / dof;
    double tol = 4.0 * sqrt(2.0 / dof);
    cr_assert_lt(fabs(var - 1.0), tol, "variance %f (expected 1 +- %f)",
                 var, tol);
    free(m);
    dataset_free(&tr);
    dataset_free(&te);
}

/* One bad field per case; the message must name the field and value. */
typedef struct BadSpec {
    SyntheticSpec spec;
    unsigned long seed;
    char field[16];
    char value[24];
} BadSpec;

ParameterizedTestParameters(synthetic, rejects_bad_spec)
{
    static BadSpec cases[] = {
        {{0, 10, 3, 2, 1.0, 0.0}, 1, "n_train", "n_train 0"},
        {{10, 0, 3, 2, 1.0, 0.0}, 1, "n_test", "n_test 0"},
        {{10, 10, 0, 2, 1.0, 0.0}, 1, "dim", "dim 0"},
        {{10, 10, -3, 2, 1.0, 0.0}, 1, "dim", "dim -3"},
        {{10, 10, 3, 1, 1.0, 0.0}, 1, "n_classes", "n_classes 1"},
        {{10, 10, 3, 2, -0.5, 0.0}, 1, "separation", "separation -0.5"},
        {{10, 10, 3, 2, 1.0, 1.5}, 1, "label_noise", "label_noise 1.5"},
        {{10, 10, 3, 2, 1.0, -0.1}, 1, "label_noise", "label_noise -0.1"},
        {{10, 10, 3, 2, 1.0, 0.0}, 0, "seed", "seed 0"},
    };
    return cr_make_param_array(BadSpec, cases, sizeof cases / sizeof *cases);
}

ParameterizedTest(BadSpec *bad, synthetic, rejects_bad_spec)
{
    Dataset tr, te, before;
    IsbError err;
    memset(&tr, 0x5a, sizeof tr);
    memset(&te, 0x5a, sizeof te);
    memcpy(&before, &tr, sizeof before);
    isb_error_clear(&err);

    int rc = dataset_synthetic(&bad->spec, bad->seed, &tr, &te, &err);
    cr_assert_eq(rc, ISB_EINVAL, "%s: rc %d", bad->field, rc);
    cr_assert_not_null(strstr(err.msg, bad->value), "message '%s' lacks "
                       "'%s'", err.msg, bad->value);
    cr_assert_not_null(strstr(err.msg, "expected"), "%s", err.msg);
    cr_assert_eq(memcmp(&tr, &before, sizeof tr), 0);
    cr_assert_eq(memcmp(&te, &before, sizeof te), 0);
}

Test(synthetic, rejects_nan_separation)
{
    SyntheticSpec spec = spec_make(10, 10, 3, 2, NAN, 0.0);
    Dataset tr, te;
    IsbError err;
    isb_error_clear(&err);
    int rc = dataset_synthetic(&spec, 1, &tr, &te, &err);
    cr_assert_eq(rc, ISB_EINVAL);
    cr_assert_not_null(strstr(err.msg, "separation nan"), "%s", err.msg);
}
