/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-publish-cost — what the daemon's two per-tick files cost per VM: the live status file (`vmgov status`,
 * engine/publish/snapshot.c) and the Prometheus textfile (engine/publish/metrics.c), each formatted for N VMs and
 * replaced atomically (a temporary file, then rename) as the daemon does every tick; next to a bare pwrite() of the
 * same bytes to a held fd, in the same run. Run by scripts/bench/publish-cost.
 *
 *   bench-publish-cost [--rounds R] DIR N
 *
 * DIR is a scratch directory (scripts/bench/publish-cost uses tmpfs, as /run is). The VMs carry realistic values:
 * every limit set, one io.max device, every signal non-zero, a 120-byte reason. Each round times, over all N VMs:
 *   status        snapshot_format_daemon + snapshot_format_vm per VM, written in 64 KiB parts as the daemon does
 *   metrics       metrics_format (a fresh buffer, as the daemon does) + metrics_write_textfile
 *   bare-status   one pwrite() of the status text to a held fd
 *   bare-metrics  one pwrite() of the metrics text to a held fd
 * in an order that rotates every round, after one warm-up round. Prints the median over the rounds in ns per VM per
 * tick (thread CPU time and wall time), the bytes per VM, and the ratio of each file to its bare write.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "kernel/fileio.h"
#include "publish/metrics.h"
#include "publish/snapshot.h"
#include "publish/stage.h"

#define ROUNDS_MAX 101

enum pass { PASS_STATUS, PASS_METRICS, PASS_BARE_STATUS, PASS_BARE_METRICS, _PASS_MAX };

static const char *const pass_name[_PASS_MAX] = {"status", "metrics", "bare-status", "bare-metrics"};

struct fleet {
        unsigned n;
        struct vm_identity *id;
        struct vm_signals *sig;
        struct snapshot_state *st;
        struct limits *lim;
        struct metrics_counters *cnt;
        struct metrics_totals *tot;
        struct metrics_vm *mv;
};

static void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n, size);
        if (!p) {
                fprintf(stderr, "bench-publish-cost: out of memory\n");
                exit(1);
        }
        return p;
}

/* One VM as a busy host shows it: every limit set, every signal moving. */
static void fleet_fill(struct fleet *f, unsigned i)
{
        struct vm_identity *id = &f->id[i];
        struct vm_signals *s = &f->sig[i];
        struct snapshot_state *st = &f->st[i];
        struct limits *l = &f->lim[i];

        id->pid = 10000 + (pid_t)i;
        id->start_time = 812345 + i;
        if (asprintf(&id->name, "web-%u", i) < 0 || !(id->exe = strdup("qemu-system-x86_64")))
                abort();
        snprintf(id->uuid, sizeof(id->uuid), "6b1c4f0e-2d7a-4c1b-9e3f-%012x", i);
        if (asprintf(&id->cgroup, "/vmgov/web/web-%u", i) < 0)
                abort();

        *s = (struct vm_signals){
                .interval_usec = 1000000,
                .cpu = {12345, 2345},
                .memory = {4567, 1234},
                .io = {890, 120},
                .cpu_usage_usec = 456789,
                .cpu_user_usec = 400000,
                .cpu_system_usec = 56789,
                .cpu_nr_periods = 10,
                .cpu_nr_throttled = 3,
                .cpu_throttled_usec = 23456,
                .memory_current = 2147483648u + i * 4096u,
                .memory_anon = 1879048192,
                .memory_file = 201326592,
                .memory_kernel = 33554432,
                .memory_shmem = 4096,
                .memory_sock = 8192,
                .memory_unreclaimable = 33554432,
                .memory_high = 4294967296u,
                .memory_max = LIMIT_MAX,
                .memory_events_high = 2,
                .memory_reclaim = 1,
                .n_io_devices = 1,
                .io_devices = {{253, 0, 10485760, 2097152, 2560, 512}},
                .runq = {.source = RUNQ_SOURCE_BPF,
                         .samples = 5321,
                         .p50_usec = 12,
                         .p90_usec = 85,
                         .p99_usec = 940,
                         .vcpu_p99_usec = 1210,
                         .tick = {.buckets = true,
                                  .count = {[10] = 2000, [13] = 2500, [16] = 800, [19] = 21},
                                  .samples = 5321,
                                  .sum_ns = 93000000},
                         .vcpu_tick = {.buckets = true,
                                       .count = {[12] = 900, [17] = 100},
                                       .samples = 1000,
                                       .sum_ns = 21000000}},
        };
        s->psi.cpu.some = (struct psi_line){1659, 1055, 304, 10785764};
        s->psi.memory.some = (struct psi_line){976, 460, 146, 27828520};
        s->psi.io.some = (struct psi_line){12, 5, 1, 982734};

        *l = (struct limits){
                .cpu_weight_set = true,
                .cpu_weight = 200,
                .cpu_max_set = true,
                .cpu_quota_usec = 150000,
                .cpu_period_usec = 100000,
                .memory_high_set = true,
                .memory_high = 4294967296u,
                .memory_max_set = true,
                .memory_max = 6442450944u,
                .io_weight_set = true,
                .io_weight = 100,
                .n_io_devices = 1,
                .io_devices = {{253, 0, 52428800, LIMIT_MAX, 2000, LIMIT_MAX}},
        };
        f->cnt[i] = (struct metrics_counters){.decisions = {3, 1, 2}, .write_errors = 0};

        *st = (struct snapshot_state){.sensed = true, .decisions = 6, .decided_usec = 1795689220000000};
        snprintf(st->group, sizeof(st->group), "web");
        snprintf(st->cgroup, sizeof(st->cgroup), "/vmgov/web/web-%u", i);
        snprintf(st->cpu_max, sizeof(st->cpu_max), "150000 100000");
        snprintf(st->cpu_weight, sizeof(st->cpu_weight), "200");
        snprintf(st->memory_high, sizeof(st->memory_high), "4294967296");
        snprintf(st->memory_max, sizeof(st->memory_max), "6442450944");
        snprintf(st->io_max, sizeof(st->io_max), "253:0 rbps=52428800 wbps=max riops=2000 wiops=max");
        snprintf(st->reason, sizeof(st->reason),
                 "cpu: run-queue p99 940us > target 500us on web-%u: cpu.weight 150 -> 200 (x1.33, max step 2)", i);

        /* its counters and histograms after a few hundred such ticks */
        for (unsigned t = 0; t < 300; t++)
                metrics_totals_add(&f->tot[i], s);
        f->mv[i] = (struct metrics_vm){.id = id,
                                       .group = "web",
                                       .cgroup = id->cgroup,
                                       .limits = l,
                                       .sig = s,
                                       .counters = &f->cnt[i],
                                       .totals = &f->tot[i]};
}

