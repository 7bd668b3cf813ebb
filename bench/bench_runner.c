/*
 * bench_runner.c - steps through the real harness path: runner_run on a
 * synthetic MNIST-shaped set (60 000 x 784, 10 classes) with the MNIST
 * MLP, so the times include sampling, scoring, reuse of the scored
 * activations (network_gather) and the conversion of rows.
 *
 * Upper-bound runs with tau_th = 0 (importance sampling from the first
 * steps) and presample factor f = B / b; its FLOP model with reuse is
 * (B + 2b) / (3b) times uniform's step (ALGORITHMS.md, upper-bound: one
 * forward pass on B rows, a backward pass worth two forwards on b).
 * Every built-in method's sampler share is (sampler_seconds -
 * score_seconds) / train_seconds of its run: draw and observe without
 * the scoring forward passes.
 */
#define _XOPEN_SOURCE 700

#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/config.h"
#include "harness/registry.h"
#include "harness/runner.h"

enum { STEPS = 160, WARMUP = 20 };

/* What one run gives: seconds per step after the warm-up, and the
 * sampler's share of the on-clock time. */
typedef struct RunTime {
    double step_s, sampler_share;
} RunTime;

typedef struct Warm {
    double t_warm;  /* train_seconds after WARMUP steps */
} Warm;

static void on_progress(void *ctx, const RunProgress *p)
{
    Warm *w = ctx;
    if (p->step == WARMUP) {
        w->t_warm = p->train_seconds;
    }
}

static int set_all(Config *cfg, const char *const *kv, size_t n)
{
    IsbError err;
    for (size_t k = 0; k < n; k++) {
        if (config_set(cfg, kv[k], &err) != 0) {
            fprintf(stderr, "bench: --set %s: %s\n", kv[k], err.msg);
            return -1;
        }
    }
    return 0;
}

/* One run of method (factor > 0: its presample factor) at threads. */
static int run_once(const IsbSamplerType *method, int factor, int threads,
                    const char *dir, RunTime *out)
{
    static const char *const base[] = {
        "experiment.name=bench", "experiment.dataset=synthetic",
        "synthetic.n_train=60000", "synthetic.n_test=1000",
        "synthetic.dim=784", "synthetic.classes=10",
        "network.layers=dense 512, relu, dense 512, relu, dense 10",
        "training.batch=128", "training.epochs=0", "training.optimizer="
        "rmsprop", "training.lr=1e-3", "training.rho=0.9",
        "training.eps=1e-7", "training.l2=1e-5",
        "evaluation.every=1000000000", "evaluation.train_subset=1000",
        "logging.steps_every=1000000000",
        "method.upper-bound.tau_th=0"};
    Config cfg;
    char kv[3][96];
    config_defaults(&cfg);
    snprintf(kv[0], sizeof kv[0], "training.steps=%d", STEPS);
    snprintf(kv[1], sizeof kv[1], "training.threads=%d", threads);
    snprintf(kv[2], sizeof kv[2], "method.%s.presample=%d", method->name,
             factor);
    if (set_all(&cfg, base, sizeof base / sizeof *base) != 0 ||
        set_all(&cfg, (const char *const[]){kv[0], kv[1], kv[2]},
                factor > 0 ? 3 : 2) != 0) {
        return -1;
    }

    double params[REGISTRY_MAX_PARAMS];
    IsbError err;
    if (registry_resolve_params(method, &cfg, params, &err) != 0) {
        fprintf(stderr, "bench: %s: %s\n", method->name, err.msg);
        return -1;
    }
    Warm warm = {NAN};
    RunOptions opt = {.cfg = &cfg, .method = method,
                      .method_params = params, .seed = 1, .out_dir = dir,
                      .progress = on_progress, .progress_ctx = &warm};
    RunSummary sum;
    int rc = runner_run(&opt, &sum, &err);
    bench_remove_tree(dir);
    if (rc != 0 || sum.status != RUN_DONE || sum.steps != STEPS) {
        fprintf(stderr, "bench: run of %s failed: %s\n", method->name,
                rc != 0 ? err.msg : runner_status_name(sum.status));
        return -1;
    }
    out->step_s = (sum.train_seconds - warm.t_warm) / (STEPS - WARMUP);
    out->sampler_share = (sum.sampler_seconds - sum.score_seconds) /
                         sum.train_seconds;
    return 0;
}

