/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What every benchmark here needs: a clock in ns, and the median of a set of figures. */

#include <stdint.h>
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

/* Sorts v (so v[0] and v[n - 1] are then the minimum and maximum). */
static inline uint64_t bench_median(uint64_t *v, unsigned n)
{
        qsort(v, n, sizeof(v[0]), bench_cmp_u64);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
