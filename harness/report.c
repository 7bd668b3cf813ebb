/*
 * report.c - per-run metrics, bootstrap summaries and curves of one
 * experiment's results folder.
 *
 * Invariant: every statistic is a pure function of the files read (the
 * bootstrap draws from a fixed stream), so the same folder always gives
 * byte-identical summary.csv, summary.md and curves.csv.
 */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <csv.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "results.h"
#include "rng.h"
#include "sweep.h"

static const ReportMetricInfo metric_info[REPORT_N_METRICS] = {
    {"final_train_loss", "final train loss", "nats", 0},
    {"final_test_error", "final test error", "fraction", 0},
    {"best_test_error", "best test error", "fraction", 0},
    {"time_to_target", "time to target loss", "s", 0},
    {"speedup", "speedup", "x", 1},
    {"loss_at_budget", "train loss at budget", "nats", 0},
    {"variance_ratio", "grad. variance / uniform", "x", 0},
    {"sampler_share", "sampler time share", "fraction", 0},
    {"scored_per_trained", "scored per trained", "x", 0},
};

const ReportMetricInfo *report_metric_info(ReportMetric m)
{
    return &metric_info[m];
}

/* ---- statistics ------------------------------------------------------- */

double report_quantile(const double *sorted, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t i = (size_t)floor(h);
    double frac = h - (double)i;
    if (i + 1 >= n || frac == 0) {
        return sorted[i < n ? i : n - 1];
    }
    if (isinf(sorted[i]) || isinf(sorted[i + 1])) {
        return isinf(sorted[i + 1]) ? sorted[i + 1] : sorted[i];
    }
    return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..n-1] (n > 0), sorted in place. */
static double median_inplace(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return report_quantile(v, n, 0.5);
}

void report_describe(const double *v, size_t n, size_t resamples,
                     ReportStat *s)
{
    s->n = n;
    s->n_finite = 0;
    s->mean = s->sd = s->median = s->lo = s->hi = NAN;
    double *ok = malloc((n + 1) * sizeof *ok);
    double *fin = malloc((n + 1) * sizeof *fin);
    double *boot = malloc((resamples + 1) * sizeof *boot);
    double *draw = malloc((n + 1) * sizeof *draw);
    gsl_rng *rng = rng_stream(REPORT_SEED, "report");
    if (ok == NULL || fin == NULL || boot == NULL || draw == NULL ||
        rng == NULL) {
        goto out;
    }

    /* 1. the non-NaN values and the finite ones */
    size_t n_ok = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(v[i])) {
            ok[n_ok++] = v[i];
        }
        if (isfinite(v[i])) {
            fin[s->n_finite++] = v[i];
        }
    }
    if (s->n_finite > 0) {
        s->mean = gsl_stats_mean(fin, 1, s->n_finite);
        s->sd = s->n_finite > 1 ? gsl_stats_sd(fin, 1, s->n_finite) : NAN;
    }
    if (n_ok == 0) {
        goto out;
    }

    /* 2. the median and its percentile bootstrap interval */
    memcpy(draw, ok, n_ok * sizeof *ok);
    s->median = median_inplace(draw, n_ok);
    for (size_t r = 0; r < resamples; r++) {
        for (size_t i = 0; i < n_ok; i++) {
            draw[i] = ok[gsl_rng_uniform_int(rng, n_ok)];
        }
        boot[r] = median_inplace(draw, n_ok);
    }
    if (resamples > 0) {
        qsort(boot, resamples, sizeof *boot, cmp_double);
        s->lo = report_quantile(boot, resamples, 0.025);
        s->hi = report_quantile(boot, resamples, 0.975);
    }
out:
    free(ok);
    free(fin);
    free(boot);
    free(draw);
    if (rng != NULL) {
        gsl_rng_free(rng);
    }
}

double report_value_at(const double *x, const double *y, size_t n,
                       double at)
{
    double v = NAN;
    for (size_t i = 0; i < n && x[i] <= at; i++) {
        v = y[i];
    }
    return v;
}

double report_time_to_reach(const ReportRun *run, double target)
{
    for (size_t i = 0; i < run->n; i++) {
        if (run->train_loss[i] <= target) {
            return run->seconds[i];
        }
    }
    return INFINITY;
}

