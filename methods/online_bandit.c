/*
 * online_bandit.c - sampling the whole dataset from per-example bandit
 * feedback, with no extra forward passes (ALGORITHMS.md, online-bandit;
 * related: prioritised replay, Schaul et al. 2016; bandit sampling,
 * Salehi et al. 2017).
 *
 * State: s_i per example, started at s_init = sqrt(2) (the largest
 * possible upper-bound score G, so unseen examples get explored), and a
 * sum tree over q_i = s_i^alpha. Each of the b draws is uniform over N
 * with probability eps and from the tree otherwise, so
 *     p_i = (1 - eps) q_i / Q + eps / N,   w_i = 1 / (N p_i) <= 1 / eps,
 * with Q the tree total before any update. Observe moves s_i towards the
 * G_i of the training forward pass; draw never changes the state.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "builtin.h"
#include "sumtree.h"

/* Notation: N examples, b batch, M pool size in pool mode. */
typedef struct Bandit {
    size_t n;
    double eps, alpha, rho;
    double *s;             /* [N] smoothed scores s_i */
    SumTree tree;          /* leaves q_i = s_i^alpha */
    size_t observes;       /* observe calls since the last rebuild */
    size_t rebuild_every;  /* ceil(N / b): one epoch of observes */
    size_t b;              /* batch size the scratch below is for */
    double *u;             /* [b] scratch: tree draws' points */
    size_t *slot, *leaf;   /* [b] scratch: their batch slots, leaves */
} Bandit;

enum { P_EPS, P_ALPHA, P_RHO };

static const IsbParam bandit_params[] = {
    [P_EPS] = {"eps", ISB_PARAM_REAL, 0.5, 0, 1,
               "probability of a uniform draw (weights <= 1/eps)"},
    [P_ALPHA] = {"alpha", ISB_PARAM_REAL, 1, 0, 8,
                 "sample proportional to s_i^alpha"},
    [P_RHO] = {"rho", ISB_PARAM_REAL, 1, 0, 1,
               "s_i = (1 - rho) s_i + rho G_i after training on i"},
};

#define S_INIT 1.4142135623730951 /* sqrt(2), the largest possible G */

static double bandit_q(const Bandit *bd, double s)
{
    return bd->alpha == 1 ? s : pow(s, bd->alpha);
}

static int bandit_init(void **state, const IsbHost *host,
                       const double *params, gsl_rng *rng, char *err,
                       size_t errlen)
{
    (void)rng;
    if (isb_params_check(&isb_method_online_bandit, params, err,
                         errlen) != 0) {
        return -1;
    }
    if (host->n == 0 || host->b == 0) {
        snprintf(err, errlen, "online-bandit: needs examples and a batch "
                 "(N = %zu, b = %zu)", host->n, host->b);
        return -1;
    }
    Bandit *bd = calloc(1, sizeof *bd);
    if (bd == NULL) {
        snprintf(err, errlen, "online-bandit: out of memory");
        return -1;
    }
    bd->n = host->n;
    bd->eps = params[P_EPS];
    bd->alpha = params[P_ALPHA];
    bd->rho = params[P_RHO];
    bd->rebuild_every = (host->n + host->b - 1) / host->b;
    bd->b = host->b;
    bd->s = malloc(bd->n * sizeof *bd->s);
    bd->u = malloc(bd->b * sizeof *bd->u);
    bd->slot = malloc(bd->b * sizeof *bd->slot);
    bd->leaf = malloc(bd->b * sizeof *bd->leaf);
    if (bd->s == NULL || bd->u == NULL || bd->slot == NULL ||
        bd->leaf == NULL || sumtree_init(&bd->tree, bd->n) != 0) {
        free(bd->s);
        free(bd->u);
        free(bd->slot);
        free(bd->leaf);
        free(bd);
        snprintf(err, errlen, "online-bandit: out of memory for %zu "
                 "examples", host->n);
        return -1;
    }
    double q0 = bandit_q(bd, S_INIT);
    for (size_t i = 0; i < bd->n; i++) {
        bd->s[i] = S_INIT;
        sumtree_put(&bd->tree, i, q0);
    }
    sumtree_rebuild(&bd->tree);
    *state = bd;
    return 0;
}

/* Pool mode: the same mixture restricted to the M pool rows and
 * renormalised, p_r = (1 - eps) q_r / Q_pool + eps / M (uniform when
 * Q_pool is 0). */
static void pool_probs(const Bandit *bd, const IsbScores *pool, double *p)
{
    double qsum = 0;
    for (size_t r = 0; r < pool->m; r++) {
        qsum += sumtree_get(&bd->tree, pool->idx[r]);
    }
    double m = (double)pool->m;
    for (size_t r = 0; r < pool->m; r++) {
        double q = sumtree_get(&bd->tree, pool->idx[r]);
        p[r] = qsum > 0 ? (1 - bd->eps) * q / qsum + bd->eps / m : 1 / m;
    }
}

