/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decide/freeze.h"
#include "policy/config.h"
#include "kernel/resource_limits.h"
#include "kernel/signals.h"

/*
 * The control laws: pure. One tick's signals, each VM's policy and each law's state in; each VM's desired limits
 * and a reason per changed file out. No I/O, no clock: time comes in as now_usec. The daemon turns the desired
 * limits into writes through the actuator; replay runs recorded signals through the same function.
 *
 * CPU (AIMD across VMs): when a latency- or normal-class VM misses its run-queue latency or CPU pressure target,
 * its cpu.weight grows ×1.5 and the quota of every batch VM that is using CPU shrinks ×0.7; once no target has
 * been missed for AdaptHoldSec, weights and quotas step back towards the baseline by a tenth of their range.
 * Memory (senpai): below half the pressure target memory.high comes down by at most 1% per tick, scaled by how far
 * below target the pressure is, never under what cannot be reclaimed plus a margin nor under the group's MemoryLow=
 * or MemoryMin=; above target, while the limit
 * binds (usage within 5% of it), it goes up by up to half in one tick. Where the cgroup has memory.reclaim
 * (MemoryProbe=auto or reclaim), the law probes by asking the kernel to reclaim that 1% instead and leaves memory.high
 * at its baseline, so an engine that dies leaves no tight limit behind: a stall over target stops the reclaiming
 * (the workload simply faults its memory back), and the next probe waits AdaptHoldSec. IO: when a protected VM's io
 * pressure is above target, the busy batch VMs get io.max read and write bandwidth ×0.7 on the device it uses; relaxed
 * like CPU. Every law: bounds never crossed, at most one change of a file per AdaptDwellSec (except giving memory back
 * under pressure: never delayed), a dead band between "miss" (above target) and "calm" (below 80% of it; below half of
 * it for memory), and a probe that had to be undone makes the next one wait twice as long.
 * The host (HostMemoryPressureTarget=, HostIOPressureTarget=): while the host's memory pressure is over its target,
 * the VMs with the memory law give, batch ones first and normal ones once every batch VM is at its floor (or after
 * 30 ticks over), latency ones never, nobody below the memory law's floor (which holds MemoryLow=/MemoryMin=): by
 * memory.reclaim, or memory.high down under a cap that holds until the host has been calm for the hold, then walks
 * back to where the host found it. The host's io pressure over its target is a miss as a protected VM's is.
 * Burst (Adapt=burst, decide/burst.h): cpu.max.burst doubles while the VM is throttled in short spikes, holds under
 * sustained demand, and halves towards the floor of CPUQuotaBurstRange= once neither throttled nor bursting for
 * AdaptHoldSec; at most one change per AdaptDwellSec.
 */

enum control_knob {
        KNOB_CPU_WEIGHT,
        KNOB_CPU_MAX,
        KNOB_MEMORY_HIGH,
        KNOB_IO_MAX,
        KNOB_MEMORY_RECLAIM, /* not a setting: a one-shot request, see memory_reclaim_bytes */
        KNOB_CPU_BURST,      /* cpu.max.burst, Adapt=burst (decide/burst.h) */
        _KNOB_MAX,
};

#define CONTROL_REASON_MAX     320
#define CONTROL_HOLD_SHIFT_MAX 4

/* A reaction answers a missed target (protect a VM, give memory back); a probe tries for more utilisation once
 * targets have held (relax a batch VM, take memory back). */
enum control_step { STEP_REACT = -1, STEP_PROBE = +1 };

struct control_state {
        bool initialized;
        const struct group_policy *group; /* the group the state was built for (a reload starts afresh) */
        uint64_t generation;              /* of the policy that group belongs to (policy.generation) */
        struct limits limits;             /* what the laws want now; starts at the group's baseline */

        uint64_t last_change_usec[_KNOB_MAX];
        int last_direction[_KNOB_MAX]; /* STEP_REACT or STEP_PROBE, 0 before the first change */
        uint64_t last_react_usec[_KNOB_MAX];
        /* Each time a reaction undoes a probe, the next probe waits twice as long (up to 16x AdaptHoldSec), so a
         * steady load settles instead of sawing; reaching the baseline (or floor) resets it. */
        unsigned hold_shift[_KNOB_MAX];
        unsigned direction_changes[_KNOB_MAX];
        unsigned changes[_KNOB_MAX];
        /* for the knobs changed in the last tick, else NULL: on the heap, as changes are few and a thousand VMs
         * would otherwise carry 1.6 KB each of empty text (control_reason) */
        char *reason[_KNOB_MAX];

        uint64_t last_miss_usec;       /* last time this (protected) VM missed a cpu target */
        uint64_t burst_last_busy_usec; /* last time it was throttled or used its burst (Adapt=burst) */
        uint64_t memory_high_written;  /* what the memory law last asked for, to notice someone else's change */
        uint64_t memory_reclaim_bytes; /* this tick's request to write to memory.reclaim, 0 for none */
        bool memory_yielded;           /* someone else set memory.high: the law leaves it alone */
        unsigned io_major, io_minor;   /* the device the IO law limits, once chosen */
        bool io_device_set;
        /* the host's memory law: memory.high is held at or under the cap it took the VM to (0: none) until the
         * host is calm, then walked back to restore, where it found it */
        uint64_t host_memory_cap, host_memory_restore;
        uint64_t host_memory_given; /* bytes taken for the host so far (memory.high lowered, memory.reclaim asked) */
        struct freeze_state freeze; /* decide/freeze.h: kept across a change of group, as the VM stays frozen */
};

/* State shared by all VMs: when a protected VM was last above the calm line (80% of its target), which is what
 * holds back relaxing the batch VMs. */
struct control_global {
        uint64_t last_cpu_unsettled_usec;
        uint64_t last_io_unsettled_usec;
        unsigned io_miss_major, io_miss_minor; /* the device the stalled protected VM used most */
        bool io_miss_device_set;
        char cpu_miss_why[160]; /* which VM missed and by how much, quoted in the batch VMs' reasons */
        char io_miss_why[160];
        /* the host: its targets this tick, its last memory pressure, how long it has been over the target */
        const struct host_policy *host_policy;
        uint32_t host_memory_last_ppm;
        unsigned host_memory_over_ticks;
        uint64_t last_host_memory_unsettled_usec; /* last time above 80% of HostMemoryPressureTarget= */
        struct freeze_global freeze;
};

struct control_vm {
        const char *name; /* for reasons; escaped by the caller if it must be */
        const struct group_policy *group;
        const struct vm_signals *sig;
        struct control_state *state;
};

/* Run every law for one tick. hp: the host's targets ([engine]); NULL when not every VM is in vms (the host laws then
 * skip the call). page_size rounds memory as the kernel will. */
void control_tick(struct control_vm *vms, size_t n, const struct host_signals *host, const struct host_policy *hp,
                  struct control_global *global, uint64_t now_usec, uint64_t page_size);

/* Why knob k changed in the last tick, "" if it did not. */
static inline const char *control_reason(const struct control_state *st, int k)
{
        return st->reason[k] ? st->reason[k] : "";
}

/* Release what a VM's state holds (its reasons); it starts afresh at its next tick. */
void control_state_done(struct control_state *st);

/* Which knob a cgroup file belongs to, or -1. */
int control_knob_of_file(const char *file);

/* The cpu.max quota for a CPUQuotaRange= bound at the group's period. */
uint64_t control_quota_usec(const struct group_policy *g, uint64_t permyriad);
