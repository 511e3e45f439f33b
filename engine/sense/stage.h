/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "state.h"

/*
 * The sense stage: this tick's signals for every managed VM (pressure, cgroup statistics, run-queue latency) and
 * for the host. It opens and reads; it never writes.
 */

/* This tick's signals, in parts, so that the tick can handle process events between VMs (tick.c): one VM's vm->sig
 * (nothing for a VM that is unmanaged or gone), then, after every VM, the host's e->host, which ends the stage's
 * tick. now is monotonic_usec(). */
void sense_stage_vm(struct engine *e, struct vm_state *vm, uint64_t now);
void sense_stage_host(struct engine *e, uint64_t now);

/* Stop sensing a VM (gone, or to be placed afresh): its sensors and the fds they hold. */
void sense_stage_release(struct engine *e, struct vm_state *vm);

/* A PSI trigger's fd fired: the host's or a VM's. Notes it for the next tick (which takes the trigger's threshold
 * as the least pressure it measured) and says whose in what; false if fd is no trigger (closed meanwhile). */
bool sense_stage_trigger_fired(struct engine *e, int fd, char *what, size_t size);
/* Close the host's triggers (engine_close; the VMs' go with sense_stage_release). */
void sense_stage_close(struct engine *e);
