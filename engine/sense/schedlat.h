/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/signals.h"

/*
 * Run-queue latency per VM: how long the VM's threads wait on a run queue between becoming runnable and running.
 *
 * With eBPF (bpf/schedlat.bpf.c): log2 histograms of every wait, per tracked cgroup and per registered vCPU
 * thread, cumulative in the kernel; each schedlat_read() diffs against the previous snapshot and computes
 * p50/p90/p99 by interpolating linearly inside the log2 bucket where the rank falls (the true value is in that
 * bucket, so the error is below the bucket's width: at most a factor of 2, typically far less).
 *
 * Without eBPF (no kernel BTF, no CAP_BPF, the verifier refuses, or asked not to), the fallback reads
 * /proc/PID/task/TID/schedstat of every thread of the VM with held fds: per thread, the tick's run-queue wait and
 * number of runs, i.e. one mean wait per run per thread. Its "percentiles" are percentiles over those per-thread
 * means, each weighted by the thread's runs: p99 is then the mean wait of the slowest threads, not the 99th
 * percentile of individual waits (a thread that waits 10 ms once and 1 us a hundred times shows as 100 us).
 * samples is the number of runs. The fallback needs CONFIG_SCHED_INFO.
 *
 * vCPU threads are the ones named "CPU <n>/KVM" (QEMU with debug-threads=on, as libvirt runs it; "CPU <n>/TCG" is
 * taken too, for emulated guests).
 *
 * Per tick the engine calls schedlat_read() once per VM; nothing is allocated there. Adding a VM and scanning its
 * threads allocate.
 */

#define SCHEDLAT_NBUCKETS        RUNQ_BUCKETS /* = SCHEDLAT_BUCKETS of bpf/schedlat.h */
#define SCHEDLAT_DEFAULT_MAX_VMS 1024
/* vCPU threads: at least 4096, else 2 per VM of max_vms (which has room to double already, and grows when full).
 * No more: the vcpu_hist map is mmap'ed, and all of it counts in the engine's RSS (136 bytes a slot). */
#define SCHEDLAT_DEFAULT_MAX_VCPUS 4096
#define SCHEDLAT_VCPUS_PER_VM      2

enum schedlat_use {
        SCHEDLAT_USE_AUTO,      /* tp_btf programs, else raw_tp programs, else schedstat */
        SCHEDLAT_USE_RAW_TP,    /* raw_tp programs, else schedstat (to test that path) */
        SCHEDLAT_USE_SCHEDSTAT, /* no eBPF */
};

struct schedlat_options {
        int proc_fd; /* /proc (threads, comm, schedstat) */
        int sys_fd;  /* /sys (kernel/btf/vmlinux) */
        enum schedlat_use use;
        unsigned max_vms;   /* VMs tracked at once (BPF map sizes); 0 = SCHEDLAT_DEFAULT_MAX_VMS */
        unsigned max_vcpus; /* vCPU threads registered at once; 0 = SCHEDLAT_DEFAULT_MAX_VCPUS */
};

/* What one read covered, besides the percentiles: for tests, status and the accuracy check against schedstat. */
struct schedlat_totals {
        uint64_t samples, wait_ns;           /* all of the VM's measured threads */
        uint64_t vcpu_samples, vcpu_wait_ns; /* its vCPU threads */
};

struct schedlat;

/* Load and attach the BPF programs (or settle for schedstat: logs "eBPF unavailable: REASON; using schedstat"
 * once). Fails only on -ENOMEM or bad options. Memory: kernel maps of about
 * max_vms * ncpus * 136 + max_vcpus * 136 bytes plus the hashes. */
int schedlat_new(const struct schedlat_options *o, struct schedlat **ret);
void schedlat_free(struct schedlat *s);

/* RUNQ_SOURCE_BPF or RUNQ_SOURCE_SCHEDSTAT (RUNQ_SOURCE_NONE when neither works). */
enum runq_source schedlat_source(const struct schedlat *s);
/* "tp_btf", "raw_tp", "schedstat" or "none". */
const char *schedlat_mode(const struct schedlat *s);
/* Was a VM, a cgroup or a vCPU thread refused for want of room since the maps were made? (The engine then makes
 * them again, larger: sense/stage.c.) */
bool schedlat_full(const struct schedlat *s);
unsigned schedlat_max_vms(const struct schedlat *s);

/* Track a VM: its cgroup (a directory fd on it, duplicated: the caller keeps or closes its own) with the cgroups
 * beneath it (libvirt's vcpuN/emulator children; new ones are found by schedlat_vm_scan), and its QEMU pid,
 * whose threads are scanned at once (schedlat_vm_scan); pid 0 tracks the cgroup alone (no vCPU threads, and
 * nothing to read without BPF). Returns 0 and a handle in ret_id; -ENOSPC when max_vms are tracked; -EEXIST if
 * another VM tracks that cgroup; -ESRCH/-ENOENT if the process is gone. */
