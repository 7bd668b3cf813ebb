/*
 * sweep.c - the plan of a sweep: (method, seed) pairs and their state.
 */
#include "sweep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "registry.h"

/* Copy the next comma-separated item of *p into buf, trimmed; returns 0
 * when there is none left. */
static int next_item(const char **p, char *buf, size_t len)
{
    const char *s = *p;
    while (*s == ' ' || *s == ',' || *s == '\t') {
        s++;
    }
    if (*s == '\0') {
        *p = s;
        return 0;
    }
    const char *e = s;
    while (*e != '\0' && *e != ',') {
        e++;
    }
    const char *next = e;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
        e--;
    }
    size_t n = (size_t)(e - s) < len - 1 ? (size_t)(e - s) : len - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *p = next;
    return 1;
}

int sweep_read_status(const char *run_dir, char *buf, size_t len,
                      IsbError *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", run_dir);
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT) {
            return 0;
        }
        return isb_fail(err, ISB_EIO, "%s: cannot open (%s)", path,
                        strerror(errno));
    }
    char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    cJSON *root = cJSON_Parse(text);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (!cJSON_IsString(st)) {
        cJSON_Delete(root);
        return isb_fail(err, ISB_EFORMAT, "%s: not a run manifest (no "
                        "\"status\" string)", path);
    }
    snprintf(buf, len, "%s", st->valuestring);
    cJSON_Delete(root);
    return 0;
}

int sweep_threads_per_run(int cores, int parallel)
{
    if (parallel < 1) {
        parallel = 1;
    }
    int t = cores / parallel;
    return t < 1 ? 1 : t;
}

/* Steps: resolve the method list, the seed list, then one job per pair. */
int sweep_plan(const Config *cfg, const char *methods, const char *seeds,
               const char *out_root, SweepPlan *plan, IsbError *err)
{
    memset(plan, 0, sizeof *plan);
    if (methods == NULL || methods[0] == '\0') {
        methods = cfg->methods;
    }
    if (seeds == NULL || seeds[0] == '\0') {
        seeds = cfg->seeds;
    }

    /* 1. methods, each looked up (and plugins loaded) now */
    char names[SWEEP_MAX_METHODS][CONFIG_STR_LEN];
    const IsbSamplerType *types[SWEEP_MAX_METHODS];
    int n_methods = 0;
    const char *p = methods;
    char item[CONFIG_STR_LEN];
    while (next_item(&p, item, sizeof item)) {
        if (n_methods == SWEEP_MAX_METHODS) {
            return isb_fail(err, ISB_EINVAL, "methods '%s': more than %d",
                            methods, SWEEP_MAX_METHODS);
        }
        if (registry_find(item, &types[n_methods], err) != 0) {
            return err->code;
        }
        memcpy(names[n_methods++], item, sizeof item);
    }
    if (n_methods == 0) {
        isb_fail(err, ISB_ECONFIG, "%s: no methods to sweep",
                 cfg->source[0] ? cfg->source : "experiment");
        return isb_hint(err, "add 'methods = uniform, ...' to [experiment] "
                        "or pass --methods");
    }

    /* 2. seeds */
    unsigned long seed_list[SWEEP_MAX_SEEDS];
    int n_seeds = config_parse_seeds(seeds, seed_list, SWEEP_MAX_SEEDS,
                                     err);
    if (n_seeds < 0) {
        return n_seeds;
    }
    if (n_seeds == 0) {
        isb_fail(err, ISB_ECONFIG, "%s: no seeds to sweep",
                 cfg->source[0] ? cfg->source : "experiment");
        return isb_hint(err, "add 'seeds = 1-3' to [experiment] or pass "
                        "--seeds");
    }

    /* 3. the jobs and their state on disk */
    plan->jobs = calloc((size_t)(n_methods * n_seeds), sizeof *plan->jobs);
    if (plan->jobs == NULL) {
        return isb_fail(err, ISB_ENOMEM, "out of memory for the sweep");
    }
    for (int m = 0; m < n_methods; m++) {
        for (int s = 0; s < n_seeds; s++) {
            SweepJob *j = &plan->jobs[plan->n_jobs++];
            memcpy(j->method_arg, names[m], sizeof j->method_arg);
            snprintf(j->method, sizeof j->method, "%s", types[m]->name);
            j->seed = seed_list[s];
            snprintf(j->run_dir, sizeof j->run_dir, "%s/%s/%s/seed-%lu",
                     out_root, cfg->name, j->method, j->seed);
            if (sweep_read_status(j->run_dir, j->status, sizeof j->status,
                                  err) != 0) {
                sweep_plan_free(plan);
                return err->code;
            }
            plan->n_done += strcmp(j->status, "done") == 0;
        }
    }
    return 0;
}

void sweep_plan_free(SweepPlan *plan)
{
    free(plan->jobs);
    plan->jobs = NULL;
    plan->n_jobs = 0;
}
