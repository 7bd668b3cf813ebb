/*
 * runner.c - the training loop and its logs (see runner.h).
 *
 * Math names: N training examples, b batch size, d features per example,
 * m candidates in a scoring pass (m <= b * max_presample).
 */
#include "runner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_version.h>

#include "blas.h"
#include "datasets/augment.h"
#include "datasets/dataset.h"
#include "fpenv.h"
#include "network.h"
#include "optim.h"
#include "results.h"
#include "rng.h"
#include "variance.h"

typedef struct Runner {
    const RunOptions *opt;
    const Config *cfg;
    const IsbSamplerType *method;
    Dataset train, test;
    Network *net;
    Optimizer *optim;
    Schedule sched;
    gsl_rng *rng_init, *rng_sampler, *rng_eval, *rng_augment, *rng_probe;
    VarianceProbe *probe;          /* probes.variance, else NULL */
    IsbFeedback last_fb;           /* the step just trained */
    IsbHost host;
    void *mstate;
    char started[32];

    size_t b, d, max_rows;
    long total_steps;              /* -1 for a seconds budget */
    float *x;                      /* [max_rows][d] input rows */
    int *y;                        /* [max_rows] labels */

    /* Training-time augmentation (augment.h). Each step draws one key
     * from the "augment" stream; an example's transform is a function of
     * (key, index), so scoring and training in the same step see the same
     * image. Evaluation never augments. */
    AugmentSpec aug;
    uint64_t aug_key;
    float *x_plain;                /* [max_rows][d], NULL when off */

    /* The last scoring pass of this step (host->score). */
    size_t *cand_idx;              /* [max_rows] */
    float *cand_loss, *cand_score, *cand_gnorm;  /* [max_rows] */
    unsigned char *cand_correct;   /* [max_rows] */
    IsbScores scored;
    int cand_valid, cand_has_gnorm;

    /* The batch being trained. */
    size_t *bidx, *brow;           /* [b] */
    float *bw, *bloss, *bscore, *bgnorm;  /* [b] */
    unsigned char *bcorrect;       /* [b] */

    /* Fixed evaluation subsets (common to every method of a seed). */
    size_t *train_eval, *test_eval;
    size_t n_train_eval, n_test_eval;

    long step;
    long long samples_trained, samples_scored;
    double train_seconds, sampler_seconds, eval_seconds, t_start;
    double score_seconds;          /* inside host_score */
    double last_batch_loss, last_lr, last_max_w, last_ess;
    long last_eval_step;
    RunSummary sum;
    CsvWriter evals, steps;
} Runner;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *runner_status_name(RunStatus s)
{
    static const char *names[] = {"running", "done", "diverged",
                                  "interrupted", "failed"};
    return (unsigned)s < 5 ? names[s] : "unknown";
}

/* ---- data ------------------------------------------------------------ */

/* data.normalize = channel: both splits use the training set's
 * per-channel mean and standard deviation. */
static int normalize_splits(const Config *cfg, Dataset *train,
                            Dataset *test, IsbError *err)
{
    float mean[DATASET_MAX_CHANNELS], std[DATASET_MAX_CHANNELS];
    if (strcmp(cfg->normalize, "channel") != 0) {
        return 0;
    }
    int rc = dataset_channel_stats(train, mean, std, err);
    if (rc != 0) {
        return isb_hint(err, "data.normalize = channel applies to image "
                        "datasets; use none for %s", cfg->dataset);
    }
    dataset_set_normalization(train, mean, std);
    dataset_set_normalization(test, mean, std);
    return 0;
}

int runner_load_data(const Config *cfg, unsigned long seed, Dataset *train,
                     Dataset *test, IsbError *err)
{
    if (strcmp(cfg->dataset, "synthetic") == 0) {
        SyntheticSpec spec = {
            .n_train = cfg->syn_train > 0 ? (size_t)cfg->syn_train : 0,
            .n_test = cfg->syn_test > 0 ? (size_t)cfg->syn_test : 0,
            .dim = (int)cfg->syn_dim,
            .n_classes = (int)cfg->syn_classes,
            .separation = cfg->syn_separation,
            .label_noise = cfg->syn_label_noise,
        };
        int rc = dataset_synthetic(&spec, rng_derive_seed(seed, "data"),
                                   train, test, err);
        if (rc == 0 && (rc = normalize_splits(cfg, train, test, err)) != 0) {
            dataset_free(train);
            dataset_free(test);
        }
        return rc;
    }
    const char *dir = cfg->data_dir[0] != '\0' ? cfg->data_dir : NULL;
    int rc = dataset_load_named(cfg->dataset, "train", dir, train, err);
    if (rc != 0) {
        return rc;
    }
    rc = dataset_load_named(cfg->dataset, "test", dir, test, err);
    if (rc != 0) {
        dataset_free(train);
        return rc;
    }
    rc = normalize_splits(cfg, train, test, err);
    if (rc != 0) {
        dataset_free(train);
        dataset_free(test);
    }
    return rc;
}