double report_run_metric(const ReportRun *run, ReportMetric m,
                         double target, double budget, double ref_time)
{
    if (run->n == 0) {
        return NAN;
    }
    size_t last = run->n - 1;
    double best = INFINITY, t;
    switch (m) {
    case METRIC_FINAL_TRAIN_LOSS:
        return run->train_loss[last];
    case METRIC_FINAL_TEST_ERROR:
        return run->test_error[last];
    case METRIC_BEST_TEST_ERROR:
        for (size_t i = 0; i < run->n; i++) {
            if (run->test_error[i] < best) {
                best = run->test_error[i];
            }
        }
        return isinf(best) ? NAN : best;
    case METRIC_TIME_TO_TARGET:
        return isnan(target) ? NAN : report_time_to_reach(run, target);
    case METRIC_SPEEDUP:
        /* reference's time / this run's time, paired by seed */
        t = isnan(target) ? NAN : report_time_to_reach(run, target);
        if (isnan(ref_time) || isnan(t) || (isinf(ref_time) && isinf(t))) {
            return NAN;
        }
        return t == 0 ? INFINITY : ref_time / t;
    case METRIC_LOSS_AT_BUDGET:
        return report_value_at(run->seconds, run->train_loss, run->n,
                               budget);
    case METRIC_VARIANCE_RATIO:
        return run->variance_ratio;
    case METRIC_SAMPLER_SHARE:
        return run->seconds[last] > 0
                   ? run->sampler_seconds / run->seconds[last] : NAN;
    case METRIC_SCORED_PER_TRAINED:
        return run->samples_trained > 0
                   ? run->samples_scored / run->samples_trained : NAN;
    default:
        return NAN;
    }
}

size_t report_pair(const unsigned long *sa, const double *va, size_t na,
                   const unsigned long *sb, const double *vb, size_t nb,
                   double *pa, double *pb)
{
    size_t n = 0;
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            if (sa[i] == sb[j] && !isnan(va[i]) && !isnan(vb[j])) {
                pa[n] = va[i];
                pb[n++] = vb[j];
                break;
            }
        }
    }
    return n;
}

void report_log_grid(double lo, double hi, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++) {
        double f = n > 1 ? (double)i / (double)(n - 1) : 0;
        out[i] = exp(log(lo) + f * (log(hi) - log(lo)));
    }
    if (n > 1) {
        out[n - 1] = hi;  /* exactly, so the longest run's end counts */
    }
}

size_t report_curve_at(const ReportMethod *m, int axis, double x,
                       double loss[3], double err[3])
{
    double lv[SWEEP_MAX_SEEDS], ev[SWEEP_MAX_SEEDS];
    size_t n = 0, nl = 0, ne = 0;
    for (size_t r = 0; r < m->n_runs && n < SWEEP_MAX_SEEDS; r++) {
        const ReportRun *run = &m->runs[r];
        const double *xs = axis == 0 ? run->seconds : run->epoch;
        if (run->n == 0 || x > xs[run->n - 1] || x < xs[0]) {
            continue;
        }
        n++;
        double l = report_value_at(xs, run->train_loss, run->n, x);
        double e = report_value_at(xs, run->test_error, run->n, x);
        if (!isnan(l)) {
            lv[nl++] = l;
        }
        if (!isnan(e)) {
            ev[ne++] = e;
        }
    }
    static const double q[3] = {0.25, 0.5, 0.75};
    qsort(lv, nl, sizeof *lv, cmp_double);
    qsort(ev, ne, sizeof *ev, cmp_double);
    for (int k = 0; k < 3; k++) {
        loss[k] = nl > 0 ? report_quantile(lv, nl, q[k]) : NAN;
        err[k] = ne > 0 ? report_quantile(ev, ne, q[k]) : NAN;
    }
    return n;
}

/* ---- reading CSV files (libcsv) --------------------------------------- */

#define CSV_MAX_FIELDS 64
#define CSV_FIELD_LEN 128

/* Called for each row (row 0 is the header); returns 0 or < 0 with err
 * set to stop the read. */
typedef int (*CsvRowFn)(void *ctx, char fields[][CSV_FIELD_LEN],
                        size_t n_fields, size_t row, const char *path,
                        IsbError *err);

typedef struct CsvReader {
    char fields[CSV_MAX_FIELDS][CSV_FIELD_LEN];
    size_t n_fields, row;
    CsvRowFn fn;
    void *ctx;
    const char *path;
    IsbError *err;
    int rc;
} CsvReader;

static void csv_on_field(void *text, size_t len, void *data)
{
    CsvReader *r = data;
    if (r->n_fields < CSV_MAX_FIELDS) {
        size_t n = len < CSV_FIELD_LEN - 1 ? len : CSV_FIELD_LEN - 1;
        memcpy(r->fields[r->n_fields], text, n);
        r->fields[r->n_fields][n] = '\0';
    }
    r->n_fields++;
}

static void csv_on_row(int c, void *data)
{
    CsvReader *r = data;
    (void)c;
    size_t n = r->n_fields < CSV_MAX_FIELDS ? r->n_fields : CSV_MAX_FIELDS;
    if (r->rc == 0) {
        r->rc = r->fn(r->ctx, r->fields, n, r->row, r->path, r->err);
    }
    r->n_fields = 0;
    r->row++;
}

