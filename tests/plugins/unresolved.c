/*
 * A plugin that calls a function nothing defines: RTLD_NOW must refuse it
 * at load time rather than at the first call (test_registry.c).
 */
#include "isbench_sampler.h"

const IsbSamplerType *isb_test_missing_function(size_t index);

const IsbSamplerType *isb_sampler_entry(size_t index)
{
    return isb_test_missing_function(index);
}
