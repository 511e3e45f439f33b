/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * schedlat's fallback without eBPF: per thread of a VM, an fd held on /proc/PID/task/TID/schedstat, and per tick
 * the run-queue wait and number of runs since the previous read, turned into a mean wait per run per thread (the
 * percentiles are over those means, see sense/schedlat.h). Also the parser of a schedstat line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernel/log.h"
#include "kernel/macro.h"
#include "sense/schedlat-internal.h"
#include "sense/schedlat.h"

static int parse_u64(const char **p, const char *end, uint64_t *ret)
{
        uint64_t v = 0;
        const char *s = *p;

        if (s >= end || *s < '0' || *s > '9')
                return -EINVAL;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
                if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *p = s;
        *ret = v;
        return 0;
}

int schedlat_schedstat_parse(const char *buf, size_t len, struct schedlat_schedstat *ret)
{
        const char *p = buf, *end = buf + len;
        uint64_t v[3];

        for (unsigned i = 0; i < 3; i++) {
                if (i > 0) {
                        if (p >= end || *p != ' ')
                                return -EINVAL;
                        p++;
                }
                if (parse_u64(&p, end, &v[i]) < 0)
                        return -EINVAL;
        }
        if (p < end && *p == '\n')
                p++;
        if (p != end)
                return -EINVAL;
        *ret = (struct schedlat_schedstat){.run_ns = v[0], .wait_ns = v[1], .timeslices = v[2]};
        return 0;
}

struct thread_entry *schedlat_schedstat_thread(struct vm_entry *vm, pid_t tid)
{
        for (size_t i = 0; i < vm->n_threads; i++)
                if (vm->threads[i].tid == tid)
                        return &vm->threads[i];
        return NULL;
}

static int vm_reserve_threads(struct vm_entry *vm, size_t n)
{
        struct thread_entry *t;
        struct schedlat_point *p;

        if (n <= vm->cap_threads)
                return 0;
        n = MAX(n, vm->cap_threads * 2);
        t = reallocarray(vm->threads, n, sizeof(*t));
        if (!t)
                return -ENOMEM;
        vm->threads = t;
        p = reallocarray(vm->points, n, sizeof(*p));
        if (!p)
                return -ENOMEM;
        vm->points = p;
        p = reallocarray(vm->vcpu_points, n, sizeof(*p));
        if (!p)
                return -ENOMEM;
        vm->vcpu_points = p;
        vm->cap_threads = n;
        return 0;
}

void schedlat_schedstat_thread_drop(struct vm_entry *vm, size_t i)
{
        if (vm->threads[i].fd >= 0)
                close(vm->threads[i].fd);
        vm->threads[i] = vm->threads[--vm->n_threads];
}

int schedlat_schedstat_thread_open(struct schedlat *s, struct vm_entry *vm, pid_t tid, bool vcpu)
{
        char path[64];
        int fd, r;

        r = vm_reserve_threads(vm, vm->n_threads + 1);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%d/task/%d/schedstat", (int)vm->pid, (int)tid);
        fd = openat(s->proc_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        vm->threads[vm->n_threads++] = (struct thread_entry){.tid = tid, .fd = fd, .vcpu = vcpu};
        return 0;
}

int schedlat_schedstat_read(struct schedlat *s, struct vm_entry *vm, struct runq_latency *ret,
                            struct schedlat_totals *totals)
{
        struct schedlat_totals t = {};
        size_t np = 0, nv = 0;
        bool measured = false;

        for (size_t i = 0; i < vm->n_threads;) {
                struct thread_entry *th = &vm->threads[i];
                struct schedlat_schedstat st;
                char buf[128];
                ssize_t n;

                n = pread(th->fd, buf, sizeof(buf), 0);
                if (n < 0) {
                        int r = -errno;

                        if (!errno_is_vanished(r))
                                log_debug_errno(r, "schedlat: schedstat of thread %d: %m", (int)th->tid);
                        schedlat_schedstat_thread_drop(vm, i); /* gone: no increment */
                        continue;
                }
                if (schedlat_schedstat_parse(buf, (size_t)n, &st) < 0) {
                        i++;
                        continue;
                }
                if (th->have_prev && st.timeslices >= th->runs && st.wait_ns >= th->wait_ns) {
                        uint64_t runs = st.timeslices - th->runs, wait = st.wait_ns - th->wait_ns;

                        measured = true;
                        t.samples += runs;
                        t.wait_ns += wait;
                        if (runs > 0)
                                vm->points[np++] = (struct schedlat_point){.mean_ns = wait / runs, .runs = runs};
                        if (th->vcpu) {
                                t.vcpu_samples += runs;
                                t.vcpu_wait_ns += wait;
                                if (runs > 0)
                                        vm->vcpu_points[nv++] =
                                                (struct schedlat_point){.mean_ns = wait / runs, .runs = runs};
                        }
                }
                th->have_prev = true;
                th->runs = st.timeslices;
                th->wait_ns = st.wait_ns;
                i++;
        }

        if (!measured) {
                *totals = t;
                return 0; /* ret stays RUNQ_SOURCE_NONE: the first read of these threads */
        }
        ret->source = RUNQ_SOURCE_SCHEDSTAT;
        ret->samples = t.samples;
        ret->p50_usec = (schedlat_points_percentile_ns(vm->points, np, 500) + 500) / 1000;
        ret->p90_usec = (schedlat_points_percentile_ns(vm->points, np, 900) + 500) / 1000;
        ret->p99_usec = (schedlat_points_percentile_ns(vm->points, np, 990) + 500) / 1000;
        ret->vcpu_p99_usec = (schedlat_points_percentile_ns(vm->vcpu_points, nv, 990) + 500) / 1000;
        ret->tick = (struct runq_tick_histogram){.samples = t.samples, .sum_ns = t.wait_ns};
        ret->vcpu_tick = (struct runq_tick_histogram){.samples = t.vcpu_samples, .sum_ns = t.vcpu_wait_ns};
        *totals = t;
        return 0;
}
