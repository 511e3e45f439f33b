/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What every benchmark here needs: a clock in ns, and the median of a set of figures. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t bench_clock_ns(clockid_t id)
{
        struct timespec ts;
        clock_gettime(id, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* What a pass costs: thread CPU time (user + system: the reads run in the kernel on this thread's account), and
 * wall time, which on a shared, loaded machine adds whatever ran in between. Both are reported. */
struct cost {
        uint64_t cpu, wall;
};

static inline struct cost cost_start(void)
{
        return (struct cost){bench_clock_ns(CLOCK_THREAD_CPUTIME_ID), bench_clock_ns(CLOCK_MONOTONIC)};
}

static inline struct cost cost_end(struct cost t0)
{
        return (struct cost){bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0.cpu,
                             bench_clock_ns(CLOCK_MONOTONIC) - t0.wall};
}

/* Sorts v (so v[0] and v[n - 1] are then the minimum and maximum). */
static inline uint64_t bench_median(uint64_t *v, unsigned n)
{
        qsort(v, n, sizeof(v[0]), bench_cmp_u64);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define BENCH_ROUNDS_MAX 101

/* Print one pass's figures (median [min..max] over the rounds, per item, in ns); returns its CPU median. */
/* The mean thread CPU time per item (n items a round): what periodic work (one round in ten) costs on average. */
static inline uint64_t bench_mean_cpu(const struct cost *c, unsigned rounds, size_t n)
{
        uint64_t sum = 0;

        for (unsigned r = 0; r < rounds; r++)
                sum += c[r].cpu / n;
        return rounds ? sum / rounds : 0;
}

static inline uint64_t bench_report(const char *what, const struct cost *c, unsigned rounds, size_t n)
{
        uint64_t cpu[BENCH_ROUNDS_MAX], wall[BENCH_ROUNDS_MAX], mc, mw;

        for (unsigned r = 0; r < rounds; r++) {
                cpu[r] = c[r].cpu / n;
                wall[r] = c[r].wall / n;
        }
        mc = bench_median(cpu, rounds);
        mw = bench_median(wall, rounds);
        printf("%-18s cpu %6llu [%llu..%llu] mean %llu   wall %6llu [%llu..%llu]\n", what, (unsigned long long)mc,
               (unsigned long long)cpu[0], (unsigned long long)cpu[rounds - 1],
               (unsigned long long)bench_mean_cpu(c, rounds, n), (unsigned long long)mw, (unsigned long long)wall[0],
               (unsigned long long)wall[rounds - 1]);
        return mc;
}
