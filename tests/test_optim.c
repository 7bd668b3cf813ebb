/*
 * test_optim.c - optimiser steps against values worked by hand, the step
 * schedule and the name parser.
 *
 * Every step test starts from p = (1, 2, -3) with the constant gradient
 * g = (0.5, -1, 2) and takes two steps, so the second checks the state.
 */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness/optim.h"

#define TOL 2e-6

static const float start[3] = {1.0f, 2.0f, -3.0f};
static const float grad[3] = {0.5f, -1.0f, 2.0f};

/* Take two steps with spec at lr; check both against want1, want2. */
static void check_two_steps(const OptimSpec *spec, double lr,
                            const double want1[3], const double want2[3])
{
    Optimizer *opt = NULL;
    IsbError err;
    float p[3];

    memcpy(p, start, sizeof p);
    cr_assert_eq(optim_create(spec, 3, &opt, &err), 0, "%s", err.msg);
    optim_step(opt, p, grad, lr);
    for (int k = 0; k < 3; k++) {
        cr_expect(fabs(p[k] - want1[k]) < TOL, "step 1, p[%d] = %.9g, "
                  "expected %.9g", k, p[k], want1[k]);
    }
    optim_step(opt, p, grad, lr);
    for (int k = 0; k < 3; k++) {
        cr_expect(fabs(p[k] - want2[k]) < TOL, "step 2, p[%d] = %.9g, "
                  "expected %.9g", k, p[k], want2[k]);
    }
    optim_free(opt);
}

Test(optim_sgd, plain_step_is_minus_lr_times_gradient)
{
    OptimSpec spec;
    optim_defaults(OPTIM_SGD, &spec);
    /* p - 0.1 g, twice */
    const double want1[3] = {0.95, 2.1, -3.2};
    const double want2[3] = {0.9, 2.2, -3.4};
    check_two_steps(&spec, 0.1, want1, want2);
}

Test(optim_sgd, momentum_accumulates_velocity)
{
    OptimSpec spec;
    optim_defaults(OPTIM_SGD, &spec);
    spec.momentum = 0.9;
    /* v1 = -0.1 g = (-0.05, 0.1, -0.2); p1 = p + v1.
     * v2 = 0.9 v1 - 0.1 g = (-0.095, 0.19, -0.38); p2 = p1 + v2. */
    const double want1[3] = {0.95, 2.1, -3.2};
    const double want2[3] = {0.855, 2.29, -3.58};
    check_two_steps(&spec, 0.1, want1, want2);
}

Test(optim_sgd, nesterov_looks_ahead_along_velocity)
{
    OptimSpec spec;
    optim_defaults(OPTIM_SGD, &spec);
    spec.momentum = 0.9;
    spec.nesterov = 1;
    /* p1 = p + 0.9 v1 - 0.1 g = p + (-0.095, 0.19, -0.38);
     * p2 = p1 + 0.9 v2 - 0.1 g = p1 + (-0.1355, 0.271, -0.542). */
    const double want1[3] = {0.905, 2.19, -3.38};
    const double want2[3] = {0.7695, 2.461, -3.922};
    check_two_steps(&spec, 0.1, want1, want2);
}

Test(optim_rmsprop, step_divides_by_root_mean_square)
{
    OptimSpec spec;
    optim_defaults(OPTIM_RMSPROP, &spec);
    /* a1 = 0.1 g^2, so g / sqrt(a1) = sign(g) / sqrt(0.1) = 3.1622777;
     * a2 = 0.19 g^2, so g / sqrt(a2) = sign(g) / sqrt(0.19) = 2.2941573.
     * lr 0.01; eps 1e-7 shifts these by under 1e-8. */
    double s1 = 0.01 / sqrt(0.1);
    double s2 = 0.01 / sqrt(0.19);
    const double want1[3] = {1.0 - s1, 2.0 + s1, -3.0 - s1};
    const double want2[3] = {1.0 - s1 - s2, 2.0 + s1 + s2,
                             -3.0 - s1 - s2};
    check_two_steps(&spec, 0.01, want1, want2);
}

