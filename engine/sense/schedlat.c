/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../bpf/schedlat.h"
#include "schedlat.skel.h"

#include "discover/discover.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "sense/schedlat.h"

#define SCHEDLAT_CGROUP_DEPTH   4 /* child cgroups of a VM's cgroup are tracked this deep */
#define SCHEDLAT_CGROUPS_PER_VM 8 /* room in the cgroups map: the VM's and its children's */

static_assert(SCHEDLAT_NBUCKETS == SCHEDLAT_BUCKETS, "engine and BPF disagree on the number of buckets");
static_assert(sizeof(struct schedlat_hist) == SCHEDLAT_BUCKETS * 4 + 8, "unexpected padding in schedlat_hist");

/* ---- Pure parts ---- */

unsigned schedlat_bucket(uint64_t ns)
{
        return schedlat_log2_bucket(ns); /* the kernel side's own function (bpf/schedlat.h) */
}

void schedlat_bucket_bounds(unsigned b, uint64_t *ret_lo, uint64_t *ret_hi)
{
        if (b >= SCHEDLAT_NBUCKETS)
                b = SCHEDLAT_NBUCKETS - 1;
        *ret_lo = b == 0 ? 0 : UINT64_C(1) << b;
        *ret_hi = UINT64_C(1) << (b + 1);
}

void schedlat_snap_sum(const void *percpu, unsigned ncpus, size_t stride, struct schedlat_snap *ret)
{
        struct schedlat_snap sum = {};

        for (unsigned cpu = 0; cpu < ncpus; cpu++) {
                struct schedlat_hist h;

                memcpy(&h, (const char *)percpu + (size_t)cpu * stride, sizeof(h));
                for (unsigned b = 0; b < SCHEDLAT_NBUCKETS; b++)
                        sum.bucket[b] += h.bucket[b]; /* modulo 2^32, as each CPU's counter */
                sum.sum_ns += h.sum_ns;
        }
        *ret = sum;
}

void schedlat_snap_delta(const struct schedlat_snap *cur, const struct schedlat_snap *prev, struct schedlat_delta *ret)
{
        struct schedlat_delta d = {};

        for (unsigned b = 0; b < SCHEDLAT_NBUCKETS; b++) {
                d.count[b] = (uint32_t)(cur->bucket[b] - prev->bucket[b]);
                d.total += d.count[b];
        }
        d.sum_ns = cur->sum_ns - prev->sum_ns;
        *ret = d;
}

void schedlat_delta_add(struct schedlat_delta *acc, const struct schedlat_delta *d)
{
        for (unsigned b = 0; b < SCHEDLAT_NBUCKETS; b++)
                acc->count[b] += d->count[b];
        acc->total += d->total;
        acc->sum_ns += d->sum_ns;
}

uint64_t schedlat_percentile_ns(const struct schedlat_delta *d, unsigned permille)
{
        double rank, before = 0;
        uint64_t lo = 0, hi = 0;

        if (d->total == 0)
                return 0;
        rank = (double)d->total * (double)MIN(permille, 1000u) / 1000.0;
        for (unsigned b = 0; b < SCHEDLAT_NBUCKETS; b++) {
                double c = (double)d->count[b];

                if (d->count[b] == 0)
                        continue;
                schedlat_bucket_bounds(b, &lo, &hi);
                if (before + c >= rank) {
                        double frac = rank > before ? (rank - before) / c : 0;
                        return lo + (uint64_t)((double)(hi - lo) * frac + 0.5);
                }
                before += c;
        }
        return hi; /* rounding left the rank just above the last sample: the top of the last bucket seen */
}

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

static int point_cmp(const void *a, const void *b)
{
        const struct schedlat_point *x = a, *y = b;

        return x->mean_ns < y->mean_ns ? -1 : x->mean_ns > y->mean_ns;
}