static int draw_pool(const Bandit *bd, const IsbHost *host, gsl_rng *rng,
                     IsbBatch *out)
{
    const IsbScores *pool = host->pool;
    double m = (double)pool->m, qsum = 0;
    for (size_t r = 0; r < pool->m; r++) {
        qsum += sumtree_get(&bd->tree, pool->idx[r]);
    }
    for (size_t j = 0; j < host->b; j++) {
        size_t r = 0;
        if (qsum <= 0 || gsl_rng_uniform(rng) < bd->eps) {
            r = gsl_rng_uniform_int(rng, pool->m);
        } else {
            /* Linear walk over the pool: O(M) per draw, no scratch. */
            double u = gsl_rng_uniform(rng) * qsum, acc = 0;
            size_t last = 0;
            for (r = 0; r < pool->m; r++) {
                double q = sumtree_get(&bd->tree, pool->idx[r]);
                if (q > 0) {
                    last = r;
                    acc += q;
                    if (u < acc) {
                        break;
                    }
                }
            }
            r = r < pool->m ? r : last;
        }
        double q = sumtree_get(&bd->tree, pool->idx[r]);
        double p = qsum > 0 ? (1 - bd->eps) * q / qsum + bd->eps / m
                            : 1 / m;
        out->row[j] = r;
        out->idx[j] = pool->idx[r];
        out->weight[j] = (float)(1 / (m * p));
    }
    out->from_scored = 1;
    return 0;
}

/* The random numbers are consumed in the order of the b draws (coin,
 * then index or point); the tree draws are then walked together with
 * sumtree_sample_many, whose cache misses overlap (at N = 10 million
 * most levels of the tree are out of cache). */
static int bandit_draw(void *state, const IsbHost *host, gsl_rng *rng,
                       IsbBatch *out)
{
    Bandit *bd = state;
    if (host->pool != NULL) {
        return draw_pool(bd, host, rng, out);
    }
    if (host->b > bd->b) {
        return -1;
    }
    double total = sumtree_total(&bd->tree), n = (double)bd->n;
    size_t m = 0;
    for (size_t j = 0; j < host->b; j++) {
        if (total <= 0 || gsl_rng_uniform(rng) < bd->eps) {
            out->idx[j] = gsl_rng_uniform_int(rng, bd->n);
        } else {
            bd->u[m] = gsl_rng_uniform(rng) * total;
            bd->slot[m++] = j;
        }
    }
    sumtree_sample_many(&bd->tree, bd->u, m, bd->leaf);
    for (size_t k = 0; k < m; k++) {
        out->idx[bd->slot[k]] = bd->leaf[k];
    }
    for (size_t j = 0; j < host->b; j++) {
        double q = sumtree_get(&bd->tree, out->idx[j]);
        double p = total > 0 ? (1 - bd->eps) * q / total + bd->eps / n
                             : 1 / n;
        out->row[j] = j;
        out->weight[j] = (float)(1 / (n * p));
    }
    out->from_scored = 0;
    return 0;
}

static int bandit_observe(void *state, const IsbFeedback *fb, gsl_rng *rng)
{
    (void)rng;
    Bandit *bd = state;
    for (size_t j = 0; j < fb->b; j++) {
        double g = fb->score[j];
        if (fb->idx[j] >= bd->n || !(g >= 0) || !isfinite(g)) {
            return -1;
        }
    }
    /* Scores first, then the tree: the b loads of s_i are independent
     * and overlap (at N = 10 million s is 80 MB, out of cache), and a
     * repeated index gets both updates in order, as one loop would. */
    for (size_t j = 0; j < fb->b; j++) {
        size_t i = fb->idx[j];
        bd->s[i] = (1 - bd->rho) * bd->s[i] + bd->rho * fb->score[j];
    }
    for (size_t j = 0; j < fb->b; j++) {
        size_t i = fb->idx[j];
        sumtree_set(&bd->tree, i, bandit_q(bd, bd->s[i]));
    }
    /* Updates recompute parents from children, so nothing drifts; the
     * once-an-epoch rebuild ALGORITHMS.md asks for is kept all the same
     * (O(N) per epoch, i.e. O(b) per step amortised). */
    if (++bd->observes >= bd->rebuild_every) {
        bd->observes = 0;
        sumtree_rebuild(&bd->tree);
    }
    return 0;
}

static void bandit_report(const void *state, IsbReport *out)
{
    (void)state;
    out->tau = NAN;
    out->is_active = 1;
}

static int bandit_probs(const void *state, const IsbHost *host,
                        const IsbScores *pool, double *p)
{
    (void)host;
    if (pool->m == 0) {
        return -1;
    }
    pool_probs(state, pool, p);
    return 0;
}

static void bandit_fini(void *state)
{
    Bandit *bd = state;
    if (bd != NULL) {
        sumtree_free(&bd->tree);
        free(bd->s);
        free(bd->u);
        free(bd->slot);
        free(bd->leaf);
        free(bd);
    }
}

const IsbSamplerType isb_method_online_bandit = {
    .abi_version = ISB_SAMPLER_ABI_VERSION,
    .name = "online-bandit",
    .summary = "sum tree over per-example scores from training feedback, "
               "mixed with uniform",
    .params = bandit_params,
    .n_params = sizeof bandit_params / sizeof *bandit_params,
    .flags = ISB_SAMPLER_WHOLE_DATASET,
    .init = bandit_init,
    .draw = bandit_draw,
    .observe = bandit_observe,
    .report = bandit_report,
    .probs = bandit_probs,
    .fini = bandit_fini,
};
