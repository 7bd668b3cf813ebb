/*
 * layer_pool.c - parameter-free reshaping layers: max pooling, global
 * average pooling and flatten.
 *
 * None keeps state between passes: maxpool's backward finds each
 * window's maximum again by comparing the input with the kept output (the
 * first position in scan order that equals it, as the forward pass chose
 * it), so gathering rows needs nothing beyond the activations. The
 * common 2x2 stride-2 window has its own branch-free loops; recomputing
 * its argmax costs three compares per window, less than storing and
 * gathering an index array would.
 */
#include <stdio.h>
#include <string.h>

#include "layers.h"

#define POOL_MAX_WINDOW 64

static void no_init(Layer *l, gsl_rng *rng)
{
    (void)l;
    (void)rng;
}

static int no_args(const char *name, const char *args, int token,
                   IsbError *err)
{
    if (args[0] != '\0') {
        return isb_fail(err, ISB_ECONFIG,
                        "layers: %s takes no argument, got '%s' "
                        "(token %d)", name, args, token);
    }
    return 0;
}

/* ---- maxpool K [stride S] -------------------------------------------- */

static int maxpool_setup(Layer *l, const char *args, int token,
                         IsbError *err)
{
    char word[32];
    const char *rest = args;
    long stride;

    if (!layer_next_word(&rest, word, sizeof word)) {
        word[0] = '\0';
    }
    if (layer_parse_size(word, POOL_MAX_WINDOW, &l->kh, &l->kw) < 0 ||
        l->kh != l->kw) {
        return isb_fail(err, ISB_ECONFIG,
                        "layers: 'maxpool %s' (token %d): bad window '%s' "
                        "(expected K or KxK from 1 to 64, e.g. maxpool 2)",
                        args, token, word);
    }
    l->stride = l->kh;
    if (layer_next_word(&rest, word, sizeof word)) {
        char value[32] = "";
        layer_next_word(&rest, value, sizeof value);
        if (strcmp(word, "stride") != 0 ||
            layer_parse_int(value, 1, POOL_MAX_WINDOW, &stride) < 0 ||
            layer_next_word(&rest, word, sizeof word)) {
            return isb_fail(err, ISB_ECONFIG,
                            "layers: 'maxpool %s' (token %d): bad options "
                            "(expected maxpool K or maxpool K stride S, "
                            "S from 1 to 64)", args, token);
        }
        l->stride = (int)stride;
    }
    if (l->kh > l->in_h || l->kw > l->in_w) {
        return isb_fail(err, ISB_ECONFIG,
                        "layers: 'maxpool %s' (token %d): window %dx%d "
                        "does not fit the input %dx%dx%d", args, token,
                        l->kh, l->kw, l->in_c, l->in_h, l->in_w);
    }
    l->out_c = l->in_c;
    l->out_h = (l->in_h - l->kh) / l->stride + 1;
    l->out_w = (l->in_w - l->kw) / l->stride + 1;
    l->n_weights = 0;
    l->n_biases = 0;
    return 0;
}

/* Offset, within one input channel, of the window (oy, ox)'s first
 * maximum; *max gets its value. */
static size_t window_argmax(const Layer *l, const float *xc, int oy, int ox,
                            float *max)
{
    size_t at = (size_t)oy * l->stride * l->in_w + (size_t)ox * l->stride;
    size_t best = at;

    for (int ki = 0; ki < l->kh; ki++) {
        for (int kj = 0; kj < l->kw; kj++) {
            size_t k = at + (size_t)ki * l->in_w + kj;
            if (xc[k] > xc[best]) {
                best = k;
            }
        }
    }
    *max = xc[best];
    return best;
}

/* One output row of the 2x2 stride-2 window: z [ow] = the max of each
 * window of input rows r0 and r1. */
static void maxpool2_row(const float *restrict r0, const float *restrict r1,
                         float *restrict z, int ow)
{
    for (int ox = 0; ox < ow; ox++) {
        float v00 = r0[2 * ox];
        float v01 = r0[2 * ox + 1];
        float v10 = r1[2 * ox];
        float v11 = r1[2 * ox + 1];
        float a = v00 > v01 ? v00 : v01;
        float c = v10 > v11 ? v10 : v11;
        z[ox] = a > c ? a : c;
    }
}

/* The common 2x2 window, stride 2, two input rows at a time. */
static void maxpool2_forward(const Layer *l, const float *in, float *out,
                             size_t planes)
{
    size_t in_plane = (size_t)l->in_h * l->in_w;
    size_t out_plane = (size_t)l->out_h * l->out_w;

    for (size_t m = 0; m < planes; m++) {
        for (int oy = 0; oy < l->out_h; oy++) {
            const float *r0 = in + m * in_plane + (size_t)2 * oy * l->in_w;
            maxpool2_row(r0, r0 + l->in_w,
                         out + m * out_plane + (size_t)oy * l->out_w,
                         l->out_w);
        }
    }
}

