/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/config.h"
#include "kernel/vm.h"

/* Pure: does this process count as a VM under this policy (by executable basename)? */
bool policy_is_qemu_exe(const struct policy *p, const char *exe_basename);

/* Pure: the group that governs the VM, first match in file order, then the default group; NULL = unmanaged. */
const struct group_policy *policy_match(const struct policy *p, const struct vm_identity *vm);

/* Stamp p and each of its groups with generation: the control laws start afresh for a group of another one. */
void policy_set_generation(struct policy *p, uint64_t generation);
