/*
 * config.c - the table of experiment keys, INI parsing and overrides.
 *
 * One row per key: section, name, type, offset into Config, default and a
 * one-line meaning. Parsing, --set, hints and the manifest all walk it.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

typedef enum KeyType { KEY_STR, KEY_LONG, KEY_REAL, KEY_BOOL } KeyType;

typedef struct KeySpec {
    const char *section;
    const char *name;
    KeyType type;
    size_t offset;
    size_t size;     /* buffer size for KEY_STR */
    const char *def;
    const char *help;
} KeySpec;

#define STR(sec, key, field, def, help) \
    {sec, key, KEY_STR, offsetof(Config, field), \
     sizeof(((Config *)0)->field), def, help}
#define NUM(sec, key, type, field, def, help) \
    {sec, key, type, offsetof(Config, field), 0, def, help}

static const KeySpec keys[] = {
    STR("experiment", "name", name, "", "name used for results/NAME"),
    STR("experiment", "dataset", dataset, "synthetic",
        "mnist, fashion-mnist, cifar10 or synthetic"),
    STR("experiment", "data_dir", data_dir, "",
        "data folder (default $ISBENCH_DATA or datasets/cache)"),
    STR("experiment", "methods", methods, "uniform",
        "methods a sweep runs"),
    STR("experiment", "seeds", seeds, "1", "seeds a sweep runs: 1-3"),

    NUM("synthetic", "n_train", KEY_LONG, syn_train, "2000", "examples"),
    NUM("synthetic", "n_test", KEY_LONG, syn_test, "500", "examples"),
    NUM("synthetic", "dim", KEY_LONG, syn_dim, "20", "features D"),
    NUM("synthetic", "classes", KEY_LONG, syn_classes, "4", "classes K"),
    NUM("synthetic", "separation", KEY_REAL, syn_separation, "3",
        "distance scale between class means"),
    NUM("synthetic", "label_noise", KEY_REAL, syn_label_noise, "0.05",
        "fraction of labels replaced at random"),

    STR("data", "normalize", normalize, "none",
        "none (v / 255) or channel (training-set mean/std per channel)"),
    NUM("data", "augment_crop", KEY_LONG, augment_crop, "0",
        "random crop padding in pixels, training only (0 = off)"),
    NUM("data", "augment_flip", KEY_BOOL, augment_flip, "0",
        "random horizontal flip, training only"),

    STR("network", "layers", layers, "dense 64, relu, dense 4",
        "layer string, e.g. dense 512, relu, dense 10"),

    NUM("training", "batch", KEY_LONG, batch, "128", "mini-batch size b"),
    NUM("training", "epochs", KEY_REAL, epochs, "1",
        "budget in epochs (0 = unused)"),
    NUM("training", "steps", KEY_LONG, steps, "0",
        "budget in steps (0 = unused)"),
    NUM("training", "seconds", KEY_REAL, seconds, "0",
        "budget in on-clock seconds (0 = unused)"),
    STR("training", "optimizer", optimizer, "rmsprop",
        "sgd, rmsprop or adam"),
    NUM("training", "lr", KEY_REAL, lr, "1e-3", "base learning rate"),
    NUM("training", "momentum", KEY_REAL, momentum, "0", "SGD momentum"),
    NUM("training", "nesterov", KEY_BOOL, nesterov, "0",
        "SGD Nesterov momentum"),
    NUM("training", "rho", KEY_REAL, rho, "0.9", "RMSprop decay"),
    NUM("training", "beta1", KEY_REAL, beta1, "0.9", "Adam beta1"),
    NUM("training", "beta2", KEY_REAL, beta2, "0.999", "Adam beta2"),
    NUM("training", "eps", KEY_REAL, eps, "1e-7", "RMSprop/Adam epsilon"),
    NUM("training", "l2", KEY_REAL, l2, "0", "L2 penalty on weights"),
    STR("training", "lr_schedule", lr_schedule, "constant",
        "constant or step"),
    STR("training", "lr_decay_at", lr_decay_at, "0.5, 0.8",
        "fractions of the budget where step decay applies"),
    NUM("training", "lr_decay_factor", KEY_REAL, lr_decay_factor, "0.2",
        "step decay factor"),
    NUM("training", "threads", KEY_LONG, threads, "0",
        "OpenBLAS threads (0 = library default)"),
    NUM("training", "max_presample", KEY_LONG, max_presample, "10",
        "largest scoring pass, in batches"),

    NUM("evaluation", "every", KEY_LONG, eval_every, "100",
        "steps between evaluations"),
    NUM("evaluation", "train_subset", KEY_LONG, train_subset, "0",
        "seeded training subset for train_loss (0 = all)"),
    NUM("evaluation", "test_subset", KEY_LONG, test_subset, "0",
        "seeded test subset (0 = all)"),

    NUM("logging", "steps_every", KEY_LONG, log_every, "1",
        "steps between steps.csv rows"),

    NUM("probes", "variance", KEY_BOOL, probe_variance, "0",
        "measure gradient variance at each evaluation"),
    NUM("probes", "pool", KEY_LONG, probe_pool, "1024",
        "candidate pool of variance measurements (0 = all)"),
    NUM("probes", "draws", KEY_LONG, probe_draws, "64",
        "Monte-Carlo draws per variance measurement"),

    NUM("variance", "checkpoints", KEY_LONG, var_checkpoints, "15",
        "log-spaced checkpoints of isbench variance"),
    STR("variance", "methods", var_methods,
        "uniform, loss, upper-bound, gnorm", "methods isbench variance "
        "measures"),
    STR("variance", "reference", var_reference, "uniform",
        "method that trains the measured trajectory"),
};

