/*
 * cli_variance.c - `isbench variance`: gradient variance of several
 * methods along one reference trajectory.
 *
 *   isbench variance EXPERIMENT.ini --seed N [--methods a,b,...]
 *       [--reference uniform] [--checkpoints K] [--pool M|all]
 *       [--draws K] [--out DIR] [--set section.key=value ...] [--quiet]
 *
 * Flags are shorthands for the [variance] and [probes] keys.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli.h"
#include "harness/registry.h"
#include "harness/variance.h"

typedef struct VarArgs {
    const char *experiment;
    const char *out;
    unsigned long seed;
    int have_seed, quiet;
    const char *sets[CLI_MAX_SETS];
    char owned[8][300];   /* --set text built from shorthand flags */
    int n_sets, n_owned;
} VarArgs;

static void variance_usage(FILE *f)
{
    fputs("usage: isbench variance EXPERIMENT.ini --seed N "
          "[--methods a,b,...]\n"
          "       [--reference uniform] [--checkpoints K] "
          "[--pool M|all] [--draws K]\n"
          "       [--out DIR] [--set section.key=value ...] [--quiet]\n"
          "writes DIR/EXPERIMENT/variance/seed-N/variance.csv "
          "(DIR: results)\n", f);
}

/* Turn "--flag value" into an owned "section.key=value" override. */
static int add_shorthand(VarArgs *a, const char *key, const char *value)
{
    if (a->n_owned == 8 || a->n_sets == CLI_MAX_SETS) {
        fprintf(stderr, "error: variance: too many options\n");
        return -1;
    }
    if (strcmp(key, "probes.pool") == 0 && strcmp(value, "all") == 0) {
        value = "0";
    }
    char *slot = a->owned[a->n_owned++];
    snprintf(slot, sizeof a->owned[0], "%s=%s", key, value);
    a->sets[a->n_sets++] = slot;
    return 0;
}

static const struct {
    const char *flag;
    const char *key;
} shorthands[] = {
    {"--methods", "variance.methods"},
    {"--reference", "variance.reference"},
    {"--checkpoints", "variance.checkpoints"},
    {"--pool", "probes.pool"},
    {"--draws", "probes.draws"},
};

static int parse_one(VarArgs *a, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    int has_value = *i + 1 < argc;
    for (size_t k = 0; k < sizeof shorthands / sizeof *shorthands; k++) {
        if (strcmp(arg, shorthands[k].flag) == 0 && has_value) {
            return add_shorthand(a, shorthands[k].key, argv[++*i]);
        }
    }
    if (strcmp(arg, "--quiet") == 0) {
        a->quiet = 1;
    } else if (strcmp(arg, "--out") == 0 && has_value) {
        a->out = argv[++*i];
    } else if (strcmp(arg, "--set") == 0 && has_value) {
        if (a->n_sets == CLI_MAX_SETS) {
            fprintf(stderr, "error: more than %d --set\n", CLI_MAX_SETS);
            return -1;
        }
        a->sets[a->n_sets++] = argv[++*i];
    } else if (strcmp(arg, "--seed") == 0 && has_value) {
        char *end;
        const char *text = argv[++*i];
        errno = 0;
        a->seed = strtoul(text, &end, 10);
        if (end == text || *end != '\0' || errno != 0 || text[0] == '-') {
            fprintf(stderr, "error: --seed '%s': not a non-negative "
                    "integer\n", text);
            return -1;
        }
        a->have_seed = 1;
    } else if (arg[0] != '-' && a->experiment == NULL) {
        a->experiment = arg;
    } else {
        fprintf(stderr, "error: variance: unknown, incomplete or extra "
                "argument '%s'\n", arg);
        return -1;
    }
    return 0;
}

/* Split "a, b,c" into method names and resolve each. */
static int resolve_methods(const Config *cfg, VarianceRunOptions *o,
                           IsbError *err)
{
    char list[CONFIG_STR_LEN];
    snprintf(list, sizeof list, "%s", cfg->var_methods);
    o->n_methods = 0;
    for (char *tok = strtok(list, ", "); tok != NULL;
         tok = strtok(NULL, ", ")) {
        if (o->n_methods == VARIANCE_MAX_METHODS) {
            return isb_fail(err, ISB_ECONFIG, "variance.methods: more "
                            "than %d methods", VARIANCE_MAX_METHODS);
        }
        VarianceMethod *m = &o->methods[o->n_methods++];
        int rc = registry_find(tok, &m->type, err);
        rc = rc != 0 ? rc
                     : registry_resolve_params(m->type, cfg, m->params, err);
        if (rc != 0) {
            return rc;
        }
    }
    if (o->n_methods == 0) {
        return isb_fail(err, ISB_ECONFIG, "variance.methods: empty "
                        "(expected a list such as uniform, upper-bound)");
    }
    VarianceMethod *ref = &o->reference;
    int rc = registry_find(cfg->var_reference, &ref->type, err);
    return rc != 0 ? rc
                   : registry_resolve_params(ref->type, cfg, ref->params,
                                             err);
}

int cli_variance(int argc, char **argv)
{
    static VarArgs a;
    memset(&a, 0, sizeof a);
    a.out = "results";
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            variance_usage(stdout);
            return 0;
        }
        if (parse_one(&a, argc, argv, &i) != 0) {
            return 2;
        }
    }
    if (a.experiment == NULL || !a.have_seed) {
        fprintf(stderr, "error: variance needs EXPERIMENT.ini and "
                "--seed N\n");
        variance_usage(stderr);
        return 2;
    }

    static Config cfg;
    static VarianceRunOptions o;
    IsbError err;
    isb_error_clear(&err);
    if (cli_load_experiment(a.experiment, a.sets, a.n_sets, &cfg,
                            &err) != 0 ||
        resolve_methods(&cfg, &o, &err) != 0) {
        return cli_fail(&err);
    }
    char out_dir[4096];
    snprintf(out_dir, sizeof out_dir, "%s/%s/variance/seed-%lu", a.out,
             cfg.name, a.seed);
    CliProgress pr = {isatty(STDERR_FILENO), a.quiet, -1e9};
    o.cfg = &cfg;
    o.seed = a.seed;
    o.out_dir = out_dir;
    o.stop = &cli_stop_requested;
    o.progress = cli_show_progress;
    o.progress_ctx = &pr;
    cli_catch_signals();
    RunSummary sum;
    if (variance_run(&o, &sum, &err) != 0) {
        return cli_fail(&err);
    }
    if (!a.quiet) {
        fprintf(stderr, "%s/variance.csv: %s after %ld steps\n", out_dir,
                runner_status_name(sum.status), sum.steps);
    }
    return sum.status == RUN_DONE ? 0 : 3;
}
