/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What bpf/schedlat.bpf.c and engine/sense/schedlat_bpf.c (with schedlat_percentile.c) share: map value layouts and
 * sizes. Fixed-width __u32/__u64 only, so that the BPF target and the host compiler lay them out the same way. Include
 * <linux/types.h> (user space) or the CO-RE header (BPF) first.
 *
 * Histograms are log2 of the wait in nanoseconds: bucket 0 holds 0 and 1 ns, bucket b (1 <= b < 31) holds
 * [2^b, 2^(b+1)) ns, and the last bucket everything from 2^31 ns (2.1 s) on. Counters only ever grow (user space
 * diffs snapshots); bucket counters are 32-bit and wrap, which a modular difference handles as long as one bucket
 * does not see 2^32 events between two reads.
 */

#define SCHEDLAT_BUCKETS 32

/* The bucket of a wait of v ns: floor(log2(v)), 0 for 0 and 1, capped at the last bucket. Branch-free, for the
 * verifier and the CPU; shared with user space so that both sides agree (tests/unit/test_schedlat.c checks it). */
static inline __u32 schedlat_log2_bucket(__u64 v)
{
        __u32 r = 0, shift;

        shift = (v > 0xffffffffULL) << 5;
        v >>= shift;
        r |= shift;
        shift = (v > 0xffff) << 4;
        v >>= shift;
        r |= shift;
        shift = (v > 0xff) << 3;
        v >>= shift;
        r |= shift;
        shift = (v > 0xf) << 2;
        v >>= shift;
        r |= shift;
        shift = (v > 0x3) << 1;
        v >>= shift;
        r |= shift;
        r |= (__u32)(v >> 1);
        return r < SCHEDLAT_BUCKETS ? r : SCHEDLAT_BUCKETS - 1;
}

struct schedlat_hist {
        __u32 bucket[SCHEDLAT_BUCKETS];
        __u64 sum_ns; /* total wait of the events counted, ns */
};

/* Value of the vcpus map (key: the thread id). */
struct schedlat_vcpu {
        __u32 slot; /* index into vcpu_hist */
        __u32 tgid; /* the process it belongs to: a reused tid of another process is not counted */
};
