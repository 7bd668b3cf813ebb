/*
 * cli_run.c - `isbench run` and `isbench methods`.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli.h"
#include "harness/config.h"
#include "harness/registry.h"
#include "harness/runner.h"

volatile sig_atomic_t cli_stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    cli_stop_requested = 1;
}

void cli_catch_signals(void)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
}

static int parse_seed(const char *text, unsigned long *seed)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || text[0] == '-') {
        fprintf(stderr, "error: --seed '%s': not a non-negative integer\n",
                text);
        return -1;
    }
    *seed = v;
    return 0;
}

static const char *param_type_name(IsbParamType t)
{
    return t == ISB_PARAM_REAL ? "real" : t == ISB_PARAM_INT ? "int"
                                                            : "bool";
}

int cli_methods(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_methods_list();
}

int cli_methods_list(void)
{
    for (size_t i = 0; i < registry_count(); i++) {
        const IsbSamplerType *t = registry_at(i);
        printf("%s\n    %s\n", t->name, t->summary);
        for (size_t k = 0; k < t->n_params; k++) {
            const IsbParam *p = &t->params[k];
            printf("    %-16s %-4s default %-8g [%g, %g]  %s\n", p->name,
                   param_type_name(p->type), p->def, p->min, p->max,
                   p->help);
        }
    }
    return 0;
}

/* ---- progress on stderr ------------------------------------------------ */

void cli_show_progress(void *ctx, const RunProgress *p)
{
    CliProgress *pr = ctx;
    if (pr->quiet) {
        return;
    }
    double every = pr->tty ? 0.2 : 5.0;
    int last = p->progress >= 1.0;
    if (p->wall_seconds - pr->last_print < every && !last) {
        return;
    }
    pr->last_print = p->wall_seconds;
    double frac = p->progress > 1 ? 1 : p->progress;
    double eta = frac > 0 ? p->wall_seconds * (1 - frac) / frac : NAN;
    if (pr->tty) {
        char bar[31];
        int full = (int)(frac * 30);
        for (int i = 0; i < 30; i++) {
            bar[i] = i < full ? '#' : '.';
        }
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %3.0f%% epoch %.2f loss %.4f "
                "test_err %.4f ETA %.0fs ", bar, 100 * frac, p->epoch,
                p->batch_loss, p->test_error, eta);
        if (last) {
            fputc('\n', stderr);
        }
    } else {
        fprintf(stderr, "step %ld epoch %.2f loss %.4f test_err %.4f "
                "(%.0f%%, ETA %.0fs)\n", p->step, p->epoch, p->batch_loss,
                p->test_error, 100 * frac, eta);
    }
}

/* ---- run ---------------------------------------------------------------- */

typedef struct RunArgs {
    const char *experiment;
    const char *method;
    const char *out;
    unsigned long seed;
    int have_seed;
    int quiet;
    const char *sets[CLI_MAX_SETS];
    int n_sets;
} RunArgs;

static int parse_run_args(int argc, char **argv, RunArgs *a)
{
    memset(a, 0, sizeof *a);
    a->out = "results";
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(arg, "--quiet") == 0) {
            a->quiet = 1;
        } else if (strcmp(arg, "--method") == 0 && has_value) {
            a->method = argv[++i];
        } else if (strcmp(arg, "--out") == 0 && has_value) {
            a->out = argv[++i];
        } else if (strcmp(arg, "--seed") == 0 && has_value) {
            if (parse_seed(argv[++i], &a->seed) != 0) {
                return -1;
            }
            a->have_seed = 1;
        } else if (strcmp(arg, "--set") == 0 && has_value) {
            if (a->n_sets == CLI_MAX_SETS) {
                fprintf(stderr, "error: more than %d --set\n",
                        CLI_MAX_SETS);
                return -1;
            }
            a->sets[a->n_sets++] = argv[++i];
        } else if (arg[0] == '-') {
            fprintf(stderr, "error: run: unknown or incomplete option "
                    "'%s'\n", arg);
            return -1;
        } else if (a->experiment == NULL) {
            a->experiment = arg;
        } else {
            fprintf(stderr, "error: run: unexpected argument '%s'\n", arg);
            return -1;
        }
    }
    if (a->experiment == NULL || a->method == NULL || !a->have_seed) {
        fprintf(stderr, "error: run needs EXPERIMENT.ini, --method NAME "
                "and --seed N\n");
        cli_usage(stderr);
        return -1;
    }
    return 0;
}

int cli_load_experiment(const char *path, const char *const *sets,
                        int n_sets, Config *cfg, IsbError *err)
{
    config_defaults(cfg);
    int rc = config_load(cfg, path, err);
    for (int i = 0; rc == 0 && i < n_sets; i++) {
        rc = config_set(cfg, sets[i], err);
    }
    return rc != 0 ? rc : config_validate(cfg, err);
}

int cli_run(int argc, char **argv)
{
    RunArgs a;
    if (parse_run_args(argc, argv, &a) != 0) {
        return 2;
    }
    IsbError err;
    isb_error_clear(&err);
    static Config cfg;
    const IsbSamplerType *method;
    double params[REGISTRY_MAX_PARAMS];
    if (cli_load_experiment(a.experiment, a.sets, a.n_sets, &cfg,
                            &err) != 0 ||
        registry_find(a.method, &method, &err) != 0 ||
        registry_resolve_params(method, &cfg, params, &err) != 0) {
        return cli_fail(&err);
    }

    char out_dir[4096];
    snprintf(out_dir, sizeof out_dir, "%s/%s/%s/seed-%lu", a.out, cfg.name,
             method->name, a.seed);
    CliProgress pr = {isatty(STDERR_FILENO), a.quiet, -1e9};
    RunOptions opt = {.cfg = &cfg, .method = method,
                      .method_params = params, .seed = a.seed,
                      .out_dir = out_dir, .stop = &cli_stop_requested,
                      .progress = cli_show_progress, .progress_ctx = &pr};
    RunSummary sum;
    cli_catch_signals();
    if (runner_run(&opt, &sum, &err) != 0) {
        return cli_fail(&err);
    }
    if (!a.quiet) {
        fprintf(stderr, "%s: %s after %ld steps (%.2f epochs), "
                "%.1f s on clock; train_loss %.4f test_error %.4f\n",
                out_dir, runner_status_name(sum.status), sum.steps,
                sum.epochs, sum.train_seconds, sum.train_loss,
                sum.test_error);
    }
    return sum.status == RUN_DONE ? 0 : sum.status == RUN_INTERRUPTED
                                            ? 130 : 3;
}

