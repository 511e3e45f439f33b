/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "kernel/macro.h"
#include "kernel/units.h"

#define SENTINEL 0xdeadbeefcafef00dULL

struct u64_case {
        const char *in;
        int r;
        uint64_t out;
};

typedef int (*u64_parser)(const char *s, uint64_t *ret);

/* Each case: the result, the value on success, and that ret is untouched on failure. */
static void run_u64_cases(u64_parser parse, const struct u64_case *cases, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                uint64_t v = SENTINEL;
                int r = parse(cases[i].in, &v);
                if (r != cases[i].r || (r == 0 && v != cases[i].out) || (r != 0 && v != SENTINEL))
                        fail_msg("\"%s\": got r=%d v=%llu, want r=%d v=%llu", cases[i].in ? cases[i].in : "(null)", r,
                                 (unsigned long long)v, cases[i].r, (unsigned long long)cases[i].out);
        }
}

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define TiB (1024ULL * GiB)

static void test_infinity(void **state)
{
        assert_true(units_is_infinity("infinity"));
        assert_true(units_is_infinity("max"));
        assert_false(units_is_infinity("Infinity"));
        assert_false(units_is_infinity("inf"));
        assert_false(units_is_infinity(" max"));
        assert_false(units_is_infinity("max "));
        assert_false(units_is_infinity(""));
        assert_false(units_is_infinity(NULL));
}

static void test_size(void **state)
{
        static const struct u64_case cases[] = {
                {"0", 0, 0},
                {"4096", 0, 4096},
                {"512B", 0, 512},
                {"1K", 0, KiB},
                {"4K", 0, 4 * KiB},
                {"1M", 0, MiB},
                {"4G", 0, 4 * GiB},
                {"2T", 0, 2 * TiB},
                {"1P", 0, 1024 * TiB},
                {"1E", 0, 1ULL << 60},
                {"15E", 0, 15ULL << 60},
                {"1.5G", 0, GiB + GiB / 2},
                {"1.5K", 0, 1536},
                {"0.5B", 0, 0},        /* rounded down */
                {"1.0001K", 0, 1024},  /* 1024.1024 → 1024 */
                {"10.M", 0, 10 * MiB}, /* systemd accepts an empty fraction */
                {"1G 512M", 0, GiB + 512 * MiB},
                {"1G512M", 0, GiB + 512 * MiB},
                {"1 G", 0, GiB},
                {"1G 1", 0, GiB + 1},
                {"18446744073709551615", 0, UINT64_MAX},
                {"15.999999999999999999E", 0, 0xfffffffffffffffeULL}, /* fraction past 18 digits dropped */
                /* errors */
                {"", -EINVAL, 0},
                {NULL, -EINVAL, 0},
                {" 1G", -EINVAL, 0},
                {"1G ", -EINVAL, 0},
                {"1 ", -EINVAL, 0},
                {"-1", -EINVAL, 0},
                {"+1", -EINVAL, 0},
                {"G", -EINVAL, 0},
                {".5G", -EINVAL, 0},
                {"1g", -EINVAL, 0},
                {"1KB", -EINVAL, 0},
                {"1Ki", -EINVAL, 0},
                {"1X", -EINVAL, 0},
                {"512M 1G", -EINVAL, 0}, /* ascending */
                {"1G 1G", -EINVAL, 0},   /* repeated */
                {"1 2", -EINVAL, 0},
                {"0x10", -EINVAL, 0},
                {"infinity", -EINVAL, 0},
                {"1e3", -EINVAL, 0},
                {"18446744073709551616", -ERANGE, 0},
                {"16E", -ERANGE, 0},
                {"17179869184G", -ERANGE, 0},
                {"15E 1024P", -ERANGE, 0}, /* the sum overflows */
                {"99999999999999999999999", -ERANGE, 0},
        };
        run_u64_cases(units_parse_size, cases, ELEMENTSOF(cases));
}

