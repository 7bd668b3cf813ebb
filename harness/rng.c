/*
 * rng.c - seed derivation for named streams (see rng.h for the mix).
 */
#include "rng.h"

uint64_t rng_splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* FNV-1a, 64-bit (Fowler, Noll and Vo). */
static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint32_t rng_derive_seed(uint64_t master, const char *name)
{
    uint64_t x = rng_splitmix64(rng_splitmix64(master) ^ fnv1a64(name));
    uint32_t seed = (uint32_t)(x >> 32) ^ (uint32_t)x;
    return seed != 0 ? seed : 1;
}

gsl_rng *rng_stream(uint64_t master, const char *name)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r != NULL) {
        gsl_rng_set(r, rng_derive_seed(master, name));
    }
    return r;
}
