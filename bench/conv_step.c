/*
 * conv_step.c - time per training step of the two CNNs of issue 6 and
 * the cblas_sgemm rate for exactly the matrix shapes their layers use.
 *
 * A step is network_forward + network_backward + an Adam update on 128
 * random rows; "norms" is network_grad_norms after a forward (what the
 * gnorm sampler adds). Conv shapes are per example (layer_conv.c runs
 * one sgemm per example): forward F x P x Q, weight gradient F x Q x P,
 * input gradient Q x P x F, each repeated 128 times; dense shapes are
 * whole-batch. Usage: build/bench_conv_step [threads] (0 = OpenBLAS
 * default). Timing only: nothing here is asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cblas.h>
#include <gsl/gsl_rng.h>

#include "harness/network.h"
#include "harness/optim.h"

enum { BATCH = 128 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One product shape: C [m][n] = A [m][k] B [k][n], reps times. */
typedef struct Shape {
    const char *what;
    int m, n, k, reps;
} Shape;

/* GFLOP/s of sgemm on one shape, best of 5 rounds. */
static double sgemm_rate(const Shape *s)
{
    size_t na = (size_t)s->m * s->k;
    size_t nb = (size_t)s->k * s->n;
    size_t nc = (size_t)s->m * s->n;
    float *a = malloc(na * sizeof *a);
    float *b = malloc(nb * sizeof *b);
    float *c = malloc(nc * sizeof *c);
    double best = 1e30;

    for (size_t i = 0; i < na; i++) {
        a[i] = (float)(i % 7) * 0.1f;
    }
    for (size_t i = 0; i < nb; i++) {
        b[i] = (float)(i % 5) * 0.1f;
    }
    for (int round = 0; round < 5; round++) {
        double t0 = now();
        for (int r = 0; r < s->reps; r++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->m,
                        s->n, s->k, 1.0f, a, s->k, b, s->n, 0.0f, c, s->n);
        }
        double dt = now() - t0;
        best = dt < best ? dt : best;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * s->m * s->n * (double)s->k * s->reps / best / 1e9;
}

static void bench_net(const char *name, const char *spec, int c, int h,
                      int w, const Shape *shapes, int n_shapes)
{
    Network *net = NULL;
    Optimizer *opt = NULL;
    OptimSpec os;
    IsbError err;
    char desc[512];
    size_t d = (size_t)c * h * w;
    float *x = malloc(BATCH * d * sizeof *x);
    int y[BATCH];
    float gn[BATCH];

    if (network_create(spec, c, h, w, 10, BATCH, &net, &err) < 0) {
        fprintf(stderr, "error: %s\n", err.msg);
        exit(1);
    }
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 1);
    network_init(net, rng);
    for (size_t k = 0; k < BATCH * d; k++) {
        x[k] = (float)gsl_rng_uniform(rng);
    }
    for (int i = 0; i < BATCH; i++) {
        y[i] = (int)gsl_rng_uniform_int(rng, 10);
    }
    optim_defaults(OPTIM_ADAM, &os);
    optim_create(&os, network_num_params(net), &opt, &err);

    int steps = 20;
    double best = 1e30;
    double best_norm = 1e30;
    for (int s = 0; s < steps; s++) {
        double t0 = now();
        network_forward(net, x, y, BATCH, NULL);
        network_backward(net, NULL, BATCH, 0.0f);
        optim_step(opt, network_params(net), network_grads(net), 1e-3);
        double t1 = now();
        network_forward(net, x, y, BATCH, NULL);
        double t2 = now();
        network_grad_norms(net, BATCH, gn);
        double t3 = now();
        best = t1 - t0 < best ? t1 - t0 : best;
        best_norm = t3 - t2 < best_norm ? t3 - t2 : best_norm;
    }
    network_describe(net, desc, sizeof desc);
    printf("%s: %s\n  step (fwd+bwd+adam, batch %d): best of %d %.1f ms; "
           "grad_norms alone %.1f ms\n", name, desc, BATCH, steps,
           1e3 * best, 1e3 * best_norm);
    for (int k = 0; k < n_shapes; k++) {
        printf("  sgemm %-22s %4d x %6d x %4d (x%3d): %6.1f GFLOP/s\n",
               shapes[k].what, shapes[k].m, shapes[k].n, shapes[k].k,
               shapes[k].reps, sgemm_rate(&shapes[k]));
    }
    optim_free(opt);
    network_free(net);
    gsl_rng_free(rng);
    free(x);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        char *end = NULL;
        long n = strtol(argv[1], &end, 10);
        if (*end != '\0' || n < 0 || n > 64) {
            fprintf(stderr, "error: threads '%s' (expected 0 to 64)\n",
                    argv[1]);
            return 2;
        }
        if (n > 0) {
            openblas_set_num_threads((int)n);
        }
    }
    printf("OpenBLAS %s, %d threads\n", openblas_get_corename(),
           openblas_get_num_threads());

    static const Shape fashion[] = {
        {"conv1 fwd", 32, 784, 9, BATCH},
        {"conv1 dW", 32, 9, 784, BATCH},
        {"conv2 fwd", 64, 196, 288, BATCH},
        {"conv2 dW", 64, 288, 196, BATCH},
        {"conv2 dX", 288, 196, 64, BATCH},
        {"dense1 fwd", BATCH, 256, 3136, 1},
        {"dense1 dW", 3136, 256, BATCH, 1},
        {"dense1 dX", BATCH, 3136, 256, 1},
    };
    bench_net("fashion_cnn", "conv 32 3x3 pad 1, relu, maxpool 2, "
              "conv 64 3x3 pad 1, relu, maxpool 2, dense 256, relu, "
              "dense 10", 1, 28, 28, fashion,
              (int)(sizeof fashion / sizeof *fashion));

    static const Shape cifar[] = {
        {"conv1 fwd", 32, 1024, 27, BATCH},
        {"conv1 dW", 32, 27, 1024, BATCH},
        {"conv2 fwd", 64, 256, 288, BATCH},
        {"conv2 dW", 64, 288, 256, BATCH},
        {"conv2 dX", 288, 256, 64, BATCH},
        {"conv3 fwd", 128, 64, 576, BATCH},
        {"conv3 dW", 128, 576, 64, BATCH},
        {"conv3 dX", 576, 64, 128, BATCH},
        {"dense1 fwd", BATCH, 256, 2048, 1},
        {"dense1 dW", 2048, 256, BATCH, 1},
        {"dense1 dX", BATCH, 2048, 256, 1},
    };
    bench_net("cifar_cnn", "conv 32 3x3 pad 1, relu, maxpool 2, "
              "conv 64 3x3 pad 1, relu, maxpool 2, conv 128 3x3 pad 1, "
              "relu, maxpool 2, dense 256, relu, dense 10", 3, 32, 32,
              cifar, (int)(sizeof cifar / sizeof *cifar));
    return 0;
}
