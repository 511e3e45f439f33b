/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "decide/burst.h"
#include "kernel/macro.h"
#include "kernel/resource_limits.h"

const char *burst_text(uint64_t usec, char buf[static 24])
{
        if (usec == 0)
                snprintf(buf, 24, "0");
        else if (usec % 1000 == 0)
                snprintf(buf, 24, "%llums", (unsigned long long)(usec / 1000));
        else
                snprintf(buf, 24, "%lluus", (unsigned long long)usec);
        return buf;
}

/* The share of the tick's allowance (quota per period, times the tick) the VM used, in percent. */
static uint64_t usage_percent(const struct burst_input *in)
{
        uint64_t allowance = in->interval_usec / in->period_usec * in->quota_usec +
                             in->interval_usec % in->period_usec * in->quota_usec / in->period_usec;

        return allowance ? in->usage_usec * 100 / allowance : 0;
}

static uint64_t first_step(const struct burst_input *in)
{
        return MAX(in->min_usec, MAX(in->max_usec / BURST_FIRST_STEP_DIV, (uint64_t)1));
}

void burst_decide(const struct burst_input *in, struct burst_decision *ret)
{
        char from[24], to[24], top[24];

        *ret = (struct burst_decision){.verdict = BURST_HOLD, .burst_usec = in->current_usec};
        if (!in->burst_stat || !in->interval_usec || in->quota_usec == LIMIT_MAX || !in->period_usec || !in->quota_usec)
                return;
        if (in->nr_throttled == 0) {
                /* Not throttled: calm unless the burst is at work (then it is what keeps the VM unthrottled). */
                if (in->nr_bursts == 0)
                        ret->verdict = BURST_CALM;
                return;
        }

        uint64_t periods = MAX(in->nr_periods, in->nr_throttled);
        uint64_t share = in->nr_throttled * 100 / periods, used = usage_percent(in);

        /* Sustained demand (a burst cannot help: the CPU law's, CPUQuotaRange=), or already at the top. */
        if (share > BURST_SPIKY_PERCENT || used >= BURST_USAGE_PERCENT || in->current_usec >= in->max_usec)
                return;

        uint64_t next = in->current_usec ? MIN(in->max_usec, MAX(in->current_usec * 2, first_step(in)))
                                         : MIN(in->max_usec, first_step(in));
        if (next <= in->current_usec)
                return;
        ret->verdict = BURST_GROW;
        ret->burst_usec = next;
        char lent[40] = "", t[24];
        if (in->nr_bursts)
                snprintf(lent, sizeof(lent), " for %s", burst_text(in->burst_usec, t));
        snprintf(ret->reason, sizeof(ret->reason),
                 "burst: throttled in %llu%% of periods (%llu of %llu), %llu bursts%s, usage %llu%% of the quota: "
                 "cpu.max.burst %s -> %s (x2, top %s)",
                 (unsigned long long)share, (unsigned long long)in->nr_throttled, (unsigned long long)periods,
                 (unsigned long long)in->nr_bursts, lent, (unsigned long long)used, burst_text(in->current_usec, from),
                 burst_text(next, to), burst_text(in->max_usec, top));
}

uint64_t burst_decay(const struct burst_input *in, unsigned long long held_ms, char *reason, size_t size)
{
        char from[24], to[24], floor[24];
        uint64_t cur = in->current_usec, next;

        if (cur <= in->min_usec)
                return cur;
        next = MAX(in->min_usec, cur / 2);
        if (next - in->min_usec < MAX(in->max_usec / BURST_FIRST_STEP_DIV, (uint64_t)1))
                next = in->min_usec;
        snprintf(reason, size,
                 "burst: neither throttled nor bursting for %llums: cpu.max.burst %s -> %s (x0.5, floor %s)", held_ms,
                 burst_text(cur, from), burst_text(next, to), burst_text(in->min_usec, floor));
        return next;
}
