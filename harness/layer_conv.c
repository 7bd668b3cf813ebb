/*
 * layer_conv.c - 2-D convolution (cross-correlation, as in Keras) with
 * zero padding and stride, through im2col and cblas_sgemm.
 *
 * Math names: C in_c, H x W input, F out_c (filters), kh x kw kernel, s
 * stride, p pad, P = out_h * out_w output positions, Q = C kh kw. Shapes:
 * one input row x [C][H][W], its column matrix col [Q][P], weights
 * W [F][Q] (= [F][C][kh][kw]; Keras stores HWIO, so a Keras kernel needs
 * a transpose to be loaded), bias c [F], one output row z [F][P] =
 * W col + c. W is the decayed block, c the undecayed one.
 *
 * One sgemm per example, not one over the batch. Measured on this
 * machine (2 cores, batch 128; throwaway program, numbers noisy) the
 * batched form (col [Q][b P], then a transpose to NCHW) was 1.2-2.6x
 * slower for the thin first layers (Q = 9 or 27) and up to 1.8x faster
 * for Q = 288 with 2 threads, a wash overall; per example needs b times
 * less scratch (Q P floats instead of Q b P: 29 MB for Fashion's second
 * conv) and writes NCHW directly, so it was kept.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h>

#include "layers.h"

#define CONV_MAX_CHANNELS 65536
#define CONV_MAX_KERNEL 64
#define CONV_MAX_PAD 64

/* ---- parsing --------------------------------------------------------- */

static int conv_bad(const char *args, int token, IsbError *err,
                    const char *what, const char *word,
                    const char *expected)
{
    return isb_fail(err, ISB_ECONFIG,
                    "layers: 'conv %s' (token %d): %s '%s' (expected %s)",
                    args, token, what, word, expected);
}

/* The words after "C KxK": "pad P" and "stride S", each at most once. */
static int conv_options(Layer *l, const char *args, const char *rest,
                        int token, IsbError *err)
{
    char word[32];
    char value[32];
    int seen_pad = 0;
    int seen_stride = 0;
    long v;

    while (layer_next_word(&rest, word, sizeof word)) {
        int is_pad = strcmp(word, "pad") == 0;
        if (!is_pad && strcmp(word, "stride") != 0) {
            return conv_bad(args, token, err, "unknown option", word,
                            "pad P or stride S");
        }
        if (is_pad ? seen_pad : seen_stride) {
            return conv_bad(args, token, err, "repeated option", word,
                            "each of pad and stride at most once");
        }
        if (!layer_next_word(&rest, value, sizeof value)) {
            value[0] = '\0';
        }
        long lo = is_pad ? 0 : 1;
        long hi = is_pad ? CONV_MAX_PAD : CONV_MAX_KERNEL;
        if (layer_parse_int(value, lo, hi, &v) < 0) {
            return conv_bad(args, token, err,
                            is_pad ? "bad pad" : "bad stride", value,
                            is_pad ? "an integer from 0 to 64"
                                   : "an integer from 1 to 64");
        }
        if (is_pad) {
            l->pad = (int)v;
            seen_pad = 1;
        } else {
            l->stride = (int)v;
            seen_stride = 1;
        }
    }
    return 0;
}

/* "C KxK [pad P] [stride S]" -> shapes, sizes and scratch. */
static int conv_setup(Layer *l, const char *args, int token, IsbError *err)
{
    char word[32];
    const char *rest = args;
    long filters;

    layer_next_word(&rest, word, sizeof word);
    if (layer_parse_int(word, 1, CONV_MAX_CHANNELS, &filters) < 0) {
        return conv_bad(args, token, err, "bad filter count", word,
                        "an integer from 1 to 65536, e.g. conv 32 3x3");
    }
    if (!layer_next_word(&rest, word, sizeof word)) {
        word[0] = '\0';
    }
    if (layer_parse_size(word, CONV_MAX_KERNEL, &l->kh, &l->kw) < 0) {
        return conv_bad(args, token, err, "bad kernel size", word,
                        "KxK, e.g. 3x3");
    }
    l->pad = 0;
    l->stride = 1;
    int rc = conv_options(l, args, rest, token, err);
    if (rc < 0) {
        return rc;
    }

    int ph = l->in_h + 2 * l->pad;
    int pw = l->in_w + 2 * l->pad;
    if (l->kh > ph || l->kw > pw) {
        return isb_fail(err, ISB_ECONFIG,
                        "layers: 'conv %s' (token %d): kernel %dx%d does "
                        "not fit the input %dx%dx%d padded to %dx%d",
                        args, token, l->kh, l->kw, l->in_c, l->in_h,
                        l->in_w, ph, pw);
    }
    l->units = (int)filters;
    l->out_c = (int)filters;
    l->out_h = (ph - l->kh) / l->stride + 1;
    l->out_w = (pw - l->kw) / l->stride + 1;

    size_t q = (size_t)l->in_c * l->kh * l->kw;
    size_t p = (size_t)l->out_h * l->out_w;
    if (q * p > INT_MAX || q * filters > INT_MAX) {
        return isb_fail(err, ISB_ECONFIG,
                        "layers: 'conv %s' (token %d): a %zu x %zu "
                        "column matrix is too large", args, token, q, p);
    }
    l->n_weights = (size_t)filters * q;
    l->n_biases = (size_t)filters;
    l->n_work = q * p + (size_t)filters * q; /* col [Q][P], G [F][Q] */
    return 0;
}

