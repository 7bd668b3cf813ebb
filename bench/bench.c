/*
 * bench.c - the benchmark program of `make bench` (issue 7): runs every
 * section, prints one table to stdout and writes bench/results.csv.
 * Progress goes to stderr. Nothing here is a test: the targets are
 * reported, never asserted.
 *
 * Usage: build/bench [--isbench PATH]   (run from the source folder;
 * ISB_BENCH_REPS sets the repetitions, ISBENCH_DATA the MNIST folder)
 */
#define _XOPEN_SOURCE 700

#include "bench.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/blas.h"

BenchRow *bench_row(BenchTable *t, const char *bench, const char *item,
                    int threads)
{
    if (t->n >= BENCH_MAX_ROWS) {
        return NULL;
    }
    BenchRow *r = &t->row[t->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->bench, sizeof r->bench, "%s", bench);
    snprintf(r->item, sizeof r->item, "%s", item);
    r->threads = threads;
    r->ms = r->samples_per_s = r->gflops = r->limit_gflops = NAN;
    r->value = NAN;
    r->reached = -1;
    return r;
}

void bench_target(BenchRow *r, const char *name, double value, double bound,
                  int upper)
{
    snprintf(r->value_name, sizeof r->value_name, "%s", name);
    r->value = value;
    if (isnan(bound)) {
        return;
    }
    snprintf(r->target, sizeof r->target, "%s %g", upper ? "<=" : ">=",
             bound);
    r->reached = upper ? value <= bound : value >= bound;
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int bench_reps(int def)
{
    const char *s = getenv("ISB_BENCH_REPS");
    if (s == NULL || *s == '\0') {
        return def;
    }
    char *end;
    long n = strtol(s, &end, 10);
    if (*end != '\0' || n < 1 || n > 99) {
        fprintf(stderr, "bench: ISB_BENCH_REPS '%s' (expected 1 to 99); "
                "using %d\n", s, def);
        return def;
    }
    return (int)n;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int bench_remove_tree(const char *dir)
{
    return nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- output ----------------------------------------------------------- */

static void put_num(FILE *f, const char *fmt, double v, int width)
{
    if (isnan(v)) {
        fprintf(f, "%*s", width, "-");
    } else {
        fprintf(f, fmt, width, v);
    }
}

static void print_table(const BenchTable *t)
{
    printf("%-12s %-24s %3s %9s %9s %7s %7s %-10s %8s %-9s %s\n", "bench",
           "item", "thr", "ms", "samples/s", "GFLOP/s", "limit", "figure",
           "value", "target", "ok");
    for (size_t k = 0; k < t->n; k++) {
        const BenchRow *r = &t->row[k];
        printf("%-12s %-24s ", r->bench, r->item);
        if (r->threads > 0) {
            printf("%3d ", r->threads);
        } else {
            printf("%3s ", "-");
        }
        put_num(stdout, "%*.3f", r->ms, 9);
        put_num(stdout, " %*.0f", r->samples_per_s, 9);
        put_num(stdout, " %*.1f", r->gflops, 7);
        put_num(stdout, " %*.1f", r->limit_gflops, 7);
        printf(" %-10s", r->value_name[0] ? r->value_name : "-");
        put_num(stdout, " %*.4g", r->value, 8);
        printf(" %-9s %s\n", r->target[0] ? r->target : "-",
               r->reached < 0 ? "-" : r->reached ? "yes" : "NO");
    }
}

static int write_csv(const BenchTable *t, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    fprintf(f, "bench,item,threads,ms_per_step,samples_per_second,gflops,"
            "limit_gflops,figure,value,target,reached\n");
    for (size_t k = 0; k < t->n; k++) {
        const BenchRow *r = &t->row[k];
        fprintf(f, "%s,%s,%d,%.6g,%.6g,%.6g,%.6g,%s,%.6g,%s,%s\n", r->bench,
                r->item, r->threads, r->ms, r->samples_per_s, r->gflops,
                r->limit_gflops, r->value_name, r->value, r->target,
                r->reached < 0 ? "" : r->reached ? "yes" : "no");
    }
    return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *exe = "build/isbench";
    if (argc == 3 && strcmp(argv[1], "--isbench") == 0) {
        exe = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--isbench PATH]\n", argv[0]);
        return 2;
    }
    static BenchTable table;
    double limit[2], step_s[2], ub_sps[2][3], mlp_sps[2];
    double t0 = bench_now();

    fprintf(stderr, "bench: OpenBLAS core %s (%s)\n", blas_core(),
            blas_config());
    int rc = bench_mlp(&table, limit, step_s);
    for (int k = 0; k < 2; k++) {
        mlp_sps[k] = BENCH_BATCH / step_s[k];
    }
    rc = rc != 0 ? rc : bench_runner(&table, ub_sps);
    rc = rc != 0 ? rc : bench_bandit(&table, step_s[1]);
    rc = rc != 0 ? rc : bench_conv(&table);
    rc = rc != 0 ? rc : bench_memory(&table, exe);
    rc = rc != 0 ? rc : bench_torch(&table, mlp_sps, ub_sps);
    (void)limit;

    printf("isbench benchmarks: OpenBLAS core %s, threads 1 and 2, "
           "batch %d, medians of %d repetitions (%.0f s)\n", blas_core(),
           BENCH_BATCH, bench_reps(5), bench_now() - t0);
    print_table(&table);
    if (write_csv(&table, "bench/results.csv") != 0) {
        return 1;
    }
    fprintf(stderr, "bench: wrote bench/results.csv\n");
    return rc != 0;
}
