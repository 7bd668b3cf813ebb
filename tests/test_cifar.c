/*
 * test_cifar.c - the CIFAR-10 binary loader on generated files (small
 * ones through the per-file count, official-size ones through the named
 * loader and datasets/fetch --from), its errors, and per-channel
 * statistics. No test needs the real CIFAR-10 files.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets/dataset.h"
#include "harness/config.h"
#include "harness/runner.h"

#define PIX (CIFAR_CHANNELS * CIFAR_SIDE * CIFAR_SIDE)

static const char *batch_names[6] = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
    "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};

/* The generated content: file f (0..5), record i, pixel byte k. */
static uint8_t gen_pixel(int f, size_t i, size_t k)
{
    return (uint8_t)((i * 7 + k * 13 + (size_t)f * 31) & 0xff);
}

static int gen_label(int f, size_t i)
{
    return (int)((i + (size_t)f * 3) % 10);
}

/* Write n records of file f into folder/batch_names[f]. */
static void write_batch(const char *folder, int f, size_t n)
{
    char path[512];
    uint8_t rec[CIFAR_RECORD_BYTES];
    snprintf(path, sizeof path, "%s/%s", folder, batch_names[f]);
    FILE *out = fopen(path, "wb");
    cr_assert_not_null(out, "%s", path);
    for (size_t i = 0; i < n; i++) {
        rec[0] = (uint8_t)gen_label(f, i);
        for (size_t k = 0; k < PIX; k++) {
            rec[1 + k] = gen_pixel(f, i, k);
        }
        cr_assert_eq(fwrite(rec, 1, sizeof rec, out), sizeof rec);
    }
    cr_assert_eq(fclose(out), 0);
}

static void make_folder(char *dir, size_t per_file)
{
    cr_assert_not_null(mkdtemp(dir));
    for (int f = 0; f < 6; f++) {
        write_batch(dir, f, per_file);
    }
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Overwrite byte `offset` of folder/name with v. */
static void poke(const char *folder, const char *name, long offset,
                 uint8_t v)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fseek(f, offset, SEEK_SET), 0);
    cr_assert_eq(fputc(v, f), v);
    cr_assert_eq(fclose(f), 0);
}

static void set_size(const char *folder, const char *name, long size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    cr_assert_eq(truncate(path, size), 0, "%s", path);
}

static void assert_has(const char *text, const char *part)
{
    cr_assert_not_null(strstr(text, part), "'%s' lacks '%s'", text, part);
}

Test(cifar, train_and_test_load_every_pixel_and_label_in_order)
{
    char dir[] = "/tmp/isb-cifar-XXXXXX";
    make_folder(dir, 3);
    Dataset train, test;
    IsbError err;
    isb_error_clear(&err);
    cr_assert_eq(dataset_load_cifar(dir, "train", 3, "c/train", &train,
                                    &err), 0, "%s", err.msg);
    cr_assert_eq(dataset_load_cifar(dir, "test", 3, "c/test", &test, &err),
                 0, "%s", err.msg);

    cr_assert_eq(train.n, 15);
    cr_assert_eq(test.n, 3);
    cr_assert(train.c == 3 && train.h == 32 && train.w == 32 &&
              train.d == 3072 && train.n_classes == 10);
    cr_assert(train.u8 != NULL && train.f32 == NULL);
    cr_assert_str_eq(train.name, "c/train");
    for (int ch = 0; ch < 3; ch++) {
        cr_assert(train.mean[ch] == 0.0f && train.std[ch] == 1.0f);
    }
    for (size_t row = 0; row < 15; row++) {
        int f = (int)(row / 3);
        size_t i = row % 3;
        cr_assert_eq(train.labels[row], gen_label(f, i), "row %zu", row);
        for (size_t k = 0; k < PIX; k++) {
            cr_assert_eq(train.u8[row * PIX + k], gen_pixel(f, i, k),
                         "row %zu byte %zu", row, k);
        }
    }
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(test.labels[i], gen_label(5, i));
        cr_assert_eq(test.u8[i * PIX + 3071], gen_pixel(5, i, 3071));
    }
    /* NCHW: green (channel 1), row 2, column 5 is byte 1024 + 2*32 + 5. */
    uint8_t green = train.u8[4 * PIX + 1 * 1024 + 2 * 32 + 5];
    cr_assert_eq(green, gen_pixel(1, 1, 1024 + 69));

    dataset_free(&train);
    dataset_free(&test);
    remove_tree(dir);
}

