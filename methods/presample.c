/*
 * presample.c - candidate presampling, weighted draws, tau and the
 * Algorithm 1 engine (see presample.h; ALGORITHMS.md, upper-bound).
 *
 * The engine's draw reads tau but never writes it; observe is the only
 * place tau moves. Scratch arrays are sized for B at init and grow only
 * in pool mode (a measurement, never a training step).
 */
#include "presample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct Presample {
    PresampleSpec spec;
    size_t n, b, B;
    double tau, tau_th;
    PresampleScratch x;
};

void presample_candidates(size_t n, size_t B, gsl_rng *rng, size_t *cand)
{
    for (size_t i = 0; i < B; i++) {
        cand[i] = gsl_rng_uniform_int(rng, n);
    }
}

int presample_scores(PresampleScore kind, const IsbScores *sc, double *s)
{
    const float *src = kind == PRESAMPLE_UPPER_BOUND ? sc->score
                       : kind == PRESAMPLE_LOSS      ? sc->loss
                                                     : sc->gnorm;
    if (src == NULL) {
        return -1;
    }
    for (size_t i = 0; i < sc->m; i++) {
        double v = src[i];
        if (!(v >= 0) || !isfinite(v)) {
            return -1;
        }
        s[i] = kind == PRESAMPLE_LOSS ? v + PRESAMPLE_LOSS_FLOOR : v;
    }
    return 0;
}

static double sum_of(const double *s, size_t m)
{
    double sum = 0;
    for (size_t i = 0; i < m; i++) {
        sum += s[i];
    }
    return sum;
}

void presample_probs(const double *s, size_t m, double *p)
{
    double sum = sum_of(s, m);
    for (size_t i = 0; i < m; i++) {
        p[i] = sum > 0 ? s[i] / sum : 1.0 / (double)m;
    }
}

void presample_draw(const double *s, size_t m, size_t b, gsl_rng *rng,
                    double *cum, size_t *row, float *weight)
{
    /* 1. running sums; with a zero total every candidate counts 1 */
    double total = sum_of(s, m);
    int flat = !(total > 0);
    double acc = 0;
    for (size_t i = 0; i < m; i++) {
        acc += flat ? 1.0 : s[i];
        cum[i] = acc;
    }

    /* 2. each draw: the first i with cum[i] > u, by bisection; a row
     * with s_i = 0 has cum[i] = cum[i-1] and is never chosen */
    for (size_t j = 0; j < b; j++) {
        double u = gsl_rng_uniform(rng) * acc;
        size_t lo = 0, hi = m - 1;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (cum[mid] > u) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        double p = flat ? 1.0 / (double)m : s[lo] / acc;
        row[j] = lo;
        weight[j] = (float)(1.0 / ((double)m * p));
    }
}

double presample_tau_new(const double *s, size_t m)
{
    double sum = sum_of(s, m);
    if (!(sum > 0)) {
        return 1.0;
    }
    double sq = 0;
    for (size_t i = 0; i < m; i++) {
        double g = s[i] / sum;
        sq += g * g;
    }
    return sqrt((double)m * sq);
}

double presample_tau_ema(double tau, double tau_new, double smoothing)
{
    return smoothing * tau + (1 - smoothing) * tau_new;
}

double presample_tau_threshold(size_t B, size_t b)
{
    return (double)(B + 3 * b) / (double)(3 * b);
}

/* ---- the Algorithm 1 engine -------------------------------------------- */

int presample_scratch_grow(PresampleScratch *sc, size_t m)
{
    if (m <= sc->cap) {
        return 0;
    }
    size_t *cand = realloc(sc->cand, m * sizeof *cand);
    if (cand == NULL) {
        return -1;
    }
    sc->cand = cand;
    double *s = realloc(sc->s, m * sizeof *s);
    if (s == NULL) {
        return -1;
    }
    sc->s = s;
    double *cum = realloc(sc->cum, m * sizeof *cum);
    if (cum == NULL) {
        return -1;
    }
    sc->cum = cum;
    sc->cap = m;
    return 0;
}

void presample_scratch_free(PresampleScratch *sc)
{
    free(sc->cand);
    free(sc->s);
    free(sc->cum);
    *sc = (PresampleScratch){0, NULL, NULL, NULL};
}

int presample_init(Presample **out, const IsbHost *host,
                   const PresampleSpec *spec, char *err, size_t errlen)
{
    if (host->n == 0 || host->b == 0) {
        snprintf(err, errlen, "%s: %zu examples, batch %zu (expected "
                 "both > 0)", spec->name, host->n, host->b);
        return -1;
    }
    double B = floor(spec->factor * (double)host->b + 0.5);
    if (!(B >= 1)) {
        snprintf(err, errlen, "%s: presample factor %g gives no "
                 "candidates (expected factor * batch >= 1)", spec->name,
                 spec->factor);
        return -1;
    }
    if (B > (double)host->max_score) {
        snprintf(err, errlen, "%s: presample factor %g needs %.0f "
                 "candidates, more than the %zu one scoring pass takes\n"
                 "hint: raise training.max_presample to at least %.0f",
                 spec->name, spec->factor, B, host->max_score,
                 ceil(B / (double)host->b));
        return -1;
    }
    Presample *ps = calloc(1, sizeof *ps);
    if (ps == NULL || presample_scratch_grow(&ps->x, (size_t)B) != 0) {
        presample_free(ps);
        snprintf(err, errlen, "%s: out of memory", spec->name);
        return -1;
    }
    ps->spec = *spec;
    ps->n = host->n;
    ps->b = host->b;
    ps->B = (size_t)B;
    ps->tau = 0;
    ps->tau_th = spec->tau_th < 0 ? presample_tau_threshold(ps->B, ps->b)
                                  : spec->tau_th;
    *out = ps;
    return 0;
}

