/*
 * results.c - CSV and manifest writing helpers.
 */
#include "results.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <csv.h>

int csv_open(CsvWriter *w, const char *path, const char *const *columns,
             size_t n_cols, IsbError *err)
{
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s", path);
    w->f = fopen(path, "w");
    if (w->f == NULL) {
        return isb_fail(err, ISB_EIO, "%s: cannot create (%s)", path,
                        strerror(errno));
    }
    w->n_cols = n_cols;
    for (size_t i = 0; i < n_cols; i++) {
        csv_put_str(w, columns[i]);
    }
    csv_end_row(w);
    return 0;
}

static void separate(CsvWriter *w)
{
    if (w->col++ > 0) {
        fputc(',', w->f);
    }
}

void csv_put_str(CsvWriter *w, const char *text)
{
    separate(w);
    if (strpbrk(text, ",\"\r\n") != NULL) {
        csv_fwrite(w->f, text, strlen(text));
    } else {
        fputs(text, w->f);
    }
}

void csv_put_num(CsvWriter *w, double v)
{
    separate(w);
    if (isnan(v)) {
        fputs("nan", w->f);
    } else if (isinf(v)) {
        fputs(v > 0 ? "inf" : "-inf", w->f);
    } else {
        fprintf(w->f, "%.17g", v);
    }
}

void csv_put_int(CsvWriter *w, long long v)
{
    separate(w);
    fprintf(w->f, "%lld", v);
}

void csv_end_row(CsvWriter *w)
{
    assert(w->col == w->n_cols);
    fputc('\n', w->f);
    w->col = 0;
}

int csv_close(CsvWriter *w, IsbError *err)
{
    if (w->f == NULL) {
        return 0;
    }
    int bad = ferror(w->f) != 0;
    bad |= fclose(w->f) != 0;
    w->f = NULL;
    if (bad) {
        return isb_fail(err, ISB_EIO, "%s: write failed", w->path);
    }
    return 0;
}

int results_mkdirs(const char *path, IsbError *err)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf) {
        return isb_fail(err, ISB_EINVAL, "%s: path too long", path);
    }
    strcpy(buf, path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                return isb_fail(err, ISB_EIO, "%s: cannot create folder "
                                "(%s)", buf, strerror(errno));
            }
            *p = c;
            if (c == '\0') {
                break;
            }
        }
    }
    return 0;
}

int results_write_atomic(const char *path, const char *text, IsbError *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return isb_fail(err, ISB_EIO, "%s: cannot create (%s)", tmp,
                        strerror(errno));
    }
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return isb_fail(err, ISB_EIO, "%s: write failed", path);
    }
    return 0;
}

void results_cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) {
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon != NULL) {
                colon += 1 + (colon[1] == ' ');
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(buf, len, "%s", colon);
            }
            break;
        }
    }
    fclose(f);
}

void results_git_state(char *commit, size_t clen, int *dirty)
{
    snprintf(commit, clen, "%s", ISB_GIT_COMMIT);
    *dirty = -1;
    FILE *p = popen("git -C '" ISB_SOURCE_DIR "' status --porcelain "
                    "--untracked-files=no 2>/dev/null", "r");
    if (p == NULL) {
        return;
    }
    char line[256];
    int changed = 0;
    while (fgets(line, sizeof line, p) != NULL) {
        changed = 1;
    }
    if (pclose(p) == 0) {
        *dirty = changed;
    }
}

void results_iso_time(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
