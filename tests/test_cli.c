/*
 * test_cli.c - the command-line front end on a short synthetic experiment.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clihelp.h"

static char out_dir[128];

/* Runs $ISBENCH_BIN with args; see run_shell. */
static int run_cmd(const char *args, char *output, size_t len)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s", getenv("ISBENCH_BIN"), args);
    return run_shell(cmd, output, len);
}

static void first_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s missing", path);
    cr_assert_not_null(fgets(buf, (int)len, f));
    buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

Test(cli, run_writes_the_three_files_with_their_columns)
{
    snprintf(out_dir, sizeof out_dir, "/tmp/isb_cli_%d", (int)getpid());
    char args[1024], output[8192], path[512], line[1024];
    snprintf(args, sizeof args, "run %s/experiments/synthetic_quick.ini "
             "--method uniform --seed 3 --out %s --quiet "
             "--set training.epochs=1", ISB_SOURCE_DIR, out_dir);
    cr_assert_eq(run_cmd(args, output, sizeof output), 0, "%s", output);

    snprintf(path, sizeof path,
             "%s/synthetic_quick/uniform/seed-3/evals.csv", out_dir);
    first_line(path, line, sizeof line);
    const char want[] = "schema_version,experiment,method,seed,step,"
        "epoch,samples_trained,samples_scored,train_seconds,eval_seconds,"
        "wall_seconds,train_loss,train_error,test_loss,test_error";
    cr_assert(strncmp(line, want, strlen(want)) == 0, "%s", line);
    /* header + step 0 + every 20 of 63 steps + the end */
    cr_assert_eq(count_lines(path), 1 + 1 + 3 + 1);

    snprintf(path, sizeof path,
             "%s/synthetic_quick/uniform/seed-3/steps.csv", out_dir);
    first_line(path, line, sizeof line);
    const char want_steps[] = "step,epoch,train_seconds,batch_loss,lr";
    cr_assert(strncmp(line, want_steps, strlen(want_steps)) == 0, "%s",
              line);
    cr_assert_eq(count_lines(path), 1 + 63);

    snprintf(path, sizeof path,
             "%s/synthetic_quick/uniform/seed-3/run.json", out_dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char json[65536];
    size_t n = fread(json, 1, sizeof json - 1, f);
    json[n] = '\0';
    fclose(f);
    cr_assert(strstr(json, "\"status\": \"done\"") != NULL ||
              strstr(json, "\"status\":\t\"done\"") != NULL, "%s", json);
    cr_assert(strstr(json, "stream_seeds") != NULL);
}

Test(cli, unknown_key_is_a_clear_error_and_writes_nothing)
{
    char args[1024], output[8192], out[256];
    snprintf(out, sizeof out, "/tmp/isb_cli_bad_%d", (int)getpid());
    snprintf(args, sizeof args, "run %s/experiments/synthetic_quick.ini "
             "--method uniform --seed 1 --out %s --set training.epohcs=1",
             ISB_SOURCE_DIR, out);
    int rc = run_cmd(args, output, sizeof output);
    cr_assert_neq(rc, 0);
    cr_assert(strstr(output, "epohcs") != NULL, "%s", output);
    cr_assert(strstr(output, "hint: did you mean 'epochs'") != NULL,
              "%s", output);
    cr_assert_neq(access(out, F_OK), 0);
}

Test(cli, unknown_method_suggests_closest)
{
    char args[1024], output[8192];
    snprintf(args, sizeof args, "run %s/experiments/synthetic_quick.ini "
             "--method unifrom --seed 1", ISB_SOURCE_DIR);
    cr_assert_neq(run_cmd(args, output, sizeof output), 0);
    cr_assert(strstr(output, "unifrom") != NULL, "%s", output);
    cr_assert(strstr(output, "uniform") != NULL, "%s", output);
}

Test(cli, version_and_methods)
{
    char output[8192];
    cr_assert_eq(run_cmd("--version", output, sizeof output), 0);
    cr_assert(strncmp(output, "isbench ", 8) == 0, "%s", output);
    cr_assert_eq(run_cmd("methods", output, sizeof output), 0);
    cr_assert(strstr(output, "uniform") != NULL, "%s", output);
    cr_assert(strstr(output, "replacement") != NULL, "%s", output);
}