#define N_KEYS (sizeof keys / sizeof *keys)

static const char *sections[] = {"experiment", "synthetic", "data",
                                 "network",
                                 "training", "evaluation", "logging",
                                 "probes", "variance"};
#define N_SECTIONS (sizeof sections / sizeof *sections)

size_t config_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[128];
    if (lb >= sizeof row / sizeof *row) {
        return la > lb ? la : lb;
    }
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *closest_section(const char *name)
{
    const char *best = sections[0];
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < N_SECTIONS; i++) {
        size_t d = config_edit_distance(name, sections[i]);
        if (d < best_d) {
            best_d = d;
            best = sections[i];
        }
    }
    return best;
}

static const char *closest_key(const char *section, const char *name)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].section, section) != 0) {
            continue;
        }
        size_t d = config_edit_distance(name, keys[i].name);
        if (d < best_d) {
            best_d = d;
            best = keys[i].name;
        }
    }
    return best;
}

static int is_section(const char *name)
{
    for (size_t i = 0; i < N_SECTIONS; i++) {
        if (strcmp(sections[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

static const KeySpec *find_key(const char *section, const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].section, section) == 0 &&
            strcmp(keys[i].name, name) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

/* Parse value into the field of cfg that spec names. where is the origin
 * for messages ("file.ini:12" or "--set"). */
static int assign(Config *cfg, const KeySpec *spec, const char *value,
                  const char *where, IsbError *err)
{
    char *base = (char *)cfg + spec->offset;
    char *end = NULL;
    errno = 0;
    switch (spec->type) {
    case KEY_STR:
        if (strlen(value) >= spec->size) {
            return isb_fail(err, ISB_ECONFIG,
                            "%s: %s.%s: value too long (%zu characters, "
                            "expected at most %zu)", where, spec->section,
                            spec->name, strlen(value), spec->size - 1);
        }
        memcpy(base, value, strlen(value) + 1);
        return 0;
    case KEY_LONG: {
        long v = strtol(value, &end, 10);
        if (end == value || *end != '\0' || errno != 0) {
            return isb_fail(err, ISB_ECONFIG,
                            "%s: %s.%s: '%s' is not an integer", where,
                            spec->section, spec->name, value);
        }
        memcpy(base, &v, sizeof v);
        return 0;
    }
    case KEY_REAL: {
        double v = strtod(value, &end);
        if (end == value || *end != '\0' || errno != 0 || !isfinite(v)) {
            return isb_fail(err, ISB_ECONFIG,
                            "%s: %s.%s: '%s' is not a finite number",
                            where, spec->section, spec->name, value);
        }
        memcpy(base, &v, sizeof v);
        return 0;
    }
    case KEY_BOOL: {
        int v;
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 ||
            strcmp(value, "yes") == 0 || strcmp(value, "on") == 0) {
            v = 1;
        } else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 ||
                   strcmp(value, "no") == 0 || strcmp(value, "off") == 0) {
            v = 0;
        } else {
            return isb_fail(err, ISB_ECONFIG,
                            "%s: %s.%s: '%s' is not a boolean (expected "
                            "0, 1, true or false)", where, spec->section,
                            spec->name, value);
        }
        memcpy(base, &v, sizeof v);
        return 0;
    }
    }
    return isb_fail(err, ISB_ECONFIG, "%s: bad key type", where);
}

void config_defaults(Config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_KEYS; i++) {
        int rc = assign(cfg, &keys[i], keys[i].def, "defaults", NULL);
        (void)rc;
    }
}

static int set_method_key(Config *cfg, const char *method, const char *key,
                          const char *value, const char *where,
                          IsbError *err)
{
    MethodSetting *slot = NULL;
    for (size_t i = 0; i < cfg->n_method; i++) {
        if (strcmp(cfg->method[i].method, method) == 0 &&
            strcmp(cfg->method[i].key, key) == 0) {
            slot = &cfg->method[i];
        }
    }
    if (slot == NULL) {
        if (cfg->n_method == CONFIG_MAX_METHOD_KEYS) {
            return isb_fail(err, ISB_ECONFIG,
                            "%s: too many [method.*] keys (at most %d)",
                            where, CONFIG_MAX_METHOD_KEYS);
        }
        slot = &cfg->method[cfg->n_method++];
    }
    if (strlen(method) >= sizeof slot->method ||
        strlen(key) >= sizeof slot->key ||
        strlen(value) >= sizeof slot->value) {
        return isb_fail(err, ISB_ECONFIG, "%s: method.%s.%s: name or value "
                        "too long", where, method, key);
    }
    strcpy(slot->method, method);
    strcpy(slot->key, key);
    strcpy(slot->value, value);
    snprintf(slot->origin, sizeof slot->origin, "%s", where);
    return 0;
}

/* Route one section/key/value to the table or to the method settings. */
static int config_put(Config *cfg, const char *section, const char *key,
                      const char *value, const char *where, IsbError *err)
{
    if (strncmp(section, "method.", 7) == 0 && section[7] != '\0') {
        return set_method_key(cfg, section + 7, key, value, where, err);
    }
    if (!is_section(section)) {
        isb_fail(err, ISB_ECONFIG, "%s: unknown section [%s]", where,
                 section);
        return isb_hint(err, "did you mean [%s]? (method parameters go "
                        "in [method.NAME])", closest_section(section));
    }
    const KeySpec *spec = find_key(section, key);
    if (spec == NULL) {
        isb_fail(err, ISB_ECONFIG, "%s: unknown key '%s' in [%s]", where,
                 key, section);
        return isb_hint(err, "did you mean '%s'?",
                        closest_key(section, key));
    }
    return assign(cfg, spec, value, where, err);
}

typedef struct LoadCtx {
    Config *cfg;
    const char *path;
    IsbError *err;
    int rc;
} LoadCtx;

/* The line of `key` inside [section] of path, or 0 when not found (the
 * Debian build of inih does not pass line numbers to handlers). */
static int find_line(const char *path, const char *section, const char *key)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    char line[2048], current[256] = "";
    int no = 0, found = 0;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        no++;
        char *p = line + strspn(line, " \t");
        if (*p == '[') {
            size_t len = strcspn(p + 1, "]");
            if (len < sizeof current) {
                memcpy(current, p + 1, len);
                current[len] = '\0';
            }
        } else if (strcmp(current, section) == 0 &&
                   strncmp(p, key, strlen(key)) == 0 &&
                   strchr(" \t=:", p[strlen(key)]) != NULL) {
            found = no;
        }
    }
    fclose(f);
    return found;
}

