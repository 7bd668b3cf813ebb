/*
 * builtin.c - the list of built-in methods the registry starts from.
 */
#include "builtin.h"

#include <stddef.h>

const IsbSamplerType *const builtin_methods[] = {
    &isb_method_uniform,
    &isb_method_online_bandit,
    NULL,
};