Test(cifar, truncated_file_error_names_the_file_and_both_sizes)
{
    char dir[] = "/tmp/isb-cifar-XXXXXX";
    make_folder(dir, 3);
    set_size(dir, "data_batch_3.bin", 3 * 3073 - 100);
    Dataset ds;
    IsbError err;
    memset(&ds, 0x5a, sizeof ds);
    Dataset before = ds;
    cr_assert_eq(dataset_load_cifar(dir, "train", 3, "t", &ds, &err),
                 ISB_EFORMAT);
    assert_has(err.msg, "data_batch_3.bin");
    assert_has(err.msg, "9119 bytes");
    assert_has(err.msg, "expected 9219 bytes");
    cr_assert_eq(memcmp(&ds, &before, sizeof ds), 0, "out was touched");
    remove_tree(dir);
}

Test(cifar, wrong_record_count_names_the_file_and_both_counts)
{
    char dir[] = "/tmp/isb-cifar-XXXXXX";
    make_folder(dir, 3);
    write_batch(dir, 1, 4);
    Dataset ds;
    IsbError err;
    cr_assert_eq(dataset_load_cifar(dir, "train", 3, "t", &ds, &err),
                 ISB_EFORMAT);
    assert_has(err.msg, "data_batch_2.bin");
    assert_has(err.msg, "4 records");
    assert_has(err.msg, "expected 3 records");
    remove_tree(dir);
}

Test(cifar, label_ten_names_the_file_record_and_range)
{
    char dir[] = "/tmp/isb-cifar-XXXXXX";
    make_folder(dir, 3);
    poke(dir, "test_batch.bin", 1 * 3073, 10);
    Dataset ds;
    IsbError err;
    cr_assert_eq(dataset_load_cifar(dir, "test", 3, "t", &ds, &err),
                 ISB_EFORMAT);
    assert_has(err.msg, "test_batch.bin");
    assert_has(err.msg, "record 1: label 10 (expected 0..9)");
    remove_tree(dir);
}

Test(cifar, missing_batch_file_is_an_io_error_naming_it)
{
    char dir[] = "/tmp/isb-cifar-XXXXXX";
    char path[128];
    make_folder(dir, 3);
    snprintf(path, sizeof path, "%s/data_batch_5.bin", dir);
    cr_assert_eq(unlink(path), 0);
    Dataset ds;
    IsbError err;
    cr_assert_eq(dataset_load_cifar(dir, "train", 3, "t", &ds, &err),
                 ISB_EIO);
    assert_has(err.msg, "data_batch_5.bin");
    cr_assert_eq(dataset_load_cifar(dir, "valid", 3, "t", &ds, &err),
                 ISB_EINVAL);
    assert_has(err.msg, "'valid'");
    remove_tree(dir);
}

