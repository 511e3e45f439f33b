/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernel/index.h"

static unsigned count(const struct index *x, uint64_t key, uint32_t want, bool *found)
{
        size_t it = 0;
        uint32_t p;
        unsigned n = 0;

        *found = false;
        while (index_next(x, key, &it, &p)) {
                n++;
                *found |= p == want;
        }
        return n;
}

/* 20,000 pids, consecutive as the kernel hands them out, each found at its position and nowhere else. */
static void test_pids(void **state)
{
        struct index x = {0};
        bool found;

        for (uint32_t i = 0; i < 20000; i++)
                assert_int_equal(index_put(&x, 4000000 - i, i), 0);
        assert_true(x.cap >= 2 * x.n);
        for (uint32_t i = 0; i < 20000; i++) {
                assert_int_equal(count(&x, 4000000 - i, i, &found), 1);
                assert_true(found);
        }
        assert_int_equal(count(&x, 17, 0, &found), 0);
        assert_int_equal(count(&x, 4000001, 0, &found), 0);
        index_clear(&x);
        assert_int_equal(count(&x, 4000000, 0, &found), 0);
        assert_int_equal(index_put(&x, 4000000, 9), 0);
        assert_int_equal(count(&x, 4000000, 9, &found), 1);
        assert_true(found);
        index_free(&x);
        assert_int_equal(count(&x, 4000000, 9, &found), 0); /* a freed index is an empty one */
}

/* One key, several positions (two VMs with one pid over time, two with one cgroup path while one leaves): all
 * of them come back. */
static void test_shared_keys(void **state)
{
        struct index x = {0};
        bool found;

        for (uint32_t i = 0; i < 100; i++)
                assert_int_equal(index_put(&x, index_key_string(i % 2 ? "vmgov/web/web-1" : "vmgov/db/db-1"), i), 0);
        assert_int_equal(count(&x, index_key_string("vmgov/web/web-1"), 99, &found), 50);
        assert_true(found);
        assert_int_equal(count(&x, index_key_string("vmgov/db/db-1"), 0, &found), 50);
        assert_true(found);
        assert_int_equal(count(&x, index_key_string("vmgov/web/web-2"), 0, &found), 0);
        assert_true(index_key_string("a") != index_key_string("b"));
        assert_true(index_key_string("") != index_key_string("a"));
        index_free(&x);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pids),
                cmocka_unit_test(test_shared_keys),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
