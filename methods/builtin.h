/*
 * builtin.h - the methods compiled into isbench (internal to the harness).
 */
#ifndef ISB_BUILTIN_H
#define ISB_BUILTIN_H

#include "isbench_sampler.h"

extern const IsbSamplerType isb_method_uniform;
extern const IsbSamplerType isb_method_online_bandit;

/* NULL-terminated list, in the order `isbench methods` shows them. */
extern const IsbSamplerType *const builtin_methods[];

#endif
