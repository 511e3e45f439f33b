/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/config.h"
#include "kernel/vm.h"

/* Pure: does this process count as a VM under this policy (by executable basename)? */
bool policy_is_qemu_exe(const struct policy *p, const char *exe_basename);

/* Pure: is path one of QemuTrustedPaths=, or beneath one of them (whole components: /opt/q trusts /opt/q/bin/x,
 * not /opt/qemu)? */
bool policy_path_trusted(const struct policy *p, const char *path);

/* Pure: does a cgroup path have a component machine-qemu*.scope, the scope systemd-machined makes for a libvirt
 * VM (e.g. /machine.slice/machine-qemu\x2d1\x2ddb.scope/libvirt/emulator)? */
bool policy_cgroup_is_machined(const char *cgroup);

/* Why a VM is governed or not. */
enum policy_verdict {
        POLICY_MANAGED,    /* a group governs it */
        POLICY_NO_GROUP,   /* no group's rules match it and there is no DefaultGroup= */
        POLICY_OTHER_USER, /* it runs as a user other than root, and no group's MatchUser= names that user */
        POLICY_MACHINED,   /* it is in a machine-qemu*.scope (libvirt's), and ManageLibvirt= is no */
};

/* Pure: the group that governs the VM, first match in file order, then the default group; NULL = unmanaged.
 *
 * A VM in a machine-qemu*.scope cgroup is libvirt's (through systemd-machined): unmanaged unless ManageLibvirt=yes.
 * A VM whose user (vm->uid) is not root is matched only by a group whose MatchUser= names that user: a group
 * without MatchUser=, and so DefaultGroup= without it, is for root's VMs only. ret_why (may be NULL) says which. */
const struct group_policy *policy_match_why(const struct policy *p, const struct vm_identity *vm,
                                            enum policy_verdict *ret_why);

/* policy_match_why() without the why. */
const struct group_policy *policy_match(const struct policy *p, const struct vm_identity *vm);

/* Stamp p and each of its groups with generation: the control laws start afresh for a group of another one. */
void policy_set_generation(struct policy *p, uint64_t generation);

/* Does a group pin CPUs or memory nodes (AllowedCPUs=, AllowedMemoryNodes=, VCPUAllowedCPUs=, EmulatorAllowedCPUs=,
 * CPUPartition=)? Then the engine's cgroups need the cpuset controller. */
bool policy_uses_cpuset(const struct policy *p);