uint64_t schedlat_points_percentile_ns(struct schedlat_point *points, size_t n, unsigned permille)
{
        double total = 0, rank, cum = 0;

        for (size_t i = 0; i < n; i++)
                total += (double)points[i].runs;
        if (total == 0)
                return 0;
        qsort(points, n, sizeof(*points), point_cmp);
        rank = total * (double)MIN(permille, 1000u) / 1000.0;
        for (size_t i = 0; i < n; i++) {
                cum += (double)points[i].runs;
                if (points[i].runs > 0 && cum >= rank)
                        return points[i].mean_ns;
        }
        for (size_t i = n; i > 0; i--)
                if (points[i - 1].runs > 0)
                        return points[i - 1].mean_ns;
        return 0;
}

bool schedlat_comm_is_vcpu(const char *comm, size_t len)
{
        size_t i = 4, digits = 0;

        if (len > 0 && comm[len - 1] == '\n')
                len--;
        if (len < 4 || memcmp(comm, "CPU ", 4) != 0)
                return false;
        for (; i < len && comm[i] >= '0' && comm[i] <= '9'; i++)
                digits++;
        if (digits == 0 || len - i != 4)
                return false;
        return memcmp(comm + i, "/KVM", 4) == 0 || memcmp(comm + i, "/TCG", 4) == 0;
}

/* ---- State ---- */

struct vcpu_entry {
        pid_t tid;
        unsigned slot;
        struct schedlat_snap prev;
};

struct thread_entry {
        pid_t tid;
        int fd; /* schedstat */
        bool vcpu, have_prev;
        uint64_t wait_ns, runs;
};

struct vm_entry {
        bool used;
        pid_t pid;
        int cg_fd;            /* the VM's cgroup, for finding its child cgroups */
        uint64_t *cgroup_ids; /* its cgroup and the ones beneath it */
        size_t n_cgroup_ids;
        struct schedlat_snap prev; /* BPF: the cgroup slot's last snapshot */
        struct vcpu_entry *vcpus;  /* BPF */
        size_t n_vcpus;
        struct thread_entry *threads; /* schedstat */
        size_t n_threads, cap_threads;
        struct schedlat_point *points, *vcpu_points; /* cap_threads each: the per-tick scratch */
};

struct schedlat {
        int proc_fd, sys_fd;
        enum runq_source source;
        const char *mode;
        unsigned max_vms, max_vcpus;
        struct vm_entry *vms;

        struct schedlat_bpf *skel;
        int cgroups_fd, cgroup_hist_fd, vcpus_fd, vcpu_hist_fd;
        unsigned ncpus;
        size_t stride;    /* round_up(sizeof(struct schedlat_hist), 8) */
        void *percpu_buf; /* ncpus * stride */
        void *vcpu_mem;   /* vcpu_hist mmap'ed, or NULL (then looked up) */
        size_t vcpu_mem_len;
        unsigned *free_vcpu_slots;
        unsigned n_free_vcpu_slots;
};

/* ---- libbpf's messages through our log ---- */

static bool libbpf_quiet;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
        int prio = level == LIBBPF_WARN && !libbpf_quiet ? LOG_WARNING : LOG_DEBUG;
        _cleanup_free_ char *msg = NULL;
        char *line, *next;

        if (prio > log_get_max_level())
                return 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        if (vasprintf(&msg, fmt, ap) < 0)
                return 0;
#pragma GCC diagnostic pop
        /* One log line per line: a verifier log is one message of many lines (its verdict comes last). */
        for (line = msg; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (*line)
                        log_full_errno(prio, 0, "%s", line); /* libbpf starts its own messages with "libbpf: " */
        }
        return 0;
}

/* ---- BPF ---- */

static void bpf_unload(struct schedlat *s)
{
        if (s->vcpu_mem)
                munmap(s->vcpu_mem, s->vcpu_mem_len);
        s->vcpu_mem = NULL;
        schedlat_bpf__destroy(s->skel);
        s->skel = NULL;
}

static void describe_load_error(int r, const char *what, char *why, size_t len)
{
        char err[128];

        libbpf_strerror(r, err, sizeof(err));
        if (r == -EPERM)
                snprintf(why, len, "%s: %s (loading needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)", what, err);
        else
                snprintf(why, len, "%s: %s", what, err);
}

