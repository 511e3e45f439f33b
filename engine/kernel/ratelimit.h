/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Quiet by design: a warning that repeats for the same VM and cause is logged once, then counted, and its count is
 * summarised at most once per interval (the way journald rate-limits). Pure: the caller passes the clock and logs;
 * this only says what to do. Keyed by a VM identity the caller chooses (e.g. its cgroup inode) and a cause number.
 */

enum ratelimit_verdict {
        RATELIMIT_LOG,     /* log the warning now */
        RATELIMIT_QUIET,   /* counted; log nothing */
        RATELIMIT_SUMMARY, /* log "repeated N more times" (N in *suppressed), the interval has passed */
};

struct ratelimit_entry {
        uint64_t vm;
        unsigned cause;
        uint64_t last_logged_usec;
        unsigned suppressed;
};

struct ratelimit {
        uint64_t interval_usec;
        size_t n_entries;
        size_t cap;
        struct ratelimit_entry *entries;
        /* When the table is full, every new key shares this one, so the log stays quiet rather than loud. */
        struct ratelimit_entry overflow;
        int overflow_used;
};

#define RATELIMIT_OVERFLOW_VM UINT64_MAX

/* entries: caller-owned storage for cap keys. */
void ratelimit_init(struct ratelimit *rl, uint64_t interval_usec, struct ratelimit_entry *entries, size_t cap);
/* Record one occurrence at now_usec; *suppressed gets the count to summarise (0 unless RATELIMIT_SUMMARY). */
enum ratelimit_verdict ratelimit_hit(struct ratelimit *rl, uint64_t vm, unsigned cause, uint64_t now_usec,
                                     unsigned *suppressed);
/* Tell the pending count of a key without recording (e.g. before forgetting a VM); 0 if unknown. */
unsigned ratelimit_pending(const struct ratelimit *rl, uint64_t vm, unsigned cause);
/* Forget every key of a VM (it exited), so its slots serve other VMs. Returns the suppressed count dropped. */
unsigned ratelimit_forget_vm(struct ratelimit *rl, uint64_t vm);