int schedlat_vm_add(struct schedlat *s, int cgroup_fd, pid_t pid, unsigned *ret_id);
/* Count one more cgroup for the VM (e.g. a child cgroup its vCPU threads were put in). */
int schedlat_vm_add_cgroup(struct schedlat *s, unsigned id, int cgroup_fd);
void schedlat_vm_remove(struct schedlat *s, unsigned id);
/* Stop holding the VM's cgroup (the engine's fd budget is spent): its child cgroups made later are then not found
 * by schedlat_vm_scan, the rest is measured as before. */
void schedlat_vm_drop_fd(struct schedlat *s, unsigned id);
/* Re-read /proc/PID/task: registers vCPU threads not yet known and forgets vanished ones; without BPF, opens the
 * schedstat of new threads. With BPF, tracks child cgroups created since. Call it every few ticks (or on a
 * thread or cgroup event of the VM). Allocates. */
int schedlat_vm_scan(struct schedlat *s, unsigned id);
/* Register or forget one vCPU thread by hand (schedlat_vm_scan does it by name). -ENOSPC when max_vcpus are. */
int schedlat_vcpu_add(struct schedlat *s, unsigned id, pid_t tid);
/* The same for a vCPU whose index is known another way (QMP's cpu-index): the reads name it by that. */
int schedlat_vcpu_add_index(struct schedlat *s, unsigned id, pid_t tid, unsigned index);
int schedlat_vcpu_remove(struct schedlat *s, unsigned id, pid_t tid);

/* The tick's run-queue latency of the VM since the previous read (or since it was added). ret_totals may be
 * NULL. -EINVAL for an unknown id; other errors leave source = RUNQ_SOURCE_NONE in ret and are logged. */
int schedlat_read(struct schedlat *s, unsigned id, struct runq_latency *ret, struct schedlat_totals *ret_totals);

/* Each vCPU thread's run-queue latency at the VM's last schedlat_read (eBPF only: per-thread histograms). */
struct schedlat_vcpu_tick {
        pid_t tid;
        unsigned index;
        uint64_t samples, p99_usec;
};
/* Up to max of them into ret; returns how many the VM has (0 without eBPF, or for an unknown id). */
size_t schedlat_vcpu_ticks(struct schedlat *s, unsigned id, struct schedlat_vcpu_tick *ret, size_t max);

/* ---- Pure parts ---- */

/* A cumulative histogram summed over CPUs; bucket counters wrap at 2^32 like the kernel's. */
struct schedlat_snap {
        uint32_t bucket[SCHEDLAT_NBUCKETS];
        uint64_t sum_ns;
};

/* One tick's histogram. */
struct schedlat_delta {
        uint64_t count[SCHEDLAT_NBUCKETS];
        uint64_t total;  /* sum of count[] */
        uint64_t sum_ns; /* total wait */
};

/* The log2 bucket of a wait: 0 for 0 and 1 ns, b for [2^b, 2^(b+1)), the last for 2^31 ns and more. */
unsigned schedlat_bucket(uint64_t ns);
/* The bucket's range [lo, hi) in ns: [0, 2) for bucket 0, [2^b, 2^(b+1)) otherwise (the last is open-ended; its
 * hi is taken as 2^32). */
void schedlat_bucket_bounds(unsigned b, uint64_t *ret_lo, uint64_t *ret_hi);
/* Sum ncpus per-CPU struct schedlat_hist values, stride bytes apart (the kernel's per-CPU layout: round_up(136,
 * 8)), into a snapshot. */
void schedlat_snap_sum(const void *percpu, unsigned ncpus, size_t stride, struct schedlat_snap *ret);
/* cur - prev, bucket by bucket modulo 2^32. */
void schedlat_snap_delta(const struct schedlat_snap *cur, const struct schedlat_snap *prev, struct schedlat_delta *ret);
void schedlat_delta_add(struct schedlat_delta *acc, const struct schedlat_delta *d);
/* The permille-th percentile (500 = p50) in ns: the bucket holding rank total*permille/1000, interpolated
 * linearly: lo + (hi - lo) * (rank - samples below the bucket) / samples in it. 0 for an empty histogram. */
uint64_t schedlat_percentile_ns(const struct schedlat_delta *d, unsigned permille);

/* /proc/PID/task/TID/schedstat: "run_ns wait_ns timeslices\n". -EINVAL if malformed. */
struct schedlat_schedstat {
        uint64_t run_ns, wait_ns, timeslices;
};
int schedlat_schedstat_parse(const char *buf, size_t len, struct schedlat_schedstat *ret);

/* One thread's tick in the fallback: its mean wait per run, weighted by its runs. */
struct schedlat_point {
        uint64_t mean_ns, runs;
};
/* The weighted permille-th percentile of the points' means: the smallest mean whose cumulative weight reaches
 * total*permille/1000. Sorts points in place. 0 when there are no runs. */
uint64_t schedlat_points_percentile_ns(struct schedlat_point *points, size_t n, unsigned permille);

/* Is this comm (as in /proc/.../comm, a trailing newline allowed) a QEMU vCPU thread: "CPU <n>/KVM" or
 * "CPU <n>/TCG"? */
bool schedlat_comm_is_vcpu(const char *comm, size_t len);
/* Its n, or -1 when it is not one. */
int schedlat_comm_vcpu_index(const char *comm, size_t len);
