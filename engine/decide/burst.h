/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The burst law (Adapt=burst): pure. cpu.max.burst lets a VM run above its quota in a period with time it saved in
 * the periods it used less. It helps a VM throttled in short spikes (a guest's boot, a cron job, a flush), not one
 * that wants more than its quota all the time: that one is the CPU law's (CPUQuotaRange=).
 *
 * From one tick's cpu.stat deltas:
 *  - throttled in a few periods (at most BURST_SPIKY_PERCENT of them) while the mean usage stays under
 *    BURST_USAGE_PERCENT of the quota: short spikes, the burst doubles, up to the top of CPUQuotaBurstRange=;
 *  - throttled in more periods, or the usage near the quota: sustained demand, which a burst cannot help (the time
 *    it lends is saved from periods the VM did not use up): the burst holds;
 *  - neither throttled nor bursting: calm; the caller halves the burst towards the floor once it has been calm for
 *    AdaptHoldSec (the law says "calm", the caller keeps the time). Bursting without throttling holds: the burst is
 *    what keeps the VM unthrottled.
 * Without nr_bursts in cpu.stat (before Linux 5.14) the law holds: there is no cpu.max.burst to set either.
 */

#define BURST_SPIKY_PERCENT  30 /* throttled in at most this share of periods: spikes a burst absorbs */
#define BURST_USAGE_PERCENT  90 /* grow only while the mean usage is under this share of the quota */
#define BURST_FIRST_STEP_DIV 16 /* from 0, the first step is a sixteenth of the range's top */
#define BURST_REASON_MAX     256

enum burst_verdict {
        BURST_HOLD, /* nothing to do (sustained demand, bursting, at the top, no quota, no burst statistics) */
        BURST_GROW, /* spikes throttled: the new burst is in burst_usec */
        BURST_CALM, /* neither throttled nor bursting: the caller may decay once it has been calm long enough */
};

struct burst_input {
        uint64_t interval_usec; /* the tick's wall time, 0 on the first tick */
        uint64_t usage_usec;    /* cpu.stat deltas over the tick */
        uint64_t nr_periods, nr_throttled, nr_bursts, burst_usec;
        bool burst_stat;                  /* cpu.stat has nr_bursts and burst_usec */
        uint64_t quota_usec, period_usec; /* cpu.max in force; LIMIT_MAX quota: none */
        uint64_t current_usec;            /* cpu.max.burst the law holds now */
        uint64_t min_usec, max_usec;      /* CPUQuotaBurstRange= */
};

struct burst_decision {
        enum burst_verdict verdict;
        uint64_t burst_usec;           /* the new cpu.max.burst for BURST_GROW; else current_usec */
        char reason[BURST_REASON_MAX]; /* for BURST_GROW, "" otherwise */
};

void burst_decide(const struct burst_input *in, struct burst_decision *ret);

/* The decay after a calm hold: half the way down, snapped to the floor when that is closer than a sixteenth of
 * the top. Writes its reason ("held" is how long it was calm, in ms). */
uint64_t burst_decay(const struct burst_input *in, unsigned long long held_ms, char *reason, size_t size);

/* "20ms", "2500us": a burst as the policy writes durations. */
const char *burst_text(uint64_t usec, char buf[static 24]);
