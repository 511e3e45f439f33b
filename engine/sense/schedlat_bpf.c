/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * schedlat's eBPF mode: the skeleton opened, its maps sized and its programs picked (tp_btf, else raw_tp: probing
 * is loading), loaded, attached, and destroyed; the maps behind it: the cgroups and vCPU threads registered in
 * them, the vCPU slots handed out, and the per-CPU histograms read each tick into a VM's percentiles.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../bpf/schedlat.h"
#include "schedlat.skel.h"

#include "kernel/clock.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "sense/schedlat-internal.h"
#include "sense/schedlat.h"

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

/* ---- The programs: open, size, load, attach, destroy ---- */

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

int schedlat_bpf_new(struct schedlat *s, enum schedlat_use use, char *why, size_t len)
{
        int r;

        s->stride = (sizeof(struct schedlat_hist) + 7) / 8 * 8;
        r = libbpf_num_possible_cpus();
        if (r < 0) {
                snprintf(why, len, "cannot count the possible CPUs: %s", strerror(-r));
                return -EOPNOTSUPP;
        }
        s->ncpus = (unsigned)r;
        s->percpu_buf = calloc(s->ncpus, s->stride);
        /* a chunk of at most 64 KiB (a host of many CPUs reads fewer slots at once) */
        s->chunk_cap = (unsigned)MAX((size_t)1, MIN((size_t)64, SCHEDLAT_CHUNK_BYTES / (s->ncpus * s->stride)));
        s->chunk = calloc(s->chunk_cap, s->ncpus * s->stride);
        s->free_vcpu_slots = calloc(s->max_vcpus, sizeof(unsigned));
        if (!s->percpu_buf || !s->free_vcpu_slots || !s->chunk)
                return -ENOMEM;
        for (unsigned i = 0; i < s->max_vcpus; i++)
                s->free_vcpu_slots[i] = s->max_vcpus - 1 - i; /* the lowest slot on top */
        s->n_free_vcpu_slots = s->max_vcpus;
        return bpf_setup(s, use, why, len);
}

void schedlat_bpf_free(struct schedlat *s)
{
        bpf_unload(s);
        free(s->percpu_buf);
        free(s->free_vcpu_slots);
        free(s->chunk);
        s->chunk = NULL;
        s->percpu_buf = NULL;
        s->free_vcpu_slots = NULL;
}

/* ---- The maps ---- */

int schedlat_bpf_read_cgroup(struct schedlat *s, unsigned slot, struct schedlat_snap *ret)
{
        if (bpf_map_lookup_elem(s->cgroup_hist_fd, &slot, s->percpu_buf) < 0)
                return -errno;
        schedlat_snap_sum(s->percpu_buf, s->ncpus, s->stride, ret);
        return 0;
}

#define KERNEL_ENOTSUPP 524 /* what the kernel says of an operation a map type lacks (not in the uapi headers) */

/* Read the chunk of slots from first on: one syscall for chunk_cap slots. 0, or -errno (then no chunk). */
static int chunk_read(struct schedlat *s, unsigned first, uint64_t now)
{
        DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
        __u32 keys[64], count = MIN(s->chunk_cap, s->max_vms - first), in = first - 1, out;

        s->chunk_of = (struct schedlat_chunk){0};
        /* an array's batch starts after in_batch: none for slot 0 */
        if (bpf_map_lookup_batch(s->cgroup_hist_fd, first ? &in : NULL, &out, keys, s->chunk, &count, &opts) < 0 &&
            (errno != ENOENT || count == 0)) /* ENOENT: the map's end, with what was read */
                return -errno;
        if (count == 0 || keys[0] != first)
                return -EIO;
        schedlat_chunk_set(&s->chunk_of, first, count, now);
        return 0;
}

/* This tick's histogram of a slot: from the chunk that holds it, if read lately and the slot not taken from it since;
 * else from a chunk read afresh from that slot on. A kernel without batches is asked slot by slot. */
