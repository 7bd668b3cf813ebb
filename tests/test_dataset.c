/*
 * test_dataset.c - dataset_free, dataset_batch, the data folder and named
 * loading. Tests on the real MNIST / Fashion-MNIST files skip when
 * datasets/fetch has not been run.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "datasets/dataset.h"

Test(dataset, free_zeroes_and_is_safe_twice)
{
    Dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = 2;
    ds.labels = malloc(2 * sizeof *ds.labels);
    ds.f32 = malloc(2 * sizeof *ds.f32);
    cr_assert(ds.labels != NULL && ds.f32 != NULL);

    dataset_free(&ds);
    cr_assert_eq(ds.n, 0);
    cr_assert_null(ds.labels);
    cr_assert_null(ds.f32);
    cr_assert_null(ds.u8);
    dataset_free(&ds);
}

Test(dataset, batch_normalises_each_channel_of_u8_rows)
{
    /* 3 examples of 2 channels x 1 x 2 pixels, [n][c][h][w]. */
    uint8_t pixels[3 * 4] = {0, 255, 51, 102, 10, 20, 30, 40,
                             255, 0, 204, 153};
    int labels[3] = {1, 0, 2};
    Dataset ds = {.n = 3, .c = 2, .h = 1, .w = 2, .d = 4, .n_classes = 3,
                  .u8 = pixels, .labels = labels,
                  .mean = {0.5f, 0.25f}, .std = {0.5f, 2.0f}};
    size_t idx[2] = {2, 0};
    float x[2 * 4];
    int y[2];

    dataset_batch(&ds, idx, 2, x, y);
    cr_assert_eq(y[0], 2);
    cr_assert_eq(y[1], 1);
    for (size_t i = 0; i < 2; i++) {
        for (size_t k = 0; k < 4; k++) {
            int ch = (int)(k / 2);
            double v = pixels[idx[i] * 4 + k];
            double want = (v / 255.0 - ds.mean[ch]) / ds.std[ch];
            cr_assert_float_eq(x[i * 4 + k], want, 1e-6,
                               "row %zu feature %zu", i, k);
        }
    }
    /* Spot values: pixel 255 in channel 0 is (1 - 0.5) / 0.5 = 1. */
    cr_assert_float_eq(x[0], 1.0, 1e-6);
    cr_assert_float_eq(x[4], -1.0, 1e-6);
}

Test(dataset, batch_copies_f32_rows_unchanged)
{
    float feats[3 * 2] = {1.5f, -2.0f, 0.25f, 8.0f, -0.5f, 3.0f};
    int labels[3] = {0, 1, 1};
    Dataset ds = {.n = 3, .c = 1, .h = 1, .w = 2, .d = 2, .n_classes = 2,
                  .f32 = feats, .labels = labels,
                  .mean = {0.7f}, .std = {3.0f}};
    size_t idx[3] = {1, 1, 2};
    float x[3 * 2];
    int y[3];

    dataset_batch(&ds, idx, 3, x, y);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(y[i], labels[idx[i]]);
        cr_assert_eq(memcmp(x + 2 * i, feats + 2 * idx[i], 2 * sizeof *x),
                     0);
    }
}

Test(dataset, default_dir_follows_environment)
{
    cr_assert_eq(unsetenv("ISBENCH_DATA"), 0);
    cr_assert_str_eq(dataset_default_dir(), "datasets/cache");
    cr_assert_eq(setenv("ISBENCH_DATA", "/data/isb", 1), 0);
    cr_assert_str_eq(dataset_default_dir(), "/data/isb");
    cr_assert_eq(setenv("ISBENCH_DATA", "", 1), 0);
    cr_assert_str_eq(dataset_default_dir(), "datasets/cache");
}

Test(dataset, load_named_rejects_unknown_dataset)
{
    Dataset ds;
    IsbError err;
    isb_error_clear(&err);
    int rc = dataset_load_named("cifar100", "train", "/nonexistent", &ds,
                                &err);
    cr_assert_eq(rc, ISB_EINVAL);
    cr_assert_not_null(strstr(err.msg, "cifar100"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "mnist"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "fashion-mnist"), "%s", err.msg);
}

