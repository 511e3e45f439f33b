/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A warning repeated for the same VM and cause is logged once, counted, and summarised at most once a minute. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kernel/ratelimit.h"

#define MINUTE (60ULL * 1000000ULL)
#define SEC    (1000000ULL)

static void test_first_logged_repeats_counted_then_summarised(void **state)
{
        struct ratelimit_entry e[4];
        struct ratelimit rl;
        unsigned n = 99;

        (void)state;
        ratelimit_init(&rl, MINUTE, e, 4);
        assert_int_equal(ratelimit_hit(&rl, 7, 1, 100 * SEC, &n), RATELIMIT_LOG);
        assert_int_equal(n, 0);
        /* One tick a second for 59 s: nothing printed. */
        for (unsigned t = 1; t < 60; t++)
                assert_int_equal(ratelimit_hit(&rl, 7, 1, (100 + t) * SEC, &n), RATELIMIT_QUIET);
        assert_int_equal(ratelimit_pending(&rl, 7, 1), 59);
        /* A minute after the first line: one summary counting the 59 quiet ones and this one. */
        assert_int_equal(ratelimit_hit(&rl, 7, 1, 160 * SEC, &n), RATELIMIT_SUMMARY);
        assert_int_equal(n, 60);
        assert_int_equal(ratelimit_pending(&rl, 7, 1), 0);
        assert_int_equal(ratelimit_hit(&rl, 7, 1, 161 * SEC, &n), RATELIMIT_QUIET);
}

static void test_quiet_warning_logs_again_after_interval(void **state)
{
        struct ratelimit_entry e[4];
        struct ratelimit rl;
        unsigned n;

        (void)state;
        ratelimit_init(&rl, MINUTE, e, 4);
        assert_int_equal(ratelimit_hit(&rl, 7, 1, 10 * SEC, &n), RATELIMIT_LOG);
        /* Nothing repeated within the minute: the next one is a plain line, not a summary of zero. */
        assert_int_equal(ratelimit_hit(&rl, 7, 1, 10 * SEC + 2 * MINUTE, &n), RATELIMIT_LOG);
        assert_int_equal(n, 0);
}

static void test_keys_are_vm_and_cause(void **state)
{
        struct ratelimit_entry e[4];
        struct ratelimit rl;
        unsigned n;

        (void)state;
        ratelimit_init(&rl, MINUTE, e, 4);
        assert_int_equal(ratelimit_hit(&rl, 7, 1, SEC, &n), RATELIMIT_LOG);
        assert_int_equal(ratelimit_hit(&rl, 7, 2, SEC, &n), RATELIMIT_LOG);
        assert_int_equal(ratelimit_hit(&rl, 8, 1, SEC, &n), RATELIMIT_LOG);
        assert_int_equal(ratelimit_hit(&rl, 7, 1, 2 * SEC, &n), RATELIMIT_QUIET);
        assert_int_equal(ratelimit_pending(&rl, 7, 2), 0);
}

static void test_forget_vm_frees_its_slots(void **state)
{
        struct ratelimit_entry e[2];
        struct ratelimit rl;
        unsigned n;

        (void)state;
        ratelimit_init(&rl, MINUTE, e, 2);
        ratelimit_hit(&rl, 7, 1, SEC, &n);
        ratelimit_hit(&rl, 7, 1, 2 * SEC, &n);
        ratelimit_hit(&rl, 8, 1, SEC, &n);
        assert_int_equal(ratelimit_forget_vm(&rl, 7), 1);
        assert_int_equal(rl.n_entries, 1);
        /* VM 8 kept its state; a new VM takes the freed slot and is logged. */
        assert_int_equal(ratelimit_hit(&rl, 8, 1, 3 * SEC, &n), RATELIMIT_QUIET);
        assert_int_equal(ratelimit_hit(&rl, 9, 1, 3 * SEC, &n), RATELIMIT_LOG);
        assert_int_equal(rl.n_entries, 2);
}

static void test_full_table_shares_one_quiet_key(void **state)
{
        struct ratelimit_entry e[1];
        struct ratelimit rl;
        unsigned n;
        unsigned logged = 0;

        (void)state;
        ratelimit_init(&rl, MINUTE, e, 1);
        ratelimit_hit(&rl, 1, 1, SEC, &n);
        /* 1000 other VMs failing the same tick: one line for all of them, not 1000. */
        for (uint64_t vm = 2; vm < 1002; vm++)
                logged += ratelimit_hit(&rl, vm, 1, SEC, &n) != RATELIMIT_QUIET;
        assert_int_equal(logged, 1);
        assert_int_equal(ratelimit_hit(&rl, 5000, 3, SEC + MINUTE, &n), RATELIMIT_SUMMARY);
        assert_int_equal(n, 1000);
}

static void test_clock_backwards_is_due(void **state)
{
        struct ratelimit_entry e[1];
        struct ratelimit rl;
        unsigned n;

        (void)state;
        ratelimit_init(&rl, MINUTE, e, 1);
        ratelimit_hit(&rl, 1, 1, 100 * SEC, &n);
        ratelimit_hit(&rl, 1, 1, 101 * SEC, &n);
        assert_int_equal(ratelimit_hit(&rl, 1, 1, 5 * SEC, &n), RATELIMIT_SUMMARY);
        assert_int_equal(n, 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_first_logged_repeats_counted_then_summarised),
                cmocka_unit_test(test_quiet_warning_logs_again_after_interval),
                cmocka_unit_test(test_keys_are_vm_and_cause),
                cmocka_unit_test(test_forget_vm_frees_its_slots),
                cmocka_unit_test(test_full_table_shares_one_quiet_key),
                cmocka_unit_test(test_clock_backwards_is_due),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
