/*
 * test_sumtree.c - the sum tree: known walks, sampling frequencies
 * (chi-square, shallow and deep ragged trees), updates, rebuild against
 * incremental sums, the 8-ary layout, batched walks, zero leaves.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>

#include "methods/sumtree.h"

/* Chi-square goodness of fit is accepted when its p-value exceeds this;
 * with fixed seeds the outcome is deterministic, and a wrong sampler
 * (e.g. off by one leaf) gives p-values far below it. */
#define CHISQ_P_MIN 1e-4

Test(sumtree, known_walk_on_four_leaves)
{
    SumTree t;
    cr_assert_eq(sumtree_init(&t, 4), 0);
    for (size_t i = 0; i < 4; i++) {
        sumtree_set(&t, i, (double)(i + 1));  /* 1 2 3 4 */
    }
    cr_assert_eq(sumtree_total(&t), 10.0);
    /* Power-of-two N: walk order is leaf order, cumulative 1 3 6 10. */
    const double u[] = {0.0, 0.99, 1.0, 2.5, 3.0, 5.99, 6.0, 9.99};
    const size_t want[] = {0, 0, 1, 1, 2, 2, 3, 3};
    for (size_t k = 0; k < 8; k++) {
        cr_assert_eq(sumtree_sample(&t, u[k]), want[k], "u = %g", u[k]);
    }
    sumtree_free(&t);
}

Test(sumtree, updates_change_total_and_walk)
{
    SumTree t;
    cr_assert_eq(sumtree_init(&t, 4), 0);
    for (size_t i = 0; i < 4; i++) {
        sumtree_set(&t, i, (double)(i + 1));
    }
    sumtree_set(&t, 1, 0.0);   /* 1 0 3 4 */
    sumtree_set(&t, 3, 0.5);   /* 1 0 3 0.5 */
    cr_assert_eq(sumtree_total(&t), 4.5);
    cr_assert_eq(sumtree_get(&t, 1), 0.0);
    cr_assert_eq(sumtree_get(&t, 3), 0.5);
    cr_assert_eq(sumtree_sample(&t, 0.5), 0);
    cr_assert_eq(sumtree_sample(&t, 1.0), 2);   /* leaf 1 is skipped */
    cr_assert_eq(sumtree_sample(&t, 3.99), 2);
    cr_assert_eq(sumtree_sample(&t, 4.25), 3);
    sumtree_free(&t);
}

Test(sumtree, single_leaf)
{
    SumTree t;
    cr_assert_eq(sumtree_init(&t, 1), 0);
    sumtree_set(&t, 0, 2.5);
    cr_assert_eq(sumtree_total(&t), 2.5);
    cr_assert_eq(sumtree_sample(&t, 2.0), 0);
    sumtree_rebuild(&t);
    cr_assert_eq(sumtree_total(&t), 2.5);
    sumtree_free(&t);
}

/* Weights w_i = i on N = 10 (not a power of two; leaf 0 has weight 0):
 * 200000 draws, chi-square over the 9 non-zero leaves (8 degrees of
 * freedom), and leaf 0 never drawn. */
Test(sumtree, frequencies_match_weights_chi_square)
{
    enum { N = 10, DRAWS = 200000 };
    SumTree t;
    cr_assert_eq(sumtree_init(&t, N), 0);
    for (size_t i = 0; i < N; i++) {
        sumtree_set(&t, i, (double)i);
    }
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 12345);
    long count[N] = {0};
    double total = sumtree_total(&t);
    for (long k = 0; k < DRAWS; k++) {
        count[sumtree_sample(&t, gsl_rng_uniform(rng) * total)]++;
    }
    cr_assert_eq(count[0], 0, "zero-weight leaf drawn %ld times",
                 count[0]);
    double chi2 = 0;
    for (size_t i = 1; i < N; i++) {
        double expect = DRAWS * (double)i / total;
        chi2 += (count[i] - expect) * (count[i] - expect) / expect;
    }
    double p = gsl_cdf_chisq_Q(chi2, N - 2);
    cr_assert_gt(p, CHISQ_P_MIN, "chi2 = %g, p = %g", chi2, p);
    gsl_rng_free(rng);
    sumtree_free(&t);
}

/* The same test after many updates: the distribution follows the new
 * weights, not the old ones. */