/* Glorot & Bengio (2010), eq. 16, with Keras's receptive-field fans:
 * fan_in = C kh kw, fan_out = F kh kw. */
static void conv_init(Layer *l, gsl_rng *rng)
{
    double field = (double)l->kh * l->kw;
    double fans = field * (double)(l->in_c + l->out_c);
    double limit = sqrt(6.0 / fans);

    for (size_t i = 0; i < l->n_weights; i++) {
        l->param[i] = (float)((2.0 * gsl_rng_uniform(rng) - 1.0) * limit);
    }
    for (size_t i = 0; i < l->n_biases; i++) {
        l->param[l->n_weights + i] = 0.0f;
    }
}

/* ---- im2col and its adjoint ------------------------------------------ */

/* Output columns ox whose input column ox s - p + kj lies in 0..W-1:
 * ox in [*lo, *hi). */
static void valid_range(int in_w, int out_w, int s, int p, int kj, int *lo,
                        int *hi)
{
    int first = p - kj; /* smallest ox s allowed */
    int last = in_w - 1 + p - kj;
    *lo = first > 0 ? (first + s - 1) / s : 0;
    *hi = last >= 0 ? last / s + 1 : 0;
    if (*hi > out_w) {
        *hi = out_w;
    }
    if (*lo > *hi) {
        *lo = *hi;
    }
}

/* col [Q][P] from x [C][H][W]; row (c, ki, kj), column (oy, ox) holds
 * x[c][oy s - p + ki][ox s - p + kj], or 0 in the padding. */
static void im2col(const Layer *l, const float *x, float *col)
{
    int s = l->stride;
    int ow = l->out_w;

    for (int c = 0; c < l->in_c; c++) {
        const float *xc = x + (size_t)c * l->in_h * l->in_w;
        for (int ki = 0; ki < l->kh; ki++) {
            for (int kj = 0; kj < l->kw; kj++) {
                int lo;
                int hi;
                valid_range(l->in_w, ow, s, l->pad, kj, &lo, &hi);
                for (int oy = 0; oy < l->out_h; oy++) {
                    float *row = col + (size_t)oy * ow;
                    int iy = oy * s - l->pad + ki;
                    if (iy < 0 || iy >= l->in_h) {
                        memset(row, 0, (size_t)ow * sizeof *row);
                        continue;
                    }
                    const float *xr = xc + (size_t)iy * l->in_w;
                    for (int ox = 0; ox < lo; ox++) {
                        row[ox] = 0.0f;
                    }
                    for (int ox = lo; ox < hi; ox++) {
                        row[ox] = xr[ox * s - l->pad + kj];
                    }
                    for (int ox = hi; ox < ow; ox++) {
                        row[ox] = 0.0f;
                    }
                }
                col += (size_t)l->out_h * ow;
            }
        }
    }
}

/* dx [C][H][W] = the adjoint of im2col applied to dcol [Q][P]: every
 * column entry is added back to the input pixel it was copied from. */
static void col2im(const Layer *l, const float *dcol, float *dx)
{
    int s = l->stride;
    int ow = l->out_w;

    memset(dx, 0, l->in_size * sizeof *dx);
    for (int c = 0; c < l->in_c; c++) {
        float *xc = dx + (size_t)c * l->in_h * l->in_w;
        for (int ki = 0; ki < l->kh; ki++) {
            for (int kj = 0; kj < l->kw; kj++) {
                int lo;
                int hi;
                valid_range(l->in_w, ow, s, l->pad, kj, &lo, &hi);
                for (int oy = 0; oy < l->out_h; oy++) {
                    int iy = oy * s - l->pad + ki;
                    if (iy < 0 || iy >= l->in_h) {
                        continue;
                    }
                    const float *row = dcol + (size_t)oy * ow;
                    float *xr = xc + (size_t)iy * l->in_w;
                    for (int ox = lo; ox < hi; ox++) {
                        xr[ox * s - l->pad + kj] += row[ox];
                    }
                }
                dcol += (size_t)l->out_h * ow;
            }
        }
    }
}

/* ---- passes ---------------------------------------------------------- */

static void conv_forward(Layer *l, const float *in, float *out, size_t b)
{
    int f = l->out_c;
    int q = (int)(l->n_weights / (size_t)f);
    int p = l->out_h * l->out_w;
    const float *w = l->param;                /* [F][Q] */
    const float *c = l->param + l->n_weights; /* [F] */
    float *col = l->work;                     /* [Q][P] */

    for (size_t i = 0; i < b; i++) {
        float *z = out + i * l->out_size; /* [F][P] */

        /* Step 1: z = W col */
        im2col(l, in + i * l->in_size, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, f, p, q,
                    1.0f, w, q, col, p, 0.0f, z, p);

        /* Step 2: z += c per channel, and relu in the same pass when
         * fused */
        for (int k = 0; k < f; k++) {
            float *zk = z + (size_t)k * p;
            for (int j = 0; j < p; j++) {
                float v = zk[j] + c[k];
                zk[j] = l->fuse_relu && v < 0.0f ? 0.0f : v;
            }
        }
    }
}

