/*
 * isbench_sampler.h - the public interface of an isbench sampling method.
 *
 * A method is a const descriptor (IsbSamplerType) plus per-run state that
 * its init allocates, in the shape of GSL's gsl_rng_type / gsl_rng. A
 * shared object exports isb_sampler_entry(index), returning its methods
 * one at a time and NULL past the last, so one file can carry several.
 *
 * Contract of every method:
 * - draw takes all its randomness from the generator it is given and does
 *   not change the method's persistent state (it may use scratch memory
 *   it owns), so the harness can call it again for measurements;
 * - observe is the only place state evolves; it gets the feedback of the
 *   step that was actually trained;
 * - functions return 0 on success and a negative number on failure, with
 *   a message in err where they take one; they never print or exit.
 *
 * Notation (ALGORITHMS.md): N training examples, b batch size, B presample
 * size, w_i = 1 / (M p_i) for a draw from M candidates with probability p.
 */
#ifndef ISBENCH_SAMPLER_H
#define ISBENCH_SAMPLER_H

#include <stddef.h>
#include <stdio.h>

#include <gsl/gsl_rng.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below changes layout or meaning. */
#define ISB_SAMPLER_ABI_VERSION 1

/* The name of the entry point a plugin exports. */
#define ISB_SAMPLER_ENTRY "isb_sampler_entry"

typedef enum IsbParamType {
    ISB_PARAM_REAL,  /* any finite double in [min, max] */
    ISB_PARAM_INT,   /* an integer in [min, max] */
    ISB_PARAM_BOOL   /* 0 or 1 ("true"/"false" accepted) */
} IsbParamType;

/* One declared parameter. The harness parses values from the experiment
 * file ([method.NAME] section) and --set method.NAME.key=value, checks
 * type and range, and hands init an array of doubles in declared order. */
typedef struct IsbParam {
    const char *name;
    IsbParamType type;
    double def;        /* default value */
    double min, max;   /* inclusive range */
    const char *help;  /* one line */
} IsbParam;

/* Per-example results of a scoring (forward-only) pass over m candidates.
 * The arrays belong to the harness and stay valid until the next score
 * call or the end of the step. gnorm is NULL unless it was asked for. */
typedef struct IsbScores {
    size_t m;
    const size_t *idx;   /* [m] dataset indices that were scored */
    const float *loss;   /* [m] per-example loss L_i */
    const float *score;  /* [m] upper bound G_i = ||dL_i/dz_i|| */
    const float *gnorm;  /* [m] exact ||dL_i/dtheta||, or NULL */
} IsbScores;

/* What the harness offers a method. */
typedef struct IsbHost {
    size_t n;          /* training examples N */
    size_t b;          /* batch size b */
    int n_classes;
    size_t max_score;  /* most candidates one score call may take */
    void *ctx;         /* the harness's, pass it back unchanged */
    /* Score idx[0..m-1] with a forward pass at the current parameters
     * (m <= max_score). The harness keeps their activations, so a batch
     * drawn from them is trained without a second forward pass; scored
     * examples count in samples_scored and their time is on the clock.
     * want_gnorm also computes exact per-example gradient norms. */
    int (*score)(void *ctx, const size_t *idx, size_t m, int want_gnorm,
                 IsbScores *out);
    /* Pool mode, for measurements (NULL in training). When set, draw
     * must take its candidates from this already scored set instead of
     * choosing and scoring its own: a presampling method uses the whole
     * pool as its B candidates, a method that samples the whole dataset
     * restricts itself to the pool with its probabilities renormalised.
     * Rows (IsbBatch.row) then refer to the pool, from_scored is 1, and
     * the method draws as it would with importance sampling switched on
     * (the measurement is of its distribution, not of its switch).
     * pool->loss, score and gnorm are all set. */
    const IsbScores *pool;
} IsbHost;

/* The batch a draw returns; arrays of length b are the harness's. */
typedef struct IsbBatch {
    size_t b;
    size_t *idx;      /* [b] dataset indices */
    float *weight;    /* [b] finite, positive loss weights */
    size_t *row;      /* [b] row of idx[j] in the last scored set */
    int from_scored;  /* 1 when every idx[j] is row[j] of that set */
} IsbBatch;

