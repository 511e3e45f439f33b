/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The publish stage: the engine's VMs → the signal recording, the metrics textfile and the status file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/actuator.h"
#include "kernel/clock.h"
#include "kernel/fileio.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "publish/recorder.h"
#include "publish/stage.h"
#include "sense/schedlat.h"
#include "sense/sense.h"

static void publish_recording(struct engine *e, uint64_t now)
{
        int r;

        if (e->record_fd < 0)
                return;
        r = recorder_write_tick(e->record_fd, now, &e->host);
        for (size_t i = 0; i < e->n_vms && r == 0; i++)
                if (vm_managed(&e->vms[i]))
                        r = recorder_write_vm(e->record_fd, &e->vms[i].id, &e->vms[i].sig);
        if (r < 0) {
                log_err_errno(r, "signal recording %s: %m; recording stops", e->opt.record_path);
                e->record_fd = safe_close(e->record_fd);
        }
}

static bool vm_sensed(const struct vm_state *vm)
{
        return vm_managed(vm) && (vm->sensor || vm->schedlat_tracked);
}

/* The limits the engine holds a VM at (would hold, in dry-run), in the kernel's form, and its last decision. */
static void snapshot_state_of(const struct engine *e, const struct vm_state *vm, struct snapshot_state *st)
{
        struct setting settings[SETTINGS_MAX];
        size_t n = 0;

        *st = (struct snapshot_state){
                .sensed = vm_sensed(vm),
                .errors = vm->counters.write_errors,
                .decided_usec = vm->decided_usec,
                .frozen = vm->ctl.freeze.frozen,
        };
        if (vm->ctl.freeze.frozen) { /* the freeze's clock is the tick's */
                uint64_t now = monotonic_usec();
                st->frozen_usec = now - MIN(now, vm->ctl.freeze.frozen_usec);
        }
        snprintf(st->group, sizeof(st->group), "%s", vm->group);
        snprintf(st->cgroup, sizeof(st->cgroup), "%s", vm_cgroup(vm));
        snprintf(st->reason, sizeof(st->reason), "%s", vm->last_reason ? vm->last_reason : "");
        snprintf(st->threads, sizeof(st->threads), "%s", vm->threads_text ? vm->threads_text : "");
        for (unsigned f = 0; f < _METRICS_FILE_MAX; f++)
                st->decisions += vm->counters.decisions[f];
        if (!vm_managed(vm) || !vm->ctl.initialized ||
            actuator_plan(&vm->ctl.limits, e->page_size, settings, ELEMENTSOF(settings), &n) < 0)
                return;
        const struct {
                const char *file;
                char *value;
                size_t size;
        } shown[] = {
#define SHOWN(file, field) {file, st->field, sizeof(st->field)}
                SHOWN("cpu.max", cpu_max),
                SHOWN("cpu.weight", cpu_weight),
                SHOWN("memory.high", memory_high),
                SHOWN("memory.max", memory_max),
                SHOWN("memory.min", memory_min),
                SHOWN("memory.low", memory_low),
                SHOWN("memory.swap.max", memory_swap_max),
                SHOWN("memory.zswap.max", memory_zswap_max),
#undef SHOWN
        };
        for (size_t i = 0; i < n; i++) {
                const struct setting *s = &settings[i];
                if (strcmp(s->file, "cpu.idle") == 0 && strcmp(s->value, "1") == 0)
                        snprintf(st->cpu_weight, sizeof(st->cpu_weight), "idle");
                else if (strcmp(s->file, "io.max") == 0) {
                        size_t len = strlen(st->io_max);
                        snprintf(st->io_max + len, sizeof(st->io_max) - len, "%s%s", len ? ";" : "", s->value);
                } else
                        for (size_t k = 0; k < ELEMENTSOF(shown); k++)
                                if (strcmp(s->file, shown[k].file) == 0)
                                        snprintf(shown[k].value, shown[k].size, "%s", s->value);
        }
}