/* din row i [C][H][W] = col2im(W^T dout_i), through col [Q][P]. */
static void conv_input_grad(const Layer *l, const float *dout, float *din,
                            float *col)
{
    int f = l->out_c;
    int q = (int)(l->n_weights / (size_t)f);
    int p = l->out_h * l->out_w;

    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, q, p, f, 1.0f,
                l->param, q, dout, p, 0.0f, col, p);
    col2im(l, col, din);
}

/* dc += the per-channel sums of one example's signal d [F][P]; returns
 * the squared norm of those sums (that example's bias gradient). */
static double bias_grad(const float *d, int f, int p, float *dc)
{
    double sq = 0.0;

    for (int k = 0; k < f; k++) {
        double sum = 0.0;
        for (int j = 0; j < p; j++) {
            sum += d[(size_t)k * p + j];
        }
        if (dc != NULL) {
            dc[k] += (float)sum;
        }
        sq += sum * sum;
    }
    return sq;
}

static void conv_backward(Layer *l, const float *in, const float *out,
                          const float *dout, float *din, size_t b)
{
    int f = l->out_c;
    int q = (int)(l->n_weights / (size_t)f);
    int p = l->out_h * l->out_w;
    float *dw = l->grad;                /* [F][Q] */
    float *dc = l->grad + l->n_weights; /* [F] */
    float *col = l->work;               /* [Q][P] */
    (void)out;

    memset(dc, 0, l->n_biases * sizeof *dc);
    for (size_t i = 0; i < b; i++) {
        const float *d = dout + i * l->out_size; /* [F][P] */

        /* dW (+)= dout_i col_i^T: [F][P] x [P][Q] */
        im2col(l, in + i * l->in_size, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, f, q, p, 1.0f,
                    d, p, col, p, i == 0 ? 0.0f : 1.0f, dw, q);
        bias_grad(d, f, p, dc);
        if (din != NULL) {
            conv_input_grad(l, d, din + i * l->in_size, col);
        }
    }
}

/*
 * Exact per-example norms. Example i's weight gradient is
 * G_i = D_i C_i^T with D_i = dout_i [F][P] and C_i = col_i [Q][P] (the
 * sum over positions is what weight sharing adds, so the dense identity
 * ||D|| ||C|| is only an upper bound here), and its bias gradient is the
 * row sums of D_i. G_i is formed in scratch and its Frobenius norm
 * taken, at the cost of one more weight-gradient sgemm per example.
 * The Gram identity ||D C^T||_F^2 = tr(C D^T D C^T) = <D^T D, C^T C>_F
 * is exact too but costs P^2 (F + Q) instead of F Q P flops, more
 * whenever P > F Q / (F + Q): true of every layer in our nets (e.g.
 * P = 196 against 52 for Fashion's second conv), so it is not used.
 */
static void conv_norm_sq(const Layer *l, const float *in, const float *out,
                         const float *dout, float *din, size_t b,
                         double *acc)
{
    int f = l->out_c;
    int q = (int)(l->n_weights / (size_t)f);
    int p = l->out_h * l->out_w;
    float *col = l->work;                      /* [Q][P] */
    float *g = l->work + (size_t)q * p;        /* [F][Q] */
    size_t nw = l->n_weights;
    (void)out;

    for (size_t i = 0; i < b; i++) {
        const float *d = dout + i * l->out_size;

        im2col(l, in + i * l->in_size, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, f, q, p, 1.0f,
                    d, p, col, p, 0.0f, g, q);
        double sq = bias_grad(d, f, p, NULL);
        for (size_t k = 0; k < nw; k++) {
            sq += (double)g[k] * g[k];
        }
        acc[i] += sq;
        if (din != NULL) {
            conv_input_grad(l, d, din + i * l->in_size, col);
        }
    }
}

static void conv_describe(const Layer *l, char *buf, size_t len)
{
    char extra[48] = "";
    size_t n = 0;

    if (l->pad != 0) {
        n += (size_t)snprintf(extra, sizeof extra, " pad %d", l->pad);
    }
    if (l->stride != 1) {
        snprintf(extra + n, sizeof extra - n, " stride %d", l->stride);
    }
    snprintf(buf, len, "conv %d %dx%d%s", l->out_c, l->kh, l->kw, extra);
}

const LayerOps layer_conv_ops = {
    .name = "conv",
    .setup = conv_setup,
    .init = conv_init,
    .forward = conv_forward,
    .backward = conv_backward,
    .norm_sq = conv_norm_sq,
    .describe = conv_describe,
    .in_place = 0,
};