Test(sumtree, frequencies_follow_updates)
{
    enum { N = 23, DRAWS = 200000 };
    SumTree t;
    cr_assert_eq(sumtree_init(&t, N), 0);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 777);
    double w[N];
    for (size_t i = 0; i < N; i++) {
        sumtree_set(&t, i, 100.0);
    }
    for (int k = 0; k < 1000; k++) {
        size_t i = gsl_rng_uniform_int(rng, N);
        w[i] = 0.1 + gsl_rng_uniform(rng);
        sumtree_set(&t, i, w[i]);
    }
    for (size_t i = 0; i < N; i++) {
        w[i] = sumtree_get(&t, i);
        cr_assert_lt(w[i], 2.0, "leaf %zu never updated", i);
    }
    long count[N] = {0};
    double total = sumtree_total(&t);
    for (long k = 0; k < DRAWS; k++) {
        count[sumtree_sample(&t, gsl_rng_uniform(rng) * total)]++;
    }
    double chi2 = 0;
    for (size_t i = 0; i < N; i++) {
        double expect = DRAWS * w[i] / total;
        chi2 += (count[i] - expect) * (count[i] - expect) / expect;
    }
    double p = gsl_cdf_chisq_Q(chi2, N - 1);
    cr_assert_gt(p, CHISQ_P_MIN, "chi2 = %g, p = %g", chi2, p);
    gsl_rng_free(rng);
    sumtree_free(&t);
}

/* Snapshot of every level of t (padding included), for comparisons. */
static double *tree_copy(const SumTree *t, size_t *count)
{
    size_t total = 0;
    for (int l = 0; l <= t->top; l++) {
        total += (t->len[l] + SUMTREE_ARITY - 1) / SUMTREE_ARITY *
                 SUMTREE_ARITY;
    }
    double *copy = malloc(total * sizeof *copy);
    cr_assert_not_null(copy);
    memcpy(copy, t->mem, total * sizeof *copy);
    *count = total;
    return copy;
}

/* N = 1000 is not a power of 8 (levels 1000, 125, 16, 2, 1): after
 * 20000 random updates a rebuild reproduces every node bit for bit, and
 * filling with sumtree_put + rebuild gives the same tree as sumtree_set
 * one leaf at a time. */
Test(sumtree, rebuild_equals_incremental_sums)
{
    enum { N = 1000 };
    SumTree t, u;
    cr_assert_eq(sumtree_init(&t, N), 0);
    cr_assert_eq(sumtree_init(&u, N), 0);
    cr_assert_eq(t.top, 4);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 99);
    for (int k = 0; k < 20000; k++) {
        double w = gsl_rng_uniform(rng) < 0.2 ? 0 : gsl_rng_uniform(rng);
        sumtree_set(&t, gsl_rng_uniform_int(rng, N), w * 1e3);
    }
    size_t count, count_u;
    double *before = tree_copy(&t, &count);
    sumtree_rebuild(&t);
    for (size_t k = 0; k < count; k++) {
        cr_assert_eq(t.mem[k], before[k], "node %zu: %.17g vs %.17g", k,
                     t.mem[k], before[k]);
    }
    for (size_t i = 0; i < N; i++) {
        sumtree_put(&u, i, sumtree_get(&t, i));
    }
    sumtree_rebuild(&u);
    double *filled = tree_copy(&u, &count_u);
    cr_assert_eq(count_u, count);
    for (size_t k = 0; k < count; k++) {
        cr_assert_eq(filled[k], before[k], "node %zu", k);
    }
    double sum = 0;
    for (size_t i = 0; i < N; i++) {
        sum += sumtree_get(&t, i);
    }
    cr_assert_float_eq(sumtree_total(&t), sum, 1e-9 * sum);
    free(before);
    free(filled);
    gsl_rng_free(rng);
    sumtree_free(&t);
    sumtree_free(&u);
}

/* Each level starts on a 64-byte line, so a node's 8 children share
 * one cache line; the padding past N stays 0. */
Test(sumtree, levels_are_cache_line_aligned_and_padded_with_zeros)
{
    SumTree t;
    cr_assert_eq(sumtree_init(&t, 77), 0);
    for (size_t i = 0; i < 77; i++) {
        sumtree_set(&t, i, 1.0);
    }
    for (int l = 0; l <= t.top; l++) {
        cr_assert_eq((uintptr_t)t.level[l] % 64, 0, "level %d", l);
        size_t padded = (t.len[l] + 7) / 8 * 8;
        for (size_t j = t.len[l]; j < padded; j++) {
            cr_assert_eq(t.level[l][j], 0.0, "level %d entry %zu", l, j);
        }
    }
    cr_assert_eq(sumtree_total(&t), 77.0);
    sumtree_free(&t);
}

/* N = 4099 = 8^4 + 3 (a root with two children, the second holding
 * only 3 leaves), a third of the leaves zero: 400000 draws agree with
 * the weights by chi-square over 16 bins of consecutive leaves, and no
 * zero leaf is ever drawn. */
