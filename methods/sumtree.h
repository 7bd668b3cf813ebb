/*
 * sumtree.h - a sum tree over N non-negative weights (double precision).
 *
 * Sampling proportional to the weights and updating one weight both cost
 * O(log N) (the structure of prioritised replay, Schaul et al. 2016, and
 * of ALGORITHMS.md's online-bandit). The tree is 8-ary: the 8 child sums
 * of a node fill one 64-byte cache line, so a walk touches one line per
 * level, about log8 N = 8 lines at N = 10 million instead of 24 for a
 * binary tree. Invariant: every internal node holds exactly the sum of
 * its children, added in index order, so a subtree sums to 0 only when
 * all its leaves are 0 and a sampling walk never ends on a zero leaf.
 */
#ifndef ISB_SUMTREE_H
#define ISB_SUMTREE_H

#include <stddef.h>

#define SUMTREE_ARITY 8        /* doubles in a 64-byte cache line */
#define SUMTREE_MAX_LEVELS 24  /* 8^23 > 2^64 */

/* Layout: level[0] holds the N leaves, level[l + 1][j] the sum of
 * level[l][8j .. 8j + 7], up to level[top], which has one entry: the
 * total (top = 0 when N = 1). Each level is 64-byte aligned and padded
 * with zeros to a multiple of 8 entries, so the children of one node
 * share a cache line. */
typedef struct SumTree {
    size_t n;                              /* leaves N */
    int top;                               /* index of the root level */
    size_t len[SUMTREE_MAX_LEVELS];        /* entries of each level */
    double *level[SUMTREE_MAX_LEVELS];     /* [len padded to 8] */
    double *mem;                           /* one block for all levels */
} SumTree;

/* Allocate a tree of n >= 1 leaves, all 0. Returns 0, or ISB_ENOMEM (then
 * t is left empty and sumtree_free is still safe). */
int sumtree_init(SumTree *t, size_t n);

/* Free the nodes; t may be empty or already freed. */
void sumtree_free(SumTree *t);

/* Set leaf i < N to w (finite, >= 0) and recompute its ancestors from
 * their children: O(8 log8 N). */
void sumtree_set(SumTree *t, size_t i, double w);

/* Set leaf i < N to w (finite, >= 0) without touching its ancestors:
 * for filling many leaves, followed by sumtree_rebuild before any other
 * call. O(1). */
void sumtree_put(SumTree *t, size_t i, double w);

/* The weight of leaf i < N. */
double sumtree_get(const SumTree *t, size_t i);

/* The sum of all leaves. */
double sumtree_total(const SumTree *t);

/* The leaf k whose interval [sum of leaves before k, that plus w_k)
 * contains u (the sums as the tree's nodes add them), for u in
 * [0, total) and total > 0; a u at or beyond total (rounding in the
 * caller) gives the last non-zero leaf. Never returns a zero-weight leaf
 * while total > 0. O(8 log8 N). */
size_t sumtree_sample(const SumTree *t, double u);

/* sumtree_sample for each of u [m], into leaf [m]: the same leaves, but
 * the m walks advance one level at a time together, so the cache misses
 * of different walks overlap instead of queueing (prefetched). */
void sumtree_sample_many(const SumTree *t, const double *u, size_t m,
                         size_t *leaf);

/* Recompute every internal node from the leaves: O(N). Gives exactly
 * the sums that sumtree_set keeps (same order of additions). */
void sumtree_rebuild(SumTree *t);

#endif
