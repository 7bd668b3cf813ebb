/*
 * test_registry.c - plugin loading (the example plugin, broken shared
 * objects from tests/plugins/, ISBENCH_PLUGIN_PATH) and parameter
 * resolution errors. Each Criterion test runs in its own process, so each
 * starts from the built-in registry.
 */
#include <criterion/criterion.h>

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/config.h"
#include "harness/registry.h"

#define EXAMPLE ISB_BUILD_DIR "/topk_loss.so"
#define BROKEN(name) ISB_BUILD_DIR "/test-plugins/" name ".so"

/* The loader's message must name the file, the entry symbol and carry
 * dlerror's own text (got here by repeating the failing call). */
static void assert_names(const IsbError *err, const char *path,
                         const char *dl_text)
{
    cr_assert_eq(err->code, ISB_EPLUGIN, "code %d: %s", err->code,
                 err->msg);
    cr_assert(strstr(err->msg, path) != NULL, "no file in '%s'", err->msg);
    cr_assert(strstr(err->msg, ISB_SAMPLER_ENTRY) != NULL,
              "no symbol in '%s'", err->msg);
    if (dl_text != NULL) {
        cr_assert(strstr(err->msg, dl_text) != NULL,
                  "dlerror text '%s' not in '%s'", dl_text, err->msg);
    }
}

static const char *dlopen_error(const char *path)
{
    static char text[1024];
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    cr_assert_null(h, "%s loaded", path);
    snprintf(text, sizeof text, "%s", dlerror());
    return text;
}

