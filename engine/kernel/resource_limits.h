/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * The resource limits of a group, already translated into cgroup v2 terms (systemd's translation).
 * A field whose *_set flag is false is not managed: the engine leaves that file alone.
 * LIMIT_MAX stands for "max" / "infinity".
 */
#define LIMIT_MAX               UINT64_MAX

#define CPU_WEIGHT_MIN          1
#define CPU_WEIGHT_MAX          10000
#define CPU_WEIGHT_DEFAULT      100
#define IO_WEIGHT_MIN           1
#define IO_WEIGHT_MAX           10000
#define CPU_PERIOD_DEFAULT_USEC 100000
#define CPU_PERIOD_MIN_USEC     1000 /* kernel: 1 ms .. 1 s */
#define CPU_PERIOD_MAX_USEC     1000000
#define IO_DEVICES_MAX          16
#define CPUSET_TEXT_MAX         128 /* AllowedCPUs= in the kernel's form, and its NUL: what a setting's value holds */

struct io_device_limit {
        unsigned major, minor;
        /* Each LIMIT_MAX when that key was not given for the device. */
        uint64_t rbps, wbps, riops, wiops;
};

struct io_device_latency {
        unsigned major, minor;
        uint64_t target_usec; /* above 0 */
};

struct limits {
        bool cpu_weight_set;
        bool cpu_idle; /* CPUWeight=idle → cpu.idle = 1 */
        uint64_t cpu_weight;

        bool cpu_max_set;
        uint64_t cpu_quota_usec; /* per period; LIMIT_MAX = no quota */
        uint64_t cpu_period_usec;
        bool cpu_burst_set; /* CPUQuotaBurstSec=: cpu.max.burst, at most the quota */
        uint64_t cpu_burst_usec;

        /* AllowedCPUs= and AllowedMemoryNodes=: cpuset.cpus and cpuset.mems, in the kernel's form ("0-3,8"), never
         * empty (the sets themselves are the group's struct cpu_topology) */
        bool cpuset_cpus_set;
        char cpuset_cpus[CPUSET_TEXT_MAX];
        bool cpuset_mems_set;
        char cpuset_mems[CPUSET_TEXT_MAX];

        bool memory_high_set;
        uint64_t memory_high; /* bytes or LIMIT_MAX */
        bool memory_max_set;
        uint64_t memory_max;
        /* MemoryMin= and MemoryLow=: memory.min and memory.low, the protection from reclaim (0 is none) */
        bool memory_min_set;
        uint64_t memory_min;
        bool memory_low_set;
        uint64_t memory_low;
        /* MemorySwapMax= and MemoryZSwapMax=: memory.swap.max and memory.zswap.max (0 is no swap, no zswap) */
        bool memory_swap_max_set;
        uint64_t memory_swap_max;
        bool memory_zswap_max_set;
        uint64_t memory_zswap_max;

        bool io_weight_set;
        uint64_t io_weight;

        unsigned n_io_devices;
        struct io_device_limit io_devices[IO_DEVICES_MAX];

        unsigned n_io_latency; /* IODeviceLatencyTargetSec=: io.latency, one target per device */
        struct io_device_latency io_latency[IO_DEVICES_MAX];
};

/* The limit lim holds for device major:minor, or NULL. */
static inline struct io_device_limit *limits_io_device_find(const struct limits *lim, unsigned major, unsigned minor)
{
        for (unsigned i = 0; i < lim->n_io_devices; i++)
                if (lim->io_devices[i].major == major && lim->io_devices[i].minor == minor)
                        return (struct io_device_limit *)&lim->io_devices[i];
        return NULL;
}

/* The same, added unlimited when lim has none for it yet; NULL when it already holds IO_DEVICES_MAX devices. */
static inline struct io_device_limit *limits_io_device_get(struct limits *lim, unsigned major, unsigned minor)
{
        struct io_device_limit *d = limits_io_device_find(lim, major, minor);

        if (d || lim->n_io_devices >= IO_DEVICES_MAX)
                return d;
        d = &lim->io_devices[lim->n_io_devices++];
        *d = (struct io_device_limit){major, minor, LIMIT_MAX, LIMIT_MAX, LIMIT_MAX, LIMIT_MAX};
        return d;
}
