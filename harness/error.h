/*
 * error.h - the project's one error convention.
 *
 * Library code (harness/, methods/, datasets/) returns 0 on success or a
 * negative IsbStatus code, and puts the detail in an IsbError the caller
 * passes in. It never prints and never exits; only the CLI does.
 */
#ifndef ISB_ERROR_H
#define ISB_ERROR_H

#include <stddef.h>

typedef enum IsbStatus {
    ISB_OK = 0,
    ISB_ENOMEM = -1,    /* allocation failed */
    ISB_EIO = -2,       /* a file could not be opened, read or written */
    ISB_EFORMAT = -3,   /* a file's content is not what was expected */
    ISB_EINVAL = -4,    /* a bad value: flag, key, parameter */
    ISB_ECONFIG = -5,   /* an experiment file is wrong */
    ISB_EPLUGIN = -6,   /* a sampler plugin failed to load or misbehaved */
    ISB_EDIVERGED = -7, /* training produced a non-finite loss */
    ISB_EINTERRUPTED = -8 /* stopped by a signal */
} IsbStatus;

#define ISB_ERROR_MSG_LEN 1024

typedef struct IsbError {
    int code;                   /* an IsbStatus, 0 when no error */
    char msg[ISB_ERROR_MSG_LEN]; /* "what: value (expected ...)" */
    char hint[256];             /* optional fix, "" when none */
} IsbError;

/* Record an error in err (which may be NULL) and return code, so callers
 * can write `return isb_fail(err, ISB_EINVAL, "...", ...);`. */
int isb_fail(IsbError *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the hint line of an error already recorded; returns err->code. */
int isb_hint(IsbError *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clear err to "no error". */
void isb_error_clear(IsbError *err);

/* A short name for a status code ("ENOMEM", ...), never NULL. */
const char *isb_status_name(int code);

/* A one-line description of a status code, never NULL. */
const char *isb_status_message(int code);

#endif