static int csv_read(const char *path, CsvRowFn fn, void *ctx, IsbError *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return isb_fail(err, ISB_EIO, "%s: cannot open (%s)", path,
                        strerror(errno));
    }
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL) != 0) {
        fclose(f);
        return isb_fail(err, ISB_ENOMEM, "out of memory for %s", path);
    }
    CsvReader *r = calloc(1, sizeof *r);  /* 8 KiB of field buffers */
    if (r == NULL) {
        csv_free(&p);
        fclose(f);
        return isb_fail(err, ISB_ENOMEM, "out of memory for %s", path);
    }
    r->fn = fn;
    r->ctx = ctx;
    r->path = path;
    r->err = err;
    char buf[65536];
    size_t n;
    while (r->rc == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (csv_parse(&p, buf, n, csv_on_field, csv_on_row, r) != n) {
            r->rc = isb_fail(err, ISB_EFORMAT, "%s: %s", path,
                             csv_strerror(csv_error(&p)));
        }
    }
    if (r->rc == 0) {
        csv_fini(&p, csv_on_field, csv_on_row, r);
    }
    int rc = r->rc;
    free(r);
    csv_free(&p);
    fclose(f);
    return rc;
}

static int column_of(char fields[][CSV_FIELD_LEN], size_t n,
                     const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fields[i], name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static int parse_field(const char *text, double *out, const char *path,
                       size_t row, const char *column, IsbError *err)
{
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE) {
        return isb_fail(err, ISB_EFORMAT, "%s: line %zu: %s '%s' is not a "
                        "number", path, row + 1, column, text);
    }
    return 0;
}

/* ---- reading one run -------------------------------------------------- */

enum { EV_SECONDS, EV_EPOCH, EV_LOSS, EV_ERROR, EV_TRAINED, EV_SCORED,
       EV_SAMPLER, EV_N };
static const char *const eval_needed[EV_N] = {
    "train_seconds", "epoch", "train_loss", "test_error", "samples_trained",
    "samples_scored", "sampler_seconds"};

typedef struct EvalReader {
    ReportRun *run;
    int col[EV_N];
    size_t cap;
} EvalReader;

static int grow_run(ReportRun *run, size_t *cap)
{
    if (run->n < *cap) {
        return 0;
    }
    size_t c = *cap ? 2 * *cap : 64;
    double **arrays[4] = {&run->seconds, &run->epoch, &run->train_loss,
                          &run->test_error};
    for (int k = 0; k < 4; k++) {
        double *p = realloc(*arrays[k], c * sizeof *p);
        if (p == NULL) {
            return -1;
        }
        *arrays[k] = p;
    }
    *cap = c;
    return 0;
}

static int eval_row(void *ctx, char fields[][CSV_FIELD_LEN], size_t n,
                    size_t row, const char *path, IsbError *err)
{
    EvalReader *er = ctx;
    if (row == 0) {
        for (int k = 0; k < EV_N; k++) {
            er->col[k] = column_of(fields, n, eval_needed[k]);
            if (er->col[k] < 0 && k != EV_SAMPLER) {
                return isb_fail(err, ISB_EFORMAT, "%s: no column '%s'",
                                path, eval_needed[k]);
            }
        }
        return 0;
    }
    double v[EV_N];
    v[EV_SAMPLER] = NAN;
    for (int k = 0; k < EV_N; k++) {
        if (er->col[k] < 0) {
            continue;
        }
        if ((size_t)er->col[k] >= n) {
            return isb_fail(err, ISB_EFORMAT, "%s: line %zu has %zu fields",
                            path, row + 1, n);
        }
        if (parse_field(fields[er->col[k]], &v[k], path, row,
                        eval_needed[k], err) != 0) {
            return err->code;
        }
    }
    ReportRun *run = er->run;
    if (grow_run(run, &er->cap) != 0) {
        return isb_fail(err, ISB_ENOMEM, "out of memory reading %s", path);
    }
    run->seconds[run->n] = v[EV_SECONDS];
    run->epoch[run->n] = v[EV_EPOCH];
    run->train_loss[run->n] = v[EV_LOSS];
    run->test_error[run->n] = v[EV_ERROR];
    run->n++;
    run->samples_trained = v[EV_TRAINED];
    run->samples_scored = v[EV_SCORED];
    run->sampler_seconds = v[EV_SAMPLER];
    return 0;
}

typedef struct VarianceReader {
    const char *method;
    int col_method, col_ratio;
    double *ratios;
    size_t n, cap;
} VarianceReader;

