/*
 * error.c - status names, messages and the helpers that fill IsbError.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int code;
    const char *name;
    const char *message;
} status_table[] = {
    {ISB_OK, "OK", "success"},
    {ISB_ENOMEM, "ENOMEM", "out of memory"},
    {ISB_EIO, "EIO", "input/output error"},
    {ISB_EFORMAT, "EFORMAT", "bad file format"},
    {ISB_EINVAL, "EINVAL", "invalid value"},
    {ISB_ECONFIG, "ECONFIG", "bad experiment configuration"},
    {ISB_EPLUGIN, "EPLUGIN", "sampler plugin error"},
    {ISB_EDIVERGED, "EDIVERGED", "training diverged"},
    {ISB_EINTERRUPTED, "EINTERRUPTED", "interrupted"},
};

int isb_fail(IsbError *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
        err->hint[0] = '\0';
    }
    return code;
}

int isb_hint(IsbError *err, const char *fmt, ...)
{
    if (err == NULL) {
        return ISB_EINVAL;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
    return err->code;
}

void isb_error_clear(IsbError *err)
{
    if (err != NULL) {
        err->code = ISB_OK;
        err->msg[0] = '\0';
        err->hint[0] = '\0';
    }
}

const char *isb_status_name(int code)
{
    for (size_t i = 0; i < sizeof status_table / sizeof *status_table; i++) {
        if (status_table[i].code == code) {
            return status_table[i].name;
        }
    }
    return "EUNKNOWN";
}

const char *isb_status_message(int code)
{
    for (size_t i = 0; i < sizeof status_table / sizeof *status_table; i++) {
        if (status_table[i].code == code) {
            return status_table[i].message;
        }
    }
    return "unknown error";
}
