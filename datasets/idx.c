/*
 * idx.c - loader for IDX files (the MNIST format of LeCun et al.), raw or
 * gzip'd. Every file is read as a stream through zlib, which passes raw
 * files through unchanged, so one code path checks both; lengths are
 * always counted in decompressed bytes.
 */
#include "dataset.h"
#include "dataset_fill.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_MAGIC_IMAGES 0x00000803u /* ubyte, 3 dimensions */
#define IDX_MAGIC_LABELS 0x00000801u /* ubyte, 1 dimension */
#define IDX_TYPE_UBYTE 0x08u
#define IDX_CHUNK (1u << 20)

/* An open IDX stream: the zlib handle, the path for messages and whether
 * the bytes on disk are gzip'd. */
typedef struct IdxFile {
    gzFile gz;
    const char *path;
    int compressed;
} IdxFile;

/* The header of one IDX file: its dimensions and its length in bytes. */
typedef struct IdxHeader {
    uint32_t dims[3];
    uint64_t header_len;
    uint64_t data_len;
} IdxHeader;

static const char *length_word(const IdxFile *f)
{
    return f->compressed ? "decompressed length" : "length";
}

static int idx_open(IdxFile *f, const char *path, IsbError *err)
{
    unsigned char magic[2] = {0, 0};
    FILE *fp = fopen(path, "rb");

    if (fp == NULL) {
        return isb_fail(err, ISB_EIO, "%s: cannot open: %s", path,
                        strerror(errno));
    }
    size_t got = fread(magic, 1, sizeof magic, fp);
    fclose(fp);

    f->path = path;
    f->compressed = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    errno = 0;
    f->gz = gzopen(path, "rb");
    if (f->gz == NULL) {
        return isb_fail(err, errno ? ISB_EIO : ISB_ENOMEM,
                        "%s: cannot open: %s", path,
                        errno ? strerror(errno) : "out of memory");
    }
    return 0;
}

/* Read up to len bytes into buf, stopping early only at end of file. */
static int idx_read(IdxFile *f, void *buf, size_t len, size_t *got,
                    IsbError *err)
{
    *got = 0;
    while (*got < len) {
        size_t want = len - *got < IDX_CHUNK ? len - *got : IDX_CHUNK;
        int r = gzread(f->gz, (unsigned char *)buf + *got, (unsigned)want);
        if (r < 0) {
            int zcode = Z_OK;
            const char *zmsg = gzerror(f->gz, &zcode);
            if (zcode == Z_ERRNO) {
                return isb_fail(err, ISB_EIO, "%s: read error: %s",
                                f->path, strerror(errno));
            }
            return isb_fail(err, ISB_EFORMAT, "%s: corrupt gzip data: %s",
                            f->path, zmsg);
        }
        if (r == 0) {
            break;
        }
        *got += (size_t)r;
    }
    return 0;
}

/* Report the length of the whole file, given that `seen` bytes have been
 * read already, as a mismatch with the length the header implies. */
static int idx_length_error(IdxFile *f, uint64_t seen, uint64_t expected,
                            IsbError *err)
{
    unsigned char scratch[4096];
    size_t got = 0;

    do {
        int rc = idx_read(f, scratch, sizeof scratch, &got, err);
        if (rc < 0) {
            return rc;
        }
        seen += got;
    } while (got == sizeof scratch);
    return isb_fail(err, ISB_EFORMAT,
                    "%s: %s %llu bytes (expected %llu from the header: %s)",
                    f->path, length_word(f), (unsigned long long)seen,
                    (unsigned long long)expected,
                    seen < expected ? "truncated" : "trailing bytes");
}

/* Read and check the magic number and dimensions. ndim is 3 for images
 * and 1 for labels; dim_names name the dimensions for messages. */