static int variance_row(void *ctx, char fields[][CSV_FIELD_LEN], size_t n,
                        size_t row, const char *path, IsbError *err)
{
    VarianceReader *vr = ctx;
    if (row == 0) {
        vr->col_method = column_of(fields, n, "method");
        vr->col_ratio = column_of(fields, n, "ratio_to_uniform");
        if (vr->col_method < 0 || vr->col_ratio < 0) {
            return isb_fail(err, ISB_EFORMAT, "%s: needs columns 'method' "
                            "and 'ratio_to_uniform'", path);
        }
        return 0;
    }
    if ((size_t)vr->col_method >= n || (size_t)vr->col_ratio >= n ||
        strcmp(fields[vr->col_method], vr->method) != 0) {
        return 0;
    }
    double v;
    if (parse_field(fields[vr->col_ratio], &v, path, row,
                    "ratio_to_uniform", err) != 0) {
        return err->code;
    }
    if (!isfinite(v)) {
        return 0;
    }
    if (vr->n == vr->cap) {
        size_t c = vr->cap ? 2 * vr->cap : 64;
        double *p = realloc(vr->ratios, c * sizeof *p);
        if (p == NULL) {
            return isb_fail(err, ISB_ENOMEM, "out of memory reading %s",
                            path);
        }
        vr->ratios = p;
        vr->cap = c;
    }
    vr->ratios[vr->n++] = v;
    return 0;
}

/* The median ratio to uniform of this run's method and seed, from
 * dir/variance/seed-N/variance.csv; NaN (and *found 0) without one. */
static int load_variance(const char *dir, const char *method,
                         ReportRun *run, int *found, IsbError *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/variance/seed-%lu/variance.csv", dir,
             run->seed);
    run->variance_ratio = NAN;
    struct stat st;
    if (stat(path, &st) != 0) {
        return 0;
    }
    *found = 1;
    VarianceReader vr = {method, -1, -1, NULL, 0, 0};
    int rc = csv_read(path, variance_row, &vr, err);
    if (rc == 0 && vr.n > 0) {
        run->variance_ratio = median_inplace(vr.ratios, vr.n);
    }
    free(vr.ratios);
    return rc;
}

static void free_run(ReportRun *run)
{
    free(run->seconds);
    free(run->epoch);
    free(run->train_loss);
    free(run->test_error);
}

static int load_run(const char *run_dir, ReportRun *run, IsbError *err)
{
    char path[4700];
    snprintf(path, sizeof path, "%s/evals.csv", run_dir);
    EvalReader er = {run, {0}, 0};
    int rc = csv_read(path, eval_row, &er, err);
    if (rc == 0 && run->n == 0) {
        rc = isb_fail(err, ISB_EFORMAT, "%s: no evaluation rows", path);
    }
    return rc;
}

/* ---- reading a results folder ----------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the sub-folders of path (NULL-free array, *n
 * entries, each malloc'd); hidden names are left out. */
