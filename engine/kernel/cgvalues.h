/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/resource_limits.h"

/*
 * Pure formatting and parsing of cgroup v2 file values. The one place "max" is spelled.
 *
 * Formatters write a NUL-terminated value without a trailing newline (the kernel accepts both; audit records
 * read better without) and return its length, or -ENOBUFS if buf is too small (buf is then untouched or
 * holds a partial string: never use it). CGV_VALUE_MAX always suffices.
 *
 * Parsers take the NUL-terminated contents of a file as read: single-value parsers accept one optional
 * trailing "\n" and nothing else; multi-line parsers (io.max, io.stat, cpu.stat, ...) accept any number of
 * lines and ignore keys they do not know (newer kernels add keys). They return 0, -EINVAL on malformed text,
 * -ERANGE on numbers past uint64, -ENXIO when the asked-for key or device is absent, and write ret_* only on
 * success. LIMIT_MAX stands for "max" in both directions.
 */

#define CGV_MAX       "max"
#define CGV_VALUE_MAX 128 /* longest formatted value: an io.max line with four 20-digit numbers */

/* The kernel's largest cpu.max quota (MAX_BW in kernel/sched/core.c: 2^44 - 1 µs); larger writes fail. */
#define CGV_CPU_QUOTA_MAX_USEC ((1ULL << 44) - 1)

/* Plain numbers, and numbers that may be "max" (memory.high, memory.max, pids.max...). */
int cgv_format_u64(uint64_t v, char *buf, size_t size);
int cgv_format_u64_or_max(uint64_t v, char *buf, size_t size);
int cgv_parse_u64(const char *s, uint64_t *ret);
int cgv_parse_u64_or_max(const char *s, uint64_t *ret);

/* cpu.max: "QUOTA PERIOD" or "max PERIOD" (quota_usec == LIMIT_MAX). */
int cgv_format_cpu_max(uint64_t quota_usec, uint64_t period_usec, char *buf, size_t size);
int cgv_parse_cpu_max(const char *s, uint64_t *ret_quota_usec, uint64_t *ret_period_usec);

/*
 * CPUQuota= (permyriad, may exceed 10000) and CPUQuotaPeriodSec= (period_usec, 0 = default 100 ms) → the
 * cpu.max pair, exactly as systemd (src/core/cgroup.c):
 *     quota_per_sec = permyriad * USEC_PER_SEC / 10000                      (load-fragment.c)
 *     period = MIN(MAX3(period, 1 ms, 1 ms * USEC_PER_SEC / quota_per_sec), 1 s)   (cgroup_cpu_adjust_period)
 *     quota  = MAX(quota_per_sec * period / USEC_PER_SEC, 1 ms)             (cgroup_apply_unified_cpu_quota)
 * so 150% → "150000 100000", 20% → "20000 100000", 0.5% → "1000 200000" (the period grows so that the
 * quota stays at least 1 ms). permyriad 0 → -EINVAL (systemd refuses 0%); a quota past the kernel's limit
 * → -ERANGE.
 */
int cgv_cpu_quota_from_permyriad(uint64_t permyriad, uint64_t period_usec, uint64_t *ret_quota_usec,
                                 uint64_t *ret_period_usec);

/* cpu.weight (1..10000) and cpu.idle (0/1). */
int cgv_format_cpu_weight(uint64_t weight, char *buf, size_t size);
int cgv_parse_cpu_weight(const char *s, uint64_t *ret_weight);
int cgv_format_cpu_idle(bool idle, char *buf, size_t size);
int cgv_parse_cpu_idle(const char *s, bool *ret_idle);

/* memory.high, memory.max, memory.min, memory.low, memory.swap.max, memory.zswap.max: bytes or "max". */
int cgv_format_memory(uint64_t bytes, char *buf, size_t size);
int cgv_parse_memory(const char *s, uint64_t *ret_bytes);

/*
 * The kernel stores memory.high/max in pages: a write of N bytes reads back as N rounded down to page_size,
 * and anything at or past its page-counter maximum (LONG_MAX / page_size pages) reads back as "max". This is
 * the value the file will show after writing `bytes`; compare a read-back value against it, never against
 * the raw setting, or "write only when different" rewrites forever. page_size 0 is taken as 1.
 */
uint64_t cgv_memory_effective(uint64_t bytes, uint64_t page_size);
bool cgv_memory_equal(uint64_t desired, uint64_t current, uint64_t page_size);

