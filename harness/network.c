/*
 * network.c - a sequential network of layers with a softmax cross-entropy
 * head: layer-string parsing, buffer ownership, forward, backward, batch
 * gathering and exact per-example gradient norms.
 *
 * Invariant: after network_create nothing here allocates. acts[0] holds a
 * copy of the input rows and acts[i + 1] the output of layer i (an
 * in-place layer shares its input's buffer); prob, loss and labels hold
 * the head's cached rows. All of them have max_batch rows, and the first
 * last_b rows describe the last forward pass (or gather).
 */
#include "network.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "loss.h"

/* Every layer a layer string can name; the error for an unknown name
 * lists them in this order. */
static const LayerOps *const layer_kinds[] = {
    &layer_dense_ops,
    &layer_relu_ops,
    &layer_conv_ops,
    &layer_maxpool_ops,
    &layer_gap_ops,
    &layer_flatten_ops,
    &layer_layernorm_ops,
};
#define N_LAYER_KINDS (sizeof layer_kinds / sizeof *layer_kinds)

struct Network {
    int n_layers;
    Layer *layers;       /* [n_layers] */
    int n_classes;       /* K */
    size_t d;            /* input size c * h * w */
    size_t max_batch;
    size_t widest;       /* largest row width: input or any layer output */
    size_t last_b;       /* rows held by the last forward or gather */
    int first_param;     /* index of the first layer with parameters */

    size_t n_params;
    float *params;       /* [n_params] */
    float *grads;        /* [n_params] */
    unsigned char *decay; /* [n_params] */

    float *arena;        /* every float buffer below is a view into it */
    float *work;         /* [max n_work] layer scratch, shared */
    float **acts;        /* [n_layers + 1] -> [max_batch][width] */
    float *prob;         /* [max_batch][K] softmax of the logits */
    float *loss;         /* [max_batch] L_i */
    float *scratch;      /* [max_batch][widest] gather staging */
    float *delta[2];     /* [max_batch][widest] backward ping-pong */
    float *ndelta[2];    /* [max_batch][widest] grad-norm ping-pong */
    double *norm_acc;    /* [max_batch] per-example squared norms */
    int *labels;         /* [max_batch] */
    int *label_scratch;  /* [max_batch] */
};

/* ---- layer-string parsing ------------------------------------------- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        end--;
    }
    *end = '\0';
    return s;
}

static const LayerOps *layer_kind_find(const char *name)
{
    for (size_t k = 0; k < N_LAYER_KINDS; k++) {
        if (strcmp(layer_kinds[k]->name, name) == 0) {
            return layer_kinds[k];
        }
    }
    return NULL;
}

static int unknown_layer(const char *name, int token, IsbError *err)
{
    char names[256] = "";
    size_t pos = 0;

    for (size_t k = 0; k < N_LAYER_KINDS && pos < sizeof names; k++) {
        pos += (size_t)snprintf(names + pos, sizeof names - pos, "%s%s",
                                k > 0 ? ", " : "", layer_kinds[k]->name);
    }
    return isb_fail(err, ISB_ECONFIG,
                    "layers: unknown layer '%s' (token %d; expected %s)",
                    name, token, names);
}

/* Set up layer l from one trimmed, non-empty token. */
static int parse_token(Layer *l, char *tok, int token, size_t max_batch,
                       IsbError *err)
{
    char *args = tok;
    while (*args != '\0' && !isspace((unsigned char)*args)) {
        args++;
    }
    if (*args != '\0') {
        *args++ = '\0';
    }
    args = trim(args);

    l->ops = layer_kind_find(tok);
    if (l->ops == NULL) {
        return unknown_layer(tok, token, err);
    }
    l->in_size = (size_t)l->in_c * l->in_h * l->in_w;
    l->max_batch = max_batch;
    int rc = l->ops->setup(l, args, token, err);
    if (rc < 0) {
        return rc;
    }
    l->out_size = (size_t)l->out_c * l->out_h * l->out_w;
    return 0;
}

