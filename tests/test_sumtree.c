/*
 * test_sumtree.c - the sum tree: known walks, sampling frequencies
 * (chi-square), updates, rebuild against incremental sums, zero leaves.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
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

Test(sumtree, rebuild_equals_incremental_sums)
{
    enum { N = 1000 };
    SumTree t;
    cr_assert_eq(sumtree_init(&t, N), 0);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 99);
    for (int k = 0; k < 20000; k++) {
        double w = gsl_rng_uniform(rng) < 0.2 ? 0 : gsl_rng_uniform(rng);
        sumtree_set(&t, gsl_rng_uniform_int(rng, N), w * 1e3);
    }
    double *before = malloc(2 * N * sizeof *before);
    cr_assert_not_null(before);
    memcpy(before, t.node, 2 * N * sizeof *before);
    sumtree_rebuild(&t);
    for (size_t k = 1; k < 2 * N; k++) {
        cr_assert_eq(t.node[k], before[k], "node %zu: %.17g vs %.17g", k,
                     t.node[k], before[k]);
    }
    double sum = 0;
    for (size_t i = 0; i < N; i++) {
        sum += sumtree_get(&t, i);
    }
    cr_assert_float_eq(sumtree_total(&t), sum, 1e-9 * sum);
    free(before);
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