static int on_ini_entry(void *user, const char *section, const char *name,
                        const char *value)
{
    LoadCtx *ctx = user;
    ctx->rc = config_put(ctx->cfg, section, name, value, ctx->path, NULL);
    if (ctx->rc != 0) {
        /* Redo the failing entry with its line number in the message. */
        char where[CONFIG_STR_LEN + 32];
        snprintf(where, sizeof where, "%s:%d", ctx->path,
                 find_line(ctx->path, section, name));
        ctx->rc = config_put(ctx->cfg, section, name, value, where,
                             ctx->err);
    }
    return ctx->rc == 0;
}

static void default_name(Config *cfg, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    size_t len = strcspn(base, ".");
    if (len >= sizeof cfg->name) {
        len = sizeof cfg->name - 1;
    }
    memcpy(cfg->name, base, len);
    cfg->name[len] = '\0';
}

int config_load(Config *cfg, const char *path, IsbError *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return isb_fail(err, ISB_EIO, "%s: cannot open experiment file",
                        path);
    }
    LoadCtx ctx = {cfg, path, err, 0};
    cfg->name[0] = '\0';
    int line = ini_parse_file(f, on_ini_entry, &ctx);
    fclose(f);
    if (ctx.rc != 0) {
        return ctx.rc;
    }
    if (line != 0) {
        return isb_fail(err, ISB_ECONFIG, "%s:%d: not an INI line "
                        "(expected [section] or key = value)", path, line);
    }
    if (cfg->name[0] == '\0') {
        default_name(cfg, path);
    }
    snprintf(cfg->source, sizeof cfg->source, "%s", path);
    return 0;
}

