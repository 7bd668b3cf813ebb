/*
 * test_augment.c - random crop with zero padding and horizontal flip:
 * agreement with a direct pad-crop-flip reference, the geometric
 * properties, determinism, the uniformity of the draws, and a runner run
 * showing that evaluation is never augmented.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "datasets/augment.h"
#include "harness/config.h"
#include "harness/registry.h"
#include "harness/runner.h"

#define C 3
#define H 5
#define W 7
#define D (C * H * W)

/* A test image whose every pixel is distinct and non-zero. */
static void fill_image(float *img)
{
    for (int k = 0; k < D; k++) {
        img[k] = 1.0f + (float)k;
    }
}

/* The reference: build the (H + 2p) x (W + 2p) zero field, copy the image
 * into its centre, cut the window at (oy, ox), then mirror if asked. */
static void reference(const AugmentDraw *dr, int pad, const float *in,
                      float *out)
{
    int ph = H + 2 * pad, pw = W + 2 * pad;
    float field[C][H + 16][W + 16];
    memset(field, 0, sizeof field);
    for (int ch = 0; ch < C; ch++) {
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                field[ch][y + pad][x + pad] = in[(ch * H + y) * W + x];
            }
        }
    }
    cr_assert(ph <= H + 16 && pw <= W + 16);
    for (int ch = 0; ch < C; ch++) {
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                float v = field[ch][y + dr->oy][x + dr->ox];
                int tx = dr->flip ? W - 1 - x : x;
                out[(ch * H + y) * W + tx] = v;
            }
        }
    }
}

Test(augment, every_crop_and_flip_matches_the_pad_crop_flip_reference)
{
    float in[D], got[D], want[D];
    fill_image(in);
    for (int pad = 0; pad <= 4; pad++) {
        AugmentSpec spec = {pad, 1};
        for (int oy = 0; oy <= 2 * pad; oy++) {
            for (int ox = 0; ox <= 2 * pad; ox++) {
                for (int flip = 0; flip <= 1; flip++) {
                    AugmentDraw dr = {oy, ox, flip};
                    augment_apply(&dr, &spec, C, H, W, in, got);
                    reference(&dr, pad, in, want);
                    cr_assert_arr_eq(got, want, sizeof got, "pad %d oy %d "
                                     "ox %d flip %d", pad, oy, ox, flip);
                }
            }
        }
    }
}

Test(augment, flipping_twice_gives_the_original)
{
    float in[D], once[D], twice[D];
    fill_image(in);
    AugmentSpec spec = {4, 1};
    AugmentDraw dr = {4, 4, 1};  /* centred window: flip only */
    augment_apply(&dr, &spec, C, H, W, in, once);
    augment_apply(&dr, &spec, C, H, W, once, twice);
    cr_assert_arr_eq(twice, in, sizeof in);
    cr_assert_float_eq(once[0], in[W - 1], 0, "first pixel is the last");
}

Test(augment, crop_offset_zero_with_padding_four_shifts_down_right)
{
    float in[D], out[D];
    fill_image(in);
    AugmentSpec spec = {4, 0};
    AugmentDraw dr = {0, 0, 0};
    augment_apply(&dr, &spec, C, H, W, in, out);
    for (int ch = 0; ch < C; ch++) {
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                float want = y >= 4 && x >= 4
                    ? in[(ch * H + y - 4) * W + x - 4] : 0.0f;
                cr_assert_float_eq(out[(ch * H + y) * W + x], want, 0,
                                   "ch %d y %d x %d", ch, y, x);
            }
        }
    }
}

Test(augment, pixels_from_outside_are_zero_and_the_rest_are_moved)
{
    /* Count, for the largest shift (offset 2p), the zeros: rows and
     * columns beyond the image give exactly (H W - (H - p)(W - p)) per
     * channel, since every image pixel is non-zero. */
    float in[D], out[D];
    fill_image(in);
    AugmentSpec spec = {2, 0};
    AugmentDraw dr = {4, 4, 0};
    augment_apply(&dr, &spec, C, H, W, in, out);
    int zeros = 0;
    for (int k = 0; k < D; k++) {
        zeros += out[k] == 0.0f;
    }
    cr_assert_eq(zeros, C * (H * W - (H - 2) * (W - 2)));
    cr_assert_float_eq(out[0], in[2 * W + 2], 0);
}

Test(augment, no_crop_and_no_flip_is_the_identity_and_draws_nothing)
{
    float in[4 * D], out[4 * D];
    for (int k = 0; k < 4 * D; k++) {
        in[k] = (float)k - 100.0f;
    }
    AugmentSpec spec = {0, 0};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng *fresh = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 7);
    gsl_rng_set(fresh, 7);
    cr_assert_eq(augment_enabled(&spec), 0);
    augment_rows(&spec, rng, 4, C, H, W, in, out);
    cr_assert_arr_eq(out, in, sizeof in);
    cr_assert_eq(gsl_rng_get(rng), gsl_rng_get(fresh));
    size_t idx[4] = {3, 1, 4, 1};
    augment_rows_keyed(&spec, 99, idx, 4, C, H, W, in, out);
    cr_assert_arr_eq(out, in, sizeof in);
    gsl_rng_free(rng);
    gsl_rng_free(fresh);
}

