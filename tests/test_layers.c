/*
 * test_layers.c - the parameter-free layers (maxpool, gap, flatten) and
 * layer normalisation: known forward values, backprop through each
 * against finite differences, flatten as a pure relabelling, layer-norm
 * statistics and parameters, network_describe shapes and token errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <gsl/gsl_rng.h>

#include "harness/layers.h"
#include "harness/network.h"
#include "netcheck.h"

/* A layer of ops set up from args on a c x h x w input, with parameter,
 * gradient and scratch buffers of its own for up to mb rows. */
static Layer make_layer(const LayerOps *ops, const char *args, int c, int h,
                        int w, size_t mb)
{
    Layer l;
    IsbError err;

    memset(&l, 0, sizeof l);
    l.ops = ops;
    l.in_c = c;
    l.in_h = h;
    l.in_w = w;
    l.in_size = (size_t)c * h * w;
    l.max_batch = mb;
    cr_assert_eq(ops->setup(&l, args, 1, &err), 0, "%s %s: %s", ops->name,
                 args, err.msg);
    l.out_size = (size_t)l.out_c * l.out_h * l.out_w;
    size_t np = l.n_weights + l.n_biases;
    l.param = calloc(np + 1, sizeof *l.param);
    l.grad = calloc(np + 1, sizeof *l.grad);
    l.work = calloc(l.n_work + 1, sizeof *l.work);
    cr_assert(l.param && l.grad && l.work);
    ops->init(&l, NULL);
    return l;
}

static void free_layer(Layer *l)
{
    free(l->param);
    free(l->grad);
    free(l->work);
}

/* ---- known forward values -------------------------------------------- */

Test(maxpool_forward, known_values_and_overlapping_windows)
{
    /* one 4x5 plane, values 0..19 with a few moved */
    const float x[20] = {0, 1, 2, 3, 4,
                         5, 9, 7, 8, 6,
                         10, 11, 12, 13, 14,
                         15, 16, 19, 18, 17};
    float z[6];

    Layer l = make_layer(&layer_maxpool_ops, "2", 1, 4, 5, 1);
    cr_assert(l.out_h == 2 && l.out_w == 2);
    layer_maxpool_ops.forward(&l, x, z, 1);
    cr_expect(z[0] == 9 && z[1] == 8 && z[2] == 16 && z[3] == 19,
              "%g %g %g %g", z[0], z[1], z[2], z[3]);
    free_layer(&l);

    l = make_layer(&layer_maxpool_ops, "3 stride 2", 1, 4, 5, 1);
    cr_assert(l.out_h == 1 && l.out_w == 2);
    layer_maxpool_ops.forward(&l, x, z, 1);
    cr_expect(z[0] == 12 && z[1] == 14, "%g %g", z[0], z[1]);

    /* the window's signal goes to its maximum only */
    const float dz[2] = {1.0f, 10.0f};
    float dx[20];
    layer_maxpool_ops.backward(&l, x, z, dz, dx, 1);
    for (int k = 0; k < 20; k++) {
        float want = k == 12 ? 1.0f : k == 14 ? 10.0f : 0.0f;
        cr_expect(dx[k] == want, "dx[%d] = %g, want %g", k, dx[k], want);
    }
    free_layer(&l);
}

Test(gap_forward, channel_means)
{
    const float x[2 * 2 * 3] = {1, 2, 3, 4, 5, 6, -1, -1, -1, -1, -1, 5};
    float z[2];
    float dx[12];
    const float dz[2] = {6.0f, -12.0f};

    Layer l = make_layer(&layer_gap_ops, "", 2, 2, 3, 1);
    cr_assert(l.out_c == 2 && l.out_h == 1 && l.out_w == 1);
    layer_gap_ops.forward(&l, x, z, 1);
    cr_expect(z[0] == 3.5f && z[1] == 0.0f, "%g %g", z[0], z[1]);
    layer_gap_ops.backward(&l, x, z, dz, dx, 1);
    for (int k = 0; k < 12; k++) {
        cr_expect(dx[k] == (k < 6 ? 1.0f : -2.0f), "dx[%d] = %g", k, dx[k]);
    }
    free_layer(&l);
}

