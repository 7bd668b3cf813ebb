/*
 * test_online_bandit.c - online-bandit (ALGORITHMS.md): frequencies match
 * the stated p_i (chi-square), weights 1 / (N p_i) make the batch mean
 * unbiased, observe's update rule, alpha, pool renormalisation.
 */
#include <criterion/criterion.h>

#include <math.h>

#include <gsl/gsl_cdf.h>

#include "methods/builtin.h"

#define CHISQ_P_MIN 1e-4  /* accept the fit when p-value > this */
#define Z_MAX 4.0         /* unbiasedness: within 4 standard errors */

enum { N = 50, B = 8 };

static const IsbSamplerType *T = &isb_method_online_bandit;

static void *open_bandit(double eps, double alpha, double rho,
                         gsl_rng *rng)
{
    IsbHost host = {N, B, 4, 0, NULL, NULL, NULL};
    double params[3] = {eps, alpha, rho};
    void *state;
    char msg[256] = "";
    cr_assert_eq(T->init(&state, &host, params, rng, msg, sizeof msg), 0,
                 "%s", msg);
    return state;
}

/* Train on the given indices with the given scores G. */
static void feed(void *state, const size_t *idx, const float *g, size_t m,
                 gsl_rng *rng)
{
    float w[N] = {0}, loss[N] = {0};
    IsbFeedback fb = {m, idx, w, loss, g, NULL, NULL, 0};
    cr_assert_eq(T->observe(state, &fb, rng), 0);
}

/* Make s_i = 0.02 (i + 1) for every i (rho = 1). */
static void feed_ramp(void *state, gsl_rng *rng)
{
    size_t idx[N];
    float g[N];
    for (size_t i = 0; i < N; i++) {
        idx[i] = i;
        g[i] = 0.02f * (float)(i + 1);
    }
    feed(state, idx, g, N, rng);
}

static double stated_p(size_t i, double eps)
{
    double q_total = 0.02 * N * (N + 1) / 2.0;
    return (1 - eps) * 0.02 * (double)(i + 1) / q_total + eps / N;
}

Test(online_bandit, frequencies_and_weights_match_stated_p)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 2024);
    const double eps = 0.3;
    void *st = open_bandit(eps, 1, 1, rng);
    feed_ramp(st, rng);
    IsbHost host = {N, B, 4, 0, NULL, NULL, NULL};
    size_t idx[B], row[B];
    float w[B];
    IsbBatch batch = {B, idx, w, row, 0};
    long count[N] = {0}, draws = 0;
    for (int k = 0; k < 25000; k++) {
        cr_assert_eq(T->draw(st, &host, rng, &batch), 0);
        for (size_t j = 0; j < B; j++) {
            double want = 1 / (N * stated_p(idx[j], eps));
            cr_assert_float_eq(w[j], want, 1e-5 * want, "w[%zu] %g vs %g",
                               idx[j], (double)w[j], want);
            cr_assert_leq(w[j], 1 / eps + 1e-5);
            count[idx[j]]++;
            draws++;
        }
    }
    double chi2 = 0;
    for (size_t i = 0; i < N; i++) {
        double e = (double)draws * stated_p(i, eps);
        chi2 += (count[i] - e) * (count[i] - e) / e;
    }
    double p = gsl_cdf_chisq_Q(chi2, N - 1);
    cr_assert_gt(p, CHISQ_P_MIN, "chi2 = %g (df %d), p = %g", chi2, N - 1,
                 p);
    T->fini(st);
    gsl_rng_free(rng);
}

/* E[w_j v_idx_j] = mean(v) for a fixed vector v (here v_i = cos(i) + 2,
 * uncorrelated with the ramp of probabilities). */
