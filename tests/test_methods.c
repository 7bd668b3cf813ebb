/*
 * test_methods.c - the importance-sampling methods (upper-bound, loss,
 * biased-IS, gnorm) and their shared Algorithm 1 pieces, against the test
 * values of ALGORITHMS.md and statistical properties, on a fake host with
 * fixed per-example scores (no network), plus short synthetic runs.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "harness/config.h"
#include "harness/registry.h"
#include "harness/runner.h"
#include "methods/builtin.h"
#include "methods/presample.h"

/* ---- a fake host: N examples with fixed scores ------------------------- */

#define N 50
#define MAX_SCORE 256

typedef struct Fake {
    IsbHost host;
    float loss[N], score[N], gnorm[N];  /* fixed per-example values */
    double v[N];                        /* the vector whose mean we want */
    size_t idx[MAX_SCORE];
    float l[MAX_SCORE], s[MAX_SCORE], g[MAX_SCORE];
    IsbScores last;
    int calls;
} Fake;

static int fake_score(void *ctx, const size_t *idx, size_t m,
                      int want_gnorm, IsbScores *out)
{
    Fake *f = ctx;
    cr_assert_leq(m, MAX_SCORE);
    for (size_t i = 0; i < m; i++) {
        cr_assert_lt(idx[i], N);
        f->idx[i] = idx[i];
        f->l[i] = f->loss[idx[i]];
        f->s[i] = f->score[idx[i]];
        f->g[i] = f->gnorm[idx[i]];
    }
    f->calls++;
    f->last = (IsbScores){m, f->idx, f->l, f->s, want_gnorm ? f->g : NULL};
    *out = f->last;
    return 0;
}

/* Scores spread over a factor of about 10, one zero loss, and a v that
 * grows with the scores, so wrong weights bias the mean visibly. */
static void fake_init(Fake *f, size_t b)
{
    memset(f, 0, sizeof *f);
    for (int i = 0; i < N; i++) {
        f->score[i] = 0.1f + 0.2f * (float)(i % 7);
        f->loss[i] = i == 3 ? 0.0f : 0.05f + 0.3f * (float)(i % 5);
        f->gnorm[i] = 0.2f + 0.15f * (float)(i % 9);
        f->v[i] = f->score[i] + f->loss[i] + 0.5 * cos(i);
    }
    f->host = (IsbHost){N, b, 10, MAX_SCORE, f, fake_score, NULL};
}

typedef struct Case {
    const IsbSamplerType *type;
    double params[4];
    const char *label;
} Case;

/* Every unbiased configuration, importance sampling on from step 0. */
static const Case unbiased_cases[] = {
    {&isb_method_upper_bound, {3, 0, 0.9, 0}, "upper-bound tau_th=0"},
    {&isb_method_upper_bound, {3, -1, 0.9, 0}, "upper-bound uniform phase"},
    {&isb_method_loss, {3, 0, 0.9, 0}, "loss tau_th=0"},
    {&isb_method_gnorm, {3, 0, 0, 0}, "gnorm"},
    {&isb_method_biased_is, {24, 0, 0, 1}, "biased-IS k=1"},
    {&isb_method_biased_is, {24, 0.5, 1, 1}, "biased-IS k=1 adaptive"},
};
#define N_UNBIASED (sizeof unbiased_cases / sizeof *unbiased_cases)

static void *start(const Case *c, Fake *f)
{
    void *st = NULL;
    char err[256] = "";
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    int rc = c->type->init(&st, &f->host, c->params, r, err, sizeof err);
    gsl_rng_free(r);
    cr_assert_eq(rc, 0, "%s: %s", c->label, err);
    return st;
}

/* ---- tau, Algorithm 1 (ALGORITHMS.md test values) ----------------------- */

Test(presample, tau_new_matches_test_values)
{
    double a[] = {1, 1, 1, 1}, b[] = {1, 0, 0, 0}, c[] = {1, 2, 3, 4};
    double z[] = {0, 0, 0};
    cr_assert_float_eq(presample_tau_new(a, 4), 1.0, 1e-12);
    cr_assert_float_eq(presample_tau_new(b, 4), 2.0, 1e-12);
    cr_assert_float_eq(presample_tau_new(c, 4), 1.095445, 1e-6);
    cr_assert_float_eq(presample_tau_new(z, 3), 1.0, 1e-12);
}

