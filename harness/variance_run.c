/*
 * variance_run.c - `isbench variance`: gradient variance of several
 * methods measured along one reference trajectory (see variance.h).
 *
 * This is the measurement behind the paper's variance figure (Katharopoulos
 * & Fleuret 2018, fig. 2): every method is measured on the same pool at
 * the same parameters, so their ratios to uniform compare distributions,
 * not trajectories.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "results.h"
#include "rng.h"
#include "variance.h"

#define MAX_CHECKPOINTS 256

typedef struct VarCtx {
    const VarianceRunOptions *opt;
    VarianceProbe *probe;
    void *state[VARIANCE_MAX_METHODS];
    gsl_rng *rng_shadow[VARIANCE_MAX_METHODS];
    gsl_rng *rng_mc[VARIANCE_MAX_METHODS];
    gsl_rng *rng_pool;
    IsbHost host;
    long checkpoints[MAX_CHECKPOINTS];
    long n_checkpoints, next;
    CsvWriter csv;
    int started;
} VarCtx;

static const char *const columns[] = {
    "step", "epoch", "method", "variance_exact", "variance_mc",
    "variance_mc_stderr", "variance_uniform", "ratio_to_uniform",
    "pool_size", "b", "K", "bias_distance", "restricted_to_pool",
    "pool_seconds", "method_seconds"};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void variance_checkpoints(long total, long max, long *steps, long *n)
{
    *n = 0;
    if (total < 1 || max < 1) {
        return;
    }
    for (long k = 0; k < max; k++) {
        double f = max == 1 ? 1.0 : (double)k / (double)(max - 1);
        long s = lround(exp(f * log((double)total)));
        s = s < 1 ? 1 : s > total ? total : s;
        if (*n == 0 || s > steps[*n - 1]) {
            steps[(*n)++] = s;
        }
    }
}

/* First call: the probe, the method instances, their generators, the
 * checkpoints and the CSV. */
static int start(VarCtx *c, const RunView *v, IsbError *err)
{
    const VarianceRunOptions *o = c->opt;
    const Config *cfg = o->cfg;
    size_t b = (size_t)cfg->batch, n = v->train->n;
    int rc = variance_probe_create(v->net, v->train, b,
                                   (size_t)cfg->probe_pool,
                                   (size_t)cfg->probe_draws, &c->probe,
                                   err);
    if (rc != 0) {
        return rc;
    }
    /* Shadow instances never score (they draw only in pool mode), but
     * init checks its presample against the run's scoring limit. */
    c->host = (IsbHost){n, b, v->train->n_classes,
                        b * (size_t)cfg->max_presample, NULL,
                        variance_no_score, NULL};
    c->rng_pool = rng_stream(o->seed, "probe");
    for (size_t i = 0; i < o->n_methods; i++) {
        const IsbSamplerType *t = o->methods[i].type;
        char name[128], msg[512] = "";
        snprintf(name, sizeof name, "variance/%s", t->name);
        c->rng_shadow[i] = rng_stream(o->seed, name);
        snprintf(name, sizeof name, "variance-mc/%s", t->name);
        c->rng_mc[i] = rng_stream(o->seed, name);
        if (t->init(&c->state[i], &c->host, o->methods[i].params,
                    c->rng_shadow[i], msg, sizeof msg) != 0) {
            c->state[i] = NULL;
            return isb_fail(err, ISB_ECONFIG, "method %s: %s", t->name,
                            msg[0] ? msg : "init failed");
        }
    }
    long total = cfg->steps > 0
        ? cfg->steps : (long)ceil(cfg->epochs * (double)n / (double)b);
    long max = cfg->var_checkpoints < MAX_CHECKPOINTS
        ? cfg->var_checkpoints : MAX_CHECKPOINTS;
    variance_checkpoints(total, max, c->checkpoints, &c->n_checkpoints);
    char path[4200];
    snprintf(path, sizeof path, "%s/variance.csv", o->out_dir);
    c->started = 1;
    return csv_open(&c->csv, path, columns,
                    sizeof columns / sizeof *columns, err);
}

