/*
 * presample.h - pieces shared by the presampling methods: candidate
 * presampling, per-example scores, the weighted draw with unbiased
 * weights, the tau estimate of Algorithm 1 (Katharopoulos & Fleuret 2018,
 * arXiv 1803.00942), and the Algorithm 1 engine that upper-bound, loss and
 * gnorm are thin descriptors around (ALGORITHMS.md).
 *
 * Math names: N training examples, b batch size, B (or m) candidates,
 * s_i >= 0 a candidate's score, p_i = s_i / sum(s), w_i = 1 / (m p_i).
 */
#ifndef ISB_PRESAMPLE_H
#define ISB_PRESAMPLE_H

#include <stddef.h>

#include "isbench_sampler.h"

/* Which per-example quantity a method samples by. */
typedef enum PresampleScore {
    PRESAMPLE_UPPER_BOUND, /* G_i = ||dL_i/dz_i||, Algorithm 1 */
    PRESAMPLE_LOSS,        /* L_i + PRESAMPLE_LOSS_FLOOR */
    PRESAMPLE_GNORM        /* exact ||dL_i/dtheta|| (the oracle) */
} PresampleScore;

/* ALGORITHMS.md, loss: a loss can be exactly 0, so p needs a floor. */
#define PRESAMPLE_LOSS_FLOOR 1e-12

/* Fill cand[0..B-1] with indices drawn uniformly from [0, n), with
 * replacement, using rng only. */
void presample_candidates(size_t n, size_t B, gsl_rng *rng, size_t *cand);

/* Copy the scores of kind from sc (m = sc->m) into s[0..m-1]. Returns -1
 * when sc lacks that array (gnorm not computed) or a score is negative or
 * not finite, else 0. */
int presample_scores(PresampleScore kind, const IsbScores *sc, double *s);

/* p[i] = s[i] / sum(s) for i < m; uniform when the sum is 0. */
void presample_probs(const double *s, size_t m, double *p);

/* Draw b rows from m candidates with p_i = s_i / sum(s) (uniform when the
 * sum is 0), with replacement: row[j] and weight[j] = 1 / (m p_row[j]).
 * cum is [m] scratch. Allocates nothing; randomness from rng only. */
void presample_draw(const double *s, size_t m, size_t b, gsl_rng *rng,
                    double *cum, size_t *row, float *weight);

/* tau_new = sqrt(m sum(g^2)) with g = s / sum(s) (Algorithm 1; g uniform,
 * tau_new = 1, when the sum is 0). Test values: (1,1,1,1) -> 1,
 * (1,0,0,0) -> 2, (1,2,3,4) -> 1.095445. */
double presample_tau_new(const double *s, size_t m);

/* The exponential average smoothing tau + (1 - smoothing) tau_new
 * (Algorithm 1 uses smoothing 0.9). */
double presample_tau_ema(double tau, double tau_new, double smoothing);

/* tau_th = (B + 3b) / (3b) (eq. 29: a backward costs two forwards). */
double presample_tau_threshold(size_t B, size_t b);

/* Scratch arrays of a presampling draw, grown on demand (at init for B
 * candidates, and in pool mode for a larger pool: never in training). */
typedef struct PresampleScratch {
    size_t cap;       /* length of each array */
    size_t *cand;     /* [cap] candidate dataset indices */
    double *s, *cum;  /* [cap] scores and their running sums */
} PresampleScratch;

/* Make the arrays at least m long; -1 when out of memory (the old arrays
 * stay valid). */
int presample_scratch_grow(PresampleScratch *sc, size_t m);

void presample_scratch_free(PresampleScratch *sc);

/* ---- the Algorithm 1 engine -------------------------------------------- */

/* Settings of one Algorithm 1 method. always_on skips the tau switch (the
 * gnorm oracle); tau_th < 0 means "from the formula", 0 means importance
 * sampling from the first step. */
typedef struct PresampleSpec {
    const char *name;     /* for error messages */
    PresampleScore kind;
    double factor;        /* B = round(factor * b) */
    double tau_th;
    double smoothing;     /* tau EMA factor */
    int always_on;
} PresampleSpec;

typedef struct Presample Presample;

/* Validate spec against host (B <= host->max_score) and allocate the
 * state; on failure return -1 with a message in err. */
int presample_init(Presample **out, const IsbHost *host,
                   const PresampleSpec *spec, char *err, size_t errlen);

/* Algorithm 1's draw: when importance sampling is on (or in pool mode),
 * score B uniform candidates (or take the pool) and draw b of them by
 * score; else b uniform indices with weight 1. Changes only scratch. */
int presample_method_draw(Presample *ps, const IsbHost *host, gsl_rng *rng,
                          IsbBatch *out);

/* Update tau from the scored candidates of the step, or from the b
 * training scores when none were scored. */
int presample_method_observe(Presample *ps, const IsbFeedback *fb);

/* tau, and whether the next draw uses importance sampling. */
void presample_method_report(const Presample *ps, IsbReport *out);

/* p over the pool, as pool-mode draws use it. */
int presample_method_probs(const Presample *ps, const IsbScores *pool,
                           double *p);

void presample_free(Presample *ps);

/* ---- descriptor adapters ------------------------------------------------ */

/* The parameters of loss and upper-bound, in this order: presample
 * (factor, default 3), tau_th (-1: the formula), tau_smoothing (0.9). */
#define PRESAMPLE_ALG1_NPARAMS 3
extern const IsbParam presample_alg1_params[PRESAMPLE_ALG1_NPARAMS];

/* init for an Algorithm 1 method named name scoring by kind, from
 * presample_alg1_params values; the rest are the IsbSamplerType entries
 * of the engine (state is a Presample). */
int presample_alg1_init(void **state, const IsbHost *host,
                        const double *params, const char *name,
                        PresampleScore kind, char *err, size_t errlen);
int presample_alg1_draw(void *state, const IsbHost *host, gsl_rng *rng,
                        IsbBatch *out);
int presample_alg1_observe(void *state, const IsbFeedback *fb,
                           gsl_rng *rng);
void presample_alg1_report(const void *state, IsbReport *out);
int presample_alg1_probs(const void *state, const IsbHost *host,
                         const IsbScores *pool, double *p);
void presample_alg1_fini(void *state);

#endif
