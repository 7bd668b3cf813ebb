/*
 * test_conv.c - the convolution layer: im2col forward against a direct
 * nested-loop convolution, backprop against central differences (stride,
 * padding, non-square shapes, l2 and per-example weights), blocks of
 * examples that do not divide the batch, exact per-example gradient
 * norms (direct and Gram forms) against single-example backward passes,
 * gather equivalence and layer-string errors for conv tokens.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <gsl/gsl_rng.h>

#include "harness/layers.h"
#include "harness/network.h"
#include "netcheck.h"

/* ---- im2col forward against the definition --------------------------- */

struct ConvShape {
    int c, h, w, f, kh, kw, pad, stride;
};

/* z [b][F][oh][ow] by the definition: c[f] plus the sum over (c, ki, kj)
 * of W[f][c][ki][kj] x[c][oy s - p + ki][ox s - p + kj], zero outside. */
static void direct_conv(const struct ConvShape *s, const float *wt,
                        const float *x, size_t b, int oh, int ow, float *z)
{
    const float *bias = wt + (size_t)s->f * s->c * s->kh * s->kw;

    for (size_t i = 0; i < b; i++) {
        for (int f = 0; f < s->f; f++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double sum = bias[f];
                    for (int c = 0; c < s->c; c++) {
                        for (int ki = 0; ki < s->kh; ki++) {
                            for (int kj = 0; kj < s->kw; kj++) {
                                int iy = oy * s->stride - s->pad + ki;
                                int ix = ox * s->stride - s->pad + kj;
                                if (iy < 0 || iy >= s->h || ix < 0 ||
                                    ix >= s->w) {
                                    continue;
                                }
                                size_t wk = (((size_t)f * s->c + c) *
                                             s->kh + ki) * s->kw + kj;
                                size_t xk = ((i * s->c + c) * s->h + iy) *
                                            s->w + ix;
                                sum += (double)wt[wk] * x[xk];
                            }
                        }
                    }
                    z[((i * s->f + f) * oh + oy) * ow + ox] = (float)sum;
                }
            }
        }
    }
}

/* Runs one conv layer through layers.h on B = 3 random rows, in blocks
 * of block examples (0: the layer's own choice, all 3), and returns the
 * largest |im2col - direct|. */
static double conv_vs_direct(const struct ConvShape *s, unsigned long seed,
                             int block)
{
    enum { B = 3 };
    char args[96];
    Layer l;
    IsbError err;

    memset(&l, 0, sizeof l);
    l.in_c = s->c;
    l.in_h = s->h;
    l.in_w = s->w;
    l.in_size = (size_t)s->c * s->h * s->w;
    l.max_batch = B;
    snprintf(args, sizeof args, "%d %dx%d pad %d stride %d", s->f, s->kh,
             s->kw, s->pad, s->stride);
    cr_assert_eq(layer_conv_ops.setup(&l, args, 1, &err), 0, "%s: %s",
                 args, err.msg);
    l.out_size = (size_t)l.out_c * l.out_h * l.out_w;
    cr_assert_eq(l.block, B, "%s: block %d, expected the whole batch",
                 args, l.block);
    if (block > 0) {
        l.block = block; /* smaller blocks fit the scratch sized for B */
    }
    cr_assert_eq(l.out_h, (s->h + 2 * s->pad - s->kh) / s->stride + 1);
    cr_assert_eq(l.out_w, (s->w + 2 * s->pad - s->kw) / s->stride + 1);

    size_t np = l.n_weights + l.n_biases;
    float *param = malloc(np * sizeof *param);
    float *x = malloc(B * l.in_size * sizeof *x);
    float *z = malloc(B * l.out_size * sizeof *z);
    float *want = malloc(B * l.out_size * sizeof *want);
    l.work = malloc(l.n_work * sizeof *l.work);
    cr_assert(param && x && z && want && l.work);
    make_data(param, np, NULL, 0, 1, seed);
    make_data(x, B * l.in_size, NULL, 0, 1, seed + 1);
    l.param = param;

    layer_conv_ops.forward(&l, x, z, B);
    direct_conv(s, param, x, B, l.out_h, l.out_w, want);
    double worst = 0.0;
    for (size_t k = 0; k < B * l.out_size; k++) {
        worst = fmax(worst, fabs((double)z[k] - want[k]));
    }
    free(param);
    free(x);
    free(z);
    free(want);
    free(l.work);
    return worst;
}

