/*
 * network.h - a feed-forward classifier built from a layer string.
 *
 * The network owns its parameters, gradients and every activation buffer,
 * all allocated once by network_create for up to max_batch rows, so a
 * training step allocates nothing. Batches are row-major, one example a
 * row (NCHW inside a row). All matrix products go through cblas_sgemm.
 *
 * Math names, used throughout: b rows in the batch, d input features,
 * K classes, z [b][K] logits, p = softmax(z), y one-hot labels.
 */
#ifndef ISB_NETWORK_H
#define ISB_NETWORK_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "error.h"

typedef struct Network Network;

/* Per-example outputs of a forward pass (caller-owned, length b each;
 * any pointer may be NULL when not wanted). */
typedef struct ForwardOut {
    float *loss;            /* softmax cross-entropy L_i */
    float *score;           /* upper bound G_i = ||p_i - y_i||_2 */
    unsigned char *correct; /* 1 when argmax(z_i) == label */
} ForwardOut;

/* Build a network from a layer string such as
 * "dense 512, relu, dense 512, relu, dense 10" or "conv 32 3x3 pad 1,
 * relu, maxpool 2, dense 10" for inputs of shape
 * (c, h, w) and n_classes outputs; buffers are sized for max_batch rows.
 * The last layer must produce n_classes values. A bad token is an
 * ISB_ECONFIG that names it. Parameters start at zero: call network_init. */
int network_create(const char *layers, int c, int h, int w, int n_classes,
                   size_t max_batch, Network **out, IsbError *err);

void network_free(Network *net);

/* Glorot-uniform weights, zero biases (Keras defaults), from rng. */
void network_init(Network *net, gsl_rng *rng);

/* Flat parameter and gradient vectors, both network_num_params long.
 * is_decayed[i] is 1 for weights that take the L2 penalty, 0 for biases
 * (and any other parameter that is not regularised). Layout: layer by
 * layer, each layer's weights then its biases; a dense layer computes
 * z = a W + c with W [in][out] row-major (the Keras kernel layout). */
size_t network_num_params(const Network *net);
float *network_params(Network *net);
float *network_grads(Network *net);
const unsigned char *network_decay_mask(const Network *net);

size_t network_max_batch(const Network *net);
size_t network_input_size(const Network *net);   /* d */
int network_num_classes(const Network *net);

/* A one-line description written to buf (truncated to len - 1
 * characters). A network whose every layer output is flat reads
 * "784-512-512-10 (dense 512, relu, dense 512, relu, dense 10), 669706
 * parameters"; any other gives the input shape and each shape change:
 * "1x28x28 (conv 32 3x3 pad 1 -> 32x28x28, relu, maxpool 2 -> 32x14x14,
 * ..., dense 10 -> 10), 824458 parameters". */
void network_describe(const Network *net, char *buf, size_t len);

/* Forward pass on x [b][d] with labels y [b] (1 <= b <= max_batch, each
 * label in 0..K-1; both checked by assert only). Copies x, so the caller
 * may reuse it at once; keeps all activations for a later
 * network_backward, network_gather or network_grad_norms. out may be
 * NULL. Allocates nothing. */
void network_forward(Network *net, const float *x, const int *y, size_t b,
                     ForwardOut *out);

/* Make the first b rows of every kept activation the rows rows[0..b-1]
 * of the last forward pass (repeats allowed), and the labels likewise,
 * so a batch chosen from scored candidates is trained without a second
 * forward pass (the weights have not changed). Each rows[j] must be below
 * the last forward's (or gather's) b. Allocates nothing. */
void network_gather(Network *net, const size_t *rows, size_t b);

/* Backward pass for the last forward (or gather) of b rows: sets the
 * gradient vector to the gradient of
 *     (1/b) sum_i weight_i L_i  +  l2 * sum(decayed params^2)
 * (weight NULL means all ones; the L2 gradient is 2 l2 theta, as Keras's
 * l2 regulariser). Returns the weighted mean loss (1/b) sum_i weight_i
 * L_i, without the L2 term. b may be smaller than the last forward's,
 * using its first b rows. Allocates nothing. */
double network_backward(Network *net, const float *weight, size_t b,
                        float l2);

/* Exact per-example gradient norms ||dL_i/dtheta||_2 (unweighted, no
 * regulariser) for the last forward of b rows, into gnorm [b]. Dense
 * layers use ||delta a^T||_F = ||delta|| ||a|| (ALGORITHMS.md, gnorm);
 * conv layers, where that identity fails, form each example's weight
 * gradient in scratch (layer_conv.c); does not touch the gradient
 * vector. Costs about one backward pass (conv: one and a half).
 * Allocates nothing. */
void network_grad_norms(Network *net, size_t b, float *gnorm);

#endif