/* ---- training rows ------------------------------------------------------ */

/* Convert training rows idx [m] into r->x and r->y, augmented with this
 * step's transforms when augmentation is on. Both the scoring pass and
 * the training forward pass come through here. */
static void train_rows(Runner *r, const size_t *idx, size_t m)
{
    if (r->x_plain == NULL) {
        dataset_batch(&r->train, idx, m, r->x, r->y);
        return;
    }
    dataset_batch(&r->train, idx, m, r->x_plain, r->y);
    augment_rows_keyed(&r->aug, r->aug_key, idx, m, r->train.c,
                       r->train.h, r->train.w, r->x_plain, r->x);
}

/* ---- scoring, the service methods call -------------------------------- */

static int host_score(void *ctx, const size_t *idx, size_t m,
                      int want_gnorm, IsbScores *out)
{
    Runner *r = ctx;
    if (m == 0 || m > r->host.max_score) {
        return -1;
    }
    for (size_t i = 0; i < m; i++) {
        if (idx[i] >= r->train.n) {
            return -1;
        }
    }
    double t0 = now_seconds();
    memcpy(r->cand_idx, idx, m * sizeof *idx);
    train_rows(r, idx, m);
    ForwardOut fo = {r->cand_loss, r->cand_score, r->cand_correct};
    network_forward(r->net, r->x, r->y, m, &fo);
    if (want_gnorm) {
        network_grad_norms(r->net, m, r->cand_gnorm);
    }
    r->samples_scored += (long long)m;
    r->cand_valid = 1;
    r->cand_has_gnorm = want_gnorm != 0;
    r->scored = (IsbScores){m, r->cand_idx, r->cand_loss, r->cand_score,
                            want_gnorm ? r->cand_gnorm : NULL};
    *out = r->scored;
    r->score_seconds += now_seconds() - t0;
    return 0;
}

/* ---- evaluation (off the clock) --------------------------------------- */

static void evaluate_set(Runner *r, const Dataset *ds, const size_t *idx,
                         size_t n, double *loss, double *error)
{
    double sum_loss = 0;
    size_t wrong = 0;
    for (size_t start = 0; start < n; start += r->max_rows) {
        size_t m = n - start < r->max_rows ? n - start : r->max_rows;
        dataset_batch(ds, idx + start, m, r->x, r->y);
        ForwardOut fo = {r->cand_loss, NULL, r->cand_correct};
        network_forward(r->net, r->x, r->y, m, &fo);
        for (size_t i = 0; i < m; i++) {
            sum_loss += r->cand_loss[i];
            wrong += r->cand_correct[i] == 0;
        }
    }
    *loss = sum_loss / (double)n;
    *error = (double)wrong / (double)n;
}

static void report_of(const Runner *r, IsbReport *rep)
{
    rep->tau = NAN;
    rep->is_active = -1;
    if (r->method->report != NULL) {
        r->method->report(r->mstate, rep);
    }
}

/* probes.variance: the run method's gradient variance and uniform's on a
 * fresh pool from the probe stream. Draw leaves the method's state alone
 * and the probe has its own generator, so the trajectory is unchanged. */
static int probe_variance(Runner *r, ProbeValues *pv, IsbError *err)
{
    if (r->probe == NULL) {
        return 0;
    }
    VarianceResult vr;
    int rc = variance_probe_pool(r->probe, r->rng_probe, err);
    if (rc == 0) {
        rc = variance_probe_method(r->probe, r->method, r->mstate,
                                   r->rng_probe, &vr, err);
    }
    if (rc == 0) {
        pv->variance = isnan(vr.exact) ? vr.mc : vr.exact;
        pv->variance_uniform = vr.uniform;
    }
    return rc;
}

