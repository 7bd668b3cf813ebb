/*
 * A valid descriptor that reuses the built-in name "uniform": the loader
 * must refuse it and register nothing (test_registry.c).
 */
#include "isbench_sampler.h"

static int dup_init(void **state, const IsbHost *host, const double *params,
                    gsl_rng *rng, char *err, size_t errlen)
{
    (void)state, (void)host, (void)params, (void)rng, (void)err,
        (void)errlen;
    return -1;
}

static int dup_draw(void *state, const IsbHost *host, gsl_rng *rng,
                    IsbBatch *out)
{
    (void)state, (void)host, (void)rng, (void)out;
    return -1;
}

static int dup_observe(void *state, const IsbFeedback *fb, gsl_rng *rng)
{
    (void)state, (void)fb, (void)rng;
    return -1;
}

static void dup_fini(void *state)
{
    (void)state;
}

static const IsbSamplerType ok = {
    .abi_version = ISB_SAMPLER_ABI_VERSION, .name = "dup-first-ok",
    .summary = "registered, then rolled back", .init = dup_init,
    .draw = dup_draw, .observe = dup_observe, .fini = dup_fini,
};

static const IsbSamplerType dup = {
    .abi_version = ISB_SAMPLER_ABI_VERSION, .name = "uniform",
    .summary = "a name already taken", .init = dup_init,
    .draw = dup_draw, .observe = dup_observe, .fini = dup_fini,
};

const IsbSamplerType *isb_sampler_entry(size_t index)
{
    return index == 0 ? &ok : index == 1 ? &dup : NULL;
}