/* Every output is a sum of at most C kh kw + 1 = 80 products of values
 * in [-1, 1], accumulated in float by sgemm: 1e-5 absolute is ~10 float
 * ulps of the largest possible sum and far below any indexing error
 * (which moves outputs by ~0.1 or more). */
Test(conv_forward, im2col_matches_direct_loops)
{
    static const struct ConvShape fixed[] = {
        {1, 5, 5, 2, 3, 3, 0, 1},
        {2, 7, 6, 3, 3, 3, 1, 2},  /* stride 2, pad 1, non-square */
        {3, 8, 5, 4, 2, 3, 1, 1},  /* non-square kernel */
        {2, 9, 9, 2, 5, 5, 2, 2},
        {1, 4, 6, 1, 4, 6, 0, 1},  /* kernel equals the input */
        {2, 3, 4, 2, 3, 3, 2, 3},  /* pad wider than half the kernel */
    };
    double worst = 0.0;

    for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++) {
        double e = conv_vs_direct(&fixed[k], 100 + k, 0);
        cr_expect(e < 1e-5, "shape %zu: max error %g", k, e);
        worst = fmax(worst, e);
        /* blocks of 2 + 1 and of 1: a block size that does not divide
         * the batch, and one example per product */
        for (int block = 1; block <= 2; block++) {
            e = conv_vs_direct(&fixed[k], 100 + k, block);
            cr_expect(e < 1e-5, "shape %zu, blocks of %d: max error %g", k,
                      block, e);
            worst = fmax(worst, e);
        }
    }

    /* random shapes, seeded */
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 2024);
    for (int t = 0; t < 40; t++) {
        struct ConvShape s;
        s.c = 1 + (int)gsl_rng_uniform_int(rng, 4);
        s.h = 2 + (int)gsl_rng_uniform_int(rng, 9);
        s.w = 2 + (int)gsl_rng_uniform_int(rng, 9);
        s.f = 1 + (int)gsl_rng_uniform_int(rng, 5);
        s.pad = (int)gsl_rng_uniform_int(rng, 3);
        s.stride = 1 + (int)gsl_rng_uniform_int(rng, 3);
        s.kh = 1 + (int)gsl_rng_uniform_int(rng,
                                            (unsigned long)(s.h + 2 * s.pad));
        s.kw = 1 + (int)gsl_rng_uniform_int(rng,
                                            (unsigned long)(s.w + 2 * s.pad));
        s.kh = s.kh > 5 ? 5 : s.kh;
        s.kw = s.kw > 5 ? 5 : s.kw;
        double e = conv_vs_direct(&s, 300 + (unsigned long)t, t % 3);
        cr_expect(e < 1e-5, "random shape %d (%dx%dx%d, %d %dx%d pad %d "
                  "stride %d): max error %g", t, s.c, s.h, s.w, s.f, s.kh,
                  s.kw, s.pad, s.stride, e);
        worst = fmax(worst, e);
    }
    gsl_rng_free(rng);
    cr_log_info("im2col vs direct: max abs error %.3g", worst);
}

Test(conv_backward, matches_central_differences_stride_and_pad)
{
    /* The second conv's input gradient (col2im of a strided, padded
     * layer's output) feeds the first conv's weights. */
    double worst = grad_check("conv 4 3x3 pad 1 stride 2, conv 3 2x3 "
                              "pad 1, dense 3", 2, 7, 6, 21);
    cr_log_info("conv stride/pad: max relative error %.3g", worst);
}

Test(conv_backward, matches_central_differences_fused_relu)
{
    double worst = grad_check("conv 3 3x3, relu, conv 2 3x3 stride 2, "
                              "relu, dense 3", 1, 9, 8, 23);
    cr_log_info("conv + relu: max relative error %.3g", worst);
}

Test(conv_backward, matches_central_differences_whole_cnn)
{
    double worst = grad_check("conv 4 3x3 pad 1, relu, maxpool 2, "
                              "conv 5 3x3 pad 1 stride 2, relu, layernorm, "
                              "flatten, dense 6, relu, dense 3",
                              2, 8, 8, 31);
    cr_log_info("small CNN end to end: max relative error %.3g", worst);
}

Test(conv_backward, matches_central_differences_relu_then_maxpool)
{
    /* relu followed by maxpool leaves its backward mask to the pool:
     * the 2x2 fast path (odd input, so a row and column no window
     * covers) and the general path with overlapping windows. */
    double worst = grad_check("conv 3 3x3 pad 1, relu, maxpool 2, "
                              "conv 2 2x2, relu, maxpool 2 stride 1, "
                              "dense 3", 2, 7, 9, 37);
    cr_log_info("relu + maxpool: max relative error %.3g", worst);
}

