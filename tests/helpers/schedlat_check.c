/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * schedlat-check: proves on a real kernel that engine/sense/schedlat.c measures run-queue latency right. It runs a
 * known contention, tracks it with the collector and compares the collector's totals with the kernel's own accounting
 * (/proc/PID/task/TID/schedstat: run_delay and the number of runs, summed over the same threads).
 *
 *   schedlat-check --cgroup DIR [--other DIR] [--pid PID] [--cpu N] [--seconds S] [--tolerance PCT]
 *                  [--use auto|raw_tp|schedstat] [--workload-cgroup DIR] [--debug]
 *   schedlat-check --hold [--cgroup DIR [--pid PID]] [--use ...]     (for scripts/bench/bpf-cost)
 *
 * Without --pid it starts the tracked workload itself in DIR: one process with two busy threads named
 * "CPU 0/KVM" and "CPU 1/KVM" (so they are registered as vCPUs) and a third that sleeps 1 ms in a loop, all pinned
 * to CPU N (in --workload-cgroup DIR instead, e.g. a child of the tracked cgroup, as libvirt places vCPU threads).
 * With --pid it tracks that process (a real QEMU) and pins all its threads to CPU N. --other DIR starts
 * two more busy threads in DIR, pinned to the same CPU, in a cgroup that is not tracked: they compete, and must
 * not be counted.
 *
 * Checks (exit 0 = all passed, 1 = a check failed, 2 = the set-up failed):
 *   - the collector's source is eBPF (schedstat with --use schedstat);
 *   - its total wait and its number of samples are within the tolerance (default 10%) of schedstat's, for the
 *     tracked threads and for the vCPU threads;
 *   - with --other: the untracked threads ran and waited, yet the samples do not include them;
 *   - 0 < p50 <= p90 <= p99.
 * The figures are printed as key=value lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "discover/discover.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "sense/schedlat.h"

static int cpu = 0;
static int failures;

static void check(int ok, const char *fmt, ...) _printf_(2, 3);
static void check(int ok, const char *fmt, ...)
{
        va_list ap;

        printf("%s: ", ok ? "ok" : "FAIL");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        if (!ok)
                failures++;
}

static void pin_tid(pid_t tid)
{
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(tid, sizeof(set), &set) < 0) {
                fprintf(stderr, "sched_setaffinity(%d, cpu %d): %s\n", (int)tid, cpu, strerror(errno));
                exit(2);
        }
}

static void *burn(void *name)
{
        prctl(PR_SET_NAME, name);
        pin_tid(0);
        for (;;)
                __asm__ volatile("" ::: "memory");
        return NULL;
}

static void *waker(void *name)
{
        struct timespec ms = {0, 1000000};

        prctl(PR_SET_NAME, name);
        pin_tid(0);
        for (;;)
                clock_nanosleep(CLOCK_MONOTONIC, 0, &ms, NULL);
        return NULL;
}

/* A process in cgroup dir running the given threads; returns its pid once they all run. */
static pid_t workload(const char *dir, int nburn, const char *const *burn_names, const char *waker_name)
{
        int ready[2];
        pid_t pid;
        char c;

        if (pipe(ready) < 0)
                exit(2);
        pid = fork();
        if (pid < 0)
                exit(2);
        if (pid == 0) {
                char path[4200];
                pthread_t t;
                int fd;

                close(ready[0]);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
                fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1) {
                        fprintf(stderr, "cannot move into %s: %s\n", path, strerror(errno));
                        _exit(2);
                }
                close(fd);
                for (int i = 0; i < nburn; i++)
                        if (pthread_create(&t, NULL, burn, (void *)burn_names[i]) != 0)
                                _exit(2);
                if (waker_name && pthread_create(&t, NULL, waker, (void *)waker_name) != 0)
                        _exit(2);
                usleep(100000); /* the threads are named and pinned */
                if (write(ready[1], "x", 1) != 1)
                        _exit(2);
                for (;;)
                        pause();
        }
        close(ready[1]);
        if (read(ready[0], &c, 1) != 1) {
                fprintf(stderr, "the workload in %s did not start\n", dir);
                exit(2);
        }
        close(ready[0]);
        return pid;
}

