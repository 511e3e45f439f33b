/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "state.h"

/*
 * The place stage: each managed VM in the cgroup its group says (Placement=own: ROOT/GROUP/VM, created and
 * entered; Placement=inplace: the cgroup it is in, if nothing else lives there), and the cgroups of VMs that are
 * gone removed. Besides act, the only stage that changes the kernel: it makes directories and moves processes.
 */

/* Retry the removals that were still busy, then place every VM this tick found. Returns 0, or -ENOMEM. */
int place_stage(struct engine *e, uint64_t now);

/* Place one VM (an exec event). Returns 0, or -ENOMEM. */
int place_stage_vm(struct engine *e, struct vm_state *vm, uint64_t now);

/* Every VM is placed afresh at the next tick (DryRun= turned off: dry-run only pretended to move them). */
void place_stage_reset(struct engine *e);

/* A VM is gone: let go of its cgroup, and remove it if the engine made it (now, or on a later tick while the
 * kernel still counts the dying task in it); an inplace cgroup's originals are forgotten. */
void place_stage_release(struct engine *e, struct vm_state *vm);