Test(layernorm_forward, rows_have_zero_mean_and_unit_variance)
{
    enum { B = 3, C = 4, H = 3, W = 2, N = C * H * W };
    float x[B * N];
    float z[B * N];

    make_data(x, B * N, NULL, 0, 1, 77);
    for (int k = 0; k < N; k++) {
        x[N + k] = 100.0f + 30.0f * x[N + k]; /* shift and scale row 1 */
    }
    Layer l = make_layer(&layer_layernorm_ops, "", C, H, W, B);
    cr_expect_eq(l.n_biases, 2 * C, "per-channel gamma and beta");
    cr_expect_eq(l.n_weights, 0);
    layer_layernorm_ops.forward(&l, x, z, B);
    for (int i = 0; i < B; i++) {
        double mean = 0.0;
        double sq = 0.0;
        for (int k = 0; k < N; k++) {
            mean += z[i * N + k];
            sq += (double)z[i * N + k] * z[i * N + k];
        }
        mean /= N;
        /* gamma 1, beta 0: variance var / (var + eps), with var ~1/3
         * for uniform [-1, 1] rows (row 1: ~300), so within 1e-2 of 1 */
        cr_expect(fabs(mean) < 1e-5, "row %d mean %g", i, mean);
        cr_expect(fabs(sq / N - 1.0) < 1e-2, "row %d var %g", i, sq / N);
    }
    free_layer(&l);

    Layer flat = make_layer(&layer_layernorm_ops, "", 6, 1, 1, 1);
    cr_expect_eq(flat.n_biases, 12, "per-feature gamma and beta");
    free_layer(&flat);
}

/* ---- backprop against finite differences (netcheck.h) ---------------- */

Test(maxpool_backward, matches_finite_differences)
{
    double a = grad_check("conv 3 3x3 pad 1, maxpool 2, dense 3", 2, 6, 7,
                          51);
    double b = grad_check("conv 3 3x3, maxpool 3 stride 2, conv 2 2x2, "
                          "dense 3", 2, 9, 8, 53);
    cr_log_info("maxpool: max relative error %.3g, overlapping %.3g", a,
                b);
}

Test(gap_backward, matches_finite_differences)
{
    double a = grad_check("conv 4 3x3 pad 1, relu, gap, dense 3", 2, 5, 6,
                          55);
    cr_log_info("gap: max relative error %.3g", a);
}

Test(layernorm_backward, matches_finite_differences)
{
    double a = grad_check("conv 4 3x3 pad 1, layernorm, conv 3 3x3, "
                          "flatten, dense 5, layernorm, dense 3", 2, 6, 5,
                          57);
    double b = grad_check("dense 6, layernorm, relu, dense 3", 1, 1, 7, 59);
    cr_log_info("layernorm: max relative error %.3g (conv), %.3g (dense)",
                a, b);
}

/* ---- flatten, describe, init ----------------------------------------- */

Test(flatten, changes_nothing_but_the_shape)
{
    enum { C = 2, H = 5, W = 4, D = C * H * W, K = 3, B = 4 };
    float x[B * D];
    int y[B];
    float loss_a[B];
    float loss_b[B];

    Network *a = make_net("conv 3 3x3, relu, dense 3", C, H, W, K, B, 61);
    Network *b = make_net("conv 3 3x3, relu, flatten, dense 3", C, H, W,
                          K, B, 61);
    size_t n = network_num_params(a);
    cr_assert_eq(n, network_num_params(b));
    cr_expect(memcmp(network_params(a), network_params(b),
                     n * sizeof(float)) == 0);
    make_data(x, B * D, y, B, K, 63);

    ForwardOut oa = {.loss = loss_a};
    ForwardOut ob = {.loss = loss_b};
    network_forward(a, x, y, B, &oa);
    network_forward(b, x, y, B, &ob);
    network_backward(a, NULL, B, 0.0f);
    network_backward(b, NULL, B, 0.0f);
    cr_expect(memcmp(loss_a, loss_b, sizeof loss_a) == 0);
    cr_expect(memcmp(network_grads(a), network_grads(b),
                     n * sizeof(float)) == 0);
    network_free(a);
    network_free(b);
}