static int read_cgroup_chunked(struct schedlat *s, unsigned slot, struct schedlat_snap *ret)
{
        uint64_t now = monotonic_usec();
        unsigned i = 0;

        if (s->no_batch)
                return schedlat_bpf_read_cgroup(s, slot, ret);
        if (!schedlat_chunk_take(&s->chunk_of, slot, now, &i)) {
                int r = chunk_read(s, slot, now);
                if (r < 0) {
                        if (r == -EINVAL || r == -EOPNOTSUPP || r == -KERNEL_ENOTSUPP) {
                                log_debug_errno(r, "schedlat: no batch lookups of the histograms here (%m): one "
                                                   "lookup a VM");
                                s->no_batch = true;
                        }
                        return schedlat_bpf_read_cgroup(s, slot, ret);
                }
                (void)schedlat_chunk_take(&s->chunk_of, slot, now, &i);
        }
        schedlat_snap_sum((const char *)s->chunk + (size_t)i * s->ncpus * s->stride, s->ncpus, s->stride, ret);
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

int schedlat_bpf_cgroup_track(struct schedlat *s, uint64_t cgid, unsigned slot)
{
        __u32 value = slot;

        if (bpf_map_update_elem(s->cgroups_fd, &cgid, &value, BPF_NOEXIST) < 0)
                return -errno;
        return 0;
}

void schedlat_bpf_cgroup_untrack(struct schedlat *s, uint64_t cgid)
{
        if (bpf_map_delete_elem(s->cgroups_fd, &cgid) < 0 && errno != ENOENT)
                log_debug_errno(-errno, "schedlat: cannot untrack cgroup %llu: %m", (unsigned long long)cgid);
}

ssize_t schedlat_bpf_vcpu_index(struct vm_entry *vm, pid_t tid)
{
        for (size_t i = 0; i < vm->n_vcpus; i++)
                if (vm->vcpus[i].tid == tid)
                        return (ssize_t)i;
        return -1;
}

/* After a change of the vcpus map: the programs' cached vCPU slots (task storage) are stale. */
static void vcpu_gen_bump(struct schedlat *s)
{
        __atomic_fetch_add(&s->skel->bss->vcpu_gen, 1, __ATOMIC_RELEASE);
}

int schedlat_bpf_vcpu_add(struct schedlat *s, struct vm_entry *vm, pid_t tid)
{
        struct schedlat_vcpu value;
        struct vcpu_entry *v;
        unsigned slot;
        int r;

        if (schedlat_bpf_vcpu_index(vm, tid) >= 0)
                return 0;
        if (s->n_free_vcpu_slots == 0) {
                s->full = true;
                return -ENOSPC;
        }
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

void schedlat_bpf_vcpu_remove_at(struct schedlat *s, struct vm_entry *vm, size_t i)
{
        __u32 tid = (__u32)vm->vcpus[i].tid;

        if (bpf_map_delete_elem(s->vcpus_fd, &tid) < 0 && errno != ENOENT)
                log_debug_errno(-errno, "schedlat: cannot forget vCPU thread %u: %m", tid);
        vcpu_gen_bump(s);
        s->free_vcpu_slots[s->n_free_vcpu_slots++] = vm->vcpus[i].slot;
        vm->vcpus[i] = vm->vcpus[--vm->n_vcpus];
}

/* ---- Per tick ---- */

int schedlat_bpf_read(struct schedlat *s, unsigned id, struct vm_entry *vm, struct runq_latency *ret,
                      struct schedlat_totals *totals)
{
        struct schedlat_delta d, vd = {}, one;
        struct schedlat_snap cur;
        uint64_t worst_ns = 0;
        uint32_t worst = 0;
        int r;

        r = read_cgroup_chunked(s, id, &cur);
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
                uint64_t p99 = one.total ? schedlat_percentile_ns(&one, 990) : 0;
                vm->vcpus[i].tick_samples = one.total;
                vm->vcpus[i].tick_p99_ns = p99;
                if (p99 > worst_ns) {
                        worst_ns = p99;
                        worst = vm->vcpus[i].index + 1;
                }
        }

        ret->source = RUNQ_SOURCE_BPF;
        ret->samples = d.total;
        ret->p50_usec = (schedlat_percentile_ns(&d, 500) + 500) / 1000;
        ret->p90_usec = (schedlat_percentile_ns(&d, 900) + 500) / 1000;
        ret->p99_usec = (schedlat_percentile_ns(&d, 990) + 500) / 1000;
        ret->vcpu_p99_usec = (schedlat_percentile_ns(&vd, 990) + 500) / 1000;
        ret->worst_vcpu_p99_usec = (worst_ns + 500) / 1000;
        ret->worst_vcpu = worst;
        ret->tick = (struct runq_tick_histogram){.buckets = true, .samples = d.total, .sum_ns = d.sum_ns};
        ret->vcpu_tick = (struct runq_tick_histogram){.buckets = true, .samples = vd.total, .sum_ns = vd.sum_ns};
        for (unsigned b = 0; b < RUNQ_BUCKETS; b++) {
                ret->tick.count[b] = (uint32_t)MIN(d.count[b], (uint64_t)UINT32_MAX);
                ret->vcpu_tick.count[b] = (uint32_t)MIN(vd.count[b], (uint64_t)UINT32_MAX);
        }
        *totals = (struct schedlat_totals){
                .samples = d.total, .wait_ns = d.sum_ns, .vcpu_samples = vd.total, .vcpu_wait_ns = vd.sum_ns};
        return 0;
}
