/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "kernel/ratelimit.h"

#include <string.h>

void ratelimit_init(struct ratelimit *rl, uint64_t interval_usec, struct ratelimit_entry *entries, size_t cap)
{
        *rl = (struct ratelimit){
                .interval_usec = interval_usec,
                .cap = cap,
                .entries = entries,
                .overflow = {.vm = RATELIMIT_OVERFLOW_VM},
        };
}

static struct ratelimit_entry *find(const struct ratelimit *rl, uint64_t vm, unsigned cause)
{
        for (size_t i = 0; i < rl->n_entries; i++)
                if (rl->entries[i].vm == vm && rl->entries[i].cause == cause)
                        return &rl->entries[i];
        return NULL;
}

static enum ratelimit_verdict hit_entry(struct ratelimit *rl, struct ratelimit_entry *e, uint64_t now_usec,
                                        unsigned *suppressed)
{
        /* A clock that went backwards (a test, a suspend) counts as the interval having passed. */
        int due = now_usec < e->last_logged_usec || now_usec - e->last_logged_usec >= rl->interval_usec;

        *suppressed = 0;
        if (!due) {
                if (e->suppressed < UINT32_MAX)
                        e->suppressed++;
                return RATELIMIT_QUIET;
        }
        e->last_logged_usec = now_usec;
        if (e->suppressed == 0)
                return RATELIMIT_LOG;
        /* This occurrence is part of the summary: "repeated N times since". */
        *suppressed = e->suppressed + 1;
        e->suppressed = 0;
        return RATELIMIT_SUMMARY;
}

enum ratelimit_verdict ratelimit_hit(struct ratelimit *rl, uint64_t vm, unsigned cause, uint64_t now_usec,
                                     unsigned *suppressed)
{
        struct ratelimit_entry *e = find(rl, vm, cause);

        if (!e && rl->n_entries < rl->cap) {
                e = &rl->entries[rl->n_entries++];
                *e = (struct ratelimit_entry){.vm = vm, .cause = cause, .last_logged_usec = now_usec};
                *suppressed = 0;
                return RATELIMIT_LOG;
        }
        if (!e) {
                e = &rl->overflow;
                if (!rl->overflow_used) {
                        rl->overflow_used = 1;
                        e->cause = cause;
                        e->last_logged_usec = now_usec;
                        *suppressed = 0;
                        return RATELIMIT_LOG;
                }
        }
        return hit_entry(rl, e, now_usec, suppressed);
}

unsigned ratelimit_pending(const struct ratelimit *rl, uint64_t vm, unsigned cause)
{
        const struct ratelimit_entry *e = find(rl, vm, cause);
        return e ? e->suppressed : 0;
}

unsigned ratelimit_forget_vm(struct ratelimit *rl, uint64_t vm)
{
        unsigned dropped = 0;

        for (size_t i = 0; i < rl->n_entries;) {
                if (rl->entries[i].vm != vm) {
                        i++;
                        continue;
                }
                dropped += rl->entries[i].suppressed;
                rl->entries[i] = rl->entries[--rl->n_entries];
        }
        return dropped;
}
