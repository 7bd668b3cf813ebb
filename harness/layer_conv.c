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
 * Products run over blocks of examples (see "blocks of examples" below
 * and CONV_BLOCK_FLOATS): one sgemm per block for the forward pass, the
 * weight gradient and the input gradient, with scratch bounded by the
 * block size rather than the batch. Stride-1 "same" layers (every conv
 * in our nets) build and fold their column matrices one contiguous run
 * per kernel offset. Exact per-example norms: conv_norm_sq.
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

/* Floats of one block's column matrix, 1 MiB, so that it and the
 * block's outputs stay in this machine's 2 MiB of L2 per core between
 * im2col, the product and the scatter. Measured on the Fashion and
 * CIFAR-shaped CNN steps (bench_conv_step, 1 and 2 threads): 2^18 was
 * 5-15 % faster than 2^20 and 2^21, and level with 2^16 and 2^17 at 1
 * thread but faster at 2. Fashion's second conv (Q P = 56 448) gets
 * blocks of 4 examples, its first (Q P = 7 056) blocks of 37. */
#define CONV_BLOCK_FLOATS ((size_t)1 << 18)

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

    /* Block size: as many examples as keep the column matrix within
     * CONV_BLOCK_FLOATS (and its columns within an int), at least 1. */
    size_t nb = CONV_BLOCK_FLOATS / (q * p);
    size_t nb_int = (size_t)INT_MAX / (p * (q > (size_t)filters
                                            ? q : (size_t)filters));
    nb = nb < nb_int ? nb : nb_int;
    nb = nb < l->max_batch ? nb : l->max_batch;
    l->block = nb > 0 ? (int)nb : 1;

    /* Per-example norms: the Gram form when it needs fewer flops. */
    double direct = 2.0 * (double)filters * q * p + (double)filters * q;
    double gram = (double)p * p * ((double)filters + q + 1.0);
    l->gram = gram < direct;
    size_t g = l->gram ? 2 * p * p : (size_t)filters * q;

    /* col [Q][nb P], zb [F][nb P], g ([F][Q] or 2 [P][P]), ones [nb P],
     * sums [F] */
    l->n_work = (q + (size_t)filters + 1) * p * (size_t)l->block + g +
                (size_t)filters;
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

/* One output row of a column-matrix row: row [ow] gets xr[ox s + off]
 * for ox in [lo, hi), 0 elsewhere. Stride 1 is a contiguous copy. */
static void im2col_row(float *restrict row, const float *restrict xr,
                       int ow, int lo, int hi, int s, int off)
{
    for (int ox = 0; ox < lo; ox++) {
        row[ox] = 0.0f;
    }
    if (s == 1) {
        const float *src = xr + off;
        for (int ox = lo; ox < hi; ox++) {
            row[ox] = src[ox];
        }
    } else {
        for (int ox = lo; ox < hi; ox++) {
            row[ox] = xr[ox * s + off];
        }
    }
    for (int ox = hi; ox < ow; ox++) {
        row[ox] = 0.0f;
    }
}

/* Rows oy in [*oy0, *oy1) of the output read input rows inside the
 * image for kernel row ki (stride 1). */
static void same_rows(const Layer *l, int ki, int *oy0, int *oy1)
{
    *oy0 = l->pad - ki > 0 ? l->pad - ki : 0;
    *oy1 = l->in_h + l->pad - ki < l->out_h ? l->in_h + l->pad - ki
                                            : l->out_h;
}

/*
 * One row (c, ki, kj) of the column matrix when the stride is 1 and the
 * output is as wide as the input (W = out_w, "same" padding): then
 * row[oy W + ox] = xc[oy W + ox + shift] with shift = (ki - p) W + kj - p
 * for every position whose input row is inside the image, one
 * contiguous copy instead of out_h short ones. The copy also carries,
 * into the columns ox outside [lo, hi), pixels wrapped around from the
 * neighbouring row; those are zeroed after it. Elements whose source
 * falls outside the plane are such wrapped columns, so the copy is
 * clipped to the plane and never reads outside it.
 */
