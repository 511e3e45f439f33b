/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "state.h"

/*
 * The act stage: what the laws decided, made true in the kernel through the actuator (the only writer of
 * limits, and the only code that looks at dry-run): cgroup files, memory.reclaim requests and the rates on a VM's
 * taps. Each change is journalled first and audited with its reason.
 */

/* One managed VM: each at every tick, and a new one at its exec event, after its first decision. now: CLOCK_MONOTONIC
 * µs, for when settled settings are read back again. */
void act_stage_vm(struct engine *e, struct vm_state *vm, uint64_t now);

/* CPUPartition=: the engine's chain of partition roots down to the VM's group cgroup (act/partition.h), made before
 * the group's first VM moves in (the place stage), and held at each act. */
void act_stage_partition(struct engine *e, struct vm_state *vm);

/* VMs are gone: collect what the kernel does not remove with them (the ifb that shaped a VM's egress). */
/* A VM is let go: remember whether its egress was shaped (its ifb is then collected by act_stage_release). */
void act_stage_release_vm(struct engine *e, struct vm_state *vm);

void act_stage_release(struct engine *e);
