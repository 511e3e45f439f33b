/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPU sets: systemd's list syntax in, the kernel's canonical form out, and the set operations the policy checks use. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/cpuset.h"
#include "kernel/macro.h"

/* text parses, and formats back as canonical. */
static void assert_round_trip(const char *text, const char *canonical)
{
        struct cpuset set;
        char buf[256];

        if (cpuset_parse(text, CPUSET_MAX, &set) != 0)
                fail_msg("\"%s\" did not parse", text);
        assert_int_equal(cpuset_format(&set, buf, sizeof(buf)), (int)strlen(canonical));
        if (strcmp(buf, canonical) != 0)
                fail_msg("\"%s\" formatted as \"%s\", expected \"%s\"", text, buf, canonical);
}

static void test_parse_systemd_and_kernel_syntax(void **state)
{
        (void)state;
        assert_round_trip("0-3 8 10-11", "0-3,8,10-11");
        assert_round_trip("0-3,8,10-11", "0-3,8,10-11");
        assert_round_trip("0-3,8\n", "0-3,8");   /* as cpuset.cpus reads */
        assert_round_trip("8 3 2 1 0", "0-3,8"); /* any order */
        assert_round_trip("0-2, 1-4", "0-4");    /* overlaps merge */
        assert_round_trip("0 1", "0-1");         /* the kernel writes two neighbours as a range */
        assert_round_trip("5", "5");
        assert_round_trip("007", "7"); /* the kernel takes leading zeros too */
        assert_round_trip("", "");     /* empty: what a fresh cgroup's cpuset.cpus holds */
        assert_round_trip("\n", "");
        assert_round_trip("63-64,127-129", "63-64,127-129"); /* across words */
        assert_round_trip("8191", "8191");
        assert_round_trip("0-8191", "0-8191");
}

static void test_parse_refuses(void **state)
{
        static const char *const malformed[] = {"3-1", "-1",   "1-",  "a",     "1,x", "1.5",
                                                "+1",  "1--2", "0x1", "1-2-3", "1;2", "1 -2"};
        static const char *const too_large[] = {"8192", "0-8192", "99999999999999999999999"};
        struct cpuset set = {.bits = {42}};

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(malformed); i++)
                if (cpuset_parse(malformed[i], CPUSET_MAX, &set) != -EINVAL)
                        fail_msg("\"%s\" was not refused as malformed", malformed[i]);
        for (size_t i = 0; i < ELEMENTSOF(too_large); i++)
                if (cpuset_parse(too_large[i], CPUSET_MAX, &set) != -ERANGE)
                        fail_msg("\"%s\" was not refused as too large", too_large[i]);
        assert_int_equal(set.bits[0], 42); /* untouched on failure */
        /* a lower limit: memory nodes */
        assert_int_equal(cpuset_parse("0-1023", 1024, &set), 0);
        assert_int_equal(cpuset_parse("1024", 1024, &set), -ERANGE);
}

static void test_format_too_long(void **state)
{
        struct cpuset set = {};
        char buf[8];

        (void)state;
        for (unsigned c = 0; c < 20; c += 2)
                cpuset_add(&set, c);
        assert_int_equal(cpuset_format(&set, buf, sizeof(buf)), -ENOBUFS);
        assert_string_equal(buf, "");
        assert_int_equal(cpuset_format(&set, buf, 0), -ENOBUFS);
}

static void test_count_next_nth(void **state)
{
        struct cpuset set;

        (void)state;
        assert_int_equal(cpuset_parse("2-5,64,8191", CPUSET_MAX, &set), 0);
        assert_int_equal(cpuset_count(&set), 6);
        assert_false(cpuset_is_empty(&set));
        assert_true(cpuset_has(&set, 2));
        assert_false(cpuset_has(&set, 6));
        assert_false(cpuset_has(&set, CPUSET_MAX)); /* past the end: not a member, not a crash */
        assert_int_equal(cpuset_next(&set, 0), 2);
        assert_int_equal(cpuset_next(&set, 5), 5);
        assert_int_equal(cpuset_next(&set, 6), 64);
        assert_int_equal(cpuset_next(&set, 65), 8191);
        assert_int_equal(cpuset_next(&set, CPUSET_MAX), -1);
        assert_int_equal(cpuset_nth(&set, 0), 2);
        assert_int_equal(cpuset_nth(&set, 4), 64);
        assert_int_equal(cpuset_nth(&set, 5), 8191);
        assert_int_equal(cpuset_nth(&set, 6), -1);

        struct cpuset empty = {};
        assert_true(cpuset_is_empty(&empty));
        assert_int_equal(cpuset_next(&empty, 0), -1);
        assert_int_equal(cpuset_nth(&empty, 0), -1);
}

static void test_subset_overlap_minus(void **state)
{
        struct cpuset host, pin, other, rest;
        char buf[64];

        (void)state;
        assert_int_equal(cpuset_parse("0-7", CPUSET_MAX, &host), 0);
        assert_int_equal(cpuset_parse("2-3", CPUSET_MAX, &pin), 0);
        assert_int_equal(cpuset_parse("3 9-10", CPUSET_MAX, &other), 0);
        assert_true(cpuset_subset(&pin, &host));
        assert_false(cpuset_subset(&other, &host));
        assert_true(cpuset_overlaps(&pin, &other));
        cpuset_minus(&other, &host, &rest);
        assert_int_equal(cpuset_format(&rest, buf, sizeof(buf)), 4);
        assert_string_equal(buf, "9-10");
        assert_false(cpuset_overlaps(&rest, &host));
        assert_true(cpuset_equal(&pin, &pin));
        assert_false(cpuset_equal(&pin, &host));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_systemd_and_kernel_syntax),
                cmocka_unit_test(test_parse_refuses),
                cmocka_unit_test(test_format_too_long),
                cmocka_unit_test(test_count_next_nth),
                cmocka_unit_test(test_subset_overlap_minus),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