struct ss_sum {
        uint64_t wait_ns, runs, vcpu_wait_ns, vcpu_runs;
        unsigned threads, vcpus;
};

/* schedstat of every thread of pid, summed. */
static void schedstat_sum(int proc_fd, pid_t pid, struct ss_sum *ret)
{
        _cleanup_free_ pid_t *tids = NULL;
        struct ss_sum sum = {};
        size_t n;
        int r;

        r = discover_threads_list(proc_fd, pid, &tids, &n);
        if (r < 0) {
                fprintf(stderr, "threads of %d: %s\n", (int)pid, strerror(-r));
                exit(2);
        }
        for (size_t i = 0; i < n; i++) {
                struct schedlat_schedstat st;
                char path[96], buf[128], comm[64];
                ssize_t k, kc;
                int fd;

                snprintf(path, sizeof(path), "%d/task/%d/schedstat", (int)pid, (int)tids[i]);
                fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                k = read(fd, buf, sizeof(buf));
                close(fd);
                snprintf(path, sizeof(path), "%d/task/%d/comm", (int)pid, (int)tids[i]);
                fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
                kc = fd >= 0 ? read(fd, comm, sizeof(comm)) : -1;
                if (fd >= 0)
                        close(fd);
                if (k <= 0 || schedlat_schedstat_parse(buf, (size_t)k, &st) < 0)
                        continue;
                sum.wait_ns += st.wait_ns;
                sum.runs += st.timeslices;
                sum.threads++;
                if (kc > 0 && schedlat_comm_is_vcpu(comm, (size_t)kc)) {
                        sum.vcpu_wait_ns += st.wait_ns;
                        sum.vcpu_runs += st.timeslices;
                        sum.vcpus++;
                }
        }
        *ret = sum;
}

static double rel(uint64_t got, uint64_t want)
{
        return want ? ((double)got - (double)want) / (double)want : (got ? 1.0 : 0.0);
}

/* --hold: load the collector, track cg (if any) with pid (0: the cgroup alone), say "ready", and keep it until
 * SIGTERM or SIGINT. For scripts/bench/bpf-cost, which reads the programs' bpf_stats meanwhile. */