static int evaluate(Runner *r, IsbError *err)
{
    double t0 = now_seconds();
    r->cand_valid = 0;
    evaluate_set(r, &r->train, r->train_eval, r->n_train_eval,
                 &r->sum.train_loss, &r->sum.train_error);
    evaluate_set(r, &r->test, r->test_eval, r->n_test_eval,
                 &r->sum.test_loss, &r->sum.test_error);
    ProbeValues pv = {NAN, NAN};
    int rc = probe_variance(r, &pv, err);
    r->eval_seconds += now_seconds() - t0;
    r->last_eval_step = r->step;

    IsbReport rep;
    report_of(r, &rep);
    CsvWriter *w = &r->evals;
    csv_put_int(w, RESULTS_SCHEMA_VERSION);
    csv_put_str(w, r->cfg->name);
    csv_put_str(w, r->method->name);
    csv_put_int(w, (long long)r->opt->seed);
    csv_put_int(w, r->step);
    csv_put_num(w, (double)r->samples_trained / (double)r->train.n);
    csv_put_int(w, r->samples_trained);
    csv_put_int(w, r->samples_scored);
    csv_put_num(w, r->train_seconds);
    csv_put_num(w, r->eval_seconds);
    csv_put_num(w, now_seconds() - r->t_start);
    csv_put_num(w, r->sum.train_loss);
    csv_put_num(w, r->sum.train_error);
    csv_put_num(w, r->sum.test_loss);
    csv_put_num(w, r->sum.test_error);
    csv_put_num(w, rep.tau);
    csv_put_int(w, rep.is_active);
    csv_put_num(w, r->sampler_seconds);
    csv_put_num(w, pv.variance);
    csv_put_num(w, pv.variance_uniform);
    csv_put_num(w, pv.variance / pv.variance_uniform);
    csv_put_num(w, r->step > 0 ? r->last_max_w : NAN);
    csv_put_num(w, r->step > 0 ? r->last_ess : NAN);
    csv_end_row(w);
    return rc;
}

static const char *const eval_columns[] = {
    "schema_version", "experiment", "method", "seed", "step", "epoch",
    "samples_trained", "samples_scored", "train_seconds", "eval_seconds",
    "wall_seconds", "train_loss", "train_error", "test_loss", "test_error",
    "tau", "is_active", "sampler_seconds", "grad_variance",
    "grad_variance_uniform", "grad_variance_ratio", "max_weight",
    "ess_fraction"};

static const char *const step_columns[] = {
    "step", "epoch", "train_seconds", "batch_loss", "lr", "tau",
    "is_active", "max_weight", "ess_fraction", "samples_scored",
    "sampler_seconds"};

static void log_step(Runner *r)
{
    IsbReport rep;
    report_of(r, &rep);
    CsvWriter *w = &r->steps;
    csv_put_int(w, r->step);
    csv_put_num(w, (double)r->samples_trained / (double)r->train.n);
    csv_put_num(w, r->train_seconds);
    csv_put_num(w, r->last_batch_loss);
    csv_put_num(w, r->last_lr);
    csv_put_num(w, rep.tau);
    csv_put_int(w, rep.is_active);
    csv_put_num(w, r->last_max_w);
    csv_put_num(w, r->last_ess);
    csv_put_int(w, r->samples_scored);
    csv_put_num(w, r->sampler_seconds);
    csv_end_row(w);
}

/* ---- one training step ------------------------------------------------ */

static double budget_progress(const Runner *r)
{
    if (r->total_steps > 0) {
        return (double)r->step / (double)r->total_steps;
    }
    return r->train_seconds / r->cfg->seconds;
}

/* Check what the method returned: valid indices and rows, finite positive
 * weights. Plugin output is input, not a programmer error. */
static int check_batch(Runner *r, const IsbBatch *batch, IsbError *err)
{
    for (size_t j = 0; j < r->b; j++) {
        if (batch->idx[j] >= r->train.n) {
            return isb_fail(err, ISB_EPLUGIN, "method %s: draw returned "
                            "index %zu (expected < %zu)", r->method->name,
                            batch->idx[j], r->train.n);
        }
        if (!(batch->weight[j] > 0) || !isfinite(batch->weight[j])) {
            return isb_fail(err, ISB_EPLUGIN, "method %s: draw returned "
                            "weight %g (expected finite and > 0)",
                            r->method->name, (double)batch->weight[j]);
        }
        if (batch->from_scored &&
            (!r->cand_valid || batch->row[j] >= r->scored.m ||
             r->cand_idx[batch->row[j]] != batch->idx[j])) {
            return isb_fail(err, ISB_EPLUGIN, "method %s: batch row %zu "
                            "does not match the scored candidates",
                            r->method->name, j);
        }
    }
    return 0;
}

