/*
 * variance.c - exact and Monte-Carlo gradient variance (see variance.h).
 *
 * Math names: N training examples, M pool size, b batch, K Monte-Carlo
 * draws, P parameters.
 */
#include "variance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

struct VarianceProbe {
    Network *net;
    const Dataset *train;
    size_t n, m, b, k, p_len, chunk;
    size_t *all;          /* [N] 0..N-1, the population for choosing */
    size_t *pool;         /* [M] dataset indices */
    float *loss, *score, *gnorm;  /* [M] */
    double *sq;           /* [M] ||g_i||^2 */
    double *prob;         /* [M] the measured method's p */
    double *mean_grad;    /* [P] g_bar */
    double *draw_sum;     /* [P] sum of G_hat over draws */
    double mean_sq;       /* ||g_bar||^2 */
    double uniform;       /* uniform's exact variance on this pool */
    float *x;             /* [chunk][d] */
    int *y;               /* [chunk] */
    size_t *bidx, *brow;  /* [b] */
    float *bw;            /* [b] */
    IsbScores scores;
    int have_pool;
};

double variance_exact(const double *sq_norms, const double *p, size_t m,
                      double mean_sq, size_t b)
{
    double sum = 0;
    for (size_t i = 0; i < m; i++) {
        /* An example with zero gradient adds nothing, even at p = 0. */
        if (sq_norms[i] != 0) {
            sum += sq_norms[i] / p[i];
        }
    }
    double md = (double)m;
    return (sum / (md * md) - mean_sq) / (double)b;
}

void variance_probe_free(VarianceProbe *vp)
{
    if (vp == NULL) {
        return;
    }
    free(vp->all);
    free(vp->pool);
    free(vp->loss);
    free(vp->score);
    free(vp->gnorm);
    free(vp->sq);
    free(vp->prob);
    free(vp->mean_grad);
    free(vp->draw_sum);
    free(vp->x);
    free(vp->y);
    free(vp->bidx);
    free(vp->brow);
    free(vp->bw);
    free(vp);
}

int variance_probe_create(Network *net, const Dataset *train, size_t b,
                          size_t pool_size, size_t draws,
                          VarianceProbe **out, IsbError *err)
{
    *out = NULL;
    if (b == 0 || b > network_max_batch(net) || draws < 2) {
        return isb_fail(err, ISB_EINVAL, "variance: batch %zu, draws %zu "
                        "(expected 1 <= b <= %zu and at least 2 draws)", b,
                        draws, network_max_batch(net));
    }
    VarianceProbe *vp = calloc(1, sizeof *vp);
    if (vp == NULL) {
        return isb_fail(err, ISB_ENOMEM, "variance: out of memory");
    }
    vp->net = net;
    vp->train = train;
    vp->n = train->n;
    vp->m = pool_size == 0 || pool_size > train->n ? train->n : pool_size;
    vp->b = b;
    vp->k = draws;
    vp->p_len = network_num_params(net);
    vp->chunk = network_max_batch(net);
    size_t m = vp->m;
    vp->all = malloc(vp->n * sizeof *vp->all);
    vp->pool = malloc(m * sizeof *vp->pool);
    vp->loss = malloc(m * sizeof *vp->loss);
    vp->score = malloc(m * sizeof *vp->score);
    vp->gnorm = malloc(m * sizeof *vp->gnorm);
    vp->sq = malloc(m * sizeof *vp->sq);
    vp->prob = malloc(m * sizeof *vp->prob);
    vp->mean_grad = malloc(vp->p_len * sizeof *vp->mean_grad);
    vp->draw_sum = malloc(vp->p_len * sizeof *vp->draw_sum);
    vp->x = malloc(vp->chunk * train->d * sizeof *vp->x);
    vp->y = malloc(vp->chunk * sizeof *vp->y);
    vp->bidx = malloc(b * sizeof *vp->bidx);
    vp->brow = malloc(b * sizeof *vp->brow);
    vp->bw = malloc(b * sizeof *vp->bw);
    if (!vp->all || !vp->pool || !vp->loss || !vp->score || !vp->gnorm ||
        !vp->sq || !vp->prob || !vp->mean_grad || !vp->draw_sum ||
        !vp->x || !vp->y || !vp->bidx || !vp->brow || !vp->bw) {
        variance_probe_free(vp);
        return isb_fail(err, ISB_ENOMEM, "variance: out of memory for a "
                        "pool of %zu", m);
    }
    for (size_t i = 0; i < vp->n; i++) {
        vp->all[i] = i;
    }
    *out = vp;
    return 0;
}

