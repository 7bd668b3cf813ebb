/*
 * test_config.c - experiment files, overrides and their error messages.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness/config.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static char path[256];

static void make_path(void)
{
    snprintf(path, sizeof path, "/tmp/isb_cfg_%d.ini", (int)getpid());
}

Test(config, reads_values_and_keeps_defaults)
{
    make_path();
    write_file(path, "[training]\nbatch = 64\nlr = 0.5\n"
                     "[method.upper-bound]\npresample = 5\n");
    Config cfg;
    IsbError err;
    config_defaults(&cfg);
    cr_assert_eq(config_load(&cfg, path, &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.batch, 64);
    cr_assert_float_eq(cfg.lr, 0.5, 1e-15);
    cr_assert_float_eq(cfg.rho, 0.9, 1e-15);
    cr_assert_str_eq(config_method_value(&cfg, "upper-bound", "presample"),
                     "5");
    char expected[64];
    snprintf(expected, sizeof expected, "isb_cfg_%d", (int)getpid());
    cr_assert_str_eq(cfg.name, expected);
    remove(path);
}

Test(config, unknown_key_names_file_line_and_closest_key)
{
    make_path();
    write_file(path, "[training]\nbatch = 64\nepohcs = 3\n");
    Config cfg;
    IsbError err;
    config_defaults(&cfg);
    cr_assert_eq(config_load(&cfg, path, &err), ISB_ECONFIG);
    cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, ":3") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "epohcs") != NULL, "%s", err.msg);
    cr_assert(strstr(err.hint, "epochs") != NULL, "%s", err.hint);
    remove(path);
}

Test(config, unknown_section_is_an_error_with_hint)
{
    make_path();
    write_file(path, "[trainig]\nbatch = 64\n");
    Config cfg;
    IsbError err;
    config_defaults(&cfg);
    cr_assert_eq(config_load(&cfg, path, &err), ISB_ECONFIG);
    cr_assert(strstr(err.msg, "[trainig]") != NULL, "%s", err.msg);
    cr_assert(strstr(err.hint, "training") != NULL, "%s", err.hint);
    remove(path);
}

Test(config, bad_number_names_key_and_value)
{
    Config cfg;
    IsbError err;
    config_defaults(&cfg);
    cr_assert_eq(config_set(&cfg, "training.batch=12x", &err), ISB_ECONFIG);
    cr_assert(strstr(err.msg, "training.batch") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "12x") != NULL, "%s", err.msg);
    cr_assert_eq(config_set(&cfg, "training.lr=nan", &err), ISB_ECONFIG);
}

Test(config, set_overrides_and_method_keys)
{
    Config cfg;
    IsbError err;
    config_defaults(&cfg);
    cr_assert_eq(config_set(&cfg, "training.epochs=0.5", &err), 0);
    cr_assert_float_eq(cfg.epochs, 0.5, 1e-15);
    cr_assert_eq(config_set(&cfg, "method.upper-bound.presample=3", &err),
                 0, "%s", err.msg);
    cr_assert_str_eq(config_method_value(&cfg, "upper-bound", "presample"),
                     "3");
    cr_assert_neq(config_set(&cfg, "nodot=3", &err), 0);
    cr_assert_neq(config_set(&cfg, "training.batch", &err), 0);
}

Test(config, validate_requires_exactly_one_budget)
{
    Config cfg;
    IsbError err;
    config_defaults(&cfg);
    cr_assert_eq(config_validate(&cfg, &err), 0, "%s", err.msg);
    cfg.steps = 10;
    cr_assert_eq(config_validate(&cfg, &err), ISB_ECONFIG);
    cr_assert(strstr(err.msg, "budget") != NULL, "%s", err.msg);
    cfg.epochs = 0;
    cr_assert_eq(config_validate(&cfg, &err), 0);
    config_set(&cfg, "training.lr_decay_at=0.5, 1.5", &err);
    cr_assert_eq(config_validate(&cfg, &err), ISB_ECONFIG);
}

Test(config, seed_lists)
{
    unsigned long s[16];
    IsbError err;
    cr_assert_eq(config_parse_seeds("1-3", s, 16, &err), 3);
    cr_assert_eq(s[0], 1);
    cr_assert_eq(s[2], 3);
    cr_assert_eq(config_parse_seeds("4, 7,9", s, 16, &err), 3);
    cr_assert_eq(s[1], 7);
    cr_assert_lt(config_parse_seeds("3-1", s, 16, &err), 0);
    cr_assert_lt(config_parse_seeds("x", s, 16, &err), 0);
}

Test(config, edit_distance)
{
    cr_assert_eq(config_edit_distance("epochs", "epochs"), 0);
    cr_assert_eq(config_edit_distance("epohcs", "epochs"), 2);
    cr_assert_eq(config_edit_distance("", "abc"), 3);
}

Test(config, data_keys_default_off_and_are_validated)
{
    Config cfg;
    IsbError err;
    config_defaults(&cfg);
    cr_assert_str_eq(cfg.normalize, "none");
    cr_assert(cfg.augment_crop == 0 && cfg.augment_flip == 0);
    cr_assert_eq(config_validate(&cfg, &err), 0, "%s", err.msg);

    make_path();
    write_file(path, "[data]\nnormalize = channel\naugment_crop = 4\n"
               "augment_flip = 1\n[experiment]\ndataset = cifar10\n");
    cr_assert_eq(config_load(&cfg, path, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.normalize, "channel");
    cr_assert(cfg.augment_crop == 4 && cfg.augment_flip == 1);
    cr_assert_eq(config_validate(&cfg, &err), 0, "%s", err.msg);

    cr_assert_eq(config_set(&cfg, "data.augment_crop=-1", &err), 0);
    cr_assert_eq(config_validate(&cfg, &err), ISB_ECONFIG);
    cr_assert_not_null(strstr(err.msg, "data.augment_crop: -1"), "%s",
                       err.msg);
    cr_assert_neq(config_set(&cfg, "data.augment_flop=1", &err), 0);
    cr_assert_not_null(strstr(err.hint, "augment_flip"), "%s", err.hint);
    unlink(path);
}
