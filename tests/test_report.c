/*
 * test_report.c - the report's statistics on hand-made result folders:
 * bootstrap intervals, pairing by seed, reached/total counting, the curve
 * grid, and the files it writes.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/report.h"
#include "harness/results.h"

/* One evaluation row: on-clock seconds, epoch, train loss, test error. */
typedef struct Row {
    double t, epoch, loss, err;
} Row;

static char root[256];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* ROOT/exp/METHOD/seed-N/{evals.csv, run.json} from rows. */
static void write_run(const char *method, unsigned long seed,
                      const char *status, const Row *rows, size_t n)
{
    char dir[512], path[600];
    IsbError err;
    snprintf(dir, sizeof dir, "%s/exp/%s/seed-%lu", root, method, seed);
    cr_assert_eq(results_mkdirs(dir, &err), 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/evals.csv", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("schema_version,method,seed,step,epoch,samples_trained,"
          "samples_scored,train_seconds,train_loss,test_error,"
          "sampler_seconds\n", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "1,%s,%lu,%zu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,"
                "%.17g\n", method, seed, i, rows[i].epoch,
                100 * rows[i].epoch, 300 * rows[i].epoch, rows[i].t,
                rows[i].loss, rows[i].err, 0.25 * rows[i].t);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/run.json", dir);
    char json[256];
    snprintf(json, sizeof json, "{\"method\": \"%s\", \"status\": \"%s\"}",
             method, status);
    write_text(path, json);
}

/*
 * The folder: uniform (the reference) seeds 1-3 with final losses 0.3,
 * 0.5, 0.4, so the target is 0.4 and it is reached at 4 s by seeds 1 and
 * 3 and never by seed 2; its mean on-clock time (budget) is 4 s. "fast"
 * has seeds 1-2 only and reaches 0.4 at 1 s; "slow" never does. A fourth
 * uniform run is still running and must be left out.
 */
static void make_folder(void)
{
    snprintf(root, sizeof root, "/tmp/isb_report_%d", (int)getpid());
    static const Row u1[] = {{0, 0, 2, .9}, {1, .5, 1, .5}, {2, 1, .5, .3},
                             {4, 2, .3, .2}};
    static const Row u2[] = {{0, 0, 2, .9}, {1, .5, 1, .5}, {2, 1, .7, .3},
                             {4, 2, .5, .25}};
    static const Row u3[] = {{0, 0, 2, .9}, {2, 1, .8, .4}, {4, 2, .4, .2}};
    static const Row fast[] = {{0, 0, 2, .9}, {1, .5, .4, .2},
                               {2, 1, .2, .1}};
    static const Row slow[] = {{0, 0, 2, .9}, {8, 2, .9, .5}};
    write_run("uniform", 1, "done", u1, 4);
    write_run("uniform", 2, "done", u2, 4);
    write_run("uniform", 3, "done", u3, 3);
    write_run("uniform", 4, "running", u3, 2);
    write_run("fast", 1, "done", fast, 3);
    write_run("fast", 2, "done", fast, 3);
    for (unsigned long s = 1; s <= 3; s++) {
        write_run("slow", s, "done", slow, 2);
    }
}

static void load(ReportData *d, ReportSummary *sum)
{
    char dir[512];
    IsbError err;
    snprintf(dir, sizeof dir, "%s/exp", root);
    cr_assert_eq(report_load(dir, d, &err), 0, "%s", err.msg);
    cr_assert_eq(report_summarise(d, "uniform", sum, &err), 0, "%s",
                 err.msg);
}

static const ReportRow *row_of(const ReportSummary *sum, const char *m,
                               ReportMetric metric)
{
    for (size_t i = 0; i < sum->n_rows; i++) {
        if (strcmp(sum->rows[i].method, m) == 0 &&
            sum->rows[i].metric == metric) {
            return &sum->rows[i];
        }
    }
    cr_assert_fail("no row %s/%d", m, (int)metric);
    return NULL;
}