Test(augment, same_seed_gives_identical_rows_other_seed_differs)
{
    enum { ROWS = 16 };
    static float in[ROWS * D], a[ROWS * D], b[ROWS * D], c[ROWS * D];
    for (int k = 0; k < ROWS * D; k++) {
        in[k] = 1.0f + (float)(k % 97);
    }
    AugmentSpec spec = {4, 1};
    gsl_rng *r1 = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng *r2 = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng *r3 = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r1, 11);
    gsl_rng_set(r2, 11);
    gsl_rng_set(r3, 12);
    augment_rows(&spec, r1, ROWS, C, H, W, in, a);
    augment_rows(&spec, r2, ROWS, C, H, W, in, b);
    augment_rows(&spec, r3, ROWS, C, H, W, in, c);
    cr_assert_arr_eq(a, b, sizeof a);
    cr_assert(memcmp(a, c, sizeof a) != 0, "seeds 11 and 12 agree on all "
              "16 rows (probability (1/162)^16 if independent)");
    gsl_rng_free(r1);
    gsl_rng_free(r2);
    gsl_rng_free(r3);
}

Test(augment, keyed_transform_depends_on_key_and_index_not_row_order)
{
    enum { ROWS = 6 };
    static float in[ROWS * D], fwd[ROWS * D], rev[ROWS * D];
    for (int k = 0; k < ROWS * D; k++) {
        in[k] = 1.0f + (float)k;
    }
    AugmentSpec spec = {4, 1};
    size_t idx[ROWS] = {10, 20, 30, 40, 50, 60};
    size_t idx_rev[ROWS];
    static float in_rev[ROWS * D];
    for (int i = 0; i < ROWS; i++) {
        idx_rev[i] = idx[ROWS - 1 - i];
        memcpy(in_rev + i * D, in + (ROWS - 1 - i) * D, sizeof(float) * D);
    }
    augment_rows_keyed(&spec, 0x1234, idx, ROWS, C, H, W, in, fwd);
    augment_rows_keyed(&spec, 0x1234, idx_rev, ROWS, C, H, W, in_rev,
                       rev);
    for (int i = 0; i < ROWS; i++) {
        cr_assert_arr_eq(fwd + i * D, rev + (ROWS - 1 - i) * D,
                         sizeof(float) * D, "row of index %zu", idx[i]);
    }
    AugmentDraw a = augment_draw_keyed(&spec, 0x1234, 10);
    AugmentDraw b = augment_draw_keyed(&spec, 0x1234, 10);
    cr_assert(a.oy == b.oy && a.ox == b.ox && a.flip == b.flip);
}

/* Count offsets and flips over n draws and check each bin against its
 * binomial expectation with a z threshold of 5. */
static void check_uniform(const int *oy_count, const int *ox_count,
                          int flips, int n, int span, const char *what)
{
    double p = 1.0 / span;
    double sd = sqrt(n * p * (1 - p));
    for (int v = 0; v < span; v++) {
        cr_assert(fabs(oy_count[v] - n * p) < 5 * sd, "%s: oy %d drawn %d "
                  "times (expected %.0f +- %.0f)", what, v, oy_count[v],
                  n * p, sd);
        cr_assert(fabs(ox_count[v] - n * p) < 5 * sd, "%s: ox %d drawn %d "
                  "times (expected %.0f +- %.0f)", what, v, ox_count[v],
                  n * p, sd);
    }
    double fsd = sqrt(n * 0.25);
    cr_assert(fabs(flips - n * 0.5) < 5 * fsd, "%s: %d flips in %d",
              what, flips, n);
}

Test(augment, draws_are_uniform_over_offsets_and_fair_in_flip)
{
    enum { N = 18000, SPAN = 9 };
    AugmentSpec spec = {4, 1};
    int oy[2][SPAN] = {{0}}, ox[2][SPAN] = {{0}}, flips[2] = {0, 0};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5);
    for (size_t i = 0; i < N; i++) {
        AugmentDraw d[2] = {augment_draw(&spec, rng),
                            augment_draw_keyed(&spec, 0xabcdef, i)};
        for (int k = 0; k < 2; k++) {
            cr_assert(d[k].oy >= 0 && d[k].oy < SPAN && d[k].ox >= 0 &&
                      d[k].ox < SPAN && (d[k].flip | 1) == 1);
            oy[k][d[k].oy]++;
            ox[k][d[k].ox]++;
            flips[k] += d[k].flip;
        }
    }
    check_uniform(oy[0], ox[0], flips[0], N, SPAN, "rng draws");
    check_uniform(oy[1], ox[1], flips[1], N, SPAN, "keyed draws");
    gsl_rng_free(rng);
}

