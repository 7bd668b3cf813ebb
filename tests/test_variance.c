/*
 * test_variance.c - exact and Monte-Carlo gradient variance.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/config.h"
#include "harness/registry.h"
#include "harness/rng.h"
#include "harness/runner.h"
#include "harness/variance.h"

/* ---- the formula against ALGORITHMS.md's test values ------------------ */

Test(variance, formula_matches_the_scalar_test_values)
{
    /* g = 1,2,3,4 (scalars), b = 1: uniform 1.25, optimal 0 */
    double sq[] = {1, 4, 9, 16}, pu[] = {.25, .25, .25, .25};
    double po[] = {.1, .2, .3, .4};
    cr_assert_float_eq(variance_exact(sq, pu, 4, 6.25, 1), 1.25, 1e-12);
    cr_assert_float_eq(variance_exact(sq, po, 4, 6.25, 1), 0.0, 1e-12);

    /* g = 1,-1,2,0, p proportional to |g|: uniform 1.25, IS 0.75 */
    double sq2[] = {1, 1, 4, 0}, pis[] = {.25, .25, .5, 0};
    cr_assert_float_eq(variance_exact(sq2, pu, 4, 0.25, 1), 1.25, 1e-12);
    cr_assert_float_eq(variance_exact(sq2, pis, 4, 0.25, 1), 0.75, 1e-12);

    /* b draws divide the variance by b */
    cr_assert_float_eq(variance_exact(sq, pu, 4, 6.25, 5), 0.25, 1e-12);
}

/* ---- a small network on synthetic data --------------------------------- */

typedef struct Fixture {
    Dataset train, test;
    Network *net;
    VarianceProbe *vp;
    gsl_rng *rng;
} Fixture;

static void fixture_make(Fixture *f, size_t pool, size_t draws, size_t b)
{
    IsbError err;
    SyntheticSpec spec = {300, 50, 6, 3, 2.0, 0.1};
    cr_assert_eq(dataset_synthetic(&spec, 11, &f->train, &f->test, &err),
                 0, "%s", err.msg);
    cr_assert_eq(network_create("dense 8, relu, dense 3", 1, 1, 6, 3, 64,
                                &f->net, &err), 0, "%s", err.msg);
    f->rng = rng_stream(3, "test");
    network_init(f->net, f->rng);
    cr_assert_eq(variance_probe_create(f->net, &f->train, b, pool, draws,
                                       &f->vp, &err), 0, "%s", err.msg);
    cr_assert_eq(variance_probe_pool(f->vp, f->rng, &err), 0, "%s",
                 err.msg);
}

static void fixture_free(Fixture *f)
{
    variance_probe_free(f->vp);
    network_free(f->net);
    gsl_rng_free(f->rng);
    dataset_free(&f->train);
    dataset_free(&f->test);
}

static int fake_score(void *ctx, const size_t *idx, size_t m, int want,
                      IsbScores *out)
{
    (void)ctx;
    (void)idx;
    (void)m;
    (void)want;
    (void)out;
    return -1;
}

/* Initialise a registered method with defaults; NULL state on failure. */
static void *method_init(const IsbSamplerType *t, size_t n, size_t b,
                         gsl_rng *rng)
{
    Config cfg;
    config_defaults(&cfg);
    double params[REGISTRY_MAX_PARAMS];
    IsbError err;
    cr_assert_eq(registry_resolve_params(t, &cfg, params, &err), 0);
    IsbHost host = {n, b, 3, 64 * b, NULL, fake_score, NULL};
    void *state = NULL;
    char msg[256];
    cr_assert_eq(t->init(&state, &host, params, rng, msg, sizeof msg), 0,
                 "%s: %s", t->name, msg);
    return state;
}