static const char *status_path(const struct engine *e)
{
        return e->opt.status_path ? e->opt.status_path : SNAPSHOT_DEFAULT;
}

int publish_status_part(struct snapshot_text *t, struct atomic_file *f, bool all)
{
        int r;

        if (!all && t->len < SNAPSHOT_PART_SIZE)
                return 0;
        r = atomic_file_write(f, t->buf, t->len);
        t->len = 0;
        return r;
}

/* The live view for `vmgov status`, replaced atomically each tick of a running daemon. */
static void publish_status(struct engine *e)
{
        const char *path = status_path(e);
        struct snapshot_state st;
        struct atomic_file file;
        int r;

        if (!e->snapshot_on || strcmp(path, "none") == 0)
                return;
        struct snapshot_daemon d = {
                .pid = getpid(),
                .time_usec = audit_now_usec(),
                .interval_usec = e->interval_usec,
                .ticks = e->ticks,
                .dry_run = e->dry_run,
                .errors = e->totals.write_errors,
        };
        for (unsigned k = 0; k < _METRICS_FILE_MAX; k++)
                d.writes += e->totals.decisions[k];
        snprintf(d.runq_source, sizeof(d.runq_source), "%s", e->schedlat ? schedlat_mode(e->schedlat) : "none");
        snprintf(d.policy, sizeof(d.policy), "%s", e->opt.policy_path);
        /* Written as it is formatted, a part at a time: a thousand VMs' lines would otherwise be held whole (2 MiB). */
        r = atomic_file_open(&file, path, 0600);
        if (r == 0)
                r = snapshot_format_daemon(&e->snapshot, &d);
        for (size_t i = 0; i < e->n_vms && r == 0; i++) {
                snapshot_state_of(e, &e->vms[i], &st);
                r = snapshot_format_vm(&e->snapshot, &e->vms[i].id, &e->vms[i].sig, &st);
                for (size_t k = 0; k < e->vms[i].n_thread_sig && r == 0; k++)
                        r = snapshot_format_thread(&e->snapshot, &e->vms[i].thread_sig[k]);
                if (r == 0)
                        r = publish_status_part(&e->snapshot, &file, false);
        }
        if (r == 0)
                r = publish_status_part(&e->snapshot, &file, true);
        if (r == 0)
                r = atomic_file_commit(&file, false);
        atomic_file_abort(&file);
        if (r < 0 && !e->warned_snapshot) {
                e->warned_snapshot = true;
                log_warn_errno(r, "status file %s: cannot write it: %m; vmgov status will sample on its own", path);
        } else if (r == 0)
                e->warned_snapshot = false;
}

/* Retired counters, kept this many at most: a VM that comes back usually does so soon (a restart), and each entry
 * is a VM's worth of counters and histograms (about 1.3 KiB). */
#define RETIRED_TOTALS_MAX 256

static uint64_t totals_key(const struct vm_state *vm)
{
        const char *parts[] = {vm_name(&vm->id), vm->id.uuid, vm->group};
        uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a, over the three with their NULs */

        for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                for (const unsigned char *p = (const unsigned char *)parts[i];; p++) {
                        h = (h ^ *p) * UINT64_C(1099511628211);
                        if (!*p)
                                break;
                }
        return h;
}

void publish_stage_release(struct engine *e, struct vm_state *vm)
{
        size_t slot = e->n_retired;

        if (!vm->totals)
                return;
        if (e->n_retired >= RETIRED_TOTALS_MAX) {
                slot = 0;
                for (size_t i = 1; i < e->n_retired; i++)
                        if (e->retired[i].tick < e->retired[slot].tick)
                                slot = i;
        } else if (GREEDY_REALLOC(e->retired, e->retired_allocated, e->n_retired + 1) < 0) {
                vm->totals = mfree(vm->totals); /* its series start again at zero if it comes back: a reset */
                return;
        } else
                e->n_retired++;
        e->retired[slot] = (struct retired_totals){.key = totals_key(vm), .tick = e->ticks, .totals = *vm->totals};
        e->retired[slot].totals.psi_seen = false; /* a new cgroup's PSI totals start afresh */
        vm->totals = mfree(vm->totals);
}

