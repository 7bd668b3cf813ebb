/*
 * registry.h - the sampling methods a run can name.
 *
 * Built-in methods are listed in registry.c; plugins are loaded from
 * shared objects on request and kept for the life of the process. This
 * list is the project's one piece of global mutable state.
 */
#ifndef ISB_REGISTRY_H
#define ISB_REGISTRY_H

#include <stddef.h>

#include "config.h"
#include "error.h"
#include "isbench_sampler.h"

#define REGISTRY_MAX_PARAMS 32

/* The number of methods registered (built-ins first, then plugins). */
size_t registry_count(void);

/* The method at index i < registry_count(). */
const IsbSamplerType *registry_at(size_t i);

/* Find a method by name or plugin path: a registered name; a path
 * containing '/' or ending in ".so" (loaded, all its methods registered;
 * the first is returned; "x.so" means ./x.so; a file loaded before gives
 * its methods again); or NAME.so found in a folder of
 * $ISBENCH_PLUGIN_PATH (colon-separated). An unknown name is ISB_EINVAL
 * with the closest registered name as a hint. */
int registry_find(const char *name, const IsbSamplerType **out,
                  IsbError *err);

/* Load every method a shared object exports (RTLD_NOW | RTLD_LOCAL) and
 * register them; *count gets how many (may be NULL). Loading a file again
 * registers nothing new and gives the same count. Failures name the file,
 * the symbol and dlerror()'s text; each descriptor's ABI version is
 * checked before any other field is read. */
int registry_load_plugin(const char *path, size_t *count, IsbError *err);

/* Resolve type's declared parameters into values[0..n_params-1]: the
 * default, replaced by [method.NAME] keys of cfg. Unknown keys for this
 * method, bad numbers and out-of-range values are ISB_ECONFIG naming the
 * method, key, value and the expected range. */
int registry_resolve_params(const IsbSamplerType *type, const Config *cfg,
                            double *values, IsbError *err);

/* Check a descriptor's static fields (ABI, name, functions, parameter
 * table); used for plugins and by the contract tests. */
int registry_check_type(const IsbSamplerType *type, const char *origin,
                        IsbError *err);

#endif
