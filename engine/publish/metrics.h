/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/resource_limits.h"
#include "kernel/signals.h"
#include "kernel/vm.h"

/*
 * Prometheus metrics in the text exposition format, version 0.0.4, for node_exporter's textfile collector: a pure
 * formatter from plain input structs to text, and a writer that replaces the file atomically.
 *
 * Every family has HELP and TYPE lines before its samples, and all samples of a family are together (node_exporter
 * refuses a file otherwise). No timestamps (node_exporter refuses those too). Names are vmgov_*, with the unit in the
 * name (_bytes, _seconds; counters end in _total). What accumulates is a counter (CPU time, throttling, PSI stall
 * time, memory.events, io bytes and operations) and run-queue latency a histogram, so that rate() and
 * histogram_quantile() are exact over any window; a gauge is only a level (a limit, a weight, memory.current).
 * Per-VM series carry vm (the -name), uuid (where it has one) and group, which stay the same across a restart of
 * the VM's QEMU; vmgov_vm_info adds pid, cgroup and exe. Only VMs that would share all three labels get a pid label
 * too, so that no two series are the same.
 *
 * Label values are escaped as the format wants (backslash, double quote and newline as \\, \" and \n); any byte
 * that is not part of valid UTF-8 becomes U+FFFD, because Prometheus parsers refuse a file with invalid UTF-8 and a
 * hostile -name must not take every other metric down with it. Control characters (C0 but tab and newline, DEL,
 * C1) become U+FFFD too, so that reading the file on a terminal is safe.
 *
 * Limits are "+Inf" for max/infinity. Counters and histograms appear once the VM has been sensed for a tick.
 */

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The files the engine writes, for the decision counters' file="..." label. */
enum metrics_file {
        METRICS_FILE_CPU_WEIGHT,
        METRICS_FILE_CPU_IDLE,
        METRICS_FILE_CPU_MAX,
        METRICS_FILE_MEMORY_HIGH,
        METRICS_FILE_MEMORY_MAX,
        METRICS_FILE_IO_WEIGHT,
        METRICS_FILE_IO_MAX,
        METRICS_FILE_MEMORY_RECLAIM, /* the memory law's probes (one-shot writes) */
        METRICS_FILE_CGROUP_PROCS,   /* moving a VM into its cgroup */
        /* from here on, listed only when counted: files few policies set */
        METRICS_FILE_MEMORY_MIN,
        METRICS_FILE_MEMORY_LOW,
        METRICS_FILE_MEMORY_SWAP_MAX,
        METRICS_FILE_MEMORY_ZSWAP_MAX,
        METRICS_FILE_CPU_MAX_BURST,
        METRICS_FILE_CPUSET_CPUS,
        METRICS_FILE_CPUSET_MEMS,
        METRICS_FILE_CPUSET_PARTITION,
        METRICS_FILE_IO_LATENCY,
        METRICS_FILE_IO_BFQ_WEIGHT,
        METRICS_FILE_OTHER, /* any other file */
        _METRICS_FILE_MAX,
};
#define METRICS_FILE_SPARSE_FIRST METRICS_FILE_MEMORY_MIN

const char *metrics_file_to_string(enum metrics_file f);
enum metrics_file metrics_file_from_string(const char *file);

/* Counters that only ever grow (a VM's while it lives; the engine's over its lifetime). */
struct metrics_counters {
        uint64_t decisions[_METRICS_FILE_MAX]; /* changes written, or in dry-run that would have been written */
        uint64_t write_errors;                 /* reads or writes of a cgroup file that failed */
        /* cgroup.freeze written 1, and the freezes that ended (thawed, or the VM gone): frozen now is the difference */
        uint64_t freezes, freezes_ended;
};

/* Count one actuator_apply() result for file: > 0 a change (made, or would-be in dry-run), 0 nothing to do, < 0 a
 * failure. */
void metrics_count(struct metrics_counters *c, const char *file, int apply_result);

/* What a VM's signals have added up to since it was first tracked: the counters and histograms of the metrics. The
 * publish stage keeps one per VM, and keeps it for a while when the VM exits, so that a VM of the same name, uuid
 * and group that comes back continues its series instead of starting them at zero. */
#define METRICS_IO_DEVICES 16

struct metrics_io_device {
        unsigned major, minor;
        uint64_t rbytes, wbytes, rios, wios;
};

struct metrics_totals {
        uint64_t cpu_usage_usec, cpu_throttled_usec, cpu_periods, cpu_throttled_periods;
        uint64_t stall_usec[3][2]; /* [cpu, memory, io][some, full] */
        uint64_t memory_events[4]; /* high, max, oom, oom_kill */
        unsigned n_io_devices;
        struct metrics_io_device io[METRICS_IO_DEVICES]; /* devices beyond these are not counted */
        struct runq_histogram runq, vcpu_runq;
        bool psi_seen; /* psi_last holds the cgroup's raw PSI totals of the last tick */
        uint64_t psi_last[3][2];
};

/* Pure: add one tick's signals. The first tick of a sensor (sig->interval_usec == 0) only takes the PSI totals
 * as the base for the next one's deltas. */
void metrics_totals_add(struct metrics_totals *t, const struct vm_signals *sig);

struct metrics_vm {
        const struct vm_identity *id;            /* name, uuid, pid, exe */
        const char *group;                       /* its policy group; NULL or "" when unmanaged */
        const char *cgroup;                      /* relative to the cgroup2 mount; NULL or "" before placement */
        const struct limits *limits;             /* what the engine holds it at (would, in dry-run); NULL: none */
        const struct vm_signals *sig;            /* this tick's signals (levels: memory.current); NULL: not sensed */
        const struct metrics_counters *counters; /* NULL: not counted */
        const struct metrics_totals *totals;     /* NULL: nothing sensed yet */
        const struct thread_signals *threads;    /* its threaded children, when its threads are placed apart */
        size_t n_threads;
};

struct metrics_engine {
        bool dry_run;
        uint64_t ticks;              /* ticks run since start */
        uint64_t tick_duration_usec; /* how long the last tick took */
        uint64_t interval_usec;
        const struct host_signals *host;       /* NULL: not sensed */
        const struct metrics_counters *totals; /* over every VM ever governed; NULL: not counted */
        enum runq_source runq_source;          /* how run-queue latency is measured: the histograms' HELP says */
};

/* Pure: the whole exposition text in a fresh NUL-terminated buffer. Returns 0 or -ENOMEM. */
int metrics_format(const struct metrics_engine *e, const struct metrics_vm *vms, size_t n_vms, char **ret_text,
                   size_t *ret_len);

/* Pure: a label value, escaped (see above), NUL-terminated into buf. Returns its length or -ENOBUFS. At most
 * 3 bytes of output per byte of input, plus the NUL. */
int metrics_escape_label(const char *s, char *buf, size_t size);

/*
 * Replace path with text atomically, for node_exporter's textfile collector: write ".NAME.tmp" in the same
 * directory (a name the collector does not read: it reads *.prom), fsync it, make it 0644, rename it over path.
 * A reader sees the old file or the new one, never a part. Returns 0 or -errno (nothing logged; the temporary file
 * is removed on failure).
 */
int metrics_write_textfile(const char *path, const char *text, size_t len);
