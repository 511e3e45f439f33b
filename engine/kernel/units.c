/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "kernel/macro.h"
#include "kernel/units.h"

struct unit_factor {
        const char *suffix;
        uint64_t factor;
};

/* Descending, and each suffix may appear once: "1G 512M" is fine, "512M 1G" and "1G 1G" are not (as systemd).
 * The empty suffix comes last and matches a bare number. */
static const struct unit_factor size_iec[] = {
        {"E", 1ULL << 60}, {"P", 1ULL << 50}, {"T", 1ULL << 40}, {"G", 1ULL << 30},
        {"M", 1ULL << 20}, {"K", 1ULL << 10}, {"B", 1},          {"", 1},
};

static const struct unit_factor size_si[] = {
        {"E", 1000000000000000000ULL},
        {"P", 1000000000000000ULL},
        {"T", 1000000000000ULL},
        {"G", 1000000000ULL},
        {"M", 1000000ULL},
        {"K", 1000ULL},
        {"B", 1},
        {"", 1},
};

#define USEC_PER_MINUTE (60ULL * UNITS_USEC_PER_SEC)
#define USEC_PER_HOUR   (60ULL * USEC_PER_MINUTE)
#define USEC_PER_DAY    (24ULL * USEC_PER_HOUR)
#define USEC_PER_WEEK   (7ULL * USEC_PER_DAY)
#define USEC_PER_MONTH  (2629800ULL * UNITS_USEC_PER_SEC)  /* systemd: 30.44 days */
#define USEC_PER_YEAR   (31557600ULL * UNITS_USEC_PER_SEC) /* systemd: 365.25 days */

/* Longer spellings before their prefixes ("msec" before "ms" before "m"), as matching is by prefix. */
static const struct unit_factor time_units[] = {
        {"seconds", UNITS_USEC_PER_SEC},
        {"second", UNITS_USEC_PER_SEC},
        {"sec", UNITS_USEC_PER_SEC},
        {"s", UNITS_USEC_PER_SEC},
        {"minutes", USEC_PER_MINUTE},
        {"minute", USEC_PER_MINUTE},
        {"min", USEC_PER_MINUTE},
        {"months", USEC_PER_MONTH},
        {"month", USEC_PER_MONTH},
        {"M", USEC_PER_MONTH},
        {"msec", 1000ULL},
        {"ms", 1000ULL},
        {"m", USEC_PER_MINUTE},
        {"hours", USEC_PER_HOUR},
        {"hour", USEC_PER_HOUR},
        {"hr", USEC_PER_HOUR},
        {"h", USEC_PER_HOUR},
        {"days", USEC_PER_DAY},
        {"day", USEC_PER_DAY},
        {"d", USEC_PER_DAY},
        {"weeks", USEC_PER_WEEK},
        {"week", USEC_PER_WEEK},
        {"w", USEC_PER_WEEK},
        {"years", USEC_PER_YEAR},
        {"year", USEC_PER_YEAR},
        {"y", USEC_PER_YEAR},
        {"usec", 1ULL},
        {"us", 1ULL},
        {"\xce\xbcs", 1ULL},      /* U+03BC GREEK SMALL LETTER MU */
        {"\xc2\xb5s", 1ULL},      /* U+00B5 MICRO SIGN */
        {"", UNITS_USEC_PER_SEC}, /* a bare number is seconds */
};

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t';
}

