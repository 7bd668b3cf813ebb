/*
 * registry.c - built-in methods, plugin loading and parameter resolution.
 */
#include "registry.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods/builtin.h"

#define REGISTRY_MAX 64

static const IsbSamplerType *registered[REGISTRY_MAX];
static size_t n_registered;
static int builtins_added;

/* Open plugins: dlopen returns the same handle for a file loaded twice,
 * which then gives back the methods it registered the first time. */
typedef struct Plugin {
    void *handle;
    size_t first, count;  /* their range in registered[] */
} Plugin;

static Plugin plugins[REGISTRY_MAX];
static size_t n_plugins;

static void add_builtins(void)
{
    if (builtins_added) {
        return;
    }
    builtins_added = 1;
    for (size_t i = 0; builtin_methods[i] != NULL; i++) {
        registered[n_registered++] = builtin_methods[i];
    }
}

size_t registry_count(void)
{
    add_builtins();
    return n_registered;
}

const IsbSamplerType *registry_at(size_t i)
{
    add_builtins();
    return i < n_registered ? registered[i] : NULL;
}

static const IsbSamplerType *lookup(const char *name)
{
    for (size_t i = 0; i < registry_count(); i++) {
        if (strcmp(registered[i]->name, name) == 0) {
            return registered[i];
        }
    }
    return NULL;
}

int registry_check_type(const IsbSamplerType *t, const char *origin,
                        IsbError *err)
{
    if (t->abi_version != ISB_SAMPLER_ABI_VERSION) {
        return isb_fail(err, ISB_EPLUGIN, "%s: sampler ABI version %d "
                        "(expected %d)", origin, t->abi_version,
                        ISB_SAMPLER_ABI_VERSION);
    }
    if (t->name == NULL || t->name[0] == '\0' || t->summary == NULL) {
        return isb_fail(err, ISB_EPLUGIN, "%s: sampler without a name or "
                        "summary", origin);
    }
    if (t->init == NULL || t->draw == NULL || t->observe == NULL ||
        t->fini == NULL) {
        return isb_fail(err, ISB_EPLUGIN, "%s: sampler '%s' lacks init, "
                        "draw, observe or fini", origin, t->name);
    }
    if (t->n_params > REGISTRY_MAX_PARAMS ||
        (t->n_params > 0 && t->params == NULL)) {
        return isb_fail(err, ISB_EPLUGIN, "%s: sampler '%s' declares %zu "
                        "parameters (expected at most %d, with a table)",
                        origin, t->name, t->n_params, REGISTRY_MAX_PARAMS);
    }
    for (size_t i = 0; i < t->n_params; i++) {
        const IsbParam *p = &t->params[i];
        if (p->name == NULL || !(p->min <= p->def && p->def <= p->max)) {
            return isb_fail(err, ISB_EPLUGIN, "%s: sampler '%s' parameter "
                            "%zu has no name or a default outside its "
                            "range", origin, t->name, i);
        }
    }
    return 0;
}

/* Register every method of the shared object at path; *first gets the
 * index of its first method in registered[], *count how many. */
static int load_plugin(const char *path, size_t *first, size_t *count,
                       IsbError *err)
{
    add_builtins();
    dlerror();
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        return isb_fail(err, ISB_EPLUGIN, "%s: cannot load plugin (to "
                        "look up %s): %s", path, ISB_SAMPLER_ENTRY,
                        why != NULL ? why : "dlopen failed");
    }
    for (size_t k = 0; k < n_plugins; k++) {
        if (plugins[k].handle == handle) {
            dlclose(handle);  /* drop the extra reference */
            *first = plugins[k].first;
            *count = plugins[k].count;
            return 0;
        }
    }
    dlerror();
    void *sym = dlsym(handle, ISB_SAMPLER_ENTRY);
    const char *why = dlerror();
    if (sym == NULL || why != NULL) {
        int rc = isb_fail(err, ISB_EPLUGIN, "%s: symbol %s not found: %s",
                          path, ISB_SAMPLER_ENTRY,
                          why != NULL ? why : "the symbol is NULL");
        dlclose(handle);
        return rc;
    }
    IsbSamplerEntry entry;
    memcpy(&entry, &sym, sizeof entry);

    size_t start = n_registered, added = 0;
    for (size_t i = 0;; i++) {
        const IsbSamplerType *t = entry(i);
        if (t == NULL) {
            break;
        }
        char origin[512];
        snprintf(origin, sizeof origin, "%s: %s(%zu)", path,
                 ISB_SAMPLER_ENTRY, i);
        int rc = registry_check_type(t, origin, err);
        if (rc == 0 && (n_registered == REGISTRY_MAX ||
                        n_plugins == REGISTRY_MAX)) {
            rc = isb_fail(err, ISB_EPLUGIN, "%s: registry full (%d)",
                          origin, REGISTRY_MAX);
        }
        if (rc == 0 && lookup(t->name) != NULL) {
            rc = isb_fail(err, ISB_EPLUGIN, "%s: method name '%s' is "
                          "already registered", origin, t->name);
        }
        if (rc != 0) {
            n_registered = start;
            dlclose(handle);
            return rc;
        }
        registered[n_registered++] = t;
        added++;
    }
    if (added == 0) {
        dlclose(handle);
        return isb_fail(err, ISB_EPLUGIN, "%s: %s(0) returned NULL (no "
                        "methods)", path, ISB_SAMPLER_ENTRY);
    }
    /* The handle stays open: registered descriptors point into it. */
    plugins[n_plugins++] = (Plugin){handle, start, added};
    *first = start;
    *count = added;
    return 0;
}

