/*
 * test_contract.c - the contract every registered method meets (built-ins
 * and every plugin built into the build folder), with no per-method code:
 * valid batches, determinism in the generator, a draw that leaves the
 * state unchanged, observe cycles, pool mode, probabilities that sum to
 * one, and rejection of bad parameters with a message.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/config.h"
#include "harness/registry.h"

/* Fake host: N examples, batch b, at most MAX_SCORE scored per call. */
#define N 200
#define B 8
#define MAX_SCORE (10 * B)
#define POOL 40
#define STEPS (3 * N / B)  /* three epochs of observe cycles */

typedef struct MethodName {
    char name[64];
} MethodName;

typedef struct Fake {
    int calls;                  /* score calls since reset */
    size_t m;                   /* size of the last scored set */
    size_t idx[MAX_SCORE];
    float loss[MAX_SCORE], score[MAX_SCORE], gnorm[MAX_SCORE];
} Fake;

/* Deterministic per-example values in their valid ranges: loss > 0,
 * score in (0, sqrt 2], gnorm > 0. */
static float fake_loss(size_t i)
{
    return 0.05f + 2.0f * (float)((i * 37) % 101) / 101.0f;
}

static float fake_score(size_t i)
{
    return 1.41421356f * (float)((i * 53) % 97 + 1) / 98.0f;
}

static float fake_gnorm(size_t i)
{
    return fake_score(i) * (1.0f + (float)(i % 7) / 7.0f);
}

static int fake_score_fn(void *ctx, const size_t *idx, size_t m,
                         int want_gnorm, IsbScores *out)
{
    Fake *f = ctx;
    cr_assert(m >= 1 && m <= MAX_SCORE, "score asked for %zu (max %d)", m,
              MAX_SCORE);
    f->calls++;
    f->m = m;
    for (size_t r = 0; r < m; r++) {
        cr_assert_lt(idx[r], (size_t)N, "scored index %zu", idx[r]);
        f->idx[r] = idx[r];
        f->loss[r] = fake_loss(idx[r]);
        f->score[r] = fake_score(idx[r]);
        f->gnorm[r] = fake_gnorm(idx[r]);
    }
    *out = (IsbScores){m, f->idx, f->loss, f->score,
                       want_gnorm ? f->gnorm : NULL};
    return 0;
}

/* Register every plugin in the build folder (idempotent). */
static void load_plugins(void)
{
    glob_t g;
    if (glob(ISB_BUILD_DIR "/*.so", 0, NULL, &g) != 0) {
        return;
    }
    for (size_t k = 0; k < g.gl_pathc; k++) {
        IsbError err;
        cr_assert_eq(registry_load_plugin(g.gl_pathv[k], NULL, &err), 0,
                     "%s", err.msg);
    }
    globfree(&g);
}

static MethodName *all_methods(size_t *n)
{
    static MethodName names[64];
    load_plugins();
    *n = registry_count();
    cr_assert_leq(*n, 64);
    for (size_t i = 0; i < *n; i++) {
        snprintf(names[i].name, sizeof names[i].name, "%s",
                 registry_at(i)->name);
    }
    return names;
}

#define FOR_EVERY_METHOD(test)                                            \
    ParameterizedTestParameters(contract, test)                           \
    {                                                                     \
        size_t n;                                                         \
        MethodName *names = all_methods(&n);                              \
        return cr_make_param_array(MethodName, names, n);                 \
    }                                                                     \
    ParameterizedTest(MethodName *mn, contract, test)

/* One method set up against the fake host. */
typedef struct Ctx {
    const IsbSamplerType *t;
    void *state;
    Fake fake;
    IsbHost host;
    double params[REGISTRY_MAX_PARAMS];
    size_t idx[B], row[B];
    float weight[B];
} Ctx;