static void im2col_plane_same(const Layer *l, const float *xc, float *row,
                              int ki, int kj, int lo, int hi)
{
    int w = l->in_w;
    int oh = l->out_h;
    long plane = (long)l->in_h * w;
    int oy0;
    int oy1;

    same_rows(l, ki, &oy0, &oy1);
    if (oy1 <= oy0) {
        memset(row, 0, (size_t)oh * w * sizeof *row);
        return;
    }
    long shift = (long)(ki - l->pad) * w + (kj - l->pad);
    long k0 = (long)oy0 * w;
    long k1 = (long)oy1 * w;
    memset(row, 0, (size_t)k0 * sizeof *row);
    memset(row + k1, 0, (size_t)((long)oh * w - k1) * sizeof *row);
    long c0 = k0 + shift < 0 ? -shift : k0;
    long c1 = k1 + shift > plane ? plane - shift : k1;
    if (c1 > c0) {
        memcpy(row + c0, xc + c0 + shift, (size_t)(c1 - c0) * sizeof *row);
    }
    for (int oy = oy0; oy < oy1; oy++) {
        float *r = row + (size_t)oy * w;
        for (int ox = 0; ox < lo; ox++) {
            r[ox] = 0.0f;
        }
        for (int ox = hi; ox < w; ox++) {
            r[ox] = 0.0f;
        }
    }
    /* c0 > k0 or c1 < k1 skipped only wrapped columns, zeroed above */
}

/* col [Q][ld] from x [C][H][W]: columns 0..P-1 of row (c, ki, kj) hold,
 * at (oy, ox), x[c][oy s - p + ki][ox s - p + kj], or 0 in the padding.
 * ld >= P lets a block of examples share one column matrix. */
static void im2col(const Layer *l, const float *x, float *col, size_t ld)
{
    int s = l->stride;
    int ow = l->out_w;
    int same = s == 1 && ow == l->in_w;

    for (int c = 0; c < l->in_c; c++) {
        const float *xc = x + (size_t)c * l->in_h * l->in_w;
        for (int ki = 0; ki < l->kh; ki++) {
            for (int kj = 0; kj < l->kw; kj++) {
                int lo;
                int hi;
                valid_range(l->in_w, ow, s, l->pad, kj, &lo, &hi);
                if (same) {
                    im2col_plane_same(l, xc, col, ki, kj, lo, hi);
                    col += ld;
                    continue;
                }
                for (int oy = 0; oy < l->out_h; oy++) {
                    float *row = col + (size_t)oy * ow;
                    int iy = oy * s - l->pad + ki;
                    if (iy < 0 || iy >= l->in_h) {
                        memset(row, 0, (size_t)ow * sizeof *row);
                        continue;
                    }
                    im2col_row(row, xc + (size_t)iy * l->in_w, ow, lo, hi,
                               s, kj - l->pad);
                }
                col += ld;
            }
        }
    }
}

/* xr[ox s + off] += row[ox] for ox in [lo, hi). */
static void col2im_row(float *restrict xr, const float *restrict row,
                       int lo, int hi, int s, int off)
{
    if (s == 1) {
        float *dst = xr + off;
        for (int ox = lo; ox < hi; ox++) {
            dst[ox] += row[ox];
        }
    } else {
        for (int ox = lo; ox < hi; ox++) {
            xr[ox * s + off] += row[ox];
        }
    }
}

/* The adjoint of im2col_plane_same: zero the wrapped columns of row
 * (they belong to the padding, whose gradient is dropped; row is
 * scratch that nothing reads afterwards), then one contiguous
 * xc[k + shift] += row[k] over the rows inside the image, clipped to
 * the plane as the copy was. */