static int list_dirs(const char *path, char ***out, size_t *n,
                     IsbError *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(path);
    if (d == NULL) {
        return isb_fail(err, ISB_EIO, "%s: cannot open folder (%s)", path,
                        strerror(errno));
    }
    size_t cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL && rc == 0) {
        char sub[4400];
        struct stat st;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        if (e->d_name[0] == '.' || stat(sub, &st) != 0 ||
            !S_ISDIR(st.st_mode)) {
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **p = realloc(*out, cap * sizeof *p);
            if (p == NULL) {
                rc = isb_fail(err, ISB_ENOMEM, "out of memory");
                break;
            }
            *out = p;
        }
        (*out)[*n] = strdup(e->d_name);
        if ((*out)[*n] == NULL) {
            rc = isb_fail(err, ISB_ENOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (*n > 0) {
        qsort(*out, *n, sizeof **out, cmp_name);
    }
    return rc;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

static int cmp_run(const void *a, const void *b)
{
    unsigned long x = ((const ReportRun *)a)->seed;
    unsigned long y = ((const ReportRun *)b)->seed;
    return x < y ? -1 : x > y;
}

/* Load the finished seed-N runs of one method folder. */
static int load_method(ReportData *data, const char *name, IsbError *err)
{
    char mdir[4400];
    snprintf(mdir, sizeof mdir, "%s/%s", data->dir, name);
    char **seeds;
    size_t n_seeds;
    int rc = list_dirs(mdir, &seeds, &n_seeds, err);
    ReportMethod m;
    memset(&m, 0, sizeof m);
    snprintf(m.name, sizeof m.name, "%s", name);
    m.runs = calloc(n_seeds + 1, sizeof *m.runs);
    if (rc == 0 && m.runs == NULL) {
        rc = isb_fail(err, ISB_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_seeds && rc == 0; i++) {
        char *end;
        if (strncmp(seeds[i], "seed-", 5) != 0) {
            continue;
        }
        unsigned long seed = strtoul(seeds[i] + 5, &end, 10);
        if (end == seeds[i] + 5 || *end != '\0') {
            continue;
        }
        char run_dir[4600];
        snprintf(run_dir, sizeof run_dir, "%s/%s", mdir, seeds[i]);
        ReportRun *run = &m.runs[m.n_runs];
        memset(run, 0, sizeof *run);
        run->seed = seed;
        rc = sweep_read_status(run_dir, run->status, sizeof run->status,
                               err);
        if (rc == 0 && strcmp(run->status, "done") != 0 &&
            strcmp(run->status, "diverged") != 0) {
            data->n_unfinished++;
            continue;
        }
        if (rc == 0) {
            rc = load_run(run_dir, run, err);
        }
        if (rc == 0) {
            int found = 0;
            rc = load_variance(data->dir, name, run, &found, err);
            data->has_variance |= found;
        }
        m.n_runs++;  /* counted even on error, so it is freed */
    }
    free_names(seeds, n_seeds);
    if (m.n_runs > 0 || rc != 0) {
        qsort(m.runs, m.n_runs, sizeof *m.runs, cmp_run);
        data->methods[data->n_methods++] = m;
    } else {
        free(m.runs);
    }
    return rc;
}

int report_load(const char *dir, ReportData *data, IsbError *err)
{
    memset(data, 0, sizeof *data);
    snprintf(data->dir, sizeof data->dir, "%s", dir);
    char **names;
    size_t n;
    int rc = list_dirs(dir, &names, &n, err);
    if (rc != 0) {
        return rc;
    }
    data->methods = calloc(n + 1, sizeof *data->methods);
    if (data->methods == NULL) {
        free_names(names, n);
        return isb_fail(err, ISB_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* folders the pipeline writes beside the methods */
        if (strcmp(names[i], "logs") == 0 ||
            strcmp(names[i], "figures") == 0 ||
            strcmp(names[i], "variance") == 0) {
            continue;
        }
        rc = load_method(data, names[i], err);
    }
    free_names(names, n);
    if (rc == 0 && data->n_methods == 0) {
        rc = isb_fail(err, ISB_EINVAL, "%s: no finished runs (expected "
                      "METHOD/seed-N/evals.csv with run.json status done)",
                      dir);
        isb_hint(err, "run `isbench sweep EXPERIMENT.ini` first, and pass "
                 "results/EXPERIMENT");
    }
    if (rc != 0) {
        report_free(data);
    }
    return rc;
}

void report_free(ReportData *data)
{
    for (size_t i = 0; i < data->n_methods; i++) {
        for (size_t r = 0; r < data->methods[i].n_runs; r++) {
            free_run(&data->methods[i].runs[r]);
        }
        free(data->methods[i].runs);
    }
    free(data->methods);
    data->methods = NULL;
    data->n_methods = 0;
}

/* ---- summarising ------------------------------------------------------ */

static const ReportMethod *find_method(const ReportData *d,
                                       const char *name)
{
    for (size_t i = 0; i < d->n_methods; i++) {
        if (strcmp(d->methods[i].name, name) == 0) {
            return &d->methods[i];
        }
    }
    return NULL;
}

/* The reference run's time to target for this seed; NaN without one. */
static double ref_time_for(const ReportMethod *ref, unsigned long seed,
                           double target)
{
    for (size_t r = 0; r < ref->n_runs; r++) {
        if (ref->runs[r].seed == seed) {
            return report_time_to_reach(&ref->runs[r], target);
        }
    }
    return NAN;
}

/* values[r] = metric m of every run of method (seeds into seeds[r]). */
static void metric_values(const ReportMethod *method,
                          const ReportMethod *ref, ReportMetric m,
                          const ReportSummary *sum, double *values,
                          unsigned long *seeds)
{
    for (size_t r = 0; r < method->n_runs; r++) {
        const ReportRun *run = &method->runs[r];
        double rt = ref_time_for(ref, run->seed, sum->target_loss);
        values[r] = report_run_metric(run, m, sum->target_loss,
                                      sum->budget_seconds, rt);
        seeds[r] = run->seed;
    }
}

/* Paired ratio and win rate of row against the reference's values. */
static void compare_paired(ReportRow *row, const double *v,
                           const unsigned long *s, size_t n,
                           const double *rv, const unsigned long *rs,
                           size_t rn, int higher_better)
{
    double pa[SWEEP_MAX_SEEDS], pb[SWEEP_MAX_SEEDS];
    double ratios[SWEEP_MAX_SEEDS];
    size_t np = report_pair(s, v, n < SWEEP_MAX_SEEDS ? n : SWEEP_MAX_SEEDS,
                            rs, rv, rn, pa, pb);
    size_t nr = 0;
    double wins = 0;
    for (size_t i = 0; i < np; i++) {
        double q = pa[i] / pb[i];
        if (!isnan(q)) {
            ratios[nr++] = q;
        }
        int better = higher_better ? pa[i] > pb[i] : pa[i] < pb[i];
        wins += pa[i] == pb[i] ? 0.5 : better;
    }
    row->n_paired = np;
    row->win_rate = np > 0 ? wins / (double)np : NAN;
    ReportStat rs_stat;
    report_describe(ratios, nr, REPORT_RESAMPLES, &rs_stat);
    row->ratio = rs_stat.median;
    row->ratio_lo = rs_stat.lo;
    row->ratio_hi = rs_stat.hi;
}

/* The target loss and time budget from the reference's runs. */
static void reference_targets(const ReportMethod *ref, ReportSummary *sum)
{
    double loss = 0, secs = 0;
    size_t nl = 0, ns = 0;
    for (size_t r = 0; r < ref->n_runs; r++) {
        const ReportRun *run = &ref->runs[r];
        double l = run->train_loss[run->n - 1];
        double t = run->seconds[run->n - 1];
        if (isfinite(l)) {
            loss += l;
            nl++;
        }
        if (isfinite(t)) {
            secs += t;
            ns++;
        }
    }
    sum->target_loss = nl > 0 ? loss / (double)nl : NAN;
    sum->budget_seconds = ns > 0 ? secs / (double)ns : NAN;
}

int report_summarise(const ReportData *data, const char *reference,
                     ReportSummary *sum, IsbError *err)
{
    memset(sum, 0, sizeof *sum);
    snprintf(sum->reference, sizeof sum->reference, "%s", reference);
    const ReportMethod *ref = find_method(data, reference);
    if (ref == NULL) {
        char names[512] = "";
        for (size_t i = 0; i < data->n_methods; i++) {
            size_t used = strlen(names);
            snprintf(names + used, sizeof names - used, "%s%s",
                     i ? ", " : "", data->methods[i].name);
        }
        isb_fail(err, ISB_EINVAL, "%s: reference method '%s' has no "
                 "finished runs (methods found: %s)", data->dir, reference,
                 names);
        return isb_hint(err, "pass --reference NAME with one of them");
    }
    reference_targets(ref, sum);

    sum->rows = calloc(data->n_methods * REPORT_N_METRICS,
                       sizeof *sum->rows);
    if (sum->rows == NULL) {
        return isb_fail(err, ISB_ENOMEM, "out of memory");
    }
    double v[SWEEP_MAX_SEEDS], rv[SWEEP_MAX_SEEDS];
    unsigned long s[SWEEP_MAX_SEEDS], rs[SWEEP_MAX_SEEDS];
    for (size_t i = 0; i < data->n_methods; i++) {
        const ReportMethod *m = &data->methods[i];
        if (m->n_runs > SWEEP_MAX_SEEDS || ref->n_runs > SWEEP_MAX_SEEDS) {
            report_summary_free(sum);
            return isb_fail(err, ISB_EINVAL, "%s: more than %d runs of "
                            "one method", data->dir, SWEEP_MAX_SEEDS);
        }
        for (int k = 0; k < REPORT_N_METRICS; k++) {
            if (k == METRIC_VARIANCE_RATIO && !data->has_variance) {
                continue;
            }
            ReportRow *row = &sum->rows[sum->n_rows++];
            snprintf(row->method, sizeof row->method, "%s", m->name);
            row->metric = (ReportMetric)k;
            metric_values(m, ref, row->metric, sum, v, s);
            metric_values(ref, ref, row->metric, sum, rv, rs);
            report_describe(v, m->n_runs, REPORT_RESAMPLES, &row->stat);
            compare_paired(row, v, s, m->n_runs, rv, rs, ref->n_runs,
                           metric_info[k].higher_better);
        }
    }
    return 0;
}

void report_summary_free(ReportSummary *sum)
{
    free(sum->rows);
    sum->rows = NULL;
    sum->n_rows = 0;
}

/* ---- writing ---------------------------------------------------------- */

/* Close w and move path.tmp over path. */
static int finish_csv(CsvWriter *w, const char *path, IsbError *err)
{
    char tmp[sizeof w->path];
    memcpy(tmp, w->path, sizeof tmp);
    if (csv_close(w, err) != 0) {
        return err->code;
    }
    if (rename(tmp, path) != 0) {
        return isb_fail(err, ISB_EIO, "%s: cannot rename to %s (%s)", tmp,
                        path, strerror(errno));
    }
    return 0;
}

/* The last component of path (trailing slashes ignored) into buf. */
static const char *base_name(const char *path, char *buf, size_t size)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') {
        n--;
    }
    size_t start = n;
    while (start > 0 && path[start - 1] != '/') {
        start--;
    }
    size_t len = n - start < size - 1 ? n - start : size - 1;
    memcpy(buf, path + start, len);
    buf[len] = '\0';
    return buf;
}

static void row_note(const ReportSummary *sum, const ReportRow *row,
                     char *buf, size_t len)
{
    buf[0] = '\0';
    if (row->metric == METRIC_TIME_TO_TARGET ||
        row->metric == METRIC_SPEEDUP) {
        snprintf(buf, len, "target train_loss %.6g (%s mean final); "
                 "finite %zu/%zu", sum->target_loss, sum->reference,
                 row->stat.n_finite, row->stat.n);
    } else if (row->metric == METRIC_LOSS_AT_BUDGET) {
        snprintf(buf, len, "budget %.6g s (%s mean on-clock time)",
                 sum->budget_seconds, sum->reference);
    }
}

static const char *const summary_columns[] = {
    "experiment", "method", "metric", "unit", "better", "reference",
    "n_runs", "n_finite", "mean", "sd", "median", "ci_low", "ci_high",
    "ci_of", "n_paired", "ratio_to_reference", "ratio_ci_low",
    "ratio_ci_high", "win_rate", "note"};

static int write_summary_csv(const ReportData *data,
                             const ReportSummary *sum, IsbError *err)
{
    char path[4400], tmp[4410], note[256], experiment[256];
    base_name(data->dir, experiment, sizeof experiment);
    snprintf(path, sizeof path, "%s/summary.csv", data->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CsvWriter w;
    if (csv_open(&w, tmp, summary_columns,
                 sizeof summary_columns / sizeof *summary_columns,
                 err) != 0) {
        return err->code;
    }
    for (size_t i = 0; i < sum->n_rows; i++) {
        const ReportRow *row = &sum->rows[i];
        const ReportMetricInfo *info = &metric_info[row->metric];
        csv_put_str(&w, experiment);
        csv_put_str(&w, row->method);
        csv_put_str(&w, info->name);
        csv_put_str(&w, info->unit);
        csv_put_str(&w, info->higher_better ? "higher" : "lower");
        csv_put_str(&w, sum->reference);
        csv_put_int(&w, (long long)row->stat.n);
        csv_put_int(&w, (long long)row->stat.n_finite);
        csv_put_num(&w, row->stat.mean);
        csv_put_num(&w, row->stat.sd);
        csv_put_num(&w, row->stat.median);
        csv_put_num(&w, row->stat.lo);
        csv_put_num(&w, row->stat.hi);
        csv_put_str(&w, "median");
        csv_put_int(&w, (long long)row->n_paired);
        csv_put_num(&w, row->ratio);
        csv_put_num(&w, row->ratio_lo);
        csv_put_num(&w, row->ratio_hi);
        csv_put_num(&w, row->win_rate);
        row_note(sum, row, note, sizeof note);
        csv_put_str(&w, note);
        csv_end_row(&w);
    }
    return finish_csv(&w, path, err);
}

/* A number for summary.md; +inf reads "never" for times to target. */
static void md_number(FILE *f, double v, int is_time)
{
    if (isnan(v)) {
        fputs("n/a", f);
    } else if (isinf(v)) {
        fputs(v < 0 ? "-inf" : is_time ? "never" : "inf", f);
    } else {
        fprintf(f, "%.4g", v);
    }
}

/* Is row the best median of its metric over all methods? */
static int is_best(const ReportSummary *sum, const ReportRow *row)
{
    const ReportMetricInfo *info = &metric_info[row->metric];
    if (isnan(row->stat.median)) {
        return 0;
    }
    for (size_t i = 0; i < sum->n_rows; i++) {
        const ReportRow *o = &sum->rows[i];
        if (o->metric != row->metric || isnan(o->stat.median)) {
            continue;
        }
        if (info->higher_better ? o->stat.median > row->stat.median
                                : o->stat.median < row->stat.median) {
            return 0;
        }
    }
    return 1;
}

static void md_table(FILE *f, const ReportData *data,
                     const ReportSummary *sum, int paired)
{
    fputs("| method |", f);
    for (int k = 0; k < REPORT_N_METRICS; k++) {
        if (k != METRIC_VARIANCE_RATIO || data->has_variance) {
            fprintf(f, " %s (%s) |", metric_info[k].title,
                    paired ? "ratio, win" : metric_info[k].unit);
        }
    }
    fputs("\n|---|", f);
    for (int k = 0; k < REPORT_N_METRICS; k++) {
        if (k != METRIC_VARIANCE_RATIO || data->has_variance) {
            fputs("---|", f);
        }
    }
    for (size_t i = 0; i < sum->n_rows; i++) {
        const ReportRow *row = &sum->rows[i];
        if (i == 0 || strcmp(row->method, sum->rows[i - 1].method) != 0) {
            fprintf(f, "\n| %s |", row->method);
        }
        int bold = !paired && data->n_methods > 1 && is_best(sum, row);
        fputs(bold ? " **" : " ", f);
        int t = !paired && row->metric == METRIC_TIME_TO_TARGET;
        md_number(f, paired ? row->ratio : row->stat.median, t);
        fputs(" [", f);
        md_number(f, paired ? row->ratio_lo : row->stat.lo, t);
        fputs(", ", f);
        md_number(f, paired ? row->ratio_hi : row->stat.hi, t);
        fputs("]", f);
        if (paired) {
            fputs(", ", f);
            md_number(f, row->win_rate, 0);
        } else if (row->metric == METRIC_TIME_TO_TARGET) {
            fprintf(f, " %zu/%zu", row->stat.n_finite, row->stat.n);
        }
        fputs(bold ? "** |" : " |", f);
    }
    fputs("\n\n", f);
}

static int write_summary_md(const ReportData *data,
                            const ReportSummary *sum, IsbError *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) {
        return isb_fail(err, ISB_ENOMEM, "out of memory for summary.md");
    }
    char experiment[256];
    fprintf(f, "# %s\n\n", base_name(data->dir, experiment,
                                      sizeof experiment));
    fprintf(f, "Reference method: %s. Target training loss: ",
            sum->reference);
    md_number(f, sum->target_loss, 0);
    fputs(" (its mean final value); time budget: ", f);
    md_number(f, sum->budget_seconds, 0);
    fprintf(f, " s on the clock (its mean total). Each cell is the median "
            "over seeds with a 95 %% percentile-bootstrap interval of the "
            "median (%d resamples); time to target also shows reached/"
            "runs, and \"never\" means most runs did not get there; an "
            "infinite speedup means the method reached the target in a "
            "seed where the reference did not. "
            "Bold: the best median of its column when there is more "
            "than one method.\n\n", REPORT_RESAMPLES);
    md_table(f, data, sum, 0);
    fprintf(f, "Paired by seed against %s: median ratio of each run's "
            "value to the %s run of the same seed [95 %% interval], then "
            "the fraction of seeds where the method did better (ties "
            "count one half).\n\n", sum->reference, sum->reference);
    md_table(f, data, sum, 1);
    if (data->n_unfinished > 0) {
        fprintf(f, "%zu unfinished runs (running, interrupted or failed) "
                "are left out.\n", data->n_unfinished);
    }
    fclose(f);
    char path[4400];
    snprintf(path, sizeof path, "%s/summary.md", data->dir);
    int rc = results_write_atomic(path, text, err);
    free(text);
    return rc;
}

static const char *const curve_columns[] = {
    "method", "axis", "x", "n_runs", "train_loss_q25", "train_loss_median",
    "train_loss_q75", "test_error_q25", "test_error_median",
    "test_error_q75"};

/* The smallest positive and the largest x over every run on axis. */
static void axis_range(const ReportData *data, int axis, double *lo,
                       double *hi)
{
    *lo = INFINITY;
    *hi = 0;
    for (size_t i = 0; i < data->n_methods; i++) {
        for (size_t r = 0; r < data->methods[i].n_runs; r++) {
            const ReportRun *run = &data->methods[i].runs[r];
            const double *xs = axis == 0 ? run->seconds : run->epoch;
            for (size_t k = 0; k < run->n; k++) {
                if (xs[k] > 0 && xs[k] < *lo) {
                    *lo = xs[k];
                }
            }
            if (run->n > 0 && xs[run->n - 1] > *hi) {
                *hi = xs[run->n - 1];
            }
        }
    }
}

static int write_curves(const ReportData *data, IsbError *err)
{
    char path[4400], tmp[4410];
    snprintf(path, sizeof path, "%s/curves.csv", data->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CsvWriter w;
    if (csv_open(&w, tmp, curve_columns,
                 sizeof curve_columns / sizeof *curve_columns, err) != 0) {
        return err->code;
    }
    static const char *const axis_names[2] = {"seconds", "epochs"};
    double grid[REPORT_GRID_POINTS];
    for (size_t i = 0; i < data->n_methods; i++) {
        const ReportMethod *m = &data->methods[i];
        for (int axis = 0; axis < 2; axis++) {
            double lo, hi, loss[3], e[3];
            axis_range(data, axis, &lo, &hi);
            if (!(lo <= hi)) {
                continue;
            }
            report_log_grid(lo, hi, REPORT_GRID_POINTS, grid);
            for (size_t g = 0; g < REPORT_GRID_POINTS; g++) {
                size_t n = report_curve_at(m, axis, grid[g], loss, e);
                if (n == 0) {
                    continue;
                }
                csv_put_str(&w, m->name);
                csv_put_str(&w, axis_names[axis]);
                csv_put_num(&w, grid[g]);
                csv_put_int(&w, (long long)n);
                for (int k = 0; k < 3; k++) {
                    csv_put_num(&w, loss[k]);
                }
                for (int k = 0; k < 3; k++) {
                    csv_put_num(&w, e[k]);
                }
                csv_end_row(&w);
            }
        }
    }
    return finish_csv(&w, path, err);
}

int report_write(const ReportData *data, const ReportSummary *sum,
                 IsbError *err)
{
    int rc = write_summary_csv(data, sum, err);
    if (rc == 0) {
        rc = write_summary_md(data, sum, err);
    }
    if (rc == 0) {
        rc = write_curves(data, err);
    }
    return rc;
}
