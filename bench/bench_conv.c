/*
 * bench_conv.c - CNN steps (fashion_cnn's network on 1x28x28, and
 * cifar10_cnn's on 3x32x32, batch 128) against the sgemm rate of the
 * products of one step.
 *
 * Products of a conv layer (layer_conv.c's names: F filters, P output
 * positions, Q = C kh kw): forward F x P x Q, weight gradient F x Q x P,
 * input gradient Q x P x F (not for the first layer); dense layers as in
 * bench_mlp.c. The limit times each product both per example (128 calls,
 * as layer_conv.c does today) and as one call over the batch (b P
 * columns), and takes the faster: the engine may use either layout. A
 * step is network_forward + network_backward + an Adam update.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cblas.h>
#include <gsl/gsl_rng.h>

#include "harness/fpenv.h"
#include "harness/network.h"
#include "harness/optim.h"

enum { B = BENCH_BATCH, MAX_SHAPES = 12 };

/* One product C [m][n] = A [m][k] B [k][n]; per_example 0: once per
 * batch; 1: once per example, the batched form has n b columns; 2: once
 * per example, summed, the batched form has k b inner terms. */
typedef struct Shape {
    int m, n, k, per_example;
} Shape;

typedef struct Cnn {
    const char *name, *layers;
    int c, h, w;
    int n_shapes;
    Shape shape[MAX_SHAPES];
} Cnn;

static double gemm_seconds(int m, int n, int k, int calls, float *a,
                           float *b, float *c)
{
    double t0 = bench_now();
    for (int r = 0; r < calls; r++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k,
                    1.0f, a, k, b, n, 0.0f, c, n);
    }
    return bench_now() - t0;
}

/* Seconds for one product in both layouts, the faster one. */
static double product_seconds(const Shape *p)
{
    /* Batched: the batch joins n (forward, input gradient) or k (weight
     * gradient, a sum over examples). */
    int bn = p->per_example == 1 ? p->n * B : p->n;
    int bk = p->per_example == 2 ? p->k * B : p->k;
    size_t na = (size_t)p->m * bk, nb = (size_t)bk * bn;
    size_t nc = (size_t)p->m * bn;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    float *c = malloc(nc * sizeof *c);
    for (size_t i = 0; i < na; i++) {
        a[i] = (float)(i % 7) * 0.1f;
    }
    for (size_t i = 0; i < nb; i++) {
        b[i] = (float)(i % 5) * 0.1f;
    }
    double best = gemm_seconds(p->m, p->n, p->k, p->per_example ? B : 1,
                               a, b, c);
    if (p->per_example) {
        double batched = gemm_seconds(p->m, bn, bk, 1, a, b, c);
        best = batched < best ? batched : best;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

/* Seconds for the step's products with the faster layout for each, and
 * their FLOPs; median of reps rounds after a warm-up. */
static double limit_seconds(const Cnn *net, int reps, double *flops)
{
    double total = 0, t[64];
    *flops = 0;
    for (int s = 0; s < net->n_shapes; s++) {
        const Shape *p = &net->shape[s];
        int calls = p->per_example ? B : 1;
        *flops += 2.0 * p->m * p->n * (double)p->k * calls;
        for (int r = -1; r < reps; r++) {
            double one = product_seconds(p);
            if (r >= 0) {
                t[r] = one;
            }
        }
        total += bench_median(t, reps);
    }
    return total;
}

static double step_seconds(const Cnn *cnn, int reps)
{
    Network *net = NULL;
    Optimizer *opt = NULL;
    OptimSpec os;
    IsbError err;
    size_t d = (size_t)cnn->c * cnn->h * cnn->w;
    if (network_create(cnn->layers, cnn->c, cnn->h, cnn->w, 10, B, &net,
                       &err) < 0) {
        fprintf(stderr, "bench: %s: %s\n", cnn->name, err.msg);
        return -1;
    }
    optim_defaults(OPTIM_ADAM, &os);
    if (optim_create(&os, network_num_params(net), &opt, &err) != 0) {
        fprintf(stderr, "bench: %s: %s\n", cnn->name, err.msg);
        network_free(net);
        return -1;
    }
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 1);
    network_init(net, rng);
    float *x = malloc(B * d * sizeof *x);
    int y[B];
    for (size_t k = 0; k < B * d; k++) {
        x[k] = (float)gsl_rng_uniform(rng);
    }
    for (int i = 0; i < B; i++) {
        y[i] = (int)gsl_rng_uniform_int(rng, 10);
    }
    double t[64];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        network_forward(net, x, y, B, NULL);
        network_backward(net, NULL, B, 0.0f);
        optim_step(opt, network_params(net), network_grads(net), 1e-3);
        if (r >= 0) {
            t[r] = bench_now() - t0;
        }
    }
    optim_free(opt);
    network_free(net);
    gsl_rng_free(rng);
    free(x);
    return bench_median(t, reps);
}

int bench_conv(BenchTable *t)
{
    static const Cnn nets[] = {
        {"fashion_cnn", "conv 32 3x3 pad 1, relu, maxpool 2, conv 64 3x3 "
         "pad 1, relu, maxpool 2, dense 256, relu, dense 10", 1, 28, 28, 10,
         {{32, 784, 9, 1}, {32, 9, 784, 2},
          {64, 196, 288, 1}, {64, 288, 196, 2}, {288, 196, 64, 1},
          {B, 256, 3136, 0}, {3136, 256, B, 0}, {B, 3136, 256, 0},
          {B, 10, 256, 0}, {256, 10, B, 0}}},
        {"cifar10_cnn", "conv 32 3x3 pad 1, layernorm, relu, conv 32 3x3 "
         "pad 1, layernorm, relu, maxpool 2, conv 64 3x3 pad 1, layernorm, "
         "relu, maxpool 2, gap, dense 10", 3, 32, 32, 10,
         {{32, 1024, 27, 1}, {32, 27, 1024, 2},
          {32, 1024, 288, 1}, {32, 288, 1024, 2}, {288, 1024, 32, 1},
          {64, 256, 288, 1}, {64, 288, 256, 2}, {288, 256, 64, 1},
          {B, 10, 64, 0}, {64, 10, B, 0}}},
    };
    const int reps = bench_reps(5) > 3 ? 3 : bench_reps(5);
    unsigned fp = fpenv_flush_subnormals();
    int rc = 0;
    for (int threads = 1; threads <= 2 && rc == 0; threads++) {
        openblas_set_num_threads(threads);
        for (size_t k = 0; k < sizeof nets / sizeof *nets; k++) {
            double flops;
            fprintf(stderr, "bench: %s step, %d thread(s)\n", nets[k].name,
                    threads);
            double lim = limit_seconds(&nets[k], reps, &flops);
            double st = step_seconds(&nets[k], reps);
            if (st < 0) {
                rc = -1;
                break;
            }
            BenchRow *r = bench_row(t, "limit", nets[k].name, threads);
            r->ms = 1e3 * lim;
            r->gflops = r->limit_gflops = flops / lim * 1e-9;
            r = bench_row(t, "cnn_step", nets[k].name, threads);
            r->ms = 1e3 * st;
            r->samples_per_s = B / st;
            r->gflops = flops / st * 1e-9;
            r->limit_gflops = flops / lim * 1e-9;
            bench_target(r, "frac_limit", lim / st, 0.50, 0);
        }
    }
    fpenv_restore(fp);
    return rc;
}