size_t variance_probe_pool_size(const VarianceProbe *vp)
{
    return vp->m;
}

int variance_probe_pool(VarianceProbe *vp, gsl_rng *rng, IsbError *err)
{
    /* 1. choose the pool */
    if (vp->m < vp->n) {
        gsl_ran_choose(rng, vp->pool, vp->m, vp->all, vp->n,
                       sizeof *vp->all);
    } else {
        memcpy(vp->pool, vp->all, vp->n * sizeof *vp->all);
    }

    /* 2. per-example loss, score, norm; the mean gradient by chunks */
    memset(vp->mean_grad, 0, vp->p_len * sizeof *vp->mean_grad);
    const float *grads = network_grads(vp->net);
    for (size_t start = 0; start < vp->m; start += vp->chunk) {
        size_t c = vp->m - start < vp->chunk ? vp->m - start : vp->chunk;
        dataset_batch(vp->train, vp->pool + start, c, vp->x, vp->y);
        ForwardOut fo = {vp->loss + start, vp->score + start, NULL};
        network_forward(vp->net, vp->x, vp->y, c, &fo);
        network_grad_norms(vp->net, c, vp->gnorm + start);
        network_backward(vp->net, NULL, c, 0.0f);
        double share = (double)c / (double)vp->m;
        for (size_t q = 0; q < vp->p_len; q++) {
            vp->mean_grad[q] += share * grads[q];
        }
    }

    /* 3. the quantities every method's figures share */
    vp->mean_sq = 0;
    for (size_t q = 0; q < vp->p_len; q++) {
        vp->mean_sq += vp->mean_grad[q] * vp->mean_grad[q];
    }
    for (size_t i = 0; i < vp->m; i++) {
        if (!isfinite(vp->gnorm[i]) || !isfinite(vp->loss[i])) {
            return isb_fail(err, ISB_EDIVERGED, "variance: non-finite "
                            "gradient norm or loss in the pool");
        }
        vp->sq[i] = (double)vp->gnorm[i] * vp->gnorm[i];
        vp->prob[i] = 1.0 / (double)vp->m;
    }
    vp->uniform = variance_exact(vp->sq, vp->prob, vp->m, vp->mean_sq,
                                 vp->b);
    vp->scores = (IsbScores){vp->m, vp->pool, vp->loss, vp->score,
                             vp->gnorm};
    vp->have_pool = 1;
    return 0;
}

int variance_no_score(void *ctx, const size_t *idx, size_t m,
                      int want_gnorm, IsbScores *out)
{
    (void)ctx;
    (void)idx;
    (void)m;
    (void)want_gnorm;
    (void)out;
    return -1;
}

/* The method's probabilities over the pool into vp->prob; 0 if it has
 * none or they are not a distribution. */
static int method_probs(VarianceProbe *vp, const IsbSamplerType *type,
                        void *state, const IsbHost *host)
{
    if (type->probs == NULL ||
        type->probs(state, host, &vp->scores, vp->prob) != 0) {
        return 0;
    }
    double sum = 0;
    for (size_t i = 0; i < vp->m; i++) {
        if (!(vp->prob[i] > 0) || !isfinite(vp->prob[i])) {
            return 0;
        }
        sum += vp->prob[i];
    }
    return fabs(sum - 1.0) < 1e-6;
}

/* One Monte-Carlo draw: returns ||G_hat - g_bar||^2 and adds G_hat to
 * draw_sum; clears *weights_match when a weight is not 1 / (M p). */
