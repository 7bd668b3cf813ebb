/*
 * variance.h - the variance of a method's mini-batch gradient estimator at
 * frozen parameters, exactly and by Monte Carlo.
 *
 * Notation (ALGORITHMS.md, gradient variance): a pool of M candidates
 * with per-example gradients g_i (loss only, no regulariser), their mean
 * g_bar, a method's probabilities p over the pool, b draws with
 * replacement and weights w = 1 / (M p). The estimator is
 * G_hat = (1/b) sum_j w_j g_{i_j}, and
 *     E||G_hat - g_bar||^2 = (1/b) [(1/M^2) sum_i ||g_i||^2 / p_i
 *                                   - ||g_bar||^2].
 * Norms ||g_i|| come from network_grad_norms; Monte-Carlo draws use the
 * method's own draw in pool mode (IsbHost.pool) and real weighted batch
 * gradients from network_backward.
 */
#ifndef ISB_VARIANCE_H
#define ISB_VARIANCE_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "datasets/dataset.h"
#include "error.h"
#include "isbench_sampler.h"
#include "network.h"

typedef struct VarianceProbe VarianceProbe;

/* One method's figures at one set of parameters. */
typedef struct VarianceResult {
    double exact;        /* NaN when the method gives no probabilities or
                            its weights are not 1 / (M p) */
    double mc;           /* mean of ||G_hat - g_bar||^2 over K draws */
    double mc_stderr;    /* its standard error */
    double uniform;      /* uniform's exact value, same pool */
    double bias;         /* ||mean of G_hat - g_bar||, Monte Carlo */
    int restricted;      /* 1: a whole-dataset method restricted to pool */
} VarianceResult;

/* A probe for net (whose max batch must be >= b) on train: pools of
 * pool_size examples (0 or >= N: the whole set), batches of b, K draws.
 * Allocates all its buffers here. */
int variance_probe_create(Network *net, const Dataset *train, size_t b,
                          size_t pool_size, size_t draws,
                          VarianceProbe **out, IsbError *err);
void variance_probe_free(VarianceProbe *vp);

size_t variance_probe_pool_size(const VarianceProbe *vp);

/* Draw a new pool uniformly without replacement from rng and compute, at
 * the network's current parameters, every pool example's loss, score and
 * exact gradient norm and the pool mean gradient. Overwrites the
 * network's activations and gradient vector, never its parameters. */
int variance_probe_pool(VarianceProbe *vp, gsl_rng *rng, IsbError *err);

/* Measure a method (its state from init and observe) on the current
 * pool: exact from its probs() where available, and K Monte-Carlo draws
 * from rng through its draw in pool mode. */
int variance_probe_method(VarianceProbe *vp, const IsbSamplerType *type,
                          void *state, gsl_rng *rng, VarianceResult *out,
                          IsbError *err);

/* A score callback that always fails: the host of a method that only
 * draws in pool mode, where scoring is never needed. */
int variance_no_score(void *ctx, const size_t *idx, size_t m,
                      int want_gnorm, IsbScores *out);

/* The exact formula for explicit numbers: sq_norms[i] = ||g_i||^2,
 * p[i] > 0 wherever sq_norms[i] > 0, mean_sq = ||g_bar||^2. */
double variance_exact(const double *sq_norms, const double *p, size_t m,
                      double mean_sq, size_t b);

#endif

/* ---- isbench variance: a trajectory with checkpoints ------------------ */

#include "config.h"
#include "registry.h"
#include "runner.h"

#define VARIANCE_MAX_METHODS 16

typedef struct VarianceMethod {
    const IsbSamplerType *type;
    double params[REGISTRY_MAX_PARAMS];  /* resolved */
} VarianceMethod;

typedef struct VarianceRunOptions {
    const Config *cfg;            /* probes.pool/draws, variance.* keys */
    unsigned long seed;
    VarianceMethod reference;     /* trains the trajectory */
    VarianceMethod methods[VARIANCE_MAX_METHODS];
    size_t n_methods;
    const char *out_dir;          /* variance.csv here, the trajectory's
                                     own files in OUT/trajectory */
    volatile sig_atomic_t *stop;
    void (*progress)(void *ctx, const RunProgress *p);
    void *progress_ctx;
} VarianceRunOptions;

/* Train one trajectory with the reference method; at log-spaced
 * checkpoints (cfg->var_checkpoints, in steps 1..total) freeze the
 * parameters, draw a pool from the (seed, "probe") stream and measure
 * every listed method on it, into OUT/variance.csv. Each measured method
 * is initialised once and observes the reference's steps (shadowing the
 * trajectory), so state such as online-bandit's scores follows training;
 * it never trains. The budget must be in epochs or steps. */
int variance_run(const VarianceRunOptions *opt, RunSummary *summary,
                 IsbError *err);

/* Fill steps[0..*n-1] with up to max distinct log-spaced checkpoints in
 * [1, total], ending at total. */
void variance_checkpoints(long total, long max, long *steps, long *n);
