/*
 * bench.h - the benchmark program's shared pieces (never run as tests).
 *
 * Each section (bench_*.c) measures one figure of issue 7 and appends
 * rows to one table; bench.c prints the table and writes
 * bench/results.csv. Times are medians of several repetitions after a
 * warm-up, and every ratio compares numbers measured in the same run.
 */
#ifndef ISB_BENCH_H
#define ISB_BENCH_H

#include <stddef.h>

#define BENCH_MAX_ROWS 128
#define BENCH_BATCH 128

/* One row: NaN in a numeric field means "not applicable". */
typedef struct BenchRow {
    char bench[32];        /* "limit", "mlp_step", "upper_bound", ... */
    char item[40];         /* network, method or size */
    int threads;           /* 0 = not applicable */
    double ms;             /* milliseconds per step (or per call) */
    double samples_per_s;
    double gflops;         /* achieved */
    double limit_gflops;   /* the sgemm rate for the same shapes */
    double value;          /* the figure the target is about */
    char value_name[24];   /* what value is: "frac", "ratio", ... */
    char target[24];       /* "value >= 0.70", "" when none */
    int reached;           /* 1 yes, 0 no, -1 no target */
} BenchRow;

typedef struct BenchTable {
    size_t n;
    BenchRow row[BENCH_MAX_ROWS];
} BenchTable;

/* Append a row with every numeric field NaN and no target; returns it
 * (NULL when the table is full). */
BenchRow *bench_row(BenchTable *t, const char *bench, const char *item,
                    int threads);

/* Set the row's key figure and its target value >= lo (or <= hi when
 * upper is 1), and whether it is reached. */
void bench_target(BenchRow *r, const char *name, double value, double bound,
                  int upper);

double bench_now(void);
double bench_median(double *v, int n);

/* The number of repetitions (ISB_BENCH_REPS, default given). */
int bench_reps(int def);

/* Remove dir and everything below it (a section's scratch folder; links
 * are removed, not followed). Returns nftw's result: 0 when all went. */
int bench_remove_tree(const char *dir);

/* Sections. Each returns 0, or non-zero after printing why to stderr;
 * a skipped section (missing data, no torch) prints why and returns 0. */

/* sgemm limit for the MNIST MLP's step shapes, the step itself, at
 * threads 1 and 2. Fills limit[t - 1] and step_s[t - 1] (seconds). */
int bench_mlp(BenchTable *t, double limit[2], double step_s[2]);

/* The real runner on a synthetic MNIST-shaped set: uniform, upper-bound
 * with factors 3 and 5, every built-in method's sampler share. Fills
 * ub_sps[t - 1][f] (samples per second of uniform, factor 3, 5). */
int bench_runner(BenchTable *t, double ub_sps[2][3]);

/* Online-bandit draw + observe per step at N = 60 000, 1 M and 10 M, as
 * a share of the MLP step at 2 threads (step_s seconds). */
int bench_bandit(BenchTable *t, double step_s);

/* The two CNN steps against the sgemm rate of their shapes. */
int bench_conv(BenchTable *t);

/* Peak resident memory of a full MNIST MLP run against the sum of its
 * buffers; exe is build/isbench. */
int bench_memory(BenchTable *t, const char *exe);

/* PyTorch's samples per second at its best thread count, against ours
 * (mlp_sps[t - 1]: the engine's MLP step; ub_sps as from bench_runner). */
int bench_torch(BenchTable *t, const double mlp_sps[2],
                double ub_sps[2][3]);

#endif
