/*
 * cli_sweep.c - `isbench sweep`: every (method, seed) pair of an
 * experiment as its own `isbench run` process, N at a time.
 *
 * Each child is this same binary (/proc/self/exe) with `run ... --quiet`,
 * its output in OUT/EXPERIMENT/logs/METHOD-seed-N.log. Finished runs are
 * skipped, so rerunning the command resumes an interrupted sweep.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/cli.h"
#include "harness/config.h"
#include "harness/results.h"
#include "harness/sweep.h"

#define MAX_SETS 64
#define MAX_PARALLEL 64

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct SweepArgs {
    const char *experiment;
    const char *methods;
    const char *seeds;
    const char *out;
    long parallel;
    const char *sets[MAX_SETS];
    int n_sets;
} SweepArgs;

static int parse_sweep_args(int argc, char **argv, SweepArgs *a)
{
    memset(a, 0, sizeof *a);
    a->out = "results";
    a->parallel = 1;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(arg, "--methods") == 0 && has_value) {
            a->methods = argv[++i];
        } else if (strcmp(arg, "--seeds") == 0 && has_value) {
            a->seeds = argv[++i];
        } else if (strcmp(arg, "--out") == 0 && has_value) {
            a->out = argv[++i];
        } else if (strcmp(arg, "-j") == 0 && has_value) {
            char *end;
            errno = 0;
            a->parallel = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || errno != 0 ||
                a->parallel < 1 || a->parallel > MAX_PARALLEL) {
                fprintf(stderr, "error: -j '%s': expected an integer in "
                        "[1, %d]\n", argv[i], MAX_PARALLEL);
                return -1;
            }
        } else if (strcmp(arg, "--set") == 0 && has_value) {
            if (a->n_sets == MAX_SETS) {
                fprintf(stderr, "error: more than %d --set\n", MAX_SETS);
                return -1;
            }
            a->sets[a->n_sets++] = argv[++i];
        } else if (arg[0] == '-') {
            fprintf(stderr, "error: sweep: unknown or incomplete option "
                    "'%s'\n", arg);
            return -1;
        } else if (a->experiment == NULL) {
            a->experiment = arg;
        } else {
            fprintf(stderr, "error: sweep: unexpected argument '%s'\n",
                    arg);
            return -1;
        }
    }
    if (a->experiment == NULL) {
        fprintf(stderr, "error: sweep needs EXPERIMENT.ini\n");
        cli_usage(stderr);
        return -1;
    }
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Start one run in a child process; returns its pid or -1. The child's
 * stdout and stderr go to log_path. */
static pid_t start_run(const SweepArgs *a, const SweepJob *j, int threads,
                       const char *log_path)
{
    char seed[32], thread_set[64], thread_env[32];
    snprintf(seed, sizeof seed, "%lu", j->seed);
    snprintf(thread_set, sizeof thread_set, "training.threads=%d", threads);
    snprintf(thread_env, sizeof thread_env, "%d", threads);

    /* The sweep's thread count first, so a user's --set overrides it. */
    const char *args[16 + 2 * MAX_SETS];
    int n = 0;
    args[n++] = "isbench";
    args[n++] = "run";
    args[n++] = a->experiment;
    args[n++] = "--method";
    args[n++] = j->method_arg;
    args[n++] = "--seed";
    args[n++] = seed;
    args[n++] = "--out";
    args[n++] = a->out;
    args[n++] = "--quiet";
    args[n++] = "--set";
    args[n++] = thread_set;
    for (int i = 0; i < a->n_sets; i++) {
        args[n++] = "--set";
        args[n++] = a->sets[i];
    }
    args[n] = NULL;

    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    setenv("OPENBLAS_NUM_THREADS", thread_env, 1);
    execv("/proc/self/exe", (char *const *)args);
    fprintf(stderr, "error: cannot start /proc/self/exe (%s)\n",
            strerror(errno));
    _exit(127);
}

typedef struct Slot {
    pid_t pid;
    size_t job;
    double started;
} Slot;

typedef struct Tally {
    int ran, done, failed;
} Tally;

