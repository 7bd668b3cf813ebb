/*
 * config.h - experiment files (INI, read with inih) resolved into a Config.
 *
 * Every key has a declared type, default and meaning in one table
 * (config.c), which drives parsing, --set overrides, error hints and the
 * manifest. Unknown sections or keys are errors with the closest valid
 * name as a hint. [method.NAME] sections are kept as raw text and checked
 * against the chosen method's declared parameters by the registry.
 */
#ifndef ISB_CONFIG_H
#define ISB_CONFIG_H

#include <stddef.h>

#include "error.h"

#define CONFIG_STR_LEN 256
#define CONFIG_MAX_METHOD_KEYS 64

typedef struct MethodSetting {
    char method[64];  /* NAME of [method.NAME] */
    char key[64];
    char value[CONFIG_STR_LEN];
    char origin[CONFIG_STR_LEN];  /* "file.ini:12" or "--set" */
} MethodSetting;

typedef struct Config {
    /* [experiment] */
    char name[CONFIG_STR_LEN];     /* default: file's base name */
    char dataset[64];              /* mnist, fashion-mnist, cifar10,
                                      synthetic */
    char data_dir[CONFIG_STR_LEN]; /* "" = default folder */
    char methods[CONFIG_STR_LEN];  /* for sweeps: "uniform, upper-bound" */
    char seeds[64];                /* for sweeps: "1-3" */

    /* [synthetic] */
    long syn_train, syn_test, syn_dim, syn_classes;
    double syn_separation, syn_label_noise;

    /* [data] */
    char normalize[16];    /* none (v / 255), channel (train mean/std) */
    long augment_crop;     /* crop padding in pixels, 0 = off */
    int augment_flip;      /* random horizontal flip */

    /* [network] */
    char layers[1024];

    /* [training] */
    long batch;
    double epochs;         /* budget: exactly one of epochs, steps, */
    long steps;            /* seconds is > 0 */
    double seconds;
    char optimizer[32];
    double lr, momentum, rho, beta1, beta2, eps, l2;
    int nesterov;
    char lr_schedule[32];  /* constant, step */
    char lr_decay_at[64];  /* "0.5, 0.8" */
    double lr_decay_factor;
    long threads;          /* OpenBLAS threads, 0 = library default */
    long max_presample;    /* score calls take at most this many * b */

    /* [evaluation] */
    long eval_every;       /* steps between evaluations */
    long train_subset;     /* 0 = whole training set */
    long test_subset;      /* 0 = whole test set */

    /* [logging] */
    long log_every;        /* steps between steps.csv rows */

    /* [probes] */
    int probe_variance;
    long probe_pool;       /* pool size M, 0 = whole training set */
    long probe_draws;      /* Monte-Carlo draws K */

    /* [variance] (isbench variance) */
    long var_checkpoints;
    char var_methods[CONFIG_STR_LEN];
    char var_reference[64];

    /* [method.NAME] sections */
    size_t n_method;
    MethodSetting method[CONFIG_MAX_METHOD_KEYS];

    char source[CONFIG_STR_LEN];   /* the experiment file's path */
} Config;

/* Fill cfg with every key's default. */
void config_defaults(Config *cfg);

/* Read path over cfg (which should hold defaults). Errors name the file,
 * line, section/key and value; unknown names get a closest-name hint. */
int config_load(Config *cfg, const char *path, IsbError *err);

/* Apply one "section.key=value" override (section may contain dots, as in
 * method.upper-bound.presample=3). */
int config_set(Config *cfg, const char *assignment, IsbError *err);

/* Cross-key checks after all overrides: budget, batch, schedule, ... */
int config_validate(const Config *cfg, IsbError *err);

/* Look up a [method.NAME] key; returns the value or NULL. */
const char *config_method_value(const Config *cfg, const char *method,
                                const char *key);

/* Call fn for every declared key in table order with its section, key
 * and current value as text (for the manifest). */
typedef void (*ConfigVisit)(void *ctx, const char *section, const char *key,
                            const char *value);
void config_visit(const Config *cfg, ConfigVisit fn, void *ctx);

/* Parse "a, b, c" numbers into out (at most max); returns the count or a
 * negative code with a message naming what. */
int config_parse_list(const char *text, double *out, int max,
                      const char *what, IsbError *err);

/* Parse "1-3" or "1,2,5" into seeds (at most max); count or < 0. */
int config_parse_seeds(const char *text, unsigned long *out, int max,
                       IsbError *err);

/* Levenshtein distance, for "did you mean" hints. */
size_t config_edit_distance(const char *a, const char *b);

#endif
