/*
 * test_rng.c - the seed mix gives distinct, non-zero stream seeds.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "harness/rng.h"

static const char *streams[] = RNG_STREAM_NAMES;

Test(rng, derived_seeds_are_nonzero_and_distinct_per_master)
{
    /* Every pair of streams of masters 0..19999 (the seeds users type). */
    for (uint64_t master = 0; master < 20000; master++) {
        uint32_t s[RNG_NUM_STREAMS];
        for (int i = 0; i < RNG_NUM_STREAMS; i++) {
            s[i] = rng_derive_seed(master, streams[i]);
            cr_assert_neq(s[i], 0, "master %lu stream %s gave seed 0",
                          (unsigned long)master, streams[i]);
            for (int j = 0; j < i; j++) {
                cr_assert_neq(s[i], s[j], "master %lu: %s and %s collide",
                              (unsigned long)master, streams[i], streams[j]);
            }
        }
    }
}

Test(rng, same_stream_differs_across_nearby_masters)
{
    /* Naive seed + k arithmetic aliases stream k of seed s with stream 0
     * of seed s + k; the mix must not. */
    for (uint64_t master = 1; master < 5000; master++) {
        for (int i = 0; i < RNG_NUM_STREAMS; i++) {
            for (int j = 0; j < RNG_NUM_STREAMS; j++) {
                cr_assert_neq(rng_derive_seed(master, streams[i]),
                              rng_derive_seed(master + 1, streams[j]));
            }
        }
    }
}

Test(rng, stream_is_deterministic)
{
    gsl_rng *a = rng_stream(7, "sampler");
    gsl_rng *b = rng_stream(7, "sampler");
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(gsl_rng_get(a), gsl_rng_get(b));
    }
    gsl_rng_free(a);
    gsl_rng_free(b);
}

Test(rng, splitmix_known_value)
{
    /* First output of splitmix64 seeded with 0 (Vigna's reference). */
    cr_assert_eq(rng_splitmix64(0), 0xe220a8397b1dcdafULL);
}
