/*
 * test_sweep.c - sweep planning, resuming and the whole sweep -> report
 * -> figures pipeline on the synthetic dataset (through ISBENCH_BIN).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/config.h"
#include "harness/results.h"
#include "harness/sweep.h"
#include "clihelp.h"

static void line_of(const char *path, int index, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s missing", path);
    for (int i = 0; i <= index; i++) {
        cr_assert_not_null(fgets(buf, (int)len, f), "%s: no line %d", path,
                           index);
    }
    buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

/* The time columns of evals.csv (train, eval and wall seconds, and the
 * sampler's) cleared, so rows of two runs compare on everything else. */
static void drop_time_columns(char *row)
{
    static const int time_cols[] = {8, 9, 10, 17};  /* 0-based */
    char out[2048] = "";
    int col = 0;
    for (char *tok = strtok(row, ","); tok; tok = strtok(NULL, ",")) {
        int is_time = 0;
        for (size_t k = 0; k < sizeof time_cols / sizeof *time_cols; k++) {
            is_time |= col == time_cols[k];
        }
        strcat(out, is_time ? "T" : tok);
        strcat(out, ",");
        col++;
    }
    strcpy(row, out);
}

static void load_quick(Config *cfg)
{
    IsbError err;
    config_defaults(cfg);
    char path[512];
    snprintf(path, sizeof path, "%s/experiments/synthetic_quick.ini",
             ISB_SOURCE_DIR);
    cr_assert_eq(config_load(cfg, path, &err), 0, "%s", err.msg);
}

Test(sweep, threads_share_the_cores)
{
    cr_assert_eq(sweep_threads_per_run(2, 1), 2);
    cr_assert_eq(sweep_threads_per_run(2, 2), 1);
    cr_assert_eq(sweep_threads_per_run(2, 4), 1, "never below one");
    cr_assert_eq(sweep_threads_per_run(8, 3), 2);
    cr_assert_eq(sweep_threads_per_run(4, 0), 4);
}

Test(sweep, plan_has_one_job_per_method_and_seed)
{
    static Config cfg;
    load_quick(&cfg);
    SweepPlan plan;
    IsbError err;
    cr_assert_eq(sweep_plan(&cfg, "uniform", "2-4", "/nonexistent/out",
                            &plan, &err), 0, "%s", err.msg);
    cr_assert_eq(plan.n_jobs, 3);
    cr_assert_eq(plan.n_done, 0);
    cr_assert_eq(plan.jobs[2].seed, 4);
    cr_assert_str_eq(plan.jobs[0].run_dir,
                     "/nonexistent/out/synthetic_quick/uniform/seed-2");
    sweep_plan_free(&plan);

    /* defaults: the file's methods (uniform) and seeds (1-2) */
    cr_assert_eq(sweep_plan(&cfg, NULL, NULL, "/x", &plan, &err), 0);
    cr_assert_eq(plan.n_jobs, 2);
    sweep_plan_free(&plan);

    cr_assert_eq(sweep_plan(&cfg, "uniform, unifrom", "1", "/x", &plan,
                            &err), ISB_EINVAL);
    cr_assert(strstr(err.hint, "uniform") != NULL, "%s", err.hint);
    cr_assert_lt(sweep_plan(&cfg, "uniform", "3-1", "/x", &plan, &err), 0);
}

Test(sweep, reads_the_status_of_a_manifest)
{
    char dir[256], path[300], status[32];
    IsbError err;
    snprintf(dir, sizeof dir, "/tmp/isb_sweep_status_%d", (int)getpid());
    cr_assert_eq(results_mkdirs(dir, &err), 0);
    cr_assert_eq(sweep_read_status(dir, status, sizeof status, &err), 0);
    cr_assert_str_eq(status, "", "no run.json: not started");

    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"status\": \"diverged\", \"seed\": 3}", f);
    fclose(f);
    cr_assert_eq(sweep_read_status(dir, status, sizeof status, &err), 0);
    cr_assert_str_eq(status, "diverged");

    f = fopen(path, "w");
    fputs("not json", f);
    fclose(f);
    cr_assert_eq(sweep_read_status(dir, status, sizeof status, &err),
                 ISB_EFORMAT);
    cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
}

Test(sweep, second_sweep_skips_finished_runs)
{
    char out[128], cmd[2048], output[8192], path[512];
    snprintf(out, sizeof out, "/tmp/isb_sweep_resume_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "%s sweep %s/experiments/synthetic_quick.ini "
             "--seeds 1-2 -j 2 --out %s --set training.epochs=1",
             getenv("ISBENCH_BIN"), ISB_SOURCE_DIR, out);
    cr_assert_eq(run_shell(cmd, output, sizeof output), 0, "%s", output);
    cr_assert(strstr(output, "2 to run") != NULL, "%s", output);
    cr_assert(strstr(output, "2 done, 0 failed") != NULL, "%s", output);

    struct stat before, after;
    snprintf(path, sizeof path,
             "%s/synthetic_quick/uniform/seed-2/run.json", out);
    cr_assert_eq(stat(path, &before), 0);
    sleep(1);  /* mtimes have at least one-second resolution somewhere */
    cr_assert_eq(run_shell(cmd, output, sizeof output), 0, "%s", output);
    cr_assert(strstr(output, "2 already done, 0 to run") != NULL, "%s",
              output);
    cr_assert(strstr(output, "0 run, 0 done") != NULL, "%s", output);
    cr_assert_eq(stat(path, &after), 0);
    cr_assert_eq(before.st_mtime, after.st_mtime, "run.json rewritten");

    /* a run that is not done is run again */
    FILE *f = fopen(path, "w");
    fputs("{\"status\": \"interrupted\"}", f);
    fclose(f);
    cr_assert_eq(run_shell(cmd, output, sizeof output), 0, "%s", output);
    cr_assert(strstr(output, "1 already done, 1 to run") != NULL, "%s",
              output);
}

