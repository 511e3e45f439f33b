/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "discover/discover.h"
#include "state.h"

/*
 * The discover stage: which QEMU processes exist, kept as the engine's table of VMs. It reads /proc and nothing
 * else. A VM it no longer finds is marked gone (seen == false); engine/tick.c lets the other stages release it.
 */

/* Scan /proc: every QEMU found is tracked (added, or its identity refreshed), every other VM is marked gone.
 * Returns 0 or -errno (the scan failed, or out of memory), logged. */
int discover_stage(struct engine *e);

/* An exec event: if pid is a QEMU, track it. *ret_vm is the VM, or NULL when pid is none (or gone already). */
int discover_stage_exec(struct engine *e, pid_t pid, struct vm_state **ret_vm);

/* An exit event: mark the VM of pid gone. Returns whether pid was a VM; if it was not, and pid was one of a VM's
 * heirs, it is one no more. */
bool discover_stage_exit(struct engine *e, pid_t pid);

/* A fork event: a process a VM (or one of its heirs) forked becomes that VM's heir. 0, or -ENOMEM. */
int discover_stage_fork(struct engine *e, pid_t parent, pid_t child);

/* The heirs of the VM whose process was pid, still alive, into ret (at most max): each is looked at as a new exec
 * would be. They stop being heirs. Returns how many, or -E2BIG when some may be missing (the budget was reached, or
 * more than max): then scan. */
int discover_stage_heirs_take(struct engine *e, pid_t vm, pid_t *ret, size_t max);

/* The tick's discovery: a full scan when one is due (no events, events lost, the safety net's time), else nothing:
 * events keep the table. */
int discover_stage_tick(struct engine *e, uint64_t now_usec);

/* Is the VM still the process discovered (pid and start time, through the /proc/PID directory held since then)?
 * 1 yes, 0 it exited or the pid was reused, -errno when that cannot be told. Asked before and after every move. */
int discover_stage_vm_same(struct engine *e, const struct vm_state *vm);

/* Let go of what discovery holds for a VM that is forgotten (its /proc/PID directory). */
void discover_stage_release(struct engine *e, struct vm_state *vm);

/* The discovery callback: is the candidate's executable one of the policy's QEMU executables (by basename), and one
 * only root could have put there or whose path QemuTrustedPaths= vouches for (discover/exetrust.h)? A process
 * refused for its executable is said once (pid and start time), at info. userdata is the engine. */
bool discover_stage_is_qemu(const struct discover_candidate *c, void *userdata);
