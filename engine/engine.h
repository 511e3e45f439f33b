/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "state.h"

/* The engine's life (engine.c) and its tick (tick.c). The state itself is in state.h. */

/* The host facts the policy loader needs: physical memory, device numbers, user names. */
void engine_config_env(struct config_env *ret);

/* Take ownership of policy. Returns 0 or -errno, logged. */
int engine_open(struct engine *e, const struct engine_options *opt, struct policy *policy);
/* Load the policy again (SIGHUP). A refused policy is logged with its file:line and the old one stays in force.
 * Returns 0 or -errno. */
int engine_reload(struct engine *e);
/* One pass through every stage. Discovery scans /proc only when it is due (discover_stage_tick): with process
 * events, the first tick, lost events and a safety net once a minute. Returns 0 or a negative errno for errors that
 * stop the engine. */
int engine_tick(struct engine *e);
/* The proc connector's events: the same stages, for one VM. An exec is looked at as a new VM; an exit lets the VM go
 * and looks at its heirs (the processes it forked: QEMU -daemonize); a fork makes an heir; a change of user ids looks
 * at the VM again (-runas). */
int engine_on_exec(pid_t pid, void *userdata);
/* A PSI trigger's fd is readable (EPOLLPRI): a VM's stall in the trigger's window passed 105% of its target's share
 * of it. The engine ticks now, with the laws' bounds and dwell rules; for that VM and resource the pressure the laws
 * see is at least that share (what the kernel just measured: the interval since the last tick would dilute it).
 * Within ENGINE_TRIGGER_GAP_USEC of a tick a trigger brought, returns 1: the caller brings the next tick forward to
 * that gap from now. Else 0, or a negative errno that stops the engine. */
int engine_on_pressure(struct engine *e, int fd);
int engine_on_exit(pid_t pid, void *userdata);
int engine_on_fork(pid_t parent, pid_t child, void *userdata);
int engine_on_uid(pid_t pid, void *userdata);
/* Process pid made a new thread: a VM whose threads are placed apart reads its map again at the next tick. */
int engine_on_thread(pid_t pid, void *userdata);
/* Restore the originals (unless dry-run) and release everything. Returns the number of restore failures. */
int engine_close(struct engine *e);

/* Why this host cannot enforce, in one sentence, or NULL if it can (cgroup2 with cpu, memory and io usable). */
int engine_probe(const struct host_roots *roots, char *why, size_t len);

/* vmgov restore: put back every original a previous engine journalled. Returns the number of failures or -errno. */
int engine_restore_journal(const struct host_roots *roots, const char *state_path);

/* cli/status.c, vmgov status: the running daemon's view from its status file, which needs no engine and no policy.
 * Returns 1 when it printed it, 0 when there is no running daemon's file (none, or one a dead daemon left: said),
 * or -errno. */
int status_show_live(const struct engine_options *opt, bool json);
/* Without a running daemon: the discovered VMs, their current limits and their signals sampled over one interval.
 * Both print tables, or one JSON object, on stdout. */
int engine_status(struct engine *e, bool json);
