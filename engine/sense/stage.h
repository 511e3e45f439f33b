/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "state.h"

/*
 * The sense stage: this tick's signals for every managed VM (pressure, cgroup statistics, run-queue latency) and
 * for the host. It opens and reads; it never writes.
 */

/* Fill vm->sig for every managed VM and e->host; now is sense_now_usec(). */
void sense_stage(struct engine *e, uint64_t now);

/* Stop sensing a VM (gone, or to be placed afresh): its sensors and the fds they hold. */
void sense_stage_release(struct engine *e, struct vm_state *vm);

/* The VM whose PSI trigger fd is, and the pressure file it watches; NULL if none (a trigger closed meanwhile). */
struct vm_state *sense_stage_triggered(struct engine *e, int fd, const char **ret_file);
