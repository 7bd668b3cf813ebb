/*
 * netcheck.h - helpers shared by the network tests (test_conv.c,
 * test_layers.c, test_network.c): seeded networks and data, the
 * finite-difference check of network_backward, and the checks of
 * network_grad_norms and network_gather against fresh backward passes.
 * All static inline, so a file that uses only some of them compiles
 * without unused-function warnings.
 */
#ifndef ISB_TESTS_NETCHECK_H
#define ISB_TESTS_NETCHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <gsl/gsl_rng.h>

#include "harness/network.h"

/* A network from spec on c x h x w inputs and K classes, Glorot-
 * initialised from seed. */
static inline Network *make_net(const char *spec, int c, int h, int w,
                                int K, size_t mb, unsigned long seed)
{
    Network *net = NULL;
    IsbError err;
    isb_error_clear(&err);

    int rc = network_create(spec, c, h, w, K, mb, &net, &err);
    cr_assert_eq(rc, 0, "network_create(\"%s\"): %s", spec, err.msg);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    network_init(net, rng);
    gsl_rng_free(rng);
    return net;
}

/* v [n] uniform in [-1, 1], and labels y [b] (y may be NULL). */
static inline void make_data(float *v, size_t n, int *y, size_t b,
                             int K, unsigned long seed)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    for (size_t k = 0; k < n; k++) {
        v[k] = (float)(2.0 * gsl_rng_uniform(rng) - 1.0);
    }
    for (size_t i = 0; y != NULL && i < b; i++) {
        y[i] = (int)gsl_rng_uniform_int(rng, (unsigned long)K);
    }
    gsl_rng_free(rng);
}

/* (1/b) sum_i w_i L_i + l2 sum(decayed theta^2), from forward outputs. */
static inline double objective(Network *net, const float *x,
                               const int *y, const float *w, size_t b,
                               float l2)
{
    float loss[16];
    ForwardOut out = {.loss = loss};
    network_forward(net, x, y, b, &out);

    double sum = 0.0;
    for (size_t i = 0; i < b; i++) {
        sum += (double)w[i] * loss[i];
    }
    double reg = 0.0;
    const float *p = network_params(net);
    const unsigned char *mask = network_decay_mask(net);
    for (size_t k = 0; k < network_num_params(net); k++) {
        reg += mask[k] ? (double)p[k] * p[k] : 0.0;
    }
    return sum / (double)b + l2 * reg;
}

/*
 * Every parameter, finite differences with h = 1e-3, as in
 * test_network.c: the error is measured against max(|backprop|, |fd|,
 * 1e-2) and must stay below 1e-2. The float forward pass puts ~1e-4 of
 * rounding noise into each difference; an indexing or adjoint error in
 * im2col/col2im, pooling or normalisation moves whole entries (relative
 * errors near 1). Kinks: a shared conv weight moves hundreds of
 * pre-activations, so a +-h step often carries one of them across a
 * relu's zero or swaps a pooling window's maximum, which spoils the
 * central difference (observed: 4 of 125 entries off by 2-25 %). Such a
 * crossing at distance delta from theta spoils the steps longer than
 * delta on its side only, and backprop is the derivative of the piece
 * theta sits on, so an entry passes when any of four estimates agrees:
 * the central difference, either one-sided difference (truncation
 * O(h f''), ~1e-3 here) and a central difference with h = 3e-4 (~3x the
 * rounding noise, for a crossing on each side; seen once in 418 entries
 * of the whole-CNN check). A wrong gradient agrees with none of them.
 */
static inline double grad_check(const char *spec, int c, int h, int w,
                                unsigned long seed)
{
    enum { K = 3, B = 4 };
    const float wt[B] = {0.5f, 1.5f, 2.0f, 0.25f};
    const float l2 = 0.01f;
    const float step = 1e-3f;
    const float small = 3e-4f;
    size_t d = (size_t)c * h * w;
    float *x = malloc(B * d * sizeof *x);
    int y[B];

    Network *net = make_net(spec, c, h, w, K, B, seed);
    make_data(x, B * d, y, B, K, seed + 1);
    size_t n = network_num_params(net);
    float *analytic = malloc(n * sizeof *analytic);
    cr_assert(x && analytic);

    network_forward(net, x, y, B, NULL);
    double mean = network_backward(net, wt, B, l2);
    memcpy(analytic, network_grads(net), n * sizeof *analytic);
    double reg_free = objective(net, x, y, wt, B, 0.0f);
    cr_expect(fabs(mean - reg_free) < 1e-6, "mean %g vs %g", mean,
              reg_free);

    float *p = network_params(net);
    double mid = objective(net, x, y, wt, B, l2);
    double worst = 0.0;
    for (size_t k = 0; k < n; k++) {
        float keep = p[k];
        p[k] = keep + step;
        double up = objective(net, x, y, wt, B, l2);
        p[k] = keep - step;
        double down = objective(net, x, y, wt, B, l2);
        p[k] = keep + small;
        double up_s = objective(net, x, y, wt, B, l2);
        p[k] = keep - small;
        double down_s = objective(net, x, y, wt, B, l2);
        p[k] = keep;
        double fd[4] = {(up - down) / (2.0 * step), (up - mid) / step,
                        (mid - down) / step, (up_s - down_s) / (2 * small)};
        double rel = INFINITY;
        for (int m = 0; m < 4; m++) {
            double scale = fmax(fmax(fabs(fd[m]), fabs(analytic[k])),
                                1e-2);
            rel = fmin(rel, fabs(fd[m] - analytic[k]) / scale);
        }
        cr_expect(rel < 1e-2, "%s: param %zu of %zu: backprop %.6g, "
                  "fd %.6g (one-sided %.6g, %.6g; h/3 %.6g)", spec, k,
                  n, analytic[k], fd[0], fd[1], fd[2], fd[3]);
        worst = fmax(worst, rel);
    }
    free(analytic);
    free(x);
    network_free(net);
    return worst;
}