static void col2im_plane_same(const Layer *l, float *row, float *xc, int ki,
                              int kj, int lo, int hi)
{
    int w = l->in_w;
    long plane = (long)l->in_h * w;
    int oy0;
    int oy1;

    same_rows(l, ki, &oy0, &oy1);
    if (oy1 <= oy0) {
        return;
    }
    for (int oy = oy0; oy < oy1; oy++) {
        float *r = row + (size_t)oy * w;
        for (int ox = 0; ox < lo; ox++) {
            r[ox] = 0.0f;
        }
        for (int ox = hi; ox < w; ox++) {
            r[ox] = 0.0f;
        }
    }
    long shift = (long)(ki - l->pad) * w + (kj - l->pad);
    long k0 = (long)oy0 * w;
    long k1 = (long)oy1 * w;
    long c0 = k0 + shift < 0 ? -shift : k0;
    long c1 = k1 + shift > plane ? plane - shift : k1;
    float *restrict dst = xc + shift;
    const float *restrict src = row;
    for (long k = c0; k < c1; k++) {
        dst[k] += src[k];
    }
}

/* dx [C][H][W] = the adjoint of im2col applied to dcol [Q][ld] (its
 * first P columns): every column entry is added back to the input pixel
 * it was copied from. dcol is clobbered (its padding entries zeroed). */
static void col2im(const Layer *l, float *dcol, size_t ld, float *dx)
{
    int s = l->stride;
    int ow = l->out_w;
    int same = s == 1 && ow == l->in_w;

    memset(dx, 0, l->in_size * sizeof *dx);
    for (int c = 0; c < l->in_c; c++) {
        float *xc = dx + (size_t)c * l->in_h * l->in_w;
        for (int ki = 0; ki < l->kh; ki++) {
            for (int kj = 0; kj < l->kw; kj++) {
                int lo;
                int hi;
                valid_range(l->in_w, ow, s, l->pad, kj, &lo, &hi);
                if (same) {
                    col2im_plane_same(l, dcol, xc, ki, kj, lo, hi);
                    dcol += ld;
                    continue;
                }
                for (int oy = 0; oy < l->out_h; oy++) {
                    int iy = oy * s - l->pad + ki;
                    if (iy < 0 || iy >= l->in_h) {
                        continue;
                    }
                    col2im_row(xc + (size_t)iy * l->in_w,
                               dcol + (size_t)oy * ow, lo, hi, s,
                               kj - l->pad);
                }
                dcol += ld;
            }
        }
    }
}

/* ---- blocks of examples ---------------------------------------------- */
/*
 * Every pass works on blocks of nb = l->block examples: their column
 * matrices side by side in col [Q][nb P] (example j in columns
 * j P..j P + P - 1), so each product is one sgemm with nb times the
 * columns of a per-example one, which OpenBLAS splits across threads
 * better (and the weight gradient sums over the block inside sgemm).
 * The block's outputs and signals
 * pass through zb [F][nb P] in the same column order; copying them to
 * and from the NCHW rows [nb][F][P] is a pass over F P nb floats, small
 * against the 2 Q flops per output of the product (and the forward copy
 * carries the bias add and relu that a separate pass would need anyway).
 */

/* Column matrix of rows i0..i0+nb-1 of in into col [Q][nb P]. */
static void block_im2col(const Layer *l, const float *in, size_t i0,
                         size_t nb, float *col)
{
    size_t p = (size_t)l->out_h * l->out_w;

    for (size_t j = 0; j < nb; j++) {
        im2col(l, in + (i0 + j) * l->in_size, col + j * p, nb * p);
    }
}

/* zb [F][nb P] := rows i0.. of d [b][F][P]. */
static void block_gather(const float *d, size_t i0, size_t nb, int f,
                         size_t p, float *zb)
{
    for (size_t j = 0; j < nb; j++) {
        const float *src = d + (i0 + j) * (size_t)f * p;
        for (int k = 0; k < f; k++) {
            const float *restrict from = src + (size_t)k * p;
            float *restrict to = zb + (size_t)k * nb * p + j * p;
            for (size_t t = 0; t < p; t++) {
                to[t] = from[t];
            }
        }
    }
}

/* Views into l->work, carved in the order conv_setup sized them. */
typedef struct ConvScratch {
    float *col;  /* [Q][nb P] column matrices of a block */
    float *zb;   /* [F][nb P] its outputs or signals */
    float *g;    /* [F][Q] one G_i, or 2 [P][P] Gram matrices */
    float *ones; /* [nb P] all 1, for row sums by sgemv */
    float *sums; /* [F] one example's bias gradient */
} ConvScratch;