Test(sweep, failed_run_is_reported_and_the_sweep_goes_on)
{
    char out[128], cmd[2048], output[8192], path[512];
    snprintf(out, sizeof out, "/tmp/isb_sweep_fail_%d", (int)getpid());
    /* a learning rate of 1e30 makes the loss non-finite: diverged */
    snprintf(cmd, sizeof cmd, "%s sweep %s/experiments/synthetic_quick.ini "
             "--seeds 1-2 --out %s --set training.epochs=1 "
             "--set training.lr=1e30", getenv("ISBENCH_BIN"),
             ISB_SOURCE_DIR, out);
    int rc = run_shell(cmd, output, sizeof output);
    cr_assert_neq(rc, 0, "%s", output);
    cr_assert(strstr(output, "2 run, 0 done, 2 failed or diverged") != NULL,
              "both runs were attempted: %s", output);
    snprintf(path, sizeof path, "%s/synthetic_quick/logs/uniform-seed-1.log",
             out);
    cr_assert(strstr(output, path) != NULL, "names the log: %s", output);
}

Test(sweep, same_seed_gives_every_sampler_the_same_start)
{
    /* Two different samplers (uniform shuffled and with replacement)
     * share the initial weights and evaluation subset: identical step-0
     * rows apart from time, different rows later. */
    char out[2][128], cmd[2048], output[8192], path[512];
    char rows[2][2][2048];
    for (int k = 0; k < 2; k++) {
        snprintf(out[k], sizeof out[k], "/tmp/isb_sweep_crn_%d_%d",
                 (int)getpid(), k);
        snprintf(cmd, sizeof cmd, "%s sweep "
                 "%s/experiments/synthetic_quick.ini --seeds 5 --out %s "
                 "--set training.epochs=1 --set "
                 "method.uniform.replacement=%d", getenv("ISBENCH_BIN"),
                 ISB_SOURCE_DIR, out[k], k);
        cr_assert_eq(run_shell(cmd, output, sizeof output), 0, "%s", output);
        snprintf(path, sizeof path,
                 "%s/synthetic_quick/uniform/seed-5/evals.csv", out[k]);
        line_of(path, 1, rows[k][0], sizeof rows[k][0]);
        line_of(path, 3, rows[k][1], sizeof rows[k][1]);
        drop_time_columns(rows[k][0]);
        drop_time_columns(rows[k][1]);
    }
    cr_assert_str_eq(rows[0][0], rows[1][0]);
    cr_assert_str_neq(rows[0][1], rows[1][1], "the samplers differ later");
}

Test(sweep, sweep_report_and_figures_end_to_end)
{
    char out[128], cmd[2048], output[8192], path[512], line[2048];
    snprintf(out, sizeof out, "/tmp/isb_sweep_e2e_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "%s sweep %s/experiments/synthetic_quick.ini "
             "-j 2 --out %s --set training.epochs=1", getenv("ISBENCH_BIN"),
             ISB_SOURCE_DIR, out);
    cr_assert_eq(run_shell(cmd, output, sizeof output), 0, "%s", output);
    snprintf(cmd, sizeof cmd, "%s report %s/synthetic_quick",
             getenv("ISBENCH_BIN"), out);
    cr_assert_eq(run_shell(cmd, output, sizeof output), 0, "%s", output);

    /* summary.csv: header + 1 method x 8 metrics (no variance data) */
    snprintf(path, sizeof path, "%s/synthetic_quick/summary.csv", out);
    cr_assert_eq(count_lines(path), 1 + 8);
    line_of(path, 0, line, sizeof line);
    cr_assert_str_eq(line, "experiment,method,metric,unit,better,"
                     "reference,n_runs,n_finite,mean,sd,median,ci_low,"
                     "ci_high,ci_of,n_paired,ratio_to_reference,"
                     "ratio_ci_low,ratio_ci_high,win_rate,note");
    line_of(path, 1, line, sizeof line);
    cr_assert(strncmp(line, "synthetic_quick,uniform,final_train_loss,"
              "nats,lower,uniform,2,2,", 64) == 0, "%s", line);

    snprintf(path, sizeof path, "%s/synthetic_quick/curves.csv", out);
    line_of(path, 0, line, sizeof line);
    cr_assert_str_eq(line, "method,axis,x,n_runs,train_loss_q25,"
                     "train_loss_median,train_loss_q75,test_error_q25,"
                     "test_error_median,test_error_q75");
    cr_assert_gt(count_lines(path), 20, "both axes, log-spaced grid");
    snprintf(path, sizeof path, "%s/synthetic_quick/summary.md", out);
    cr_assert_gt(count_lines(path), 8);

    /* figures, when gnuplot is here */
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        cr_skip("gnuplot not installed: figures not checked");
    }
    snprintf(cmd, sizeof cmd, "%s/scripts/plots %s/synthetic_quick",
             ISB_SOURCE_DIR, out);
    cr_assert_eq(run_shell(cmd, output, sizeof output), 0, "%s", output);
    static const char *const figures[] = {
        "train_loss_seconds", "test_error_seconds", "train_loss_epochs"};
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 2; k++) {
            struct stat st;
            snprintf(path, sizeof path, "%s/synthetic_quick/figures/%s.%s",
                     out, figures[i], k ? "svg" : "png");
            cr_assert_eq(stat(path, &st), 0, "%s missing", path);
            cr_assert_gt(st.st_size, 1000, "%s nearly empty", path);
        }
    }
    cr_assert(strstr(output, "variance figure skipped") != NULL, "%s",
              output);
}