Test(presample, tau_ema_first_exceeds_threshold_after_seven_updates)
{
    double tau = 0;
    int updates = 0;
    while (tau <= 2.0) {
        tau = presample_tau_ema(tau, 4.0, 0.9);
        updates++;
        cr_assert_lt(updates, 100);
    }
    cr_assert_eq(updates, 7);
    cr_assert_float_eq(tau, 2.0868, 1e-4);
}

Test(presample, tau_threshold_matches_test_values)
{
    cr_assert_float_eq(presample_tau_threshold(3 * 128, 128), 2.0, 1e-12);
    cr_assert_float_eq(presample_tau_threshold(5 * 128, 128), 2.6667, 1e-4);
}

/* Through the method: tau_new = 4 from b = 16 training scores (1, 0, ...)
 * each step; the switch turns on after the 7th observe, and only then
 * does draw score candidates. Afterwards tau follows the scored set. */
Test(upper_bound, switch_turns_on_after_seven_steps_and_then_scores)
{
    Fake f;
    fake_init(&f, 16);
    Case c = {&isb_method_upper_bound, {3, -1, 0.9, 0}, "upper-bound"};
    void *st = start(&c, &f);
    float score[16] = {1}, loss[16] = {1}, w[16];
    size_t idx[16] = {0}, row[16];
    IsbFeedback fb = {16, idx, w, loss, score, NULL, NULL, 0};
    IsbReport rep;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    IsbBatch batch = {16, idx, w, row, 0};
    for (int step = 1; step <= 7; step++) {
        cr_assert_eq(c.type->draw(st, &f.host, r, &batch), 0);
        cr_assert_eq(batch.from_scored, 0);
        cr_assert_eq(f.calls, 0, "scored while off, step %d", step);
        cr_assert_eq(c.type->observe(st, &fb, r), 0);
        c.type->report(st, &rep);
        cr_assert_eq(rep.is_active, step == 7, "step %d", step);
    }
    cr_assert_float_eq(rep.tau, 4 * (1 - pow(0.9, 7)), 1e-9);

    cr_assert_eq(c.type->draw(st, &f.host, r, &batch), 0);
    cr_assert_eq(f.calls, 1);
    cr_assert_eq(f.last.m, 48);
    cr_assert_eq(batch.from_scored, 1);
    double s[48];
    for (size_t i = 0; i < 48; i++) {
        s[i] = f.last.score[i];
    }
    double want = presample_tau_ema(rep.tau, presample_tau_new(s, 48), 0.9);
    fb.scored = &f.last;
    cr_assert_eq(c.type->observe(st, &fb, r), 0);
    c.type->report(st, &rep);
    cr_assert_float_eq(rep.tau, want, 1e-9);
    gsl_rng_free(r);
    c.type->fini(st);
}

/* ---- determinism and a draw that leaves state alone --------------------- */

Test(methods, same_rng_state_gives_same_batch_and_state_is_unchanged)
{
    for (size_t k = 0; k < N_UNBIASED; k++) {
        const Case *c = &unbiased_cases[k];
        Fake f;
        fake_init(&f, 8);
        void *st = start(c, &f);
        size_t idx[2][8], row[2][8];
        float w[2][8];
        IsbReport before, after;
        c->type->report(st, &before);
        for (int t = 0; t < 2; t++) {
            gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
            gsl_rng_set(r, 12345);
            IsbBatch batch = {8, idx[t], w[t], row[t], 0};
            cr_assert_eq(c->type->draw(st, &f.host, r, &batch), 0);
            gsl_rng_free(r);
        }
        c->type->report(st, &after);
        cr_assert_eq(memcmp(idx[0], idx[1], sizeof idx[0]), 0, "%s",
                     c->label);
        cr_assert_eq(memcmp(w[0], w[1], sizeof w[0]), 0, "%s", c->label);
        cr_assert_eq(before.is_active, after.is_active, "%s", c->label);
        cr_assert(memcmp(&before.tau, &after.tau, sizeof before.tau) == 0,
                  "%s: draw changed tau", c->label);
        c->type->fini(st);
    }
}

/* ---- unbiasedness ------------------------------------------------------- */

/* Over T draws of b = 8 from the whole (fake) dataset, the weighted batch
 * mean (1/b) sum w_j v_idx_j agrees with the population mean of v within
 * 4 standard errors (SE from the draws); fixed seed, so the test is
 * deterministic, and 4 SE is a two-sided level of about 6e-5. */