Test(sumtree, frequencies_on_a_deep_ragged_tree)
{
    enum { N = 4099, DRAWS = 400000, BINS = 16 };
    SumTree t;
    cr_assert_eq(sumtree_init(&t, N), 0);
    cr_assert_eq(t.top, 5);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 31);
    static double w[N];
    for (size_t i = 0; i < N; i++) {
        w[i] = i % 3 == 0 ? 0 : gsl_rng_uniform(rng) * (double)(i % 7);
        sumtree_set(&t, i, w[i]);
    }
    w[N - 1] = 50;  /* the lone leaves past 8^4 carry weight too */
    sumtree_set(&t, N - 1, w[N - 1]);
    double total = sumtree_total(&t), expect[BINS] = {0};
    long count[BINS] = {0};
    for (size_t i = 0; i < N; i++) {
        expect[i * BINS / N] += DRAWS * w[i] / total;
    }
    for (long k = 0; k < DRAWS; k++) {
        size_t i = sumtree_sample(&t, gsl_rng_uniform(rng) * total);
        cr_assert_gt(w[i], 0, "zero leaf %zu drawn", i);
        count[i * BINS / N]++;
    }
    double chi2 = 0;
    for (int k = 0; k < BINS; k++) {
        chi2 += (count[k] - expect[k]) * (count[k] - expect[k]) /
                expect[k];
    }
    double p = gsl_cdf_chisq_Q(chi2, BINS - 1);
    cr_assert_gt(p, CHISQ_P_MIN, "chi2 = %g, p = %g", chi2, p);
    gsl_rng_free(rng);
    sumtree_free(&t);
}

/* The batched walk gives exactly the leaves of one walk per point, for
 * batches longer than its internal chunk, points at and past the total,
 * and N = 1. */
Test(sumtree, sample_many_equals_one_walk_per_point)
{
    enum { N = 70001, M = 300 };
    SumTree t;
    cr_assert_eq(sumtree_init(&t, N), 0);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5);
    for (size_t i = 0; i < N; i++) {
        double r = gsl_rng_uniform(rng);
        sumtree_put(&t, i, r < 0.5 ? 0 : r);
    }
    sumtree_rebuild(&t);
    double u[M], total = sumtree_total(&t);
    size_t leaf[M];
    for (int k = 0; k < M; k++) {
        u[k] = gsl_rng_uniform(rng) * total;
    }
    u[0] = 0;
    u[1] = total;
    u[2] = 2 * total;
    sumtree_sample_many(&t, u, M, leaf);
    for (int k = 0; k < M; k++) {
        cr_assert_eq(leaf[k], sumtree_sample(&t, u[k]), "point %d", k);
        cr_assert_gt(sumtree_get(&t, leaf[k]), 0, "point %d", k);
    }
    sumtree_free(&t);

    cr_assert_eq(sumtree_init(&t, 1), 0);
    sumtree_set(&t, 0, 0.25);
    double one[2] = {0.1, 0.3};
    sumtree_sample_many(&t, one, 2, leaf);
    cr_assert_eq(leaf[0], 0);
    cr_assert_eq(leaf[1], 0);
    gsl_rng_free(rng);
    sumtree_free(&t);
}

/* Mostly zero leaves, some tiny (denormal) ones: a walk for any u in
 * [0, total], the end point included, lands on a positive leaf. */
Test(sumtree, walk_never_returns_zero_leaf)
{
    enum { N = 37 };
    SumTree t;
    cr_assert_eq(sumtree_init(&t, N), 0);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 4);
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < N; i++) {
            double r = gsl_rng_uniform(rng);
            sumtree_set(&t, i, r < 0.8 ? 0 : r < 0.9 ? 1e-310 : r);
        }
        sumtree_set(&t, gsl_rng_uniform_int(rng, N), 1e-300);
        double total = sumtree_total(&t);
        cr_assert_gt(total, 0);
        for (int k = 0; k <= 2000; k++) {
            double u = total * k / 2000.0;
            size_t i = sumtree_sample(&t, u);
            cr_assert_lt(i, (size_t)N);
            cr_assert_gt(sumtree_get(&t, i), 0, "u = %g gave leaf %zu",
                         u, i);
        }
        size_t i = sumtree_sample(&t, nextafter(total, 0));
        cr_assert_gt(sumtree_get(&t, i), 0);
        i = sumtree_sample(&t, total * 1.5);
        cr_assert_gt(sumtree_get(&t, i), 0);
    }
    gsl_rng_free(rng);
    sumtree_free(&t);
}