static int parse_layers(Network *net, const char *spec, int c, int h, int w,
                        IsbError *err)
{
    int n = 1;
    for (const char *s = spec; *s != '\0'; s++) {
        n += *s == ',';
    }
    char *text = malloc(strlen(spec) + 1);
    net->layers = calloc((size_t)n, sizeof *net->layers);
    if (text == NULL || net->layers == NULL) {
        free(text);
        return isb_fail(err, ISB_ENOMEM, "layers: out of memory");
    }
    strcpy(text, spec);

    int rc = 0;
    char *start = text;
    for (int i = 0; i < n && rc == 0; i++) {
        char *comma = strchr(start, ',');
        if (comma != NULL) {
            *comma = '\0';
        }
        char *tok = trim(start);
        Layer *l = &net->layers[i];
        l->in_c = i == 0 ? c : net->layers[i - 1].out_c;
        l->in_h = i == 0 ? h : net->layers[i - 1].out_h;
        l->in_w = i == 0 ? w : net->layers[i - 1].out_w;
        if (*tok == '\0') {
            rc = isb_fail(err, ISB_ECONFIG,
                          "layers: empty layer in '%s' (token %d; "
                          "expected e.g. \"dense 512, relu, dense 10\")",
                          spec, i + 1);
        } else {
            rc = parse_token(l, tok, i + 1, net->max_batch, err);
        }
        start = comma != NULL ? comma + 1 : start;
        net->n_layers = i + 1;
    }
    free(text);
    return rc;
}

/* A dense or conv layer followed by relu applies it in its own output
 * pass; a relu followed by maxpool leaves its backward mask to the
 * maxpool's backward pass. */
static void fuse_layers(Network *net)
{
    for (int i = 0; i + 1 < net->n_layers; i++) {
        Layer *l = &net->layers[i];
        Layer *next = &net->layers[i + 1];
        if ((l->ops == &layer_dense_ops || l->ops == &layer_conv_ops) &&
            next->ops == &layer_relu_ops) {
            l->fuse_relu = 1;
            next->fused = 1;
        }
        if (l->ops == &layer_relu_ops && next->ops == &layer_maxpool_ops) {
            l->back_fused = 1;
            next->relu_mask = 1;
        }
    }
}

/* ---- allocation ------------------------------------------------------ */

static int alloc_params(Network *net, IsbError *err)
{
    size_t total = 0;
    for (int i = 0; i < net->n_layers; i++) {
        total += net->layers[i].n_weights + net->layers[i].n_biases;
    }
    net->n_params = total;
    net->params = calloc(total > 0 ? total : 1, sizeof *net->params);
    net->grads = calloc(total > 0 ? total : 1, sizeof *net->grads);
    net->decay = calloc(total > 0 ? total : 1, sizeof *net->decay);
    if (net->params == NULL || net->grads == NULL || net->decay == NULL) {
        return isb_fail(err, ISB_ENOMEM,
                        "network: cannot allocate %zu parameters", total);
    }

    size_t at = 0;
    net->first_param = net->n_layers;
    for (int i = 0; i < net->n_layers; i++) {
        Layer *l = &net->layers[i];
        size_t np = l->n_weights + l->n_biases;
        if (np > 0 && net->first_param == net->n_layers) {
            net->first_param = i;
        }
        l->param = net->params + at;
        l->grad = net->grads + at;
        memset(net->decay + at, 1, l->n_weights);
        at += np;
    }
    return 0;
}