static const struct snapshot_daemon daemon_line = {
        .pid = 812,
        .time_usec = 1795689222000000,
        .interval_usec = 1000000,
        .ticks = 42,
        .runq_source = "tp_btf",
        .policy = "/etc/vmgov/policy.d",
        .writes = 12,
};

static int status_text(const struct fleet *f, struct snapshot_text *t)
{
        int r = snapshot_format_daemon(t, &daemon_line);
        for (unsigned i = 0; i < f->n && r == 0; i++)
                r = snapshot_format_vm(t, &f->id[i], &f->sig[i], &f->st[i]);
        return r;
}

static const struct metrics_engine engine_line = {.ticks = 42, .tick_duration_usec = 1500, .interval_usec = 1000000};

/* One pass; returns the thread CPU ns and sets *wall_ns. */
static uint64_t run_pass(enum pass p, const struct fleet *f, struct snapshot_text *t, const char *dir, int fd_status,
                         int fd_metrics, const char *status_bytes, size_t status_len, const char *metrics_bytes,
                         size_t metrics_len, uint64_t *wall_ns)
{
        char path[4096];
        char *text = NULL;
        size_t len = 0;
        uint64_t c0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID), w0 = bench_clock_ns(CLOCK_MONOTONIC);
        int r = 0;

        switch (p) {
        case PASS_STATUS:
                /* as the daemon writes it: in parts as it is formatted */
                snprintf(path, sizeof(path), "%s/status", dir);
                struct atomic_file file;
                r = atomic_file_open(&file, path, 0600);
                if (r == 0)
                        r = snapshot_format_daemon(t, &daemon_line);
                for (unsigned i = 0; i < f->n && r == 0; i++) {
                        r = snapshot_format_vm(t, &f->id[i], &f->sig[i], &f->st[i]);
                        if (r == 0)
                                r = publish_status_part(t, &file, false);
                }
                if (r == 0)
                        r = publish_status_part(t, &file, true);
                if (r == 0)
                        r = atomic_file_commit(&file, false);
                atomic_file_abort(&file);
                break;
        case PASS_METRICS:
                snprintf(path, sizeof(path), "%s/vmgov.prom", dir);
                r = metrics_format(&engine_line, f->mv, f->n, &text, &len);
                if (r == 0)
                        r = metrics_write_textfile(path, text, len);
                free(text);
                break;
        case PASS_BARE_STATUS:
                r = pwrite(fd_status, status_bytes, status_len, 0) == (ssize_t)status_len ? 0 : -EIO;
                break;
        case PASS_BARE_METRICS:
                r = pwrite(fd_metrics, metrics_bytes, metrics_len, 0) == (ssize_t)metrics_len ? 0 : -EIO;
                break;
        default:
                abort();
        }
        if (r < 0) {
                fprintf(stderr, "bench-publish-cost: %s: %s\n", pass_name[p], strerror(-r));
                exit(1);
        }
        *wall_ns = bench_clock_ns(CLOCK_MONOTONIC) - w0;
        return bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
}