/* A VM's counters, this tick's signals added; a VM sensed for the first time takes over what a VM of its name,
 * uuid and group left, if one did. */
static void totals_update(struct engine *e, struct vm_state *vm)
{
        if (!vm->totals) {
                uint64_t key = totals_key(vm);
                vm->totals = calloc(1, sizeof(*vm->totals));
                if (!vm->totals) /* its series start at its next tick, which rate() takes as a reset */
                        return;
                for (size_t i = 0; i < e->n_retired; i++)
                        if (e->retired[i].key == key) {
                                *vm->totals = e->retired[i].totals;
                                e->retired[i] = e->retired[--e->n_retired];
                                break;
                        }
        }
        metrics_totals_add(vm->totals, &vm->sig);
}

/* The Prometheus textfile: every VM's limits, signals and decision counts, replaced atomically each tick. */
static void publish_metrics(struct engine *e)
{
        const char *path = e->opt.metrics_file ? e->opt.metrics_file : e->policy->engine.metrics_file;
        _cleanup_free_ struct metrics_vm *mv = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0, n = 0;
        int r;

        if (!path || strcmp(path, "none") == 0)
                return;
        for (size_t i = 0; i < e->n_vms; i++)
                if (vm_sensed(&e->vms[i]))
                        totals_update(e, &e->vms[i]);
        mv = calloc(e->n_vms ? e->n_vms : 1, sizeof(*mv));
        if (!mv)
                return;
        for (size_t i = 0; i < e->n_vms; i++) {
                const struct vm_state *vm = &e->vms[i];
                mv[n++] = (struct metrics_vm){
                        .id = &vm->id,
                        .group = vm->group,
                        .cgroup = vm_cgroup(vm),
                        .limits = vm_managed(vm) && vm->ctl.initialized ? &vm->ctl.limits : NULL,
                        .sig = vm_sensed(vm) ? &vm->sig : NULL,
                        .counters = &vm->counters,
                        .totals = vm->totals,
                        .threads = vm->thread_sig,
                        .n_threads = vm->n_thread_sig,
                };
        }
        struct metrics_engine me = {
                .dry_run = e->dry_run,
                .ticks = e->ticks,
                .tick_duration_usec = e->last_tick_usec,
                .interval_usec = e->interval_usec,
                .host = e->host_sensor ? &e->host : NULL,
                .totals = &e->totals,
                .runq_source = e->schedlat ? schedlat_source(e->schedlat) : RUNQ_SOURCE_NONE,
        };
        r = metrics_format(&me, mv, n, &text, &len);
        if (r == 0)
                r = metrics_write_textfile(path, text, len);
        if (r < 0 && !e->warned_metrics) {
                e->warned_metrics = true;
                log_err_errno(r, "metrics file %s: %m", path);
        } else if (r == 0)
                e->warned_metrics = false;
}

void publish_stage(struct engine *e, uint64_t now)
{
        publish_recording(e, now);
        e->last_tick_usec = monotonic_usec() - now;
        publish_metrics(e);
        publish_status(e);
}

void publish_stage_stop(struct engine *e)
{
        const char *path = status_path(e);

        if (e->snapshot_on && strcmp(path, "none") != 0 && unlink(path) < 0 && errno != ENOENT)
                log_warn_errno(-errno, "status file %s: cannot remove it: %m", path);
        e->snapshot_on = false;
        free(e->snapshot.buf);
        e->snapshot = (struct snapshot_text){0};
        free(e->retired);
        e->retired = NULL;
        e->n_retired = e->retired_allocated = 0;
}
