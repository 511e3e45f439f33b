/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/cpu_topology.h"
#include "kernel/resource_limits.h"

/*
 * The policy, as loaded from INI files. Loading is all-or-nothing: any error refuses the whole policy and says
 * file:line. No I/O beyond reading the named files; facts about the host (RAM size, device numbers) come in
 * through struct config_env so tests can supply them.
 */

enum vm_class { VM_CLASS_LATENCY, VM_CLASS_NORMAL, VM_CLASS_BATCH };
enum placement_mode { PLACEMENT_OWN, PLACEMENT_INPLACE };
/* How the memory law takes memory back (MemoryProbe=): auto is reclaim where the cgroup has memory.reclaim. */
enum memory_probe { MEMORY_PROBE_AUTO, MEMORY_PROBE_RECLAIM, MEMORY_PROBE_HIGH };

/*
 * What the feedback loop may move for a group, between which bounds, towards which goals. Ranges are inclusive;
 * a target of 0 is "no target". All of it is validated at load: an Adapt= without the ranges and targets its
 * laws need is refused, as is a range that does not hold the group's configured baseline.
 */
struct adapt_policy {
        bool cpu, memory, io;
        bool burst; /* Adapt=burst: cpu.max.burst follows the throttling (decide/burst.h) */

        bool cpu_weight_range_set;
        uint64_t cpu_weight_min, cpu_weight_max;
        bool cpu_quota_range_set;
        uint64_t cpu_quota_min_permyriad, cpu_quota_max_permyriad; /* translated to cpu.max at the group's period */
        bool memory_high_range_set;
        uint64_t memory_high_min, memory_high_max;
        bool memory_probe_set;
        enum memory_probe memory_probe; /* MemoryProbe= */
        bool io_bandwidth_range_set;
        uint64_t io_bandwidth_min, io_bandwidth_max; /* bytes/s, for the rbps and wbps the IO law sets */
        bool cpu_burst_range_set;
        uint64_t cpu_burst_min_usec, cpu_burst_max_usec; /* CPUQuotaBurstRange=: cpu.max.burst per period */

        uint64_t runq_latency_target_usec;   /* RunQueueLatencyTarget=, p99 of the VM's threads */
        uint32_t cpu_pressure_target_ppm;    /* CPUPressureTarget=, interval "some" */
        uint32_t memory_pressure_target_ppm; /* MemoryPressureTarget= */
        uint32_t io_pressure_target_ppm;     /* IOPressureTarget= */

        uint64_t hold_usec;  /* AdaptHoldSec=: targets held this long → relax towards the baseline */
        uint64_t dwell_usec; /* AdaptDwellSec=: at least this long between two changes of one file */
};

#define ADAPT_HOLD_DEFAULT_USEC  (30 * 1000000ULL)
#define ADAPT_DWELL_DEFAULT_USEC (3 * 1000000ULL)

/* Network rates on the VM's tap devices, as the VM sees them: ingress is what it receives, egress what it sends.
 * Bits per second (base 1000, as tc); bursts in bytes. Shaped by netshape, not by a cgroup file. */
struct net_limits {
        bool ingress_set, egress_set;
        uint64_t ingress_bps, egress_bps;
        uint64_t ingress_burst, egress_burst; /* 0: netshape picks one from the rate */
};

struct group_policy {
        char *name;
        char *file; /* where the [group] section starts */
        unsigned line;
        uint64_t generation; /* its policy's */

        char **match_name; /* globs on -name */
        size_t n_match_name;
        char **match_uuid; /* globs on -uuid, compared lower-case */
        size_t n_match_uuid;
        char **match_exe; /* globs on the executable's basename */
        size_t n_match_exe;
        uid_t *match_user;
        size_t n_match_user;

        enum vm_class class;
        enum placement_mode placement;
        struct limits limits;
        struct cpu_topology cpu; /* AllowedCPUs=, the vCPU and emulator pins and quotas, CPUPartition= */
        struct net_limits net;
        struct adapt_policy adapt;
        bool freeze_on_host_pressure; /* FreezeOnHostPressure=: the engine may freeze its VMs as a last resort */
};

/* The host as a whole ([engine]): the pressure the host laws hold it under, and the last resort of freezing a VM.
 * A target or threshold of 0 is "none". Pressures are ppm of the tick, as the groups' targets. */
