/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kernel/cpuset.h"

/*
 * Where a group's VMs run, thread by thread: the CPU keys of [group NAME] that go beyond the VM's own cgroup.
 * AllowedCPUs= and AllowedMemoryNodes= are the VM cgroup's cpuset.cpus and cpuset.mems (also in struct limits, in
 * the kernel's form); the rest is for the threaded children of the VM's cgroup (vcpuN, emulator), which the place
 * stage makes. The policy loader validates it all; these helpers are pure.
 */

/* CPUPartition=: cpuset.cpus.partition of the VM's cgroup. */
enum cpu_partition {
        CPU_PARTITION_NO,        /* "member": shares its CPUs */
        CPU_PARTITION_EXCLUSIVE, /* "root": its CPUs are its own, scheduled as usual */
        CPU_PARTITION_ISOLATED,  /* "isolated": its own, without load balancing (Linux 6.1+) */
};

#define VCPU_CPU_SETS_MAX 256 /* VCPUAllowedCPUs= as a list: at most this many sets */

struct cpu_topology {
        bool allowed_cpus_set; /* AllowedCPUs= */
        struct cpuset allowed_cpus;
        bool allowed_mems_set; /* AllowedMemoryNodes= */
        struct cpuset allowed_mems;

        /* VCPUAllowedCPUs=: n_vcpu_cpus sets. vcpu_spread: one set, dealt one CPU per vCPU (vCPU i gets its i-th CPU,
         * wrapping); else vCPU i gets set i (wrapping). 0 sets: the vCPUs are not pinned. */
        unsigned n_vcpu_cpus;
        bool vcpu_spread;
        struct cpuset *vcpu_cpus;

        bool emulator_cpus_set; /* EmulatorAllowedCPUs= */
        struct cpuset emulator_cpus;

        /* VCPUQuota= (cpu.max of each vcpuN) and EmulatorQuota= (of the emulator child), at the group's
         * CPUQuotaPeriodSec= (each period raised, as CPUQuota='s, where the quota would be below 1 ms). The loader
         * keeps the percentage (permyriad) in *_quota_usec until all files are read. */
        bool vcpu_quota_set;
        uint64_t vcpu_quota_usec, vcpu_period_usec;
        bool emulator_quota_set;
        uint64_t emulator_quota_usec, emulator_period_usec;

        enum cpu_partition partition; /* CPUPartition= */
};

/* The CPUs vCPU number vcpu is pinned to, into ret. 0, or -ENOENT when VCPUAllowedCPUs= is not set (the vCPU runs
 * wherever the VM does). */
int cpu_topology_vcpu_cpus(const struct cpu_topology *t, unsigned vcpu, struct cpuset *ret);

/* What cpuset.cpus.partition takes for p: "member", "root", "isolated". */
const char *cpu_partition_kernel_value(enum cpu_partition p);

/* Free what t holds (the per-vCPU sets). */
void cpu_topology_done(struct cpu_topology *t);