static int idx_read_header(IdxFile *f, uint32_t ndim,
                           const char *const *dim_names, IdxHeader *h,
                           IsbError *err)
{
    unsigned char raw[4 + 4 * 3];
    uint32_t expected = 0x00000800u | ndim;
    size_t need = 4 + 4 * (size_t)ndim;
    size_t got = 0;

    /* 1. The magic: two zero bytes, the element type, the rank. */
    int rc = idx_read(f, raw, 4, &got, err);
    if (rc < 0) {
        return rc;
    }
    if (got < 4) {
        return isb_fail(err, ISB_EFORMAT, "%s: %s %zu bytes, too short for "
                        "an IDX header (expected at least %zu)", f->path,
                        length_word(f), got, need);
    }
    uint32_t magic = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16
                     | (uint32_t)raw[2] << 8 | raw[3];
    if (raw[0] != 0 || raw[1] != 0) {
        return isb_fail(err, ISB_EFORMAT, "%s: bad magic 0x%08x (expected "
                        "0x%08x): not an IDX file", f->path,
                        (unsigned)magic, (unsigned)expected);
    }
    if (raw[2] != IDX_TYPE_UBYTE) {
        return isb_fail(err, ISB_EFORMAT, "%s: bad magic 0x%08x (expected "
                        "0x%08x): element type 0x%02x (expected 0x%02x, "
                        "unsigned byte)", f->path, (unsigned)magic,
                        (unsigned)expected, raw[2], IDX_TYPE_UBYTE);
    }
    if (raw[3] != ndim) {
        return isb_fail(err, ISB_EFORMAT, "%s: bad magic 0x%08x (expected "
                        "0x%08x): ndim %u (expected %u)", f->path,
                        (unsigned)magic, (unsigned)expected, raw[3],
                        (unsigned)ndim);
    }

    /* 2. The dimensions, big-endian, each non-zero. */
    rc = idx_read(f, raw + 4, 4 * (size_t)ndim, &got, err);
    if (rc < 0) {
        return rc;
    }
    if (got < 4 * (size_t)ndim) {
        return isb_fail(err, ISB_EFORMAT, "%s: %s %zu bytes, too short for "
                        "an IDX header (expected at least %zu)", f->path,
                        length_word(f), 4 + got, need);
    }
    h->data_len = 1;
    for (uint32_t i = 0; i < ndim; i++) {
        const unsigned char *p = raw + 4 + 4 * i;
        h->dims[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16
                     | (uint32_t)p[2] << 8 | p[3];
        if (h->dims[i] == 0) {
            return isb_fail(err, ISB_EFORMAT, "%s: %s is 0 (expected at "
                            "least 1)", f->path, dim_names[i]);
        }
        /* Three factors below 2^32 can overflow 64 bits; refuse early. */
        if (h->data_len > UINT64_MAX / h->dims[i]) {
            return isb_fail(err, ISB_EFORMAT, "%s: header dimensions give "
                            "more than 2^64 bytes", f->path);
        }
        h->data_len *= h->dims[i];
    }
    h->header_len = need;
    return 0;
}

/* Read the h->data_len bytes after the header into a new buffer and check
 * that nothing follows them. The buffer grows as data arrives, so a header
 * that lies about a huge size cannot force a huge allocation. */
static int idx_read_payload(IdxFile *f, const IdxHeader *h, uint8_t **out,
                            IsbError *err)
{
    if (h->data_len > SIZE_MAX) {
        return isb_fail(err, ISB_EFORMAT, "%s: header claims %llu bytes of "
                        "data (expected at most %zu on this machine)",
                        f->path, (unsigned long long)h->data_len,
                        (size_t)SIZE_MAX);
    }
    size_t len = (size_t)h->data_len;
    size_t cap = len < IDX_CHUNK ? len : IDX_CHUNK;
    size_t have = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        return isb_fail(err, ISB_ENOMEM, "%s: cannot allocate %zu bytes",
                        f->path, cap);
    }

    for (;;) {
        size_t got = 0;
        int rc = idx_read(f, buf + have, cap - have, &got, err);
        if (rc < 0) {
            free(buf);
            return rc;
        }
        have += got;
        if (have < cap || cap == len) {
            break;
        }
        size_t grown = cap > len / 2 ? len : cap * 2;
        uint8_t *bigger = realloc(buf, grown);
        if (bigger == NULL) {
            free(buf);
            return isb_fail(err, ISB_ENOMEM, "%s: cannot allocate %zu "
                            "bytes", f->path, grown);
        }
        buf = bigger;
        cap = grown;
    }

    unsigned char extra = 0;
    size_t got_extra = 0;
    int rc = 0;
    if (have == len) {
        rc = idx_read(f, &extra, 1, &got_extra, err);
    }
    if (rc == 0 && (have < len || got_extra > 0)) {
        rc = idx_length_error(f, h->header_len + have + got_extra,
                              h->header_len + len, err);
    }
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}

