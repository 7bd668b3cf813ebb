/*
 * optim.c - Keras 2 optimisers (keras/optimizers.py, Keras 2.3) and the
 * step learning-rate schedule.
 *
 * Each optimiser updates one flat parameter vector in place. State (one
 * or two vectors of n floats, and the step count) is allocated by
 * optim_create; optim_step allocates nothing. Per-element arithmetic is
 * float, as in Keras; scalar factors are computed in double.
 */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct Optimizer {
    OptimSpec spec;
    size_t n;
    long t;       /* steps taken (Adam's bias correction) */
    float *m;     /* [n] SGD velocity, RMSprop / Adam first state */
    float *v;     /* [n] Adam second moment; NULL otherwise */
};

static const char *const kind_names[] = {"sgd", "rmsprop", "adam"};

void optim_defaults(OptimKind kind, OptimSpec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->kind = kind;
    spec->lr = kind == OPTIM_SGD ? 0.01 : 1e-3;
    spec->momentum = 0.0;
    spec->nesterov = 0;
    spec->rho = 0.9;
    spec->beta1 = 0.9;
    spec->beta2 = 0.999;
    spec->eps = 1e-7;
}

int optim_kind_parse(const char *name, OptimKind *kind, IsbError *err)
{
    for (int k = 0; k < 3; k++) {
        if (strcmp(name, kind_names[k]) == 0) {
            *kind = (OptimKind)k;
            return 0;
        }
    }
    return isb_fail(err, ISB_EINVAL,
                    "optimizer: unknown optimizer '%s' (expected sgd, "
                    "rmsprop or adam)", name);
}

const char *optim_kind_name(OptimKind kind)
{
    if ((int)kind < 0 || (int)kind > 2) {
        return "unknown";
    }
    return kind_names[kind];
}

/* A decay rate must lie in [0, 1). */
static int check_rate(const char *what, double value, IsbError *err)
{
    if (!(value >= 0.0 && value < 1.0)) {
        return isb_fail(err, ISB_EINVAL,
                        "optimizer: %s %g is out of range (expected a "
                        "value in [0, 1))", what, value);
    }
    return 0;
}

static int check_spec(const OptimSpec *spec, IsbError *err)
{
    if (spec->kind != OPTIM_SGD && spec->kind != OPTIM_RMSPROP &&
        spec->kind != OPTIM_ADAM) {
        return isb_fail(err, ISB_EINVAL, "optimizer: unknown kind %d",
                        (int)spec->kind);
    }
    if (!(spec->lr >= 0.0) || !(spec->eps >= 0.0)) {
        return isb_fail(err, ISB_EINVAL,
                        "optimizer: lr %g, eps %g (expected both >= 0)",
                        spec->lr, spec->eps);
    }
    switch (spec->kind) {
    case OPTIM_SGD:
        return check_rate("momentum", spec->momentum, err);
    case OPTIM_RMSPROP:
        return check_rate("rho", spec->rho, err);
    case OPTIM_ADAM: {
        int rc = check_rate("beta1", spec->beta1, err);
        return rc < 0 ? rc : check_rate("beta2", spec->beta2, err);
    }
    }
    return 0;
}

int optim_create(const OptimSpec *spec, size_t n, Optimizer **out,
                 IsbError *err)
{
    *out = NULL;
    int rc = check_spec(spec, err);
    if (rc < 0) {
        return rc;
    }

    Optimizer *opt = calloc(1, sizeof *opt);
    if (opt == NULL) {
        goto fail_struct;
    }
    opt->spec = *spec;
    opt->n = n;
    opt->m = calloc(n > 0 ? n : 1, sizeof *opt->m);
    if (opt->m == NULL) {
        goto fail_state;
    }
    if (spec->kind == OPTIM_ADAM) {
        opt->v = calloc(n > 0 ? n : 1, sizeof *opt->v);
        if (opt->v == NULL) {
            goto fail_state;
        }
    }
    *out = opt;
    return 0;

fail_state:
    optim_free(opt);
fail_struct:
    return isb_fail(err, ISB_ENOMEM,
                    "optimizer: cannot allocate state for %zu parameters",
                    n);
}

void optim_free(Optimizer *opt)
{
    if (opt == NULL) {
        return;
    }
    free(opt->m);
    free(opt->v);
    free(opt);
}

void optim_reset(Optimizer *opt)
{
    opt->t = 0;
    memset(opt->m, 0, opt->n * sizeof *opt->m);
    if (opt->v != NULL) {
        memset(opt->v, 0, opt->n * sizeof *opt->v);
    }
}

/* v = mu v - lr g; p += v, or p += mu v - lr g for Nesterov. With mu = 0
 * both reduce to p -= lr g, computed directly without the velocity. */
static void step_sgd(Optimizer *opt, float *p, const float *g, double lr)
{
    float lr_f = (float)lr;
    float mu = (float)opt->spec.momentum;

    if (opt->spec.momentum == 0.0) {
        for (size_t k = 0; k < opt->n; k++) {
            p[k] -= lr_f * g[k];
        }
        return;
    }
    for (size_t k = 0; k < opt->n; k++) {
        float v = mu * opt->m[k] - lr_f * g[k];
        opt->m[k] = v;
        p[k] += opt->spec.nesterov ? mu * v - lr_f * g[k] : v;
    }
}

/* a = rho a + (1 - rho) g^2; p -= lr g / (sqrt(a) + eps) */
static void step_rmsprop(Optimizer *opt, float *p, const float *g,
                         double lr)
{
    float lr_f = (float)lr;
    float rho = (float)opt->spec.rho;
    float eps = (float)opt->spec.eps;

    for (size_t k = 0; k < opt->n; k++) {
        float a = rho * opt->m[k] + (1.0f - rho) * g[k] * g[k];
        opt->m[k] = a;
        p[k] -= lr_f * g[k] / (sqrtf(a) + eps);
    }
}

/* Keras 2.3 Adam: bias correction folded into the step size,
 * lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); eps outside the correction. */
static void step_adam(Optimizer *opt, float *p, const float *g, double lr)
{
    double b1 = opt->spec.beta1;
    double b2 = opt->spec.beta2;

    opt->t++;
    double t = (double)opt->t;
    float lr_t = (float)(lr * sqrt(1.0 - pow(b2, t)) / (1.0 - pow(b1, t)));
    float b1f = (float)b1;
    float b2f = (float)b2;
    float eps = (float)opt->spec.eps;

    for (size_t k = 0; k < opt->n; k++) {
        float m = b1f * opt->m[k] + (1.0f - b1f) * g[k];
        float v = b2f * opt->v[k] + (1.0f - b2f) * g[k] * g[k];
        opt->m[k] = m;
        opt->v[k] = v;
        p[k] -= lr_t * m / (sqrtf(v) + eps);
    }
}

void optim_step(Optimizer *opt, float *params, const float *grads,
                double lr)
{
    switch (opt->spec.kind) {
    case OPTIM_SGD:
        step_sgd(opt, params, grads, lr);
        break;
    case OPTIM_RMSPROP:
        step_rmsprop(opt, params, grads, lr);
        break;
    case OPTIM_ADAM:
        step_adam(opt, params, grads, lr);
        break;
    }
}

double schedule_lr(const Schedule *s, double progress)
{
    double lr = s->base_lr;
    int n = s->n_at < SCHEDULE_MAX_STEPS ? s->n_at : SCHEDULE_MAX_STEPS;

    for (int k = 0; k < n; k++) {
        if (s->at[k] <= progress) {
            lr *= s->factor;
        }
    }
    return lr;
}
