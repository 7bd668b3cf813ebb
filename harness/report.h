/*
 * report.h - statistics over the runs of one experiment.
 *
 * Reads DIR/METHOD/seed-N/{evals.csv,run.json} (and, when present,
 * DIR/variance/seed-N/variance.csv), computes per-run metrics, and
 * summarises them per method with seeded bootstrap intervals and paired
 * comparisons against a reference method over common seeds (common
 * random numbers: the same seed gives every method the same initial
 * weights and evaluation subset). Writes summary.csv, summary.md and
 * curves.csv into DIR. Never prints.
 */
#ifndef ISB_REPORT_H
#define ISB_REPORT_H

#include <stddef.h>

#include "error.h"

/* Percentile bootstrap (Efron & Tibshirani 1993, ch. 13): resamples per
 * interval, from a fresh rng_stream(REPORT_SEED, "report") each time, so
 * every interval is reproducible and independent of the others. */
#define REPORT_RESAMPLES 2000
#define REPORT_SEED 0
#define REPORT_GRID_POINTS 60

typedef struct ReportRun {
    unsigned long seed;
    char status[32];      /* run.json's: done or diverged */
    size_t n;             /* evaluation rows */
    double *seconds;      /* [n] on-clock training seconds */
    double *epoch;        /* [n] */
    double *train_loss;   /* [n] */
    double *test_error;   /* [n] */
    double samples_trained, samples_scored, sampler_seconds; /* last row */
    double variance_ratio; /* median ratio to uniform; NaN: not measured */
} ReportRun;

typedef struct ReportMethod {
    char name[64];
    size_t n_runs;
    ReportRun *runs;      /* [n_runs], seeds ascending */
} ReportMethod;

typedef struct ReportData {
    char dir[4096];
    size_t n_methods;
    ReportMethod *methods; /* [n_methods], names ascending */
    size_t n_unfinished;   /* runs left out: running, interrupted, failed */
    int has_variance;      /* some DIR/variance/seed-N/variance.csv read */
} ReportData;

typedef enum ReportMetric {
    METRIC_FINAL_TRAIN_LOSS,
    METRIC_FINAL_TEST_ERROR,
    METRIC_BEST_TEST_ERROR,
    METRIC_TIME_TO_TARGET,
    METRIC_SPEEDUP,
    METRIC_LOSS_AT_BUDGET,
    METRIC_VARIANCE_RATIO,
    METRIC_SAMPLER_SHARE,
    METRIC_SCORED_PER_TRAINED,
    REPORT_N_METRICS
} ReportMetric;

typedef struct ReportMetricInfo {
    const char *name;     /* column-safe: final_train_loss, ... */
    const char *title;    /* for summary.md */
    const char *unit;     /* "s", "1", ... */
    int higher_better;
} ReportMetricInfo;

const ReportMetricInfo *report_metric_info(ReportMetric m);

/* One number's description: mean and sd over the finite values; median
 * and its 95 % bootstrap interval over the non-NaN values (+inf sorts
 * last, so a median time is infinite when most runs never got there). */
typedef struct ReportStat {
    size_t n;             /* values given, NaN included */
    size_t n_finite;
    double mean, sd, median, lo, hi;
} ReportStat;

typedef struct ReportRow {
    char method[64];
    ReportMetric metric;
    ReportStat stat;
    size_t n_paired;      /* common seeds with a value in both */
    double ratio, ratio_lo, ratio_hi; /* median of paired ratios, 95 % */
    double win_rate;      /* fraction of paired seeds better, ties 1/2 */
} ReportRow;

typedef struct ReportSummary {
    char reference[64];
    double target_loss;    /* reference's mean final training loss */
    double budget_seconds; /* reference's mean total on-clock seconds */
    size_t n_rows;
    ReportRow *rows;       /* method-major, metrics in enum order */
} ReportSummary;

/* Load every finished run under dir (status done or diverged; others
 * are counted in n_unfinished). Errors name the file and what is wrong;
 * a folder with no runs at all is ISB_EINVAL. Free with report_free. */
int report_load(const char *dir, ReportData *data, IsbError *err);

void report_free(ReportData *data);

/* Compute every row against `reference`, which must have finished runs
 * (ISB_EINVAL naming the methods found otherwise). Variance rows only
 * when data->has_variance. Free with report_summary_free. */
int report_summarise(const ReportData *data, const char *reference,
                     ReportSummary *sum, IsbError *err);

void report_summary_free(ReportSummary *sum);

/* Write DIR/summary.csv, DIR/summary.md and DIR/curves.csv. */
int report_write(const ReportData *data, const ReportSummary *sum,
                 IsbError *err);

/* ---- pieces, exposed for the tests ------------------------------------ */

/* Describe v[0..n-1] as in ReportStat, the interval from `resamples`
 * bootstrap medians. */
void report_describe(const double *v, size_t n, size_t resamples,
                     ReportStat *s);

/* Quantile q of sorted[0..n-1] (n > 0) by linear interpolation
 * (Hyndman & Fan 1996, type 7); an infinite neighbour gives infinity. */
double report_quantile(const double *sorted, size_t n, double q);

/* The y of the last x at or before `at` (x ascending); NaN if at < x[0]. */
double report_value_at(const double *x, const double *y, size_t n,
                       double at);

/* On-clock seconds of the first evaluation whose training loss is at or
 * below target; +inf when none is. */
double report_time_to_reach(const ReportRun *run, double target);

/* A run's value of metric m (NaN when it has none). target and budget
 * are the summary's; ref_time is the reference run's time to target for
 * the same seed (for METRIC_SPEEDUP; NaN when there is none). */
double report_run_metric(const ReportRun *run, ReportMetric m,
                         double target, double budget, double ref_time);

/* Pair a (seeds sa, values va) with b over their common seeds where
 * both values are not NaN; writes the pairs to pa, pb (room for na) and
 * returns how many. */
size_t report_pair(const unsigned long *sa, const double *va, size_t na,
                   const unsigned long *sb, const double *vb, size_t nb,
                   double *pa, double *pb);

/* Quartiles (q25, median, q75) of a method's curve at x on axis 0
 * (on-clock seconds) or 1 (epochs): each run gives its last value at or
 * before x, only while x is within its run (x <= its last evaluation).
 * loss and err get 3 values each (NaN when no run counts); returns how
 * many runs counted. */
size_t report_curve_at(const ReportMethod *m, int axis, double x,
                       double loss[3], double err[3]);

/* n log-spaced points from lo to hi (0 < lo <= hi) into out. */
void report_log_grid(double lo, double hi, size_t n, double *out);

#endif
