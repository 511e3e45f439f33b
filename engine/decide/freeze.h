/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/signals.h"
#include "policy/config.h"

/*
 * Degrade before anything is killed: a pure state machine that freezes (cgroup.freeze) a VM when the host's memory
 * pressure "full" stays above HostFreezePressure= for HostFreezeAfterSec=, and thaws it once the pressure has stayed
 * under 80% of the threshold for HostThawAfterSec=, or at the latest after FreezeMaxSec=.
 *
 * - Only VMs whose group says FreezeOnHostPressure=yes, never a latency VM (the loader refuses that too).
 * - At most one freeze per tick, and each needs the threshold held for HostFreezeAfterSec= afresh: batch VMs first,
 *   then normal ones; among equals the one that holds the most memory (memory.current), then the first listed.
 * - Despite reclaim: with HostMemoryPressureTarget= set, a freeze also waits until the host's memory law has taken
 *   memory from VMs since the pressure went over the threshold (or since the last freeze), or has none left to take.
 * - At most one thaw on calm per tick, each after HostThawAfterSec= of calm afresh: normal VMs first, then the one
 *   frozen longest. A VM frozen again within FreezeMaxSec= of a thaw on calm waits twice as long for its next thaw
 *   on calm (up to FreezeMaxSec=): a load that brings the pressure back at every thaw settles into longer periods
 *   instead of sawing.
 * - The bound thaws whatever the pressure, and a VM thawed by it is not frozen again for FreezeCooldownSec=.
 * - A VM whose group no longer allows it (a reload), or a policy without a threshold, is thawed at once.
 *
 * The state lives in each VM's control_state (decide/control.h), so that the engine and replay carry it as they carry
 * the laws'. No I/O, no clock: time comes in as now_usec.
 */

enum freeze_action { FREEZE_NONE, FREEZE_FREEZE, FREEZE_THAW };

struct freeze_state {
        bool frozen;
        uint64_t frozen_usec;         /* when it was last frozen */
        uint64_t thawed_usec;         /* when it was last thawed on calm (0: never) */
        uint64_t cooldown_until_usec; /* thawed at the bound: not frozen again before this */
        unsigned thaw_shift;          /* its thaw on calm waits HostThawAfterSec= << thaw_shift */
        unsigned freezes;             /* how many times it was frozen */
        uint64_t frozen_total_usec;   /* time frozen, up to its last thaw */
        enum freeze_action action;    /* this tick's decision */
        char *reason;                 /* and why (heap, NULL for none: few VMs ever have one) */
};

/* Shared by all VMs: since when the host has been above the threshold, or calm (0: not). */
struct freeze_global {
        uint64_t over_since_usec;
        uint64_t calm_since_usec;
        /* From the host's memory law (decide/control.c), each tick, so that a freeze comes only despite reclaim:
         * the bytes it has taken from VMs so far, and whether some VM it may take from is still above its floor
         * (never without HostMemoryPressureTarget=: then there is no reclaim to wait for). */
        uint64_t host_taken_total;
        bool host_can_take;
        uint64_t taken_at_over; /* host_taken_total when the pressure went over the threshold, or at the last freeze */
};

#define FREEZE_REASON_MAX 256

struct control_vm;

/* One tick: decisions in each VM's state->freeze.action and .reason. hp NULL: no threshold. */
void freeze_tick(struct control_vm *vms, size_t n, const struct host_signals *host, const struct host_policy *hp,
                 struct freeze_global *global, uint64_t now_usec);

/* May the engine freeze a VM of group g at all? */
bool freeze_allowed(const struct group_policy *g);

/* Time frozen so far, the current freeze included. */
uint64_t freeze_frozen_usec(const struct freeze_state *st, uint64_t now_usec);

/* Its reason's memory; the freeze state itself is kept (a frozen VM stays known as frozen). */
void freeze_state_done(struct freeze_state *st);