Test(augment, check_rejects_padding_as_large_as_the_image)
{
    IsbError err;
    AugmentSpec ok = {4, 1}, tall = {28, 0}, flat = {4, 0}, neg = {-1, 0};
    isb_error_clear(&err);
    cr_assert_eq(augment_check(&ok, 1, 28, 28, &err), 0);
    cr_assert_eq(augment_check(&tall, 1, 28, 28, &err), ISB_EINVAL);
    cr_assert_not_null(strstr(err.msg, "padding 28 on 1 x 28 x 28"), "%s",
                       err.msg);
    cr_assert_eq(augment_check(&flat, 1, 1, 20, &err), ISB_EINVAL);
    cr_assert_eq(augment_check(&neg, 3, 32, 32, &err), ISB_EINVAL);
}

/* ---- runner: evaluation is not augmented ------------------------------ */

static void flip_config(Config *cfg, int flip)
{
    IsbError err;
    char set_flip[32];
    config_defaults(cfg);
    strcpy(cfg->name, "aug");
    snprintf(set_flip, sizeof set_flip, "data.augment_flip=%d", flip);
    const char *sets[] = {"experiment.dataset=synthetic",
                          "synthetic.n_train=400", "synthetic.n_test=200",
                          "network.layers=dense 16, relu, dense 4",
                          "training.batch=32", "training.epochs=0",
                          "training.steps=20",
                          "training.optimizer=adam", "training.lr=0.01",
                          "evaluation.every=10", set_flip};
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
        cr_assert_eq(config_set(cfg, sets[i], &err), 0, "%s", err.msg);
    }
}

/* Read column `name` of data row `row` (0-based) of a CSV file. */
static double csv_value(const char *path, const char *name, int row)
{
    char line[4096];
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    cr_assert_not_null(fgets(line, sizeof line, f));
    int col = 0, want = -1;
    for (char *t = strtok(line, ",\n"); t != NULL; t = strtok(NULL, ",\n")) {
        if (strcmp(t, name) == 0) {
            want = col;
        }
        col++;
    }
    cr_assert_geq(want, 0, "%s: no column %s", path, name);
    for (int r = 0; r <= row; r++) {
        cr_assert_not_null(fgets(line, sizeof line, f), "%s row %d", path,
                           row);
    }
    fclose(f);
    char *p = line;
    for (int c = 0; c < want; c++) {
        p = strchr(p, ',');
        cr_assert_not_null(p);
        p++;
    }
    return strtod(p, NULL);
}

static void run_flip(int flip, const char *out)
{
    Config cfg;
    const IsbSamplerType *t;
    double params[REGISTRY_MAX_PARAMS];
    IsbError err;
    RunSummary sum;
    flip_config(&cfg, flip);
    cr_assert_eq(registry_find("uniform", &t, &err), 0, "%s", err.msg);
    cr_assert_eq(registry_resolve_params(t, &cfg, params, &err), 0);
    RunOptions opt = {.cfg = &cfg, .method = t, .method_params = params,
                      .seed = 3, .out_dir = out};
    cr_assert_eq(runner_run(&opt, &sum, &err), 0, "%s", err.msg);
    cr_assert_eq(sum.status, RUN_DONE);
}

Test(augment, runner_evaluates_without_augmentation)
{
    char dir[] = "/tmp/isb-aug-XXXXXX";
    char on_dir[64], off_dir[64], on[80], off[80], cmd[96];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(on_dir, sizeof on_dir, "%s/on", dir);
    snprintf(off_dir, sizeof off_dir, "%s/off", dir);
    snprintf(on, sizeof on, "%s/evals.csv", on_dir);
    snprintf(off, sizeof off, "%s/evals.csv", off_dir);
    run_flip(1, on_dir);
    run_flip(0, off_dir);

    /* Step 0: same initial network, so evaluation must agree exactly if
     * it is not augmented (a flipped synthetic vector scores
     * differently). */
    const char *cols[] = {"train_loss", "test_loss"};
    for (int i = 0; i < 2; i++) {
        double a = csv_value(on, cols[i], 0);
        double b = csv_value(off, cols[i], 0);
        cr_assert_eq(a, b, "%s at step 0: %.17g with flips, %.17g without",
                     cols[i], a, b);
    }
    /* After training the runs differ: the training batches were
     * augmented. */
    double a = csv_value(on, "train_loss", 2);
    double b = csv_value(off, "train_loss", 2);
    cr_assert_neq(a, b, "training with flips changed nothing");

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
