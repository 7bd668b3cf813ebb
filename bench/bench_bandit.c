/*
 * bench_bandit.c - online-bandit draw + observe time per step against N
 * (ALGORITHMS.md, online-bandit: O(b log N) per step, plus an O(N) tree
 * rebuild once per epoch). A benchmark, not a test: nothing is asserted.
 *
 * Usage: build/bench_bandit [N ...]   (default 60000 1000000 10000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness/registry.h"
#include "methods/sumtree.h"

#define B 128
#define STEPS 20000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench(size_t n, const IsbSamplerType *t, const double *params)
{
    IsbHost host = {n, B, 10, 10 * B, NULL, NULL, NULL};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    void *state;
    char msg[256];
    if (t->init(&state, &host, params, rng, msg, sizeof msg) != 0) {
        fprintf(stderr, "init: %s\n", msg);
        return 1;
    }
    size_t idx[B], row[B];
    float w[B], loss[B], score[B];
    IsbBatch batch = {B, idx, w, row, 0};
    double t_draw = 0, t_obs = 0;
    for (long s = 0; s < STEPS; s++) {
        double t0 = now();
        t->draw(state, &host, rng, &batch);
        double t1 = now();
        for (size_t j = 0; j < B; j++) {
            loss[j] = 0.1f;
            score[j] = (float)(idx[j] % 1000) * 1.4e-3f;
        }
        IsbFeedback fb = {B, idx, w, loss, score, NULL, NULL, s};
        t->observe(state, &fb, rng);
        t_draw += t1 - t0;
        t_obs += now() - t1;
    }
    t->fini(state);

    /* The once-an-epoch rebuild, timed on its own and amortised. */
    SumTree tree;
    if (sumtree_init(&tree, n) != 0) {
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        sumtree_put(&tree, i, 1.0);
    }
    double t0 = now();
    sumtree_rebuild(&tree);
    double t_rebuild = now() - t0;
    sumtree_free(&tree);
    double per_epoch = (double)((n + B - 1) / B);

    printf("%10zu %12.2f %12.2f %12.2f %12.3f %12.2f\n", n,
           1e6 * t_draw / STEPS, 1e6 * t_obs / STEPS,
           1e6 * (t_draw + t_obs) / STEPS, 1e3 * t_rebuild,
           1e6 * ((t_draw + t_obs) / STEPS + t_rebuild / per_epoch));
    gsl_rng_free(rng);
    return 0;
}

int main(int argc, char **argv)
{
    const IsbSamplerType *t;
    IsbError err;
    double params[REGISTRY_MAX_PARAMS];
    if (registry_find("online-bandit", &t, &err) != 0) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    for (size_t k = 0; k < t->n_params; k++) {
        params[k] = t->params[k].def;
    }
    printf("online-bandit, b = %d, %d steps per N (microseconds per step; "
           "rebuild in ms)\n", B, STEPS);
    printf("%10s %12s %12s %12s %12s %12s\n", "N", "draw", "observe",
           "step", "rebuild_ms", "step+rebuild");
    const char *def[] = {"60000", "1000000", "10000000"};
    int n_args = argc > 1 ? argc - 1 : 3;
    for (int a = 0; a < n_args; a++) {
        const char *s = argc > 1 ? argv[a + 1] : def[a];
        char *end;
        unsigned long long n = strtoull(s, &end, 10);
        if (end == s || *end != '\0' || n == 0) {
            fprintf(stderr, "error: N '%s' (expected a positive integer)\n",
                    s);
            return 1;
        }
        if (bench((size_t)n, t, params) != 0) {
            return 1;
        }
    }
    return 0;
}
