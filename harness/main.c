/*
 * main.c - the command-line front end: the only code that prints or exits.
 * Each command lives in a cli_*.c file; this file dispatches.
 */
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "harness/cli.h"
#include "harness/error.h"

typedef struct Command {
    const char *name;
    int (*fn)(int argc, char **argv);
} Command;

static const Command commands[] = {
    {"run", cli_run},
    {"methods", cli_methods},
    {"sweep", cli_sweep},
    {"report", cli_report},
    {"variance", cli_variance},
};

void cli_usage(FILE *f)
{
    fputs(
"usage: isbench COMMAND [ARGS]\n"
"\n"
"commands:\n"
"  run EXPERIMENT.ini --method NAME --seed N [--out DIR]\n"
"      [--set section.key=value ...] [--quiet]\n"
"      train once; results go to DIR/EXPERIMENT/METHOD/seed-N/\n"
"      (DIR defaults to results). NAME is a registered method, a\n"
"      plugin path (./my.so) or NAME.so on ISBENCH_PLUGIN_PATH.\n"
"  sweep EXPERIMENT.ini [--methods a,b] [--seeds 1-5] [-j N] [--out DIR]\n"
"      [--set section.key=value ...]\n"
"      every (method, seed) pair as its own run, N at a time; methods\n"
"      and seeds default to the file's [experiment] keys; finished runs\n"
"      are skipped, so rerunning resumes\n"
"  report DIR/EXPERIMENT [--reference METHOD]\n"
"      summary.csv, summary.md and curves.csv from every run of an\n"
"      experiment, compared with METHOD (default uniform)\n"
"  variance EXPERIMENT.ini --seed N [--methods a,b] [--reference M]\n"
"      [--checkpoints K] [--pool M|all] [--draws K] [--out DIR]\n"
"      gradient variance of each method along one trajectory\n"
"  methods\n"
"      list the registered methods with their parameters\n"
"  --help, --version\n", f);
}

int cli_fail(const IsbError *err)
{
    fprintf(stderr, "error: %s\n", err->msg);
    if (err->hint[0] != '\0') {
        fprintf(stderr, "hint: %s\n", err->hint);
    }
    return 1;
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    if (argc < 2) {
        cli_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        cli_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("isbench %s (%s)\n", ISB_VERSION, ISB_GIT_COMMIT);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(cmd, commands[i].name) == 0) {
            return commands[i].fn(argc, argv);
        }
    }
    fprintf(stderr, "error: unknown command '%s'\n", cmd);
    cli_usage(stderr);
    return 2;
}
