/*
 * bench.c - benchmarks of the training engine (never run as tests).
 *
 * For each benchmark network it measures, at 1 and 2 OpenBLAS threads:
 * the limit, cblas_sgemm GFLOP/s for exactly the matrix products of one
 * training step (forward, input gradient except for the first layer,
 * weight gradient), and the real step (forward + backward + RMSprop
 * update) with its achieved GFLOP/s as a fraction of that limit. Times
 * are medians of several repetitions after a warm-up. Writes a table to
 * stdout and rows to bench/results.csv.
 *
 * FLOP model: a dense layer in -> out on b rows costs 2 b in out per
 * product; a step is forward + (input gradient) + weight gradient.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#include <gsl/gsl_rng.h>

#include "harness/network.h"
#include "harness/optim.h"

#define REPS 9
#define MAX_LAYERS 8

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A dense network: sizes[0] inputs, sizes[n] outputs. */
typedef struct Mlp {
    const char *name;
    const char *layers;
    int n;
    int sizes[MAX_LAYERS + 1];
} Mlp;

static double mlp_step_flops(const Mlp *m, int b)
{
    double f = 0;
    for (int i = 0; i < m->n; i++) {
        double prod = 2.0 * b * m->sizes[i] * m->sizes[i + 1];
        f += prod * (i == 0 ? 2 : 3);
    }
    return f;
}

/* Seconds for the step's sgemm calls alone, median of REPS. */
static double sgemm_time(const Mlp *m, int b)
{
    float *buf[3];
    size_t big = 0;
    for (int i = 0; i <= m->n; i++) {
        size_t s = (size_t)m->sizes[i] * (size_t)(b > 1024 ? b : 1024);
        big = s > big ? s : big;
    }
    for (int k = 0; k < 3; k++) {
        buf[k] = malloc(big * sizeof(float));
        for (size_t j = 0; j < big; j++) {
            buf[k][j] = (float)(j % 7) * 0.01f;
        }
    }
    double t[REPS];
    for (int r = -2; r < REPS; r++) {
        double t0 = now();
        for (int i = 0; i < m->n; i++) {
            int in = m->sizes[i], out = m->sizes[i + 1];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, out,
                        in, 1, buf[0], in, buf[1], out, 0, buf[2], out);
            if (i > 0) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, in,
                            out, 1, buf[2], out, buf[1], out, 0, buf[0],
                            in);
            }
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out,
                        b, 1, buf[0], in, buf[2], out, 0, buf[1], out);
        }
        if (r >= 0) {
            t[r] = now() - t0;
        }
    }
    for (int k = 0; k < 3; k++) {
        free(buf[k]);
    }
    return median(t, REPS);
}

/* Seconds per real training step (forward, backward, RMSprop). */
static double step_time(const Mlp *m, int b, int steps)
{
    Network *net;
    Optimizer *opt;
    IsbError err;
    OptimSpec spec;
    if (network_create(m->layers, 1, 1, m->sizes[0], m->sizes[m->n],
                       (size_t)b, &net, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    optim_defaults(OPTIM_RMSPROP, &spec);
    optim_create(&spec, network_num_params(net), &opt, &err);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    network_init(net, rng);
    size_t d = (size_t)m->sizes[0];
    float *x = malloc((size_t)b * d * sizeof *x);
    int *y = malloc((size_t)b * sizeof *y);
    float *loss = malloc((size_t)b * sizeof *loss);
    for (size_t i = 0; i < (size_t)b * d; i++) {
        x[i] = (float)gsl_rng_uniform(rng);
    }
    for (int i = 0; i < b; i++) {
        y[i] = (int)gsl_rng_uniform_int(rng, (unsigned long)m->sizes[m->n]);
    }
    ForwardOut fo = {loss, NULL, NULL};
    double t[REPS];
    for (int r = -1; r < REPS; r++) {
        double t0 = now();
        for (int s = 0; s < steps; s++) {
            network_forward(net, x, y, (size_t)b, &fo);
            network_backward(net, NULL, (size_t)b, 1e-5f);
            optim_step(opt, network_params(net), network_grads(net), 1e-3);
        }
        if (r >= 0) {
            t[r] = (now() - t0) / steps;
        }
    }
    free(x);
    free(y);
    free(loss);
    gsl_rng_free(rng);
    optim_free(opt);
    network_free(net);
    return median(t, REPS);
}

int main(void)
{
    static const Mlp nets[] = {
        {"mnist_mlp", "dense 512, relu, dense 512, relu, dense 10", 3,
         {784, 512, 512, 10}},
    };
    const int b = 128;
    FILE *csv = fopen("bench/results.csv", "w");
    if (csv != NULL) {
        fprintf(csv, "benchmark,network,threads,batch,seconds,"
                "samples_per_second,gflops,limit_gflops,fraction\n");
    }
    printf("%-22s %-10s %3s %10s %10s %8s %8s %6s\n", "benchmark",
           "network", "thr", "ms/step", "samples/s", "GFLOP/s", "limit",
           "frac");
    for (size_t k = 0; k < sizeof nets / sizeof *nets; k++) {
        const Mlp *m = &nets[k];
        for (int threads = 1; threads <= 2; threads++) {
            openblas_set_num_threads(threads);
            double flops = mlp_step_flops(m, b);
            double limit = flops / sgemm_time(m, b) * 1e-9;
            double st = step_time(m, b, 20);
            double achieved = flops / st * 1e-9;
            printf("%-22s %-10s %3d %10.3f %10.0f %8.1f %8.1f %6.2f\n",
                   "step (uniform)", m->name, threads, 1e3 * st, b / st,
                   achieved, limit, achieved / limit);
            if (csv != NULL) {
                fprintf(csv, "step_uniform,%s,%d,%d,%.9g,%.9g,%.9g,%.9g,"
                        "%.9g\n", m->name, threads, b, st, b / st,
                        achieved, limit, achieved / limit);
            }
        }
    }
    if (csv != NULL) {
        fclose(csv);
    }
    return 0;
}