Test(methods, weighted_batch_mean_is_unbiased)
{
    const int T = 20000;
    for (size_t k = 0; k < N_UNBIASED; k++) {
        const Case *c = &unbiased_cases[k];
        Fake f;
        fake_init(&f, 8);
        void *st = start(c, &f);
        double mu = 0;
        for (int i = 0; i < N; i++) {
            mu += f.v[i] / N;
        }
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(r, 2024 + k);
        size_t idx[8], row[8];
        float w[8];
        double sum = 0, sum_sq = 0;
        for (int t = 0; t < T; t++) {
            IsbBatch batch = {8, idx, w, row, 0};
            cr_assert_eq(c->type->draw(st, &f.host, r, &batch), 0);
            double y = 0;
            for (int j = 0; j < 8; j++) {
                cr_assert(w[j] > 0 && isfinite(w[j]), "%s", c->label);
                y += w[j] * f.v[idx[j]] / 8;
            }
            sum += y;
            sum_sq += y * y;
        }
        double mean = sum / T;
        double se = sqrt((sum_sq / T - mean * mean) / (T - 1));
        cr_assert_lt(fabs(mean - mu), 4 * se, "%s: mean %g, population "
                     "%g, SE %g", c->label, mean, mu, se);
        gsl_rng_free(r);
        c->type->fini(st);
    }
}

/* Sampling by the score does shift the unweighted mean: the check above
 * would notice weights of 1. */
Test(methods, unweighted_importance_batch_is_biased)
{
    Fake f;
    fake_init(&f, 8);
    const Case *c = &unbiased_cases[0];
    void *st = start(c, &f);
    double mu = 0, sum = 0;
    for (int i = 0; i < N; i++) {
        mu += f.v[i] / N;
    }
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 99);
    size_t idx[8], row[8];
    float w[8];
    for (int t = 0; t < 5000; t++) {
        IsbBatch batch = {8, idx, w, row, 0};
        cr_assert_eq(c->type->draw(st, &f.host, r, &batch), 0);
        for (int j = 0; j < 8; j++) {
            sum += f.v[idx[j]] / 8;
        }
    }
    cr_assert_gt(sum / 5000 - mu, 0.1);
    gsl_rng_free(r);
    c->type->fini(st);
}

/* ---- pool mode: frequencies against probs() ----------------------------- */

#define POOL 20

typedef struct Pool {
    size_t idx[POOL];
    float loss[POOL], score[POOL], gnorm[POOL];
    IsbScores sc;
} Pool;

static void pool_init(Pool *p, const Fake *f)
{
    for (size_t i = 0; i < POOL; i++) {
        p->idx[i] = (7 * i + 1) % N;
        p->loss[i] = f->loss[p->idx[i]];
        p->score[i] = f->score[p->idx[i]];
        p->gnorm[i] = f->gnorm[p->idx[i]];
    }
    p->sc = (IsbScores){POOL, p->idx, p->loss, p->score, p->gnorm};
}

/* Rows drawn in pool mode follow probs() (chi-square, p-value > 1e-4 with
 * a fixed seed), probs() sums to 1, and no score call is made. */
Test(methods, pool_frequencies_match_stated_probabilities)
{
    const Case cases[] = {
        {&isb_method_uniform, {0}, "uniform"},
        {&isb_method_upper_bound, {3, -1, 0.9, 0}, "upper-bound"},
        {&isb_method_loss, {3, -1, 0.9, 0}, "loss"},
        {&isb_method_gnorm, {3}, "gnorm"},
        {&isb_method_biased_is, {24, 0.2, 0, 0.5}, "biased-IS"},
    };
    const int T = 5000, b = 8;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        Fake f;
        Pool pool;
        fake_init(&f, (size_t)b);
        pool_init(&pool, &f);
        f.host.pool = &pool.sc;
        void *st = start(&cases[k], &f);
        double p[POOL], psum = 0;
        cr_assert_eq(cases[k].type->probs(st, &f.host, &pool.sc, p), 0);
        for (int i = 0; i < POOL; i++) {
            psum += p[i];
        }
        cr_assert_float_eq(psum, 1.0, 1e-12, "%s", cases[k].label);

        long count[POOL] = {0};
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(r, 77 + k);
        size_t idx[8], row[8];
        float w[8];
        for (int t = 0; t < T; t++) {
            IsbBatch batch = {(size_t)b, idx, w, row, 0};
            cr_assert_eq(cases[k].type->draw(st, &f.host, r, &batch), 0);
            cr_assert_eq(batch.from_scored, 1);
            for (int j = 0; j < b; j++) {
                cr_assert_lt(row[j], POOL);
                cr_assert_eq(idx[j], pool.idx[row[j]]);
                count[row[j]]++;
            }
        }
        double chi2 = 0;
        int cells = 0;
        for (int i = 0; i < POOL; i++) {
            double e = (double)T * b * p[i];
            if (e > 0) {
                chi2 += (count[i] - e) * (count[i] - e) / e;
                cells++;
            } else {
                cr_assert_eq(count[i], 0, "%s", cases[k].label);
            }
        }
        double q = gsl_cdf_chisq_Q(chi2, cells - 1);
        cr_assert_gt(q, 1e-4, "%s: chi2 %g on %d dof", cases[k].label,
                     chi2, cells - 1);
        cr_assert_eq(f.calls, 0, "%s scored in pool mode", cases[k].label);
        gsl_rng_free(r);
        cases[k].type->fini(st);
    }
}

