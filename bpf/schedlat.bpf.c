// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Run-queue latency of the tasks in the cgroups vmgov tracks: the time from a task becoming runnable (woken, or
 * preempted while still runnable) to it running, as log2 histograms per tracked cgroup (per-CPU) and per
 * registered vCPU thread. User space (engine/sense/schedlat_bpf.c) fills the cgroups and vcpus maps and diffs the
 * cumulative histograms every tick; nothing here is ever deleted by user space.
 *
 * Two program sets, one loaded:
 *   btf_*  tp_btf programs with direct BTF field access and the timestamp in task-local storage (5.11+).
 *   raw_*  raw_tp programs with BPF_CORE_READ and a tid-keyed hash for the timestamp, for kernels where the first
 *          set does not load. User space turns autoload on for one set before loading.
 *
 * The filter is on the task that becomes runnable (sched_wakeup's p) or is switched in (sched_switch's next),
 * never on the current task: vCPU threads are mostly woken from interrupts, where current is someone else.
 */
#include "core_types.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "schedlat.h"

char LICENSE[] SEC("license") = "GPL";

/* Set through the skeleton before load. false: the vcpus path is left out (the verifier drops dead code). */
const volatile bool track_vcpus = true;

/* cgroup id (kernfs id = inode number of the cgroup directory) → slot in cgroup_hist. */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 1024); /* user space sets the real sizes before load */
        __type(key, __u64);
        __type(value, __u32);
} cgroups SEC(".maps");

/* Per-CPU: many threads of one cgroup record at once on different CPUs, and no atomics are needed. */
struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1024);
        __type(key, __u32);
        __type(value, struct schedlat_hist);
} cgroup_hist SEC(".maps");

/* tid → vCPU slot. */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 4096);
        __type(key, __u32);
        __type(value, struct schedlat_vcpu);
} vcpus SEC(".maps");

/*
 * Not per-CPU: a slot belongs to one thread, and a thread is switched in on one CPU at a time (under that run
 * queue's lock, with the migration's barriers between two CPUs), so there is never more than one writer. That
 * saves a factor of ncpus in memory and in what user space reads, which it does through mmap without a syscall.
 */
struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, 4096);
        __uint(map_flags, BPF_F_MMAPABLE);
        __type(key, __u32);
        __type(value, struct schedlat_hist);
} vcpu_hist SEC(".maps");

/*
 * Bumped by user space after every change of the vcpus map (through the mmap'ed .bss): a task's cached vCPU slot
 * is good while its vcpu_gen matches. Saves the vcpus lookup on every switch-in of a tracked task.
 */
__u32 vcpu_gen;

struct task_val {
        __u64 ts;        /* when the task became runnable (ns, bpf_ktime_get_ns), 0 when it is not waiting */
        __u32 vcpu_gen;  /* vcpu_gen when vcpu_slot was looked up */
        __u32 vcpu_slot; /* its vcpu_hist slot + 1, 0 for none */
};

/* Freed with the task. */
struct {
        __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, int);
        __type(value, struct task_val);
} task_ts SEC(".maps");

/* The same for the raw_tp set, keyed by tid; an entry lives from becoming runnable to running. */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 16384);
        __type(key, __u32);
        __type(value, __u64);
} pid_ts SEC(".maps");

static __always_inline void hist_add(struct schedlat_hist *h, __u64 delta)
{
        __u32 b = schedlat_log2_bucket(delta);

        /* The compiler knows b < 32 and would drop the mask; older verifiers (6.1) cannot follow the clamp and
         * refuse the access ("unbounded memory access"). Hide b's range so that the mask stays. */
        barrier_var(b);
        h->bucket[b & (SCHEDLAT_BUCKETS - 1)]++;
        h->sum_ns += delta;
}

static __always_inline void record_cgroup(__u32 slot, __u64 delta)
{
        struct schedlat_hist *h = bpf_map_lookup_elem(&cgroup_hist, &slot);

        if (h)
                hist_add(h, delta);
}

static __always_inline void record_vcpu(__u32 slot, __u64 delta)
{
        struct schedlat_hist *h = bpf_map_lookup_elem(&vcpu_hist, &slot);

        if (h)
                hist_add(h, delta);
}

/* The vCPU slot + 1 of a thread, 0 if it is not a registered vCPU thread. */
static __always_inline __u32 vcpu_lookup(__u32 tid, __u32 tgid)
{
        struct schedlat_vcpu *v = bpf_map_lookup_elem(&vcpus, &tid);

        return v && v->tgid == tgid ? v->slot + 1 : 0;
}

