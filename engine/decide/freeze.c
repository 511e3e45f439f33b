/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide/control.h"
#include "decide/freeze.h"
#include "kernel/macro.h"

#define FREEZE_CALM_PERCENT 80 /* calm is under 80% of the threshold: the dead band between freeze and thaw */

bool freeze_allowed(const struct group_policy *g)
{
        return g && g->freeze_on_host_pressure && g->class != VM_CLASS_LATENCY;
}

uint64_t freeze_frozen_usec(const struct freeze_state *st, uint64_t now_usec)
{
        return st->frozen_total_usec + (st->frozen && now_usec > st->frozen_usec ? now_usec - st->frozen_usec : 0);
}

void freeze_state_done(struct freeze_state *st)
{
        st->reason = mfree(st->reason);
}

_printf_(3, 4) static void decide(struct freeze_state *st, enum freeze_action action, const char *fmt, ...)
{
        char text[FREEZE_REASON_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        st->action = action;
        free(st->reason);
        st->reason = strdup(text); /* without memory the decision stands, and is audited without it */
}

static void thaw(struct freeze_state *st, uint64_t now)
{
        st->frozen_total_usec += now - st->frozen_usec;
        st->frozen = false;
}

/* "12.34%" */
static const char *pct(char buf[static 16], uint64_t ppm)
{
        snprintf(buf, 16, "%llu.%02llu%%", (unsigned long long)(ppm / 10000), (unsigned long long)(ppm % 10000 / 100));
        return buf;
}

static unsigned long long secs(uint64_t usec)
{
        return (unsigned long long)(usec / 1000000);
}

/* How long the VM waits for calm before its thaw: HostThawAfterSec=, doubled per refreeze, never past the bound. */
static uint64_t thaw_wait(const struct freeze_state *st, const struct host_policy *hp)
{
        return MIN(hp->thaw_after_usec << MIN(st->thaw_shift, 16u), hp->freeze_max_usec);
}

/* Which frozen VM thaws first on calm: a normal one before a batch one, then the one frozen longest. */
static bool thaws_before(const struct control_vm *a, const struct control_vm *b)
{
        if (a->group->class != b->group->class)
                return a->group->class < b->group->class;
        return a->state->freeze.frozen_usec < b->state->freeze.frozen_usec;
}

/* Which VM freezes first: a batch one before a normal one, then the one that holds the most memory. */
static bool freezes_before(const struct control_vm *a, const struct control_vm *b)
{
        if (a->group->class != b->group->class)
                return a->group->class > b->group->class;
        return a->sig->memory_current > b->sig->memory_current;
}

void freeze_tick(struct control_vm *vms, size_t n, const struct host_signals *host, const struct host_policy *hp,
                 struct freeze_global *global, uint64_t now)
{
        uint64_t thr = hp ? hp->freeze_pressure_ppm : 0, p = host->memory.full_ppm;
        struct control_vm *thaw_first = NULL, *freeze_first = NULL;
        char a[16], b[16];

        for (size_t i = 0; i < n; i++) {
                vms[i].state->freeze.action = FREEZE_NONE;
                freeze_state_done(&vms[i].state->freeze);
        }

        if (thr && host->interval_usec) {
                if (p > thr) {
                        if (!global->over_since_usec) {
                                global->over_since_usec = now;
                                global->taken_at_over = global->host_taken_total;
                        }
                } else
                        global->over_since_usec = 0;
                if (p * 100 < thr * FREEZE_CALM_PERCENT) {
                        if (!global->calm_since_usec)
                                global->calm_since_usec = now;
                } else
                        global->calm_since_usec = 0;
        } else if (!thr)
                global->over_since_usec = global->calm_since_usec = 0;
        /* (an unsensed tick keeps the clocks as they were) */

        for (size_t i = 0; i < n; i++) {
                struct freeze_state *st = &vms[i].state->freeze;

                if (!st->frozen)
                        continue;
                if (!thr || !freeze_allowed(vms[i].group)) {
                        thaw(st, now);
                        decide(st, FREEZE_THAW, "freeze: %s: thawed after %llus",
                               thr ? "its group no longer allows freezing (FreezeOnHostPressure=, Class=)"
                                   : "HostFreezePressure= is no longer set",
                               secs(now - st->frozen_usec));
                } else if (now - st->frozen_usec >= hp->freeze_max_usec) {
                        thaw(st, now);
                        st->cooldown_until_usec = now + hp->freeze_cooldown_usec;
                        decide(st, FREEZE_THAW,
                               "freeze: frozen for %llus, the bound (FreezeMaxSec=%llus): thawed whatever the host's "
                               "memory pressure (full %s); not frozen again for %llus",
                               secs(now - st->frozen_usec), secs(hp->freeze_max_usec), pct(a, p),
                               secs(hp->freeze_cooldown_usec));
                } else if (global->calm_since_usec && now - global->calm_since_usec >= thaw_wait(st, hp) &&
                           (!thaw_first || thaws_before(&vms[i], thaw_first)))
                        thaw_first = &vms[i];
        }
        if (thaw_first) {
                struct freeze_state *st = &thaw_first->state->freeze;
                thaw(st, now);
                st->thawed_usec = now;
                decide(st, FREEZE_THAW,
                       "freeze: host memory pressure (full) %s under 80%% of HostFreezePressure=%s for %llus: thawed "
                       "after %llus frozen",
                       pct(a, p), pct(b, thr), secs(now - global->calm_since_usec), secs(now - st->frozen_usec));
                global->calm_since_usec = now; /* the next thaw waits to see what this one brings */
        }

        if (!thr || !global->over_since_usec || now - global->over_since_usec < hp->freeze_after_usec)
                return;
        /* not before reclaim was tried: the host's memory law takes from VMs first, while any has memory to give */
        uint64_t taken =
                global->host_taken_total > global->taken_at_over ? global->host_taken_total - global->taken_at_over : 0;
        if (global->host_can_take && !taken)
                return;
        for (size_t i = 0; i < n; i++) {
                const struct freeze_state *st = &vms[i].state->freeze;
                if (!st->frozen && st->action == FREEZE_NONE && freeze_allowed(vms[i].group) &&
                    now >= st->cooldown_until_usec && vms[i].sig->interval_usec &&
                    (!freeze_first || freezes_before(&vms[i], freeze_first)))
                        freeze_first = &vms[i];
        }
        if (!freeze_first)
                return;
        struct freeze_state *st = &freeze_first->state->freeze;
        /* frozen again soon after a thaw on calm: the pressure came back with it, so the next thaw waits longer */
        if (st->thawed_usec && now - st->thawed_usec < hp->freeze_max_usec)
                st->thaw_shift = MIN(st->thaw_shift + 1, 16u);
        else
                st->thaw_shift = 0;
        st->frozen = true;
        st->frozen_usec = now;
        st->freezes++;
        char despite[96];
        if (taken)
                snprintf(despite, sizeof(despite), " despite %llu MiB reclaimed from VMs meanwhile",
                         (unsigned long long)(taken >> 20));
        else
                snprintf(despite, sizeof(despite), "%s",
                         hp->memory_pressure_target_ppm ? " with no VM left to reclaim from" : "");
        decide(st, FREEZE_FREEZE,
               "freeze: host memory pressure (full) %s > HostFreezePressure=%s for %llus%s: the %s VM that holds the "
               "most memory (memory.current %llu) is frozen, for at most %llus",
               pct(a, p), pct(b, thr), secs(now - global->over_since_usec), despite,
               vm_class_to_string(freeze_first->group->class), (unsigned long long)freeze_first->sig->memory_current,
               secs(hp->freeze_max_usec));
        global->over_since_usec = now; /* the next freeze needs the pressure held afresh, and reclaim tried again */
        global->taken_at_over = global->host_taken_total;
}
