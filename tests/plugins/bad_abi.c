/*
 * A plugin whose descriptor has another ABI version and nothing else set:
 * the loader must reject it on the version alone (test_registry.c).
 */
#include "isbench_sampler.h"

static const IsbSamplerType bad = {.abi_version = 999};

const IsbSamplerType *isb_sampler_entry(size_t index)
{
    return index == 0 ? &bad : NULL;
}