Test(registry, loads_the_example_plugin_once)
{
    size_t before = registry_count(), count = 0;
    IsbError err;
    cr_assert_eq(registry_load_plugin(EXAMPLE, &count, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(count, 1);
    cr_assert_eq(registry_count(), before + 1);
    const IsbSamplerType *t;
    cr_assert_eq(registry_find("topk-loss", &t, &err), 0, "%s", err.msg);
    cr_assert_eq(t, registry_at(before));
    cr_assert_eq(t->n_params, 1);

    /* Loading the same file again (by path, as --method does) registers
     * nothing new and gives the same method. */
    cr_assert_eq(registry_load_plugin(EXAMPLE, &count, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(count, 1);
    const IsbSamplerType *again;
    cr_assert_eq(registry_find(EXAMPLE, &again, &err), 0, "%s", err.msg);
    cr_assert_eq(again, t);
    cr_assert_eq(registry_count(), before + 1);
}

Test(registry, missing_file_names_file_symbol_and_dlerror)
{
    const char *path = ISB_BUILD_DIR "/no-such-dir/none.so";
    IsbError err;
    size_t before = registry_count();
    cr_assert_lt(registry_load_plugin(path, NULL, &err), 0);
    assert_names(&err, path, dlopen_error(path));
    cr_assert_eq(registry_count(), before);
}

Test(registry, object_without_entry_names_file_symbol_and_dlerror)
{
    const char *path = BROKEN("no_entry");
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(h, "%s", dlerror());
    cr_assert_null(dlsym(h, ISB_SAMPLER_ENTRY));
    char text[1024];
    snprintf(text, sizeof text, "%s", dlerror());
    IsbError err;
    cr_assert_lt(registry_load_plugin(path, NULL, &err), 0);
    assert_names(&err, path, text);
}

Test(registry, unresolved_symbol_fails_at_load_time)
{
    const char *path = BROKEN("unresolved");
    const char *text = dlopen_error(path);
    cr_assert(strstr(text, "isb_test_missing_function") != NULL, "%s",
              text);
    IsbError err;
    cr_assert_lt(registry_load_plugin(path, NULL, &err), 0);
    assert_names(&err, path, text);
}

Test(registry, other_abi_version_is_rejected_first)
{
    const char *path = BROKEN("bad_abi");
    IsbError err;
    size_t before = registry_count();
    cr_assert_lt(registry_load_plugin(path, NULL, &err), 0);
    assert_names(&err, path, NULL);
    cr_assert(strstr(err.msg, "ABI version 999") != NULL, "%s", err.msg);
    cr_assert_eq(registry_count(), before);
}

Test(registry, taken_name_rolls_back_the_whole_plugin)
{
    const char *path = BROKEN("dup_name");
    IsbError err;
    size_t before = registry_count();
    cr_assert_lt(registry_load_plugin(path, NULL, &err), 0);
    assert_names(&err, path, NULL);
    cr_assert(strstr(err.msg, "'uniform' is already registered") != NULL,
              "%s", err.msg);
    cr_assert_eq(registry_count(), before);
    const IsbSamplerType *t;
    cr_assert_lt(registry_find("dup-first-ok", &t, &err), 0);
}

Test(registry, plugin_path_lookup)
{
    cr_assert_eq(setenv("ISBENCH_PLUGIN_PATH",
                        "::/nonexistent-isb:" ISB_BUILD_DIR, 1), 0);
    const IsbSamplerType *t;
    IsbError err;
    cr_assert_eq(registry_find("topk_loss", &t, &err), 0, "%s", err.msg);
    cr_assert_str_eq(t->name, "topk-loss");

    cr_assert_eq(registry_find("not_a_plugin", &t, &err), ISB_EINVAL);
    cr_assert(strstr(err.msg, "not_a_plugin") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "ISBENCH_PLUGIN_PATH") != NULL, "%s",
              err.msg);
}

Test(registry, bare_so_name_is_relative_to_the_current_folder)
{
    cr_assert_eq(chdir(ISB_BUILD_DIR), 0);
    const IsbSamplerType *t;
    IsbError err;
    cr_assert_eq(registry_find("topk_loss.so", &t, &err), 0, "%s",
                 err.msg);
    cr_assert_str_eq(t->name, "topk-loss");
}

Test(registry, unknown_method_hints_the_closest_name)
{
    const IsbSamplerType *t;
    IsbError err;
    unsetenv("ISBENCH_PLUGIN_PATH");
    cr_assert_eq(registry_find("online-bandid", &t, &err), ISB_EINVAL);
    cr_assert(strstr(err.hint, "'online-bandit'") != NULL, "hint '%s'",
              err.hint);
}

/* Resolve method `name` with one --set assignment; returns the code. */
static int resolve_with(const char *name, const char *set, double *values,
                        IsbError *err)
{
    static Config cfg;
    const IsbSamplerType *t;
    config_defaults(&cfg);
    cr_assert_eq(config_set(&cfg, set, err), 0, "%s", err->msg);
    cr_assert_eq(registry_find(name, &t, err), 0, "%s", err->msg);
    isb_error_clear(err);
    return registry_resolve_params(t, &cfg, values, err);
}

Test(registry, params_unknown_key_has_a_hint)
{
    double v[REGISTRY_MAX_PARAMS];
    IsbError err;
    cr_assert_eq(resolve_with("online-bandit",
                              "method.online-bandit.epss=0.3", v, &err),
                 ISB_ECONFIG);
    cr_assert(strstr(err.msg, "'epss'") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "online-bandit") != NULL, "%s", err.msg);
    cr_assert(strstr(err.hint, "'eps'") != NULL, "hint '%s'", err.hint);
}

Test(registry, params_out_of_range_names_value_and_range)
{
    double v[REGISTRY_MAX_PARAMS];
    IsbError err;
    cr_assert_eq(resolve_with("online-bandit",
                              "method.online-bandit.eps=1.5", v, &err),
                 ISB_ECONFIG);
    cr_assert(strstr(err.msg, "eps") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "1.5") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "[0, 1]") != NULL, "%s", err.msg);

    cr_assert_eq(resolve_with(EXAMPLE, "method.topk-loss.factor=2.5", v,
                              &err), ISB_ECONFIG);
    cr_assert(strstr(err.msg, "an integer") != NULL, "%s", err.msg);
}

Test(registry, params_not_a_number)
{
    double v[REGISTRY_MAX_PARAMS];
    IsbError err;
    cr_assert_eq(resolve_with("online-bandit",
                              "method.online-bandit.rho=0.5x", v, &err),
                 ISB_ECONFIG);
    cr_assert(strstr(err.msg, "'0.5x' is not a number") != NULL, "%s",
              err.msg);
}

Test(registry, params_defaults_and_overrides)
{
    double v[REGISTRY_MAX_PARAMS];
    IsbError err;
    cr_assert_eq(resolve_with("online-bandit",
                              "method.online-bandit.alpha=0.5", v, &err),
                 0, "%s", err.msg);
    cr_assert_eq(v[0], 0.5);  /* eps default */
    cr_assert_eq(v[1], 0.5);  /* alpha, set */
    cr_assert_eq(v[2], 1.0);  /* rho default */
    cr_assert_eq(resolve_with("uniform", "method.uniform.replacement=true",
                              v, &err), 0, "%s", err.msg);
    cr_assert_eq(v[0], 1.0);
}
