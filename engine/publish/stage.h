/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "state.h"

/*
 * The publish stage: what the tick saw and did, for others to read: the signal recording (vmgov replay), the
 * Prometheus textfile and the status file (vmgov status). Each is replaced or appended whole; a failure is said
 * once and never stops the engine.
 */

/* now is the tick's start (monotonic_usec()): the tick's duration is measured from it. */
void publish_stage(struct engine *e, uint64_t now);

/* A VM is gone: its counters are kept for a while, for a VM of the same name, uuid and group that comes back. */
void publish_stage_release(struct engine *e, struct vm_state *vm);

/* The status file is written in parts as it is formatted: once t holds SNAPSHOT_PART_SIZE bytes (or, with all,
 * whatever it holds) they go to f and t is emptied. 0 or -errno. */
#define SNAPSHOT_PART_SIZE (64 * 1024)
struct atomic_file;
int publish_status_part(struct snapshot_text *t, struct atomic_file *f, bool all);

/* The daemon stops: a stopped daemon has no live view, so its status file goes (status then samples). */
void publish_stage_stop(struct engine *e);
