/*
 * upper_bound.c - Algorithm 1 of Katharopoulos & Fleuret 2018 (arXiv
 * 1803.00942): sample by G_i = ||dL_i/dz_i||, the upper bound on the
 * per-example gradient norm, switched on when the variance-reduction
 * estimate tau exceeds tau_th = (B + 3b) / (3b) (eq. 29). The engine is
 * shared with loss and gnorm (presample.c; ALGORITHMS.md, upper-bound).
 */
#include "builtin.h"
#include "presample.h"

static int upper_bound_init(void **state, const IsbHost *host,
                            const double *params, gsl_rng *rng, char *err,
                            size_t errlen)
{
    (void)rng;
    if (isb_params_check(&isb_method_upper_bound, params, err, errlen) != 0) {
        return -1;
    }
    return presample_alg1_init(state, host, params, "upper-bound",
                               PRESAMPLE_UPPER_BOUND, err, errlen);
}

const IsbSamplerType isb_method_upper_bound = {
    .abi_version = ISB_SAMPLER_ABI_VERSION,
    .name = "upper-bound",
    .summary = "Algorithm 1 (2018): gradient-norm upper bound, tau switch",
    .params = presample_alg1_params,
    .n_params = PRESAMPLE_ALG1_NPARAMS,
    .flags = 0,
    .init = upper_bound_init,
    .draw = presample_alg1_draw,
    .observe = presample_alg1_observe,
    .report = presample_alg1_report,
    .probs = presample_alg1_probs,
    .fini = presample_alg1_fini,
};