static const char *startswith(const char *s, const char *prefix)
{
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/*
 * One decimal number "DIGITS[.DIGITS]" at *p. The integer part is required; the fraction is kept as
 * numerator/denominator (at most 18 digits count, the rest are dropped: rounding down) so that scaling by a
 * unit is exact integer arithmetic, not a double as in systemd.
 */
struct decimal {
        uint64_t whole;
        uint64_t frac_num;
        uint64_t frac_den; /* 10^digits, 1 when there is no fraction */
};

static int decimal_parse(const char **p, struct decimal *ret)
{
        const char *s = *p;
        struct decimal d = {.frac_den = 1};

        if (!is_digit(*s))
                return -EINVAL;
        for (; is_digit(*s); s++) {
                if (__builtin_mul_overflow(d.whole, 10, &d.whole) ||
                    __builtin_add_overflow(d.whole, (uint64_t)(*s - '0'), &d.whole))
                        return -ERANGE;
        }
        if (*s == '.') {
                s++;
                /* systemd accepts "10.M": an empty fraction. */
                for (; is_digit(*s); s++) {
                        if (d.frac_den >= 1000000000000000000ULL)
                                continue;
                        d.frac_num = d.frac_num * 10 + (uint64_t)(*s - '0');
                        d.frac_den *= 10;
                }
        }
        *p = s;
        *ret = d;
        return 0;
}

/* d × factor, rounded down; -ERANGE past uint64. */
static int decimal_scale(const struct decimal *d, uint64_t factor, uint64_t *ret)
{
        unsigned __int128 v = (unsigned __int128)d->whole * factor;
        v += (unsigned __int128)d->frac_num * factor / d->frac_den;
        if (v > UINT64_MAX)
                return -ERANGE;
        *ret = (uint64_t)v;
        return 0;
}

/*
 * systemd's parse_size() and parse_time(): components "N[.F][ ]SUFFIX", summed ("1G 512M", "1s 500ms").
 * The empty suffix, last in each table, matches a bare number. With descending, each suffix must come after
 * the previous one in the table, so "512M 1G" and "1G 1G" are refused as in parse_size().
 */
static int parse_components(const char *s, const struct unit_factor *table, size_t n, bool descending, uint64_t *ret)
{
        uint64_t sum = 0;
        size_t start = 0;
        const char *p = s;
        int r;

        if (!s || !is_digit(*s))
                return -EINVAL;
        do {
                struct decimal d;
                uint64_t v;
                size_t i;

                p += strspn(p, " \t");
                r = decimal_parse(&p, &d);
                if (r < 0)
                        return r;
                p += strspn(p, " \t");
                for (i = start; i < n; i++)
                        if (startswith(p, table[i].suffix))
                                break;
                if (i >= n)
                        return -EINVAL;
                r = decimal_scale(&d, table[i].factor, &v);
                if (r < 0)
                        return r;
                if (__builtin_add_overflow(sum, v, &sum))
                        return -ERANGE;
                p += strlen(table[i].suffix);
                if (descending)
                        start = i + 1;
        } while (*p);

        /* Blanks are separators only: "1G " or "1 " ends in one. */
        if (is_space(p[-1]))
                return -EINVAL;
        *ret = sum;
        return 0;
}

bool units_is_infinity(const char *s)
{
        return s && (strcmp(s, "infinity") == 0 || strcmp(s, "max") == 0);
}

int units_parse_size(const char *s, uint64_t *ret_bytes)
{
        return parse_components(s, size_iec, ELEMENTSOF(size_iec), true, ret_bytes);
}

int units_parse_size_si(const char *s, uint64_t *ret)
{
        return parse_components(s, size_si, ELEMENTSOF(size_si), true, ret);
}

int units_parse_bitrate(const char *s, uint64_t *ret_bits_per_sec)
{
        static const struct unit_factor rates[] = {
                /* tc(8) spellings, matched case-insensitively and whole. */
                {"tbit", 1000000000000ULL},
                {"gbit", 1000000000ULL},
                {"mbit", 1000000ULL},
                {"kbit", 1000ULL},
                {"bit", 1ULL},
                /* systemd-style single letters, upper case as parse_size. */
                {"T", 1000000000000ULL},
                {"G", 1000000000ULL},
                {"M", 1000000ULL},
                {"K", 1000ULL},
                {"", 1ULL},
        };
        const char *p = s;
        struct decimal d;
        int r;

        if (!s)
                return -EINVAL;
        r = decimal_parse(&p, &d);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(rates); i++) {
                bool match = strlen(rates[i].suffix) > 1 ? strcasecmp(p, rates[i].suffix) == 0
                                                         : strcmp(p, rates[i].suffix) == 0;
                if (match)
                        return decimal_scale(&d, rates[i].factor, ret_bits_per_sec);
        }
        return -EINVAL;
}

