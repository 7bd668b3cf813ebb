/*
 * bench_bandit.c - online-bandit draw + observe per step against N
 * (ALGORITHMS.md, online-bandit: O(b log N) per step, plus an O(N) tree
 * rebuild once per epoch, amortised here over the epoch's steps), on
 * synthetic indices and scores, no network. Reported as a share of the
 * MLP step; the target is the share at 10 million within 3x the share
 * at 60 000.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/registry.h"

enum { STEPS = 10000 };

/* Microseconds per step at N: draw + observe, median of reps rounds of
 * STEPS steps after one warm-up round. */
static int bandit_step(size_t n, const IsbSamplerType *type,
                       const double *params, int reps, double *out_s)
{
    enum { B = BENCH_BATCH };
    IsbHost host = {n, B, 10, 10 * B, NULL, NULL, NULL};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    void *state;
    char msg[256];
    if (rng == NULL || type->init(&state, &host, params, rng, msg,
                                  sizeof msg) != 0) {
        fprintf(stderr, "bench: online-bandit at N = %zu: %s\n", n, msg);
        gsl_rng_free(rng);
        return -1;
    }
    size_t idx[B], row[B];
    float w[B], loss[B], score[B];
    IsbBatch batch = {B, idx, w, row, 0};
    double t[64];
    long step = 0;
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        for (long s = 0; s < STEPS; s++, step++) {
            type->draw(state, &host, rng, &batch);
            for (size_t j = 0; j < B; j++) {
                loss[j] = 0.1f;
                score[j] = (float)(idx[j] % 1000) * 1.4e-3f;
            }
            IsbFeedback fb = {B, idx, w, loss, score, NULL, NULL, step};
            type->observe(state, &fb, rng);
        }
        if (r >= 0) {
            t[r] = (bench_now() - t0) / STEPS;
        }
    }
    type->fini(state);
    gsl_rng_free(rng);
    *out_s = bench_median(t, reps);
    return 0;
}

int bench_bandit(BenchTable *t, double step_s)
{
    static const size_t sizes[] = {60000, 1000000, 10000000};
    const IsbSamplerType *type;
    IsbError err;
    double params[REGISTRY_MAX_PARAMS], share0 = 0;
    if (registry_find("online-bandit", &type, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return -1;
    }
    for (size_t k = 0; k < type->n_params; k++) {
        params[k] = type->params[k].def;
    }
    for (size_t k = 0; k < 3; k++) {
        double s;
        char item[40];
        fprintf(stderr, "bench: online-bandit at N = %zu\n", sizes[k]);
        if (bandit_step(sizes[k], type, params, bench_reps(5), &s) != 0) {
            return -1;
        }
        double share = s / step_s;
        share0 = k == 0 ? share : share0;
        snprintf(item, sizeof item, "online-bandit N=%zu", sizes[k]);
        BenchRow *r = bench_row(t, "bandit", item, 0);
        r->ms = 1e3 * s;
        bench_target(r, "share", share, 0.02, 1);
        if (k > 0) {
            r = bench_row(t, "bandit_grow", item, 0);
            bench_target(r, "share/60k", share / share0,
                         k == 2 ? 3.0 : NAN, 1);
        }
    }
    return 0;
}