/* Importance sampling is on for the next draw: tau > tau_th (Algorithm
 * 1); tau_th = 0 asks for it from the first step, when tau is still 0. */
static int is_active(const Presample *ps)
{
    return ps->spec.always_on || ps->tau_th == 0 || ps->tau > ps->tau_th;
}

static int draw_from(Presample *ps, const IsbScores *sc, size_t b,
                     gsl_rng *rng, IsbBatch *out)
{
    if (presample_scratch_grow(&ps->x, sc->m) != 0 ||
        presample_scores(ps->spec.kind, sc, ps->x.s) != 0) {
        return -1;
    }
    presample_draw(ps->x.s, sc->m, b, rng, ps->x.cum, out->row,
                   out->weight);
    for (size_t j = 0; j < b; j++) {
        out->idx[j] = sc->idx[out->row[j]];
    }
    out->from_scored = 1;
    return 0;
}

int presample_method_draw(Presample *ps, const IsbHost *host, gsl_rng *rng,
                          IsbBatch *out)
{
    size_t b = host->b;
    if (host->pool != NULL) {
        return host->pool->m == 0 ? -1 : draw_from(ps, host->pool, b, rng,
                                                   out);
    }
    if (!is_active(ps)) {
        for (size_t j = 0; j < b; j++) {
            out->idx[j] = gsl_rng_uniform_int(rng, ps->n);
            out->weight[j] = 1.0f;
        }
        out->from_scored = 0;
        return 0;
    }
    IsbScores sc;
    presample_candidates(ps->n, ps->B, rng, ps->x.cand);
    int want_gnorm = ps->spec.kind == PRESAMPLE_GNORM;
    if (host->score(host->ctx, ps->x.cand, ps->B, want_gnorm, &sc) != 0) {
        return -1;
    }
    return draw_from(ps, &sc, b, rng, out);
}

int presample_method_observe(Presample *ps, const IsbFeedback *fb)
{
    /* The candidates scored this step when importance sampling was on,
     * else the b training rows (ALGORITHMS.md, upper-bound). */
    IsbScores own = {fb->b, fb->idx, fb->loss, fb->score, fb->gnorm};
    const IsbScores *sc = fb->scored != NULL ? fb->scored : &own;
    if (sc->m == 0 || presample_scratch_grow(&ps->x, sc->m) != 0) {
        return -1;
    }
    if (presample_scores(ps->spec.kind, sc, ps->x.s) != 0) {
        /* gnorm of training rows is absent when the oracle was not
         * asked for it: keep tau as it is. */
        return ps->spec.kind == PRESAMPLE_GNORM ? 0 : -1;
    }
    double tau_new = presample_tau_new(ps->x.s, sc->m);
    ps->tau = presample_tau_ema(ps->tau, tau_new, ps->spec.smoothing);
    return 0;
}

void presample_method_report(const Presample *ps, IsbReport *out)
{
    out->tau = ps->tau;
    out->is_active = is_active(ps);
}

int presample_method_probs(const Presample *ps, const IsbScores *pool,
                           double *p)
{
    if (pool->m == 0 || presample_scores(ps->spec.kind, pool, p) != 0) {
        return -1;
    }
    presample_probs(p, pool->m, p);
    return 0;
}

void presample_free(Presample *ps)
{
    if (ps != NULL) {
        presample_scratch_free(&ps->x);
        free(ps);
    }
}

/* ---- descriptor adapters ------------------------------------------------ */

/* The parameters of loss and upper-bound, in this order. */
const IsbParam presample_alg1_params[PRESAMPLE_ALG1_NPARAMS] = {
    {"presample", ISB_PARAM_REAL, 3, 1, 1000,
     "candidates per step, as a factor of the batch (B = factor * b)"},
    {"tau_th", ISB_PARAM_REAL, -1, -1, 1e9,
     "switch threshold; -1: (B + 3b) / (3b), 0: always on"},
    {"tau_smoothing", ISB_PARAM_REAL, 0.9, 0, 1,
     "tau = s tau + (1 - s) tau_new after every step"},
};

int presample_alg1_init(void **state, const IsbHost *host,
                        const double *params, const char *name,
                        PresampleScore kind, char *err, size_t errlen)
{
    if (params[1] < 0 && params[1] != -1) {
        snprintf(err, errlen, "%s: tau_th %g (expected -1 for the "
                 "formula, or >= 0)", name, params[1]);
        return -1;
    }
    PresampleSpec spec = {name, kind, params[0], params[1], params[2], 0};
    Presample *ps;
    int rc = presample_init(&ps, host, &spec, err, errlen);
    if (rc == 0) {
        *state = ps;
    }
    return rc;
}

int presample_alg1_draw(void *state, const IsbHost *host, gsl_rng *rng,
                        IsbBatch *out)
{
    return presample_method_draw(state, host, rng, out);
}

int presample_alg1_observe(void *state, const IsbFeedback *fb,
                           gsl_rng *rng)
{
    (void)rng;
    return presample_method_observe(state, fb);
}

void presample_alg1_report(const void *state, IsbReport *out)
{
    presample_method_report(state, out);
}

int presample_alg1_probs(const void *state, const IsbHost *host,
                         const IsbScores *pool, double *p)
{
    (void)host;
    return presample_method_probs(state, pool, p);
}

void presample_alg1_fini(void *state)
{
    presample_free(state);
}