int units_parse_percent(const char *s, uint64_t max_permyriad, uint64_t *ret_permyriad)
{
        /* systemd's parse_permyriad(): "N%" with up to two decimals, "N‰" with one, "N‱" with none; the
         * decimals allowed make each form count in permyriad. */
        static const struct {
                const char *symbol;
                unsigned decimals;
        } forms[] = {
                {"%", 2},
                {"\xe2\x80\xb0", 1}, /* ‰ U+2030: tenths of a permille are permyriad */
                {"\xe2\x80\xb1", 0}, /* ‱ U+2031 */
        };
        uint64_t whole = 0, v;
        const char *p = s;

        if (!s || !is_digit(*p))
                return -EINVAL;
        for (; is_digit(*p); p++) {
                if (__builtin_mul_overflow(whole, 10, &whole) ||
                    __builtin_add_overflow(whole, (uint64_t)(*p - '0'), &whole))
                        return -ERANGE;
        }

        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                const char *q = p;
                uint64_t frac = 0, mult = 1;
                unsigned k;

                for (k = 0; k < forms[i].decimals; k++)
                        mult *= 10;
                if (*q == '.') {
                        q++;
                        for (k = 0; k < forms[i].decimals && is_digit(*q); k++, q++)
                                frac = frac * 10 + (uint64_t)(*q - '0');
                        if (k == 0)
                                continue; /* "5.%" is not a number */
                        for (; k < forms[i].decimals; k++)
                                frac *= 10;
                }
                if (strcmp(q, forms[i].symbol) != 0)
                        continue;
                if (__builtin_mul_overflow(whole, mult, &v) || __builtin_add_overflow(v, frac, &v))
                        return -ERANGE;
                if (v > max_permyriad)
                        return -ERANGE;
                *ret_permyriad = v;
                return 0;
        }
        return -EINVAL;
}

int units_parse_memory_limit(const char *s, uint64_t physical_memory, uint64_t *ret_bytes)
{
        uint64_t permyriad, bytes;
        int r;

        if (units_is_infinity(s)) {
                *ret_bytes = UINT64_MAX;
                return 0;
        }

        /* As systemd's config_parse_memory_limit(): a percentage first, then a size. */
        r = units_parse_percent(s, UNITS_PERMYRIAD_100, &permyriad);
        if (r == -ERANGE)
                return r;
        if (r == 0)
                bytes = (uint64_t)((unsigned __int128)physical_memory * permyriad / UNITS_PERMYRIAD_100);
        else {
                r = units_parse_size(s, &bytes);
                if (r < 0)
                        return r;
        }
        /* 0 would freeze the VM; UINT64_MAX is reserved for "no limit". */
        if (bytes == 0 || bytes == UINT64_MAX)
                return -ERANGE;
        *ret_bytes = bytes;
        return 0;
}

int units_parse_duration(const char *s, uint64_t *ret_usec)
{
        return parse_components(s, time_units, ELEMENTSOF(time_units), false, ret_usec);
}

int units_parse_uint_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;
        const char *p = s;

        if (!s || !is_digit(*p))
                return -EINVAL;
        /* No octal surprises: "010" is refused rather than read as 8 (strtoul base 0) or 10. */
        if (p[0] == '0' && p[1] != '\0')
                return -EINVAL;
        for (; is_digit(*p); p++) {
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
                        return -ERANGE;
        }
        if (*p)
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int units_parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = {"1", "yes", "y", "true", "t", "on"};
        static const char *const no[] = {"0", "no", "n", "false", "f", "off"};

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}