static int alloc_buffers(Network *net, IsbError *err)
{
    size_t mb = net->max_batch;
    size_t K = (size_t)net->n_classes;

    /* Step 1: widths, and the float count of every view. */
    net->widest = net->d;
    size_t n_act = net->d;
    for (int i = 0; i < net->n_layers; i++) {
        const Layer *l = &net->layers[i];
        if (l->out_size > net->widest) {
            net->widest = l->out_size;
        }
        if (!l->ops->in_place) {
            n_act += l->out_size;
        }
    }
    size_t n_work = 0;
    for (int i = 0; i < net->n_layers; i++) {
        if (net->layers[i].n_work > n_work) {
            n_work = net->layers[i].n_work;
        }
    }
    size_t n_floats = mb * (n_act + K + 1 + 5 * net->widest) + n_work;

    /* Step 2: the blocks. */
    net->arena = malloc(n_floats * sizeof *net->arena);
    net->acts = calloc((size_t)net->n_layers + 1, sizeof *net->acts);
    net->norm_acc = malloc(mb * sizeof *net->norm_acc);
    net->labels = malloc(mb * sizeof *net->labels);
    net->label_scratch = malloc(mb * sizeof *net->label_scratch);
    if (net->arena == NULL || net->acts == NULL || net->norm_acc == NULL ||
        net->labels == NULL || net->label_scratch == NULL) {
        return isb_fail(err, ISB_ENOMEM,
                        "network: cannot allocate %zu activation floats "
                        "for %zu rows", n_floats, mb);
    }

    /* Step 3: carve the views. */
    float *at = net->arena;
    net->acts[0] = at;
    at += mb * net->d;
    for (int i = 0; i < net->n_layers; i++) {
        if (net->layers[i].ops->in_place) {
            net->acts[i + 1] = net->acts[i];
        } else {
            net->acts[i + 1] = at;
            at += mb * net->layers[i].out_size;
        }
    }
    net->prob = at;
    at += mb * K;
    net->loss = at;
    at += mb;
    float **views[] = {&net->scratch, &net->delta[0], &net->delta[1],
                       &net->ndelta[0], &net->ndelta[1]};
    for (size_t v = 0; v < sizeof views / sizeof *views; v++) {
        *views[v] = at;
        at += mb * net->widest;
    }
    net->work = at;
    for (int i = 0; i < net->n_layers; i++) {
        net->layers[i].work = net->work;
    }
    memset(net->arena, 0, n_floats * sizeof *net->arena);
    return 0;
}

int network_create(const char *layers, int c, int h, int w, int n_classes,
                   size_t max_batch, Network **out, IsbError *err)
{
    *out = NULL;
    if (c < 1 || h < 1 || w < 1 || n_classes < 2 || max_batch < 1) {
        return isb_fail(err, ISB_EINVAL,
                        "network: bad shape: input %dx%dx%d, %d classes, "
                        "max batch %zu (expected positive sizes and at "
                        "least 2 classes)", c, h, w, n_classes, max_batch);
    }
    Network *net = calloc(1, sizeof *net);
    if (net == NULL) {
        return isb_fail(err, ISB_ENOMEM, "network: out of memory");
    }
    net->n_classes = n_classes;
    net->d = (size_t)c * h * w;
    net->max_batch = max_batch;

    int rc = parse_layers(net, layers, c, h, w, err);
    if (rc < 0) {
        goto fail;
    }
    const Layer *last = &net->layers[net->n_layers - 1];
    if (last->out_size != (size_t)n_classes) {
        rc = isb_fail(err, ISB_ECONFIG,
                      "layers: the last layer outputs %zu values but there "
                      "are %d classes", last->out_size, n_classes);
        isb_hint(err, "end the layer string with \"dense %d\"", n_classes);
        goto fail;
    }
    fuse_layers(net);
    if ((rc = alloc_params(net, err)) < 0 ||
        (rc = alloc_buffers(net, err)) < 0) {
        goto fail;
    }
    *out = net;
    return 0;

fail:
    network_free(net);
    return rc;
}

void network_free(Network *net)
{
    if (net == NULL) {
        return;
    }
    free(net->layers);
    free(net->params);
    free(net->grads);
    free(net->decay);
    free(net->arena);
    free(net->acts);
    free(net->norm_acc);
    free(net->labels);
    free(net->label_scratch);
    free(net);
}

/* ---- accessors ------------------------------------------------------- */

void network_init(Network *net, gsl_rng *rng)
{
    for (int i = 0; i < net->n_layers; i++) {
        net->layers[i].ops->init(&net->layers[i], rng);
    }
}