Test(cifar, named_loader_reads_the_tarball_layout_with_official_counts)
{
    char dir[] = "/tmp/isb-cifar-XXXXXX";
    char folder[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(folder, sizeof folder, "%s/cifar10", dir);
    cr_assert_eq(mkdir(folder, 0755), 0);
    strcat(folder, "/cifar-10-batches-bin");
    cr_assert_eq(mkdir(folder, 0755), 0);
    write_batch(folder, 5, CIFAR_RECORDS_PER_FILE);

    Dataset ds;
    IsbError err;
    isb_error_clear(&err);
    cr_assert_eq(dataset_load_named("cifar10", "test", dir, &ds, &err), 0,
                 "%s", err.msg);
    cr_assert_eq(ds.n, 10000);
    cr_assert_str_eq(ds.name, "cifar10/test");
    cr_assert_eq(ds.labels[9999], gen_label(5, 9999));
    dataset_free(&ds);

    /* The official count is enforced; the training files are missing. */
    set_size(folder, "test_batch.bin", 9999L * 3073);
    cr_assert_eq(dataset_load_named("cifar10", "test", dir, &ds, &err),
                 ISB_EFORMAT);
    assert_has(err.msg, "9999 records");
    assert_has(err.msg, "expected 10000 records, 30730000 bytes");
    cr_assert_eq(dataset_load_named("cifar10", "train", dir, &ds, &err),
                 ISB_EIO);
    assert_has(err.msg, "data_batch_1.bin");
    assert_has(err.hint, "datasets/fetch cifar10");
    assert_has(err.hint, "--from");
    remove_tree(dir);
}

Test(cifar, channel_stats_of_a_known_set)
{
    /* 2 examples, 2 channels of 1 x 2: channel 0 is {0, 255, 0, 255}
     * (mean 0.5, sd 0.5), channel 1 {51, 51, 102, 102} (mean 0.3,
     * sd 0.1), in [0, 1] units. */
    uint8_t pixels[8] = {0, 255, 51, 51, 0, 255, 102, 102};
    int labels[2] = {0, 1};
    Dataset ds = {.name = "known", .n = 2, .c = 2, .h = 1, .w = 2, .d = 4,
                  .n_classes = 2, .u8 = pixels, .labels = labels};
    float mean[2], sd[2];
    IsbError err;
    isb_error_clear(&err);
    cr_assert_eq(dataset_channel_stats(&ds, mean, sd, &err), 0, "%s",
                 err.msg);
    cr_assert_float_eq(mean[0], 0.5f, 1e-6);
    cr_assert_float_eq(sd[0], 0.5f, 1e-6);
    cr_assert_float_eq(mean[1], 0.3f, 1e-6);
    cr_assert_float_eq(sd[1], 0.1f, 1e-6);

    pixels[0] = pixels[4] = 255;
    pixels[1] = pixels[5] = 255;
    cr_assert_eq(dataset_channel_stats(&ds, mean, sd, &err), ISB_EINVAL);
    assert_has(err.msg, "channel 0");

    float feats[4] = {0, 1, 2, 3};
    Dataset fl = {.name = "floats", .n = 1, .c = 1, .h = 1, .w = 4, .d = 4,
                  .n_classes = 2, .f32 = feats, .labels = labels};
    cr_assert_eq(dataset_channel_stats(&fl, mean, sd, &err), ISB_EINVAL);
    assert_has(err.msg, "floats");
}

Test(cifar, normalised_training_batches_have_zero_mean_unit_sd)
{
    char dir[] = "/tmp/isb-cifar-XXXXXX";
    make_folder(dir, 4);
    Dataset ds;
    IsbError err;
    isb_error_clear(&err);
    cr_assert_eq(dataset_load_cifar(dir, "train", 4, "t", &ds, &err), 0);
    float mean[3], sd[3];
    cr_assert_eq(dataset_channel_stats(&ds, mean, sd, &err), 0, "%s",
                 err.msg);
    dataset_set_normalization(&ds, mean, sd);

    size_t idx[20];
    for (size_t i = 0; i < 20; i++) {
        idx[i] = i;
    }
    float *x = malloc(20 * PIX * sizeof *x);
    int y[20];
    cr_assert_not_null(x);
    dataset_batch(&ds, idx, 20, x, y);
    for (int ch = 0; ch < 3; ch++) {
        double s = 0, s2 = 0, n = 20.0 * 1024;
        for (size_t i = 0; i < 20; i++) {
            for (size_t p = 0; p < 1024; p++) {
                double v = x[i * PIX + (size_t)ch * 1024 + p];
                s += v;
                s2 += v * v;
            }
        }
        cr_assert_float_eq(s / n, 0.0, 1e-5, "channel %d mean", ch);
        cr_assert_float_eq(s2 / n - (s / n) * (s / n), 1.0, 1e-4,
                           "channel %d variance", ch);
    }
    free(x);
    dataset_free(&ds);
    remove_tree(dir);
}

Test(cifar, channel_normalisation_of_float_features_is_a_config_error)
{
    Config cfg;
    IsbError err;
    Dataset train, test;
    config_defaults(&cfg);
    cr_assert_eq(config_set(&cfg, "data.normalize=channel", &err), 0);
    isb_error_clear(&err);
    cr_assert_eq(runner_load_data(&cfg, 1, &train, &test, &err),
                 ISB_EINVAL);
    assert_has(err.msg, "synthetic");
    assert_has(err.hint, "data.normalize");
    cr_assert_eq(config_set(&cfg, "data.normalize=batch", &err), 0);
    cr_assert_eq(config_validate(&cfg, &err), ISB_ECONFIG);
    assert_has(err.msg, "'batch' (expected none or channel)");
}

/* ---- datasets/fetch cifar10 --from ------------------------------------ */

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* A tarball in the official layout at work/cifar-10-binary.tar.gz. */
static void make_tarball(const char *work)
{
    char folder[256];
    snprintf(folder, sizeof folder, "%s/cifar-10-batches-bin", work);
    cr_assert_eq(mkdir(folder, 0755), 0);
    for (int f = 0; f < 6; f++) {
        write_batch(folder, f, CIFAR_RECORDS_PER_FILE);
    }
    cr_assert_eq(sh("printf 'airplane\\n' > '%s/batches.meta.txt'%s",
                    folder, ""), 0);
    cr_assert_eq(sh("cd '%s' && tar -czf cifar-10-binary.tar.gz "
                    "cifar-10-batches-bin && rm -rf cifar-10-batches-bin%s",
                    work, ""), 0);
}

Test(cifar, fetch_from_tarball_verifies_md5_installs_and_checks,
     .timeout = 120)
{
    char work[] = "/tmp/isb-fetch-XXXXXX";
    char tool[300], data[300], tar[300], path[400];
    cr_assert_not_null(mkdtemp(work));
    make_tarball(work);
    snprintf(tar, sizeof tar, "%s/cifar-10-binary.tar.gz", work);
    snprintf(data, sizeof data, "%s/data", work);

    /* The real script refuses it: the md5 is not the official one, and
     * nothing is installed. */
    cr_assert_eq(sh(ISB_SOURCE_DIR "/datasets/fetch cifar10 --dir '%s' "
                    "--from '%s' 2>/dev/null", data, tar), 1);
    snprintf(path, sizeof path, "%s/cifar10", data);
    cr_assert_neq(access(path, F_OK), 0, "%s exists after a bad md5", path);
    cr_assert_eq(sh(ISB_SOURCE_DIR "/datasets/fetch --check cifar10 "
                    "--dir '%s'%s", data, ""), 1);

    /* A copy of the script whose checksum file names this tarball's md5
     * accepts it and installs the layout the loader reads. */
    snprintf(tool, sizeof tool, "%s/tool", work);
    cr_assert_eq(sh("mkdir -p '%s' && cp " ISB_SOURCE_DIR "/datasets/fetch "
                    "'%s'", tool, tool), 0);
    cr_assert_eq(sh("sed \"s/^c32a1d4ab5d03f1284b67883e8d87530 /"
                    "$(md5sum '%s' | cut -c1-32) /\" " ISB_SOURCE_DIR
                    "/datasets/checksums.sha256 > '%s/checksums.sha256'",
                    tar, tool), 0);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s/fetch' cifar10 --dir '%s' --from '%s' "
             "2>/dev/null >/dev/null", tool, data, tar);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(sh("'%s/fetch' --check cifar10 --dir '%s'", tool, data),
                 0);

    Dataset ds;
    IsbError err;
    isb_error_clear(&err);
    cr_assert_eq(dataset_load_named("cifar10", "test", data, &ds, &err), 0,
                 "%s", err.msg);
    cr_assert_eq(ds.n, 10000);
    cr_assert_eq(ds.u8[5 * PIX + 7], gen_pixel(5, 5, 7));
    dataset_free(&ds);

    /* A changed byte fails the check. */
    snprintf(path, sizeof path, "%s/cifar10/cifar-10-batches-bin", data);
    /* Byte 12345 of data_batch_4.bin is record 4, pixel 52. */
    poke(path, "data_batch_4.bin", 12345, 0xff ^ gen_pixel(3, 4, 52));
    cr_assert_eq(sh("'%s/fetch' --check cifar10 --dir '%s'", tool, data),
                 1);
    remove_tree(work);
}