static inline double vector_norm(const float *v, size_t n)
{
    double s = 0.0;
    for (size_t k = 0; k < n; k++) {
        s += (double)v[k] * v[k];
    }
    return sqrt(s);
}

/*
 * network_grad_norms against one-row backward passes: a network from
 * spec on c x h x w inputs and K classes (Glorot from net_seed), n rows
 * of make_data(data_seed). The batch's norms must leave the gradient
 * vector of a backward pass (L2 1e-2) untouched, and norm i must match
 * the gradient norm of a backward pass on row i alone (weight 1, no L2)
 * within tol relative. Callers state why their tol fits.
 */
static inline void norms_check(const char *spec, int c, int h, int w,
                               int K, size_t n, unsigned long net_seed,
                               unsigned long data_seed, double tol)
{
    size_t d = (size_t)c * h * w;
    float *x = malloc(n * d * sizeof *x);       /* [n][d] */
    int *y = malloc(n * sizeof *y);             /* [n] */
    float *gnorm = malloc(n * sizeof *gnorm);   /* [n] */

    Network *net = make_net(spec, c, h, w, K, n, net_seed);
    size_t np = network_num_params(net);
    float *before = malloc(np * sizeof *before);
    cr_assert(x && y && gnorm && before);
    make_data(x, n * d, y, n, K, data_seed);

    /* Step 1: norms of the batch, leaving the gradient vector alone. */
    network_forward(net, x, y, n, NULL);
    network_backward(net, NULL, n, 0.01f);
    memcpy(before, network_grads(net), np * sizeof *before);
    network_grad_norms(net, n, gnorm);
    cr_expect(memcmp(before, network_grads(net), np * sizeof *before) == 0,
              "%s: grad_norms changed the gradient vector", spec);

    /* Step 2: each against a one-row backward, weight 1, no L2. */
    for (size_t i = 0; i < n; i++) {
        network_forward(net, x + i * d, y + i, 1, NULL);
        network_backward(net, NULL, 1, 0.0f);
        double want = vector_norm(network_grads(net), np);
        cr_expect(fabs(gnorm[i] - want) <= tol * want,
                  "%s: example %zu: grad_norms %.7g, backward %.7g", spec,
                  i, gnorm[i], want);
    }
    free(before);
    network_free(net);
    free(gnorm);
    free(y);
    free(x);
}

/*
 * network_gather against a fresh forward pass: a network from spec on
 * c x h x w inputs and K classes (Glorot from net_seed) runs forward on
 * n rows of make_data(data_seed), gathers rows [b] (repeats allowed) and
 * runs backward with weights wt [b] and L2 1e-3; the same rows copied
 * into a fresh batch must give the same mean loss (1e-6), gradient
 * (relative 1e-6) and per-example gradient norms (relative 1e-6). Same
 * rows, same order, same code: equal up to float reordering inside
 * sgemm (none is expected, 1e-6 allows it).
 */
static inline void gather_check(const char *spec, int c, int h, int w,
                                int K, size_t n, const size_t *rows,
                                const float *wt, size_t b,
                                unsigned long net_seed,
                                unsigned long data_seed)
{
    size_t d = (size_t)c * h * w;
    float *x = malloc(n * d * sizeof *x);       /* [n][d] */
    float *xg = malloc(b * d * sizeof *xg);     /* [b][d] */
    int *y = malloc(n * sizeof *y);             /* [n] */
    int *yg = malloc(b * sizeof *yg);           /* [b] */
    float *gn_gather = malloc(b * sizeof *gn_gather);
    float *gn_fresh = malloc(b * sizeof *gn_fresh);
    cr_assert(x && xg && y && yg && gn_gather && gn_fresh);

    Network *net = make_net(spec, c, h, w, K, n, net_seed);
    size_t np = network_num_params(net);
    float *gathered = malloc(np * sizeof *gathered);
    cr_assert_not_null(gathered);
    make_data(x, n * d, y, n, K, data_seed);
    for (size_t j = 0; j < b; j++) {
        memcpy(xg + j * d, x + rows[j] * d, d * sizeof *x);
        yg[j] = y[rows[j]];
    }

    network_forward(net, x, y, n, NULL);
    network_gather(net, rows, b);
    double loss_gather = network_backward(net, wt, b, 0.001f);
    memcpy(gathered, network_grads(net), np * sizeof *gathered);
    network_grad_norms(net, b, gn_gather);

    network_forward(net, xg, yg, b, NULL);
    double loss_fresh = network_backward(net, wt, b, 0.001f);
    network_grad_norms(net, b, gn_fresh);

    const float *fresh = network_grads(net);
    cr_expect(fabs(loss_gather - loss_fresh) < 1e-6);
    for (size_t k = 0; k < np; k++) {
        cr_expect(fabsf(gathered[k] - fresh[k]) <=
                      1e-6f * (1.0f + fabsf(fresh[k])),
                  "%s: grad %zu: gathered %.9g, fresh %.9g", spec, k,
                  gathered[k], fresh[k]);
    }
    for (size_t j = 0; j < b; j++) {
        cr_expect(fabsf(gn_gather[j] - gn_fresh[j]) <= 1e-6f *
                  gn_fresh[j], "%s: norm %zu: %g vs %g", spec, j,
                  gn_gather[j], gn_fresh[j]);
    }
    free(gathered);
    network_free(net);
    free(gn_fresh);
    free(gn_gather);
    free(yg);
    free(y);
    free(xg);
    free(x);
}

#endif