/* ---- blocks that do not divide the batch ----------------------------- */

/* A conv layer whose column matrix (Q P = 108 x 576) leaves room for
 * blocks of 4 examples only, on 6 rows: blocks of 4 and 2. The batch
 * gradient with unit weights must equal the mean of the six one-row
 * gradients (each one block of 1); float sums of the same products in
 * other orders, so 1e-5 relative to the largest entry. */
Test(conv_backward, blocks_not_dividing_the_batch_equal_one_row_passes)
{
    enum { N = 6, K = 4, C = 1, H = 24, W = 24, D = C * H * W };
    const char *spec = "conv 12 1x1, relu, conv 2 3x3 pad 1, gap, dense 4";
    Layer l;
    IsbError err;

    memset(&l, 0, sizeof l);
    l.in_c = 12;
    l.in_h = H;
    l.in_w = W;
    l.max_batch = N;
    cr_assert_eq(layer_conv_ops.setup(&l, "2 3x3 pad 1", 1, &err), 0);
    cr_assert_eq(l.block, 4, "block %d (expected 4)", l.block);

    float *x = malloc(N * D * sizeof *x);
    int y[N];
    Network *net = make_net(spec, C, H, W, K, N, 51);
    size_t n = network_num_params(net);
    float *batch = malloc(n * sizeof *batch);
    double *mean = calloc(n, sizeof *mean);
    cr_assert(x && batch && mean);
    make_data(x, N * D, y, N, K, 52);

    network_forward(net, x, y, N, NULL);
    network_backward(net, NULL, N, 0.0f);
    memcpy(batch, network_grads(net), n * sizeof *batch);
    for (int i = 0; i < N; i++) {
        network_forward(net, x + i * D, y + i, 1, NULL);
        network_backward(net, NULL, 1, 0.0f);
        for (size_t k = 0; k < n; k++) {
            mean[k] += network_grads(net)[k] / (double)N;
        }
    }
    double top = 0.0;
    for (size_t k = 0; k < n; k++) {
        top = fmax(top, fabs(mean[k]));
    }
    for (size_t k = 0; k < n; k++) {
        cr_expect(fabs(batch[k] - mean[k]) <= 1e-5 * top,
                  "grad %zu: batch %.8g, mean of rows %.8g", k, batch[k],
                  mean[k]);
    }
    free(x);
    free(batch);
    free(mean);
    network_free(net);
}

/* ---- exact per-example gradient norms -------------------------------- */

/*
 * Against one-row backward passes (weight 1, l2 0). Both sides are float
 * sums of the same products in different orders: 1e-4 relative is about
 * 100 float ulps of the norm. The dense identity ||delta|| ||a|| applied
 * to a conv layer overestimates by factors of 2 or more on these shapes,
 * so it could not pass.
 */
static void check_norms(const char *spec, int c, int h, int w,
                        unsigned long seed)
{
    norms_check(spec, c, h, w, 4, 6, seed, seed + 1, 1e-4);
}

Test(network_grad_norms, conv_net_equals_single_example_norms)
{
    check_norms("conv 4 3x3 pad 1, relu, maxpool 2, conv 6 3x3 stride 2 "
                "pad 1, relu, gap, dense 5, relu, dense 4", 3, 10, 9, 41);
}

Test(network_grad_norms, conv_layernorm_net_equals_single_example_norms)
{
    check_norms("conv 3 3x3, layernorm, relu, conv 4 2x2 stride 2, relu, "
                "flatten, dense 6, layernorm, relu, dense 4", 2, 7, 7, 43);
}

Test(network_grad_norms, blocks_not_dividing_the_batch)
{
    /* the layer of blocks_not_dividing_the_batch_equal_one_row_passes:
     * blocks of 4 and 2 over 6 rows */
    check_norms("conv 12 1x1, relu, conv 2 3x3 pad 1, gap, dense 4", 1, 24,
                24, 53);
}

/* The Gram form is chosen exactly when P^2 (F + Q + 1) is below
 * 2 F Q P + F Q, and gives the same norms. */