/* Open, check and read one whole IDX file of rank ndim. */
static int idx_load_file(const char *path, uint32_t ndim,
                         const char *const *dim_names, IdxHeader *h,
                         uint8_t **data, IsbError *err)
{
    IdxFile f;
    int rc = idx_open(&f, path, err);
    if (rc < 0) {
        return rc;
    }
    rc = idx_read_header(&f, ndim, dim_names, h, err);
    if (rc == 0) {
        rc = idx_read_payload(&f, h, data, err);
    }
    gzclose(f.gz);
    return rc;
}

int dataset_load_idx(const char *images_path, const char *labels_path,
                     int n_classes, const char *name, Dataset *out,
                     IsbError *err)
{
    static const char *const image_dims[] = {"image count", "rows",
                                             "columns"};
    static const char *const label_dims[] = {"label count"};
    IdxHeader ih, lh;
    uint8_t *pixels = NULL;
    uint8_t *raw_labels = NULL;
    int *labels = NULL;
    int rc;

    if (n_classes < 1 || n_classes > 256) {
        return isb_fail(err, ISB_EINVAL, "%s: n_classes %d (expected 1 to "
                        "256 for byte labels)", labels_path, n_classes);
    }

    /* 1. Both files, each checked on its own. */
    rc = idx_load_file(images_path, 3, image_dims, &ih, &pixels, err);
    if (rc < 0) {
        goto fail_images;
    }
    if (ih.dims[1] > INT_MAX || ih.dims[2] > INT_MAX) {
        rc = isb_fail(err, ISB_EFORMAT, "%s: image size %ux%u (expected "
                      "each side at most %d)", images_path, ih.dims[1],
                      ih.dims[2], INT_MAX);
        goto fail_labels;
    }
    rc = idx_load_file(labels_path, 1, label_dims, &lh, &raw_labels, err);
    if (rc < 0) {
        goto fail_labels;
    }

    /* 2. The pair agrees, and every label is a valid class. */
    if (lh.dims[0] != ih.dims[0]) {
        rc = isb_fail(err, ISB_EFORMAT, "%s: %u labels (expected %u, the "
                      "image count of %s)", labels_path, lh.dims[0],
                      ih.dims[0], images_path);
        goto fail_convert;
    }
    size_t n = ih.dims[0];
    labels = malloc(n * sizeof *labels);
    if (labels == NULL) {
        rc = isb_fail(err, ISB_ENOMEM, "%s: cannot allocate %zu labels",
                      labels_path, n);
        goto fail_convert;
    }
    for (size_t i = 0; i < n; i++) {
        if (raw_labels[i] >= n_classes) {
            rc = isb_fail(err, ISB_EFORMAT, "%s: label %u at index %zu "
                          "(expected 0 to %d)", labels_path, raw_labels[i],
                          i, n_classes - 1);
            goto fail_convert;
        }
        labels[i] = raw_labels[i];
    }
    free(raw_labels);

    /* 3. Fill out only now that nothing can fail. */
    dataset_fill_u8(out, name ? name : "idx", n, 1, (int)ih.dims[1],
                    (int)ih.dims[2], n_classes, pixels, labels);
    return 0;

fail_convert:
    free(labels);
    free(raw_labels);
fail_labels:
    free(pixels);
fail_images:
    return rc;
}
