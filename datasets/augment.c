/*
 * augment.c - random crop with zero padding and horizontal flip (see
 * augment.h). Every function is pure given its draw, rng or key: no state
 * outside the arguments, no allocation.
 */
#include "augment.h"

#include <string.h>

#include "../harness/rng.h"

int augment_enabled(const AugmentSpec *spec)
{
    return spec->pad > 0 || spec->flip != 0;
}

int augment_check(const AugmentSpec *spec, int c, int h, int w,
                  IsbError *err)
{
    if (spec->pad < 0 || spec->pad >= h || spec->pad >= w) {
        return isb_fail(err, ISB_EINVAL, "augment_crop: padding %d on "
                        "%d x %d x %d examples (expected 0 <= padding < "
                        "height and width)", spec->pad, c, h, w);
    }
    if (spec->flip != 0 && spec->flip != 1) {
        return isb_fail(err, ISB_EINVAL, "augment_flip: %d (expected 0 "
                        "or 1)", spec->flip);
    }
    return 0;
}

AugmentDraw augment_draw(const AugmentSpec *spec, gsl_rng *rng)
{
    AugmentDraw d = {spec->pad, spec->pad, 0};
    if (spec->pad > 0) {
        unsigned long span = 2 * (unsigned long)spec->pad + 1;
        d.oy = (int)gsl_rng_uniform_int(rng, span);
        d.ox = (int)gsl_rng_uniform_int(rng, span);
    }
    if (spec->flip) {
        d.flip = (int)gsl_rng_uniform_int(rng, 2);
    }
    return d;
}

AugmentDraw augment_draw_keyed(const AugmentSpec *spec, uint64_t key,
                               size_t index)
{
    /* Two rounds of the splitmix64 finaliser decorrelate neighbouring
     * indices; a 20-bit field reduced modulo 2p + 1 is uniform up to a
     * relative bias of (2p + 1) / 2^20, and the flip is the top bit. */
    uint64_t x = rng_splitmix64(key ^ rng_splitmix64((uint64_t)index + 1));
    unsigned span = 2u * (unsigned)spec->pad + 1u;
    AugmentDraw d = {spec->pad, spec->pad, 0};
    if (spec->pad > 0) {
        d.oy = (int)((unsigned)(x & 0xfffffu) % span);
        d.ox = (int)((unsigned)((x >> 20) & 0xfffffu) % span);
    }
    if (spec->flip) {
        d.flip = (int)((x >> 63) & 1u);
    }
    return d;
}

void augment_apply(const AugmentDraw *draw, const AugmentSpec *spec,
                   int c, int h, int w, const float *in, float *out)
{
    /* out[ch][y][x] = in[ch][y + oy - p][x' + ox - p] with x' = x, or
     * w - 1 - x when flipped; 0 when the source is in the padding. */
    int dy = draw->oy - spec->pad;
    int dx = draw->ox - spec->pad;
    for (int ch = 0; ch < c; ch++) {
        const float *src = in + (size_t)ch * (size_t)h * (size_t)w;
        float *dst = out + (size_t)ch * (size_t)h * (size_t)w;
        for (int y = 0; y < h; y++) {
            int sy = y + dy;
            float *row = dst + (size_t)y * (size_t)w;
            if (sy < 0 || sy >= h) {
                memset(row, 0, (size_t)w * sizeof *row);
                continue;
            }
            const float *srow = src + (size_t)sy * (size_t)w;
            for (int x = 0; x < w; x++) {
                int cx = draw->flip ? w - 1 - x : x;
                int sx = cx + dx;
                row[x] = sx >= 0 && sx < w ? srow[sx] : 0.0f;
            }
        }
    }
}

void augment_rows(const AugmentSpec *spec, gsl_rng *rng, size_t rows,
                  int c, int h, int w, const float *in, float *out)
{
    size_t d = (size_t)c * (size_t)h * (size_t)w;
    for (size_t i = 0; i < rows; i++) {
        AugmentDraw draw = augment_draw(spec, rng);
        augment_apply(&draw, spec, c, h, w, in + i * d, out + i * d);
    }
}

void augment_rows_keyed(const AugmentSpec *spec, uint64_t key,
                        const size_t *idx, size_t rows, int c, int h,
                        int w, const float *in, float *out)
{
    size_t d = (size_t)c * (size_t)h * (size_t)w;
    for (size_t i = 0; i < rows; i++) {
        AugmentDraw draw = augment_draw_keyed(spec, key, idx[i]);
        augment_apply(&draw, spec, c, h, w, in + i * d, out + i * d);
    }
}
