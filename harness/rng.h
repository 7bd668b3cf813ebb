/*
 * rng.h - named random streams derived from one master seed.
 *
 * Every source of randomness in a run is its own GSL generator (mt19937),
 * seeded from (master seed, stream name) by rng_derive_seed. Streams that
 * do not depend on the method (init, eval) give common random numbers:
 * every method starts from the same weights for the same seed.
 */
#ifndef ISB_RNG_H
#define ISB_RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

/* The streams of a run, in the order run.json lists them. */
#define RNG_STREAM_NAMES {"init", "data", "sampler", "eval", "probe", \
                          "augment"}
#define RNG_NUM_STREAMS 6

/* Derive a 32-bit seed for stream `name` from master:
 *     h = fnv1a64(name)
 *     x = splitmix64(splitmix64(master) ^ h)
 *     seed = (x >> 32) ^ (x & 0xffffffff), and 1 if that is 0.
 * mt19937 reads only 32 bits and maps 0 to 4357, so the result is folded
 * to 32 bits and never 0. Distinct names give distinct seeds for every
 * master tested (tests/test_rng.c); a collision is astronomically rare
 * (about 2^-32 per pair) but not impossible. */
uint32_t rng_derive_seed(uint64_t master, const char *name);

/* A new mt19937 seeded with rng_derive_seed(master, name), or NULL when
 * out of memory. Free with gsl_rng_free. */
gsl_rng *rng_stream(uint64_t master, const char *name);

/* The splitmix64 finaliser (Steele, Lea & Flood 2014), exposed for tests. */
uint64_t rng_splitmix64(uint64_t x);

#endif