static const ReportMethod *method_of(const ReportData *d, const char *m)
{
    for (size_t i = 0; i < d->n_methods; i++) {
        if (strcmp(d->methods[i].name, m) == 0) {
            return &d->methods[i];
        }
    }
    cr_assert_fail("no method %s", m);
    return NULL;
}

Test(report, bootstrap_interval_contains_the_sample_median)
{
    /* 25 skewed values: median 1.0 (the 13th of the sorted list) */
    double v[25];
    for (int i = 0; i < 25; i++) {
        v[i] = exp(0.1 * (i - 12)) + (i == 24 ? 50 : 0);
    }
    ReportStat s;
    report_describe(v, 25, REPORT_RESAMPLES, &s);
    cr_assert_float_eq(s.median, 1.0, 1e-12);
    cr_assert(s.lo <= s.median && s.median <= s.hi, "[%g, %g] vs %g",
              s.lo, s.hi, s.median);
    cr_assert(s.lo < s.hi, "a spread sample gives a non-empty interval");
    cr_assert(s.hi < 5, "the outlier moves the mean, not the median's "
              "interval: %g", s.hi);
    cr_assert_eq(s.n, 25);
    cr_assert_eq(s.n_finite, 25);

    ReportStat again;
    report_describe(v, 25, REPORT_RESAMPLES, &again);
    cr_assert(again.lo == s.lo && again.hi == s.hi, "seeded: repeatable");
}

Test(report, mean_uses_finite_values_and_median_sorts_infinity_last)
{
    const double v[5] = {1, 2, INFINITY, INFINITY, NAN};
    ReportStat s;
    report_describe(v, 5, 200, &s);
    cr_assert_eq(s.n, 5);
    cr_assert_eq(s.n_finite, 2);
    cr_assert_float_eq(s.mean, 1.5, 1e-12);
    cr_assert_float_eq(s.sd, sqrt(0.5), 1e-12);
    /* non-NaN values 1, 2, inf, inf: the median is inf */
    cr_assert(isinf(s.median) && s.median > 0);
}

Test(report, pairs_only_common_seeds_with_values)
{
    const unsigned long sa[4] = {1, 2, 3, 5};
    const double va[4] = {10, 20, 30, NAN};
    const unsigned long sb[4] = {2, 3, 4, 5};
    const double vb[4] = {2, 3, 4, 5};
    double pa[4], pb[4];
    size_t n = report_pair(sa, va, 4, sb, vb, 4, pa, pb);
    cr_assert_eq(n, 2, "seeds 2 and 3 only (5 has NaN, 1 and 4 unpaired)");
    cr_assert(pa[0] == 20 && pb[0] == 2 && pa[1] == 30 && pb[1] == 3);
}

Test(report, target_and_budget_come_from_the_reference)
{
    make_folder();
    ReportData d;
    ReportSummary sum;
    load(&d, &sum);
    cr_assert_float_eq(sum.target_loss, 0.4, 1e-12);
    cr_assert_float_eq(sum.budget_seconds, 4.0, 1e-12);
    cr_assert_eq(d.n_methods, 3);
    cr_assert_eq(d.n_unfinished, 1, "the running seed-4 is left out");
    cr_assert_eq(method_of(&d, "uniform")->n_runs, 3);
    cr_assert_eq(d.has_variance, 0);
    report_summary_free(&sum);
    report_free(&d);
}

Test(report, counts_reached_over_total_with_a_method_that_never_reaches)
{
    make_folder();
    ReportData d;
    ReportSummary sum;
    load(&d, &sum);

    const ReportRow *slow = row_of(&sum, "slow", METRIC_TIME_TO_TARGET);
    cr_assert_eq(slow->stat.n, 3);
    cr_assert_eq(slow->stat.n_finite, 0, "never reached: 0/3");
    cr_assert(isinf(slow->stat.median));
    /* vs uniform: seeds 1, 3 lost (inf > 4 s), seed 2 a tie (both inf) */
    cr_assert_float_eq(slow->win_rate, 0.5 / 3, 1e-12);

    const ReportRow *uni = row_of(&sum, "uniform", METRIC_TIME_TO_TARGET);
    cr_assert_eq(uni->stat.n_finite, 2, "seeds 1 and 3 reach 0.4 at 4 s");
    cr_assert_float_eq(uni->stat.mean, 4.0, 1e-12);

    const ReportRow *fast = row_of(&sum, "fast", METRIC_TIME_TO_TARGET);
    cr_assert_eq(fast->stat.n_finite, 2);
    cr_assert_float_eq(fast->stat.median, 1.0, 1e-12);
    report_summary_free(&sum);
    report_free(&d);
}