static void test_size_si(void **state)
{
        static const struct u64_case cases[] = {
                {"50M", 0, 50000000},
                {"1K", 0, 1000},
                {"1.5K", 0, 1500},
                {"2G", 0, 2000000000},
                {"1T", 0, 1000000000000ULL},
                {"1000", 0, 1000},
                {"100B", 0, 100},
                {"1G 500M", 0, 1500000000},
                {"18E", 0, 18000000000000000000ULL},
                {"19E", -ERANGE, 0},
                {"50m", -EINVAL, 0},
                {"50MB", -EINVAL, 0},
                {"", -EINVAL, 0},
                {" 50M", -EINVAL, 0},
        };
        run_u64_cases(units_parse_size_si, cases, ELEMENTSOF(cases));
}

static void test_bitrate(void **state)
{
        static const struct u64_case cases[] = {
                {"100M", 0, 100000000},
                {"100", 0, 100},
                {"1K", 0, 1000},
                {"1.5G", 0, 1500000000},
                {"2T", 0, 2000000000000ULL},
                {"100mbit", 0, 100000000},
                {"100Mbit", 0, 100000000},
                {"100MBIT", 0, 100000000},
                {"64kbit", 0, 64000},
                {"1gbit", 0, 1000000000},
                {"1tbit", 0, 1000000000000ULL},
                {"800bit", 0, 800},
                {"2.5gbit", 0, 2500000000ULL},
                {"18446744073709551615", 0, UINT64_MAX},
                {"100m", -EINVAL, 0}, /* single letters are upper case, as systemd */
                {"100k", -EINVAL, 0},
                {"100mbps", -EINVAL, 0}, /* bytes or bits? refused */
                {"100bps", -EINVAL, 0},
                {"100 M", -EINVAL, 0},
                {"100M ", -EINVAL, 0},
                {"M", -EINVAL, 0},
                {"", -EINVAL, 0},
                {NULL, -EINVAL, 0},
                {"-1M", -EINVAL, 0},
                {"100Mi", -EINVAL, 0},
                {"20000000T", -ERANGE, 0},
                {"18446744073709551616", -ERANGE, 0},
        };
        run_u64_cases(units_parse_bitrate, cases, ELEMENTSOF(cases));
}

static int parse_percent_unbounded(const char *s, uint64_t *ret)
{
        return units_parse_percent(s, UINT64_MAX, ret);
}

static int parse_percent_100(const char *s, uint64_t *ret)
{
        return units_parse_percent(s, UNITS_PERMYRIAD_100, ret);
}

static void test_percent(void **state)
{
        static const struct u64_case unbounded[] = {
                {"150%", 0, 15000},
                {"100%", 0, 10000},
                {"0%", 0, 0},
                {"12.5%", 0, 1250},
                {"12.25%", 0, 1225},
                {"0.01%", 0, 1},
                {"0.1%", 0, 10},
                {"400%", 0, 40000},
                {"100000%", 0, 10000000},
                {"5\xe2\x80\xb0", 0, 50},   /* 5‰ */
                {"2.5\xe2\x80\xb0", 0, 25}, /* 2.5‰ */
                {"7\xe2\x80\xb1", 0, 7},    /* 7‱ */
                {"12.345%", -EINVAL, 0},
                {"12.%", -EINVAL, 0},
                {".5%", -EINVAL, 0},
                {"1.25\xe2\x80\xb0", -EINVAL, 0},
                {"1.5\xe2\x80\xb1", -EINVAL, 0},
                {"150", -EINVAL, 0},
                {"150 %", -EINVAL, 0},
                {" 150%", -EINVAL, 0},
                {"150% ", -EINVAL, 0},
                {"-5%", -EINVAL, 0},
                {"+5%", -EINVAL, 0},
                {"%", -EINVAL, 0},
                {"", -EINVAL, 0},
                {NULL, -EINVAL, 0},
                {"5%%", -EINVAL, 0},
                {"1e2%", -EINVAL, 0},
                {"184467440737095516%", 0, 18446744073709551600ULL},
                {"184467440737095517%", -ERANGE, 0},
                {"99999999999999999999%", -ERANGE, 0},
        };
        static const struct u64_case bounded[] = {
                {"50%", 0, 5000},        {"100%", 0, 10000},   {"100.00%", 0, 10000},
                {"100.01%", -ERANGE, 0}, {"150%", -ERANGE, 0},
        };
        run_u64_cases(parse_percent_unbounded, unbounded, ELEMENTSOF(unbounded));
        run_u64_cases(parse_percent_100, bounded, ELEMENTSOF(bounded));
}