struct host_policy {
        uint32_t memory_pressure_target_ppm; /* HostMemoryPressureTarget=: /proc/pressure/memory "some" */
        uint32_t io_pressure_target_ppm;     /* HostIOPressureTarget=: /proc/pressure/io "some" */
        uint32_t freeze_pressure_ppm;        /* HostFreezePressure=: /proc/pressure/memory "full"; 0: never freeze */
        uint64_t freeze_after_usec;          /* HostFreezeAfterSec=: above the threshold this long → freeze one VM */
        uint64_t thaw_after_usec;            /* HostThawAfterSec=: below 80% of it this long → thaw one */
        uint64_t freeze_max_usec;            /* FreezeMaxSec=: no VM stays frozen longer */
        uint64_t freeze_cooldown_usec;       /* FreezeCooldownSec=: thawed at the bound, not refrozen before this */
};

#define HOST_FREEZE_AFTER_DEFAULT_USEC (10 * 1000000ULL)
#define HOST_THAW_AFTER_DEFAULT_USEC   (30 * 1000000ULL)
#define FREEZE_MAX_DEFAULT_USEC        (300 * 1000000ULL)
#define FREEZE_COOLDOWN_DEFAULT_USEC   (300 * 1000000ULL)

struct engine_settings {
        uint64_t interval_usec;
        char *cgroup_root;  /* absolute path of the engine's own subtree; NULL: "vmgov" under the cgroup2 mount */
        char *audit_log;    /* NULL: no audit file (records still go to the log in dry-run) */
        char *metrics_file; /* Prometheus textfile, rewritten each tick; NULL: none */
        char **qemu_exe;    /* globs on the executable basename that make a process a VM */
        size_t n_qemu_exe;
        char **trusted_paths; /* QemuTrustedPaths=: executables, or directories, trusted though not root's */
        size_t n_trusted_paths;
        bool manage_libvirt; /* ManageLibvirt=: govern QEMUs in machine-qemu*.scope cgroups too */
        char *default_group; /* group for VMs no rule matches; NULL = leave them unmanaged */
        bool dry_run;
        struct host_policy host;
};

struct policy {
        uint64_t generation; /* set by whoever loads it: a reload's policy has a newer one (policy_set_generation) */
        struct engine_settings engine;
        struct group_policy *groups;
        size_t n_groups;
};

struct config_env {
        uint64_t physical_memory; /* bytes, for MemoryHigh=50% */
        /* The host's online CPUs and memory nodes, which the CPU pins must stay within; unknown: not checked. */
        bool host_cpus_known, host_mems_known;
        struct cpuset host_cpus, host_mems;
        /* Resolve a block device path such as /dev/vda to its numbers; returns 0 or -errno. */
        int (*resolve_device)(const char *path, unsigned *ret_major, unsigned *ret_minor, void *userdata);
        /* Resolve a user name for MatchUser= (numeric uids need no resolver). */
        int (*resolve_user)(const char *name, unsigned *ret_uid, void *userdata);
        void *userdata;
};

struct config_error {
        char file[512];
        unsigned line; /* 0 when the error is about the file as a whole */
        char message[512];
};

#define ENGINE_INTERVAL_DEFAULT_USEC 1000000ULL
#define ENGINE_CGROUP_ROOT_DEFAULT   "vmgov" /* beneath wherever cgroup2 is mounted */
#define GROUP_NAME_MAX               43      /* "[group NAME]" fits inih's 49-character section names */

/* Load a policy from a file, or from every *.ini in a directory in lexical order. Returns 0 or -EINVAL (with
 * ret_error filled), -ENOENT etc. for I/O errors (also described in ret_error). */
int config_load(const char *path, const struct config_env *env, struct policy **ret_policy,
                struct config_error *ret_error);

/* Load from an in-memory buffer; file is only used in messages. */
int config_load_string(const char *file, const char *text, const struct config_env *env, struct policy **ret_policy,
                       struct config_error *ret_error);

void policy_free(struct policy *p);

/* Print "file:line: message" (or "file: message") into buf. */
void config_error_format(const struct config_error *e, char *buf, size_t len);

const char *vm_class_to_string(enum vm_class c);
const char *memory_probe_to_string(enum memory_probe p);