/* probs() of upper-bound, loss and gnorm: s_i / sum(s) of their score. */
Test(methods, probs_are_normalised_scores)
{
    Fake f;
    Pool pool;
    fake_init(&f, 8);
    pool_init(&pool, &f);
    const Case cases[] = {
        {&isb_method_upper_bound, {3, -1, 0.9, 0}, "upper-bound"},
        {&isb_method_loss, {3, -1, 0.9, 0}, "loss"},
        {&isb_method_gnorm, {3}, "gnorm"},
    };
    const float *src[] = {pool.score, pool.loss, pool.gnorm};
    for (size_t k = 0; k < 3; k++) {
        void *st = start(&cases[k], &f);
        double p[POOL], total = 0;
        cr_assert_eq(cases[k].type->probs(st, &f.host, &pool.sc, p), 0);
        for (int i = 0; i < POOL; i++) {
            total += src[k][i] + (k == 1 ? 1e-12 : 0);
        }
        for (int i = 0; i < POOL; i++) {
            double want = (src[k][i] + (k == 1 ? 1e-12 : 0)) / total;
            cr_assert_float_eq(p[i], want, 1e-12, "%s row %d",
                               cases[k].label, i);
        }
        cases[k].type->fini(st);
    }
}

/* ---- biased-IS weights (ALGORITHMS.md test values) ---------------------- */

static void biased_pool_draw(double k, double smooth, Pool *pool,
                             size_t *row, float *w, double *s)
{
    Fake f;
    fake_init(&f, 8);
    pool_init(pool, &f);
    f.host.pool = &pool->sc;
    Case c = {&isb_method_biased_is, {24, smooth, 0, k}, "biased-IS"};
    void *st = start(&c, &f);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    size_t idx[8];
    IsbBatch batch = {8, idx, w, row, 0};
    cr_assert_eq(c.type->draw(st, &f.host, r, &batch), 0);
    for (int i = 0; i < POOL; i++) {
        s[i] = pool->loss[i] + 1e-12 + smooth;
    }
    gsl_rng_free(r);
    c.type->fini(st);
}

Test(biased_is, k_one_gives_unbiased_weights)
{
    Pool pool;
    size_t row[8];
    float w[8];
    double s[POOL], total = 0;
    biased_pool_draw(1.0, 0.1, &pool, row, w, s);
    for (int i = 0; i < POOL; i++) {
        total += s[i];
    }
    for (int j = 0; j < 8; j++) {
        double want = total / (POOL * s[row[j]]);
        cr_assert_float_eq(w[j], want, 1e-5 * want, "row %zu", row[j]);
    }
}

Test(biased_is, k_zero_gives_equal_weights_of_mean_ratio)
{
    Pool pool;
    size_t row[8];
    float w[8];
    double s[POOL], pool_mean = 0, sel_mean = 0;
    biased_pool_draw(0.0, 0.0, &pool, row, w, s);
    for (int i = 0; i < POOL; i++) {
        pool_mean += s[i] / POOL;
    }
    for (int j = 0; j < 8; j++) {
        sel_mean += s[row[j]] / 8;
    }
    double want = pool_mean / sel_mean;
    for (int j = 0; j < 8; j++) {
        cr_assert_float_eq(w[j], want, 1e-5 * want, "j %d", j);
    }
}

Test(biased_is, rescaling_keeps_weighted_score_sum)
{
    Pool pool;
    size_t row[8];
    float w[8];
    double s[POOL], total = 0, ws = 0, whs = 0;
    biased_pool_draw(0.5, 0.0, &pool, row, w, s);
    for (int i = 0; i < POOL; i++) {
        total += s[i];
    }
    for (int j = 0; j < 8; j++) {
        ws += total / (POOL * s[row[j]]) * s[row[j]];
        whs += w[j] * s[row[j]];
    }
    cr_assert_float_eq(whs, ws, 1e-5 * ws);
}

