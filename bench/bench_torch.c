/*
 * bench_torch.c - the PyTorch peer: runs bench/torch_peer.py with
 * Debian's /usr/bin/python3 (python3-torch), takes each configuration's
 * best thread count, and sets isbench's samples per second (its best of
 * 1 and 2 threads) against it. Skipped, with a message, when that
 * python cannot import torch.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PYTHON "/usr/bin/python3"

static const char *configs[3] = {"mlp_uniform", "mlp_upper_bound_3",
                                 "mlp_upper_bound_5"};

/* Best samples per second of each configuration from the peer's lines
 * "torch NAME threads=T samples_per_second=S ms_per_step=M". */
static int run_peer(double best[3], int best_threads[3])
{
    FILE *p = popen(PYTHON " bench/torch_peer.py", "r");
    if (p == NULL) {
        perror("bench: popen");
        return -1;
    }
    char line[256], name[64];
    int threads;
    double sps, ms;
    while (fgets(line, sizeof line, p) != NULL) {
        if (sscanf(line, "torch %63s threads=%d samples_per_second=%lf "
                   "ms_per_step=%lf", name, &threads, &sps, &ms) != 4) {
            continue;
        }
        for (int k = 0; k < 3; k++) {
            if (strcmp(name, configs[k]) == 0 && sps > best[k]) {
                best[k] = sps;
                best_threads[k] = threads;
            }
        }
    }
    return pclose(p) == 0 ? 0 : -1;
}

int bench_torch(BenchTable *t, const double mlp_sps[2],
                double ub_sps[2][3])
{
    if (system(PYTHON " -c 'import torch' 2>/dev/null") != 0) {
        fprintf(stderr, "bench: PyTorch peer skipped: " PYTHON " cannot "
                "import torch (apt-get install python3-torch)\n");
        bench_row(t, "torch", "skipped: no python3-torch", 0);
        return 0;
    }
    fprintf(stderr, "bench: PyTorch peer (bench/torch_peer.py)\n");
    double best[3] = {0, 0, 0};
    int best_threads[3] = {0, 0, 0};
    if (run_peer(best, best_threads) != 0 || best[0] <= 0) {
        fprintf(stderr, "bench: bench/torch_peer.py failed\n");
        bench_row(t, "torch", "skipped: peer failed", 0);
        return 0;
    }
    for (int k = 0; k < 3; k++) {
        double ours0 = k == 0 ? mlp_sps[0] : ub_sps[0][k];
        double ours1 = k == 0 ? mlp_sps[1] : ub_sps[1][k];
        double ours = ours0 > ours1 ? ours0 : ours1;
        BenchRow *r = bench_row(t, "torch", configs[k], best_threads[k]);
        r->samples_per_s = best[k];
        r->ms = 1e3 * BENCH_BATCH / best[k];
        bench_target(r, "isb/torch", ours / best[k], k == 0 ? 3.0 : NAN,
                     0);
    }
    return 0;
}
