/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tick: one pass through the stages, in the order of the spine
 *
 *   discover → place → (the VMs that left are let go) → sense → decide → act → publish
 *
 * and the proc connector's events, which run the same stages for one VM. Each stage is a room of its own
 * (STAGE/stage.c); this file only calls them in order.
 *
 * Sensing and acting on many VMs takes a while (tens of ms per hundred VMs; more under emulation), and a QEMU that
 * starts meanwhile should not wait for the rest to be limited: between two VMs of those stages, the events that
 * came are handled. An exec is placed and limited at once; an exit is only marked, and the table forgets the VM
 * after the stage, since the stages walk the table by position.
 */
#include <errno.h>

#include "act/actuator.h"
#include "act/stage.h"
#include "decide/stage.h"
#include "discover/procevents.h"
#include "discover/stage.h"
#include "engine.h"
#include "kernel/clock.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "place/stage.h"
#include "publish/stage.h"
#include "sense/stage.h"

/* The VMs discovery no longer finds: each stage lets go of what it holds for them, the last stage first, and the
 * table forgets them. */
static void engine_forget_gone(struct engine *e)
{
        size_t j = 0;

        if (e->n_gone == 0)
                return;
        for (size_t i = 0; i < e->n_vms; i++) {
                struct vm_state *vm = &e->vms[i];
                if (vm->seen) {
                        e->vms[j++] = *vm;
                        continue;
                }
                log_info("VM pid %d exited", (int)vm->id.pid);
                sense_stage_release(e, vm);
                place_stage_release(e, vm);
                publish_stage_release(e, vm);
                act_stage_release_vm(e, vm);
                decide_stage_release(e, vm);
                discover_stage_release(e, vm);
        }
        e->n_vms = j;
        e->n_gone = 0;
        if (vm_index_rebuild(e) < 0)
                log_err_errno(-ENOMEM, "out of memory: the VM table's index is incomplete");
        act_stage_release(e);
}

/* The process events that came since *last, at most every ENGINE_EVENTS_GAP_USEC. */
static void engine_events_between(struct engine *e, uint64_t *last)
{
        uint64_t now = monotonic_usec();
        int r;

        if (!e->procevents || now - *last < ENGINE_EVENTS_GAP_USEC)
                return;
        *last = now;
        e->in_tick = true;
        r = procevents_dispatch(e->procevents);
        e->in_tick = false;
        if (r == -ENOBUFS)
                e->rescan = true; /* the next tick scans /proc */
        else if (r == -ENOMEM)
                e->events_error = r;
}

int engine_tick(struct engine *e)
{
        uint64_t now = monotonic_usec(), last_events = now;
        int r;

        e->events_error = 0;
        r = discover_stage_tick(e, now);
        if (r < 0)
                return r;
        r = place_stage(e, now);
        if (r < 0)
                return r;
        engine_forget_gone(e);
        for (size_t i = 0; i < e->n_vms; i++) {
                sense_stage_vm(e, &e->vms[i], now);
                engine_events_between(e, &last_events);
        }
        sense_stage_host(e, now);
        engine_forget_gone(e);
        decide_stage(e, now);
        for (size_t i = 0; i < e->n_vms; i++) {
                if (vm_managed(&e->vms[i]) && e->vms[i].seen)
                        act_stage_vm(e, &e->vms[i], now);
                engine_events_between(e, &last_events);
        }
        actuator_flush(e->act);
        engine_forget_gone(e);
        publish_stage(e, now);
        return e->events_error;
}

int engine_on_pressure(struct engine *e, int fd)
{
        char what[AUDIT_LOG_NAME_MAX + 64];
        uint64_t now = monotonic_usec();

        if (!sense_stage_trigger_fired(e, fd, what, sizeof(what)))
                return 0;
        /* many VMs under pressure at once: one tick for them all, at most every ENGINE_TRIGGER_GAP_USEC */
        if (e->triggered_usec && now - e->triggered_usec < ENGINE_TRIGGER_GAP_USEC)
                return 1;
        e->triggered++;
        e->triggered_usec = now;
        log_debug("%s passed its trigger's share of the last second: a tick now", what);
        return engine_tick(e);
}

int engine_on_exec(pid_t pid, void *userdata)
{
        struct engine *e = userdata;
        struct vm_state *vm;
        int r;

        r = discover_stage_exec(e, pid, &vm);
        if (r < 0 || !vm)
                return r;
        uint64_t now = monotonic_usec();
        r = place_stage_vm(e, vm, now);
        if (r < 0 || !vm_managed(vm))
                return r;
        decide_stage_vm(e, vm, now);
        act_stage_vm(e, vm, now);
        return 0;
}

#define HEIRS_AT_ONCE 64

int engine_on_exit(pid_t pid, void *userdata)
{
        struct engine *e = userdata;
        pid_t heirs[HEIRS_AT_ONCE];
        int n, r;

        if (!discover_stage_exit(e, pid))
                return 0;
        /* QEMU -daemonize: the process that exec'd exits once the grandchild it forked runs the VM, and a fork brings
         * no exec event. Its heirs are looked at as new execs, after it is let go (its cgroup may be theirs). */
        n = discover_stage_heirs_take(e, pid, heirs, ELEMENTSOF(heirs));
        if (!e->in_tick)
                engine_forget_gone(e);
        if (n < 0) {
                e->rescan = true; /* more heirs than followed: look at everything */
                return 0;
        }
        for (int i = 0; i < n; i++) {
                r = engine_on_exec(heirs[i], e);
                if (r < 0)
                        return r;
        }
        return 0;
}

int engine_on_fork(pid_t parent, pid_t child, void *userdata)
{
        return discover_stage_fork(userdata, parent, child);
}

int engine_on_thread(pid_t pid, void *userdata)
{
        struct engine *e = userdata;
        struct vm_state *vm;
        size_t it = 0;

        /* a new thread may be a vCPU (hotplug, or one started after QEMU's exec): run-queue latency measures it from
         * the next tick (sense/stage.c). A VM whose threads are placed apart: the new one starts where the thread
         * that made it is, so its map is read again at the next tick (place/stage.c). */
        while ((vm = vm_next_by_pid(e, pid, &it))) {
                vm->threads_made = true;
                if (vm->threads)
                        vm->threads_new = true;
        }
        return 0;
}

int engine_on_uid(pid_t pid, void *userdata)
{
        struct engine *e = userdata;
        size_t it = 0;

        /* -runas: a VM's user is known for sure only once it has changed; MatchUser= may now take it elsewhere. */
        if (!vm_next_by_pid(e, pid, &it))
                return 0;
        return engine_on_exec(pid, e);
}