/* Forward pass for the batch, or reuse of the scoring pass. */
static void batch_forward(Runner *r, const IsbBatch *batch)
{
    if (batch->from_scored) {
        network_gather(r->net, batch->row, r->b);
        for (size_t j = 0; j < r->b; j++) {
            r->bloss[j] = r->cand_loss[batch->row[j]];
            r->bscore[j] = r->cand_score[batch->row[j]];
            if (r->cand_has_gnorm) {
                r->bgnorm[j] = r->cand_gnorm[batch->row[j]];
            }
        }
        return;
    }
    train_rows(r, batch->idx, r->b);
    ForwardOut fo = {r->bloss, r->bscore, r->bcorrect};
    network_forward(r->net, r->x, r->y, r->b, &fo);
    r->cand_has_gnorm = 0;
}

static void batch_stats(Runner *r)
{
    double sum = 0, sum_sq = 0, max_w = 0, loss = 0;
    for (size_t j = 0; j < r->b; j++) {
        double w = r->bw[j];
        sum += w;
        sum_sq += w * w;
        max_w = w > max_w ? w : max_w;
        loss += r->bloss[j];
    }
    r->last_max_w = max_w;
    r->last_ess = sum * sum / ((double)r->b * sum_sq);
    r->last_batch_loss = loss / (double)r->b;
}

static int runner_step(Runner *r, IsbError *err)
{
    const IsbSamplerType *m = r->method;
    double t0 = now_seconds();
    r->cand_valid = 0;
    if (r->x_plain != NULL) {
        uint64_t hi = gsl_rng_get(r->rng_augment);
        r->aug_key = hi << 32 | (uint64_t)gsl_rng_get(r->rng_augment);
    }

    /* 1. draw (the method may score candidates) */
    IsbBatch batch = {r->b, r->bidx, r->bw, r->brow, 0};
    if (m->draw(r->mstate, &r->host, r->rng_sampler, &batch) != 0) {
        return isb_fail(err, ISB_EPLUGIN, "method %s: draw failed at step "
                        "%ld", m->name, r->step);
    }
    int rc = check_batch(r, &batch, err);
    if (rc != 0) {
        return rc;
    }
    int scored = r->cand_valid;
    double t_drawn = now_seconds();

    /* 2. forward (or reuse), per-example norms if wanted, backward */
    batch_forward(r, &batch);
    int want_gnorm = (m->flags & ISB_SAMPLER_NEEDS_GNORM) != 0;
    if (want_gnorm && !(batch.from_scored && r->cand_has_gnorm)) {
        network_grad_norms(r->net, r->b, r->bgnorm);
    }
    r->last_lr = schedule_lr(&r->sched, budget_progress(r));
    double wloss = network_backward(r->net, r->bw, r->b,
                                    (float)r->cfg->l2);
    batch_stats(r);
    if (!isfinite(wloss) || !isfinite(r->last_batch_loss)) {
        return ISB_EDIVERGED;
    }

    /* 3. update, then let the method observe the step */
    optim_step(r->optim, network_params(r->net), network_grads(r->net),
               r->last_lr);
    double t_observe = now_seconds();
    IsbFeedback fb = {r->b, r->bidx, r->bw, r->bloss, r->bscore,
                      want_gnorm ? r->bgnorm : NULL,
                      scored ? &r->scored : NULL, r->step};
    r->last_fb = fb;
    if (m->observe(r->mstate, &fb, r->rng_sampler) != 0) {
        return isb_fail(err, ISB_EPLUGIN, "method %s: observe failed at "
                        "step %ld", m->name, r->step);
    }
    double t1 = now_seconds();

    r->sampler_seconds += (t_drawn - t0) + (t1 - t_observe);
    r->train_seconds += t1 - t0;
    r->step++;
    r->samples_trained += (long long)r->b;
    return 0;
}