/* Feedback of the step that was trained. loss/score/gnorm are those of
 * the training rows at the parameters before the update. */
typedef struct IsbFeedback {
    size_t b;
    const size_t *idx;          /* [b] */
    const float *weight;        /* [b] */
    const float *loss;          /* [b] */
    const float *score;         /* [b] */
    const float *gnorm;         /* [b] when the method asked, else NULL */
    const IsbScores *scored;    /* candidates scored in this step's draw,
                                   or NULL when none were */
    long step;                  /* 0-based step just trained */
} IsbFeedback;

/* Method-specific values for the logs; NaN (or -1 for flags) where the
 * method has no such value. */
typedef struct IsbReport {
    double tau;     /* variance-reduction estimate, Algorithm 1 */
    int is_active;  /* 1 when importance sampling is on, 0 off, -1 n/a */
} IsbReport;

enum {
    ISB_SAMPLER_NEEDS_GNORM = 1 << 0,  /* observe wants exact gnorm */
    /* Draws from the whole dataset (not from a presampled pool): pool
     * mode restricts it to the pool, which measurements report. */
    ISB_SAMPLER_WHOLE_DATASET = 1 << 1
};

typedef struct IsbSamplerType {
    int abi_version;          /* ISB_SAMPLER_ABI_VERSION, checked first */
    const char *name;         /* stable, used on the command line */
    const char *summary;      /* one line */
    const IsbParam *params;   /* n_params declared parameters */
    size_t n_params;
    unsigned flags;           /* ISB_SAMPLER_* */

    /* Validate params (n_params values in declared order) and allocate
     * state; rng is the method's own stream (for an initial shuffle and
     * the like). On failure return < 0 with a message in err. */
    int (*init)(void **state, const IsbHost *host, const double *params,
                gsl_rng *rng, char *err, size_t errlen);

    /* Fill out->idx, out->weight (and row/from_scored) for the next step
     * using only rng for randomness. May call host->score. */
    int (*draw)(void *state, const IsbHost *host, gsl_rng *rng,
                IsbBatch *out);

    /* Update state from the trained step; rng is the method's own stream
     * (for reshuffles and the like). */
    int (*observe)(void *state, const IsbFeedback *fb, gsl_rng *rng);

    /* Optional (may be NULL): values for the logs. */
    void (*report)(const void *state, IsbReport *out);

    /* Optional (may be NULL): the probabilities p[0..m-1] the method
     * would draw with from the candidate set `pool` (scores given), for
     * exact variance measurement. */
    int (*probs)(const void *state, const IsbHost *host,
                 const IsbScores *pool, double *p);

    void (*fini)(void *state);
} IsbSamplerType;

/* A check an init can start with: every params[k] of type t within its
 * declared [min, max] (and integral for INT and BOOL). Returns 0, or -1
 * with "NAME: PARAM = VALUE (expected ...)" in err. The harness already
 * checks values it parses; this guards direct callers (tests, other
 * front ends), since init is where the contract says parameters are
 * validated. */
static inline int isb_params_check(const IsbSamplerType *t,
                                   const double *params, char *err,
                                   size_t errlen)
{
    for (size_t k = 0; k < t->n_params; k++) {
        const IsbParam *p = &t->params[k];
        double v = params[k];
        int integral = p->type != ISB_PARAM_REAL;
        int whole = v >= -9.0e15 && v <= 9.0e15 &&
                    v == (double)(long long)v;
        if (!(p->min <= v && v <= p->max) || (integral && !whole)) {
            snprintf(err, errlen, "%s: %s = %g (expected %s in [%g, %g])",
                     t->name, p->name, v,
                     integral ? "an integer" : "a number", p->min, p->max);
            return -1;
        }
    }
    return 0;
}

/* The entry point a plugin exports under ISB_SAMPLER_ENTRY. */
typedef const IsbSamplerType *(*IsbSamplerEntry)(size_t index);

#ifdef __cplusplus
}
#endif

#endif
