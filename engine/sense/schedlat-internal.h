/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the parts of schedlat share, and nothing outside engine/sense/schedlat*.c includes: the state of a struct
 * schedlat and of each VM it tracks, and what one part calls in another.
 *
 *   schedlat.c            the public API's entry points: creating, freeing, which mode, reading a VM's tick
 *   schedlat_bpf.c        the eBPF mode: the programs' lifecycle, their maps, reading their histograms
 *   schedlat_schedstat.c  the fallback: each thread's /proc/PID/task/TID/schedstat, held open and read per tick
 *   schedlat_vm.c         the VMs tracked: their cgroups and threads, which of these are vCPUs, rescans
 *   schedlat_percentile.c percentiles from histograms and from per-thread means (pure)
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/signals.h"
#include "sense/schedlat.h"

#define SCHEDLAT_CGROUP_DEPTH   4 /* child cgroups of a VM's cgroup are tracked this deep */
#define SCHEDLAT_CGROUPS_PER_VM 8 /* room in the cgroups map: the VM's and its children's */

struct schedlat_bpf; /* the skeleton (schedlat.skel.h), which schedlat_bpf.c alone includes */

#define SCHEDLAT_CHUNK_BYTES        (64 * 1024) /* what one batch of cgroup histograms may take */
#define SCHEDLAT_CHUNK_MAX_AGE_USEC 100000ULL   /* a tick reads its VMs' slots within this, well before the next */

/* ---- State ---- */

/* Which slots a chunk of cgroup histograms holds, and which of them are still to be taken. */
struct schedlat_chunk {
        unsigned first, n;
        uint64_t unread; /* bit i: slot first + i not taken yet */
        uint64_t usec;   /* when it was read (CLOCK_MONOTONIC) */
};

/* Pure: may slot's histogram be taken from chunk c at now? Only once (a second read of a slot is a later tick's,
 * which needs fresh counts) and within SCHEDLAT_CHUNK_MAX_AGE_USEC of the read (a VM whose slot was not taken
 * in the tick that read the chunk is not given old counts in the next). If so, *ret_index is its place in the
 * chunk, and it is marked taken. */
static inline bool schedlat_chunk_take(struct schedlat_chunk *c, unsigned slot, uint64_t now, unsigned *ret_index)
{
        unsigned i = slot - c->first;

        if (slot < c->first || i >= c->n || !(c->unread & UINT64_C(1) << i) ||
            now - c->usec > SCHEDLAT_CHUNK_MAX_AGE_USEC)
                return false;
        c->unread &= ~(UINT64_C(1) << i);
        *ret_index = i;
        return true;
}

/* A chunk of n slots from first on, read at now, none taken. n <= 64. */
static inline void schedlat_chunk_set(struct schedlat_chunk *c, unsigned first, unsigned n, uint64_t now)
{
        *c = (struct schedlat_chunk){
                .first = first, .n = n, .unread = n >= 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1, .usec = now};
}

struct vcpu_entry {
        pid_t tid;
        unsigned slot;
        unsigned index; /* the n of its name, "CPU n/KVM", or its cpu-index from QMP */
        struct schedlat_snap prev;
        uint64_t tick_samples, tick_p99_ns; /* its last read */
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
        bool full;            /* a VM, cgroup or vCPU thread was refused for want of room (schedlat_full) */
        bool vcpus_full_said; /* logged once */

        struct schedlat_bpf *skel;
        int cgroups_fd, cgroup_hist_fd, vcpus_fd, vcpu_hist_fd;
        unsigned ncpus;
        size_t stride;    /* round_up(sizeof(struct schedlat_hist), 8) */
        void *percpu_buf; /* ncpus * stride */
        void *vcpu_mem;   /* vcpu_hist mmap'ed, or NULL (then looked up) */
        size_t vcpu_mem_len;
        /* The cgroup slots' histograms, read a chunk at a time in one syscall (BPF_MAP_LOOKUP_BATCH) as a tick reads
         * VM after VM (schedlat_chunk_take) */
        void *chunk;        /* chunk_cap * ncpus * stride */
        unsigned chunk_cap; /* slots it holds, at most 64 */
        struct schedlat_chunk chunk_of;
        bool no_batch; /* the kernel refused a batch: one lookup per slot */
        unsigned *free_vcpu_slots;
        unsigned n_free_vcpu_slots;
};

/* ---- schedlat_bpf.c ---- */

/* The BPF mode's buffers, then the programs loaded and attached as use asks (tp_btf, else raw_tp); sets s->mode.
 * 0 when they run; -EOPNOTSUPP with the reason in why when they cannot; -ENOMEM. */
int schedlat_bpf_new(struct schedlat *s, enum schedlat_use use, char *why, size_t len);
/* Detach and destroy the programs and maps, free the buffers (all of it may be missing). */
void schedlat_bpf_free(struct schedlat *s);
/* The histogram of cgroup slot slot (= the VM's id), summed over CPUs. */
int schedlat_bpf_read_cgroup(struct schedlat *s, unsigned slot, struct schedlat_snap *ret);
/* Count the tasks of cgroup cgid in cgroup slot slot. -EEXIST: another VM's; -E2BIG: the map is full. */
int schedlat_bpf_cgroup_track(struct schedlat *s, uint64_t cgid, unsigned slot);
void schedlat_bpf_cgroup_untrack(struct schedlat *s, uint64_t cgid);
/* Register thread tid of the VM as a vCPU (a slot of its own); already registered: 0. -ENOSPC when no slot is
 * free. */
int schedlat_bpf_vcpu_add(struct schedlat *s, struct vm_entry *vm, pid_t tid);
void schedlat_bpf_vcpu_remove_at(struct schedlat *s, struct vm_entry *vm, size_t i);
/* The index of tid in vm->vcpus, or -1. */
ssize_t schedlat_bpf_vcpu_index(struct vm_entry *vm, pid_t tid);
/* The tick of VM id: its cgroup slot's and its vCPU slots' histograms since the previous read. */
int schedlat_bpf_read(struct schedlat *s, unsigned id, struct vm_entry *vm, struct runq_latency *ret,
                      struct schedlat_totals *totals);

/* ---- schedlat_schedstat.c ---- */

/* The thread's entry, or NULL. */
struct thread_entry *schedlat_schedstat_thread(struct vm_entry *vm, pid_t tid);
/* Add an entry for the thread, with an fd held on its schedstat. */
int schedlat_schedstat_thread_open(struct schedlat *s, struct vm_entry *vm, pid_t tid, bool vcpu);
/* Close and forget entry i (the last one takes its place). */
void schedlat_schedstat_thread_drop(struct vm_entry *vm, size_t i);
/* The tick of the VM: each thread's wait per run since the previous read. ret is left alone on the first read. */
int schedlat_schedstat_read(struct schedlat *s, struct vm_entry *vm, struct runq_latency *ret,
                            struct schedlat_totals *totals);

/* ---- schedlat_vm.c ---- */

/* The VM with that id, or NULL when none is. */
struct vm_entry *schedlat_vm_get(struct schedlat *s, unsigned id);
/* Forget the rate limit of a VM's read warnings (it is removed; its slot may serve another VM). */
void schedlat_read_warn_forget(unsigned id, pid_t pid);
/* Forget the VM: its cgroups and vCPU threads untracked, its fds closed, its memory freed; the entry unused. */
void schedlat_vm_clear(struct schedlat *s, struct vm_entry *vm);