/* ---- setup and teardown ----------------------------------------------- */

static size_t *eval_subset(size_t n, long want, gsl_rng *rng, size_t *out_n)
{
    size_t k = want > 0 && (size_t)want < n ? (size_t)want : n;
    size_t *all = malloc(n * sizeof *all);
    size_t *sub = malloc(k * sizeof *sub);
    if (all == NULL || sub == NULL) {
        free(all);
        free(sub);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        all[i] = i;
    }
    if (k < n) {
        gsl_ran_choose(rng, sub, k, all, n, sizeof *all);
    } else {
        memcpy(sub, all, n * sizeof *all);
    }
    free(all);
    *out_n = k;
    return sub;
}

static int alloc_buffers(Runner *r)
{
    size_t rows = r->max_rows, b = r->b;
    r->x = malloc(rows * r->d * sizeof *r->x);
    r->y = malloc(rows * sizeof *r->y);
    r->cand_idx = malloc(rows * sizeof *r->cand_idx);
    r->cand_loss = malloc(rows * sizeof *r->cand_loss);
    r->cand_score = malloc(rows * sizeof *r->cand_score);
    r->cand_gnorm = malloc(rows * sizeof *r->cand_gnorm);
    r->cand_correct = malloc(rows);
    r->bidx = malloc(b * sizeof *r->bidx);
    r->brow = calloc(b, sizeof *r->brow);
    r->bw = malloc(b * sizeof *r->bw);
    r->bloss = malloc(b * sizeof *r->bloss);
    r->bscore = malloc(b * sizeof *r->bscore);
    r->bgnorm = malloc(b * sizeof *r->bgnorm);
    r->bcorrect = malloc(b);
    return r->x && r->y && r->cand_idx && r->cand_loss && r->cand_score &&
           r->cand_gnorm && r->cand_correct && r->bidx && r->brow &&
           r->bw && r->bloss && r->bscore && r->bgnorm && r->bcorrect;
}

static void runner_free(Runner *r)
{
    if (r->mstate != NULL) {
        r->method->fini(r->mstate);
    }
    free(r->x);
    free(r->x_plain);
    free(r->y);
    free(r->cand_idx);
    free(r->cand_loss);
    free(r->cand_score);
    free(r->cand_gnorm);
    free(r->cand_correct);
    free(r->bidx);
    free(r->brow);
    free(r->bw);
    free(r->bloss);
    free(r->bscore);
    free(r->bgnorm);
    free(r->bcorrect);
    free(r->train_eval);
    free(r->test_eval);
    optim_free(r->optim);
    network_free(r->net);
    gsl_rng_free(r->rng_init);
    gsl_rng_free(r->rng_sampler);
    gsl_rng_free(r->rng_eval);
    gsl_rng_free(r->rng_augment);
    gsl_rng_free(r->rng_probe);
    variance_probe_free(r->probe);
    dataset_free(&r->train);
    dataset_free(&r->test);
}

static int setup_optimizer(Runner *r, IsbError *err)
{
    const Config *cfg = r->cfg;
    OptimSpec spec;
    OptimKind kind;
    int rc = optim_kind_parse(cfg->optimizer, &kind, err);
    if (rc != 0) {
        return rc;
    }
    optim_defaults(kind, &spec);
    spec.lr = cfg->lr;
    spec.momentum = cfg->momentum;
    spec.nesterov = cfg->nesterov;
    spec.rho = cfg->rho;
    spec.beta1 = cfg->beta1;
    spec.beta2 = cfg->beta2;
    spec.eps = cfg->eps;
    rc = optim_create(&spec, network_num_params(r->net), &r->optim, err);
    if (rc != 0) {
        return rc;
    }
    r->sched.base_lr = cfg->lr;
    r->sched.factor = cfg->lr_decay_factor;
    r->sched.n_at = 0;
    if (strcmp(cfg->lr_schedule, "step") == 0) {
        rc = config_parse_list(cfg->lr_decay_at, r->sched.at,
                               SCHEDULE_MAX_STEPS, "training.lr_decay_at",
                               err);
        if (rc < 0) {
            return rc;
        }
        r->sched.n_at = rc;
    }
    return 0;
}

/* The augmentation spec, its stream and its scratch rows (only when on,
 * so runs without augmentation draw nothing from the stream). */
