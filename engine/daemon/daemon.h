/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "engine.h"

/* vmgov run: a first tick, READY=1, then a tick every interval and at each QEMU exec or exit, until SIGTERM or
 * SIGINT (returns 0; the caller closes the engine, which restores the originals). SIGHUP reloads the policy. */
int engine_run(struct engine *e);
