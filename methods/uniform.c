/*
 * uniform.c - the baseline: every example equally likely, weight 1.
 *
 * By default it walks shuffled epochs (what plain training does, and what
 * the reference library's baseline did); `replacement = 1` draws each
 * index independently with p_i = 1/N (ALGORITHMS.md, uniform).
 *
 * Draw must not change state, so the state holds the current epoch's
 * permutation and the next one: a batch that crosses an epoch boundary
 * reads into the next permutation, and observe advances the position and
 * reshuffles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "builtin.h"

typedef struct Uniform {
    size_t n;
    int replacement;
    size_t pos;      /* next unread position in cur */
    size_t *cur;     /* [n] this epoch's order */
    size_t *next;    /* [n] the next epoch's order */
} Uniform;

static const IsbParam uniform_params[] = {
    {"replacement", ISB_PARAM_BOOL, 0, 0, 1,
     "1: draw with replacement; 0: shuffled epochs"},
};

static void shuffle(size_t *perm, size_t n, gsl_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        perm[i] = i;
    }
    gsl_ran_shuffle(rng, perm, n, sizeof *perm);
}

static int uniform_init(void **state, const IsbHost *host,
                        const double *params, gsl_rng *rng, char *err,
                        size_t errlen)
{
    if (isb_params_check(&isb_method_uniform, params, err, errlen) != 0) {
        return -1;
    }
    if (host->b == 0 || host->b > host->n) {
        snprintf(err, errlen, "uniform: batch %zu (expected 1 to "
                 "the %zu training examples)", host->b, host->n);
        return -1;
    }
    Uniform *u = calloc(1, sizeof *u);
    if (u == NULL) {
        snprintf(err, errlen, "uniform: out of memory");
        return -1;
    }
    u->n = host->n;
    u->replacement = params[0] != 0;
    if (!u->replacement) {
        u->cur = malloc(u->n * sizeof *u->cur);
        u->next = malloc(u->n * sizeof *u->next);
        if (u->cur == NULL || u->next == NULL) {
            free(u->cur);
            free(u->next);
            free(u);
            snprintf(err, errlen, "uniform: out of memory");
            return -1;
        }
        shuffle(u->cur, u->n, rng);
        shuffle(u->next, u->n, rng);
    }
    *state = u;
    return 0;
}

static int uniform_draw(void *state, const IsbHost *host, gsl_rng *rng,
                        IsbBatch *out)
{
    const Uniform *u = state;
    if (host->pool != NULL) {
        /* Pool mode: uniform with replacement over the pool. */
        for (size_t j = 0; j < host->b; j++) {
            out->row[j] = gsl_rng_uniform_int(rng, host->pool->m);
            out->idx[j] = host->pool->idx[out->row[j]];
            out->weight[j] = 1.0f;
        }
        out->from_scored = 1;
        return 0;
    }
    for (size_t j = 0; j < host->b; j++) {
        if (u->replacement) {
            out->idx[j] = gsl_rng_uniform_int(rng, u->n);
        } else {
            size_t k = u->pos + j;
            out->idx[j] = k < u->n ? u->cur[k] : u->next[k - u->n];
        }
        out->weight[j] = 1.0f;
    }
    out->from_scored = 0;
    return 0;
}

static int uniform_observe(void *state, const IsbFeedback *fb, gsl_rng *rng)
{
    Uniform *u = state;
    if (u->replacement) {
        return 0;
    }
    u->pos += fb->b;
    if (u->pos >= u->n) {
        size_t *t = u->cur;
        u->cur = u->next;
        u->next = t;
        u->pos -= u->n;
        shuffle(u->next, u->n, rng);
    }
    return 0;
}

static int uniform_probs(const void *state, const IsbHost *host,
                         const IsbScores *pool, double *p)
{
    (void)state;
    (void)host;
    for (size_t i = 0; i < pool->m; i++) {
        p[i] = 1.0 / (double)pool->m;
    }
    return 0;
}

static void uniform_fini(void *state)
{
    Uniform *u = state;
    if (u != NULL) {
        free(u->cur);
        free(u->next);
        free(u);
    }
}

const IsbSamplerType isb_method_uniform = {
    .abi_version = ISB_SAMPLER_ABI_VERSION,
    .name = "uniform",
    .summary = "uniform sampling, shuffled epochs (the baseline)",
    .params = uniform_params,
    .n_params = sizeof uniform_params / sizeof *uniform_params,
    .flags = 0,
    .init = uniform_init,
    .draw = uniform_draw,
    .observe = uniform_observe,
    .report = NULL,
    .probs = uniform_probs,
    .fini = uniform_fini,
};