static void ctx_open(Ctx *c, const char *name)
{
    static Config cfg;
    IsbError err;
    memset(c, 0, sizeof *c);
    load_plugins();
    cr_assert_eq(registry_find(name, &c->t, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_check_type(c->t, name, &err), 0, "%s", err.msg);
    config_defaults(&cfg);
    cr_assert_eq(registry_resolve_params(c->t, &cfg, c->params, &err), 0,
                 "%s", err.msg);
    c->host = (IsbHost){N, B, 4, MAX_SCORE, &c->fake, fake_score_fn,
                        NULL};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    char msg[256] = "";
    int rc = c->t->init(&c->state, &c->host, c->params, rng, msg,
                        sizeof msg);
    cr_assert_eq(rc, 0, "%s: init failed: %s", name, msg);
    gsl_rng_free(rng);
}

static void ctx_close(Ctx *c)
{
    c->t->fini(c->state);
}

/* Draw into c's arrays and check the batch; returns from_scored. */
static int draw_checked(Ctx *c, gsl_rng *rng)
{
    IsbBatch batch = {B, c->idx, c->weight, c->row, 0};
    c->fake.calls = 0;
    cr_assert_eq(c->t->draw(c->state, &c->host, rng, &batch), 0,
                 "%s: draw failed", c->t->name);
    for (size_t j = 0; j < B; j++) {
        cr_assert_lt(c->idx[j], (size_t)N, "%s: index %zu", c->t->name,
                     c->idx[j]);
        cr_assert(isfinite(c->weight[j]) && c->weight[j] > 0,
                  "%s: weight %g", c->t->name, (double)c->weight[j]);
    }
    if (batch.from_scored) {
        const IsbScores *pool = c->host.pool;
        size_t m = pool != NULL ? pool->m : c->fake.m;
        const size_t *set = pool != NULL ? pool->idx : c->fake.idx;
        cr_assert(pool != NULL || c->fake.calls > 0, "%s: from_scored "
                  "without a score call in this draw", c->t->name);
        for (size_t j = 0; j < B; j++) {
            cr_assert_lt(c->row[j], m, "%s: row %zu", c->t->name,
                         c->row[j]);
            cr_assert_eq(set[c->row[j]], c->idx[j], "%s: row %zu is "
                         "index %zu, batch says %zu", c->t->name,
                         c->row[j], set[c->row[j]], c->idx[j]);
        }
    }
    return batch.from_scored;
}

/* Feedback for the batch in c, as the harness would give it. */
static void observe_batch(Ctx *c, int scored, long step, gsl_rng *rng)
{
    float loss[B], score[B], gnorm[B];
    for (size_t j = 0; j < B; j++) {
        loss[j] = fake_loss(c->idx[j]);
        score[j] = fake_score(c->idx[j]);
        gnorm[j] = fake_gnorm(c->idx[j]);
    }
    IsbScores sc = {c->fake.m, c->fake.idx, c->fake.loss, c->fake.score,
                    c->fake.gnorm};
    int want = (c->t->flags & ISB_SAMPLER_NEEDS_GNORM) != 0;
    IsbFeedback fb = {B, c->idx, c->weight, loss, score,
                      want ? gnorm : NULL, scored ? &sc : NULL, step};
    cr_assert_eq(c->t->observe(c->state, &fb, rng), 0,
                 "%s: observe failed at step %ld", c->t->name, step);
}

/* Train-like loop: draw, observe, `steps` times. */
static void run_steps(Ctx *c, int steps, gsl_rng *rng)
{
    for (int s = 0; s < steps; s++) {
        draw_checked(c, rng);  /* resets and counts c->fake.calls */
        observe_batch(c, c->fake.calls > 0, s, rng);
    }
}

typedef struct Drawn {
    size_t idx[B], row[B];
    float weight[B];
    int from_scored;
} Drawn;

static Drawn draw_copy(Ctx *c, gsl_rng *rng)
{
    Drawn d;
    d.from_scored = draw_checked(c, rng);
    memcpy(d.idx, c->idx, sizeof d.idx);
    memcpy(d.row, c->row, sizeof d.row);
    memcpy(d.weight, c->weight, sizeof d.weight);
    return d;
}

static void assert_same(const Drawn *a, const Drawn *b, const char *name,
                        const char *what)
{
    cr_assert_eq(a->from_scored, b->from_scored, "%s: %s", name, what);
    for (size_t j = 0; j < B; j++) {
        cr_assert_eq(a->idx[j], b->idx[j], "%s: %s: idx[%zu]", name, what,
                     j);
        cr_assert_eq(a->weight[j], b->weight[j], "%s: %s: weight[%zu]",
                     name, what, j);
        if (a->from_scored) {
            cr_assert_eq(a->row[j], b->row[j], "%s: %s: row[%zu]", name,
                         what, j);
        }
    }
}

static gsl_rng *seeded(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

FOR_EVERY_METHOD(draws_valid_indices_and_positive_weights)
{
    Ctx c;
    ctx_open(&c, mn->name);
    gsl_rng *rng = seeded(1);
    for (int k = 0; k < 20; k++) {
        draw_checked(&c, rng);
    }
    gsl_rng_free(rng);
    ctx_close(&c);
}

FOR_EVERY_METHOD(same_generator_state_gives_same_draw)
{
    Ctx c;
    ctx_open(&c, mn->name);
    gsl_rng *obs = seeded(5);
    run_steps(&c, 7, obs);  /* a state that is not the initial one */
    gsl_rng *a = seeded(42), *a2 = gsl_rng_clone(a);
    Drawn d1 = draw_copy(&c, a), d2 = draw_copy(&c, a2);
    assert_same(&d1, &d2, mn->name, "same rng state");
    gsl_rng_free(a);
    gsl_rng_free(a2);
    gsl_rng_free(obs);
    ctx_close(&c);
}

FOR_EVERY_METHOD(draw_leaves_state_unchanged)
{
    Ctx c;
    ctx_open(&c, mn->name);
    gsl_rng *obs = seeded(6);
    run_steps(&c, 11, obs);

    /* Draw, then draw again with an identically seeded generator. */
    gsl_rng *a = seeded(7), *a2 = seeded(7);
    Drawn d1 = draw_copy(&c, a), d2 = draw_copy(&c, a2);
    assert_same(&d1, &d2, mn->name, "draw then redraw");

    /* Interleave: draws with A before B must not change B's draw. */
    gsl_rng *b = seeded(8), *b_fresh = seeded(8);
    for (int k = 0; k < 3; k++) {
        draw_copy(&c, a);
    }
    Drawn db = draw_copy(&c, b), dfresh = draw_copy(&c, b_fresh);
    assert_same(&db, &dfresh, mn->name, "draw with A, then with B");
    gsl_rng_free(a);
    gsl_rng_free(a2);
    gsl_rng_free(b);
    gsl_rng_free(b_fresh);
    gsl_rng_free(obs);
    ctx_close(&c);
}

FOR_EVERY_METHOD(observe_cycles_keep_working)
{
    Ctx c;
    ctx_open(&c, mn->name);
    gsl_rng *rng = seeded(9);
    run_steps(&c, STEPS, rng);
    if (c.t->report != NULL) {
        IsbReport rep = {0, 0};
        c.t->report(c.state, &rep);
        cr_assert(isnan(rep.tau) || (isfinite(rep.tau) && rep.tau >= 0),
                  "%s: tau %g", mn->name, rep.tau);
        cr_assert(rep.is_active >= -1 && rep.is_active <= 1,
                  "%s: is_active %d", mn->name, rep.is_active);
    }
    gsl_rng_free(rng);
    ctx_close(&c);
}

/* A scored pool of POOL rows with one repeated index. */
typedef struct Pool {
    size_t idx[POOL];
    float loss[POOL], score[POOL], gnorm[POOL];
    IsbScores sc;
} Pool;

static void pool_make(Pool *p)
{
    for (size_t r = 0; r < POOL; r++) {
        p->idx[r] = r == POOL - 1 ? p->idx[0] : (r * 7 + 3) % N;
        p->loss[r] = fake_loss(p->idx[r]);
        p->score[r] = fake_score(p->idx[r]);
        p->gnorm[r] = fake_gnorm(p->idx[r]);
    }
    p->sc = (IsbScores){POOL, p->idx, p->loss, p->score, p->gnorm};
}

FOR_EVERY_METHOD(pool_mode_draws_from_the_pool)
{
    Ctx c;
    ctx_open(&c, mn->name);
    gsl_rng *rng = seeded(10);
    run_steps(&c, 13, rng);
    Pool p;
    pool_make(&p);
    c.host.pool = &p.sc;
    for (int k = 0; k < 10; k++) {
        int fs = draw_checked(&c, rng);
        cr_assert_eq(fs, 1, "%s: pool draw not from_scored", mn->name);
        cr_assert_eq(c.fake.calls, 0, "%s: pool draw scored candidates",
                     mn->name);
    }
    if (c.t->probs != NULL) {
        double prob[POOL], sum = 0;
        cr_assert_eq(c.t->probs(c.state, &c.host, &p.sc, prob), 0);
        for (size_t r = 0; r < POOL; r++) {
            cr_assert(isfinite(prob[r]) && prob[r] > 0, "%s: p[%zu] = %g",
                      mn->name, r, prob[r]);
            sum += prob[r];
        }
        cr_assert_float_eq(sum, 1.0, 1e-9, "%s: probs sum to %.12g",
                           mn->name, sum);
    }
    gsl_rng_free(rng);
    ctx_close(&c);
}

/* A value just outside [min, max] on the given side, or NAN when that
 * bound is not finite. */
static double outside(const IsbParam *p, int above)
{
    double bound = above ? p->max : p->min;
    if (!isfinite(bound) || fabs(bound) > 1e15) {
        return NAN;
    }
    double step = p->type == ISB_PARAM_REAL
                      ? fmax(1e-6, 1e-3 * fabs(bound)) : 1;
    return above ? bound + step : bound - step;
}

FOR_EVERY_METHOD(bad_parameters_are_rejected_with_a_message)
{
    Ctx c;
    ctx_open(&c, mn->name);
    static Config cfg;
    for (size_t k = 0; k < c.t->n_params; k++) {
        const IsbParam *p = &c.t->params[k];
        for (int above = 0; above <= 1; above++) {
            double v = outside(p, above);
            if (isnan(v)) {
                continue;
            }
            char set[256];
            IsbError err;
            double values[REGISTRY_MAX_PARAMS];
            config_defaults(&cfg);
            snprintf(set, sizeof set, "method.%s.%s=%.17g", mn->name,
                     p->name, v);
            cr_assert_eq(config_set(&cfg, set, &err), 0, "%s", err.msg);
            err.msg[0] = '\0';
            cr_assert_lt(registry_resolve_params(c.t, &cfg, values, &err),
                         0, "%s accepted", set);
            cr_assert(strstr(err.msg, p->name) != NULL, "%s: message "
                      "'%s' does not name the parameter", set, err.msg);

            /* init validates too: the same value passed directly. */
            memcpy(values, c.params, sizeof values);
            values[k] = v;
            char msg[256] = "";
            void *st = NULL;
            gsl_rng *rng = seeded(1);
            int rc = c.t->init(&st, &c.host, values, rng, msg, sizeof msg);
            gsl_rng_free(rng);
            if (rc == 0) {
                c.t->fini(st);
            }
            cr_assert_lt(rc, 0, "%s: init accepted %s = %g", mn->name,
                         p->name, v);
            cr_assert_neq(msg[0], '\0', "%s: init failed without a "
                          "message", mn->name);
        }
    }
    ctx_close(&c);
}

FOR_EVERY_METHOD(init_failure_returns_negative_with_message)
{
    Ctx c;
    ctx_open(&c, mn->name);
    IsbHost empty = c.host;
    empty.n = 0;  /* nothing to sample from */
    char msg[256] = "";
    void *st = NULL;
    gsl_rng *rng = seeded(1);
    int rc = c.t->init(&st, &empty, c.params, rng, msg, sizeof msg);
    gsl_rng_free(rng);
    if (rc == 0) {
        c.t->fini(st);
    }
    cr_assert_lt(rc, 0, "%s: init accepted N = 0", mn->name);
    cr_assert_neq(msg[0], '\0', "%s: init failed without a message",
                  mn->name);
    ctx_close(&c);
}

Test(contract, example_plugin_is_covered)
{
    size_t n;
    all_methods(&n);
    const IsbSamplerType *t;
    IsbError err;
    cr_assert_eq(registry_find("topk-loss", &t, &err), 0,
                 "the example plugin is not registered: %s", err.msg);
}