/* Backward of maxpool2_forward: each window's signal goes to its first
 * maximum in scan order (as window_argmax chooses it), and every other
 * pixel of the window gets 0, so din needs no separate clearing except
 * for the rows and columns no window covers (odd H or W). */
static void maxpool2_input_grad(const Layer *l, const float *in,
                                const float *dout, float *din,
                                size_t planes)
{
    size_t in_plane = (size_t)l->in_h * l->in_w;
    size_t out_plane = (size_t)l->out_h * l->out_w;
    int ow = l->out_w;

    int mask = l->relu_mask;

    if ((l->in_h & 1) != 0 || (l->in_w & 1) != 0) {
        memset(din, 0, planes * in_plane * sizeof *din);
    }
    for (size_t m = 0; m < planes; m++) {
        for (int oy = 0; oy < l->out_h; oy++) {
            size_t at = m * in_plane + (size_t)2 * oy * l->in_w;
            const float *r0 = in + at;
            const float *r1 = r0 + l->in_w;
            float *d0 = din + at;
            float *d1 = d0 + l->in_w;
            const float *dz = dout + m * out_plane + (size_t)oy * ow;
            for (int ox = 0; ox < ow; ox++) {
                float v00 = r0[2 * ox];
                float v01 = r0[2 * ox + 1];
                float v10 = r1[2 * ox];
                float v11 = r1[2 * ox + 1];
                float a = v00 > v01 ? v00 : v01;
                float c = v10 > v11 ? v10 : v11;
                float top = a > c ? a : c;
                float g = mask && !(top > 0.0f) ? 0.0f : dz[ox];
                /* the first pixel in scan order equal to the maximum */
                int e00 = v00 == top;
                int e01 = (v01 == top) & !e00;
                int e10 = (v10 == top) & !(e00 | e01);
                int e11 = !(e00 | e01 | e10);
                d0[2 * ox] = e00 ? g : 0.0f;
                d0[2 * ox + 1] = e01 ? g : 0.0f;
                d1[2 * ox] = e10 ? g : 0.0f;
                d1[2 * ox + 1] = e11 ? g : 0.0f;
            }
        }
    }
}

static int maxpool_is2(const Layer *l)
{
    return l->kh == 2 && l->kw == 2 && l->stride == 2;
}

static void maxpool_forward(Layer *l, const float *in, float *out, size_t b)
{
    size_t in_plane = (size_t)l->in_h * l->in_w;
    size_t out_plane = (size_t)l->out_h * l->out_w;
    size_t planes = b * (size_t)l->in_c;

    if (maxpool_is2(l)) {
        maxpool2_forward(l, in, out, planes);
        return;
    }
    for (size_t m = 0; m < planes; m++) {
        const float *xc = in + m * in_plane;
        float *zc = out + m * out_plane;
        for (int oy = 0; oy < l->out_h; oy++) {
            for (int ox = 0; ox < l->out_w; ox++) {
                window_argmax(l, xc, oy, ox, &zc[oy * l->out_w + ox]);
            }
        }
    }
}

/* din: each output's signal added to its window's first maximum (windows
 * overlap when the stride is below the window); with relu_mask, only
 * when that maximum is positive (layers.h). */
static void maxpool_input_grad(const Layer *l, const float *in,
                               const float *dout, float *din, size_t b)
{
    size_t in_plane = (size_t)l->in_h * l->in_w;
    size_t out_plane = (size_t)l->out_h * l->out_w;
    size_t planes = b * (size_t)l->in_c;
    float max;

    if (din == NULL) {
        return;
    }
    if (maxpool_is2(l)) {
        maxpool2_input_grad(l, in, dout, din, planes);
        return;
    }
    memset(din, 0, b * l->in_size * sizeof *din);
    for (size_t m = 0; m < planes; m++) {
        const float *xc = in + m * in_plane;
        const float *dz = dout + m * out_plane;
        float *dx = din + m * in_plane;
        for (int oy = 0; oy < l->out_h; oy++) {
            for (int ox = 0; ox < l->out_w; ox++) {
                size_t k = window_argmax(l, xc, oy, ox, &max);
                if (!l->relu_mask || max > 0.0f) {
                    dx[k] += dz[oy * l->out_w + ox];
                }
            }
        }
    }
}

static void maxpool_backward(Layer *l, const float *in, const float *out,
                             const float *dout, float *din, size_t b)
{
    (void)out;
    maxpool_input_grad(l, in, dout, din, b);
}