static int bpf_load(struct schedlat *s, bool raw, char *why, size_t len)
{
        struct bpf_program *btf_progs[3], *raw_progs[3];
        struct schedlat_bpf *skel;
        long page;
        int r;

        skel = schedlat_bpf__open();
        if (!skel) {
                r = -errno;
                describe_load_error(r, "cannot open the BPF object", why, len);
                return r == -ENOMEM ? r : -EOPNOTSUPP;
        }
        s->skel = skel;

        btf_progs[0] = skel->progs.btf_wakeup;
        btf_progs[1] = skel->progs.btf_wakeup_new;
        btf_progs[2] = skel->progs.btf_switch;
        raw_progs[0] = skel->progs.raw_wakeup;
        raw_progs[1] = skel->progs.raw_wakeup_new;
        raw_progs[2] = skel->progs.raw_switch;
        for (unsigned i = 0; i < 3; i++) {
                bpf_program__set_autoload(btf_progs[i], !raw);
                bpf_program__set_autoload(raw_progs[i], raw);
        }
        bpf_map__set_autocreate(skel->maps.task_ts, !raw);
        bpf_map__set_autocreate(skel->maps.pid_ts, raw);
        bpf_map__set_max_entries(skel->maps.cgroups, s->max_vms * SCHEDLAT_CGROUPS_PER_VM);
        bpf_map__set_max_entries(skel->maps.cgroup_hist, s->max_vms);
        bpf_map__set_max_entries(skel->maps.vcpus, s->max_vcpus);
        bpf_map__set_max_entries(skel->maps.vcpu_hist, s->max_vcpus);
        skel->rodata->track_vcpus = true;

        r = schedlat_bpf__load(skel);
        if (r < 0) {
                describe_load_error(r, raw ? "loading the raw_tp programs" : "loading the tp_btf programs", why, len);
                goto fail;
        }
        r = schedlat_bpf__attach(skel);
        if (r < 0) {
                describe_load_error(r, raw ? "attaching the raw_tp programs" : "attaching the tp_btf programs", why,
                                    len);
                goto fail;
        }

        s->cgroups_fd = bpf_map__fd(skel->maps.cgroups);
        s->cgroup_hist_fd = bpf_map__fd(skel->maps.cgroup_hist);
        s->vcpus_fd = bpf_map__fd(skel->maps.vcpus);
        s->vcpu_hist_fd = bpf_map__fd(skel->maps.vcpu_hist);

        page = sysconf(_SC_PAGESIZE);
        s->vcpu_mem_len = ((size_t)s->max_vcpus * s->stride + (size_t)page - 1) / (size_t)page * (size_t)page;
        s->vcpu_mem = mmap(NULL, s->vcpu_mem_len, PROT_READ, MAP_SHARED, s->vcpu_hist_fd, 0);
        if (s->vcpu_mem == MAP_FAILED) {
                log_debug_errno(-errno, "mmap of the vcpu_hist map failed, reading it with lookups: %m");
                s->vcpu_mem = NULL;
        }
        return 0;
fail:
        bpf_unload(s);
        return r == -ENOMEM ? r : -EOPNOTSUPP;
}

static int bpf_setup(struct schedlat *s, enum schedlat_use use, char *why, size_t len)
{
        char why_btf[512] = "", why_raw[512] = "";
        int r;

        if (faccessat(s->sys_fd, "kernel/btf/vmlinux", R_OK, 0) < 0) {
                r = -errno;
                snprintf(why, len, "no kernel BTF (/sys/kernel/btf/vmlinux: %s)", strerror(-r));
                return -EOPNOTSUPP;
        }

        libbpf_set_print(libbpf_print);
        libbpf_quiet = true; /* failed attempts are reported once, below; libbpf's details go to debug */

        if (use == SCHEDLAT_USE_AUTO) {
                r = bpf_load(s, false, why_btf, sizeof(why_btf));
                if (r == 0) {
                        s->mode = "tp_btf";
                        goto done;
                }
                if (r == -ENOMEM)
                        goto done;
        }
        r = bpf_load(s, true, why_raw, sizeof(why_raw));
        if (r == 0) {
                s->mode = "raw_tp";
                if (why_btf[0])
                        log_info("eBPF: %s; using the raw_tp programs", why_btf);
        } else if (why_btf[0])
                snprintf(why, len, "%s; %s", why_btf, why_raw);
        else
                snprintf(why, len, "%s", why_raw);
done:
        libbpf_quiet = false;
        return r;
}