size_t network_num_params(const Network *net)
{
    return net->n_params;
}

float *network_params(Network *net)
{
    return net->params;
}

float *network_grads(Network *net)
{
    return net->grads;
}

const unsigned char *network_decay_mask(const Network *net)
{
    return net->decay;
}

size_t network_max_batch(const Network *net)
{
    return net->max_batch;
}

size_t network_input_size(const Network *net)
{
    return net->d;
}

int network_num_classes(const Network *net)
{
    return net->n_classes;
}

/* Append to buf [len] at *pos, never past the end. */
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    if (*pos >= len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    *pos = n < 0 ? len : *pos + (size_t)n;
}

/* "CxHxW", or "n" for a flat shape (H = W = 1). */
static void shape_text(int c, int h, int w, char *buf, size_t len)
{
    if (h == 1 && w == 1) {
        snprintf(buf, len, "%d", c);
    } else {
        snprintf(buf, len, "%dx%dx%d", c, h, w);
    }
}

/* The MLP form: sizes of the parameter layers' outputs. */
static int network_is_flat(const Network *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        const Layer *l = &net->layers[i];
        if (l->out_h != 1 || l->out_w != 1 || l->ops == &layer_flatten_ops) {
            return 0;
        }
    }
    return 1;
}

void network_describe(const Network *net, char *buf, size_t len)
{
    size_t pos = 0;
    char tok[64];
    char shape[48];
    int flat = network_is_flat(net);
    const Layer *first = &net->layers[0];

    if (len == 0) {
        return;
    }
    buf[0] = '\0';
    if (flat) {
        append(buf, len, &pos, "%zu", net->d);
        for (int i = 0; i < net->n_layers; i++) {
            const Layer *l = &net->layers[i];
            if (l->n_weights + l->n_biases > 0) {
                append(buf, len, &pos, "-%zu", l->out_size);
            }
        }
    } else {
        shape_text(first->in_c, first->in_h, first->in_w, shape,
                   sizeof shape);
        append(buf, len, &pos, "%s", shape);
    }
    append(buf, len, &pos, " (");
    for (int i = 0; i < net->n_layers; i++) {
        const Layer *l = &net->layers[i];
        l->ops->describe(l, tok, sizeof tok);
        append(buf, len, &pos, "%s%s", i > 0 ? ", " : "", tok);
        int same = l->out_c == l->in_c && l->out_h == l->in_h &&
                   l->out_w == l->in_w;
        if (!flat && !same) {
            shape_text(l->out_c, l->out_h, l->out_w, shape, sizeof shape);
            append(buf, len, &pos, " -> %s", shape);
        }
    }
    append(buf, len, &pos, "), %zu parameters", net->n_params);
}

/* ---- passes ---------------------------------------------------------- */
/*
 * No function below allocates: each writes only into the buffers carved
 * in alloc_buffers (acts, prob, loss, labels, scratch, delta, ndelta,
 * norm_acc), the caller's outputs, or the parameter-sized grads vector,
 * and the CBLAS calls are sgemm on caller-provided memory.
 */

void network_forward(Network *net, const float *x, const int *y, size_t b,
                     ForwardOut *out)
{
    assert(b >= 1 && b <= net->max_batch);
    memcpy(net->acts[0], x, b * net->d * sizeof *x);
    memcpy(net->labels, y, b * sizeof *y);

    for (int i = 0; i < net->n_layers; i++) {
        Layer *l = &net->layers[i];
        if (!l->fused) {
            l->ops->forward(l, net->acts[i], net->acts[i + 1], b);
        }
    }

    loss_softmax_ce(net->acts[net->n_layers], net->labels, b,
                    net->n_classes, net->prob, net->loss,
                    out != NULL ? out->score : NULL,
                    out != NULL ? out->correct : NULL);
    if (out != NULL && out->loss != NULL) {
        memcpy(out->loss, net->loss, b * sizeof *net->loss);
    }
    net->last_b = b;
}