static ConvScratch conv_scratch(const Layer *l)
{
    size_t f = (size_t)l->out_c;
    size_t q = l->n_weights / f;
    size_t p = (size_t)l->out_h * l->out_w;
    size_t n = p * (size_t)l->block;
    ConvScratch w;

    w.col = l->work;
    w.zb = w.col + q * n;
    w.g = w.zb + f * n;
    w.ones = w.g + (l->gram ? 2 * p * p : f * q);
    w.sums = w.ones + n;
    return w;
}

/* ---- passes ---------------------------------------------------------- */

static void conv_forward(Layer *l, const float *in, float *out, size_t b)
{
    int f = l->out_c;
    int q = (int)(l->n_weights / (size_t)f);
    size_t p = (size_t)l->out_h * l->out_w;
    const float *w = l->param;                /* [F][Q] */
    const float *c = l->param + l->n_weights; /* [F] */
    ConvScratch sc = conv_scratch(l);
    float *col = sc.col;
    float *zb = sc.zb;

    for (size_t i0 = 0; i0 < b; i0 += (size_t)l->block) {
        size_t nb = b - i0 < (size_t)l->block ? b - i0 : (size_t)l->block;
        int n = (int)(nb * p);

        /* Step 1: zb = W col, one product for the block */
        block_im2col(l, in, i0, nb, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, f, n, q,
                    1.0f, w, q, col, n, 0.0f, zb, n);

        /* Step 2: out row i0 + j, channel k = zb[k][j P ..] + c[k], with
         * relu in the same pass when fused */
        for (size_t j = 0; j < nb; j++) {
            float *z = out + (i0 + j) * l->out_size; /* [F][P] */
            for (int k = 0; k < f; k++) {
                const float *src = zb + (size_t)k * n + j * p;
                float *zk = z + (size_t)k * p;
                float ck = c[k];
                if (l->fuse_relu) {
                    for (size_t t = 0; t < p; t++) {
                        float v = src[t] + ck;
                        zk[t] = v > 0.0f ? v : 0.0f;
                    }
                } else {
                    for (size_t t = 0; t < p; t++) {
                        zk[t] = src[t] + ck;
                    }
                }
            }
        }
    }
}

/* din rows i0.. [C][H][W] = col2im(W^T zb) for the block whose signal is
 * in zb [F][nb P], through col [Q][nb P]. */
static void block_input_grad(const Layer *l, const float *zb, size_t i0,
                             size_t nb, float *din, float *col)
{
    int f = l->out_c;
    int q = (int)(l->n_weights / (size_t)f);
    size_t p = (size_t)l->out_h * l->out_w;
    int n = (int)(nb * p);

    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, q, n, f, 1.0f,
                l->param, q, zb, n, 0.0f, col, n);
    for (size_t j = 0; j < nb; j++) {
        col2im(l, col + j * p, (size_t)n, din + (i0 + j) * l->in_size);
    }
}

static void conv_backward(Layer *l, const float *in, const float *out,
                          const float *dout, float *din, size_t b)
{
    int f = l->out_c;
    int q = (int)(l->n_weights / (size_t)f);
    size_t p = (size_t)l->out_h * l->out_w;
    float *dw = l->grad;                   /* [F][Q] */
    float *dc = l->grad + l->n_weights;    /* [F] */
    ConvScratch sc = conv_scratch(l);
    float *col = sc.col;
    float *zb = sc.zb;
    (void)out;

    for (size_t t = 0; t < p * (size_t)l->block; t++) {
        sc.ones[t] = 1.0f;
    }
    for (size_t i0 = 0; i0 < b; i0 += (size_t)l->block) {
        size_t nb = b - i0 < (size_t)l->block ? b - i0 : (size_t)l->block;
        int n = (int)(nb * p);

        /* dW (+)= D C^T over the block: [F][nb P] x [nb P][Q] */
        block_im2col(l, in, i0, nb, col);
        block_gather(dout, i0, nb, f, p, zb);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, f, q, n, 1.0f,
                    zb, n, col, n, i0 == 0 ? 0.0f : 1.0f, dw, q);
        /* dc (+)= D 1: the row sums of the block's signal */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, f, n, 1.0f, zb, n,
                    sc.ones, 1, i0 == 0 ? 0.0f : 1.0f, dc, 1);
        if (din != NULL) {
            block_input_grad(l, zb, i0, nb, din, col);
        }
    }
}

