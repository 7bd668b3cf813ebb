/*
 * sumtree.h - a sum tree over N non-negative weights (double precision).
 *
 * Sampling proportional to the weights and updating one weight both cost
 * O(log N) (the structure of prioritised replay, Schaul et al. 2016, and
 * of ALGORITHMS.md's online-bandit). Invariant: every internal node holds
 * exactly the sum of its two children, so a subtree sums to 0 only when
 * all its leaves are 0 and a sampling walk never ends on a zero leaf.
 */
#ifndef ISB_SUMTREE_H
#define ISB_SUMTREE_H

#include <stddef.h>

/* Layout: node[1] is the root, node[i] has children node[2i] and
 * node[2i+1], and leaf k is node[n + k]. For N that is not a power of
 * two the leaves sit at two depths; the walk below does not mind. */
typedef struct SumTree {
    size_t n;        /* leaves N */
    double *node;    /* [2N]; node[0] unused */
} SumTree;

/* Allocate a tree of n >= 1 leaves, all 0. Returns 0, or ISB_ENOMEM (then
 * t is left empty and sumtree_free is still safe). */
int sumtree_init(SumTree *t, size_t n);

/* Free the nodes; t may be empty or already freed. */
void sumtree_free(SumTree *t);

/* Set leaf i < N to w (finite, >= 0) and recompute its ancestors from
 * their children: O(log N). */
void sumtree_set(SumTree *t, size_t i, double w);

/* The weight of leaf i < N. */
double sumtree_get(const SumTree *t, size_t i);

/* The sum of all leaves. */
double sumtree_total(const SumTree *t);

/* The leaf k whose interval [sum of leaves before k in walk order, that
 * plus w_k) contains u, for u in [0, total) and total > 0; a u at or
 * beyond total (rounding in the caller) gives a leaf too. Never returns a
 * zero-weight leaf while total > 0. O(log N). */
size_t sumtree_sample(const SumTree *t, double u);

/* Recompute every internal node from the leaves: O(N). */
void sumtree_rebuild(SumTree *t);

#endif