/* ---- tp_btf: direct BTF access, task storage ---- */

static __always_inline __u32 *btf_tracked(struct task_struct *p)
{
        __u64 id = p->cgroups->dfl_cgrp->kn->id;

        return bpf_map_lookup_elem(&cgroups, &id);
}

static __always_inline bool btf_still_runnable(bool preempt, struct task_struct *prev)
{
        /* A preempted task stays on the run queue whatever its state says (it may have been about to sleep). */
        if (preempt)
                return true;
        if (bpf_core_field_exists(prev->__state))
                return prev->__state == TASK_RUNNING;
        return ((struct task_struct___pre514 *)prev)->state == TASK_RUNNING;
}

static __always_inline int btf_runnable(struct task_struct *p)
{
        struct task_val *tv;

        if (!btf_tracked(p))
                return 0;
        tv = bpf_task_storage_get(&task_ts, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
        if (tv)
                tv->ts = bpf_ktime_get_ns();
        return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(btf_wakeup, struct task_struct *p)
{
        return btf_runnable(p);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(btf_wakeup_new, struct task_struct *p)
{
        return btf_runnable(p);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
        struct task_val *tv;
        __u64 now = 0;
        __u32 *slot, gen;

        /* prev, preempted: its wait starts again now (a task that never sleeps, a busy vCPU, only ever waits
         * this way, so this is where its storage may be created). */
        if (btf_still_runnable(preempt, prev) && btf_tracked(prev)) {
                tv = bpf_task_storage_get(&task_ts, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
                if (tv) {
                        now = bpf_ktime_get_ns();
                        tv->ts = now;
                }
        }

        slot = btf_tracked(next);
        if (!slot)
                return 0;
        tv = bpf_task_storage_get(&task_ts, next, 0, 0);
        if (!tv || !tv->ts)
                return 0;
        if (!now)
                now = bpf_ktime_get_ns();
        if (now <= tv->ts)
                goto out;
        record_cgroup(*slot, now - tv->ts);
        if (!track_vcpus)
                goto out;
        gen = vcpu_gen;
        if (tv->vcpu_gen != gen) {
                tv->vcpu_slot = vcpu_lookup(next->pid, next->tgid);
                tv->vcpu_gen = gen;
        }
        if (tv->vcpu_slot)
                record_vcpu(tv->vcpu_slot - 1, now - tv->ts);
out:
        tv->ts = 0;
        return 0;
}

/* ---- raw_tp fallback: probe reads, tid-keyed hash ---- */

static __always_inline __u32 *raw_tracked(struct task_struct *p)
{
        __u64 id = BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id);

        return bpf_map_lookup_elem(&cgroups, &id);
}

static __always_inline bool raw_still_runnable(bool preempt, struct task_struct *prev)
{
        if (preempt)
                return true;
        if (bpf_core_field_exists(prev->__state))
                return BPF_CORE_READ(prev, __state) == TASK_RUNNING;
        return BPF_CORE_READ((struct task_struct___pre514 *)prev, state) == TASK_RUNNING;
}

static __always_inline void raw_stamp(struct task_struct *p, __u64 now)
{
        __u32 tid = BPF_CORE_READ(p, pid);

        bpf_map_update_elem(&pid_ts, &tid, &now, BPF_ANY);
}

static __always_inline int raw_runnable(struct task_struct *p)
{
        if (raw_tracked(p))
                raw_stamp(p, bpf_ktime_get_ns());
        return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(raw_wakeup, struct task_struct *p)
{
        return raw_runnable(p);
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(raw_wakeup_new, struct task_struct *p)
{
        return raw_runnable(p);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
        __u64 now = 0, *ts;
        __u32 *slot, tid;

        if (raw_still_runnable(preempt, prev) && raw_tracked(prev)) {
                now = bpf_ktime_get_ns();
                raw_stamp(prev, now);
        }

        slot = raw_tracked(next);
        if (!slot)
                return 0;
        tid = BPF_CORE_READ(next, pid);
        ts = bpf_map_lookup_elem(&pid_ts, &tid);
        if (!ts)
                return 0;
        if (!now)
                now = bpf_ktime_get_ns();
        if (now > *ts) {
                __u32 v = track_vcpus ? vcpu_lookup(tid, BPF_CORE_READ(next, tgid)) : 0;

                record_cgroup(*slot, now - *ts);
                if (v)
                        record_vcpu(v - 1, now - *ts);
        }
        bpf_map_delete_elem(&pid_ts, &tid);
        return 0;
}
