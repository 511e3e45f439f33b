/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A set of CPUs (or of memory nodes) as a bitmap: what AllowedCPUs=, AllowedMemoryNodes= and the vCPU pins hold,
 * and what cpuset.cpus, cpuset.mems and /sys/devices/system/cpu/online say. Pure.
 *
 * The list syntax, as systemd reads AllowedCPUs= and the kernel writes its files: numbers and ranges "N-M",
 * separated by commas and/or whitespace ("0-3 8 10-11", "0-3,8,10-11", "0-3,8\n"). Formatted back in the kernel's
 * own form ("0-3,8,10-11": ascending, ranges merged, commas), so that a value read back compares as text.
 */

#define CPUSET_MAX 8192 /* the kernel's largest NR_CPUS */

struct cpuset {
        uint64_t bits[CPUSET_MAX / 64];
};

/* Parse the list syntax into ret. An empty list (or one of only separators) is the empty set. -EINVAL when
 * malformed (a reversed range "3-1", a sign, a stray character), -ERANGE when a number is limit or above (limit is
 * at most CPUSET_MAX). ret is written only on success. */
int cpuset_parse(const char *s, unsigned limit, struct cpuset *ret);

/* The kernel's form: "0-3,8", "" for the empty set. -ENOBUFS when it does not fit in size (buf then holds "").
 * Returns the length. */
int cpuset_format(const struct cpuset *set, char *buf, size_t size);

static inline void cpuset_add(struct cpuset *set, unsigned cpu)
{
        if (cpu < CPUSET_MAX)
                set->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

static inline bool cpuset_has(const struct cpuset *set, unsigned cpu)
{
        return cpu < CPUSET_MAX && (set->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned cpuset_count(const struct cpuset *set);
static inline bool cpuset_is_empty(const struct cpuset *set)
{
        return cpuset_count(set) == 0;
}

/* The first member at or after from, or -1: for (int c = cpuset_next(s, 0); c >= 0; c = cpuset_next(s, c + 1)). */
int cpuset_next(const struct cpuset *set, unsigned from);
/* The n-th member (from 0), or -1 when the set has n members or fewer. */
int cpuset_nth(const struct cpuset *set, unsigned n);

/* Is every member of a in b? */
bool cpuset_subset(const struct cpuset *a, const struct cpuset *b);
/* Do a and b share a member? */
bool cpuset_overlaps(const struct cpuset *a, const struct cpuset *b);
/* a's members that are not in b, into ret. */
void cpuset_minus(const struct cpuset *a, const struct cpuset *b, struct cpuset *ret);
bool cpuset_equal(const struct cpuset *a, const struct cpuset *b);