/* buf [last_b][width] := rows[] of itself, through scratch. */
static void gather_floats(Network *net, float *buf, size_t width,
                          const size_t *rows, size_t b)
{
    for (size_t j = 0; j < b; j++) {
        memcpy(net->scratch + j * width, buf + rows[j] * width,
               width * sizeof *buf);
    }
    memcpy(buf, net->scratch, b * width * sizeof *buf);
}

void network_gather(Network *net, const size_t *rows, size_t b)
{
    assert(b <= net->max_batch);
    for (size_t j = 0; j < b; j++) {
        assert(rows[j] < net->last_b);
    }

    gather_floats(net, net->acts[0], net->d, rows, b);
    for (int i = 0; i < net->n_layers; i++) {
        if (!net->layers[i].ops->in_place) {
            gather_floats(net, net->acts[i + 1], net->layers[i].out_size,
                          rows, b);
        }
    }
    gather_floats(net, net->prob, (size_t)net->n_classes, rows, b);
    gather_floats(net, net->loss, 1, rows, b);

    for (size_t j = 0; j < b; j++) {
        net->label_scratch[j] = net->labels[rows[j]];
    }
    memcpy(net->labels, net->label_scratch, b * sizeof *net->labels);
    net->last_b = b;
}

/* Run the layers backward from the logit signal in buf[0], calling
 * backward (grads) or norm_sq (acc != NULL). Layers at or below
 * first_param need no input signal, so none is computed for them. */
static void backprop(Network *net, float *buf[2], size_t b, double *acc)
{
    int cur = 0;
    for (int i = net->n_layers - 1; i >= 0; i--) {
        Layer *l = &net->layers[i];
        float *dout = buf[cur];
        float *din = NULL;
        if (l->back_fused) {
            continue; /* in place: the next layer applied its mask */
        }
        if (i > net->first_param) {
            din = l->ops->in_place ? dout : buf[1 - cur];
        }
        if (acc != NULL) {
            l->ops->norm_sq(l, net->acts[i], net->acts[i + 1], dout, din, b,
                            acc);
        } else {
            l->ops->backward(l, net->acts[i], net->acts[i + 1], dout, din,
                             b);
        }
        if (din != NULL && din != dout) {
            cur = 1 - cur;
        }
    }
}

double network_backward(Network *net, const float *weight, size_t b,
                        float l2)
{
    assert(b >= 1 && b <= net->last_b);

    /* Step 1: dE/dz = w_i (p_i - y_i) / b, then through the layers. */
    loss_softmax_ce_delta(net->prob, net->labels, weight, 1.0f / (float)b,
                          b, net->n_classes, net->delta[0]);
    backprop(net, net->delta, b, NULL);

    /* Step 2: the L2 term, d/dtheta (l2 theta^2) = 2 l2 theta, over
     * each layer's weights (the first n_weights of its parameters: the
     * decay mask's runs), as one vectorisable loop per layer. */
    if (l2 != 0.0f) {
        float two_l2 = 2.0f * l2;
        for (int i = 0; i < net->n_layers; i++) {
            const Layer *l = &net->layers[i];
            float *restrict g = l->grad;
            const float *restrict p = l->param;
            for (size_t k = 0; k < l->n_weights; k++) {
                g[k] += two_l2 * p[k];
            }
        }
    }

    /* Step 3: the weighted mean data loss. */
    double sum = 0.0;
    for (size_t i = 0; i < b; i++) {
        sum += (weight != NULL ? (double)weight[i] : 1.0) * net->loss[i];
    }
    return sum / (double)b;
}

void network_grad_norms(Network *net, size_t b, float *gnorm)
{
    assert(b >= 1 && b <= net->last_b);

    for (size_t i = 0; i < b; i++) {
        net->norm_acc[i] = 0.0;
    }
    loss_softmax_ce_delta(net->prob, net->labels, NULL, 1.0f, b,
                          net->n_classes, net->ndelta[0]);
    backprop(net, net->ndelta, b, net->norm_acc);
    for (size_t i = 0; i < b; i++) {
        gnorm[i] = (float)sqrt(net->norm_acc[i]);
    }
}