int registry_load_plugin(const char *path, size_t *count, IsbError *err)
{
    size_t first, n;
    int rc = load_plugin(path, &first, &n, err);
    if (rc == 0 && count != NULL) {
        *count = n;
    }
    return rc;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* Search $ISBENCH_PLUGIN_PATH for NAME.so; fills path, returns 1 if found. */
static int search_plugin_path(const char *name, char *path, size_t len)
{
    const char *list = getenv("ISBENCH_PLUGIN_PATH");
    while (list != NULL && *list != '\0') {
        size_t seg = strcspn(list, ":");
        if (seg > 0) {  /* an empty entry names no folder */
            snprintf(path, len, "%.*s/%s.so", (int)seg, list, name);
            FILE *f = fopen(path, "r");
            if (f != NULL) {
                fclose(f);
                return 1;
            }
        }
        list += seg + (list[seg] == ':');
    }
    return 0;
}

int registry_find(const char *name, const IsbSamplerType **out,
                  IsbError *err)
{
    const IsbSamplerType *t = lookup(name);
    if (t != NULL) {
        *out = t;
        return 0;
    }
    char path[4096];
    int is_path = strchr(name, '/') != NULL || ends_with(name, ".so");
    if (is_path) {
        /* dlopen looks for a name without '/' in the system's library
         * folders, not here: "x.so" means ./x.so on our command line. */
        snprintf(path, sizeof path, "%s%s",
                 strchr(name, '/') != NULL ? "" : "./", name);
    }
    if (is_path || search_plugin_path(name, path, sizeof path)) {
        size_t first, count;
        int rc = load_plugin(path, &first, &count, err);
        if (rc != 0) {
            return rc;
        }
        *out = registered[first];
        return 0;
    }
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < registry_count(); i++) {
        size_t d = config_edit_distance(name, registered[i]->name);
        if (d < best_d) {
            best_d = d;
            best = registered[i]->name;
        }
    }
    isb_fail(err, ISB_EINVAL, "method '%s' is not registered and no "
             "plugin %s.so is on ISBENCH_PLUGIN_PATH", name, name);
    return isb_hint(err, "did you mean '%s'? (isbench methods lists them)",
                    best != NULL ? best : "uniform");
}

static int parse_param(const IsbSamplerType *t, const IsbParam *p,
                       const MethodSetting *s, double *value, IsbError *err)
{
    char *end;
    double v;
    errno = 0;
    if (p->type == ISB_PARAM_BOOL && strcmp(s->value, "true") == 0) {
        v = 1;
    } else if (p->type == ISB_PARAM_BOOL && strcmp(s->value, "false") == 0) {
        v = 0;
    } else {
        v = strtod(s->value, &end);
        if (end == s->value || *end != '\0' || errno != 0 || !isfinite(v)) {
            return isb_fail(err, ISB_ECONFIG, "%s: method.%s.%s: '%s' is "
                            "not a number", s->origin, t->name, p->name,
                            s->value);
        }
    }
    int integral = p->type != ISB_PARAM_REAL;
    if ((integral && v != floor(v)) || v < p->min || v > p->max) {
        return isb_fail(err, ISB_ECONFIG, "%s: method.%s.%s: %s (expected "
                        "%s in [%g, %g])", s->origin, t->name, p->name,
                        s->value, p->type == ISB_PARAM_REAL ? "a number" :
                        p->type == ISB_PARAM_INT ? "an integer" : "0 or 1",
                        p->min, p->max);
    }
    *value = v;
    return 0;
}

int registry_resolve_params(const IsbSamplerType *t, const Config *cfg,
                            double *values, IsbError *err)
{
    for (size_t i = 0; i < t->n_params; i++) {
        values[i] = t->params[i].def;
    }
    for (size_t k = 0; k < cfg->n_method; k++) {
        const MethodSetting *s = &cfg->method[k];
        if (strcmp(s->method, t->name) != 0) {
            continue;
        }
        size_t i = 0;
        while (i < t->n_params && strcmp(t->params[i].name, s->key) != 0) {
            i++;
        }
        if (i == t->n_params) {
            const char *best = NULL;
            size_t best_d = (size_t)-1;
            for (size_t j = 0; j < t->n_params; j++) {
                size_t d = config_edit_distance(s->key, t->params[j].name);
                if (d < best_d) {
                    best_d = d;
                    best = t->params[j].name;
                }
            }
            isb_fail(err, ISB_ECONFIG, "%s: method '%s' has no parameter "
                     "'%s'", s->origin, t->name, s->key);
            return best != NULL ? isb_hint(err, "did you mean '%s'?", best)
                                : err->code;
        }
        int rc = parse_param(t, &t->params[i], s, &values[i], err);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}