static int bpf_read_cgroup(struct schedlat *s, unsigned slot, struct schedlat_snap *ret)
{
        if (bpf_map_lookup_elem(s->cgroup_hist_fd, &slot, s->percpu_buf) < 0)
                return -errno;
        schedlat_snap_sum(s->percpu_buf, s->ncpus, s->stride, ret);
        return 0;
}

static int bpf_read_vcpu(struct schedlat *s, unsigned slot, struct schedlat_snap *ret)
{
        struct schedlat_snap snap;

        if (!s->vcpu_mem) {
                struct schedlat_hist h;

                if (bpf_map_lookup_elem(s->vcpu_hist_fd, &slot, &h) < 0)
                        return -errno;
                schedlat_snap_sum(&h, 1, sizeof(h), ret);
                return 0;
        }
        /* The kernel writes these while we read: load each counter once (a torn pair of counters only shifts
         * an event into the next tick). */
        const struct schedlat_hist *h = (const void *)((const char *)s->vcpu_mem + (size_t)slot * s->stride);
        for (unsigned b = 0; b < SCHEDLAT_NBUCKETS; b++)
                snap.bucket[b] = __atomic_load_n(&h->bucket[b], __ATOMIC_RELAXED);
        snap.sum_ns = __atomic_load_n(&h->sum_ns, __ATOMIC_RELAXED);
        *ret = snap;
        return 0;
}

/* ---- Lifecycle ---- */

int schedlat_new(const struct schedlat_options *o, struct schedlat **ret)
{
        _cleanup_free_ struct schedlat *s = NULL;
        char why[1100] = "";
        int r;

        if (o->proc_fd < 0 && o->proc_fd != AT_FDCWD)
                return -EBADF;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->proc_fd = o->proc_fd;
        s->sys_fd = o->sys_fd;
        s->max_vms = o->max_vms ?: SCHEDLAT_DEFAULT_MAX_VMS;
        s->max_vcpus = o->max_vcpus ?: SCHEDLAT_DEFAULT_MAX_VCPUS;
        s->cgroups_fd = s->cgroup_hist_fd = s->vcpus_fd = s->vcpu_hist_fd = -1;
        s->stride = (sizeof(struct schedlat_hist) + 7) / 8 * 8;

        s->vms = calloc(s->max_vms, sizeof(*s->vms));
        if (!s->vms)
                return -ENOMEM;

        if (o->use == SCHEDLAT_USE_SCHEDSTAT) {
                snprintf(why, sizeof(why), "disabled by configuration");
                r = -EOPNOTSUPP;
        } else {
                r = libbpf_num_possible_cpus();
                if (r < 0) {
                        snprintf(why, sizeof(why), "cannot count the possible CPUs: %s", strerror(-r));
                        r = -EOPNOTSUPP;
                } else {
                        s->ncpus = (unsigned)r;
                        s->percpu_buf = calloc(s->ncpus, s->stride);
                        s->free_vcpu_slots = calloc(s->max_vcpus, sizeof(unsigned));
                        if (!s->percpu_buf || !s->free_vcpu_slots) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        for (unsigned i = 0; i < s->max_vcpus; i++)
                                s->free_vcpu_slots[i] = s->max_vcpus - 1 - i; /* the lowest slot on top */
                        s->n_free_vcpu_slots = s->max_vcpus;
                        r = bpf_setup(s, o->use, why, sizeof(why));
                        if (r == -ENOMEM)
                                goto fail;
                }
        }

        if (r == 0)
                s->source = RUNQ_SOURCE_BPF;
        else if (faccessat(s->proc_fd, "self/schedstat", R_OK, 0) == 0) {
                s->source = RUNQ_SOURCE_SCHEDSTAT;
                s->mode = "schedstat";
                if (o->use == SCHEDLAT_USE_SCHEDSTAT)
                        log_info("eBPF not used (disabled by configuration); using schedstat");
                else
                        log_warn("eBPF unavailable: %s; using schedstat", why);
        } else {
                s->source = RUNQ_SOURCE_NONE;
                s->mode = "none";
                log_warn_errno(-errno,
                               "eBPF unavailable: %s; and /proc/self/schedstat cannot be read (%m; the kernel "
                               "needs CONFIG_SCHED_INFO): run-queue latency is not measured",
                               why);
        }
        if (s->source != RUNQ_SOURCE_BPF) {
                free(s->percpu_buf);
                free(s->free_vcpu_slots);
                s->percpu_buf = NULL;
                s->free_vcpu_slots = NULL;
        }
        *ret = TAKE_PTR(s);
        return 0;
fail:
        bpf_unload(s);
        free(s->percpu_buf);
        free(s->free_vcpu_slots);
        free(s->vms);
        return log_err_errno(r, "schedlat: %m");
}