Test(report, paired_ratios_use_common_seeds_only)
{
    make_folder();
    ReportData d;
    ReportSummary sum;
    load(&d, &sum);

    /* fast has seeds 1, 2: final losses 0.2 vs uniform's 0.3 and 0.5 */
    const ReportRow *r = row_of(&sum, "fast", METRIC_FINAL_TRAIN_LOSS);
    cr_assert_eq(r->n_paired, 2);
    cr_assert_float_eq(r->ratio, (0.2 / 0.3 + 0.2 / 0.5) / 2, 1e-12);
    cr_assert(r->ratio_lo <= r->ratio && r->ratio <= r->ratio_hi);
    cr_assert_float_eq(r->win_rate, 1.0, 1e-12);

    /* speedup per seed: 4 s / 1 s on seed 1; seed 2's uniform never
     * reached, so fast's speedup there is infinite */
    const ReportRow *sp = row_of(&sum, "fast", METRIC_SPEEDUP);
    cr_assert_eq(sp->stat.n, 2);
    cr_assert_eq(sp->stat.n_finite, 1);
    cr_assert_float_eq(sp->stat.mean, 4.0, 1e-12);

    /* the reference against itself: ratio 1, every seed a tie */
    const ReportRow *u = row_of(&sum, "uniform", METRIC_FINAL_TEST_ERROR);
    cr_assert_eq(u->n_paired, 3);
    cr_assert_float_eq(u->ratio, 1.0, 1e-12);
    cr_assert_float_eq(u->win_rate, 0.5, 1e-12);

    /* equal wall-clock (4 s): fast ended at 2 s with 0.2; slow still has
     * its step-0 loss of 2 */
    cr_assert_float_eq(row_of(&sum, "fast", METRIC_LOSS_AT_BUDGET)
                           ->stat.median, 0.2, 1e-12);
    cr_assert_float_eq(row_of(&sum, "slow", METRIC_LOSS_AT_BUDGET)
                           ->stat.median, 2.0, 1e-12);
    /* sampler share 0.25 and 3 scored per trained, as written */
    cr_assert_float_eq(row_of(&sum, "fast", METRIC_SAMPLER_SHARE)
                           ->stat.median, 0.25, 1e-12);
    cr_assert_float_eq(row_of(&sum, "fast", METRIC_SCORED_PER_TRAINED)
                           ->stat.median, 3.0, 1e-12);
    report_summary_free(&sum);
    report_free(&d);
}

Test(report, grid_carries_values_forward_and_stops_after_a_run_ends)
{
    make_folder();
    ReportData d;
    ReportSummary sum;
    load(&d, &sum);
    double loss[3], err[3];

    /* uniform at 3 s: the 2 s values 0.5, 0.7, 0.8 carried forward */
    const ReportMethod *u = method_of(&d, "uniform");
    cr_assert_eq(report_curve_at(u, 0, 3.0, loss, err), 3);
    cr_assert_float_eq(loss[1], 0.7, 1e-12);
    cr_assert_float_eq(loss[0], 0.6, 1e-12, "type-7 quartile");
    cr_assert_float_eq(err[1], 0.3, 1e-12);

    /* fast at 1.5 s: both runs, 0.4 from the 1 s row; after 2 s, none */
    const ReportMethod *f = method_of(&d, "fast");
    cr_assert_eq(report_curve_at(f, 0, 1.5, loss, err), 2);
    cr_assert_float_eq(loss[1], 0.4, 1e-12);
    cr_assert_eq(report_curve_at(f, 0, 2.5, loss, err), 0);
    cr_assert(isnan(loss[1]));
    /* on the epoch axis: fast ends at epoch 1 */
    cr_assert_eq(report_curve_at(f, 1, 1.0, loss, err), 2);
    cr_assert_eq(report_curve_at(f, 1, 1.01, loss, err), 0);

    double grid[5];
    report_log_grid(0.01, 100, 5, grid);
    cr_assert_float_eq(grid[1], 0.1, 1e-12);
    cr_assert_float_eq(grid[3], 10, 1e-12);
    cr_assert_eq(grid[4], 100.0);
    report_summary_free(&sum);
    report_free(&d);
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) {
        n += c == '\n';
    }
    fclose(f);
    return n;
}

