/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * schedlat's arithmetic, and nothing that touches the kernel: the log2 buckets the BPF programs count in, summing
 * their per-CPU histograms and diffing two snapshots, a percentile interpolated inside a bucket, and the fallback's
 * percentile over per-thread mean waits weighted by runs.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "../../bpf/schedlat.h"

#include "kernel/macro.h"
#include "sense/schedlat.h"

static_assert(SCHEDLAT_NBUCKETS == SCHEDLAT_BUCKETS, "engine and BPF disagree on the number of buckets");
static_assert(sizeof(struct schedlat_hist) == SCHEDLAT_BUCKETS * 4 + 8, "unexpected padding in schedlat_hist");

unsigned schedlat_bucket(uint64_t ns)
{
        return schedlat_log2_bucket(ns); /* the kernel side's own function (bpf/schedlat.h) */
}

void schedlat_bucket_bounds(unsigned b, uint64_t *ret_lo, uint64_t *ret_hi)
{
        if (b >= SCHEDLAT_NBUCKETS)
                b = SCHEDLAT_NBUCKETS - 1;
        *ret_lo = b == 0 ? 0 : UINT64_C(1) << b;
        *ret_hi = UINT64_C(1) << (b + 1);
}

void schedlat_snap_sum(const void *percpu, unsigned ncpus, size_t stride, struct schedlat_snap *ret)
{
        struct schedlat_snap sum = {};

        for (unsigned cpu = 0; cpu < ncpus; cpu++) {
                struct schedlat_hist h;

                memcpy(&h, (const char *)percpu + (size_t)cpu * stride, sizeof(h));
                for (unsigned b = 0; b < SCHEDLAT_NBUCKETS; b++)
                        sum.bucket[b] += h.bucket[b]; /* modulo 2^32, as each CPU's counter */
                sum.sum_ns += h.sum_ns;
        }
        *ret = sum;
}

void schedlat_snap_delta(const struct schedlat_snap *cur, const struct schedlat_snap *prev, struct schedlat_delta *ret)
{
        struct schedlat_delta d = {};

        for (unsigned b = 0; b < SCHEDLAT_NBUCKETS; b++) {
                d.count[b] = (uint32_t)(cur->bucket[b] - prev->bucket[b]);
                d.total += d.count[b];
        }
        d.sum_ns = cur->sum_ns - prev->sum_ns;
        *ret = d;
}

void schedlat_delta_add(struct schedlat_delta *acc, const struct schedlat_delta *d)
{
        for (unsigned b = 0; b < SCHEDLAT_NBUCKETS; b++)
                acc->count[b] += d->count[b];
        acc->total += d->total;
        acc->sum_ns += d->sum_ns;
}

uint64_t schedlat_percentile_ns(const struct schedlat_delta *d, unsigned permille)
{
        double rank, before = 0;
        uint64_t lo = 0, hi = 0;

        if (d->total == 0)
                return 0;
        rank = (double)d->total * (double)MIN(permille, 1000u) / 1000.0;
        for (unsigned b = 0; b < SCHEDLAT_NBUCKETS; b++) {
                double c = (double)d->count[b];

                if (d->count[b] == 0)
                        continue;
                schedlat_bucket_bounds(b, &lo, &hi);
                if (before + c >= rank) {
                        double frac = rank > before ? (rank - before) / c : 0;
                        return lo + (uint64_t)((double)(hi - lo) * frac + 0.5);
                }
                before += c;
        }
        return hi; /* rounding left the rank just above the last sample: the top of the last bucket seen */
}

static int point_cmp(const void *a, const void *b)
{
        const struct schedlat_point *x = a, *y = b;

        return x->mean_ns < y->mean_ns ? -1 : x->mean_ns > y->mean_ns;
}

uint64_t schedlat_points_percentile_ns(struct schedlat_point *points, size_t n, unsigned permille)
{
        double total = 0, rank, cum = 0;

        for (size_t i = 0; i < n; i++)
                total += (double)points[i].runs;
        if (total == 0)
                return 0;
        qsort(points, n, sizeof(*points), point_cmp);
        rank = total * (double)MIN(permille, 1000u) / 1000.0;
        for (size_t i = 0; i < n; i++) {
                cum += (double)points[i].runs;
                if (points[i].runs > 0 && cum >= rank)
                        return points[i].mean_ns;
        }
        for (size_t i = n; i > 0; i--)
                if (points[i - 1].runs > 0)
                        return points[i - 1].mean_ns;
        return 0;
}
