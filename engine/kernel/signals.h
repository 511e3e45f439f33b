/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/resource_limits.h"
#include "kernel/threadcg.h"

/*
 * One tick's signals: what sensing hands to the control laws, the status table, the metrics and the signal
 * recorder. Plain data, no pointers, so a tick can be recorded to a file and replayed.
 *
 * Pressures are "interval pressure": the share of the tick's wall time in which some (or all) tasks stalled,
 * computed from the deltas of PSI's "total" (microseconds), in parts per million (1% = 10000). avg10 alone is a
 * decaying average and not exact over a tick; the avgs are kept for display.
 */

#define SIGNALS_PPM 1000000u

struct psi_line {
        uint32_t avg10_centi, avg60_centi, avg300_centi; /* the kernel's avgN as hundredths of a percent */
        uint64_t total_usec;                             /* cumulative stall time */
};

struct psi_resource {
        struct psi_line some, full; /* cpu "full" is all zero on kernels before 5.13 */
};

struct psi_snapshot {
        struct psi_resource cpu, memory, io;
};

/* Interval pressure over one tick, ppm of wall time. */
struct pressure {
        uint32_t some_ppm, full_ppm;
};

enum runq_source {
        RUNQ_SOURCE_NONE,     /* not measured (yet): the first tick, or no thread to look at */
        RUNQ_SOURCE_BPF,      /* eBPF histograms (bpf/schedlat.bpf.c) */
        RUNQ_SOURCE_SCHEDSTAT /* /proc/PID/task/TID/schedstat run-queue wait deltas */
};

#define RUNQ_BUCKETS 32 /* log2 of the wait in ns, as bpf/schedlat.h counts them */

/* Waits counted as log2 buckets: bucket b holds [2^b, 2^(b+1)) ns (bucket 0 also 0 ns), the last everything from
 * 2^31 ns on. Without buckets (schedstat), only the number of waits and their sum are known. */
struct runq_histogram {
        bool buckets;
        uint64_t count[RUNQ_BUCKETS];
        uint64_t samples, sum_ns;
};

/* One tick's waits, in the buckets above: 32 bits each, as the eBPF program counts them (a thousand VMs carry two
 * each). A count that would not fit (never seen: 4 billion wake-ups of one VM in a tick) stays at UINT32_MAX. */
struct runq_tick_histogram {
        bool buckets;
        uint32_t count[RUNQ_BUCKETS];
        uint64_t samples, sum_ns;
};

struct runq_latency {
        enum runq_source source;
        uint64_t samples;                      /* wake-up-to-run events seen in the tick */
        uint64_t p50_usec, p90_usec, p99_usec; /* over the VM's threads in the tick */
        uint64_t vcpu_p99_usec;                /* over its "CPU n/KVM" threads only (0 if none seen) */
        /* the one vCPU with the highest p99 of its own (eBPF only): one starved vCPU is the steal time a guest
         * feels, whatever the others do */
        uint64_t worst_vcpu_p99_usec;
        uint32_t worst_vcpu;                        /* its index (the n of "CPU n/KVM") + 1; 0: none measured */
        struct runq_tick_histogram tick, vcpu_tick; /* the tick's waits: all of the VM's threads, its vCPU threads */
};

#define SIGNALS_IO_DEVICES 8

struct io_device_rates {
        unsigned major, minor;
        uint64_t rbytes, wbytes, rios, wios; /* deltas over the tick */
};

struct vm_signals {
        uint64_t interval_usec; /* wall time the deltas cover; 0 on the first tick (no deltas yet) */

        struct pressure cpu, memory, io;
        struct psi_snapshot psi; /* the raw avgs and totals, for display */

        /* cpu.stat deltas */
        uint64_t cpu_usage_usec, cpu_user_usec, cpu_system_usec;
        uint64_t cpu_nr_periods, cpu_nr_throttled, cpu_throttled_usec;
        uint64_t cpu_nr_bursts, cpu_burst_usec; /* periods that used cpu.max.burst, and the time it gave */
        uint32_t cpu_burst_stat;                /* 1: cpu.stat has them (Linux 5.14+), else the burst law holds */

        /* memory */
        uint64_t memory_current;                                                     /* bytes, absolute */
        uint64_t memory_anon, memory_file, memory_kernel, memory_shmem, memory_sock; /* memory.stat, absolute */
        uint64_t memory_unreclaimable;    /* what reclaim cannot take back: anon when there is no swap, + kernel */
        uint64_t memory_high, memory_max; /* the limits in force, LIMIT_MAX for "max" */
        uint64_t memory_events_high, memory_events_max, memory_events_oom, memory_events_oom_kill; /* deltas */
        uint32_t memory_reclaim; /* 1: the cgroup has memory.reclaim (kernel 5.19+), so the memory law can probe */

        unsigned n_io_devices;
        struct io_device_rates io_devices[SIGNALS_IO_DEVICES]; /* the busiest first is not promised */

        struct runq_latency runq;
};

/* One threaded child of a VM whose threads the engine places apart (vcpuN, iothreadK, emulator: kernel/threadcg.h):
 * what its threads used and were given, for status and the metrics. Not recorded: the laws read the VM's. */
#define THREAD_SIGNALS_CPUS_MAX 128
struct thread_signals {
        char name[THREAD_CGROUP_NAME_MAX]; /* its cgroup */
        pid_t tid;                         /* the vCPU's or IO thread's id; 0 for the emulator (many threads) */
        bool runq_measured;                /* eBPF measured this vCPU thread's run-queue latency this tick */
        uint64_t runq_samples, runq_p99_usec;
        bool stat_read;                                                /* its cpu.stat was read */
        uint64_t usage_usec, nr_periods, nr_throttled, throttled_usec; /* cpu.stat, cumulative */
        uint64_t usage_ppm;                                            /* of one CPU, over the tick (0 on the first) */
        char cpus[THREAD_SIGNALS_CPUS_MAX]; /* cpuset.cpus.effective: where it may run ("" without cpuset) */
};

struct host_signals {
        uint64_t interval_usec;
        struct pressure cpu, memory, io; /* /proc/pressure/{cpu,memory,io} */
        struct psi_snapshot psi;
        unsigned ncpus;
};
