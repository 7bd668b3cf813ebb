/*
 * cli.h - shared pieces of the command-line front end (main.c, cli_*.c).
 * Only these files print to the terminal or choose exit codes.
 */
#ifndef ISB_CLI_H
#define ISB_CLI_H

#include <stdio.h>

#include "error.h"

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

#endif
