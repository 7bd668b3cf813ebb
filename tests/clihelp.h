/*
 * clihelp.h - helpers shared by the tests that run the isbench binary
 * (test_cli.c, test_sweep.c): run a shell command and capture its output,
 * count the lines of a file. All static inline, so a file that uses only
 * some of them compiles without unused-function warnings.
 */
#ifndef ISB_TESTS_CLIHELP_H
#define ISB_TESTS_CLIHELP_H

#include <stdio.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

/* Runs cmd_line through the shell with stderr joined to stdout; puts at
 * most len - 1 bytes of the output, NUL-terminated, in output [len] and
 * returns the command's exit status. */
static inline int run_shell(const char *cmd_line, char *output, size_t len)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s 2>&1", cmd_line);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t used = fread(output, 1, len - 1, p);
    output[used] = '\0';
    int status = pclose(p);
    return WEXITSTATUS(status);
}

/* The number of newline characters in the file at path, which must
 * exist. */
static inline int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s missing", path);
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) {
        n += c == '\n';
    }
    fclose(f);
    return n;
}

#endif
