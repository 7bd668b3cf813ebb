/*
 * biased_is.c - biased importance sampling (Katharopoulos & Fleuret 2017,
 * "Biased Importance Sampling for Deep Neural Network Training", arXiv
 * 1706.00043; ALGORITHMS.md, biased-IS). Every step: score a pool of m
 * uniform candidates by the loss, draw b with p_i = s_i / sum(s) where
 * s_i = L_i + c, and give them w_hat_i = w_i^k rescaled so that
 * sum(w_hat s) = sum(w s) over the selected, with w_i = 1 / (m p_i).
 *
 * The reference code's BiasedImportanceTraining silently scores by the
 * gradient-norm upper bound; we score by the loss, as the paper does.
 * The pool is an absolute number of candidates (default 256, as in the
 * reference), not a factor of b. Always on: no tau switch.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "builtin.h"
#include "presample.h"

typedef struct BiasedIs {
    size_t n, b, m;
    double smooth, k;
    int adaptive;
    double mu;           /* EMA (0.9) of the batch mean loss, from 1 */
    PresampleScratch x;  /* [m] candidates, scores, running sums */
} BiasedIs;

static const IsbParam biased_params[] = {
    {"pool", ISB_PARAM_INT, 256, 1, 1e6,
     "candidates scored per step (an absolute count, not a factor)"},
    {"smooth", ISB_PARAM_REAL, 0, 0, 1e9,
     "additive smoothing c of the loss: s = L + c"},
    {"adaptive", ISB_PARAM_BOOL, 0, 0, 1,
     "1: c = smooth * mu, mu an average (0.9) of the batch loss"},
    {"k", ISB_PARAM_REAL, 0.5, -1e6, 1,
     "bias exponent: w^k, rescaled; 1 unbiased, 0 equal weights"},
};

static int biased_init(void **state, const IsbHost *host,
                       const double *params, gsl_rng *rng, char *err,
                       size_t errlen)
{
    (void)rng;
    if (isb_params_check(&isb_method_biased_is, params, err, errlen) != 0) {
        return -1;
    }
    size_t m = (size_t)params[0];
    if (host->n == 0 || host->b == 0) {
        snprintf(err, errlen, "biased-IS: %zu examples, batch %zu "
                 "(expected both > 0)", host->n, host->b);
        return -1;
    }
    if (m > host->max_score) {
        snprintf(err, errlen, "biased-IS: pool %zu larger than the %zu "
                 "candidates one scoring pass takes\nhint: lower "
                 "method.biased-IS.pool or raise training.max_presample "
                 "to at least %zu", m, host->max_score,
                 (m + host->b - 1) / host->b);
        return -1;
    }
    BiasedIs *bi = calloc(1, sizeof *bi);
    if (bi == NULL || presample_scratch_grow(&bi->x, m) != 0) {
        free(bi);
        snprintf(err, errlen, "biased-IS: out of memory");
        return -1;
    }
    bi->n = host->n;
    bi->b = host->b;
    bi->m = m;
    bi->smooth = params[1];
    bi->adaptive = params[2] != 0;
    bi->k = params[3];
    bi->mu = 1.0;
    *state = bi;
    return 0;
}

/* s_i = L_i + 1e-12 + c over the candidate set sc, into s. */
static int smoothed_scores(const BiasedIs *bi, const IsbScores *sc,
                           double *s)
{
    if (presample_scores(PRESAMPLE_LOSS, sc, s) != 0) {
        return -1;
    }
    double c = bi->adaptive ? bi->smooth * bi->mu : bi->smooth;
    for (size_t i = 0; i < sc->m; i++) {
        s[i] += c;
    }
    return 0;
}

/* w_hat_j = w_j^k scaled so sum(w_hat s) = sum(w s) over the b selected
 * rows (the 2017 paper's bias; k = 1 leaves w as it is). */
static void bias_weights(const double *s, size_t m, const size_t *row,
                         size_t b, double k, float *weight)
{
    double total = 0;
    for (size_t i = 0; i < m; i++) {
        total += s[i];
    }
    double ws = 0, whs = 0;
    for (size_t j = 0; j < b; j++) {
        double w = total / ((double)m * s[row[j]]);
        double wh = pow(w, k);
        ws += w * s[row[j]];
        whs += wh * s[row[j]];
        weight[j] = (float)wh;
    }
    for (size_t j = 0; j < b; j++) {
        weight[j] = (float)((double)weight[j] * (ws / whs));
    }
}

static int biased_draw(void *state, const IsbHost *host, gsl_rng *rng,
                       IsbBatch *out)
{
    BiasedIs *bi = state;
    IsbScores sc;
    if (host->pool != NULL) {
        sc = *host->pool;
    } else {
        presample_candidates(bi->n, bi->m, rng, bi->x.cand);
        if (host->score(host->ctx, bi->x.cand, bi->m, 0, &sc) != 0) {
            return -1;
        }
    }
    if (sc.m == 0 || presample_scratch_grow(&bi->x, sc.m) != 0 ||
        smoothed_scores(bi, &sc, bi->x.s) != 0) {
        return -1;
    }
    presample_draw(bi->x.s, sc.m, host->b, rng, bi->x.cum, out->row,
                   out->weight);
    bias_weights(bi->x.s, sc.m, out->row, host->b, bi->k, out->weight);
    for (size_t j = 0; j < host->b; j++) {
        out->idx[j] = sc.idx[out->row[j]];
    }
    out->from_scored = 1;
    return 0;
}

static int biased_observe(void *state, const IsbFeedback *fb, gsl_rng *rng)
{
    (void)rng;
    BiasedIs *bi = state;
    double mean = 0;
    for (size_t j = 0; j < fb->b; j++) {
        mean += fb->loss[j];
    }
    mean /= (double)fb->b;
    if (!isfinite(mean)) {
        return -1;
    }
    bi->mu = 0.9 * bi->mu + 0.1 * mean;
    return 0;
}

static void biased_report(const void *state, IsbReport *out)
{
    (void)state;
    out->tau = NAN;
    out->is_active = 1;
}

static int biased_probs(const void *state, const IsbHost *host,
                        const IsbScores *pool, double *p)
{
    (void)host;
    if (pool->m == 0 || smoothed_scores(state, pool, p) != 0) {
        return -1;
    }
    presample_probs(p, pool->m, p);
    return 0;
}

static void biased_fini(void *state)
{
    BiasedIs *bi = state;
    if (bi != NULL) {
        presample_scratch_free(&bi->x);
        free(bi);
    }
}

const IsbSamplerType isb_method_biased_is = {
    .abi_version = ISB_SAMPLER_ABI_VERSION,
    .name = "biased-IS",
    .summary = "biased importance sampling (2017): loss, smoothing, w^k",
    .params = biased_params,
    .n_params = sizeof biased_params / sizeof *biased_params,
    .flags = 0,
    .init = biased_init,
    .draw = biased_draw,
    .observe = biased_observe,
    .report = biased_report,
    .probs = biased_probs,
    .fini = biased_fini,
};
