/*
 * runner.h - one training run: experiment + method + seed -> result files.
 *
 * The loop per step: draw (the method may score candidates), forward or
 * reuse the scored activations, backward with the batch weights, update,
 * observe; every `evaluation.every` steps evaluate off the clock and log.
 * Augmentation (data.augment_crop, data.augment_flip) applies to the rows
 * of scoring and training passes, identically within a step, and never
 * to evaluation.
 * Writes OUT/evals.csv, OUT/steps.csv and OUT/run.json.
 */
#ifndef ISB_RUNNER_H
#define ISB_RUNNER_H

#include <signal.h>
#include <stddef.h>

#include "config.h"
#include "error.h"
#include "isbench_sampler.h"

typedef enum RunStatus {
    RUN_RUNNING,
    RUN_DONE,
    RUN_DIVERGED,
    RUN_INTERRUPTED,
    RUN_FAILED
} RunStatus;

const char *runner_status_name(RunStatus s);

/* What the front end gets for its progress display. */
typedef struct RunProgress {
    long step;             /* steps done */
    long total_steps;      /* -1 when the budget is in seconds */
    double epoch;          /* samples trained / N */
    double progress;       /* fraction of the budget, [0, 1] */
    double train_seconds;  /* on-clock */
    double wall_seconds;
    double batch_loss;     /* last step's mean loss */
    double test_error;     /* last evaluation's, NaN before the first */
} RunProgress;

typedef struct RunSummary {
    RunStatus status;
    long steps;
    double epochs;
    double train_seconds, wall_seconds;
    double train_loss, train_error, test_loss, test_error;  /* last eval */
    long long samples_scored;
    /* On-clock seconds inside the method's draw and observe (scoring
     * included) and inside host_score (the scoring forward passes and
     * their data conversion): the sampler's own cost is their
     * difference. */
    double sampler_seconds, score_seconds;
} RunSummary;

struct Network;
struct Dataset;

/* What an observer sees after a step: the network at the parameters just
 * reached, the training set and the feedback of the step. An observer
 * runs off the clock and must not change the network's parameters; it may
 * run forward and backward passes (the next step starts afresh). */
typedef struct RunView {
    struct Network *net;
    const struct Dataset *train;
    const IsbHost *host;        /* the run method's host (pool NULL) */
    const IsbSamplerType *method;
    void *method_state;         /* the run method's state */
    const IsbFeedback *last;    /* feedback of the step just trained */
    long step;                  /* steps done */
    double epoch;
    int is_eval;                /* 1 when this step is also evaluated */
} RunView;

/* Gradient-variance probe values for evals.csv (NaN when not measured). */
typedef struct ProbeValues {
    double variance;          /* the run method's, exact or Monte Carlo */
    double variance_uniform;  /* uniform's on the same pool */
} ProbeValues;

typedef struct RunOptions {
    const Config *cfg;
    const IsbSamplerType *method;
    const double *method_params;  /* resolved, n_params values */
    unsigned long seed;
    const char *out_dir;          /* created if missing */
    /* Set non-zero (from a signal handler) to stop after this step. */
    volatile sig_atomic_t *stop;
    /* Called after every step; may be NULL. */
    void (*progress)(void *ctx, const RunProgress *p);
    void *progress_ctx;
    /* Called after every step, off the clock; may be NULL. A non-zero
     * return stops the run as failed with the error it set. */
    int (*observer)(void *ctx, const RunView *view, IsbError *err);
    void *observer_ctx;
} RunOptions;

/* Run one experiment. Everything that can be checked before training
 * (data, network, method parameters) is checked before any file is
 * written, so bad input leaves no result folder behind. Returns 0 when the
 * run ended (done, diverged or interrupted: see summary->status) and < 0
 * when it could not run or its files could not be written. */
int runner_run(const RunOptions *opt, RunSummary *summary, IsbError *err);

/* Load the experiment's training and test sets (real or synthetic). The
 * synthetic set is generated from the (seed, "data") stream, so it is the
 * same for every method. */
int runner_load_data(const Config *cfg, unsigned long seed,
                     struct Dataset *train, struct Dataset *test,
                     IsbError *err);

#endif
