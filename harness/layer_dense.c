/*
 * layer_dense.c - fully connected layer, z = a W + c.
 *
 * Shapes: a [b][n_in] (the input row flattened, so NCHW inputs need no
 * separate flatten), W [n_in][n_out] (Keras's kernel layout), c [n_out],
 * z [b][n_out]. W is the decayed block, c the undecayed one. Every
 * product is one row-major cblas_sgemm; transposes are sgemm flags,
 * never copies. Init is Glorot & Bengio (2010), eq. 16, as in Keras.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cblas.h>

#include "layers.h"

/* The largest unit count accepted, so n_in * n_out stays well inside the
 * int that CBLAS takes for each dimension. */
#define DENSE_MAX_UNITS (1 << 24)

static int dense_setup(Layer *l, const char *args, int token, IsbError *err)
{
    char *end = NULL;

    errno = 0;
    long units = strtol(args, &end, 10);
    if (args[0] == '\0' || *end != '\0' || errno != 0 || units < 1 ||
        units > DENSE_MAX_UNITS) {
        return isb_fail(err, ISB_ECONFIG,
                        "layers: dense: bad unit count '%s' (token %d; "
                        "expected an integer from 1 to %d)",
                        args, token, DENSE_MAX_UNITS);
    }
    if (l->in_size > (size_t)INT_MAX / (size_t)units) {
        return isb_fail(err, ISB_ECONFIG,
                        "layers: dense %ld: %zu x %ld weights is too many "
                        "(token %d)", units, l->in_size, units, token);
    }
    l->units = (int)units;
    l->out_c = (int)units;
    l->out_h = 1;
    l->out_w = 1;
    l->n_weights = l->in_size * (size_t)units;
    l->n_biases = (size_t)units;
    return 0;
}

static void dense_init(Layer *l, gsl_rng *rng)
{
    double limit = sqrt(6.0 / (double)(l->in_size + l->out_size));

    for (size_t i = 0; i < l->n_weights; i++) {
        l->param[i] = (float)((2.0 * gsl_rng_uniform(rng) - 1.0) * limit);
    }
    for (size_t i = 0; i < l->n_biases; i++) {
        l->param[l->n_weights + i] = 0.0f;
    }
}

static void dense_forward(Layer *l, const float *in, float *out, size_t b)
{
    int n_in = (int)l->in_size;
    int n_out = (int)l->out_size;
    const float *w = l->param;          /* [n_in][n_out] */
    const float *c = l->param + l->n_weights; /* [n_out] */

    /* z = a W: [b][n_in] x [n_in][n_out] */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, n_out,
                n_in, 1.0f, in, n_in, w, n_out, 0.0f, out, n_out);

    /* z += c, and max(z, 0) in the same pass when relu is fused */
    for (size_t i = 0; i < b; i++) {
        float *z = out + i * (size_t)n_out;
        if (l->fuse_relu) {
            for (int j = 0; j < n_out; j++) {
                float v = z[j] + c[j];
                z[j] = v > 0.0f ? v : 0.0f;
            }
        } else {
            for (int j = 0; j < n_out; j++) {
                z[j] += c[j];
            }
        }
    }
}

/* din [b][n_in] = dout [b][n_out] x W^T */
static void dense_input_grad(const Layer *l, const float *dout, float *din,
                             size_t b)
{
    int n_in = (int)l->in_size;
    int n_out = (int)l->out_size;

    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, n_in,
                n_out, 1.0f, dout, n_out, l->param, n_out, 0.0f, din,
                n_in);
}

static void dense_backward(Layer *l, const float *in, const float *out,
                           const float *dout, float *din, size_t b)
{
    int n_in = (int)l->in_size;
    int n_out = (int)l->out_size;
    float *dw = l->grad;               /* [n_in][n_out] */
    float *dc = l->grad + l->n_weights; /* [n_out] */
    (void)out;

    /* dW = a^T dout: [n_in][b] x [b][n_out] */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_in, n_out,
                (int)b, 1.0f, in, n_in, dout, n_out, 0.0f, dw, n_out);

    /* dc = column sums of dout */
    for (int j = 0; j < n_out; j++) {
        dc[j] = 0.0f;
    }
    for (size_t i = 0; i < b; i++) {
        const float *d = dout + i * (size_t)n_out;
        for (int j = 0; j < n_out; j++) {
            dc[j] += d[j];
        }
    }

    if (din != NULL) {
        dense_input_grad(l, dout, din, b);
    }
}

double layer_dense_example_norm_sq(const float *a, size_t n_in,
                                   const float *delta, size_t n_out,
                                   int with_bias)
{
    double aa = 0.0;
    double dd = 0.0;

    for (size_t k = 0; k < n_in; k++) {
        aa += (double)a[k] * a[k];
    }
    for (size_t k = 0; k < n_out; k++) {
        dd += (double)delta[k] * delta[k];
    }
    return dd * (aa + (with_bias ? 1.0 : 0.0));
}

static void dense_norm_sq(const Layer *l, const float *in, const float *out,
                          const float *dout, float *din, size_t b,
                          double *acc)
{
    (void)out;
    for (size_t i = 0; i < b; i++) {
        acc[i] += layer_dense_example_norm_sq(in + i * l->in_size,
                                              l->in_size,
                                              dout + i * l->out_size,
                                              l->out_size, 1);
    }
    if (din != NULL) {
        dense_input_grad(l, dout, din, b);
    }
}

static void dense_describe(const Layer *l, char *buf, size_t len)
{
    snprintf(buf, len, "dense %d", l->units);
}

const LayerOps layer_dense_ops = {
    .name = "dense",
    .setup = dense_setup,
    .init = dense_init,
    .forward = dense_forward,
    .backward = dense_backward,
    .norm_sq = dense_norm_sq,
    .describe = dense_describe,
    .in_place = 0,
};