Test(variance, uniform_matches_the_closed_form_from_separate_backwards)
{
    /* Pool = whole set of 300; per-example gradients from one-row
     * backward passes give the closed form independently of the probe. */
    Fixture f;
    fixture_make(&f, 0, 8, 16);
    size_t n = f.train.n, p_len = network_num_params(f.net);
    double *mean = calloc(p_len, sizeof *mean), sum_sq = 0;
    float x[6];
    int y;
    for (size_t i = 0; i < n; i++) {
        dataset_batch(&f.train, &i, 1, x, &y);
        ForwardOut fo = {NULL, NULL, NULL};
        network_forward(f.net, x, &y, 1, &fo);
        network_backward(f.net, NULL, 1, 0.0f);
        const float *g = network_grads(f.net);
        for (size_t q = 0; q < p_len; q++) {
            mean[q] += g[q] / (double)n;
            sum_sq += (double)g[q] * g[q];
        }
    }
    double mean_sq = 0;
    for (size_t q = 0; q < p_len; q++) {
        mean_sq += mean[q] * mean[q];
    }
    double closed = (sum_sq / (double)n - mean_sq) / 16.0;

    const IsbSamplerType *t;
    IsbError err;
    cr_assert_eq(registry_find("uniform", &t, &err), 0);
    void *st = method_init(t, n, 16, f.rng);
    VarianceResult r;
    cr_assert_eq(variance_probe_method(f.vp, t, st, f.rng, &r, &err), 0,
                 "%s", err.msg);
    cr_assert_float_eq(r.uniform, closed, 1e-4 * closed,
                       "probe %g closed form %g", r.uniform, closed);
    cr_assert_float_eq(r.exact, closed, 1e-4 * closed);
    cr_assert_eq(r.bias, 0.0);
    t->fini(st);
    free(mean);
    fixture_free(&f);
}

/* Exact and Monte-Carlo agree within 4 standard errors (a false alarm
 * rate of about 6e-5 per method if the MC mean is near normal). */
static void check_exact_vs_mc(const char *name)
{
    Fixture f;
    fixture_make(&f, 120, 400, 8);
    const IsbSamplerType *t;
    IsbError err;
    cr_assert_eq(registry_find(name, &t, &err), 0, "%s", err.msg);
    void *st = method_init(t, f.train.n, 8, f.rng);
    VarianceResult r;
    cr_assert_eq(variance_probe_method(f.vp, t, st, f.rng, &r, &err), 0,
                 "%s", err.msg);
    cr_assert(isfinite(r.exact), "%s gave no exact figure", name);
    cr_assert_lt(fabs(r.exact - r.mc), 4 * r.mc_stderr,
                 "%s: exact %g, Monte Carlo %g +- %g", name, r.exact, r.mc,
                 r.mc_stderr);
    t->fini(st);
    fixture_free(&f);
}

Test(variance, exact_and_monte_carlo_agree_uniform)
{
    check_exact_vs_mc("uniform");
}

Test(variance, exact_and_monte_carlo_agree_upper_bound)
{
    check_exact_vs_mc("upper-bound");
}

Test(variance, exact_and_monte_carlo_agree_gnorm)
{
    check_exact_vs_mc("gnorm");
}

Test(variance, gnorm_is_never_above_other_unbiased_methods)
{
    /* p proportional to ||g_i|| minimises the exact variance over all
     * single-stage distributions (Cauchy-Schwarz), so on the same pool
     * no method's exact figure may be lower. */
    Fixture f;
    fixture_make(&f, 200, 4, 8);
    const char *names[] = {"uniform", "loss", "upper-bound", "gnorm"};
    double exact[4];
    for (int i = 0; i < 4; i++) {
        const IsbSamplerType *t;
        IsbError err;
        cr_assert_eq(registry_find(names[i], &t, &err), 0, "%s", err.msg);
        void *st = method_init(t, f.train.n, 8, f.rng);
        VarianceResult r;
        cr_assert_eq(variance_probe_method(f.vp, t, st, f.rng, &r, &err),
                     0, "%s", err.msg);
        exact[i] = r.exact;
        cr_assert(isfinite(r.exact), "%s: no exact figure", names[i]);
        t->fini(st);
    }
    for (int i = 0; i < 3; i++) {
        cr_assert_leq(exact[3], exact[i] * (1 + 1e-9),
                      "gnorm %g above %s %g", exact[3], names[i], exact[i]);
    }
    cr_assert_lt(exact[3], exact[0], "gnorm not below uniform");
    fixture_free(&f);
}

