/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-scale — issue 13's scale benchmark: the engine's whole idle tick over every VM present, next to a bare
 * pread() of the same cgroup files on held fds, in the same run. Run by scripts/bench/scale, which starts the VMs.
 *
 *   bench-scale [--rounds R] --policy FILE --state-file FILE N
 *
 * Opens the engine in dry-run as `vmgov run --dry-run` does (the eBPF collector loaded, process events on, no status
 * or metrics file), ticks until N VMs are sensed, then times, R rounds in an order that alternates:
 *   tick   engine_tick(): discover (nothing due), place (nothing to do), sense, decide, act (nothing to change),
 *          publish (no file to write);
 *   bare   one pread() of each file the VM's sensor reads, on fds this program holds, nothing else.
 * Prints the medians (thread CPU time and wall time) per VM, and the ratio tick / bare; the means too, which count
 * what a tick does only now and then (a VM's threads listed again).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "engine.h"
#include "act/actuator.h"
#include "discover/procevents.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "policy/config.h"
#include "sense/sense.h"

static char buf[65536];

/* The bare reads: every file each sensed VM's sensor reads, held open here. */
struct bare {
        int *fd;
        size_t n;
};

static int bare_open(const struct engine *e, struct bare *ret)
{
        size_t allocated = e->n_vms * _SENSE_FILE_MAX;

        ret->fd = calloc(allocated, sizeof(int));
        if (!ret->fd)
                return -ENOMEM;
        for (size_t i = 0; i < e->n_vms; i++) {
                const struct vm_state *vm = &e->vms[i];
                unsigned missing;

                if (!vm->sensor || vm->sense_fd < 0)
                        continue;
                missing = sense_vm_missing(vm->sensor);
                for (unsigned f = 0; f < _SENSE_FILE_MAX; f++) {
                        if (missing & SENSE_FILE_BIT(f))
                                continue;
                        int fd = openat(vm->sense_fd, sense_file_name(f), O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                return -errno;
                        ret->fd[ret->n++] = fd;
                }
        }
        return 0;
}

static struct cost pass_bare(const struct bare *b)
{
        struct cost t0 = cost_start();
        for (size_t i = 0; i < b->n; i++)
                if (pread(b->fd[i], buf, sizeof(buf) - 1, 0) < 0)
                        abort();
        return cost_end(t0);
}

static struct cost pass_tick(struct engine *e)
{
        if (e->procevents) /* whatever else ran on the machine meanwhile: the daemon handles it between ticks */
                (void)procevents_dispatch(e->procevents);
        struct cost t0 = cost_start();
        if (engine_tick(e) < 0)
                abort();
        return cost_end(t0);
}

static size_t vms_sensed(const struct engine *e)
{
        size_t n = 0;
        for (size_t i = 0; i < e->n_vms; i++)
                n += e->vms[i].sensor != NULL;
        return n;
}

static void usage(void)
{
        fprintf(stderr, "usage: bench-scale [--rounds R] --policy FILE --state-file FILE N\n");
        exit(2);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {{"rounds", required_argument, NULL, 'r'},
                                                {"policy", required_argument, NULL, 'p'},
                                                {"state-file", required_argument, NULL, 's'},
                                                {}};
        struct engine_options opt = {.roots = {.proc = "/proc", .sys = "/sys", .root = "/"},
                                     .dry_run = true,
                                     .status_path = "none",
                                     .metrics_file = "none",
                                     .audit_log = "none",
                                     .command = "bench-scale",
                                     .sense = true};
        struct cost tick[BENCH_ROUNDS_MAX], bare[BENCH_ROUNDS_MAX];
        struct config_error err = {0};
        struct config_env env;
        struct policy *policy = NULL;
        struct engine e;
        struct bare b = {0};
        unsigned rounds = 15;
        size_t n, sensed = 0;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        rounds = (unsigned)atoi(optarg);
                        break;
                case 'p':
                        opt.policy_path = optarg;
                        break;
                case 's':
                        opt.state_path = optarg;
                        break;
                default:
                        usage();
                }
        }
        if (optind + 1 != argc || !opt.policy_path || !opt.state_path || rounds < 1 || rounds > BENCH_ROUNDS_MAX)
                usage();
        n = strtoul(argv[optind], NULL, 10);

        /* as vmgov run does: the soft limit of open files raised to the hard one */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
        log_set_max_level(LOG_WARNING);
        engine_config_env(&env);
        if (config_load(opt.policy_path, &env, &policy, &err) < 0) {
                config_error_format(&err, (char *)buf, sizeof(buf));
                fprintf(stderr, "%s\n", buf);
                return 1;
        }
        if (engine_open(&e, &opt, policy) < 0)
                return 1;

        /* process events, as the daemon has them: discovery then scans /proc only as a safety net (once a minute) */
        if (procevents_open(engine_on_exec, engine_on_exit, &e, &e.procevents) == 0) {
                procevents_set_handlers(e.procevents, engine_on_fork, engine_on_uid);
                procevents_set_thread_handler(e.procevents, engine_on_thread);
                e.events = true;
        } else
                fprintf(stderr, "bench-scale: no process events: every tick scans /proc\n");

        /* the first tick finds and places them, the second senses them */
        for (unsigned t = 0; t < 10 && (sensed = vms_sensed(&e)) < n; t++)
                if (engine_tick(&e) < 0)
                        return 1;
        if (sensed < n) {
                fprintf(stderr, "bench-scale: %zu of %zu VMs sensed after 10 ticks (%zu found)\n", sensed, n, e.n_vms);
                return 1;
        }
        if (bare_open(&e, &b) < 0) {
                fprintf(stderr, "bench-scale: cannot open the files the sensors read\n");
                return 1;
        }
        printf("%zu VMs sensed, %zu files (%.1f per VM)\n", sensed, b.n, (double)b.n / (double)sensed);

        /* one warm-up round of each, then the timed ones, alternating which goes first */
        pass_tick(&e);
        pass_bare(&b);
        for (unsigned r = 0; r < rounds; r++) {
                if (r % 2) {
                        bare[r] = pass_bare(&b);
                        tick[r] = pass_tick(&e);
                } else {
                        tick[r] = pass_tick(&e);
                        bare[r] = pass_bare(&b);
                }
        }
        uint64_t t = bench_report("tick", tick, rounds, sensed);
        uint64_t p = bench_report("bare", bare, rounds, sensed);
        uint64_t tm = bench_mean_cpu(tick, rounds, sensed), pm = bench_mean_cpu(bare, rounds, sensed);
        printf("idle tick / bare pread (cpu medians): %.2fx over %u rounds (means: %.2fx)\n",
               p ? (double)t / (double)p : 0.0, rounds, pm ? (double)tm / (double)pm : 0.0);
        printf("ticks %u, scans of /proc %u, writes %u (dry-run: would write %u)\n", e.ticks, e.scans,
               e.act ? e.act->writes : 0, e.act ? e.act->would_writes : 0);

        for (size_t i = 0; i < b.n; i++)
                close(b.fd[i]);
        free(b.fd);
        engine_close(&e);
        return 0;
}
