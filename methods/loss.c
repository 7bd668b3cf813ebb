/*
 * loss.c - Algorithm 1 of Katharopoulos & Fleuret 2018 with the loss as
 * the score: s_i = L_i + 1e-12 (a loss can be exactly 0), the same
 * presampling, weights and tau switch as upper-bound (ALGORITHMS.md, loss;
 * the engine is presample.c).
 */
#include "builtin.h"
#include "presample.h"

static int loss_init(void **state, const IsbHost *host, const double *params,
                     gsl_rng *rng, char *err, size_t errlen)
{
    (void)rng;
    if (isb_params_check(&isb_method_loss, params, err, errlen) != 0) {
        return -1;
    }
    return presample_alg1_init(state, host, params, "loss", PRESAMPLE_LOSS,
                               err, errlen);
}

const IsbSamplerType isb_method_loss = {
    .abi_version = ISB_SAMPLER_ABI_VERSION,
    .name = "loss",
    .summary = "Algorithm 1 (2018) sampling by the loss, tau switch",
    .params = presample_alg1_params,
    .n_params = PRESAMPLE_ALG1_NPARAMS,
    .flags = 0,
    .init = loss_init,
    .draw = presample_alg1_draw,
    .observe = presample_alg1_observe,
    .report = presample_alg1_report,
    .probs = presample_alg1_probs,
    .fini = presample_alg1_fini,
};