/* Report one finished child and count it. */
static void finish_run(const SweepJob *j, int wstatus, double seconds,
                       const char *log_dir, size_t index, size_t total,
                       Tally *t)
{
    char status[32];
    IsbError err;
    isb_error_clear(&err);
    if (sweep_read_status(j->run_dir, status, sizeof status, &err) != 0) {
        snprintf(status, sizeof status, "unreadable");
    }
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
                                  : 128 + WTERMSIG(wstatus);
    t->ran++;
    if (code == 0 && strcmp(status, "done") == 0) {
        t->done++;
        fprintf(stderr, "sweep: [%zu/%zu] %s seed %lu: done in %.1f s\n",
                index, total, j->method, j->seed, seconds);
        return;
    }
    t->failed++;
    fprintf(stderr, "sweep: [%zu/%zu] %s seed %lu: %s (exit %d) after "
            "%.1f s; log: %s/%s-seed-%lu.log\n", index, total, j->method,
            j->seed, status[0] ? status : "failed", code, seconds, log_dir,
            j->method, j->seed);
}

/* Steps: load the experiment, plan, then keep `parallel` runs going. */
int cli_sweep(int argc, char **argv)
{
    SweepArgs a;
    if (parse_sweep_args(argc, argv, &a) != 0) {
        return 2;
    }

    /* 1. the experiment, exactly as every run will see it */
    IsbError err;
    isb_error_clear(&err);
    static Config cfg;
    config_defaults(&cfg);
    if (config_load(&cfg, a.experiment, &err) != 0) {
        return cli_fail(&err);
    }
    for (int i = 0; i < a.n_sets; i++) {
        if (config_set(&cfg, a.sets[i], &err) != 0) {
            return cli_fail(&err);
        }
    }
    if (config_validate(&cfg, &err) != 0) {
        return cli_fail(&err);
    }

    /* 2. the plan */
    SweepPlan plan;
    if (sweep_plan(&cfg, a.methods, a.seeds, a.out, &plan, &err) != 0) {
        return cli_fail(&err);
    }
    char log_dir[4200];
    snprintf(log_dir, sizeof log_dir, "%s/%s/logs", a.out, cfg.name);
    if (results_mkdirs(log_dir, &err) != 0) {
        sweep_plan_free(&plan);
        return cli_fail(&err);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = sweep_threads_per_run(cores > 0 ? (int)cores : 1,
                                        (int)a.parallel);
    size_t todo = plan.n_jobs - plan.n_done;
    fprintf(stderr, "sweep: %s: %zu runs, %zu already done, %zu to run, "
            "%ld at a time with %d BLAS thread%s each\n", cfg.name,
            plan.n_jobs, plan.n_done, todo, a.parallel, threads,
            threads == 1 ? "" : "s");

    /* 3. the runs */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    Slot slots[MAX_PARALLEL];
    int busy = 0;
    size_t next = 0, started = 0;
    Tally tally = {0, 0, 0};
    for (;;) {
        while (!stop_requested && busy < a.parallel && next < plan.n_jobs) {
            const SweepJob *j = &plan.jobs[next];
            if (strcmp(j->status, "done") == 0) {
                next++;
                continue;
            }
            char log_path[4400];
            snprintf(log_path, sizeof log_path, "%s/%s-seed-%lu.log",
                     log_dir, j->method, j->seed);
            pid_t pid = start_run(&a, j, threads, log_path);
            if (pid < 0) {
                fprintf(stderr, "error: sweep: fork failed (%s)\n",
                        strerror(errno));
                stop_requested = 1;
                break;
            }
            slots[busy++] = (Slot){pid, next++, now_seconds()};
        }
        if (busy == 0) {
            break;
        }
        int wstatus;
        pid_t pid = waitpid(-1, &wstatus, 0);
        if (pid < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        for (int k = 0; k < busy; k++) {
            if (slots[k].pid == pid) {
                finish_run(&plan.jobs[slots[k].job], wstatus,
                           now_seconds() - slots[k].started, log_dir,
                           ++started, todo, &tally);
                slots[k] = slots[--busy];
                break;
            }
        }
    }

    /* 4. the tally */
    size_t not_started = todo - (size_t)tally.ran;
    fprintf(stderr, "sweep: %s: %d run, %d done, %d failed or diverged, "
            "%zu skipped as already done%s\n", cfg.name, tally.ran,
            tally.done, tally.failed, plan.n_done,
            stop_requested ? " (interrupted)" : "");
    if (stop_requested && not_started > 0) {
        fprintf(stderr, "sweep: %zu runs not started; rerun the same "
                "command to resume\n", not_started);
    }
    sweep_plan_free(&plan);
    if (stop_requested) {
        return 130;
    }
    return tally.failed > 0 ? 1 : 0;
}