Test(dataset, load_named_rejects_unknown_split)
{
    Dataset ds;
    IsbError err;
    isb_error_clear(&err);
    int rc = dataset_load_named("mnist", "valid", "/nonexistent", &ds, &err);
    cr_assert_eq(rc, ISB_EINVAL);
    cr_assert_not_null(strstr(err.msg, "valid"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "train or test"), "%s", err.msg);
}

Test(dataset, load_named_missing_files_hint_at_fetch)
{
    char dir[] = "/tmp/isb-named-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    Dataset ds;
    IsbError err;
    isb_error_clear(&err);

    int rc = dataset_load_named("mnist", "test", dir, &ds, &err);
    cr_assert_eq(rc, ISB_EIO);
    cr_assert_not_null(strstr(err.msg, "mnist/t10k-images-idx3-ubyte"),
                       "%s", err.msg);
    cr_assert_not_null(strstr(err.hint, "run: datasets/fetch mnist"), "%s",
                       err.hint);
    rmdir(dir);
}

Test(dataset, load_named_default_dir_hint_is_plain_fetch)
{
    char dir[] = "/tmp/isb-named-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(setenv("ISBENCH_DATA", dir, 1), 0);
    Dataset ds;
    IsbError err;
    isb_error_clear(&err);

    int rc = dataset_load_named("mnist", "train", NULL, &ds, &err);
    cr_assert_eq(rc, ISB_EIO);
    cr_assert_not_null(strstr(err.msg, dir), "%s", err.msg);
    cr_assert_str_eq(err.hint, "run: datasets/fetch mnist");
    rmdir(dir);
}

Test(dataset, load_named_missing_fashion_mnist_hints_at_fetch)
{
    if (access("/usr/share/datasets/fashion-mnist", F_OK) == 0) {
        cr_skip("the dataset-fashion-mnist package is installed");
    }
    char dir[] = "/tmp/isb-named-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    Dataset ds;
    IsbError err;
    isb_error_clear(&err);

    int rc = dataset_load_named("fashion-mnist", "train", dir, &ds, &err);
    cr_assert_eq(rc, ISB_EIO);
    cr_assert_not_null(strstr(err.msg, "train-images-idx3-ubyte.gz"), "%s",
                       err.msg);
    cr_assert_not_null(strstr(err.hint, "datasets/fetch fashion-mnist"),
                       "%s", err.hint);
    rmdir(dir);
}

/* Write a tiny valid IDX pair (2 images of 1 x 3) for one split. */
static void write_tiny_split(const char *folder, const char *stem, int gz)
{
    unsigned char img[16 + 6] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1,
                                 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
    unsigned char lab[8 + 2] = {0, 0, 8, 1, 0, 0, 0, 2, 7, 3};
    const unsigned char *data[2] = {img, lab};
    size_t len[2] = {sizeof img, sizeof lab};
    const char *kind[2] = {"images-idx3", "labels-idx1"};

    for (int f = 0; f < 2; f++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s-%s-ubyte%s", folder, stem,
                 kind[f], gz ? ".gz" : "");
        gzFile out = gzopen(path, gz ? "wb" : "wbT");
        cr_assert_not_null(out, "%s", path);
        cr_assert_eq(gzwrite(out, data[f], (unsigned)len[f]), (int)len[f]);
        cr_assert_eq(gzclose(out), Z_OK);
    }
}

