/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/cgvalues.h"
#include "kernel/macro.h"

#define SENTINEL 0xdeadbeefcafef00dULL

/* A formatter's output must fit exactly: with room for the NUL it succeeds, one byte less is -ENOBUFS. */
#define assert_format(call_with_buf_size, expect)                                                                      \
        do {                                                                                                           \
                char _b[CGV_VALUE_MAX];                                                                                \
                size_t _n = strlen(expect);                                                                            \
                size_t size = sizeof(_b);                                                                              \
                char *buf = _b;                                                                                        \
                assert_int_equal((call_with_buf_size), (int)_n);                                                       \
                assert_string_equal(buf, (expect));                                                                    \
                size = _n + 1;                                                                                         \
                assert_int_equal((call_with_buf_size), (int)_n);                                                       \
                size = _n;                                                                                             \
                assert_int_equal((call_with_buf_size), -ENOBUFS);                                                      \
                size = 0;                                                                                              \
                assert_int_equal((call_with_buf_size), -ENOBUFS);                                                      \
        } while (0)

static void test_u64(void **state)
{
        static const struct {
                const char *in;
                int r, r_max;
                uint64_t out;
        } cases[] = {
                {"0", 0, 0, 0},
                {"42\n", 0, 0, 42},
                {"18446744073709551615\n", 0, 0, UINT64_MAX},
                {"max\n", -EINVAL, 0, LIMIT_MAX},
                {"max", -EINVAL, 0, LIMIT_MAX},
                {"18446744073709551616", -ERANGE, -ERANGE, 0},
                {"", -EINVAL, -EINVAL, 0},
                {"\n", -EINVAL, -EINVAL, 0},
                {"42\n\n", -EINVAL, -EINVAL, 0},
                {"42 ", -EINVAL, -EINVAL, 0},
                {" 42", -EINVAL, -EINVAL, 0},
                {"-1", -EINVAL, -EINVAL, 0},
                {"4K", -EINVAL, -EINVAL, 0},
                {"maximum", -EINVAL, -EINVAL, 0},
                {"Max", -EINVAL, -EINVAL, 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = SENTINEL, w = SENTINEL;
                int r = cgv_parse_u64(cases[i].in, &v);
                int r2 = cgv_parse_u64_or_max(cases[i].in, &w);
                if (r != cases[i].r || (r == 0 ? v != cases[i].out : v != SENTINEL))
                        fail_msg("u64 case %zu: r=%d", i, r);
                if (r2 != cases[i].r_max || (r2 == 0 ? w != cases[i].out : w != SENTINEL))
                        fail_msg("u64_or_max case %zu: r=%d", i, r2);
        }
        uint64_t v;
        assert_int_equal(cgv_parse_u64(NULL, &v), -EINVAL);
        assert_int_equal(cgv_parse_u64_or_max(NULL, &v), -EINVAL);

        assert_format(cgv_format_u64(0, buf, size), "0");
        assert_format(cgv_format_u64(UINT64_MAX, buf, size), "18446744073709551615");
        assert_format(cgv_format_u64_or_max(LIMIT_MAX, buf, size), "max");
        assert_format(cgv_format_u64_or_max(4096, buf, size), "4096");
        assert_int_equal(cgv_format_u64(1, NULL, 10), -ENOBUFS);
}

static void test_cpu_max(void **state)
{
        static const struct {
                const char *in;
                int r;
                uint64_t quota, period;
        } cases[] = {
                {"max 100000\n", 0, LIMIT_MAX, 100000},
                {"max 100000", 0, LIMIT_MAX, 100000},
                {"150000 100000\n", 0, 150000, 100000},
                {"1000 1000", 0, 1000, 1000},
                {"", -EINVAL, 0, 0},
                {"max", -EINVAL, 0, 0},
                {"max\n", -EINVAL, 0, 0},
                {"150000", -EINVAL, 0, 0},
                {"150000  100000", -EINVAL, 0, 0},
                {"150000\t100000", -EINVAL, 0, 0},
                {"150000 max", -EINVAL, 0, 0},
                {"150000 100000 1", -EINVAL, 0, 0},
                {"150000 100000\n\n", -EINVAL, 0, 0},
                {" 150000 100000", -EINVAL, 0, 0},
                {"-1 100000", -EINVAL, 0, 0},
                {"18446744073709551616 100000", -ERANGE, 0, 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t q = SENTINEL, p = SENTINEL;
                int r = cgv_parse_cpu_max(cases[i].in, &q, &p);
                if (r != cases[i].r || (r == 0 && (q != cases[i].quota || p != cases[i].period)) ||
                    (r != 0 && (q != SENTINEL || p != SENTINEL)))
                        fail_msg("case %zu \"%s\": r=%d", i, cases[i].in, r);
        }

        assert_format(cgv_format_cpu_max(150000, 100000, buf, size), "150000 100000");
        assert_format(cgv_format_cpu_max(LIMIT_MAX, 100000, buf, size), "max 100000");
        assert_format(cgv_format_cpu_max(UINT64_MAX - 1, 1000000, buf, size), "18446744073709551614 1000000");
        char b[CGV_VALUE_MAX];
        assert_int_equal(cgv_format_cpu_max(1000, LIMIT_MAX, b, sizeof(b)), -EINVAL);

        /* Round trip. */
        const uint64_t quotas[] = {1000, 20000, 150000, LIMIT_MAX};
        for (size_t i = 0; i < ELEMENTSOF(quotas); i++) {
                uint64_t q, p;
                assert_true(cgv_format_cpu_max(quotas[i], 100000, b, sizeof(b)) > 0);
                assert_int_equal(cgv_parse_cpu_max(b, &q, &p), 0);
                assert_int_equal(q, quotas[i]);
                assert_int_equal(p, 100000);
        }
}

static void test_cpu_quota_from_permyriad(void **state)
{
        static const struct {
                uint64_t permyriad, period;
                int r;
                uint64_t quota_out, period_out;
        } cases[] = {
                {15000, 0, 0, 150000, 100000},         /* CPUQuota=150% → "150000 100000" */
                {2000, 0, 0, 20000, 100000},           /* 20% */
                {20000, 0, 0, 200000, 100000},         /* 200%: 2 CPUs */
                {10000, 100000, 0, 100000, 100000},    /* 100% */
                {1250, 0, 0, 12500, 100000},           /* 12.5% */
                {1, 0, 0, 1000, 1000000},              /* 0.01%: period capped at 1 s, quota floored at 1 ms */
                {50, 0, 0, 1000, 200000},              /* 0.5%: period grows to keep 1 ms of quota */
                {100, 0, 0, 1000, 100000},             /* 1%: exactly 1 ms per 100 ms */
                {3333, 0, 0, 33330, 100000},           /* 33.33% rounds down */
                {15000, 10000, 0, 15000, 10000},       /* CPUQuotaPeriodSec=10ms */
                {1000, 1000, 0, 1000, 10000},          /* 10% at 1 ms: systemd's "2.5 ms" style growth */
                {4000, 1000, 0, 1000, 2500},           /* 40% at 1 ms → 2.5 ms (systemd's test) */
                {15000, 500, 0, 1500, 1000},           /* period below 1 ms → 1 ms */
                {15000, 5000000, 0, 1500000, 1000000}, /* period above 1 s → 1 s */
                {1000000, 1000, 0, 100000, 1000},      /* 10000%, 1 ms kept */
                {0, 0, -EINVAL, 0, 0},
                {UINT64_MAX, 0, -ERANGE, 0, 0},
                {UINT64_MAX / 100, 0, -ERANGE, 0, 0}, /* past the kernel's MAX_BW */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t q = SENTINEL, p = SENTINEL;
                int r = cgv_cpu_quota_from_permyriad(cases[i].permyriad, cases[i].period, &q, &p);
                if (r != cases[i].r || (r == 0 && (q != cases[i].quota_out || p != cases[i].period_out)) ||
                    (r != 0 && (q != SENTINEL || p != SENTINEL)))
                        fail_msg("case %zu (%llu, %llu): r=%d q=%llu p=%llu", i, (unsigned long long)cases[i].permyriad,
                                 (unsigned long long)cases[i].period, r, (unsigned long long)q, (unsigned long long)p);
        }

        /* The end-to-end string of issue 2. */
        uint64_t q, p;
        char b[CGV_VALUE_MAX];
        assert_int_equal(cgv_cpu_quota_from_permyriad(15000, 0, &q, &p), 0);
        assert_int_equal(cgv_format_cpu_max(q, p, b, sizeof(b)), 13);
        assert_string_equal(b, "150000 100000");
}

static void test_cpu_weight_idle(void **state)
{
        uint64_t w = SENTINEL;
        bool idle = false;

        assert_format(cgv_format_cpu_weight(100, buf, size), "100");
        assert_format(cgv_format_cpu_weight(10000, buf, size), "10000");
        assert_format(cgv_format_cpu_weight(1, buf, size), "1");
        char b[CGV_VALUE_MAX];
        assert_int_equal(cgv_format_cpu_weight(0, b, sizeof(b)), -ERANGE);
        assert_int_equal(cgv_format_cpu_weight(10001, b, sizeof(b)), -ERANGE);

        assert_int_equal(cgv_parse_cpu_weight("100\n", &w), 0);
        assert_int_equal(w, 100);
        w = SENTINEL;
        assert_int_equal(cgv_parse_cpu_weight("0\n", &w), -ERANGE);
        assert_int_equal(cgv_parse_cpu_weight("10001\n", &w), -ERANGE);
        assert_int_equal(cgv_parse_cpu_weight("max\n", &w), -EINVAL);
        assert_int_equal(cgv_parse_cpu_weight("", &w), -EINVAL);
        assert_int_equal(w, SENTINEL);

        assert_format(cgv_format_cpu_idle(true, buf, size), "1");
        assert_format(cgv_format_cpu_idle(false, buf, size), "0");
        assert_int_equal(cgv_parse_cpu_idle("1\n", &idle), 0);
        assert_true(idle);
        assert_int_equal(cgv_parse_cpu_idle("0\n", &idle), 0);
        assert_false(idle);
        idle = true;
        assert_int_equal(cgv_parse_cpu_idle("2\n", &idle), -ERANGE);
        assert_int_equal(cgv_parse_cpu_idle("yes", &idle), -EINVAL);
        assert_true(idle);
}

static void test_memory(void **state)
{
        uint64_t v = SENTINEL;

        assert_format(cgv_format_memory(LIMIT_MAX, buf, size), "max");
        assert_format(cgv_format_memory(4294967296ULL, buf, size), "4294967296");
        assert_int_equal(cgv_parse_memory("max\n", &v), 0);
        assert_int_equal(v, LIMIT_MAX);
        assert_int_equal(cgv_parse_memory("4294967296\n", &v), 0);
        assert_int_equal(v, 4294967296ULL);
        v = SENTINEL;
        assert_int_equal(cgv_parse_memory("4G\n", &v), -EINVAL);
        assert_int_equal(cgv_parse_memory("infinity\n", &v), -EINVAL);
        assert_int_equal(v, SENTINEL);

        /* The kernel keeps pages: 1,000,000 bytes reads back as 999,424 with 4 KiB pages. */
        assert_int_equal(cgv_memory_effective(1000000, 4096), 999424);
        assert_int_equal(cgv_memory_effective(4096, 4096), 4096);
        assert_int_equal(cgv_memory_effective(4095, 4096), 0);
        assert_int_equal(cgv_memory_effective(1000000, 65536), 983040);
        assert_int_equal(cgv_memory_effective(LIMIT_MAX, 4096), LIMIT_MAX);
        assert_int_equal(cgv_memory_effective(1000000, 0), 1000000);
        /* At or past PAGE_COUNTER_MAX pages the file says "max". */
        const uint64_t counter_max = (uint64_t)__LONG_MAX__ / 4096;
        assert_int_equal(cgv_memory_effective(counter_max * 4096, 4096), LIMIT_MAX);
        assert_int_equal(cgv_memory_effective((counter_max - 1) * 4096, 4096), (counter_max - 1) * 4096);
        assert_int_equal(cgv_memory_effective(UINT64_MAX - 1, 4096), LIMIT_MAX);

        assert_true(cgv_memory_equal(1000000, 999424, 4096));
        assert_false(cgv_memory_equal(1000000, 1003520, 4096));
        assert_false(cgv_memory_equal(1000000, LIMIT_MAX, 4096));
        assert_true(cgv_memory_equal(LIMIT_MAX, LIMIT_MAX, 4096));
        assert_true(cgv_memory_equal(1ULL << 63, LIMIT_MAX, 4096));
        assert_false(cgv_memory_equal(1ULL << 62, LIMIT_MAX, 4096)); /* 4 EiB is below the 8 EiB cap */
        assert_true(cgv_memory_equal(4ULL << 30, 4ULL << 30, 4096));
}

static void test_io_weight(void **state)
{
        uint64_t w = SENTINEL;

        assert_format(cgv_format_io_weight(100, buf, size), "default 100");
        assert_format(cgv_format_io_weight(10000, buf, size), "default 10000");
        char b[CGV_VALUE_MAX];
        assert_int_equal(cgv_format_io_weight(0, b, sizeof(b)), -ERANGE);
        assert_int_equal(cgv_format_io_weight(10001, b, sizeof(b)), -ERANGE);

        assert_int_equal(cgv_parse_io_weight_default("default 100\n", &w), 0);
        assert_int_equal(w, 100);
        assert_int_equal(cgv_parse_io_weight_default("default 250\n8:0 500\n253:1 20\n", &w), 0);
        assert_int_equal(w, 250);
        assert_int_equal(cgv_parse_io_weight_default("8:0 500\ndefault 42", &w), 0);
        assert_int_equal(w, 42);
        w = SENTINEL;
        assert_int_equal(cgv_parse_io_weight_default("8:0 500\n", &w), -ENXIO);
        assert_int_equal(cgv_parse_io_weight_default("", &w), -ENXIO);
        assert_int_equal(cgv_parse_io_weight_default("default \n", &w), -EINVAL);
        assert_int_equal(cgv_parse_io_weight_default("default x\n", &w), -EINVAL);
        assert_int_equal(cgv_parse_io_weight_default("default 100 200\n", &w), -EINVAL);
        assert_int_equal(cgv_parse_io_weight_default(NULL, &w), -EINVAL);
        assert_int_equal(w, SENTINEL);
}

static void test_io_max(void **state)
{
        struct io_device_limit l = {
                .major = 8, .minor = 0, .rbps = 50000000, .wbps = LIMIT_MAX, .riops = LIMIT_MAX, .wiops = 1000};
        struct io_device_limit all_max = {.major = 253,
                                          .minor = 16,
                                          .rbps = LIMIT_MAX,
                                          .wbps = LIMIT_MAX,
                                          .riops = LIMIT_MAX,
                                          .wiops = LIMIT_MAX};
        struct io_device_limit big = {.major = 4294967295U,
                                      .minor = 4294967295U,
                                      .rbps = UINT64_MAX - 1,
                                      .wbps = UINT64_MAX - 1,
                                      .riops = UINT64_MAX - 1,
                                      .wiops = UINT64_MAX - 1};
        struct io_device_limit got;

        assert_format(cgv_format_io_max(&l, buf, size), "8:0 rbps=50000000 wbps=max riops=max wiops=1000");
        assert_format(cgv_format_io_max(&all_max, buf, size), "253:16 rbps=max wbps=max riops=max wiops=max");
        /* The longest possible line fits CGV_VALUE_MAX. */
        assert_format(cgv_format_io_max(&big, buf, size),
                      "4294967295:4294967295 rbps=18446744073709551614 wbps=18446744073709551614 "
                      "riops=18446744073709551614 wiops=18446744073709551614");

        /* Round trip, amid other devices' lines. */
        const char *file = "7:0 rbps=1 wbps=2 riops=3 wiops=4\n"
                           "8:0 rbps=50000000 wbps=max riops=max wiops=1000\n"
                           "8:16 rbps=max wbps=max riops=max wiops=7\n";
        assert_int_equal(cgv_parse_io_max(file, 8, 0, &got), 0);
        assert_true(cgv_io_limit_equal(&got, &l));
        assert_int_equal(cgv_parse_io_max(file, 8, 16, &got), 0);
        assert_int_equal(got.wiops, 7);
        assert_int_equal(got.rbps, LIMIT_MAX);
        assert_int_equal(cgv_parse_io_max(file, 7, 0, &got), 0);
        assert_int_equal(got.rbps, 1);
        assert_int_equal(got.wiops, 4);

        /* A device absent from the file (all max: the kernel dropped its line), and an empty file. */
        assert_int_equal(cgv_parse_io_max(file, 253, 16, &got), 0);
        assert_true(cgv_io_limit_equal(&got, &all_max));
        assert_int_equal(cgv_parse_io_max("", 253, 16, &got), 0);
        assert_true(cgv_io_limit_equal(&got, &all_max));
        /* 8:1 must not match 8:16 or 81:0. */
        assert_int_equal(cgv_parse_io_max("8:16 rbps=5 wbps=max riops=max wiops=max\n81:0 rbps=6 wbps=max riops=max "
                                          "wiops=max\n",
                                          8, 1, &got),
                         0);
        assert_int_equal(got.rbps, LIMIT_MAX);
        /* Keys missing from a line are "no limit"; unknown keys are ignored. */
        assert_int_equal(cgv_parse_io_max("8:0 rbps=10 future=xyz\n", 8, 0, &got), 0);
        assert_int_equal(got.rbps, 10);
        assert_int_equal(got.wbps, LIMIT_MAX);

        /* Malformed text: error and ret untouched. */
        static const char *const bad[] = {
                "8:0 rbps=abc wbps=max riops=max wiops=max\n",
                "8:0 rbps= wbps=max riops=max wiops=max\n",
                "8:0 rbps=-1\n",
                "8:0 rbps=1K\n",
                "8:0 =5\n",
                "8:0 rbps\n",
                "8:0  rbps=1\n",
                "8:0 rbps=18446744073709551616\n",
                "8 rbps=1\n",
                "x:0 rbps=1\n",
                ":0 rbps=1\n",
                "8: rbps=1\n",
                "4294967296:0 rbps=1\n",
                "8:0rbps=1\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct io_device_limit g = {.major = 99};
                int r = cgv_parse_io_max(bad[i], 8, 0, &g);
                if (r >= 0 || g.major != 99)
                        fail_msg("bad io.max %zu \"%s\" parsed (r=%d)", i, bad[i], r);
        }
        assert_int_equal(cgv_parse_io_max(NULL, 8, 0, &got), -EINVAL);
        char b[CGV_VALUE_MAX];
        assert_int_equal(cgv_format_io_max(NULL, b, sizeof(b)), -EINVAL);

        struct io_device_limit a = l, c = l;
        assert_true(cgv_io_limit_equal(&a, &c));
        c.minor = 1;
        assert_false(cgv_io_limit_equal(&a, &c));
        c = l;
        c.riops = 5;
        assert_false(cgv_io_limit_equal(&a, &c));
}

/* io.bfq.weight from io.weight, as systemd's BFQ_WEIGHT(): the defaults meet at 100, the ends at 1 and 1000. */
static void test_bfq_weight(void **state)
{
        assert_int_equal(cgv_bfq_weight(1), 1);
        assert_int_equal(cgv_bfq_weight(50), 50);
        assert_int_equal(cgv_bfq_weight(100), 100);
        assert_int_equal(cgv_bfq_weight(300), 118);
        assert_int_equal(cgv_bfq_weight(5050), 550);
        assert_int_equal(cgv_bfq_weight(10000), 1000);
        assert_int_equal(cgv_bfq_weight(0), 1); /* out of range: clamped, never 0 */
        assert_int_equal(cgv_bfq_weight(20000), 1000);
}

/* io.latency: "MAJ:MIN target=USEC" per device that has a target; none is "max". */
static void test_io_latency(void **state)
{
        uint64_t t;

        assert_format(cgv_format_io_latency(254, 0, 25000, buf, size), "254:0 target=25000");
        assert_format(cgv_format_io_latency(8, 16, LIMIT_MAX, buf, size), "8:16 target=max");
        char b[CGV_VALUE_MAX];
        assert_int_equal(cgv_format_io_latency(8, 16, 0, b, sizeof(b)), -EINVAL);

        const char *file = "8:0 target=1000\n254:0 target=25000\n";
        assert_int_equal(cgv_parse_io_latency(file, 254, 0, &t), 0);
        assert_int_equal(t, 25000);
        assert_int_equal(cgv_parse_io_latency(file, 8, 0, &t), 0);
        assert_int_equal(t, 1000);
        /* A device without a line, an empty file and target=0 all mean no target. */
        assert_int_equal(cgv_parse_io_latency(file, 8, 16, &t), 0);
        assert_true(t == LIMIT_MAX);
        assert_int_equal(cgv_parse_io_latency("", 8, 16, &t), 0);
        assert_true(t == LIMIT_MAX);
        assert_int_equal(cgv_parse_io_latency("8:16 target=0\n", 8, 16, &t), 0);
        assert_true(t == LIMIT_MAX);
        /* Keys a newer kernel might add are skipped; garbage is not. */
        assert_int_equal(cgv_parse_io_latency("8:16 target=7 win=100\n", 8, 16, &t), 0);
        assert_int_equal(t, 7);
        assert_int_equal(cgv_parse_io_latency("8:16 target=soon\n", 8, 16, &t), -EINVAL);
        assert_int_equal(cgv_parse_io_latency("eight target=1\n", 8, 16, &t), -EINVAL);
}

/* The root's io.cost.qos: iocost is on for a device only with its line saying enable=1. */
static void test_io_cost_enabled(void **state)
{
        const char *file = "8:0 enable=1 ctrl=auto rpct=0.00 rlat=250000 wpct=0.00 wlat=250000 min=1.00 max=10000.00\n"
                           "254:0 enable=0 ctrl=auto rpct=0.00 rlat=5000 wpct=0.00 wlat=5000 min=1.00 max=10000.00\n";
        bool on = false;

        assert_int_equal(cgv_parse_io_cost_enabled(file, 8, 0, &on), 0);
        assert_true(on);
        assert_int_equal(cgv_parse_io_cost_enabled(file, 254, 0, &on), 0);
        assert_false(on);
        on = true;
        assert_int_equal(cgv_parse_io_cost_enabled(file, 8, 16, &on), 0);
        assert_false(on);
        assert_int_equal(cgv_parse_io_cost_enabled("", 8, 0, &on), 0);
        assert_false(on);
        assert_int_equal(cgv_parse_io_cost_enabled("8:0 enable=yes\n", 8, 0, &on), -EINVAL);
}

static void test_cpu_stat(void **state)
{
        /* Linux 6.1, cpu controller enabled. */
        const char *full = "usage_usec 8012345\n"
                           "user_usec 6000000\n"
                           "system_usec 2012345\n"
                           "core_sched.force_idle_usec 0\n"
                           "nr_periods 82\n"
                           "nr_throttled 81\n"
                           "throttled_usec 4500000\n"
                           "nr_bursts 12\n"
                           "burst_usec 340000\n";
        struct cgv_cpu_stat st;

        assert_int_equal(cgv_parse_cpu_stat(full, &st), 0);
        assert_int_equal(st.usage_usec, 8012345);
        assert_int_equal(st.user_usec, 6000000);
        assert_int_equal(st.system_usec, 2012345);
        assert_int_equal(st.nr_periods, 82);
        assert_int_equal(st.nr_throttled, 81);
        assert_int_equal(st.throttled_usec, 4500000);
        assert_int_equal(st.nr_bursts, 12);
        assert_int_equal(st.burst_usec, 340000);
        assert_true(st.has_bursts);

        /* Before Linux 5.14: no burst lines, and the burst law holds. */
        assert_int_equal(cgv_parse_cpu_stat("usage_usec 5\nnr_periods 2\nnr_throttled 1\nthrottled_usec 9\n", &st), 0);
        assert_false(st.has_bursts);
        assert_int_equal(st.nr_bursts, 0);

        /* Without the cpu controller only the usage lines exist. */
        assert_int_equal(cgv_parse_cpu_stat("usage_usec 5\nuser_usec 3\nsystem_usec 2\n", &st), 0);
        assert_int_equal(st.usage_usec, 5);
        assert_int_equal(st.nr_throttled, 0);
        assert_int_equal(st.throttled_usec, 0);

        struct cgv_cpu_stat keep = {.usage_usec = 77};
        st = keep;
        assert_int_equal(cgv_parse_cpu_stat("user_usec 3\n", &st), -ENXIO);
        assert_int_equal(cgv_parse_cpu_stat("", &st), -ENXIO);
        assert_int_equal(cgv_parse_cpu_stat("usage_usec x\n", &st), -EINVAL);
        assert_int_equal(cgv_parse_cpu_stat("usage_usec\n", &st), -EINVAL);
        assert_int_equal(cgv_parse_cpu_stat("usage_usec 5 6\n", &st), -EINVAL);
        assert_int_equal(cgv_parse_cpu_stat("usage_usec 99999999999999999999\n", &st), -ERANGE);
        assert_int_equal(cgv_parse_cpu_stat(" usage_usec 5\n", &st), -EINVAL);
        assert_int_equal(cgv_parse_cpu_stat(NULL, &st), -EINVAL);
        assert_int_equal(st.usage_usec, 77);
}

static void test_memory_events(void **state)
{
        struct cgv_memory_events ev;

        assert_int_equal(cgv_parse_memory_events("low 1\nhigh 22\nmax 3\noom 4\noom_kill 5\noom_group_kill 6\n", &ev),
                         0);
        assert_int_equal(ev.low, 1);
        assert_int_equal(ev.high, 22);
        assert_int_equal(ev.max, 3);
        assert_int_equal(ev.oom, 4);
        assert_int_equal(ev.oom_kill, 5);
        /* "oom" must not be taken from "oom_kill" or the other way round. */
        assert_int_equal(cgv_parse_memory_events("oom_kill 9\n", &ev), 0);
        assert_int_equal(ev.oom, 0);
        assert_int_equal(ev.oom_kill, 9);

        struct cgv_memory_events keep = {.high = 123};
        ev = keep;
        assert_int_equal(cgv_parse_memory_events("", &ev), -ENXIO);
        assert_int_equal(cgv_parse_memory_events("nothing 1\n", &ev), -ENXIO);
        assert_int_equal(cgv_parse_memory_events("high -1\n", &ev), -EINVAL);
        assert_int_equal(cgv_parse_memory_events("high\n", &ev), -EINVAL);
        assert_int_equal(ev.high, 123);
}

static void test_io_stat(void **state)
{
        const char *file = "8:16 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n"
                           "8:0 rbytes=2097152 wbytes=4096 rios=512 wios=1 dbytes=0 dios=0 cost.vrate=100.00 "
                           "cost.usage=12 cost.wait=0 cost.indebt=0 cost.indelay=0\n"
                           "253:0 rbytes=10 wbytes=20 rios=30 wios=40 dbytes=50 dios=60\n";
        struct cgv_io_stat st;

        assert_int_equal(cgv_parse_io_stat(file, 8, 0, &st), 0);
        assert_int_equal(st.rbytes, 2097152);
        assert_int_equal(st.wbytes, 4096);
        assert_int_equal(st.rios, 512);
        assert_int_equal(st.wios, 1);
        assert_int_equal(st.dbytes, 0);
        assert_int_equal(st.dios, 0);
        assert_int_equal(cgv_parse_io_stat(file, 253, 0, &st), 0);
        assert_int_equal(st.dios, 60);
        assert_int_equal(cgv_parse_io_stat(file, 8, 16, &st), 0);
        assert_int_equal(st.rbytes, 1);

        /* Kernels before 5.x have no discard keys: they read as 0. */
        assert_int_equal(cgv_parse_io_stat("8:0 rbytes=7 wbytes=8 rios=9 wios=10\n", 8, 0, &st), 0);
        assert_int_equal(st.wios, 10);
        assert_int_equal(st.dbytes, 0);

        struct cgv_io_stat keep = {.rbytes = 42};
        st = keep;
        assert_int_equal(cgv_parse_io_stat(file, 8, 1, &st), -ENXIO);
        assert_int_equal(cgv_parse_io_stat("", 8, 0, &st), -ENXIO);
        assert_int_equal(cgv_parse_io_stat("8:0 rbytes=x\n", 8, 0, &st), -EINVAL);
        assert_int_equal(cgv_parse_io_stat("8:0 rbytes=max\n", 8, 0, &st), -EINVAL);
        assert_int_equal(cgv_parse_io_stat("garbage\n", 8, 0, &st), -EINVAL);
        assert_int_equal(st.rbytes, 42);
}

static void test_io_stat_all(void **state)
{
        const char *file = "253:0 rbytes=10 wbytes=20 rios=30 wios=40 dbytes=50 dios=60\n"
                           "8:0 rbytes=2097152 wbytes=4096 rios=512 wios=1 dbytes=0 dios=0 cost.vrate=100.00 "
                           "cost.usage=12 cost.wait=0 cost.indebt=0 cost.indelay=0\n"
                           "8:16 rbytes=7 wbytes=8 rios=9 wios=10\n";
        struct cgv_io_stat_device d[3] = {};

        assert_int_equal(cgv_parse_io_stat_all(file, d, ELEMENTSOF(d)), 3);
        assert_int_equal(d[0].major, 253);
        assert_int_equal(d[0].minor, 0);
        assert_int_equal(d[0].stat.dios, 60);
        assert_int_equal(d[1].major, 8);
        assert_int_equal(d[1].minor, 0);
        assert_int_equal(d[1].stat.rbytes, 2097152);
        assert_int_equal(d[1].stat.wios, 1);
        assert_int_equal(d[2].minor, 16);
        assert_int_equal(d[2].stat.wios, 10);
        assert_int_equal(d[2].stat.dbytes, 0);

        /* more lines than room: the first ones are kept, the count says how many there are */
        struct cgv_io_stat_device one[1] = {};
        assert_int_equal(cgv_parse_io_stat_all(file, one, 1), 3);
        assert_int_equal(one[0].major, 253);
        assert_int_equal(cgv_parse_io_stat_all(file, NULL, 0), 3);
        assert_int_equal(cgv_parse_io_stat_all("", d, 3), 0);
        assert_int_equal(cgv_parse_io_stat_all("8:0 rbytes=x\n", d, 3), -EINVAL);
        assert_int_equal(cgv_parse_io_stat_all("garbage\n", d, 3), -EINVAL);
        assert_int_equal(cgv_parse_io_stat_all(file, NULL, 3), -EINVAL);
        assert_int_equal(cgv_parse_io_stat_all(NULL, d, 3), -EINVAL);
}

static void test_memory_stat(void **state)
{
        /* 6.1 (tests/fixtures/sense/cgroup-6.1-tick1/memory.stat, shortened) */
        const char *file = "anon 22163456\nfile 4096\nkernel 770048\nkernel_stack 98304\npagetables 335872\n"
                           "sec_pagetables 0\npercpu 0\nsock 0\nvmalloc 0\nshmem 4096\nzswap 0\nfile_mapped 0\n"
                           "anon_thp 8388608\nunevictable 0\nslab_reclaimable 4736\nslab_unreclaimable 214072\n"
                           "slab 218808\npgfault 6152\n";
        struct cgv_memory_stat st;

        assert_int_equal(cgv_parse_memory_stat(file, &st), 0);
        assert_true(st.has_kernel);
        assert_int_equal(st.anon, 22163456);
        assert_int_equal(st.file, 4096);
        assert_int_equal(st.kernel, 770048);
        assert_int_equal(st.kernel_stack, 98304);
        assert_int_equal(st.pagetables, 335872);
        assert_int_equal(st.shmem, 4096);
        assert_int_equal(st.slab_reclaimable, 4736);
        assert_int_equal(st.slab_unreclaimable, 214072);

        /* before 5.18: no "kernel" key */
        assert_int_equal(cgv_parse_memory_stat("anon 1\nkernel_stack 2\npercpu 3\nunevictable 4\nsock 5\n", &st), 0);
        assert_false(st.has_kernel);
        assert_int_equal(st.kernel, 0);
        assert_int_equal(st.percpu, 3);
        assert_int_equal(st.unevictable, 4);
        assert_int_equal(st.sock, 5);

        struct cgv_memory_stat keep = {.anon = 42};
        st = keep;
        assert_int_equal(cgv_parse_memory_stat("", &st), -ENXIO);
        assert_int_equal(cgv_parse_memory_stat("pgfault 1\n", &st), -ENXIO);
        assert_int_equal(cgv_parse_memory_stat("anon x\n", &st), -EINVAL);
        assert_int_equal(st.anon, 42);
}

static void test_flat_keyed(void **state)
{
        const char *psi_like = "anon 1024\nfile 2048\nkernel_stack 16384\nfile_mapped 5\n";
        uint64_t v = SENTINEL;

        assert_int_equal(cgv_parse_flat_keyed(psi_like, "anon", &v), 0);
        assert_int_equal(v, 1024);
        assert_int_equal(cgv_parse_flat_keyed(psi_like, "file", &v), 0);
        assert_int_equal(v, 2048);
        assert_int_equal(cgv_parse_flat_keyed(psi_like, "file_mapped", &v), 0);
        assert_int_equal(v, 5);
        assert_int_equal(cgv_parse_flat_keyed("a 1\nb 2", "b", &v), 0); /* no final newline */
        assert_int_equal(v, 2);
        assert_int_equal(cgv_parse_flat_keyed("a 1\n\nb 3\n", "b", &v), 0);
        assert_int_equal(v, 3);

        v = SENTINEL;
        assert_int_equal(cgv_parse_flat_keyed(psi_like, "fil", &v), -ENXIO);
        assert_int_equal(cgv_parse_flat_keyed(psi_like, "kernel", &v), -ENXIO);
        assert_int_equal(cgv_parse_flat_keyed("", "anon", &v), -ENXIO);
        assert_int_equal(cgv_parse_flat_keyed(psi_like, "", &v), -EINVAL);
        assert_int_equal(cgv_parse_flat_keyed(psi_like, "a b", &v), -EINVAL);
        assert_int_equal(cgv_parse_flat_keyed(psi_like, NULL, &v), -EINVAL);
        assert_int_equal(cgv_parse_flat_keyed("anon\n", "anon", &v), -EINVAL);
        assert_int_equal(cgv_parse_flat_keyed("anon 1 2\n", "anon", &v), -EINVAL);
        assert_int_equal(cgv_parse_flat_keyed("anon 12345678901234567890123\n", "anon", &v), -ERANGE);
        assert_int_equal(cgv_parse_flat_keyed("nokey\nanon 5\n", "anon", &v), -EINVAL);
        assert_int_equal(v, SENTINEL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_u64),
                cmocka_unit_test(test_cpu_max),
                cmocka_unit_test(test_cpu_quota_from_permyriad),
                cmocka_unit_test(test_cpu_weight_idle),
                cmocka_unit_test(test_memory),
                cmocka_unit_test(test_io_weight),
                cmocka_unit_test(test_io_max),
                cmocka_unit_test(test_io_latency),
                cmocka_unit_test(test_bfq_weight),
                cmocka_unit_test(test_io_cost_enabled),
                cmocka_unit_test(test_cpu_stat),
                cmocka_unit_test(test_memory_events),
                cmocka_unit_test(test_io_stat),
                cmocka_unit_test(test_io_stat_all),
                cmocka_unit_test(test_memory_stat),
                cmocka_unit_test(test_flat_keyed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