/* The runs of one thread count: uniform, upper-bound 3 and 5 first
 * (their rows need uniform's time), then every other built-in method;
 * repetitions interleave the methods so noise hits all alike. */
enum { MAX_RUNS = 16 };

typedef struct Plan {
    const IsbSamplerType *method[MAX_RUNS];
    int factor[MAX_RUNS];
    char label[MAX_RUNS][40];
    int n;
} Plan;

static int make_plan(Plan *p)
{
    IsbError err;
    const IsbSamplerType *ub;
    p->n = 0;
    if (registry_find("uniform", &p->method[0], &err) != 0 ||
        registry_find("upper-bound", &ub, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return -1;
    }
    p->factor[0] = 0;
    snprintf(p->label[p->n++], 40, "uniform");
    for (int f = 3; f <= 5; f += 2) {
        p->method[p->n] = ub;
        p->factor[p->n] = f;
        snprintf(p->label[p->n++], 40, "upper-bound f=%d", f);
    }
    for (size_t i = 0; i < registry_count() && p->n < MAX_RUNS; i++) {
        const IsbSamplerType *m = registry_at(i);
        if (m != p->method[0] && m != ub) {
            p->method[p->n] = m;
            p->factor[p->n] = 0;
            snprintf(p->label[p->n++], 40, "%s", m->name);
        }
    }
    return 0;
}

int bench_runner(BenchTable *t, double ub_sps[2][3])
{
    const int reps = bench_reps(5) > 3 ? 3 : bench_reps(5);
    char tmpl[] = "/tmp/isbench-bench-XXXXXX", dir[64];
    Plan plan;
    if (make_plan(&plan) != 0 || mkdtemp(tmpl) == NULL) {
        return -1;
    }
    snprintf(dir, sizeof dir, "%s/run", tmpl);
    int rc = 0;
    for (int threads = 1; threads <= 2 && rc == 0; threads++) {
        double step[MAX_RUNS][8], share[MAX_RUNS][8];
        for (int r = 0; r < reps && rc == 0; r++) {
            for (int k = 0; k < plan.n && rc == 0; k++) {
                RunTime rt;
                fprintf(stderr, "bench: runner %s, %d thread(s), rep %d\n",
                        plan.label[k], threads, r + 1);
                rc = run_once(plan.method[k], plan.factor[k], threads, dir,
                              &rt);
                step[k][r] = rt.step_s;
                share[k][r] = rt.sampler_share;
            }
        }
        if (rc != 0) {
            break;
        }

        double uni = bench_median(step[0], reps);
        for (int k = 0; k < plan.n; k++) {
            double st = bench_median(step[k], reps);
            double sh = bench_median(share[k], reps);
            BenchRow *row;
            if (k < 3) {
                ub_sps[threads - 1][k] = BENCH_BATCH / st;
            }
            if (k >= 1 && k <= 2) {
                double f = plan.factor[k];
                double model = (f * BENCH_BATCH + 2.0 * BENCH_BATCH) /
                               (3.0 * BENCH_BATCH);
                row = bench_row(t, "upper_bound", plan.label[k], threads);
                row->ms = 1e3 * st;
                row->samples_per_s = BENCH_BATCH / st;
                bench_target(row, "ratio/model", st / uni / model, 1.10,
                             1);
                row = bench_row(t, "ub_model", plan.label[k], threads);
                bench_target(row, "ratio", st / uni, NAN, 0);
                snprintf(row->target, sizeof row->target, "model %.3f",
                         model);
            }
            row = bench_row(t, "sampler", plan.label[k], threads);
            row->ms = 1e3 * st;
            row->samples_per_s = BENCH_BATCH / st;
            bench_target(row, "share", sh, 0.02, 1);
        }
    }
    rmdir(tmpl);
    return rc;
}
