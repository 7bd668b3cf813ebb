/*
 * gnorm.c - the variance-optimal oracle: presample B = factor * b
 * candidates uniformly, score them with the exact per-example gradient
 * norm ||g_i|| (a forward pass plus per-example backward norms), draw b
 * with p_i = ||g_i|| / sum ||g||, w_i = 1 / (B p_i). Always on; tau is
 * still estimated from the norms for the logs (ALGORITHMS.md, gnorm and
 * gradient variance: p proportional to ||g_i|| minimises the variance).
 */
#include "builtin.h"
#include "presample.h"

static const IsbParam gnorm_params[] = {
    {"presample", ISB_PARAM_REAL, 3, 1, 1000,
     "candidates per step, as a factor of the batch (B = factor * b)"},
};

static int gnorm_init(void **state, const IsbHost *host,
                      const double *params, gsl_rng *rng, char *err,
                      size_t errlen)
{
    (void)rng;
    if (isb_params_check(&isb_method_gnorm, params, err, errlen) != 0) {
        return -1;
    }
    PresampleSpec spec = {"gnorm", PRESAMPLE_GNORM, params[0], 0, 0.9, 1};
    Presample *ps;
    int rc = presample_init(&ps, host, &spec, err, errlen);
    if (rc == 0) {
        *state = ps;
    }
    return rc;
}

const IsbSamplerType isb_method_gnorm = {
    .abi_version = ISB_SAMPLER_ABI_VERSION,
    .name = "gnorm",
    .summary = "oracle: presampled, p proportional to the exact gradient "
               "norm",
    .params = gnorm_params,
    .n_params = sizeof gnorm_params / sizeof *gnorm_params,
    .flags = 0,
    .init = gnorm_init,
    .draw = presample_alg1_draw,
    .observe = presample_alg1_observe,
    .report = presample_alg1_report,
    .probs = presample_alg1_probs,
    .fini = presample_alg1_fini,
};
