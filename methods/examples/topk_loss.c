/*
 * topk_loss.c - example plugin: max-loss top-k selection.
 *
 * Presample B = factor * b candidates uniformly (with replacement), score
 * them with one forward pass, and train on the b with the highest loss,
 * each with weight 1. This is online hard example mining (Shrivastava,
 * Gupta & Girshick 2016, "Training Region-based Object Detectors with
 * Online Hard Example Mining", arXiv 1604.03540) and the selection rule of
 * Ordered SGD (Kawaguchi & Lu 2020, arXiv 1907.04371). It is BIASED: the
 * weights do not correct for the selection, so the step follows the
 * gradient of a top-k loss, not of the mean loss.
 *
 * Build outside the tree (after `make install`):
 *   cc -shared -fPIC -o topk_loss.so topk_loss.c \
 *      $(pkg-config --cflags --libs isbench-sampler)
 */
#include <stdio.h>
#include <stdlib.h>

#include "isbench_sampler.h"

typedef struct TopK {
    size_t big_b;   /* candidates B per step */
    size_t *cand;   /* [B] scratch: candidate indices */
} TopK;

static const IsbParam topk_params[] = {
    {"factor", ISB_PARAM_INT, 4, 1, 64,
     "presample B = factor * b candidates, train on the b hardest"},
};

static const IsbSamplerType topk_type;

static int topk_init(void **state, const IsbHost *host,
                     const double *params, gsl_rng *rng, char *err,
                     size_t errlen)
{
    (void)rng;
    if (isb_params_check(&topk_type, params, err, errlen) != 0) {
        return -1;
    }
    size_t big_b = (size_t)params[0] * host->b;
    if (host->n == 0 || host->b == 0 || big_b > host->max_score) {
        snprintf(err, errlen, "topk-loss: B = %zu candidates for b = %zu "
                 "on N = %zu (expected 1 <= B <= %zu, N >= 1)", big_b,
                 host->b, host->n, host->max_score);
        return -1;
    }
    TopK *t = calloc(1, sizeof *t);
    size_t *cand = malloc(big_b * sizeof *cand);
    if (t == NULL || cand == NULL) {
        free(t);
        free(cand);
        snprintf(err, errlen, "topk-loss: out of memory");
        return -1;
    }
    t->big_b = big_b;
    t->cand = cand;
    *state = t;
    return 0;
}

/* row[0..k-1] = the k rows of the highest loss, in decreasing order
 * (ties by row), by insertion: O(m k) with no scratch beyond row. */
static void top_rows(const float *loss, size_t m, size_t k, size_t *row)
{
    size_t have = 0;
    for (size_t r = 0; r < m; r++) {
        if (have == k && !(loss[r] > loss[row[k - 1]])) {
            continue;
        }
        size_t pos = have < k ? have++ : k - 1;
        while (pos > 0 && loss[row[pos - 1]] < loss[r]) {
            row[pos] = row[pos - 1];
            pos--;
        }
        row[pos] = r;
    }
}

static int topk_draw(void *state, const IsbHost *host, gsl_rng *rng,
                     IsbBatch *out)
{
    TopK *t = state;
    IsbScores sc;
    const IsbScores *pool = host->pool;
    if (pool == NULL) {
        for (size_t r = 0; r < t->big_b; r++) {
            t->cand[r] = gsl_rng_uniform_int(rng, host->n);
        }
        if (host->score(host->ctx, t->cand, t->big_b, 0, &sc) != 0) {
            return -1;
        }
        pool = &sc;
    }
    if (pool->m == 0) {
        return -1;
    }
    size_t k = host->b < pool->m ? host->b : pool->m;
    top_rows(pool->loss, pool->m, k, out->row);
    for (size_t j = 0; j < host->b; j++) {
        out->row[j] = out->row[j % k];  /* repeats only when M < b */
        out->idx[j] = pool->idx[out->row[j]];
        out->weight[j] = 1.0f;
    }
    out->from_scored = 1;
    return 0;
}

static int topk_observe(void *state, const IsbFeedback *fb, gsl_rng *rng)
{
    (void)state;
    (void)fb;
    (void)rng;
    return 0;  /* no state: each step selects afresh */
}

static void topk_fini(void *state)
{
    TopK *t = state;
    if (t != NULL) {
        free(t->cand);
        free(t);
    }
}

static const IsbSamplerType topk_type = {
    .abi_version = ISB_SAMPLER_ABI_VERSION,
    .name = "topk-loss",
    .summary = "train on the b highest-loss of B presampled (biased, OHEM)",
    .params = topk_params,
    .n_params = sizeof topk_params / sizeof *topk_params,
    .flags = 0,
    .init = topk_init,
    .draw = topk_draw,
    .observe = topk_observe,
    .report = NULL,
    .probs = NULL,
    .fini = topk_fini,
};

const IsbSamplerType *isb_sampler_entry(size_t index)
{
    return index == 0 ? &topk_type : NULL;
}