Test(network_grad_norms, gram_form_equals_single_example_norms)
{
    Layer l;
    IsbError err;

    memset(&l, 0, sizeof l);
    l.in_c = 6;
    l.in_h = 4;
    l.in_w = 4;
    l.max_batch = 6;
    /* P = 4, Q = 24, F = 16: 16 x 41 = 656 against 12 672 */
    cr_assert_eq(layer_conv_ops.setup(&l, "16 2x2 stride 2", 1, &err), 0);
    cr_expect_eq(l.gram, 1);
    l.in_c = 3;
    /* P = 16, Q = 27, F = 6: 256 x 34 = 8704 against 5346 */
    cr_assert_eq(layer_conv_ops.setup(&l, "6 3x3 pad 1", 1, &err), 0);
    cr_expect_eq(l.gram, 0);

    check_norms("conv 6 3x3 pad 1, relu, conv 16 2x2 stride 2, relu, "
                "conv 16 2x2, flatten, dense 4", 3, 4, 4, 47);
}

/* ---- gather ---------------------------------------------------------- */

Test(network_gather, conv_net_backward_equals_fresh_forward_on_rows)
{
    const size_t rows[5] = {6, 1, 1, 0, 7};
    const float w[5] = {1.0f, 0.5f, 2.0f, 1.5f, 0.75f};

    /* 2 x 8 x 7 inputs, 3 classes, 8 rows; net seed 3, data seed 5 */
    gather_check("conv 4 3x3 pad 1, relu, maxpool 2, layernorm, "
                 "conv 5 3x3, relu, gap, dense 3", 2, 8, 7, 3, 8, rows, w,
                 5, 3, 5);
}

/* ---- initialisation and layer strings -------------------------------- */

Test(network_init, conv_glorot_uses_receptive_field_fans)
{
    /* conv 6 3x3 on 4 channels: fan_in 36, fan_out 54, limit
     * sqrt(6 / 90); 216 weights then 6 zero biases. */
    Network *net = make_net("conv 6 3x3, gap, dense 2", 4, 5, 5, 2, 1, 8);
    const float *p = network_params(net);
    const unsigned char *mask = network_decay_mask(net);
    double limit = sqrt(6.0 / 90.0);
    double top = 0.0;

    for (size_t k = 0; k < 216; k++) {
        cr_expect(fabs(p[k]) <= limit && mask[k] == 1, "weight %zu", k);
        top = fmax(top, fabs(p[k]));
    }
    for (size_t k = 216; k < 222; k++) {
        cr_expect(p[k] == 0.0f && mask[k] == 0, "bias %zu", k);
    }
    /* 216 draws: P(max < 0.95 limit) = 0.95^216 < 2e-5. */
    cr_expect(top > 0.95 * limit, "largest %g of limit %g", top, limit);
    network_free(net);
}

struct BadConv {
    char spec[64];
    int c, h, w;
    char want[112];
};

Test(network_create, conv_errors_name_the_token)
{
    static const struct BadConv cases[] = {
        {"conv 32 3x, relu, dense 3", 1, 8, 8,
         "layers: 'conv 32 3x' (token 1): bad kernel size '3x' "
         "(expected KxK, e.g. 3x3)"},
        {"dense 4, conv x 3x3", 1, 8, 8,
         "'conv x 3x3' (token 2): bad filter count 'x'"},
        {"conv 8", 1, 8, 8, "'conv 8' (token 1): bad kernel size ''"},
        {"conv 8 3x3 pad", 1, 8, 8, "(token 1): bad pad ''"},
        {"conv 8 3x3 pad -1", 1, 8, 8, "bad pad '-1'"},
        {"conv 8 3x3 stride 0", 1, 8, 8, "bad stride '0'"},
        {"conv 8 3x3 pud 1", 1, 8, 8, "unknown option 'pud'"},
        {"conv 8 3x3 pad 1 pad 2", 1, 8, 8, "repeated option 'pad'"},
        {"conv 8 9x9", 1, 6, 6,
         "'conv 8 9x9' (token 1): kernel 9x9 does not fit the input "
         "1x6x6 padded to 6x6"},
        {"relu, dense 5, conv 8 3x3", 1, 6, 6,
         "(token 3): kernel 3x3 does not fit the input 5x1x1 padded "
         "to 1x1"},
        {"conv 8 3x3, relu, conv 4 3x3 pad 1 stride 2", 2, 4, 4,
         "outputs 4 values but there are 3"},
    };

    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        Network *net = NULL;
        IsbError err;
        isb_error_clear(&err);
        int rc = network_create(cases[c].spec, cases[c].c, cases[c].h,
                                cases[c].w, 3, 4, &net, &err);
        cr_expect_eq(rc, ISB_ECONFIG, "\"%s\" gave %d", cases[c].spec, rc);
        cr_expect_null(net);
        cr_expect(strstr(err.msg, cases[c].want) != NULL,
                  "\"%s\": message \"%s\" lacks \"%s\"", cases[c].spec,
                  err.msg, cases[c].want);
    }
}