Test(variance, checkpoints_are_log_spaced_distinct_and_end_at_total)
{
    long s[32], n;
    variance_checkpoints(1000, 15, s, &n);
    cr_assert_eq(s[0], 1);
    cr_assert_eq(s[n - 1], 1000);
    cr_assert_gt(n, 10);
    for (long i = 1; i < n; i++) {
        cr_assert_gt(s[i], s[i - 1]);
    }
    variance_checkpoints(3, 15, s, &n);
    cr_assert_eq(n, 3);
}

/* ---- probes in an ordinary run ------------------------------------------ */

static void run_with_probes(int probes, const char *out)
{
    Config cfg;
    IsbError err;
    config_defaults(&cfg);
    strcpy(cfg.name, "t");
    const char *sets[] = {"synthetic.n_train=400", "synthetic.n_test=100",
                          "training.batch=16", "training.epochs=1",
                          "evaluation.every=5", "probes.pool=64",
                          "probes.draws=4"};
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
        cr_assert_eq(config_set(&cfg, sets[i], &err), 0, "%s", err.msg);
    }
    cfg.probe_variance = probes;
    const IsbSamplerType *t;
    double params[REGISTRY_MAX_PARAMS];
    cr_assert_eq(registry_find("uniform", &t, &err), 0);
    registry_resolve_params(t, &cfg, params, &err);
    RunOptions opt = {.cfg = &cfg, .method = t, .method_params = params,
                      .seed = 4, .out_dir = out};
    RunSummary sum;
    cr_assert_eq(runner_run(&opt, &sum, &err), 0, "%s", err.msg);
}

/* Column col of every data row of path, as text joined by '|'. */
static void column_text(const char *path, int col, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char line[4096];
    size_t used = 0;
    out[0] = '\0';
    cr_assert_not_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f) != NULL) {
        char *tok = strtok(line, ",\n");
        for (int c = 0; c < col && tok != NULL; c++) {
            tok = strtok(NULL, ",\n");
        }
        cr_assert_not_null(tok);
        used += (size_t)snprintf(out + used, len - used, "%s|", tok);
    }
    fclose(f);
}

Test(variance, probes_leave_the_trajectory_unchanged)
{
    char a[128], b[128], pa[160], pb[160];
    static char ta[65536], tb[65536];
    snprintf(a, sizeof a, "/tmp/isb_var_%d_off", (int)getpid());
    snprintf(b, sizeof b, "/tmp/isb_var_%d_on", (int)getpid());
    run_with_probes(0, a);
    run_with_probes(1, b);
    /* steps.csv batch_loss (column 3), evals.csv train_loss (11) */
    snprintf(pa, sizeof pa, "%s/steps.csv", a);
    snprintf(pb, sizeof pb, "%s/steps.csv", b);
    column_text(pa, 3, ta, sizeof ta);
    column_text(pb, 3, tb, sizeof tb);
    cr_assert_str_eq(ta, tb);
    snprintf(pa, sizeof pa, "%s/evals.csv", a);
    snprintf(pb, sizeof pb, "%s/evals.csv", b);
    column_text(pa, 11, ta, sizeof ta);
    column_text(pb, 11, tb, sizeof tb);
    cr_assert_str_eq(ta, tb);
    /* and the probe did measure: grad_variance_ratio (column 20) is a
     * number near 1 for uniform (exact / exact), not nan */
    column_text(pb, 20, tb, sizeof tb);
    cr_assert(strstr(tb, "nan") == NULL, "%s", tb);
    column_text(pa, 20, ta, sizeof ta);
    cr_assert(strstr(ta, "nan") != NULL, "%s", ta);
}
