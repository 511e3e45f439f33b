/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "act/actuator.h"
#include "kernel/cpu_topology.h"
#include "kernel/cpuset.h"
#include "policy/config.h"

/*
 * CPUPartition=: the group's CPUs (AllowedCPUs=) as a cpuset partition of their own (cpuset.cpus.partition "root" or
 * "isolated"), shared by the group's VMs and by nothing else. Before Linux 6.7 the kernel takes a partition only
 * below a chain of partition roots up to the cgroup root, so the engine makes its own chain one: the tree root
 * (CgroupRoot=) and, below it, the group's cgroup, which is the partition. Never a cgroup above the tree: where the
 * tree is not right below the cgroup root, its parent must be a partition root already, or the kernel says the
 * partition is invalid.
 *
 *   tree root   cpuset.cpus = every partition's AllowedCPUs= + the other Placement=own groups' AllowedCPUs=
 *               (the CPUs the tree's VMs without a partition run on: the tree's CPUs outside the partitions),
 *               then "root"
 *   GROUP       cpuset.cpus = the group's AllowedCPUs=, then "root" (exclusive) or "isolated"
 *   GROUP/VM    a member: cpuset.cpus = AllowedCPUs=, written with the VM's other limits
 *
 * The partition is the group's, not each VM's: the VMs of a group share one AllowedCPUs=, which two sibling
 * partitions could not hold. It is made before the group's first VM moves in: Linux 6.1 refuses to give a child
 * partition all of its parent's CPUs while a member below that child holds a task ("Parent unable to distribute
 * cpu downstream"), even though the task would go with the child.
 *
 * The tree as a whole then holds its CPUs apart from the rest of the host. The chain is refused (with why) when a
 * VM of the tree without a partition would be left no CPU, or the host outside the tree no CPU. The plan and the
 * parser of what the kernel reads back are pure; partition_read reads.
 */

/* What cpuset.cpus.partition says: "member", "root", "isolated", "root invalid (Parent is not a partition root)". */
struct partition_readback {
        enum cpu_partition mode; /* the one asked for: CPU_PARTITION_NO for "member" */
        bool valid;              /* false: "... invalid (reason)" */
        char reason[160];        /* the kernel's reason, as it said it (not escaped), "" when valid */
};

/* Pure: parse the file's text. -EINVAL when it is none of the forms above. */
int partition_readback_parse(const char *text, struct partition_readback *ret);

/* The value to write for mode and the one it reads back as, when valid: "member", "root", "isolated". */
const char *partition_mode_value(enum cpu_partition mode);

/* Pure: the cpusets of the chain above a partition of group g: the tree root's and the group cgroup's. 0, or
 * -EDEADLK with why (a sentence) when building it would leave a VM of the tree without a partition, or the host
 * outside the tree, no CPU. host_cpus may be NULL (not known: not checked). */
struct partition_chain {
        struct cpuset root_cpus;  /* the tree root */
        struct cpuset group_cpus; /* the group's cgroup */
};
int partition_chain_plan(const struct policy *p, const struct group_policy *g, const struct cpuset *host_cpus,
                         struct partition_chain *ret, char *why, size_t size);

/* A write of the chain: which cgroup (relative to the mount) and the setting. */
struct partition_step {
        char cgroup[4096];
        struct setting setting;
};
#define PARTITION_STEPS_MAX 4

/* Pure: the writes that make the group cgroup of vm_cgroup ("ROOT/GROUP/LEAF", relative to the mount) a partition,
 * in the order the kernel takes them: the tree root's cpuset.cpus and "root", then the group cgroup's cpuset.cpus
 * and mode. -EXDEV when vm_cgroup is not two levels below root_rel (not the engine's own: nothing is written). */
int partition_plan(const struct partition_chain *chain, enum cpu_partition mode, const char *root_rel,
                   const char *vm_cgroup, struct partition_step ret[static PARTITION_STEPS_MAX], size_t *ret_n);

/* Read cpuset.cpus.partition of the cgroup at cgroup_fd. 0, -errno (-ENOENT: no such file), -EINVAL (not
 * understood). */
int partition_read(int cgroup_fd, struct partition_readback *ret);