static int open_bare(const char *dir, const char *name)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
                fprintf(stderr, "bench-publish-cost: %s: %s\n", path, strerror(errno));
                exit(1);
        }
        return fd;
}

int main(int argc, char **argv)
{
        unsigned rounds = 15;
        static const struct option opts[] = {{"rounds", required_argument, NULL, 'r'}, {}};
        int c;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                if (c != 'r')
                        return 2;
                rounds = (unsigned)strtoul(optarg, NULL, 10);
                if (rounds < 1 || rounds > ROUNDS_MAX) {
                        fprintf(stderr, "bench-publish-cost: --rounds 1..%d\n", ROUNDS_MAX);
                        return 2;
                }
        }
        if (argc - optind != 2) {
                fprintf(stderr, "usage: bench-publish-cost [--rounds R] DIR N\n");
                return 2;
        }
        const char *dir = argv[optind];
        struct fleet f = {.n = (unsigned)strtoul(argv[optind + 1], NULL, 10)};
        if (f.n < 1) {
                fprintf(stderr, "bench-publish-cost: N must be at least 1\n");
                return 2;
        }
        f.id = xcalloc(f.n, sizeof(*f.id));
        f.sig = xcalloc(f.n, sizeof(*f.sig));
        f.st = xcalloc(f.n, sizeof(*f.st));
        f.lim = xcalloc(f.n, sizeof(*f.lim));
        f.cnt = xcalloc(f.n, sizeof(*f.cnt));
        f.tot = xcalloc(f.n, sizeof(*f.tot));
        f.mv = xcalloc(f.n, sizeof(*f.mv));
        for (unsigned i = 0; i < f.n; i++)
                fleet_fill(&f, i);

        /* the bytes the bare writes copy: the same texts the formatted passes produce */
        struct snapshot_text t = {};
        char *metrics_bytes = NULL;
        size_t metrics_len = 0;
        if (status_text(&f, &t) < 0 || metrics_format(&engine_line, f.mv, f.n, &metrics_bytes, &metrics_len) < 0) {
                fprintf(stderr, "bench-publish-cost: cannot format\n");
                return 1;
        }
        char *status_bytes = xcalloc(1, t.len + 1);
        size_t status_len = t.len;
        memcpy(status_bytes, t.buf, t.len);
        int fd_status = open_bare(dir, "bare-status");
        int fd_metrics = open_bare(dir, "bare-metrics");

        uint64_t cpu[_PASS_MAX][ROUNDS_MAX], wall[_PASS_MAX][ROUNDS_MAX];
        for (unsigned r = 0; r <= rounds; r++) /* round 0 warms up */
                for (unsigned k = 0; k < _PASS_MAX; k++) {
                        enum pass p = (enum pass)((k + r) % _PASS_MAX);
                        uint64_t w, cns = run_pass(p, &f, &t, dir, fd_status, fd_metrics, status_bytes, status_len,
                                                   metrics_bytes, metrics_len, &w);
                        if (r > 0) {
                                cpu[p][r - 1] = cns / f.n;
                                wall[p][r - 1] = w / f.n;
                        }
                }

        uint64_t mc[_PASS_MAX], mw[_PASS_MAX];
        printf("%u VMs, %u rounds; ns per VM per tick, median [min..max] over the rounds\n", f.n, rounds);
        for (unsigned p = 0; p < _PASS_MAX; p++) {
                mc[p] = bench_median(cpu[p], rounds);
                mw[p] = bench_median(wall[p], rounds);
                printf("%-13s cpu %7llu [%llu..%llu]   wall %7llu [%llu..%llu]\n", pass_name[p],
                       (unsigned long long)mc[p], (unsigned long long)cpu[p][0], (unsigned long long)cpu[p][rounds - 1],
                       (unsigned long long)mw[p], (unsigned long long)wall[p][0],
                       (unsigned long long)wall[p][rounds - 1]);
        }
        printf("bytes per VM: status %zu, metrics %zu\n", status_len / f.n, metrics_len / f.n);
        printf("ratio to the bare write of the same bytes (cpu): status %.1fx, metrics %.1fx\n",
               mc[PASS_BARE_STATUS] ? (double)mc[PASS_STATUS] / (double)mc[PASS_BARE_STATUS] : 0.0,
               mc[PASS_BARE_METRICS] ? (double)mc[PASS_METRICS] / (double)mc[PASS_BARE_METRICS] : 0.0);
        printf("both files, per tick for all %u VMs: cpu %.2f ms (median)\n", f.n,
               (double)(mc[PASS_STATUS] + mc[PASS_METRICS]) * f.n / 1e6);

        close(fd_status);
        close(fd_metrics);
        free(status_bytes);
        free(metrics_bytes);
        free(t.buf);
        free(f.id);
        free(f.sig);
        free(f.st);
        free(f.lim);
        free(f.cnt);
        free(f.tot);
        free(f.mv);
        return 0;
}