static void maxpool_norm_sq(const Layer *l, const float *in,
                            const float *out, const float *dout, float *din,
                            size_t b, double *acc)
{
    (void)out;
    (void)acc;
    maxpool_input_grad(l, in, dout, din, b);
}

static void maxpool_describe(const Layer *l, char *buf, size_t len)
{
    if (l->stride == l->kh) {
        snprintf(buf, len, "maxpool %d", l->kh);
    } else {
        snprintf(buf, len, "maxpool %d stride %d", l->kh, l->stride);
    }
}

const LayerOps layer_maxpool_ops = {
    .name = "maxpool",
    .setup = maxpool_setup,
    .init = no_init,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
    .norm_sq = maxpool_norm_sq,
    .describe = maxpool_describe,
    .in_place = 0,
};

/* ---- gap: [C][H][W] -> [C] channel means ----------------------------- */

static int gap_setup(Layer *l, const char *args, int token, IsbError *err)
{
    int rc = no_args("gap", args, token, err);
    l->out_c = l->in_c;
    l->out_h = 1;
    l->out_w = 1;
    l->n_weights = 0;
    l->n_biases = 0;
    return rc;
}

static void gap_forward(Layer *l, const float *in, float *out, size_t b)
{
    size_t plane = (size_t)l->in_h * l->in_w;
    size_t planes = b * (size_t)l->in_c;

    for (size_t m = 0; m < planes; m++) {
        double sum = 0.0;
        for (size_t k = 0; k < plane; k++) {
            sum += in[m * plane + k];
        }
        out[m] = (float)(sum / (double)plane);
    }
}

/* din = dout / (H W), spread over each channel's plane. */
static void gap_input_grad(const Layer *l, const float *dout, float *din,
                           size_t b)
{
    size_t plane = (size_t)l->in_h * l->in_w;
    size_t planes = b * (size_t)l->in_c;

    if (din == NULL) {
        return;
    }
    for (size_t m = 0; m < planes; m++) {
        float v = dout[m] / (float)plane;
        for (size_t k = 0; k < plane; k++) {
            din[m * plane + k] = v;
        }
    }
}

static void gap_backward(Layer *l, const float *in, const float *out,
                         const float *dout, float *din, size_t b)
{
    (void)in;
    (void)out;
    gap_input_grad(l, dout, din, b);
}

static void gap_norm_sq(const Layer *l, const float *in, const float *out,
                        const float *dout, float *din, size_t b,
                        double *acc)
{
    (void)in;
    (void)out;
    (void)acc;
    gap_input_grad(l, dout, din, b);
}

static void gap_describe(const Layer *l, char *buf, size_t len)
{
    (void)l;
    snprintf(buf, len, "gap");
}

const LayerOps layer_gap_ops = {
    .name = "gap",
    .setup = gap_setup,
    .init = no_init,
    .forward = gap_forward,
    .backward = gap_backward,
    .norm_sq = gap_norm_sq,
    .describe = gap_describe,
    .in_place = 0,
};

/* ---- flatten: [C][H][W] -> [C H W][1][1], the same floats ------------ */
/* An NCHW row is already flat, so flatten only relabels the shape (dense
 * reads any input as flat without it); it is in place and its passes do
 * nothing. */

static int flatten_setup(Layer *l, const char *args, int token,
                         IsbError *err)
{
    int rc = no_args("flatten", args, token, err);
    l->out_c = (int)l->in_size;
    l->out_h = 1;
    l->out_w = 1;
    l->n_weights = 0;
    l->n_biases = 0;
    return rc;
}

static void flatten_forward(Layer *l, const float *in, float *out, size_t b)
{
    (void)l;
    (void)in;
    (void)out;
    (void)b;
}

static void flatten_backward(Layer *l, const float *in, const float *out,
                             const float *dout, float *din, size_t b)
{
    (void)l;
    (void)in;
    (void)out;
    (void)dout;
    (void)din;
    (void)b;
}

static void flatten_norm_sq(const Layer *l, const float *in,
                            const float *out, const float *dout, float *din,
                            size_t b, double *acc)
{
    (void)l;
    (void)in;
    (void)out;
    (void)dout;
    (void)din;
    (void)b;
    (void)acc;
}

static void flatten_describe(const Layer *l, char *buf, size_t len)
{
    (void)l;
    snprintf(buf, len, "flatten");
}

const LayerOps layer_flatten_ops = {
    .name = "flatten",
    .setup = flatten_setup,
    .init = no_init,
    .forward = flatten_forward,
    .backward = flatten_backward,
    .norm_sq = flatten_norm_sq,
    .describe = flatten_describe,
    .in_place = 1,
};