Test(network_describe, fashion_cnn_shapes)
{
    Network *net = NULL;
    char buf[512];

    cr_assert_eq(network_create("conv 32 3x3 pad 1, relu, maxpool 2, "
                                "conv 64 3x3 pad 1, relu, maxpool 2, "
                                "dense 256, relu, dense 10", 1, 28, 28, 10,
                                2, &net, NULL), 0);
    network_describe(net, buf, sizeof buf);
    /* 320 + 18496 + 3136 * 256 + 256 + 2570 */
    cr_expect_str_eq(buf, "1x28x28 (conv 32 3x3 pad 1 -> 32x28x28, relu, "
                          "maxpool 2 -> 32x14x14, conv 64 3x3 pad 1 -> "
                          "64x14x14, relu, maxpool 2 -> 64x7x7, dense 256 "
                          "-> 256, relu, dense 10 -> 10), 824458 "
                          "parameters");
    network_free(net);

    cr_assert_eq(network_create("conv 8 5x5 stride 2, layernorm, gap, "
                                "flatten, dense 10", 3, 32, 32, 10, 2,
                                &net, NULL), 0);
    network_describe(net, buf, sizeof buf);
    cr_expect_str_eq(buf, "3x32x32 (conv 8 5x5 stride 2 -> 8x14x14, "
                          "layernorm, gap -> 8, flatten, dense 10 -> 10), "
                          "714 parameters");
    network_free(net);
}

Test(network_init, layernorm_starts_at_identity_undecayed)
{
    Network *net = make_net("dense 4, layernorm, dense 2", 1, 1, 3, 2, 1,
                            5);
    const float *p = network_params(net);
    const unsigned char *mask = network_decay_mask(net);
    /* dense 4: 12 + 4; layernorm: gamma [4], beta [4] */
    for (int k = 16; k < 24; k++) {
        cr_expect(p[k] == (k < 20 ? 1.0f : 0.0f) && mask[k] == 0,
                  "param %d = %g, mask %d", k, p[k], mask[k]);
    }
    network_free(net);
}

struct BadLayer {
    char spec[48];
    char want[112];
};

Test(network_create, pool_and_norm_errors_name_the_token)
{
    static const struct BadLayer cases[] = {
        {"maxpool 0, dense 3",
         "'maxpool 0' (token 1): bad window '0'"},
        {"maxpool 2x3, dense 3", "bad window '2x3'"},
        {"maxpool, dense 3", "'maxpool ' (token 1): bad window ''"},
        {"maxpool 2 strid 2, dense 3", "(token 1): bad options"},
        {"maxpool 2 stride 0, dense 3", "(token 1): bad options"},
        {"conv 2 3x3, maxpool 7, dense 3",
         "'maxpool 7' (token 2): window 7x7 does not fit the input 2x4x4"},
        {"conv 2 3x3, gap 2, dense 3", "gap takes no argument, got '2' "
         "(token 2)"},
        {"flatten 1, dense 3", "flatten takes no argument, got '1' "
         "(token 1)"},
        {"dense 3, layernorm x", "layernorm takes no argument, got 'x' "
         "(token 2)"},
        {"conv 2 3x3, Gap, dense 3", "unknown layer 'Gap' (token 2;"},
    };

    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        Network *net = NULL;
        IsbError err;
        isb_error_clear(&err);
        int rc = network_create(cases[c].spec, 1, 6, 6, 3, 4, &net, &err);
        cr_expect_eq(rc, ISB_ECONFIG, "\"%s\" gave %d", cases[c].spec, rc);
        cr_expect_null(net);
        cr_expect(strstr(err.msg, cases[c].want) != NULL,
                  "\"%s\": message \"%s\" lacks \"%s\"", cases[c].spec,
                  err.msg, cases[c].want);
    }
}