int config_set(Config *cfg, const char *assignment, IsbError *err)
{
    char buf[CONFIG_STR_LEN * 4];
    if (strlen(assignment) >= sizeof buf) {
        return isb_fail(err, ISB_EINVAL, "--set: assignment too long");
    }
    strcpy(buf, assignment);
    char *eq = strchr(buf, '=');
    if (eq == NULL) {
        isb_fail(err, ISB_EINVAL, "--set %s: no '=' (expected "
                 "section.key=value)", assignment);
        return isb_hint(err, "for example --set training.epochs=1");
    }
    *eq = '\0';
    char *dot = strrchr(buf, '.');
    if (dot == NULL || dot == buf || dot[1] == '\0') {
        return isb_fail(err, ISB_EINVAL, "--set %s: '%s' is not "
                        "section.key", assignment, buf);
    }
    *dot = '\0';
    return config_put(cfg, buf, dot + 1, eq + 1, "--set", err);
}

int config_parse_list(const char *text, double *out, int max,
                      const char *what, IsbError *err)
{
    int n = 0;
    const char *p = text;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno != 0 || !isfinite(v)) {
            return isb_fail(err, ISB_ECONFIG, "%s: '%s' is not a list of "
                            "numbers", what, text);
        }
        if (n == max) {
            return isb_fail(err, ISB_ECONFIG, "%s: more than %d values",
                            what, max);
        }
        out[n++] = v;
        p = end;
        if (*p != '\0' && *p != ',' && *p != ' ') {
            return isb_fail(err, ISB_ECONFIG, "%s: '%s' is not a list of "
                            "numbers", what, text);
        }
    }
    return n;
}

static int parse_seed(const char **p, unsigned long *v, const char *text,
                      IsbError *err)
{
    char *end;
    errno = 0;
    if (**p == '-') {
        return isb_fail(err, ISB_EINVAL, "seeds '%s': negative seed "
                        "(expected 1-3 or 1,2,5)", text);
    }
    *v = strtoul(*p, &end, 10);
    if (end == *p || errno != 0) {
        return isb_fail(err, ISB_EINVAL, "seeds '%s': not a seed list "
                        "(expected 1-3 or 1,2,5)", text);
    }
    *p = end;
    return 0;
}

int config_parse_seeds(const char *text, unsigned long *out, int max,
                       IsbError *err)
{
    int n = 0;
    const char *p = text;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        unsigned long lo = 0, hi = 0;
        if (parse_seed(&p, &lo, text, err) != 0) {
            return err->code;
        }
        hi = lo;
        if (*p == '-') {
            p++;
            if (parse_seed(&p, &hi, text, err) != 0) {
                return err->code;
            }
        }
        if (hi < lo || hi - lo > (unsigned long)max) {
            return isb_fail(err, ISB_EINVAL, "seeds '%s': bad range %lu-%lu",
                            text, lo, hi);
        }
        for (unsigned long s = lo; s <= hi; s++) {
            if (n == max) {
                return isb_fail(err, ISB_EINVAL, "seeds '%s': more than %d",
                                text, max);
            }
            out[n++] = s;
        }
    }
    if (n == 0) {
        return isb_fail(err, ISB_EINVAL, "seeds '%s': empty", text);
    }
    return n;
}

static int positive(long v, const char *what, IsbError *err)
{
    if (v <= 0) {
        return isb_fail(err, ISB_ECONFIG, "%s: %ld (expected > 0)", what, v);
    }
    return 0;
}