/* Let every measured method observe the reference's step. */
static int shadow(VarCtx *c, const RunView *v, IsbError *err)
{
    IsbFeedback fb = *v->last;
    fb.scored = NULL;
    fb.gnorm = NULL;
    for (size_t i = 0; i < c->opt->n_methods; i++) {
        const IsbSamplerType *t = c->opt->methods[i].type;
        if (t->observe(c->state[i], &fb, c->rng_shadow[i]) != 0) {
            return isb_fail(err, ISB_EPLUGIN, "method %s: observe failed "
                            "while shadowing step %ld", t->name, v->step);
        }
    }
    return 0;
}

static void write_row(VarCtx *c, const RunView *v, const char *method,
                      const VarianceResult *r, double pool_s, double m_s)
{
    const Config *cfg = c->opt->cfg;
    double best = isnan(r->exact) ? r->mc : r->exact;
    CsvWriter *w = &c->csv;
    csv_put_int(w, v->step);
    csv_put_num(w, v->epoch);
    csv_put_str(w, method);
    csv_put_num(w, r->exact);
    csv_put_num(w, r->mc);
    csv_put_num(w, r->mc_stderr);
    csv_put_num(w, r->uniform);
    csv_put_num(w, best / r->uniform);
    csv_put_int(w, (long long)variance_probe_pool_size(c->probe));
    csv_put_int(w, cfg->batch);
    csv_put_int(w, cfg->probe_draws);
    csv_put_num(w, r->bias);
    csv_put_int(w, r->restricted);
    csv_put_num(w, pool_s);
    csv_put_num(w, m_s);
    csv_end_row(w);
}

static int measure(VarCtx *c, const RunView *v, IsbError *err)
{
    double t0 = now_seconds();
    int rc = variance_probe_pool(c->probe, c->rng_pool, err);
    double pool_s = now_seconds() - t0;
    for (size_t i = 0; rc == 0 && i < c->opt->n_methods; i++) {
        VarianceResult r;
        double t1 = now_seconds();
        rc = variance_probe_method(c->probe, c->opt->methods[i].type,
                                   c->state[i], c->rng_mc[i], &r, err);
        if (rc == 0) {
            write_row(c, v, c->opt->methods[i].type->name, &r, pool_s,
                      now_seconds() - t1);
        }
    }
    fflush(c->csv.f);
    return rc;
}

static int on_step(void *ctx, const RunView *v, IsbError *err)
{
    VarCtx *c = ctx;
    int rc = c->started ? 0 : start(c, v, err);
    if (rc == 0) {
        rc = shadow(c, v, err);
    }
    if (rc == 0 && c->next < c->n_checkpoints &&
        v->step == c->checkpoints[c->next]) {
        c->next++;
        rc = measure(c, v, err);
    }
    return rc;
}

static void ctx_free(VarCtx *c)
{
    for (size_t i = 0; i < c->opt->n_methods; i++) {
        if (c->state[i] != NULL) {
            c->opt->methods[i].type->fini(c->state[i]);
        }
        gsl_rng_free(c->rng_shadow[i]);
        gsl_rng_free(c->rng_mc[i]);
    }
    gsl_rng_free(c->rng_pool);
    variance_probe_free(c->probe);
}

int variance_run(const VarianceRunOptions *o, RunSummary *summary,
                 IsbError *err)
{
    if (o->cfg->epochs <= 0 && o->cfg->steps <= 0) {
        return isb_fail(err, ISB_ECONFIG, "variance: training budget in "
                        "seconds (%g) (expected epochs or steps, so "
                        "checkpoints can be placed)", o->cfg->seconds);
    }
    if (o->n_methods == 0 || o->n_methods > VARIANCE_MAX_METHODS) {
        return isb_fail(err, ISB_EINVAL, "variance: %zu methods (expected "
                        "1 to %d)", o->n_methods, VARIANCE_MAX_METHODS);
    }
    char traj[4200];
    snprintf(traj, sizeof traj, "%s/trajectory", o->out_dir);
    VarCtx c;
    memset(&c, 0, sizeof c);
    c.opt = o;
    RunOptions ro = {.cfg = o->cfg, .method = o->reference.type,
                     .method_params = o->reference.params,
                     .seed = o->seed, .out_dir = traj, .stop = o->stop,
                     .progress = o->progress,
                     .progress_ctx = o->progress_ctx,
                     .observer = on_step, .observer_ctx = &c};
    int rc = runner_run(&ro, summary, err);
    IsbError close_err;
    int crc = csv_close(&c.csv, &close_err);
    if (rc == 0 && crc != 0) {
        *err = close_err;
        rc = crc;
    }
    ctx_free(&c);
    return rc;
}
