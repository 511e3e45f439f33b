/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/cpuset.h"
#include "kernel/macro.h"

static bool is_separator(char c)
{
        return c == ',' || c == ' ' || c == '\t' || c == '\n';
}

/* A decimal number below limit at *p, advancing *p past it. No sign, no leading '+'; leading zeros are fine, as
 * the kernel's own parser takes them. */
static int parse_number(const char **p, unsigned limit, unsigned *ret)
{
        const char *s = *p;
        uint64_t v = 0;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                v = v * 10 + (uint64_t)(*s - '0');
                if (v >= limit) {
                        while (*s >= '0' && *s <= '9')
                                s++;
                        *p = s;
                        return -ERANGE;
                }
        }
        *p = s;
        *ret = (unsigned)v;
        return 0;
}

int cpuset_parse(const char *s, unsigned limit, struct cpuset *ret)
{
        struct cpuset set = {};
        int r;

        if (limit > CPUSET_MAX)
                limit = CPUSET_MAX;
        for (const char *p = s; *p;) {
                unsigned lo, hi;

                if (is_separator(*p)) {
                        p++;
                        continue;
                }
                r = parse_number(&p, limit, &lo);
                if (r < 0)
                        return r;
                hi = lo;
                if (*p == '-') {
                        p++;
                        r = parse_number(&p, limit, &hi);
                        if (r < 0)
                                return r;
                        if (hi < lo)
                                return -EINVAL;
                }
                if (*p && !is_separator(*p))
                        return -EINVAL;
                for (unsigned c = lo; c <= hi; c++)
                        cpuset_add(&set, c);
        }
        *ret = set;
        return 0;
}

int cpuset_format(const struct cpuset *set, char *buf, size_t size)
{
        size_t n = 0;

        if (size == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        for (int lo = cpuset_next(set, 0); lo >= 0;) {
                int hi = lo, w;

                while (hi + 1 < CPUSET_MAX && cpuset_has(set, (unsigned)hi + 1))
                        hi++;
                if (hi == lo)
                        w = snprintf(buf + n, size - n, "%s%d", n ? "," : "", lo);
                else
                        w = snprintf(buf + n, size - n, "%s%d-%d", n ? "," : "", lo, hi);
                if (w < 0 || (size_t)w >= size - n) {
                        buf[0] = '\0';
                        return -ENOBUFS;
                }
                n += (size_t)w;
                lo = hi + 1 < CPUSET_MAX ? cpuset_next(set, (unsigned)hi + 1) : -1;
        }
        return (int)n;
}

unsigned cpuset_count(const struct cpuset *set)
{
        unsigned n = 0;

        for (size_t i = 0; i < ELEMENTSOF(set->bits); i++)
                n += (unsigned)__builtin_popcountll(set->bits[i]);
        return n;
}

int cpuset_next(const struct cpuset *set, unsigned from)
{
        for (size_t i = from / 64; i < ELEMENTSOF(set->bits); i++) {
                uint64_t word = set->bits[i];

                if (i == from / 64)
                        word &= ~UINT64_C(0) << (from % 64);
                if (word)
                        return (int)(i * 64 + (size_t)__builtin_ctzll(word));
        }
        return -1;
}

int cpuset_nth(const struct cpuset *set, unsigned n)
{
        int c = cpuset_next(set, 0);

        for (; c >= 0 && n > 0; n--)
                c = cpuset_next(set, (unsigned)c + 1);
        return c;
}

bool cpuset_subset(const struct cpuset *a, const struct cpuset *b)
{
        for (size_t i = 0; i < ELEMENTSOF(a->bits); i++)
                if (a->bits[i] & ~b->bits[i])
                        return false;
        return true;
}

bool cpuset_overlaps(const struct cpuset *a, const struct cpuset *b)
{
        for (size_t i = 0; i < ELEMENTSOF(a->bits); i++)
                if (a->bits[i] & b->bits[i])
                        return true;
        return false;
}

void cpuset_minus(const struct cpuset *a, const struct cpuset *b, struct cpuset *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(a->bits); i++)
                ret->bits[i] = a->bits[i] & ~b->bits[i];
}

bool cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
        return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}
