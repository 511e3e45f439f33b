/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "state.h"

/*
 * The decide stage: this tick's signals and the policy through the control laws (decide/control.c, pure) into
 * the limits each managed VM should have, with a reason for every change. No I/O.
 */

/* Every managed VM, against each other and the host (out of memory: the laws skip this tick, and say so). */
void decide_stage(struct engine *e, uint64_t now);

/* A VM that is gone: its laws' state and last reason. */
void decide_stage_release(struct engine *e, struct vm_state *vm);

/* A VM's first decision, at its exec: no deltas yet, so the laws only set its state to the policy's baseline. */
void decide_stage_vm(struct engine *e, struct vm_state *vm, uint64_t now);