/*
 * Exact per-example norms. Example i's weight gradient is
 * G_i = D_i C_i^T with D_i = dout_i [F][P] and C_i = col_i [Q][P] (the
 * sum over positions is what weight sharing adds, so the dense identity
 * ||D|| ||C|| is only an upper bound here), and its bias gradient is the
 * row sums of D_i. Two exact ways (Goodfellow 2015, "Efficient
 * per-example gradient computations", for the second):
 *   direct: form G_i (2 F Q P flops) and sum its squares (F Q);
 *   Gram:   ||D C^T||_F^2 = tr(C D^T D C^T) = <D^T D, C^T C>_F, two
 *           P x P Gram matrices (P^2 (F + Q) flops) and their dot
 *           product (P^2).
 * The layer picks the cheaper by that count at setup (l->gram); for
 * every conv in our nets P > F Q / (F + Q) (e.g. P = 196 against 52 for
 * Fashion's second conv), so direct is chosen there. Either way the
 * column matrices and the input gradient run over blocks as backward
 * does, and G_i or the Gram matrices are per-example sgemms reading the
 * block scratch in place (leading dimension nb P).
 */
static double example_weight_norm_sq(const Layer *l, const float *d,
                                     const float *c, size_t ld, float *g)
{
    int f = l->out_c;
    int q = (int)(l->n_weights / (size_t)f);
    int p = l->out_h * l->out_w;
    double sq = 0.0;

    if (!l->gram) {
        /* g [F][Q] = D C^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, f, q, p, 1.0f,
                    d, (int)ld, c, (int)ld, 0.0f, g, q);
        return cblas_sdot(f * q, g, 1, g, 1);
    }
    /* g [P][P] = D^T D, g + P P = C^T C, then their Frobenius product */
    float *gc = g + (size_t)p * p;
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, p, f, 1.0f, d,
                (int)ld, 0.0f, g, p);
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, p, q, 1.0f, c,
                (int)ld, 0.0f, gc, p);
    for (int r = 0; r < p; r++) {
        const float *gr = g + (size_t)r * p;
        const float *cr = gc + (size_t)r * p;
        double row = 0.0;
        for (int t = r + 1; t < p; t++) {
            row += (double)gr[t] * cr[t];
        }
        sq += 2.0 * row + (double)gr[r] * cr[r];
    }
    return sq;
}

static void conv_norm_sq(const Layer *l, const float *in, const float *out,
                         const float *dout, float *din, size_t b,
                         double *acc)
{
    int f = l->out_c;
    size_t p = (size_t)l->out_h * l->out_w;
    ConvScratch sc = conv_scratch(l);
    float *col = sc.col;
    float *zb = sc.zb;
    (void)out;

    for (size_t t = 0; t < p; t++) {
        sc.ones[t] = 1.0f;
    }

    for (size_t i0 = 0; i0 < b; i0 += (size_t)l->block) {
        size_t nb = b - i0 < (size_t)l->block ? b - i0 : (size_t)l->block;
        size_t n = nb * p;

        block_im2col(l, in, i0, nb, col);
        block_gather(dout, i0, nb, f, p, zb);
        for (size_t j = 0; j < nb; j++) {
            const float *d = zb + j * p;
            cblas_sgemv(CblasRowMajor, CblasNoTrans, f, (int)p, 1.0f, d,
                        (int)n, sc.ones, 1, 0.0f, sc.sums, 1);
            double bias_sq = cblas_sdot(f, sc.sums, 1, sc.sums, 1);
            acc[i0 + j] += bias_sq + example_weight_norm_sq(l, d,
                                                            col + j * p,
                                                            n, sc.g);
        }
        if (din != NULL) {
            block_input_grad(l, zb, i0, nb, din, col);
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