static int parse_memory_16g(const char *s, uint64_t *ret)
{
        return units_parse_memory_limit(s, 16 * GiB, ret);
}

static void test_memory_limit(void **state)
{
        static const struct u64_case cases[] = {
                {"4G", 0, 4 * GiB},
                {"512M", 0, 512 * MiB},
                {"1", 0, 1},
                {"50%", 0, 8 * GiB},
                {"100%", 0, 16 * GiB},
                {"0.01%", 0, 16 * GiB / 10000},
                {"infinity", 0, UINT64_MAX},
                {"max", 0, UINT64_MAX},
                {"0", -ERANGE, 0},
                {"0%", -ERANGE, 0},
                {"101%", -ERANGE, 0},
                {"18446744073709551615", -ERANGE, 0}, /* would read as "no limit" */
                {"16E", -ERANGE, 0},
                {"4g", -EINVAL, 0},
                {"Infinity", -EINVAL, 0},
                {"", -EINVAL, 0},
                {NULL, -EINVAL, 0},
                {"50 %", -EINVAL, 0},
        };
        run_u64_cases(parse_memory_16g, cases, ELEMENTSOF(cases));

        uint64_t v = SENTINEL;
        /* A tiny host: 0.01% of 4 KiB is 0 bytes, refused rather than freezing the VM. */
        assert_int_equal(units_parse_memory_limit("0.01%", 4096, &v), -ERANGE);
        assert_int_equal(v, SENTINEL);
        /* No overflow in the scaling of a huge "physical memory". */
        assert_int_equal(units_parse_memory_limit("50%", UINT64_MAX - 1, &v), 0);
        assert_int_equal(v, (UINT64_MAX - 1) / 2);
}

#define MSEC 1000ULL
#define SEC  1000000ULL

static void test_duration(void **state)
{
        static const struct u64_case cases[] = {
                {"1", 0, SEC},
                {"0", 0, 0},
                {"1s", 0, SEC},
                {"100ms", 0, 100 * MSEC},
                {"500us", 0, 500},
                {"2min", 0, 120 * SEC},
                {"1h", 0, 3600 * SEC},
                {"1hr", 0, 3600 * SEC},
                {"2m", 0, 120 * SEC},
                {"1d", 0, 86400 * SEC},
                {"1w", 0, 7 * 86400 * SEC},
                {"1M", 0, 2629800 * SEC},
                {"1y", 0, 31557600 * SEC},
                {"1.5s", 0, 1500 * MSEC},
                {"0.5", 0, 500 * MSEC},
                {"2.5ms", 0, 2500},
                {"1.0000001s", 0, SEC}, /* below 1 µs: rounded down */
                {"1s 500ms", 0, 1500 * MSEC},
                {"1s500ms", 0, 1500 * MSEC},
                {"1min 30s", 0, 90 * SEC},
                {"1 s", 0, SEC},
                {"3 seconds", 0, 3 * SEC},
                {"1second", 0, SEC},
                {"5sec", 0, 5 * SEC},
                {"5msec", 0, 5 * MSEC},
                {"5usec", 0, 5},
                {"5\xc2\xb5s", 0, 5}, /* µs, micro sign */
                {"5\xce\xbcs", 0, 5}, /* μs, Greek mu */
                {"2minutes", 0, 120 * SEC},
                {"2 hours", 0, 7200 * SEC},
                {"1 500ms", 0, 1500 * MSEC}, /* bare numbers are seconds anywhere, as systemd */
                {"1months", 0, 2629800 * SEC},
                {"", -EINVAL, 0},
                {NULL, -EINVAL, 0},
                {" 1s", -EINVAL, 0},
                {"1s ", -EINVAL, 0},
                {"-1s", -EINVAL, 0},
                {"1x", -EINVAL, 0},
                {"1sx", -EINVAL, 0},
                {"1mon", -EINVAL, 0},
                {"s", -EINVAL, 0},
                {"1ns", -EINVAL, 0},
                {"1S", -EINVAL, 0},
                {".5s", -EINVAL, 0},
                {"infinity", -EINVAL, 0},
                {"1s, 2s", -EINVAL, 0},
                {"18446744073709551615", -ERANGE, 0},
                {"584942y", -ERANGE, 0},
                {"18446744073709s", 0, 18446744073709ULL * SEC},
                {"18446744073710s", -ERANGE, 0},
                {"18446744073709s 1s", -ERANGE, 0},
        };
        run_u64_cases(units_parse_duration, cases, ELEMENTSOF(cases));
}

