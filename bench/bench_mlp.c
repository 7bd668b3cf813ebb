/*
 * bench_mlp.c - the MNIST MLP step (784-512-512-10, batch 128) against
 * the limit: cblas_sgemm GFLOP/s for exactly the products of one step,
 * measured in the same run at the same thread count.
 *
 * FLOP model: a dense layer in -> out on b rows costs 2 b in out per
 * product; a step is its forward product, its input gradient (not for
 * the first layer) and its weight gradient. Bias, activation, loss and
 * the RMSprop update are not counted: they are the engine's overhead.
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

#define N_LAYERS 3

static const int sizes[N_LAYERS + 1] = {784, 512, 512, 10};
static const char *layers = "dense 512, relu, dense 512, relu, dense 10";

static double step_flops(int b)
{
    double f = 0;
    for (int i = 0; i < N_LAYERS; i++) {
        double prod = 2.0 * b * sizes[i] * sizes[i + 1];
        f += prod * (i == 0 ? 2 : 3);
    }
    return f;
}

/* Seconds for the step's sgemm calls alone (the engine's transposes),
 * median of reps after two warm-up rounds. Inputs (activations a,
 * weights w, signals d, all [784 * 1024] at most) stay constant and every
 * product writes its own output (z, da, dw), so no value feeds back and
 * drifts towards overflow or subnormals over the repetitions. */
static double sgemm_seconds(int b, int reps)
{
    enum { A, W, D, Z, DA, DW, N_BUF };
    float *buf[N_BUF];
    size_t big = (size_t)784 * 1024;
    for (int k = 0; k < N_BUF; k++) {
        buf[k] = malloc(big * sizeof(float));
        for (size_t j = 0; j < big; j++) {
            buf[k][j] = (float)(j % 7) * 0.01f;
        }
    }
    double t[64];
    for (int r = -2; r < reps; r++) {
        double t0 = bench_now();
        for (int rep = 0; rep < 10; rep++) {
            for (int i = 0; i < N_LAYERS; i++) {
                int in = sizes[i], out = sizes[i + 1];
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b,
                            out, in, 1, buf[A], in, buf[W], out, 0, buf[Z],
                            out);
                if (i > 0) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b,
                                in, out, 1, buf[D], out, buf[W], out, 0,
                                buf[DA], in);
                }
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in,
                            out, b, 1, buf[A], in, buf[D], out, 0, buf[DW],
                            out);
            }
        }
        if (r >= 0) {
            t[r] = (bench_now() - t0) / 10;
        }
    }
    for (int k = 0; k < N_BUF; k++) {
        free(buf[k]);
    }
    return bench_median(t, reps);
}

/* Seconds per real step (forward, backward, RMSprop update), median of
 * reps rounds of 20 steps after one warm-up round. */
static double step_seconds(int b, int reps)
{
    Network *net;
    Optimizer *opt;
    IsbError err;
    OptimSpec spec;
    if (network_create(layers, 1, 1, sizes[0], sizes[N_LAYERS], (size_t)b,
                       &net, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return -1;
    }
    optim_defaults(OPTIM_RMSPROP, &spec);
    if (optim_create(&spec, network_num_params(net), &opt, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        network_free(net);
        return -1;
    }
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    network_init(net, rng);
    size_t d = (size_t)sizes[0];
    float *x = malloc((size_t)b * d * sizeof *x);
    int *y = malloc((size_t)b * sizeof *y);
    float *loss = malloc((size_t)b * sizeof *loss);
    for (size_t i = 0; i < (size_t)b * d; i++) {
        x[i] = (float)gsl_rng_uniform(rng);
    }
    for (int i = 0; i < b; i++) {
        y[i] = (int)gsl_rng_uniform_int(rng, (unsigned long)sizes[N_LAYERS]);
    }
    ForwardOut fo = {loss, NULL, NULL};
    double t[64];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        for (int s = 0; s < 20; s++) {
            network_forward(net, x, y, (size_t)b, &fo);
            network_backward(net, NULL, (size_t)b, 1e-5f);
            optim_step(opt, network_params(net), network_grads(net), 1e-3);
        }
        if (r >= 0) {
            t[r] = (bench_now() - t0) / 20;
        }
    }
    free(x);
    free(y);
    free(loss);
    gsl_rng_free(rng);
    optim_free(opt);
    network_free(net);
    return bench_median(t, reps);
}

int bench_mlp(BenchTable *t, double limit[2], double step_s[2])
{
    const int b = BENCH_BATCH, reps = bench_reps(5);
    double flops = step_flops(b);
    unsigned fp = fpenv_flush_subnormals();
    int rc = 0;
    fprintf(stderr, "bench: MLP step and its sgemm limit\n");
    for (int threads = 1; threads <= 2 && rc == 0; threads++) {
        openblas_set_num_threads(threads);
        double gemm = sgemm_seconds(b, reps);
        double st = step_seconds(b, reps);
        if (st < 0) {
            rc = -1;
            break;
        }
        limit[threads - 1] = flops / gemm * 1e-9;
        step_s[threads - 1] = st;
        BenchRow *r = bench_row(t, "limit", "mnist_mlp sgemm", threads);
        r->ms = 1e3 * gemm;
        r->gflops = r->limit_gflops = limit[threads - 1];
        r = bench_row(t, "mlp_step", "mnist_mlp uniform", threads);
        r->ms = 1e3 * st;
        r->samples_per_s = b / st;
        r->gflops = flops / st * 1e-9;
        r->limit_gflops = limit[threads - 1];
        bench_target(r, "frac_limit", r->gflops / r->limit_gflops,
                     threads == 2 ? 0.70 : NAN, 0);
    }
    fpenv_restore(fp);
    return rc;
}
