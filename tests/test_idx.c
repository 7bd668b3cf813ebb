/*
 * test_idx.c - dataset_load_idx on small IDX files written by the test,
 * raw and gzip'd: good files load exactly, and each kind of bad file is
 * refused with a message naming the file, the value found and the value
 * expected, leaving the output untouched.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "datasets/dataset.h"

/* The good fixture: N images of H x W pixels and their labels. */
#define N 3
#define H 2
#define W 4
#define IMAGES_LEN (16 + N * H * W)
#define LABELS_LEN (8 + N)

static const int good_labels[N] = {0, 9, 4};

typedef struct Bytes {
    unsigned char data[256];
    size_t len;
} Bytes;

typedef struct Fixture {
    char dir[64];
    char images[128];
    char labels[128];
} Fixture;

static void put_u32(Bytes *b, uint32_t v)
{
    b->data[b->len++] = (unsigned char)(v >> 24);
    b->data[b->len++] = (unsigned char)(v >> 16);
    b->data[b->len++] = (unsigned char)(v >> 8);
    b->data[b->len++] = (unsigned char)v;
}

static unsigned char good_pixel(size_t i, size_t k)
{
    return (unsigned char)((i * H * W + k) * 37 % 256);
}

/* An image file with the given magic and dimensions, holding the good
 * pixels (as many as fit in N x H x W). */
static Bytes image_bytes(uint32_t magic, uint32_t n, uint32_t h, uint32_t w)
{
    Bytes b = {.len = 0};
    put_u32(&b, magic);
    put_u32(&b, n);
    put_u32(&b, h);
    put_u32(&b, w);
    for (size_t i = 0; i < N; i++) {
        for (size_t k = 0; k < H * W; k++) {
            b.data[b.len++] = good_pixel(i, k);
        }
    }
    return b;
}

static Bytes label_bytes(uint32_t magic, uint32_t n)
{
    Bytes b = {.len = 0};
    put_u32(&b, magic);
    put_u32(&b, n);
    for (size_t i = 0; i < N; i++) {
        b.data[b.len++] = (unsigned char)good_labels[i];
    }
    return b;
}

static void write_bytes(const char *path, const Bytes *b, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        cr_assert_not_null(f, "gzopen %s", path);
        cr_assert_eq(gzwrite(f, b->data, (unsigned)b->len), (int)b->len);
        cr_assert_eq(gzclose(f), Z_OK);
        return;
    }
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "fopen %s", path);
    cr_assert_eq(fwrite(b->data, 1, b->len, f), b->len);
    cr_assert_eq(fclose(f), 0);
}

static Fixture fixture_make(void)
{
    Fixture fx;
    snprintf(fx.dir, sizeof fx.dir, "/tmp/isb-idx-XXXXXX");
    cr_assert_not_null(mkdtemp(fx.dir));
    snprintf(fx.images, sizeof fx.images, "%s/train-images-idx3-ubyte",
             fx.dir);
    snprintf(fx.labels, sizeof fx.labels, "%s/train-labels-idx1-ubyte",
             fx.dir);
    return fx;
}

/* Write the given files (NULL: the good one) and load them. */
static void fixture_write(const Fixture *fx, const Bytes *images,
                          const Bytes *labels, int gz)
{
    Bytes gi = image_bytes(0x00000803u, N, H, W);
    Bytes gl = label_bytes(0x00000801u, N);
    write_bytes(fx->images, images ? images : &gi, gz);
    write_bytes(fx->labels, labels ? labels : &gl, gz);
}

static void fixture_remove(const Fixture *fx)
{
    unlink(fx->images);
    unlink(fx->labels);
    rmdir(fx->dir);
}

/* Load the fixture and check that it fails with code, that the message
 * names bad_file and contains every further string (NULL-terminated),
 * and that the output Dataset was not written. */
static void expect_failure(const Fixture *fx, int n_classes, int code,
                           const char *bad_file, ...)
{
    Dataset out, before;
    IsbError err;
    memset(&out, 0xab, sizeof out);
    memcpy(&before, &out, sizeof out);
    isb_error_clear(&err);

    int rc = dataset_load_idx(fx->images, fx->labels, n_classes, "t", &out,
                              &err);
    cr_assert_eq(rc, code, "rc %d (expected %d): %s", rc, code, err.msg);
    cr_assert_eq(err.code, code);
    cr_assert_not_null(strstr(err.msg, bad_file),
                       "message does not name %s: %s", bad_file, err.msg);
    va_list ap;
    va_start(ap, bad_file);
    for (const char *s = va_arg(ap, const char *); s != NULL;
         s = va_arg(ap, const char *)) {
        cr_assert_not_null(strstr(err.msg, s), "message lacks '%s': %s", s,
                           err.msg);
    }
    va_end(ap);
    cr_assert_eq(memcmp(&out, &before, sizeof out), 0,
                 "out was modified on failure");
}