/* io.weight: write "default N"; the file reads "default N\n" plus "MAJ:MIN N" lines per device. */
int cgv_format_io_weight(uint64_t weight, char *buf, size_t size);
int cgv_parse_io_weight_default(const char *s, uint64_t *ret_weight);

/* io.bfq.weight (bfq's own, 1..1000; written and read as io.weight is) for an io.weight, as systemd maps it:
 * 1 → 1, 100 → 100, 10000 → 1000, linear in between. */
uint64_t cgv_bfq_weight(uint64_t io_weight);

/*
 * io.max, one device: "MAJ:MIN rbps=N wbps=max riops=max wiops=max" (LIMIT_MAX → "max"). Writing a line
 * with all four at max removes the device's limits; the kernel then drops its line, so a device absent
 * from the file parses as all LIMIT_MAX (no limit), not as an error.
 */
int cgv_format_io_max(const struct io_device_limit *limit, char *buf, size_t size);
int cgv_parse_io_max(const char *s, unsigned major, unsigned minor, struct io_device_limit *ret_limit);
bool cgv_io_limit_equal(const struct io_device_limit *a, const struct io_device_limit *b);

/*
 * io.latency, one device: write "MAJ:MIN target=USEC" (target_usec LIMIT_MAX → "target=max", which removes the
 * device's target; 0 → -EINVAL). The file reads back one such line per device that has a target; a device
 * absent from it (or at target=0) parses as LIMIT_MAX.
 */
int cgv_format_io_latency(unsigned major, unsigned minor, uint64_t target_usec, char *buf, size_t size);
int cgv_parse_io_latency(const char *s, unsigned major, unsigned minor, uint64_t *ret_target_usec);

/* The root cgroup's io.cost.qos: whether iocost is enabled for the device ("MAJ:MIN enable=1 ctrl=..."); a
 * device without a line is not enabled. */
int cgv_parse_io_cost_enabled(const char *s, unsigned major, unsigned minor, bool *ret_enabled);

/* cpu.stat. Keys the kernel omits (nr_* and throttled_usec without the cpu controller) read as 0; usage_usec
 * is required. nr_bursts and burst_usec (cpu.max.burst at work) came with Linux 5.14: has_bursts says whether the
 * kernel gave them. */
struct cgv_cpu_stat {
        uint64_t usage_usec, user_usec, system_usec;
        uint64_t nr_periods, nr_throttled, throttled_usec;
        uint64_t nr_bursts, burst_usec;
        bool has_bursts;
};
int cgv_parse_cpu_stat(const char *s, struct cgv_cpu_stat *ret_stat);

/* memory.events (also memory.events.local). Absent keys read as 0; oom_group_kill etc. are ignored. */
struct cgv_memory_events {
        uint64_t low, high, max, oom, oom_kill;
};
int cgv_parse_memory_events(const char *s, struct cgv_memory_events *ret_events);

/* io.stat, one device's cumulative counters; -ENXIO when the device has no line (no I/O accounted yet). */
struct cgv_io_stat {
        uint64_t rbytes, wbytes, rios, wios, dbytes, dios;
};
int cgv_parse_io_stat(const char *s, unsigned major, unsigned minor, struct cgv_io_stat *ret_stat);

/*
 * io.stat, every device in one pass, in the file's order: up to n_max into devs. Returns how many device lines
 * the file has (more than n_max when some did not fit: the first n_max are kept), or -errno.
 */
struct cgv_io_stat_device {
        unsigned major, minor;
        struct cgv_io_stat stat;
};
int cgv_parse_io_stat_all(const char *s, struct cgv_io_stat_device *devs, size_t n_max);

/*
 * memory.stat, the keys sensing uses, in one pass (bytes). Absent keys read as 0; has_kernel tells whether the
 * kernel had the "kernel" key (5.18+), else callers sum its parts. -ENXIO when none of the keys is there.
 */
struct cgv_memory_stat {
        uint64_t anon, file, kernel, kernel_stack, pagetables, percpu, sock, shmem;
        uint64_t slab_reclaimable, slab_unreclaimable, unevictable;
        bool has_kernel;
};
int cgv_parse_memory_stat(const char *s, struct cgv_memory_stat *ret_stat);

/* Any flat-keyed file ("key value" lines): the value of one key, or -ENXIO. */
int cgv_parse_flat_keyed(const char *s, const char *key, uint64_t *ret_value);
