/*
 * sumtree.c - sum tree for O(log N) proportional sampling (see sumtree.h).
 */
#include "sumtree.h"

#include <assert.h>
#include <stdlib.h>

#include "harness/error.h"

int sumtree_init(SumTree *t, size_t n)
{
    assert(n >= 1);
    t->n = 0;
    t->node = calloc(2 * n, sizeof *t->node);
    if (t->node == NULL) {
        return ISB_ENOMEM;
    }
    t->n = n;
    return 0;
}

void sumtree_free(SumTree *t)
{
    free(t->node);
    t->node = NULL;
    t->n = 0;
}

void sumtree_set(SumTree *t, size_t i, double w)
{
    assert(i < t->n && w >= 0);
    size_t k = t->n + i;
    t->node[k] = w;
    /* Recompute rather than add a delta: no drift accumulates, and a
     * parent is 0 exactly when both children are. */
    for (k /= 2; k >= 1; k /= 2) {
        t->node[k] = t->node[2 * k] + t->node[2 * k + 1];
    }
}

double sumtree_get(const SumTree *t, size_t i)
{
    assert(i < t->n);
    return t->node[t->n + i];
}

double sumtree_total(const SumTree *t)
{
    /* With one leaf the root is that leaf (node[1] = leaf 0). */
    return t->node[1];
}

size_t sumtree_sample(const SumTree *t, double u)
{
    size_t k = 1;
    while (k < t->n) {
        double left = t->node[2 * k], right = t->node[2 * k + 1];
        /* Step into a subtree only if it has weight: a u that rounding
         * pushed past the end lands on the last non-zero leaf. */
        if ((u < left && left > 0) || right <= 0) {
            k = 2 * k;
        } else {
            u -= left;
            k = 2 * k + 1;
        }
    }
    return k - t->n;
}

void sumtree_rebuild(SumTree *t)
{
    for (size_t k = t->n - 1; k >= 1; k--) {
        t->node[k] = t->node[2 * k] + t->node[2 * k + 1];
    }
}
