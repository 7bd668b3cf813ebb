/*
 * sweep.h - planning a sweep: every (method, seed) pair of an experiment
 * as one run, each in its own folder OUT/EXPERIMENT/METHOD/seed-N/.
 *
 * The plan is pure bookkeeping (which runs exist, which are finished, how
 * many BLAS threads each gets); the front end (cli_sweep.c) starts the
 * processes. A run whose run.json says "done" is finished and is skipped,
 * so planning the same sweep again resumes it.
 */
#ifndef ISB_SWEEP_H
#define ISB_SWEEP_H

#include <stddef.h>

#include "config.h"
#include "error.h"

#define SWEEP_MAX_METHODS 32
#define SWEEP_MAX_SEEDS 256

typedef struct SweepJob {
    char method_arg[CONFIG_STR_LEN]; /* as given: a name or a plugin path */
    char method[64];                 /* the registered name */
    unsigned long seed;
    char run_dir[4096];              /* OUT/EXPERIMENT/METHOD/seed-N */
    char status[32];                 /* run.json's status, "" if none */
} SweepJob;

typedef struct SweepPlan {
    SweepJob *jobs;    /* [n_jobs], method-major, seeds ascending */
    size_t n_jobs;
    size_t n_done;     /* jobs whose status is "done" */
} SweepPlan;

/* Build the plan for cfg (already loaded, overrides applied). methods is
 * "a, b" (NULL or "" = cfg->methods), seeds is "1-3" or "1,4" (NULL or ""
 * = cfg->seeds); out_root is the results folder. Every method is looked
 * up in the registry (plugins are loaded), so an unknown name fails here,
 * before anything runs. Free with sweep_plan_free. */
int sweep_plan(const Config *cfg, const char *methods, const char *seeds,
               const char *out_root, SweepPlan *plan, IsbError *err);

void sweep_plan_free(SweepPlan *plan);

/* Read the "status" field of RUN_DIR/run.json into buf ("" when the file
 * does not exist). A file that exists but is not a manifest is
 * ISB_EFORMAT naming it. */
int sweep_read_status(const char *run_dir, char *buf, size_t len,
                      IsbError *err);

/* OpenBLAS threads per run when `parallel` runs share `cores` cores:
 * max(1, cores / parallel). */
int sweep_threads_per_run(int cores, int parallel);

#endif
