/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/signals.h"
#include "kernel/vm.h"

/*
 * The running daemon's view, for `vmgov status`: rewritten atomically each tick (SNAPSHOT_DEFAULT unless
 * --status-file), removed when the daemon stops. A text format in the manner of the signal recording:
 *
 *   vmgov-status 1
 *   daemon pid=812 time_usec=1795689222000000 interval_usec=1000000 ticks=42 dry_run=0 runq_source=bpf \
 *          policy=/etc/vmgov/policy.d writes=12 errors=0
 *   vm pid=4242 start=81234 ... (a signal recording's vm line: identity and this tick's signals)
 *   state group=web cgroup=/vmgov/web/web-1 cpu.max=150000%20100000 ... decisions=3 errors=0 \
 *         decided_usec=1795689220000000 reason=cpu%3A%20...
 *   thread name=vcpu0 tid=4250 runq=1 runq_samples=812 runq_p99_usec=130 stat=1 usage_usec=912000 \
 *          usage_ppm=201000 nr_periods=31 nr_throttled=30 throttled_usec=2400000 cpus=0
 *
 * Each "vm" line is followed by its "state" line, and then by a "thread" line for each threaded child when the
 * VM's threads are placed apart (vcpuN, iothreadK, emulator). Strings are percent-encoded; unknown keys are
 * ignored.
 */

#define SNAPSHOT_MAGIC      "vmgov-status 1"
#define SNAPSHOT_DEFAULT    "/run/vmgov/status"
#define SNAPSHOT_REASON_MAX 512

struct snapshot_daemon {
        pid_t pid;
        uint64_t time_usec; /* CLOCK_REALTIME when written */
        uint64_t interval_usec;
        uint64_t ticks;
        bool dry_run;
        char runq_source[16];
        char policy[4096];
        uint64_t writes, errors; /* changes made (in dry-run: that would have been made), failed reads and writes */
};

/* What the daemon holds a VM at (in dry-run: would hold), as the kernel reads the files back, "" for a file it
 * does not manage; and its last decision. */
struct snapshot_state {
        bool sensed;
        char group[64]; /* "" = unmanaged */
        char cgroup[4096];
        char cpu_max[64], cpu_weight[32], memory_high[32], memory_max[32], io_max[512];
        /* the protection its group sets (MemoryMin=, MemoryLow=, MemorySwapMax=, MemoryZSwapMax=); "" for none */
        char memory_min[32], memory_low[32], memory_swap_max[32], memory_zswap_max[32];
        char threads[256]; /* a group that places its threads apart: how, or why they stay together; "" else */
        uint64_t decisions, errors;
        uint64_t decided_usec; /* CLOCK_REALTIME of the last decision, 0 for none */
        bool frozen;           /* the engine holds it frozen (decide/freeze.h) */
        uint64_t frozen_usec;  /* ... since this long, at the snapshot */
        char reason[SNAPSHOT_REASON_MAX];
};

struct snapshot_vm {
        struct vm_identity id;
        struct vm_signals sig;
        struct snapshot_state st;
        struct thread_signals *threads; /* its "thread" lines: a VM whose threads are placed apart */
        size_t n_threads;
};

/* The text, grown as needed and reused from tick to tick. */
struct snapshot_text {
        char *buf;
        size_t size, len;
};

/* Start a new snapshot with the daemon's line, then add each VM. 0, or -ENOMEM / -ENOBUFS. */
int snapshot_format_daemon(struct snapshot_text *t, const struct snapshot_daemon *d);
int snapshot_format_vm(struct snapshot_text *t, const struct vm_identity *id, const struct vm_signals *sig,
                       const struct snapshot_state *st);
int snapshot_format_thread(struct snapshot_text *t, const struct thread_signals *row);

/* The rows snapshot_parse gives, and what each holds. */
void snapshot_vms_free(struct snapshot_vm *vms, size_t n);

/* Parse a snapshot. *ret_vms is allocated (snapshot_vms_free() it). -EINVAL with *ret_line on a malformed line,
 * -EBADMSG without the magic line. */
int snapshot_parse(const char *text, struct snapshot_daemon *ret_daemon, struct snapshot_vm **ret_vms, size_t *ret_n,
                   unsigned *ret_line);