static void check_good_dataset(const Dataset *ds)
{
    cr_assert_eq(ds->n, N);
    cr_assert_eq(ds->c, 1);
    cr_assert_eq(ds->h, H);
    cr_assert_eq(ds->w, W);
    cr_assert_eq(ds->d, (size_t)(H * W));
    cr_assert_eq(ds->n_classes, 10);
    cr_assert_not_null(ds->u8);
    cr_assert_null(ds->f32);
    cr_assert_str_eq(ds->name, "tiny/train");
    for (size_t i = 0; i < N; i++) {
        cr_assert_eq(ds->labels[i], good_labels[i]);
        for (size_t k = 0; k < H * W; k++) {
            cr_assert_eq(ds->u8[i * H * W + k], good_pixel(i, k),
                         "pixel %zu of image %zu", k, i);
        }
    }
    for (int ch = 0; ch < DATASET_MAX_CHANNELS; ch++) {
        cr_assert_float_eq(ds->mean[ch], 0.0f, 0.0f);
        cr_assert_float_eq(ds->std[ch], 1.0f, 0.0f);
    }
}

static void load_good(int gz)
{
    Fixture fx = fixture_make();
    fixture_write(&fx, NULL, NULL, gz);

    Dataset ds;
    IsbError err;
    isb_error_clear(&err);
    int rc = dataset_load_idx(fx.images, fx.labels, 10, "tiny/train", &ds,
                              &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    check_good_dataset(&ds);
    dataset_free(&ds);
    fixture_remove(&fx);
}

Test(idx, loads_raw_files_exactly)
{
    load_good(0);
}

Test(idx, loads_gzip_files_exactly)
{
    load_good(1);
}

Test(idx, gzip_fixture_is_really_compressed)
{
    /* Guards the test above: it must exercise the gzip path. */
    Fixture fx = fixture_make();
    fixture_write(&fx, NULL, NULL, 1);
    unsigned char head[2] = {0, 0};
    FILE *f = fopen(fx.images, "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fread(head, 1, 2, f), 2u);
    fclose(f);
    cr_assert(head[0] == 0x1f && head[1] == 0x8b);
    fixture_remove(&fx);
}

Test(idx, rejects_bad_magic)
{
    Fixture fx = fixture_make();
    Bytes images = image_bytes(0x01000803u, N, H, W);
    fixture_write(&fx, &images, NULL, 0);
    expect_failure(&fx, 10, ISB_EFORMAT, "train-images-idx3-ubyte",
                   "bad magic 0x01000803", "expected 0x00000803", NULL);
    fixture_remove(&fx);
}

Test(idx, rejects_bad_element_type)
{
    Fixture fx = fixture_make();
    Bytes images = image_bytes(0x00000d03u, N, H, W);
    fixture_write(&fx, &images, NULL, 0);
    expect_failure(&fx, 10, ISB_EFORMAT, "train-images-idx3-ubyte",
                   "0x00000d03", "element type 0x0d", "expected 0x08", NULL);
    fixture_remove(&fx);
}

Test(idx, rejects_wrong_rank_of_images)
{
    Fixture fx = fixture_make();
    Bytes images = image_bytes(0x00000804u, N, H, W);
    fixture_write(&fx, &images, NULL, 0);
    expect_failure(&fx, 10, ISB_EFORMAT, "train-images-idx3-ubyte",
                   "bad magic 0x00000804 (expected 0x00000803)",
                   "ndim 4 (expected 3)", NULL);
    fixture_remove(&fx);
}

Test(idx, rejects_image_file_given_as_labels)
{
    Fixture fx = fixture_make();
    Bytes labels = image_bytes(0x00000803u, N, H, W);
    fixture_write(&fx, NULL, &labels, 0);
    expect_failure(&fx, 10, ISB_EFORMAT, "train-labels-idx1-ubyte",
                   "bad magic 0x00000803 (expected 0x00000801)",
                   "ndim 3 (expected 1)", NULL);
    fixture_remove(&fx);
}

Test(idx, rejects_zero_dimension)
{
    Fixture fx = fixture_make();
    Bytes images = image_bytes(0x00000803u, N, 0, W);
    fixture_write(&fx, &images, NULL, 0);
    expect_failure(&fx, 10, ISB_EFORMAT, "train-images-idx3-ubyte",
                   "rows is 0", "expected at least 1", NULL);
    fixture_remove(&fx);
}

Test(idx, rejects_zero_label_count)
{
    Fixture fx = fixture_make();
    Bytes labels = label_bytes(0x00000801u, 0);
    fixture_write(&fx, NULL, &labels, 0);
    expect_failure(&fx, 10, ISB_EFORMAT, "train-labels-idx1-ubyte",
                   "label count is 0", "expected at least 1", NULL);
    fixture_remove(&fx);
}

Test(idx, rejects_count_mismatch)
{
    Fixture fx = fixture_make();
    Bytes labels = label_bytes(0x00000801u, N - 1);
    labels.len--; /* keep the file length consistent with its header */
    fixture_write(&fx, NULL, &labels, 0);
    expect_failure(&fx, 10, ISB_EFORMAT, "train-labels-idx1-ubyte",
                   "2 labels", "expected 3", "train-images-idx3-ubyte",
                   NULL);
    fixture_remove(&fx);
}

Test(idx, rejects_label_out_of_range)
{
    Fixture fx = fixture_make();
    fixture_write(&fx, NULL, NULL, 0);
    /* good_labels holds a 9, which is out of range for 5 classes. */
    expect_failure(&fx, 5, ISB_EFORMAT, "train-labels-idx1-ubyte",
                   "label 9 at index 1", "expected 0 to 4", NULL);
    fixture_remove(&fx);
}

Test(idx, rejects_truncated_header)
{
    Fixture fx = fixture_make();
    Bytes images = image_bytes(0x00000803u, N, H, W);
    images.len = 10;
    fixture_write(&fx, &images, NULL, 0);
    expect_failure(&fx, 10, ISB_EFORMAT, "train-images-idx3-ubyte",
                   "length 10 bytes", "expected at least 16", NULL);
    fixture_remove(&fx);
}

Test(idx, rejects_missing_file)
{
    Fixture fx = fixture_make();
    fixture_write(&fx, NULL, NULL, 0);
    unlink(fx.labels);
    expect_failure(&fx, 10, ISB_EIO, "train-labels-idx1-ubyte",
                   "cannot open", "No such file", NULL);
    fixture_remove(&fx);
}

Test(idx, rejects_corrupt_gzip_stream)
{
    /* A gzip file cut in half: the data stops before the header says. */
    Fixture fx = fixture_make();
    fixture_write(&fx, NULL, NULL, 1);
    FILE *f = fopen(fx.images, "rb+");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    cr_assert_eq(truncate(fx.images, size / 2), 0);
    expect_failure(&fx, 10, ISB_EFORMAT, "train-images-idx3-ubyte", NULL);
    fixture_remove(&fx);
}

Test(idx, rejects_bad_n_classes)
{
    Fixture fx = fixture_make();
    fixture_write(&fx, NULL, NULL, 0);
    expect_failure(&fx, 0, ISB_EINVAL, "train-labels-idx1-ubyte",
                   "n_classes 0", "expected 1 to 256", NULL);
    fixture_remove(&fx);
}

/* Length checks, raw and gzip'd: the data is `delta` bytes off the length
 * the header implies (negative: truncated, positive: trailing bytes). */
typedef struct LengthCase {
    int gz;
    int delta;
    char found[48];
    char expected[48];
} LengthCase;

ParameterizedTestParameters(idx, rejects_wrong_data_length)
{
    static LengthCase cases[] = {
        {0, -1, "length 39 bytes", "expected 40"},
        {0, 5, "length 45 bytes", "expected 40"},
        {1, -1, "decompressed length 39 bytes", "expected 40"},
        {1, 5, "decompressed length 45 bytes", "expected 40"},
    };
    return cr_make_param_array(LengthCase, cases,
                               sizeof cases / sizeof *cases);
}

ParameterizedTest(LengthCase *lc, idx, rejects_wrong_data_length)
{
    cr_assert_eq(IMAGES_LEN, 40, "fixture size changed; update cases");
    Fixture fx = fixture_make();
    Bytes images = image_bytes(0x00000803u, N, H, W);
    if (lc->delta < 0) {
        images.len -= (size_t)-lc->delta;
    } else {
        memset(images.data + images.len, 7, (size_t)lc->delta);
        images.len += (size_t)lc->delta;
    }
    fixture_write(&fx, &images, NULL, lc->gz);
    expect_failure(&fx, 10, ISB_EFORMAT, "train-images-idx3-ubyte",
                   lc->found, lc->expected, NULL);
    fixture_remove(&fx);
}

Test(idx, label_file_length_is_checked_too)
{
    Fixture fx = fixture_make();
    Bytes labels = label_bytes(0x00000801u, N);
    labels.data[labels.len++] = 0;
    fixture_write(&fx, NULL, &labels, 1);
    cr_assert_eq(LABELS_LEN, 11);
    expect_failure(&fx, 10, ISB_EFORMAT, "train-labels-idx1-ubyte",
                   "decompressed length 12 bytes", "expected 11", NULL);
    fixture_remove(&fx);
}
