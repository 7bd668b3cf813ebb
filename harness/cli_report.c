/*
 * cli_report.c - `isbench report`: summary.csv, summary.md and curves.csv
 * from the finished runs of one experiment folder.
 */
#include <stdio.h>
#include <string.h>

#include "harness/cli.h"
#include "harness/report.h"

int cli_report(int argc, char **argv)
{
    const char *dir = NULL, *reference = "uniform";
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--reference") == 0 && i + 1 < argc) {
            reference = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "error: report: unknown or incomplete option "
                    "'%s'\n", argv[i]);
            return 2;
        } else if (dir == NULL) {
            dir = argv[i];
        } else {
            fprintf(stderr, "error: report: unexpected argument '%s'\n",
                    argv[i]);
            return 2;
        }
    }
    if (dir == NULL) {
        fprintf(stderr, "error: report needs a results folder, e.g. "
                "results/mnist_mlp\n");
        cli_usage(stderr);
        return 2;
    }

    IsbError err;
    isb_error_clear(&err);
    ReportData data;
    ReportSummary sum;
    if (report_load(dir, &data, &err) != 0) {
        return cli_fail(&err);
    }
    if (report_summarise(&data, reference, &sum, &err) != 0) {
        report_free(&data);
        return cli_fail(&err);
    }
    int rc = report_write(&data, &sum, &err);
    size_t runs = 0;
    for (size_t i = 0; i < data.n_methods; i++) {
        runs += data.methods[i].n_runs;
    }
    if (rc == 0) {
        fprintf(stderr, "report: %s: %zu methods, %zu runs%s -> "
                "summary.csv, summary.md, curves.csv\n", dir,
                data.n_methods, runs, data.has_variance
                                          ? " (with variance)" : "");
        if (data.n_unfinished > 0) {
            fprintf(stderr, "report: %zu unfinished runs left out\n",
                    data.n_unfinished);
        }
    }
    report_summary_free(&sum);
    report_free(&data);
    return rc == 0 ? 0 : cli_fail(&err);
}