Test(optim_adam, constant_gradient_moves_lr_per_step)
{
    OptimSpec spec;
    optim_defaults(OPTIM_ADAM, &spec);
    /* m1 = 0.1 g, v1 = 0.001 g^2, lr_1 = lr sqrt(0.001) / 0.1, so the
     * step is lr sign(g); m2 = 0.19 g, v2 = 0.001999 g^2, lr_2 = lr
     * sqrt(0.001999) / 0.19: again lr sign(g). */
    const double want1[3] = {0.999, 2.001, -3.001};
    const double want2[3] = {0.998, 2.002, -3.002};
    check_two_steps(&spec, 1e-3, want1, want2);
}

Test(optim_adam, reset_restarts_bias_correction)
{
    OptimSpec spec;
    Optimizer *opt = NULL;
    float p[3];
    float q[3];
    const float g2[3] = {3.0f, 0.25f, -1.0f};

    optim_defaults(OPTIM_ADAM, &spec);
    cr_assert_eq(optim_create(&spec, 3, &opt, NULL), 0);
    memcpy(p, start, sizeof p);
    optim_step(opt, p, g2, 1e-3);
    optim_step(opt, p, grad, 1e-3);
    optim_reset(opt);
    memcpy(p, start, sizeof p);
    memcpy(q, start, sizeof q);
    optim_step(opt, p, grad, 1e-3);
    for (int k = 0; k < 3; k++) {
        q[k] -= grad[k] > 0 ? 1e-3f : -1e-3f;
        cr_expect(fabsf(p[k] - q[k]) < TOL, "p[%d] = %.9g, expected %.9g",
                  k, p[k], q[k]);
    }
    optim_free(opt);
}

Test(optim_defaults, match_keras)
{
    OptimSpec s;
    optim_defaults(OPTIM_SGD, &s);
    cr_expect(s.lr == 0.01 && s.momentum == 0.0 && s.nesterov == 0);
    optim_defaults(OPTIM_RMSPROP, &s);
    cr_expect(s.lr == 1e-3 && s.rho == 0.9 && s.eps == 1e-7);
    optim_defaults(OPTIM_ADAM, &s);
    cr_expect(s.lr == 1e-3 && s.beta1 == 0.9 && s.beta2 == 0.999 &&
              s.eps == 1e-7);
}

Test(optim_create, rejects_rate_outside_unit_interval)
{
    OptimSpec spec;
    Optimizer *opt = NULL;
    IsbError err;

    optim_defaults(OPTIM_SGD, &spec);
    spec.momentum = 1.5;
    cr_assert_eq(optim_create(&spec, 3, &opt, &err), ISB_EINVAL);
    cr_expect_null(opt);
    cr_expect(strstr(err.msg, "momentum 1.5") != NULL, "%s", err.msg);
}

Test(optim_kind_parse, names_round_trip)
{
    const char *names[] = {"sgd", "rmsprop", "adam"};
    for (int k = 0; k < 3; k++) {
        OptimKind kind;
        cr_assert_eq(optim_kind_parse(names[k], &kind, NULL), 0);
        cr_expect_str_eq(optim_kind_name(kind), names[k]);
    }
}

Test(optim_kind_parse, error_names_value_and_choices)
{
    OptimKind kind;
    IsbError err;

    cr_assert_eq(optim_kind_parse("Adam", &kind, &err), ISB_EINVAL);
    cr_expect_eq(err.code, ISB_EINVAL);
    cr_expect(strstr(err.msg, "'Adam'") != NULL, "%s", err.msg);
    cr_expect(strstr(err.msg, "sgd, rmsprop or adam") != NULL, "%s",
              err.msg);
}

Test(schedule_lr, steps_down_by_factor_at_each_fraction)
{
    Schedule s = {.base_lr = 0.1, .factor = 0.2, .n_at = 2,
                  .at = {0.5, 0.8}};
    const double progress[] = {0.0, 0.49, 0.5, 0.79, 0.8, 1.0};
    const double want[] = {0.1, 0.1, 0.02, 0.02, 0.004, 0.004};

    for (int k = 0; k < 6; k++) {
        double lr = schedule_lr(&s, progress[k]);
        cr_expect(fabs(lr - want[k]) < 1e-12, "lr(%g) = %g, expected %g",
                  progress[k], lr, want[k]);
    }
}

Test(schedule_lr, constant_without_steps)
{
    Schedule s = {.base_lr = 0.05, .factor = 0.1, .n_at = 0};
    cr_expect(schedule_lr(&s, 0.0) == 0.05);
    cr_expect(schedule_lr(&s, 1.0) == 0.05);
}