static void test_uint_range(void **state)
{
        static const struct {
                const char *in;
                uint64_t min, max;
                int r;
                uint64_t out;
        } cases[] = {
                {"1", 1, 10000, 0, 1},
                {"100", 1, 10000, 0, 100},
                {"10000", 1, 10000, 0, 10000},
                {"0", 0, 10, 0, 0},
                {"18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX},
                {"0", 1, 10000, -ERANGE, 0},
                {"10001", 1, 10000, -ERANGE, 0},
                {"18446744073709551616", 0, UINT64_MAX, -ERANGE, 0},
                {"010", 0, 100, -EINVAL, 0},
                {"00", 0, 100, -EINVAL, 0},
                {"0x10", 0, 100, -EINVAL, 0},
                {"-1", 0, 100, -EINVAL, 0},
                {"+1", 0, 100, -EINVAL, 0},
                {" 1", 0, 100, -EINVAL, 0},
                {"1 ", 0, 100, -EINVAL, 0},
                {"1K", 0, 10000, -EINVAL, 0},
                {"1.0", 0, 100, -EINVAL, 0},
                {"", 0, 100, -EINVAL, 0},
                {NULL, 0, 100, -EINVAL, 0},
                {"idle", 1, 10000, -EINVAL, 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = SENTINEL;
                int r = units_parse_uint_range(cases[i].in, cases[i].min, cases[i].max, &v);
                if (r != cases[i].r || (r == 0 && v != cases[i].out) || (r != 0 && v != SENTINEL))
                        fail_msg("case %zu \"%s\": r=%d", i, cases[i].in ? cases[i].in : "(null)", r);
        }
}

static void test_bool(void **state)
{
        static const char *const yes[] = {"1", "yes", "YES", "Yes", "y", "true", "True", "t", "on", "ON"};
        static const char *const no[] = {"0", "no", "NO", "n", "false", "FALSE", "f", "off", "Off"};
        static const char *const bad[] = {"", "2", "yess", " yes", "yes ", "enabled", "-1", "o", "nope"};
        bool b;

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                b = false;
                assert_int_equal(units_parse_bool(yes[i], &b), 0);
                assert_true(b);
        }
        for (size_t i = 0; i < ELEMENTSOF(no); i++) {
                b = true;
                assert_int_equal(units_parse_bool(no[i], &b), 0);
                assert_false(b);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                b = true;
                assert_int_equal(units_parse_bool(bad[i], &b), -EINVAL);
                assert_true(b);
        }
        assert_int_equal(units_parse_bool(NULL, &b), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_infinity), cmocka_unit_test(test_size),       cmocka_unit_test(test_size_si),
                cmocka_unit_test(test_bitrate),  cmocka_unit_test(test_percent),    cmocka_unit_test(test_memory_limit),
                cmocka_unit_test(test_duration), cmocka_unit_test(test_uint_range), cmocka_unit_test(test_bool),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
