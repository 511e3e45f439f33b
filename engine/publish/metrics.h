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
 * name (_bytes, _seconds, _ratio; counters end in _total). Per-VM series carry vm, group and pid labels, so two VMs
 * with the same -name stay apart; vmgov_vm_info adds uuid, cgroup and exe.
 *
 * Label values are escaped as the format wants (backslash, double quote and newline as \\, \" and \n); any byte
 * that is not part of valid UTF-8 becomes U+FFFD, because Prometheus parsers refuse a file with invalid UTF-8 and a
 * hostile -name must not take every other metric down with it. Control characters (C0 but tab and newline, DEL,
 * C1) become U+FFFD too, so that reading the file on a terminal is safe.
 *
 * Limits are "+Inf" for max/infinity. Signals that are deltas over a tick (pressures, CPU usage and throttling)
 * appear only when the tick had a previous one to compare with (sig->interval_usec > 0); run-queue latencies only
 * when they were measured (runq.source != RUNQ_SOURCE_NONE).
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
        METRICS_FILE_OTHER,          /* any other file (listed only when counted) */
        _METRICS_FILE_MAX,
};

const char *metrics_file_to_string(enum metrics_file f);
enum metrics_file metrics_file_from_string(const char *file);

/* Counters that only ever grow (a VM's while it lives; the engine's over its lifetime). */
struct metrics_counters {
        uint64_t decisions[_METRICS_FILE_MAX]; /* changes written, or in dry-run that would have been written */
        uint64_t write_errors;                 /* reads or writes of a cgroup file that failed */
};

/* Count one actuator_apply() result for file: > 0 a change (made, or would-be in dry-run), 0 nothing to do, < 0 a
 * failure. */
void metrics_count(struct metrics_counters *c, const char *file, int apply_result);

struct metrics_vm {
        const struct vm_identity *id;            /* name, uuid, pid, exe */
        const char *group;                       /* its policy group; NULL or "" when unmanaged */
        const char *cgroup;                      /* relative to the cgroup2 mount; NULL or "" before placement */
        const struct limits *limits;             /* what the engine holds it at (would, in dry-run); NULL: none */
        const struct vm_signals *sig;            /* this tick's signals; NULL: not sensed */
        const struct metrics_counters *counters; /* NULL: not counted */
};

struct metrics_engine {
        bool dry_run;
        uint64_t ticks;              /* ticks run since start */
        uint64_t tick_duration_usec; /* how long the last tick took */
        uint64_t interval_usec;
        const struct host_signals *host;       /* NULL: not sensed */
        const struct metrics_counters *totals; /* over every VM ever governed; NULL: not counted */
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
