/*
 * bench_mem.c - peak resident memory of a full MNIST MLP run (a child
 * `isbench run`, ru_maxrss from wait4) against the sum of what the run
 * must hold: the dataset as uint8 (train + test, with int labels), the
 * parameters, gradients and optimiser state, and the workspace (the
 * network's activations for the runner's max_rows rows and the runner's
 * row buffers). The network and optimiser parts are measured here with
 * mallinfo2 around network_create / optim_create for the same shapes.
 * Skipped, with a message, when MNIST is not in the data folder
 * ($ISBENCH_DATA or datasets/cache: make datasets) or the run fails.
 */
#define _GNU_SOURCE

#include "bench.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "datasets/dataset.h"
#include "harness/network.h"
#include "harness/optim.h"

enum { N_TRAIN = 60000, N_TEST = 10000, D = 784, MAX_PRESAMPLE = 10 };

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* The bytes the run must hold (see the file comment); parts in out[]:
 * dataset, parameters + gradients + network workspace, optimiser,
 * runner buffers. */
static int model_bytes(double out[4])
{
    size_t rows = BENCH_BATCH * MAX_PRESAMPLE > 1024
        ? BENCH_BATCH * MAX_PRESAMPLE : 1024;
    Network *net;
    Optimizer *opt;
    OptimSpec spec;
    IsbError err;
    size_t h0 = heap_bytes();
    if (network_create("dense 512, relu, dense 512, relu, dense 10", 1, 28,
                       28, 10, rows, &net, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return -1;
    }
    size_t h1 = heap_bytes();
    optim_defaults(OPTIM_RMSPROP, &spec);
    if (optim_create(&spec, network_num_params(net), &opt, &err) != 0) {
        network_free(net);
        return -1;
    }
    size_t h2 = heap_bytes();
    out[0] = (double)(N_TRAIN + N_TEST) * (D + sizeof(int));
    out[1] = (double)(h1 - h0);
    out[2] = (double)(h2 - h1);
    /* runner.c alloc_buffers: x [rows][d] floats, y, candidate index,
     * loss, score, gnorm, correct [rows]; evaluation subset indices. */
    out[3] = (double)rows * (D * sizeof(float) + sizeof(int) +
                             sizeof(size_t) + 3 * sizeof(float) + 1) +
             (double)(10000 + N_TEST) * sizeof(size_t);
    fprintf(stderr, "bench: memory model: dataset %.1f MB, network "
            "(%zu parameters, gradients, activations for %zu rows) %.1f "
            "MB, optimiser %.1f MB, runner buffers %.1f MB\n",
            out[0] / 1e6, network_num_params(net), rows, out[1] / 1e6,
            out[2] / 1e6, out[3] / 1e6);
    optim_free(opt);
    network_free(net);
    return 0;
}

/* Peak RSS in bytes of `exe run experiments/mnist_mlp.ini ... budget`,
 * or -1 when the run fails. */
static double peak_rss(const char *exe, const char *budget, const char *dir)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench: fork");
        return -1;
    }
    if (pid == 0) {
        execl(exe, exe, "run", "experiments/mnist_mlp.ini", "--method",
              "uniform", "--seed", "1", "--quiet", "--out", dir, "--set",
              budget, "--set", "training.threads=2", (char *)NULL);
        perror(exe);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        return -1;
    }
    return 1024.0 * (double)ru.ru_maxrss;
}

int bench_memory(BenchTable *t, const char *exe)
{
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/mnist/train-images-idx3-ubyte",
             dataset_default_dir());
    if (access(probe, R_OK) != 0) {
        fprintf(stderr, "bench: memory skipped: %s not found (run make "
                "datasets, or set ISBENCH_DATA)\n", probe);
        bench_row(t, "memory", "skipped: no MNIST data", 0);
        return 0;
    }
    double part[4];
    char tmpl[] = "/tmp/isbench-mem-XXXXXX";
    if (model_bytes(part) != 0 || mkdtemp(tmpl) == NULL) {
        return -1;
    }
    double sum = part[0] + part[1] + part[2] + part[3];
    static const char *budgets[] = {"training.epochs=1",
                                    "training.epochs=3"};
    for (int k = 0; k < 2; k++) {
        fprintf(stderr, "bench: peak memory of %s run %s\n", exe,
                budgets[k]);
        double peak = peak_rss(exe, budgets[k], tmpl);
        bench_remove_tree(tmpl);
        if (peak < 0) {
            fprintf(stderr, "bench: memory skipped: the MNIST run failed "
                    "(is ISBENCH_DATA right?)\n");
            bench_row(t, "memory", "skipped: run failed", 0);
            return 0;
        }
        BenchRow *r = bench_row(t, "memory", budgets[k] + 9, 2);
        bench_target(r, "peak/sum", peak / sum, 1.3, 1);
        r = bench_row(t, "memory_mb", budgets[k] + 9, 2);
        bench_target(r, "peak_MB", peak / 1e6, NAN, 0);
        snprintf(r->target, sizeof r->target, "sum %.1f", sum / 1e6);
    }
    return 0;
}
