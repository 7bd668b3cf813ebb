/*
 * layer_act.c - element-wise activations (relu for now).
 *
 * Activations have no parameters and work in place: the output shares the
 * input's buffer, and backward needs only the output (relu'(z) is 1 where
 * relu(z) > 0), so the pre-activation is never kept.
 */
#include <stdio.h>

#include "layers.h"

static int relu_setup(Layer *l, const char *args, int token, IsbError *err)
{
    if (args[0] != '\0') {
        return isb_fail(err, ISB_ECONFIG,
                        "layers: relu takes no argument, got '%s' "
                        "(token %d)", args, token);
    }
    l->out_c = l->in_c;
    l->out_h = l->in_h;
    l->out_w = l->in_w;
    l->n_weights = 0;
    l->n_biases = 0;
    return 0;
}

static void relu_init(Layer *l, gsl_rng *rng)
{
    (void)l;
    (void)rng;
}

static void relu_forward(Layer *l, const float *in, float *out, size_t b)
{
    size_t n = b * l->in_size;

    for (size_t k = 0; k < n; k++) {
        out[k] = in[k] > 0.0f ? in[k] : 0.0f;
    }
}

/* din = dout where the output is positive, 0 elsewhere (din may be
 * dout). */
static void relu_mask(size_t n, const float *out, const float *dout,
                      float *din)
{
    if (din == NULL) {
        return;
    }
    for (size_t k = 0; k < n; k++) {
        din[k] = out[k] > 0.0f ? dout[k] : 0.0f;
    }
}

static void relu_backward(Layer *l, const float *in, const float *out,
                          const float *dout, float *din, size_t b)
{
    (void)in;
    relu_mask(b * l->out_size, out, dout, din);
}

static void relu_norm_sq(const Layer *l, const float *in, const float *out,
                         const float *dout, float *din, size_t b,
                         double *acc)
{
    (void)in;
    (void)acc;
    relu_mask(b * l->out_size, out, dout, din);
}

static void relu_describe(const Layer *l, char *buf, size_t len)
{
    (void)l;
    snprintf(buf, len, "relu");
}

const LayerOps layer_relu_ops = {
    .name = "relu",
    .setup = relu_setup,
    .init = relu_init,
    .forward = relu_forward,
    .backward = relu_backward,
    .norm_sq = relu_norm_sq,
    .describe = relu_describe,
    .in_place = 1,
};