int config_validate(const Config *cfg, IsbError *err)
{
    int budgets = (cfg->epochs > 0) + (cfg->steps > 0) + (cfg->seconds > 0);
    if (budgets != 1) {
        isb_fail(err, ISB_ECONFIG, "training: %d budgets set (epochs %g, "
                 "steps %ld, seconds %g; expected exactly one > 0)",
                 budgets, cfg->epochs, cfg->steps, cfg->seconds);
        return isb_hint(err, "set the others to 0, e.g. --set "
                        "training.epochs=0 --set training.steps=500");
    }
    if (cfg->epochs < 0 || cfg->steps < 0 || cfg->seconds < 0) {
        return isb_fail(err, ISB_ECONFIG, "training: negative budget");
    }
    int rc;
    if ((rc = positive(cfg->batch, "training.batch", err)) != 0 ||
        (rc = positive(cfg->eval_every, "evaluation.every", err)) != 0 ||
        (rc = positive(cfg->log_every, "logging.steps_every", err)) != 0 ||
        (rc = positive(cfg->max_presample, "training.max_presample",
                       err)) != 0 ||
        (rc = positive(cfg->var_checkpoints, "variance.checkpoints",
                       err)) != 0) {
        return rc;
    }
    if (cfg->probe_draws < 2) {
        return isb_fail(err, ISB_ECONFIG, "probes.draws: %ld (expected at "
                        "least 2, for a standard error)", cfg->probe_draws);
    }
    if (!(cfg->lr > 0)) {
        return isb_fail(err, ISB_ECONFIG, "training.lr: %g (expected > 0)",
                        cfg->lr);
    }
    if (cfg->l2 < 0 || cfg->threads < 0 || cfg->train_subset < 0 ||
        cfg->test_subset < 0 || cfg->probe_pool < 0) {
        return isb_fail(err, ISB_ECONFIG, "training.l2, training.threads, "
                        "evaluation subsets and probes.pool must be "
                        ">= 0");
    }
    if (strcmp(cfg->lr_schedule, "constant") != 0 &&
        strcmp(cfg->lr_schedule, "step") != 0) {
        return isb_fail(err, ISB_ECONFIG, "training.lr_schedule: '%s' "
                        "(expected constant or step)", cfg->lr_schedule);
    }
    double at[16];
    int n_at = config_parse_list(cfg->lr_decay_at, at, 16,
                                 "training.lr_decay_at", err);
    if (n_at < 0) {
        return n_at;
    }
    for (int i = 0; i < n_at; i++) {
        if (at[i] <= 0 || at[i] >= 1) {
            return isb_fail(err, ISB_ECONFIG, "training.lr_decay_at: %g "
                            "(expected fractions in (0, 1))", at[i]);
        }
    }
    if (strcmp(cfg->dataset, "mnist") != 0 &&
        strcmp(cfg->dataset, "fashion-mnist") != 0 &&
        strcmp(cfg->dataset, "cifar10") != 0 &&
        strcmp(cfg->dataset, "synthetic") != 0) {
        return isb_fail(err, ISB_ECONFIG, "experiment.dataset: '%s' "
                        "(expected mnist, fashion-mnist, cifar10 or "
                        "synthetic)", cfg->dataset);
    }
    if (strcmp(cfg->normalize, "none") != 0 &&
        strcmp(cfg->normalize, "channel") != 0) {
        return isb_fail(err, ISB_ECONFIG, "data.normalize: '%s' (expected "
                        "none or channel)", cfg->normalize);
    }
    if (cfg->augment_crop < 0 || cfg->augment_crop > 64) {
        return isb_fail(err, ISB_ECONFIG, "data.augment_crop: %ld "
                        "(expected 0 to 64 pixels of padding)",
                        cfg->augment_crop);
    }
    return 0;
}

const char *config_method_value(const Config *cfg, const char *method,
                                const char *key)
{
    for (size_t i = 0; i < cfg->n_method; i++) {
        if (strcmp(cfg->method[i].method, method) == 0 &&
            strcmp(cfg->method[i].key, key) == 0) {
            return cfg->method[i].value;
        }
    }
    return NULL;
}

void config_visit(const Config *cfg, ConfigVisit fn, void *ctx)
{
    char buf[64];
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *base = (const char *)cfg + keys[i].offset;
        const char *text = buf;
        switch (keys[i].type) {
        case KEY_STR:
            text = base;
            break;
        case KEY_LONG: {
            long v;
            memcpy(&v, base, sizeof v);
            snprintf(buf, sizeof buf, "%ld", v);
            break;
        }
        case KEY_REAL: {
            double v;
            memcpy(&v, base, sizeof v);
            snprintf(buf, sizeof buf, "%.17g", v);
            break;
        }
        case KEY_BOOL: {
            int v;
            memcpy(&v, base, sizeof v);
            snprintf(buf, sizeof buf, "%d", v);
            break;
        }
        }
        fn(ctx, keys[i].section, keys[i].name, text);
    }
}