Test(online_bandit, weighted_batch_mean_is_unbiased)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 77);
    void *st = open_bandit(0.5, 1, 1, rng);
    feed_ramp(st, rng);
    double v[N], mean = 0;
    for (size_t i = 0; i < N; i++) {
        v[i] = cos((double)i) + 2;
        mean += v[i] / N;
    }
    IsbHost host = {N, B, 4, 0, NULL, NULL, NULL};
    size_t idx[B], row[B];
    float w[B];
    IsbBatch batch = {B, idx, w, row, 0};
    enum { K = 20000 };
    double sum = 0, sum_sq = 0;
    for (int k = 0; k < K; k++) {
        cr_assert_eq(T->draw(st, &host, rng, &batch), 0);
        double est = 0;
        for (size_t j = 0; j < B; j++) {
            est += w[j] * v[idx[j]] / B;
        }
        sum += est;
        sum_sq += est * est;
    }
    double m = sum / K, se = sqrt((sum_sq / K - m * m) / K);
    cr_assert_lt(fabs(m - mean), Z_MAX * se, "mean %g vs %g (se %g)", m,
                 mean, se);
    T->fini(st);
    gsl_rng_free(rng);
}

/* Pool probabilities with eps = 0 expose q exactly. */
static double pool_p0(void *st, size_t a, size_t b)
{
    size_t idx[2] = {a, b};
    float z[2] = {0, 0};
    IsbScores pool = {2, idx, z, z, z};
    IsbHost host = {N, B, 4, 0, NULL, NULL, &pool};
    double p[2];
    cr_assert_eq(T->probs(st, &host, &pool, p), 0);
    cr_assert_float_eq(p[0] + p[1], 1.0, 1e-12);
    return p[0];
}

Test(online_bandit, observe_smooths_scores_with_rho)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    void *st = open_bandit(0, 1, 0.5, rng);
    cr_assert_float_eq(pool_p0(st, 3, 4), 0.5, 1e-12);  /* both sqrt 2 */
    size_t i = 3;
    float g = 0.2f;
    feed(st, &i, &g, 1, rng);
    double s3 = 0.5 * sqrt(2) + 0.5 * (double)g;
    cr_assert_float_eq(pool_p0(st, 3, 4), s3 / (s3 + sqrt(2)), 1e-9);
    T->fini(st);
    gsl_rng_free(rng);
}

Test(online_bandit, alpha_is_an_exponent_on_s)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    void *st = open_bandit(0, 2, 1, rng);
    size_t idx[2] = {0, 1};
    float g[2] = {1.0f, 0.5f};
    feed(st, idx, g, 2, rng);
    cr_assert_float_eq(pool_p0(st, 0, 1), 1.0 / 1.25, 1e-9);
    T->fini(st);
    gsl_rng_free(rng);
}

/* Pool mode: p over the pool is (1 - eps) q_r / Q_pool + eps / M. */
Test(online_bandit, pool_probabilities_are_renormalised)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    void *st = open_bandit(0.5, 1, 1, rng);
    feed_ramp(st, rng);
    size_t idx[3] = {0, 9, 49};   /* q = 0.02, 0.2, 1.0 */
    float z[3] = {0, 0, 0};
    IsbScores pool = {3, idx, z, z, z};
    IsbHost host = {N, B, 4, 0, NULL, NULL, &pool};
    double p[3];
    cr_assert_eq(T->probs(st, &host, &pool, p), 0);
    const double q[3] = {0.02, 0.2, 1.0};
    for (size_t r = 0; r < 3; r++) {
        double want = 0.5 * q[r] / 1.22 + 0.5 / 3;
        cr_assert_float_eq(p[r], want, 1e-6, "p[%zu] %g vs %g", r, p[r],
                           want);
    }
    T->fini(st);
    gsl_rng_free(rng);
}

Test(online_bandit, rejects_a_negative_or_nan_score)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    void *st = open_bandit(0.5, 1, 1, rng);
    size_t i = 0;
    float bad[2] = {-1.0f, NAN};
    for (int k = 0; k < 2; k++) {
        float w = 1, loss = 0;
        IsbFeedback fb = {1, &i, &w, &loss, &bad[k], NULL, NULL, 0};
        cr_assert_lt(T->observe(st, &fb, rng), 0);
    }
    T->fini(st);
    gsl_rng_free(rng);
}
