/*
 * layer_pool.c - parameter-free reshaping layers: max pooling, global
 * average pooling and flatten.
 *
 * None keeps state between passes: maxpool's backward finds each
 * window's maximum again by comparing the input with the kept output (the
 * first position in scan order that equals it, as the forward pass chose
 * it), so gathering rows needs nothing beyond the activations.
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

static void maxpool_forward(Layer *l, const float *in, float *out, size_t b)
{
    size_t in_plane = (size_t)l->in_h * l->in_w;
    size_t out_plane = (size_t)l->out_h * l->out_w;
    size_t planes = b * (size_t)l->in_c;

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
 * overlap when the stride is below the window). */
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
    memset(din, 0, b * l->in_size * sizeof *din);
    for (size_t m = 0; m < planes; m++) {
        const float *xc = in + m * in_plane;
        const float *dz = dout + m * out_plane;
        float *dx = din + m * in_plane;
        for (int oy = 0; oy < l->out_h; oy++) {
            for (int ox = 0; ox < l->out_w; ox++) {
                size_t k = window_argmax(l, xc, oy, ox, &max);
                dx[k] += dz[oy * l->out_w + ox];
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