static int mc_draw(VarianceProbe *vp, const IsbSamplerType *type,
                   void *state, const IsbHost *host, gsl_rng *rng,
                   int *weights_match, double *dist_sq, IsbError *err)
{
    IsbBatch batch = {vp->b, vp->bidx, vp->bw, vp->brow, 0};
    if (type->draw(state, host, rng, &batch) != 0 || !batch.from_scored) {
        return isb_fail(err, ISB_EPLUGIN, "variance: method %s failed to "
                        "draw in pool mode", type->name);
    }
    for (size_t j = 0; j < vp->b; j++) {
        size_t r = vp->brow[j];
        if (r >= vp->m || vp->pool[r] != vp->bidx[j] ||
            !(vp->bw[j] > 0) || !isfinite(vp->bw[j])) {
            return isb_fail(err, ISB_EPLUGIN, "variance: method %s drew "
                            "row %zu outside the pool or a bad weight",
                            type->name, r);
        }
        double want = 1.0 / ((double)vp->m * vp->prob[r]);
        if (fabs(vp->bw[j] - want) > 1e-3 * want) {
            *weights_match = 0;
        }
    }
    dataset_batch(vp->train, vp->bidx, vp->b, vp->x, vp->y);
    ForwardOut fo = {NULL, NULL, NULL};
    network_forward(vp->net, vp->x, vp->y, vp->b, &fo);
    network_backward(vp->net, vp->bw, vp->b, 0.0f);
    const float *g = network_grads(vp->net);
    double d2 = 0;
    for (size_t q = 0; q < vp->p_len; q++) {
        double diff = g[q] - vp->mean_grad[q];
        d2 += diff * diff;
        vp->draw_sum[q] += g[q];
    }
    *dist_sq = d2;
    return 0;
}

int variance_probe_method(VarianceProbe *vp, const IsbSamplerType *type,
                          void *state, gsl_rng *rng, VarianceResult *out,
                          IsbError *err)
{
    if (!vp->have_pool) {
        return isb_fail(err, ISB_EINVAL, "variance: no pool drawn yet");
    }
    IsbHost host = {vp->n, vp->b, 0, 0, NULL, variance_no_score,
                    &vp->scores};
    int have_p = method_probs(vp, type, state, &host);
    if (!have_p) {
        for (size_t i = 0; i < vp->m; i++) {
            vp->prob[i] = 1.0 / (double)vp->m;
        }
    }

    /* K draws: mean and standard error of ||G_hat - g_bar||^2 */
    memset(vp->draw_sum, 0, vp->p_len * sizeof *vp->draw_sum);
    int weights_match = have_p;
    double sum = 0, sum_sq = 0;
    for (size_t k = 0; k < vp->k; k++) {
        double d2 = 0;
        int rc = mc_draw(vp, type, state, &host, rng, &weights_match, &d2,
                         err);
        if (rc != 0) {
            return rc;
        }
        sum += d2;
        sum_sq += d2 * d2;
    }
    double kd = (double)vp->k;
    double mean = sum / kd;
    double var = (sum_sq - kd * mean * mean) / (kd - 1);
    double bias_sq = 0;
    for (size_t q = 0; q < vp->p_len; q++) {
        double diff = vp->draw_sum[q] / kd - vp->mean_grad[q];
        bias_sq += diff * diff;
    }

    /* Weights 1 / (M p) make the estimator unbiased, and the formula
     * exact. Otherwise E||mean - g_bar||^2 = ||bias||^2 + V / K with
     * mc = V + ||bias||^2, so (K d^2 - mc) / (K - 1) estimates the
     * squared bias without the draws' own noise. */
    int unbiased = have_p && weights_match;
    out->exact = unbiased
        ? variance_exact(vp->sq, vp->prob, vp->m, vp->mean_sq, vp->b)
        : NAN;
    out->mc = mean;
    out->mc_stderr = sqrt(var > 0 ? var : 0) / sqrt(kd);
    out->uniform = vp->uniform;
    double b2 = (kd * bias_sq - mean) / (kd - 1);
    out->bias = unbiased ? 0.0 : sqrt(b2 > 0 ? b2 : 0);
    out->restricted = (type->flags & ISB_SAMPLER_WHOLE_DATASET) != 0 &&
                      vp->m < vp->n;
    return 0;
}