static int hold_collector(struct schedlat_options *o, const char *cg, pid_t pid)
{
        struct schedlat *s = NULL;
        sigset_t mask;
        unsigned id;
        int r, sig;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        o->proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        o->sys_fd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (o->proc_fd < 0 || o->sys_fd < 0 || schedlat_new(o, &s) < 0)
                return 2;
        if (cg) {
                _cleanup_close_ int fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                r = fd < 0 ? -errno : schedlat_vm_add(s, fd, pid, &id);
                if (r < 0) {
                        fprintf(stderr, "tracking %s: %s\n", cg, strerror(-r));
                        return 2;
                }
        }
        printf("ready mode=%s tracked=%s\n", schedlat_mode(s), cg ? cg : "none");
        fflush(stdout);
        sigwait(&mask, &sig);
        schedlat_free(s);
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                {"cgroup", required_argument, NULL, 'c'},
                {"other", required_argument, NULL, 'o'},
                {"pid", required_argument, NULL, 'p'},
                {"cpu", required_argument, NULL, 'C'},
                {"seconds", required_argument, NULL, 's'},
                {"tolerance", required_argument, NULL, 't'},
                {"use", required_argument, NULL, 'u'},
                {"debug", no_argument, NULL, 'd'},
                {"hold", no_argument, NULL, 'h'},
                {"workload-cgroup", required_argument, NULL, 'w'},
                {},
        };
        static const char *const vcpu_names[] = {"CPU 0/KVM", "CPU 1/KVM"};
        static const char *const other_names[] = {"other-burn", "other-burn"};
        struct schedlat_options o = {.use = SCHEDLAT_USE_AUTO};
        const char *cg = NULL, *other = NULL, *wcg = NULL;
        double seconds = 3, tol = 10;
        struct ss_sum a0, a1, b0 = {}, b1 = {};
        struct schedlat_totals t;
        struct runq_latency q;
        struct schedlat *s = NULL;
        pid_t pid = 0, other_pid = 0;
        unsigned id;
        int c, r, cg_fd;
        bool own = true, hold = false;

        while ((c = getopt_long(argc, argv, "", longopts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        cg = optarg;
                        break;
                case 'o':
                        other = optarg;
                        break;
                case 'p':
                        pid = atoi(optarg);
                        own = false;
                        break;
                case 'C':
                        cpu = atoi(optarg);
                        break;
                case 's':
                        seconds = atof(optarg);
                        break;
                case 't':
                        tol = atof(optarg);
                        break;
                case 'u':
                        o.use = strcmp(optarg, "schedstat") == 0 ? SCHEDLAT_USE_SCHEDSTAT
                                : strcmp(optarg, "raw_tp") == 0  ? SCHEDLAT_USE_RAW_TP
                                                                 : SCHEDLAT_USE_AUTO;
                        break;
                case 'd':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'h':
                        hold = true;
                        break;
                case 'w':
                        wcg = optarg;
                        break;
                default:
                        return 2;
                }
        log_set_prefix(0);
        if (hold)
                return hold_collector(&o, cg, pid);
        if (!cg) {
                fprintf(stderr, "--cgroup DIR is required\n");
                return 2;
        }

        o.proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        o.sys_fd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cg_fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (o.proc_fd < 0 || o.sys_fd < 0 || cg_fd < 0) {
                fprintf(stderr, "open /proc, /sys, %s: %s\n", cg, strerror(errno));
                return 2;
        }

        if (own)
                pid = workload(wcg ? wcg : cg, 2, vcpu_names, "waker");
        else {
                _cleanup_free_ pid_t *tids = NULL;
                size_t n;

                r = discover_threads_list(o.proc_fd, pid, &tids, &n);
                if (r < 0) {
                        fprintf(stderr, "threads of %d: %s\n", (int)pid, strerror(-r));
                        return 2;
                }
                for (size_t i = 0; i < n; i++)
                        pin_tid(tids[i]);
        }
        if (other)
                other_pid = workload(other, 2, other_names, NULL);

        r = schedlat_new(&o, &s);
        if (r < 0)
                return 2;
        r = schedlat_vm_add(s, cg_fd, pid, &id);
        if (r < 0) {
                fprintf(stderr, "schedlat_vm_add: %s\n", strerror(-r));
                return 2;
        }
        printf("mode=%s\n", schedlat_mode(s));

        usleep(500000);
        schedlat_read(s, id, &q, &t);
        schedstat_sum(o.proc_fd, pid, &a0);
        if (other_pid)
                schedstat_sum(o.proc_fd, other_pid, &b0);
        usleep((useconds_t)(seconds * 1e6));
        r = schedlat_read(s, id, &q, &t);
        schedstat_sum(o.proc_fd, pid, &a1);
        if (other_pid)
                schedstat_sum(o.proc_fd, other_pid, &b1);

        uint64_t ss_wait = a1.wait_ns - a0.wait_ns, ss_runs = a1.runs - a0.runs;
        uint64_t ss_vwait = a1.vcpu_wait_ns - a0.vcpu_wait_ns, ss_vruns = a1.vcpu_runs - a0.vcpu_runs;
        uint64_t ot_wait = b1.wait_ns - b0.wait_ns, ot_runs = b1.runs - b0.runs;

        printf("source=%s samples=%llu wait_ns=%llu mean_ns=%llu p50_usec=%llu p90_usec=%llu p99_usec=%llu\n",
               q.source == RUNQ_SOURCE_BPF         ? "bpf"
               : q.source == RUNQ_SOURCE_SCHEDSTAT ? "schedstat"
                                                   : "none",
               (unsigned long long)t.samples, (unsigned long long)t.wait_ns,
               (unsigned long long)(t.samples ? t.wait_ns / t.samples : 0), (unsigned long long)q.p50_usec,
               (unsigned long long)q.p90_usec, (unsigned long long)q.p99_usec);
        printf("vcpu_samples=%llu vcpu_wait_ns=%llu vcpu_p99_usec=%llu\n", (unsigned long long)t.vcpu_samples,
               (unsigned long long)t.vcpu_wait_ns, (unsigned long long)q.vcpu_p99_usec);
        printf("schedstat threads=%u runs=%llu wait_ns=%llu mean_ns=%llu vcpus=%u vcpu_runs=%llu vcpu_wait_ns=%llu\n",
               a1.threads, (unsigned long long)ss_runs, (unsigned long long)ss_wait,
               (unsigned long long)(ss_runs ? ss_wait / ss_runs : 0), a1.vcpus, (unsigned long long)ss_vruns,
               (unsigned long long)ss_vwait);
        if (other_pid)
                printf("untracked threads=%u runs=%llu wait_ns=%llu\n", b1.threads, (unsigned long long)ot_runs,
                       (unsigned long long)ot_wait);
        printf("error wait=%+.2f%% samples=%+.2f%% vcpu_wait=%+.2f%% vcpu_samples=%+.2f%%\n",
               100 * rel(t.wait_ns, ss_wait), 100 * rel(t.samples, ss_runs), 100 * rel(t.vcpu_wait_ns, ss_vwait),
               100 * rel(t.vcpu_samples, ss_vruns));

        enum runq_source want = o.use == SCHEDLAT_USE_SCHEDSTAT ? RUNQ_SOURCE_SCHEDSTAT : RUNQ_SOURCE_BPF;
        check(r == 0 && q.source == want, "source %d (want %d), read %d", q.source, want, r);
        check(ss_runs > 0 && ss_wait > 0, "the tracked threads ran and waited (%llu runs)",
              (unsigned long long)ss_runs);
        check(100 * (rel(t.wait_ns, ss_wait) < 0 ? -rel(t.wait_ns, ss_wait) : rel(t.wait_ns, ss_wait)) <= tol,
              "total wait within %.0f%% of schedstat's run_delay", tol);
        check(100 * (rel(t.samples, ss_runs) < 0 ? -rel(t.samples, ss_runs) : rel(t.samples, ss_runs)) <= tol,
              "samples within %.0f%% of schedstat's runs", tol);
        if (a1.vcpus > 0) {
                double ew = rel(t.vcpu_wait_ns, ss_vwait), es = rel(t.vcpu_samples, ss_vruns);
                check(100 * (ew < 0 ? -ew : ew) <= tol, "vCPU wait within %.0f%% of schedstat's", tol);
                check(100 * (es < 0 ? -es : es) <= tol, "vCPU samples within %.0f%% of schedstat's", tol);
                check(q.vcpu_p99_usec > 0, "vcpu_p99 > 0");
        }
        if (other_pid) {
                /* Had they been counted, the total wait would be off by twice the tolerance at least. */
                check(ot_runs > 0 && ot_wait * 100 > 2 * tol * ss_wait,
                      "the untracked threads competed (%llu runs, %llu ns waited)", (unsigned long long)ot_runs,
                      (unsigned long long)ot_wait);
                check(t.wait_ns < ss_wait + ot_wait / 2 && t.samples < ss_runs + ot_runs / 2,
                      "the untracked cgroup's waits are not counted");
        }
        check(q.p50_usec > 0 && q.p50_usec <= q.p90_usec && q.p90_usec <= q.p99_usec, "0 < p50 <= p90 <= p99");

        schedlat_free(s);
        if (own)
                kill(pid, SIGKILL);
        if (other_pid)
                kill(other_pid, SIGKILL);
        while (wait(NULL) > 0)
                ;
        printf("%s\n", failures ? "FAIL" : "PASS");
        return failures ? 1 : 0;
}