static int setup_augment(Runner *r, IsbError *err)
{
    r->aug.pad = (int)r->cfg->augment_crop;
    r->aug.flip = r->cfg->augment_flip;
    int rc = augment_check(&r->aug, r->train.c, r->train.h, r->train.w,
                           err);
    if (rc != 0) {
        return isb_hint(err, "set data.augment_crop = 0 for %s",
                        r->cfg->dataset);
    }
    if (!augment_enabled(&r->aug)) {
        return 0;
    }
    r->rng_augment = rng_stream(r->opt->seed, "augment");
    r->x_plain = malloc(r->max_rows * r->d * sizeof *r->x_plain);
    if (r->rng_augment == NULL || r->x_plain == NULL) {
        return isb_fail(err, ISB_ENOMEM, "out of memory for augmentation");
    }
    return 0;
}

/* Data, network, optimiser, streams, method: everything that can fail on
 * bad input, before any file is written. */
static int runner_setup(Runner *r, IsbError *err)
{
    const Config *cfg = r->cfg;
    unsigned long seed = r->opt->seed;
    int rc = config_validate(cfg, err);
    if (rc == 0) {
        rc = runner_load_data(cfg, seed, &r->train, &r->test, err);
    }
    if (rc != 0) {
        return rc;
    }
    r->b = (size_t)cfg->batch;
    r->d = r->train.d;
    if (r->b > r->train.n) {
        return isb_fail(err, ISB_ECONFIG, "training.batch: %zu (expected "
                        "at most the %zu training examples)", r->b,
                        r->train.n);
    }
    r->host.max_score = r->b * (size_t)cfg->max_presample;
    r->max_rows = r->host.max_score > 1024 ? r->host.max_score : 1024;
    if (cfg->threads > 0) {
        blas_set_threads((int)cfg->threads);
    }
    rc = network_create(cfg->layers, r->train.c, r->train.h, r->train.w,
                        r->train.n_classes, r->max_rows, &r->net, err);
    if (rc != 0 || (rc = setup_optimizer(r, err)) != 0) {
        return rc;
    }
    if (!alloc_buffers(r)) {
        return isb_fail(err, ISB_ENOMEM, "out of memory for %zu rows",
                        r->max_rows);
    }
    if ((rc = setup_augment(r, err)) != 0) {
        return rc;
    }
    r->rng_init = rng_stream(seed, "init");
    r->rng_sampler = rng_stream(seed, "sampler");
    r->rng_eval = rng_stream(seed, "eval");
    if (!r->rng_init || !r->rng_sampler || !r->rng_eval) {
        return isb_fail(err, ISB_ENOMEM, "out of memory for generators");
    }
    network_init(r->net, r->rng_init);
    r->train_eval = eval_subset(r->train.n, cfg->train_subset, r->rng_eval,
                                &r->n_train_eval);
    r->test_eval = eval_subset(r->test.n, cfg->test_subset, r->rng_eval,
                               &r->n_test_eval);
    if (r->train_eval == NULL || r->test_eval == NULL) {
        return isb_fail(err, ISB_ENOMEM, "out of memory for subsets");
    }
    if (cfg->probe_variance) {
        r->rng_probe = rng_stream(seed, "probe");
        rc = r->rng_probe == NULL
            ? isb_fail(err, ISB_ENOMEM, "out of memory for generators")
            : variance_probe_create(r->net, &r->train, r->b,
                                    (size_t)cfg->probe_pool,
                                    (size_t)cfg->probe_draws, &r->probe,
                                    err);
        if (rc != 0) {
            return rc;
        }
    }

    r->host.n = r->train.n;
    r->host.b = r->b;
    r->host.n_classes = r->train.n_classes;
    r->host.ctx = r;
    r->host.score = host_score;
    char msg[512] = "";
    if (r->method->init(&r->mstate, &r->host, r->opt->method_params,
                        r->rng_sampler, msg, sizeof msg) != 0) {
        r->mstate = NULL;
        return isb_fail(err, ISB_ECONFIG, "method %s: %s", r->method->name,
                        msg[0] ? msg : "init failed");
    }
    if (cfg->epochs > 0) {
        double n = ceil(cfg->epochs * (double)r->train.n / (double)r->b);
        r->total_steps = (long)n;
    } else {
        r->total_steps = cfg->steps > 0 ? cfg->steps : -1;
    }
    return 0;
}

