/*
 * optim.h - first-order optimisers and learning-rate schedules.
 *
 * Update rules and defaults follow Keras 2 (the reference library's
 * framework): SGD with momentum / Nesterov, RMSprop, Adam. An optimiser
 * owns its state vectors, allocated once for n parameters.
 */
#ifndef ISB_OPTIM_H
#define ISB_OPTIM_H

#include <stddef.h>

#include "error.h"

typedef enum OptimKind { OPTIM_SGD, OPTIM_RMSPROP, OPTIM_ADAM } OptimKind;

typedef struct OptimSpec {
    OptimKind kind;
    double lr;        /* base learning rate */
    double momentum;  /* SGD: mu (0 = plain SGD) */
    int nesterov;     /* SGD: 1 for Nesterov momentum */
    double rho;       /* RMSprop decay */
    double beta1;     /* Adam */
    double beta2;     /* Adam */
    double eps;       /* RMSprop / Adam */
} OptimSpec;

typedef struct Optimizer Optimizer;

/* Fill spec with Keras defaults for kind: SGD lr 0.01 momentum 0;
 * RMSprop lr 1e-3 rho 0.9 eps 1e-7; Adam lr 1e-3 0.9 0.999 1e-7. */
void optim_defaults(OptimKind kind, OptimSpec *spec);

/* Parse "sgd", "rmsprop", "adam"; ISB_EINVAL otherwise. */
int optim_kind_parse(const char *name, OptimKind *kind, IsbError *err);
const char *optim_kind_name(OptimKind kind);

int optim_create(const OptimSpec *spec, size_t n, Optimizer **out,
                 IsbError *err);
void optim_free(Optimizer *opt);

/* One update of params [n] from grads [n] with learning rate lr (the
 * schedule's value for this step). */
void optim_step(Optimizer *opt, float *params, const float *grads,
                double lr);

/* Reset state (moments, step count) to a fresh optimiser's. */
void optim_reset(Optimizer *opt);

/* Learning-rate schedule: constant, or step decay by `factor` at each
 * fraction of the budget in at[] (the paper's CIFAR schedule: factor 0.2
 * at 0.5 and 0.8). */
#define SCHEDULE_MAX_STEPS 8
typedef struct Schedule {
    double base_lr;
    double factor;
    int n_at;
    double at[SCHEDULE_MAX_STEPS];
} Schedule;

/* Learning rate at progress in [0, 1] of the budget. */
double schedule_lr(const Schedule *s, double progress);

#endif
