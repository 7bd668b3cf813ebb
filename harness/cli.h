/*
 * cli.h - shared pieces of the command-line front end (main.c, cli_*.c).
 * Only these files print to the terminal or choose exit codes.
 */
#ifndef ISB_CLI_H
#define ISB_CLI_H

#include <signal.h>
#include <stdio.h>

#include "config.h"
#include "error.h"
#include "runner.h"

#define CLI_MAX_SETS 64

/* Set by SIGINT/SIGTERM once cli_catch_signals ran; runs stop cleanly. */
extern volatile sig_atomic_t cli_stop_requested;
void cli_catch_signals(void);

/* Progress on stderr: a live bar on a terminal, a line every 5 s
 * otherwise, nothing when quiet. ctx is a CliProgress. */
typedef struct CliProgress {
    int tty;
    int quiet;
    double last_print;
} CliProgress;
void cli_show_progress(void *ctx, const RunProgress *p);

/* Defaults, the experiment file, the --set overrides, validation. */
int cli_load_experiment(const char *path, const char *const *sets,
                        int n_sets, Config *cfg, IsbError *err);

/* The usage text, to f. */
void cli_usage(FILE *f);

/* Print "error: MSG" and "hint: HINT" to stderr; returns exit code 1. */
int cli_fail(const IsbError *err);

/* Commands: argv[1] is the command name; each returns the exit code. */
int cli_run(int argc, char **argv);
int cli_methods(int argc, char **argv);
int cli_methods_list(void);
int cli_sweep(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_variance(int argc, char **argv);

#endif