/* ---- the manifest ------------------------------------------------------ */

static void add_config_entry(void *ctx, const char *section,
                             const char *key, const char *value)
{
    cJSON *root = ctx;
    cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, section);
    if (sec == NULL) {
        sec = cJSON_AddObjectToObject(root, section);
    }
    cJSON_AddStringToObject(sec, key, value);
}

static int write_manifest(Runner *r, RunStatus status, IsbError *err)
{
    const RunOptions *opt = r->opt;
    cJSON *root = cJSON_CreateObject();
    char buf[512], path[4200];
    cJSON_AddNumberToObject(root, "schema_version", RESULTS_SCHEMA_VERSION);
    cJSON_AddStringToObject(root, "experiment", r->cfg->name);
    cJSON_AddStringToObject(root, "experiment_file", r->cfg->source);
    cJSON_AddStringToObject(root, "method", r->method->name);
    cJSON_AddNumberToObject(root, "seed", (double)opt->seed);
    cJSON_AddStringToObject(root, "status", runner_status_name(status));

    cJSON *streams = cJSON_AddObjectToObject(root, "stream_seeds");
    const char *names[] = RNG_STREAM_NAMES;
    for (int i = 0; i < RNG_NUM_STREAMS; i++) {
        cJSON_AddNumberToObject(streams, names[i],
                                rng_derive_seed(opt->seed, names[i]));
    }
    cJSON *params = cJSON_AddObjectToObject(root, "method_params");
    for (size_t i = 0; i < r->method->n_params; i++) {
        cJSON_AddNumberToObject(params, r->method->params[i].name,
                                opt->method_params[i]);
    }
    config_visit(r->cfg, add_config_entry,
                 cJSON_AddObjectToObject(root, "config"));
    network_describe(r->net, buf, sizeof buf);
    cJSON_AddStringToObject(root, "network", buf);
    cJSON_AddNumberToObject(root, "n_train", (double)r->train.n);
    cJSON_AddNumberToObject(root, "n_test", (double)r->test.n);
    cJSON_AddNumberToObject(root, "n_train_eval", (double)r->n_train_eval);
    cJSON_AddNumberToObject(root, "n_test_eval", (double)r->n_test_eval);

    cJSON *build = cJSON_AddObjectToObject(root, "build");
    int dirty;
    results_git_state(buf, sizeof buf, &dirty);
    cJSON_AddStringToObject(build, "git_commit", buf);
    cJSON_AddNumberToObject(build, "git_dirty", dirty);
    cJSON_AddStringToObject(build, "version", ISB_VERSION);
    cJSON_AddStringToObject(build, "compiler", ISB_C_COMPILER);
    cJSON_AddStringToObject(build, "flags", ISB_C_FLAGS);
    cJSON_AddStringToObject(build, "openblas", blas_config());
    cJSON_AddStringToObject(build, "openblas_core", blas_core());
    cJSON_AddStringToObject(build, "gsl", gsl_version);
    cJSON_AddNumberToObject(build, "threads", blas_threads());
    results_cpu_model(buf, sizeof buf);
    cJSON_AddStringToObject(build, "cpu", buf);

    cJSON_AddStringToObject(root, "start_time", r->started);
    if (status != RUN_RUNNING) {
        results_iso_time(buf, sizeof buf);
        cJSON_AddStringToObject(root, "end_time", buf);
        cJSON_AddNumberToObject(root, "steps", r->step);
        cJSON_AddNumberToObject(root, "train_seconds", r->train_seconds);
        cJSON_AddNumberToObject(root, "final_test_error",
                                r->sum.test_error);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (text == NULL) {
        return isb_fail(err, ISB_ENOMEM, "out of memory for run.json");
    }
    snprintf(path, sizeof path, "%s/run.json", opt->out_dir);
    int rc = results_write_atomic(path, text, err);
    free(text);
    return rc;
}

/* ---- the loop ---------------------------------------------------------- */

static int open_logs(Runner *r, IsbError *err)
{
    char path[4200];
    int rc = results_mkdirs(r->opt->out_dir, err);
    if (rc != 0) {
        return rc;
    }
    snprintf(path, sizeof path, "%s/evals.csv", r->opt->out_dir);
    rc = csv_open(&r->evals, path, eval_columns,
                  sizeof eval_columns / sizeof *eval_columns, err);
    if (rc != 0) {
        return rc;
    }
    snprintf(path, sizeof path, "%s/steps.csv", r->opt->out_dir);
    return csv_open(&r->steps, path, step_columns,
                    sizeof step_columns / sizeof *step_columns, err);
}

static int budget_left(const Runner *r)
{
    if (r->total_steps > 0) {
        return r->step < r->total_steps;
    }
    return r->train_seconds < r->cfg->seconds;
}

static void send_progress(Runner *r)
{
    if (r->opt->progress == NULL) {
        return;
    }
    RunProgress p = {r->step, r->total_steps,
                     (double)r->samples_trained / (double)r->train.n,
                     budget_progress(r), r->train_seconds,
                     now_seconds() - r->t_start, r->last_batch_loss,
                     r->sum.test_error};
    r->opt->progress(r->opt->progress_ctx, &p);
}

/* The caller's observer, off the clock (its time counts in no column). */
static int observe_step(Runner *r, IsbError *err)
{
    if (r->opt->observer == NULL) {
        return 0;
    }
    RunView v = {r->net, &r->train, &r->host, r->method, r->mstate,
                 &r->last_fb, r->step,
                 (double)r->samples_trained / (double)r->train.n,
                 r->step % r->cfg->eval_every == 0};
    int rc = r->opt->observer(r->opt->observer_ctx, &v, err);
    r->cand_valid = 0;
    return rc;
}

static RunStatus train_loop(Runner *r, IsbError *err, int *rc)
{
    if ((*rc = evaluate(r, err)) != 0) {
        return RUN_FAILED;
    }
    while (budget_left(r)) {
        if (r->opt->stop != NULL && *r->opt->stop) {
            return RUN_INTERRUPTED;
        }
        *rc = runner_step(r, err);
        if (*rc == ISB_EDIVERGED) {
            *rc = 0;
            return RUN_DIVERGED;
        }
        if (*rc == 0 && r->step % r->cfg->log_every == 0) {
            log_step(r);
        }
        if (*rc == 0) {
            *rc = observe_step(r, err);
        }
        if (*rc == 0 && r->step % r->cfg->eval_every == 0) {
            *rc = evaluate(r, err);
        }
        if (*rc != 0) {
            return RUN_FAILED;
        }
        send_progress(r);
    }
    return RUN_DONE;
}

int runner_run(const RunOptions *opt, RunSummary *summary, IsbError *err)
{
    Runner *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return isb_fail(err, ISB_ENOMEM, "out of memory");
    }
    r->opt = opt;
    r->cfg = opt->cfg;
    r->method = opt->method;
    r->sum.test_error = NAN;
    r->t_start = now_seconds();
    results_iso_time(r->started, sizeof r->started);
    unsigned fp_saved = fpenv_flush_subnormals();

    int rc = runner_setup(r, err);
    if (rc == 0) {
        rc = open_logs(r, err);
    }
    if (rc == 0) {
        rc = write_manifest(r, RUN_RUNNING, err);
    }
    if (rc == 0) {
        RunStatus status = train_loop(r, err, &rc);
        if (status != RUN_FAILED && r->last_eval_step != r->step) {
            rc = evaluate(r, err);
            status = rc == 0 ? status : RUN_FAILED;
        }
        r->sum.status = status;
        IsbError close_err;
        int crc = csv_close(&r->evals, &close_err);
        crc = crc != 0 ? crc : csv_close(&r->steps, &close_err);
        int mrc = write_manifest(r, status, rc == 0 ? err : NULL);
        if (rc == 0 && crc != 0) {
            *err = close_err;
            rc = crc;
        }
        rc = rc != 0 ? rc : mrc;
    }
    csv_close(&r->evals, NULL);
    csv_close(&r->steps, NULL);

    r->sum.steps = r->step;
    r->sum.epochs = r->train.n > 0
        ? (double)r->samples_trained / (double)r->train.n : 0;
    r->sum.train_seconds = r->train_seconds;
    r->sum.wall_seconds = now_seconds() - r->t_start;
    r->sum.samples_scored = r->samples_scored;
    r->sum.sampler_seconds = r->sampler_seconds;
    r->sum.score_seconds = r->score_seconds;
    if (summary != NULL) {
        *summary = r->sum;
    }
    runner_free(r);
    free(r);
    fpenv_restore(fp_saved);
    return rc;
}
