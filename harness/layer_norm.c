/*
 * layer_norm.c - layer normalisation (Ba, Kiros & Hinton 2016, eq. 4):
 * each example is normalised over all the features of its row, then
 * scaled and shifted by learned gamma and beta.
 *
 * The paper (Katharopoulos & Fleuret 2018, sec. 4) uses it in place of
 * batch normalisation, whose batch statistics would make one example's
 * score depend on the others in its batch; here every example's output
 * depends on its own row only. Math names: n = C H W features of a row,
 * G groups sharing a gamma and beta, S = n / G features per group.
 * Gamma and beta are per channel (G = C, S = H W) for a spatial input
 * with several channels, as Keras's LayerNormalization(axis=-1) does on
 * NHWC maps; for a flat input (one channel or one position, e.g. after
 * dense, gap or flatten) they are per feature (G = n, S = 1). eps is
 * Keras's default 1e-3 (the paper's models were Keras ones), not the
 * 1e-5 of other libraries. Parameters: gamma [G] then beta [G], both in
 * the undecayed block, as Keras does not regularise them; gamma starts
 * at 1, beta at 0. Mean and variance are recomputed in backward from the
 * kept input, so nothing is cached between passes.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "layers.h"

#define LN_EPS 1e-3

static int layernorm_setup(Layer *l, const char *args, int token,
                           IsbError *err)
{
    if (args[0] != '\0') {
        return isb_fail(err, ISB_ECONFIG,
                        "layers: layernorm takes no argument, got '%s' "
                        "(token %d)", args, token);
    }
    int spatial = l->in_c > 1 && (size_t)l->in_h * l->in_w > 1;
    l->out_c = l->in_c;
    l->out_h = l->in_h;
    l->out_w = l->in_w;
    l->units = spatial ? l->in_c : (int)l->in_size; /* G */
    l->n_weights = 0;
    l->n_biases = 2 * (size_t)l->units;
    return 0;
}

static void layernorm_init(Layer *l, gsl_rng *rng)
{
    size_t g = (size_t)l->units;
    (void)rng;

    for (size_t k = 0; k < g; k++) {
        l->param[k] = 1.0f;
        l->param[g + k] = 0.0f;
    }
}

/* Mean of x [n] into *mu, and 1 / sqrt(var + eps) as the return value
 * (two passes in double). */
static double row_stats(const float *x, size_t n, double *mu)
{
    double sum = 0.0;
    double sq = 0.0;

    for (size_t k = 0; k < n; k++) {
        sum += x[k];
    }
    *mu = sum / (double)n;
    for (size_t k = 0; k < n; k++) {
        double d = x[k] - *mu;
        sq += d * d;
    }
    return 1.0 / sqrt(sq / (double)n + LN_EPS);
}

static void layernorm_forward(Layer *l, const float *in, float *out,
                              size_t b)
{
    size_t n = l->in_size;
    size_t groups = (size_t)l->units;
    size_t s = n / groups;
    const float *gamma = l->param;
    const float *beta = l->param + groups;

    for (size_t i = 0; i < b; i++) {
        const float *x = in + i * n;
        float *y = out + i * n;
        double mu;
        double rstd = row_stats(x, n, &mu);
        for (size_t k = 0; k < n; k++) {
            size_t g = k / s;
            y[k] = (float)(gamma[g] * (x[k] - mu) * rstd + beta[g]);
        }
    }
}

/*
 * One example: x [n] its input, dy [n] its output signal. Adds the
 * example's dgamma = sum_group dy xhat and dbeta = sum_group dy to
 * dparam [2G] when not NULL, returns their squared norm, and writes
 * dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) with
 * dxhat = gamma dy, when dx is not NULL.
 */
static double layernorm_example(const Layer *l, const float *x,
                                const float *dy, float *dx, float *dparam)
{
    size_t n = l->in_size;
    size_t groups = (size_t)l->units;
    size_t s = n / groups;
    const float *gamma = l->param;
    double mu;
    double rstd = row_stats(x, n, &mu);
    double sq = 0.0;
    double m1 = 0.0; /* sum dxhat */
    double m2 = 0.0; /* sum dxhat xhat */

    for (size_t g = 0; g < groups; g++) {
        double dg = 0.0;
        double db = 0.0;
        for (size_t k = g * s; k < (g + 1) * s; k++) {
            double xhat = (x[k] - mu) * rstd;
            dg += dy[k] * xhat;
            db += dy[k];
        }
        if (dparam != NULL) {
            dparam[g] += (float)dg;
            dparam[groups + g] += (float)db;
        }
        sq += dg * dg + db * db;
        m1 += gamma[g] * db;
        m2 += gamma[g] * dg;
    }
    if (dx != NULL) {
        m1 /= (double)n;
        m2 /= (double)n;
        for (size_t k = 0; k < n; k++) {
            double xhat = (x[k] - mu) * rstd;
            double dxhat = (double)gamma[k / s] * dy[k];
            dx[k] = (float)(rstd * (dxhat - m1 - xhat * m2));
        }
    }
    return sq;
}

static void layernorm_backward(Layer *l, const float *in, const float *out,
                               const float *dout, float *din, size_t b)
{
    size_t n = l->in_size;
    (void)out;

    memset(l->grad, 0, l->n_biases * sizeof *l->grad);
    for (size_t i = 0; i < b; i++) {
        layernorm_example(l, in + i * n, dout + i * n,
                          din != NULL ? din + i * n : NULL, l->grad);
    }
}

static void layernorm_norm_sq(const Layer *l, const float *in,
                              const float *out, const float *dout,
                              float *din, size_t b, double *acc)
{
    size_t n = l->in_size;
    (void)out;

    for (size_t i = 0; i < b; i++) {
        acc[i] += layernorm_example(l, in + i * n, dout + i * n,
                                    din != NULL ? din + i * n : NULL,
                                    NULL);
    }
}

static void layernorm_describe(const Layer *l, char *buf, size_t len)
{
    (void)l;
    snprintf(buf, len, "layernorm");
}

const LayerOps layer_layernorm_ops = {
    .name = "layernorm",
    .setup = layernorm_setup,
    .init = layernorm_init,
    .forward = layernorm_forward,
    .backward = layernorm_backward,
    .norm_sq = layernorm_norm_sq,
    .describe = layernorm_describe,
    .in_place = 0,
};