/* Adaptive smoothing: c = smooth * mu, mu = 0.9 mu + 0.1 batch mean loss
 * from mu = 1; visible in probs() after one observe. */
Test(biased_is, adaptive_smoothing_follows_batch_loss)
{
    Fake f;
    Pool pool;
    fake_init(&f, 4);
    pool_init(&pool, &f);
    Case c = {&isb_method_biased_is, {24, 2.0, 1, 0.5}, "biased-IS"};
    void *st = start(&c, &f);
    size_t idx[4] = {0, 1, 2, 3};
    float loss[4] = {3, 3, 3, 3}, w[4] = {1, 1, 1, 1};
    IsbFeedback fb = {4, idx, w, loss, loss, NULL, NULL, 0};
    cr_assert_eq(c.type->observe(st, &fb, NULL), 0);
    double mu = 0.9 * 1 + 0.1 * 3, cst = 2.0 * mu, p[POOL], total = 0;
    cr_assert_eq(c.type->probs(st, &f.host, &pool.sc, p), 0);
    for (int i = 0; i < POOL; i++) {
        total += pool.loss[i] + 1e-12 + cst;
    }
    for (int i = 0; i < POOL; i++) {
        double want = (pool.loss[i] + 1e-12 + cst) / total;
        cr_assert_float_eq(p[i], want, 1e-12, "row %d", i);
    }
    c.type->fini(st);
}

/* ---- bad parameters ----------------------------------------------------- */

Test(methods, bad_parameters_are_rejected_with_a_message)
{
    const Case cases[] = {
        {&isb_method_upper_bound, {40, -1, 0.9, 0}, "max_presample"},
        {&isb_method_loss, {3, -0.5, 0.9, 0}, "tau_th -0.5"},
        {&isb_method_gnorm, {40}, "max_presample"},
        {&isb_method_biased_is, {1000, 0, 0, 0.5}, "pool 1000"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        Fake f;
        fake_init(&f, 8);
        void *st = NULL;
        char err[256] = "";
        int rc = cases[k].type->init(&st, &f.host, cases[k].params, NULL,
                                     err, sizeof err);
        cr_assert_lt(rc, 0, "%s accepted", cases[k].type->name);
        cr_assert_not_null(strstr(err, cases[k].label), "%s: '%s'",
                           cases[k].type->name, err);
    }
}

/* ---- through the runner ------------------------------------------------- */

/* Each method trains a small synthetic task to the end through the real
 * host (scoring, reuse of the scoring pass, observe), scores candidates,
 * and ends with a finite test error better than chance (0.75). */
Test(methods, each_method_trains_through_the_runner)
{
    const char *methods[] = {"upper-bound", "loss", "biased-IS", "gnorm"};
    for (size_t k = 0; k < 4; k++) {
        Config cfg;
        IsbError err;
        config_defaults(&cfg);
        strcpy(cfg.name, "t");
        const char *sets[] = {
            "experiment.dataset=synthetic", "synthetic.n_train=600",
            "synthetic.n_test=200", "network.layers=dense 16, relu, dense 4",
            "training.batch=32", "training.epochs=2",
            "training.optimizer=adam", "training.lr=0.01",
            "evaluation.every=10", "method.upper-bound.tau_th=0",
            "method.loss.tau_th=0", "method.biased-IS.pool=96"};
        for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
            cr_assert_eq(config_set(&cfg, sets[i], &err), 0, "%s", err.msg);
        }
        const IsbSamplerType *t;
        double params[REGISTRY_MAX_PARAMS];
        cr_assert_eq(registry_find(methods[k], &t, &err), 0, "%s",
                     err.msg);
        cr_assert_eq(registry_resolve_params(t, &cfg, params, &err), 0,
                     "%s", err.msg);
        char dir[] = "/tmp/isb-methods-XXXXXX";
        cr_assert_not_null(mkdtemp(dir));
        RunOptions opt = {.cfg = &cfg, .method = t, .method_params = params,
                          .seed = 1, .out_dir = dir};
        RunSummary sum;
        cr_assert_eq(runner_run(&opt, &sum, &err), 0, "%s: %s", methods[k],
                     err.msg);
        cr_assert_eq(sum.status, RUN_DONE, "%s", methods[k]);
        cr_assert_gt(sum.samples_scored, 0, "%s", methods[k]);
        cr_assert_lt(sum.test_error, 0.75, "%s", methods[k]);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        cr_assert_eq(system(cmd), 0);
    }
}
