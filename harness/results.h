/*
 * results.h - result files: CSV tables through libcsv, the JSON manifest.
 *
 * Numbers are printed with 17 significant digits so they round-trip;
 * text fields are quoted by libcsv when they need it. The manifest is
 * written to a temporary file and renamed, so readers never see half of
 * one.
 */
#ifndef ISB_RESULTS_H
#define ISB_RESULTS_H

#include <stdio.h>

#include "error.h"

#define RESULTS_SCHEMA_VERSION 1

typedef struct CsvWriter {
    FILE *f;
    char path[4096];
    size_t n_cols;  /* columns per row */
    size_t col;     /* columns written in the current row */
} CsvWriter;

/* Create path (truncating) and write the header row. */
int csv_open(CsvWriter *w, const char *path, const char *const *columns,
             size_t n_cols, IsbError *err);

/* Append one field to the current row. */
void csv_put_str(CsvWriter *w, const char *text);
void csv_put_num(CsvWriter *w, double v);
void csv_put_int(CsvWriter *w, long long v);

/* End the row; the number of fields must equal n_cols (asserted). */
void csv_end_row(CsvWriter *w);

/* Flush and close; reports a write error naming the file. Safe to call
 * on a writer that was never opened (f == NULL). */
int csv_close(CsvWriter *w, IsbError *err);

/* mkdir -p: create path and its missing parents. */
int results_mkdirs(const char *path, IsbError *err);

/* Write text to path atomically (path.tmp, then rename). */
int results_write_atomic(const char *path, const char *text,
                         IsbError *err);

/* Facts about this build and machine for the manifest; each writes a
 * short string into buf (never fails: "unknown" where not found). */
void results_cpu_model(char *buf, size_t len);
void results_git_state(char *commit, size_t clen, int *dirty);
void results_iso_time(char *buf, size_t len);

#endif