Test(report, writes_one_summary_row_per_method_and_metric)
{
    make_folder();
    /* a variance measurement for seed 1 adds the variance metric */
    char path[600];
    IsbError err;
    snprintf(path, sizeof path, "%s/exp/variance/seed-1", root);
    cr_assert_eq(results_mkdirs(path, &err), 0);
    snprintf(path, sizeof path, "%s/exp/variance/seed-1/variance.csv",
             root);
    write_text(path, "step,epoch,method,variance_exact,variance_mc,"
               "variance_mc_stderr,variance_uniform,ratio_to_uniform,"
               "pool_size,b,K,bias_distance\n"
               "0,0,fast,1,1,0,2,0.5,64,8,3,0\n"
               "10,1,fast,1,1,0,4,0.25,64,8,3,0\n"
               "20,2,fast,1,1,0,1,0.75,64,8,3,0\n"
               "0,0,uniform,2,2,0,2,1,64,8,3,0\n");
    ReportData d;
    ReportSummary sum;
    load(&d, &sum);
    cr_assert_eq(d.has_variance, 1);
    cr_assert_float_eq(method_of(&d, "fast")->runs[0].variance_ratio, 0.5,
                       1e-12, "median of 0.5, 0.25, 0.75");
    cr_assert(isnan(method_of(&d, "fast")->runs[1].variance_ratio),
              "seed 2 was not measured");
    cr_assert_eq(sum.n_rows, 3 * REPORT_N_METRICS);
    cr_assert_eq(report_write(&d, &sum, &err), 0, "%s", err.msg);

    snprintf(path, sizeof path, "%s/exp/summary.csv", root);
    cr_assert_eq(count_lines(path), 1 + 3 * REPORT_N_METRICS);
    FILE *f = fopen(path, "r");
    char line[1024];
    cr_assert_not_null(fgets(line, sizeof line, f));
    fclose(f);
    cr_assert(strncmp(line, "experiment,method,metric,unit,better,"
              "reference,n_runs,n_finite,mean,sd,median,ci_low,ci_high",
              60) == 0, "%s", line);
    snprintf(path, sizeof path, "%s/exp/summary.md", root);
    cr_assert_gt(count_lines(path), 10);
    snprintf(path, sizeof path, "%s/exp/curves.csv", root);
    cr_assert_gt(count_lines(path), 1 + 2 * 3);
    report_summary_free(&sum);
    report_free(&d);
}

Test(report, missing_reference_names_the_methods_found)
{
    make_folder();
    ReportData d;
    ReportSummary sum;
    IsbError err;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/exp", root);
    cr_assert_eq(report_load(dir, &d, &err), 0, "%s", err.msg);
    cr_assert_eq(report_summarise(&d, "upper-bound", &sum, &err),
                 ISB_EINVAL);
    cr_assert(strstr(err.msg, "fast, slow, uniform") != NULL, "%s",
              err.msg);
    report_free(&d);

    snprintf(dir, sizeof dir, "%s/empty", root);
    cr_assert_eq(results_mkdirs(dir, &err), 0);
    cr_assert_eq(report_load(dir, &d, &err), ISB_EINVAL);
    cr_assert(strstr(err.hint, "sweep") != NULL, "%s", err.hint);
}