static void vm_clear(struct schedlat *s, struct vm_entry *vm);

void schedlat_free(struct schedlat *s)
{
        if (!s)
                return;
        for (unsigned i = 0; i < s->max_vms; i++)
                if (s->vms[i].used)
                        vm_clear(s, &s->vms[i]);
        bpf_unload(s);
        free(s->percpu_buf);
        free(s->free_vcpu_slots);
        free(s->vms);
        free(s);
}

enum runq_source schedlat_source(const struct schedlat *s)
{
        return s->source;
}

const char *schedlat_mode(const struct schedlat *s)
{
        return s->mode;
}

/* ---- VMs and their threads ---- */

static struct vm_entry *vm_get(struct schedlat *s, unsigned id)
{
        if (id >= s->max_vms || !s->vms[id].used)
                return NULL;
        return &s->vms[id];
}

static struct thread_entry *vm_thread(struct vm_entry *vm, pid_t tid)
{
        for (size_t i = 0; i < vm->n_threads; i++)
                if (vm->threads[i].tid == tid)
                        return &vm->threads[i];
        return NULL;
}

static ssize_t vm_vcpu_index(struct vm_entry *vm, pid_t tid)
{
        for (size_t i = 0; i < vm->n_vcpus; i++)
                if (vm->vcpus[i].tid == tid)
                        return (ssize_t)i;
        return -1;
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

static void vm_thread_drop(struct vm_entry *vm, size_t i)
{
        if (vm->threads[i].fd >= 0)
                close(vm->threads[i].fd);
        vm->threads[i] = vm->threads[--vm->n_threads];
}

/* schedstat mode: hold an fd on the thread's schedstat. */
static int vm_thread_open(struct schedlat *s, struct vm_entry *vm, pid_t tid, bool vcpu)
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

static int thread_is_vcpu(struct schedlat *s, pid_t pid, pid_t tid)
{
        _cleanup_close_ int fd = -1;
        char path[64], comm[64];
        ssize_t n;

        snprintf(path, sizeof(path), "%d/task/%d/comm", (int)pid, (int)tid);
        fd = openat(s->proc_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, comm, sizeof(comm));
        if (n < 0)
                return -errno;
        return schedlat_comm_is_vcpu(comm, (size_t)n);
}

/* After a change of the vcpus map: the programs' cached vCPU slots (task storage) are stale. */
static void vcpu_gen_bump(struct schedlat *s)
{
        __atomic_fetch_add(&s->skel->bss->vcpu_gen, 1, __ATOMIC_RELEASE);
}

static int vcpu_add(struct schedlat *s, struct vm_entry *vm, pid_t tid)
{
        struct schedlat_vcpu value;
        struct vcpu_entry *v;
        unsigned slot;
        int r;

        if (s->source == RUNQ_SOURCE_SCHEDSTAT) {
                struct thread_entry *t = vm_thread(vm, tid);

                if (t) {
                        t->vcpu = true;
                        return 0;
                }
                return vm_thread_open(s, vm, tid, true);
        }
        if (s->source != RUNQ_SOURCE_BPF)
                return 0;
        if (vm_vcpu_index(vm, tid) >= 0)
                return 0;
        if (s->n_free_vcpu_slots == 0)
                return -ENOSPC;
        v = reallocarray(vm->vcpus, vm->n_vcpus + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        vm->vcpus = v;

        slot = s->free_vcpu_slots[s->n_free_vcpu_slots - 1];
        v = &vm->vcpus[vm->n_vcpus];
        *v = (struct vcpu_entry){.tid = tid, .slot = slot};
        /* The slot may have counts from an earlier thread: they are the baseline. */
        r = bpf_read_vcpu(s, slot, &v->prev);
        if (r < 0)
                return r;
        value = (struct schedlat_vcpu){.slot = slot, .tgid = (__u32)vm->pid};
        if (bpf_map_update_elem(s->vcpus_fd, &(__u32){(__u32)tid}, &value, BPF_ANY) < 0)
                return -errno;
        vcpu_gen_bump(s);
        s->n_free_vcpu_slots--;
        vm->n_vcpus++;
        return 0;
}

static void vcpu_remove_at(struct schedlat *s, struct vm_entry *vm, size_t i)
{
        __u32 tid = (__u32)vm->vcpus[i].tid;

        if (bpf_map_delete_elem(s->vcpus_fd, &tid) < 0 && errno != ENOENT)
                log_debug_errno(-errno, "schedlat: cannot forget vCPU thread %u: %m", tid);
        vcpu_gen_bump(s);
        s->free_vcpu_slots[s->n_free_vcpu_slots++] = vm->vcpus[i].slot;
        vm->vcpus[i] = vm->vcpus[--vm->n_vcpus];
}

static void vm_clear(struct schedlat *s, struct vm_entry *vm)
{
        if (s->source == RUNQ_SOURCE_BPF) {
                for (size_t i = 0; i < vm->n_cgroup_ids; i++)
                        if (bpf_map_delete_elem(s->cgroups_fd, &vm->cgroup_ids[i]) < 0 && errno != ENOENT)
                                log_debug_errno(-errno, "schedlat: cannot untrack cgroup %llu: %m",
                                                (unsigned long long)vm->cgroup_ids[i]);
                while (vm->n_vcpus > 0)
                        vcpu_remove_at(s, vm, vm->n_vcpus - 1);
        }
        while (vm->n_threads > 0)
                vm_thread_drop(vm, vm->n_threads - 1);
        if (vm->cg_fd >= 0)
                close(vm->cg_fd);
        free(vm->cgroup_ids);
        free(vm->vcpus);
        free(vm->threads);
        free(vm->points);
        free(vm->vcpu_points);
        *vm = (struct vm_entry){};
}

static int cgroup_id_of(int cgroup_fd, uint64_t *ret)
{
        struct stat st;

        if (fstat(cgroup_fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        *ret = (uint64_t)st.st_ino; /* the kernfs node id of a cgroup2 directory */
        return 0;
}

static int vm_track_cgroup(struct schedlat *s, struct vm_entry *vm, unsigned id, uint64_t cgid)
{
        uint64_t *ids;
        __u32 slot = id;

        for (size_t i = 0; i < vm->n_cgroup_ids; i++)
                if (vm->cgroup_ids[i] == cgid)
                        return 0;
        ids = reallocarray(vm->cgroup_ids, vm->n_cgroup_ids + 1, sizeof(*ids));
        if (!ids)
                return -ENOMEM;
        vm->cgroup_ids = ids;
        if (s->source == RUNQ_SOURCE_BPF && bpf_map_update_elem(s->cgroups_fd, &cgid, &slot, BPF_NOEXIST) < 0)
                return -errno; /* -EEXIST: another VM tracks it; -E2BIG: the map is full */
        vm->cgroup_ids[vm->n_cgroup_ids++] = cgid;
        return 0;
}

/* Track every cgroup beneath dir_fd too: libvirt puts a VM's threads in child cgroups (libvirt/vcpu0,
 * libvirt/emulator), and a task is counted by the cgroup it is in. Allocates (opendir); scan time only. */
static int vm_track_children(struct schedlat *s, struct vm_entry *vm, unsigned id, int dir_fd, unsigned depth)
{
        struct dirent *de;
        DIR *d;
        int fd, r = 0;

        if (depth > SCHEDLAT_CGROUP_DEPTH)
                return 0;
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while (r != -ENOMEM && (de = readdir(d))) {
                _cleanup_close_ int child = -1;
                uint64_t cgid;

                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                child = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0 || cgroup_id_of(child, &cgid) < 0)
                        continue; /* removed meanwhile */
                r = vm_track_cgroup(s, vm, id, cgid);
                if (r < 0 && r != -ENOMEM)
                        log_debug_errno(r, "schedlat: cannot track child cgroup %s of pid %d: %m", de->d_name,
                                        (int)vm->pid);
                if (r != -ENOMEM)
                        r = vm_track_children(s, vm, id, child, depth + 1);
        }
        closedir(d);
        return r == -ENOMEM ? r : 0;
}

int schedlat_vm_add_cgroup(struct schedlat *s, unsigned id, int cgroup_fd)
{
        struct vm_entry *vm = vm_get(s, id);
        uint64_t cgid;
        int r;

        if (!vm)
                return -EINVAL;
        r = cgroup_id_of(cgroup_fd, &cgid);
        if (r < 0)
                return r;
        return vm_track_cgroup(s, vm, id, cgid);
}

int schedlat_vm_add(struct schedlat *s, int cgroup_fd, pid_t pid, unsigned *ret_id)
{
        struct vm_entry *vm = NULL;
        unsigned id;
        int r;

        if (pid < 0)
                return -EINVAL;
        for (id = 0; id < s->max_vms; id++)
                if (!s->vms[id].used) {
                        vm = &s->vms[id];
                        break;
                }
        if (!vm)
                return -ENOSPC;
        *vm = (struct vm_entry){.used = true, .pid = pid, .cg_fd = -1};

        if (s->source == RUNQ_SOURCE_BPF) {
                /* The slot may hold counts from an earlier VM: they are the baseline. */
                r = bpf_read_cgroup(s, id, &vm->prev);
                if (r < 0)
                        goto fail;
        }
        r = schedlat_vm_add_cgroup(s, id, cgroup_fd);
        if (r < 0)
                goto fail;
        vm->cg_fd = fcntl(cgroup_fd, F_DUPFD_CLOEXEC, 3);
        if (vm->cg_fd < 0) {
                r = -errno;
                goto fail;
        }
        r = schedlat_vm_scan(s, id);
        if (r < 0)
                goto fail;
        *ret_id = id;
        return 0;
fail:
        vm_clear(s, vm);
        return r;
}

void schedlat_vm_remove(struct schedlat *s, unsigned id)
{
        struct vm_entry *vm = vm_get(s, id);

        if (vm)
                vm_clear(s, vm);
}

static bool tid_listed(const pid_t *tids, size_t n, pid_t tid)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (tids[mid] == tid)
                        return true;
                if (tids[mid] < tid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

int schedlat_vm_scan(struct schedlat *s, unsigned id)
{
        struct vm_entry *vm = vm_get(s, id);
        _cleanup_free_ pid_t *tids = NULL;
        size_t n = 0;
        int r;

        if (!vm)
                return -EINVAL;
        if (s->source == RUNQ_SOURCE_BPF) {
                r = vm_track_children(s, vm, id, vm->cg_fd, 1);
                if (r == -ENOMEM)
                        return r;
        }
        if (s->source == RUNQ_SOURCE_NONE || vm->pid == 0)
                return 0;
        r = discover_threads_list(s->proc_fd, vm->pid, &tids, &n);
        if (r < 0)
                return r;

        /* Forget what is gone (a tid may have been reused by another process since: then it is not ours). */
        for (size_t i = vm->n_vcpus; i > 0; i--)
                if (!tid_listed(tids, n, vm->vcpus[i - 1].tid))
                        vcpu_remove_at(s, vm, i - 1);
        for (size_t i = vm->n_threads; i > 0; i--)
                if (!tid_listed(tids, n, vm->threads[i - 1].tid))
                        vm_thread_drop(vm, i - 1);

        for (size_t i = 0; i < n; i++) {
                int vcpu = thread_is_vcpu(s, vm->pid, tids[i]);

                if (vcpu < 0) {
                        if (errno_is_vanished(vcpu))
                                continue;
                        vcpu = 0;
                }
                if (vcpu) {
                        r = vcpu_add(s, vm, tids[i]);
                        if (r == -ENOSPC) {
                                log_warn("schedlat: %u vCPU threads are registered already; thread %d of pid %d "
                                         "is counted with its VM only",
                                         s->max_vcpus, (int)tids[i], (int)vm->pid);
                                r = 0;
                        }
                } else if (s->source == RUNQ_SOURCE_SCHEDSTAT && !vm_thread(vm, tids[i]))
                        r = vm_thread_open(s, vm, tids[i], false);
                else
                        r = 0;
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && !errno_is_vanished(r))
                        log_debug_errno(r, "schedlat: thread %d of pid %d: %m", (int)tids[i], (int)vm->pid);
        }
        return 0;
}

int schedlat_vcpu_add(struct schedlat *s, unsigned id, pid_t tid)
{
        struct vm_entry *vm = vm_get(s, id);

        if (!vm || tid <= 0)
                return -EINVAL;
        return vcpu_add(s, vm, tid);
}

int schedlat_vcpu_remove(struct schedlat *s, unsigned id, pid_t tid)
{
        struct vm_entry *vm = vm_get(s, id);
        struct thread_entry *t;
        ssize_t i;

        if (!vm)
                return -EINVAL;
        if (s->source == RUNQ_SOURCE_SCHEDSTAT) {
                t = vm_thread(vm, tid);
                if (!t)
                        return -ENOENT;
                t->vcpu = false;
                return 0;
        }
        i = vm_vcpu_index(vm, tid);
        if (i < 0)
                return -ENOENT;
        vcpu_remove_at(s, vm, (size_t)i);
        return 0;
}

/* ---- Per tick ---- */

static int read_bpf(struct schedlat *s, unsigned id, struct vm_entry *vm, struct runq_latency *ret,
                    struct schedlat_totals *totals)
{
        struct schedlat_delta d, vd = {}, one;
        struct schedlat_snap cur;
        int r;

        r = bpf_read_cgroup(s, id, &cur);
        if (r < 0)
                return r;
        schedlat_snap_delta(&cur, &vm->prev, &d);
        vm->prev = cur;
        for (size_t i = 0; i < vm->n_vcpus; i++) {
                r = bpf_read_vcpu(s, vm->vcpus[i].slot, &cur);
                if (r < 0)
                        return r;
                schedlat_snap_delta(&cur, &vm->vcpus[i].prev, &one);
                vm->vcpus[i].prev = cur;
                schedlat_delta_add(&vd, &one);
        }

        ret->source = RUNQ_SOURCE_BPF;
        ret->samples = d.total;
        ret->p50_usec = (schedlat_percentile_ns(&d, 500) + 500) / 1000;
        ret->p90_usec = (schedlat_percentile_ns(&d, 900) + 500) / 1000;
        ret->p99_usec = (schedlat_percentile_ns(&d, 990) + 500) / 1000;
        ret->vcpu_p99_usec = (schedlat_percentile_ns(&vd, 990) + 500) / 1000;
        *totals = (struct schedlat_totals){
                .samples = d.total, .wait_ns = d.sum_ns, .vcpu_samples = vd.total, .vcpu_wait_ns = vd.sum_ns};
        return 0;
}

static int read_schedstat(struct schedlat *s, struct vm_entry *vm, struct runq_latency *ret,
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
                        vm_thread_drop(vm, i); /* gone: no increment */
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
        *totals = t;
        return 0;
}

int schedlat_read(struct schedlat *s, unsigned id, struct runq_latency *ret, struct schedlat_totals *ret_totals)
{
        struct vm_entry *vm = vm_get(s, id);
        struct runq_latency q = {.source = RUNQ_SOURCE_NONE};
        struct schedlat_totals t = {};
        int r = 0;

        if (!vm)
                return -EINVAL;
        if (s->source == RUNQ_SOURCE_BPF)
                r = read_bpf(s, id, vm, &q, &t);
        else if (s->source == RUNQ_SOURCE_SCHEDSTAT)
                r = read_schedstat(s, vm, &q, &t);
        if (r < 0) {
                q = (struct runq_latency){.source = RUNQ_SOURCE_NONE};
                t = (struct schedlat_totals){};
                log_warn_errno(r, "schedlat: reading the run-queue latency of pid %d: %m", (int)vm->pid);
        }
        *ret = q;
        if (ret_totals)
                *ret_totals = t;
        return r;
}
