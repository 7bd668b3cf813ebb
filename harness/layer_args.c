/*
 * layer_args.c - small parsers shared by the setup functions of layers
 * whose token carries several arguments ("conv 32 3x3 pad 1").
 *
 * Every parser checks its whole word with strtol end pointers; none
 * prints or allocates.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"

int layer_next_word(const char **args, char *word, size_t len)
{
    const char *s = *args;
    size_t n = 0;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (*s == '\0') {
        *args = s;
        return 0;
    }
    while (*s != '\0' && !isspace((unsigned char)*s)) {
        if (n + 1 < len) {
            word[n++] = *s;
        }
        s++;
    }
    word[n] = '\0';
    *args = s;
    return 1;
}

int layer_parse_int(const char *word, long lo, long hi, long *out)
{
    char *end = NULL;

    if (!isdigit((unsigned char)word[0])) {
        return -1;
    }
    errno = 0;
    long v = strtol(word, &end, 10);
    if (*end != '\0' || errno != 0 || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

int layer_parse_size(const char *word, long hi, int *kh, int *kw)
{
    char first[32];
    const char *x = strchr(word, 'x');
    long a;
    long b;

    if (x == NULL) {
        if (layer_parse_int(word, 1, hi, &a) < 0) {
            return -1;
        }
        *kh = (int)a;
        *kw = (int)a;
        return 0;
    }
    size_t n = (size_t)(x - word);
    if (n == 0 || n >= sizeof first) {
        return -1;
    }
    memcpy(first, word, n);
    first[n] = '\0';
    if (layer_parse_int(first, 1, hi, &a) < 0 ||
        layer_parse_int(x + 1, 1, hi, &b) < 0) {
        return -1;
    }
    *kh = (int)a;
    *kw = (int)b;
    return 0;
}
