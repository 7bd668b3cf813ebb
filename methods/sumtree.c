/*
 * sumtree.c - 8-ary sum tree for O(log N) proportional sampling (see
 * sumtree.h). A node's children are one aligned cache line of 8 doubles.
 */
#include "sumtree.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/error.h"

#define K SUMTREE_ARITY

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

static size_t pad8(size_t n)
{
    return (n + K - 1) / K * K;
}

int sumtree_init(SumTree *t, size_t n)
{
    assert(n >= 1);
    memset(t, 0, sizeof *t);

    /* 1. level sizes: N, ceil(N / 8), ... down to one entry */
    size_t len = n, total = 0;
    int top = 0;
    for (;;) {
        assert(top < SUMTREE_MAX_LEVELS);
        t->len[top] = len;
        total += pad8(len);
        if (len == 1) {
            break;
        }
        len = (len + K - 1) / K;
        top++;
    }

    /* 2. one aligned, zeroed block; each level starts on a cache line */
    if (total > SIZE_MAX / sizeof(double)) {
        return ISB_ENOMEM;
    }
    t->mem = aligned_alloc(64, total * sizeof(double));
    if (t->mem == NULL) {
        return ISB_ENOMEM;
    }
    memset(t->mem, 0, total * sizeof(double));
    double *p = t->mem;
    for (int l = 0; l <= top; l++) {
        t->level[l] = p;
        p += pad8(t->len[l]);
    }
    t->top = top;
    t->n = n;
    return 0;
}

void sumtree_free(SumTree *t)
{
    free(t->mem);
    memset(t, 0, sizeof *t);
}

/* The sum of the 8 children of node j of level l + 1, in index order
 * (padding entries are 0 and add nothing). */
static double child_sum(const SumTree *t, int l, size_t j)
{
    const double *c = t->level[l] + K * j;
    double s = c[0];
    for (int k = 1; k < K; k++) {
        s += c[k];
    }
    return s;
}

void sumtree_set(SumTree *t, size_t i, double w)
{
    assert(i < t->n && w >= 0);
    t->level[0][i] = w;
    /* Recompute rather than add a delta: no drift accumulates, and a
     * parent is 0 exactly when all its children are. */
    size_t j = i;
    for (int l = 1; l <= t->top; l++) {
        j /= K;
        t->level[l][j] = child_sum(t, l - 1, j);
    }
}

void sumtree_put(SumTree *t, size_t i, double w)
{
    assert(i < t->n && w >= 0);
    t->level[0][i] = w;
}

double sumtree_get(const SumTree *t, size_t i)
{
    assert(i < t->n);
    return t->level[0][i];
}

double sumtree_total(const SumTree *t)
{
    return t->level[t->top][0];
}

/* One step of a walk: among the 8 children of node j (children at
 * level[l][8j ..]), the first positive child whose interval contains
 * *u; *u becomes the offset inside it. A u past the end (rounding) goes
 * to the last positive child with *u at its end, so the walk keeps
 * going right. Returns the child's index in level l. */
static size_t walk_step(const SumTree *t, int l, size_t j, double *u)
{
    const double *c = t->level[l] + K * j;
    double v = *u;
    int last = 0;
    for (int k = 0; k < K; k++) {
        if (c[k] > 0) {
            if (v < c[k]) {
                *u = v;
                return K * j + (size_t)k;
            }
            last = k;
            v -= c[k];
        }
    }
    *u = c[last];
    return K * j + (size_t)last;
}

size_t sumtree_sample(const SumTree *t, double u)
{
    size_t j = 0;
    for (int l = t->top - 1; l >= 0; l--) {
        j = walk_step(t, l, j, &u);
    }
    return j;
}

void sumtree_sample_many(const SumTree *t, const double *u, size_t m,
                         size_t *leaf)
{
    enum { CHUNK = 64 };
    double v[CHUNK];
    for (size_t start = 0; start < m; start += CHUNK) {
        size_t c = m - start < CHUNK ? m - start : CHUNK;
        size_t *j = leaf + start;
        for (size_t k = 0; k < c; k++) {
            v[k] = u[start + k];
            j[k] = 0;
        }
        for (int l = t->top - 1; l >= 0; l--) {
            for (size_t k = 0; k < c; k++) {
                j[k] = walk_step(t, l, j[k], &v[k]);
                if (l > 0) {
                    PREFETCH(t->level[l - 1] + K * j[k]);
                }
            }
        }
    }
}

void sumtree_rebuild(SumTree *t)
{
    for (int l = 1; l <= t->top; l++) {
        for (size_t j = 0; j < t->len[l]; j++) {
            t->level[l][j] = child_sum(t, l - 1, j);
        }
    }
}