Test(dataset, load_named_follows_the_fetch_layout)
{
    char dir[] = "/tmp/isb-named-XXXXXX";
    char mnist[64], fashion[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(mnist, sizeof mnist, "%s/mnist", dir);
    snprintf(fashion, sizeof fashion, "%s/fashion-mnist", dir);
    cr_assert_eq(mkdir(mnist, 0755), 0);
    cr_assert_eq(mkdir(fashion, 0755), 0);
    write_tiny_split(mnist, "train", 0);
    write_tiny_split(fashion, "t10k", 1);

    Dataset a, b;
    IsbError err;
    isb_error_clear(&err);
    cr_assert_eq(dataset_load_named("mnist", "train", dir, &a, &err), 0,
                 "%s", err.msg);
    cr_assert_eq(dataset_load_named("fashion-mnist", "test", dir, &b, &err),
                 0, "%s", err.msg);
    cr_assert_str_eq(a.name, "mnist/train");
    cr_assert_str_eq(b.name, "fashion-mnist/test");
    cr_assert(a.n == 2 && a.h == 1 && a.w == 3 && a.n_classes == 10);
    cr_assert(a.labels[0] == 7 && a.labels[1] == 3);
    cr_assert_eq(memcmp(a.u8, b.u8, 6), 0);
    dataset_free(&a);
    dataset_free(&b);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* The folder the real files are in, or NULL (then the test skips). */
static const char *real_data_dir(const char *dataset, const char *probe)
{
    static char dir[1024];
    char path[1200];
    const char *env = getenv("ISBENCH_DATA");
    snprintf(dir, sizeof dir, "%s", env && env[0] ? env
             : ISB_SOURCE_DIR "/datasets/cache");
    snprintf(path, sizeof path, "%s/%s/%s", dir, dataset, probe);
    return access(path, R_OK) == 0 ? dir : NULL;
}

/* Load one real split and check its size, the class balance, and the
 * pixel mean and standard deviation against the published values. */
static void check_real_split(const char *dataset, const char *split,
                             size_t n, double mean, double sd)
{
    Dataset ds;
    IsbError err;
    isb_error_clear(&err);
    const char *dir = real_data_dir(dataset, strcmp(dataset, "mnist") == 0
                                    ? "t10k-labels-idx1-ubyte"
                                    : "t10k-labels-idx1-ubyte.gz");
    if (dir == NULL && strcmp(dataset, "fashion-mnist") == 0
        && access("/usr/share/datasets/fashion-mnist/"
                  "t10k-labels-idx1-ubyte.gz", R_OK) == 0) {
        dir = "/nonexistent"; /* the loader falls back to the package */
    }
    if (dir == NULL) {
        cr_skip("%s not fetched (run: datasets/fetch %s)", dataset,
                dataset);
    }
    int rc = dataset_load_named(dataset, split, dir, &ds, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_assert_eq(ds.n, n);
    cr_assert(ds.c == 1 && ds.h == 28 && ds.w == 28 && ds.d == 784);

    size_t count[10] = {0};
    double sum = 0.0, sum2 = 0.0;
    for (size_t i = 0; i < ds.n; i++) {
        count[ds.labels[i]]++;
    }
    for (size_t k = 0; k < ds.n * ds.d; k++) {
        double v = ds.u8[k] / 255.0;
        sum += v;
        sum2 += v * v;
    }
    for (int c = 0; c < 10; c++) {
        cr_assert_gt(count[c], n / 20, "class %d has %zu examples", c,
                     count[c]);
    }
    double m = sum / (double)(ds.n * ds.d);
    double s = sqrt(sum2 / (double)(ds.n * ds.d) - m * m);
    cr_assert_float_eq(m, mean, 1e-3, "pixel mean %f", m);
    cr_assert_float_eq(s, sd, 1e-3, "pixel sd %f", s);
    dataset_free(&ds);
}

Test(dataset, real_mnist_train_matches_known_statistics)
{
    /* The widely used MNIST normalisation constants, 0.1307 / 0.3081. */
    check_real_split("mnist", "train", 60000, 0.1307, 0.3081);
}

Test(dataset, real_mnist_test_has_ten_thousand_images)
{
    check_real_split("mnist", "test", 10000, 0.1325, 0.3105);
}

Test(dataset, real_fashion_mnist_test_has_ten_thousand_images)
{
    check_real_split("fashion-mnist", "test", 10000, 0.2868, 0.3524);
}

Test(dataset, real_fashion_mnist_train_matches_known_statistics)
{
    /* Fashion-MNIST training pixels: mean 0.2860, sd 0.3530. */
    check_real_split("fashion-mnist", "train", 60000, 0.2860, 0.3530);
}
