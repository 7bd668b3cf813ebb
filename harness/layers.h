/*
 * layers.h - the internal layer interface behind network.c.
 *
 * A layer is a shape (c, h, w) -> (c, h, w) map with an optional block of
 * parameters. Its parameters and gradients are views into the network's
 * two flat vectors; its activations live in buffers the network owns. No
 * layer function allocates: everything is sized in network_create. Rows
 * are examples, row-major, NCHW inside a row.
 *
 * To add a layer family: write harness/layer_<family>.c with a LayerOps
 * table and a setup function, declare the table here and list it in
 * network.c's layer_kinds[].
 */
#ifndef ISB_LAYERS_H
#define ISB_LAYERS_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "error.h"

typedef struct Layer Layer;

typedef struct LayerOps {
    const char *name; /* the token that selects this layer: "dense" */

    /* Parse args (the token after the name, trimmed; "" when none) and,
     * from l->in_*, fill l->out_*, l->n_weights and l->n_biases. token is
     * the 1-based position for error messages. Returns 0 or
     * ISB_ECONFIG with a message that names the token. */
    int (*setup)(Layer *l, const char *args, int token, IsbError *err);

    /* Fill the parameter block from rng (may be NULL: no parameters). */
    void (*init)(Layer *l, gsl_rng *rng);

    /* out [b][out_size] = layer(in [b][in_size]). For an in_place layer
     * out == in. */
    void (*forward)(Layer *l, const float *in, float *out, size_t b);

    /* Given dout = dE/d(out) [b][out_size], overwrite this layer's
     * gradient block with dE/d(params) and, when din is not NULL, write
     * din = dE/d(in) [b][in_size]. For an in_place layer din may equal
     * dout. out is the forward output. */
    void (*backward)(Layer *l, const float *in, const float *out,
                     const float *dout, float *din, size_t b);

    /* Per-example variant of backward: for each row i of dout (the signal
     * of example i alone), add ||dL_i/d(params of this layer)||^2 to
     * acc[i] and write din as backward does. Must not touch the gradient
     * block. */
    void (*norm_sq)(const Layer *l, const float *in, const float *out,
                    const float *dout, float *din, size_t b, double *acc);

    /* Write a canonical token, e.g. "dense 512", into buf. */
    void (*describe)(const Layer *l, char *buf, size_t len);

    int in_place; /* 1 when out may share the input's buffer */
} LayerOps;

struct Layer {
    const LayerOps *ops;
    int in_c, in_h, in_w;    /* input shape of one example */
    int out_c, out_h, out_w; /* output shape of one example */
    size_t in_size;          /* in_c * in_h * in_w */
    size_t out_size;         /* out_c * out_h * out_w */
    int units;               /* dense, conv: output units/channels */

    /* Geometry of conv and maxpool: kernel kh x kw, stride, zero pad. */
    int kh, kw, stride, pad;

    /* conv: examples per block of its batched products (set in setup
     * from max_batch), and 1 when its per-example norms use the Gram
     * form (layer_conv.c, conv_norm_sq). */
    int block;
    int gram;

    /* Transient scratch. network.c sets max_batch before setup; setup
     * sets n_work, the floats of scratch any pass needs for up to
     * max_batch rows; the network then points work at one buffer of the
     * largest n_work, shared by every layer, so its contents do not
     * survive from one call to the next. */
    size_t max_batch;
    size_t n_work;
    float *work;

    /* Parameters: n_weights decayed values, then n_biases undecayed ones,
     * contiguous in the network's flat vectors. */
    size_t n_weights;
    size_t n_biases;
    float *param; /* [n_weights + n_biases], view */
    float *grad;  /* [n_weights + n_biases], view */

    /* Fusion: a dense or conv layer followed by relu applies the relu
     * itself in the same pass as the bias add (fuse_relu), and the relu
     * layer's forward is then skipped (fused). The relu still runs
     * backward. */
    int fuse_relu;
    int fused;

    /* Backward fusion: a relu followed by maxpool skips its backward
     * (back_fused), and the maxpool (relu_mask) passes a window's signal
     * only when the window's maximum, a relu output, is positive: the
     * relu mask at the one pixel that receives any signal. */
    int relu_mask;
    int back_fused;
};

extern const LayerOps layer_dense_ops;
extern const LayerOps layer_relu_ops;
extern const LayerOps layer_conv_ops;
extern const LayerOps layer_maxpool_ops;
extern const LayerOps layer_gap_ops;
extern const LayerOps layer_flatten_ops;
extern const LayerOps layer_layernorm_ops;

/* Split the next whitespace-separated word off *args into word [len]
 * (truncated); returns 0 when *args holds no more words. Shared by the
 * setup functions of layers that take several arguments. */
int layer_next_word(const char **args, char *word, size_t len);

/* Parse word as an integer in lo..hi into *out; 0 or -1. */
int layer_parse_int(const char *word, long lo, long hi, long *out);

/* Parse "K" or "KxL" (a kernel or window size, each in 1..hi) into
 * *kh, *kw; 0 or -1. */
int layer_parse_size(const char *word, long hi, int *kh, int *kw);

/* Squared norm of one example's dense-layer gradient: with input row a
 * [n_in] and backprop signal delta [n_out], ||delta a^T||_F^2 =
 * ||delta||^2 ||a||^2, plus ||delta||^2 when with_bias (the bias gradient
 * is delta itself). ALGORITHMS.md, gnorm. */
double layer_dense_example_norm_sq(const float *a, size_t n_in,
                                   const float *delta, size_t n_out,
                                   int with_bias);

#endif
