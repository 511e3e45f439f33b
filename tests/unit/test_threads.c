/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The names of a VM's thread cgroups, and telling the engine's own from anything else a cgroup holds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernel/threadcg.h"

static void test_child_names(void **state)
{
        char buf[THREAD_CGROUP_NAME_MAX];

        assert_int_equal(thread_cgroup_name(THREAD_CGROUP_VCPU, 0, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "vcpu0");
        assert_int_equal(thread_cgroup_name(THREAD_CGROUP_VCPU, 255, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "vcpu255");
        assert_int_equal(thread_cgroup_name(THREAD_CGROUP_IOTHREAD, 3, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "iothread3");
        assert_int_equal(thread_cgroup_name(THREAD_CGROUP_EMULATOR, 7, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "emulator");
        assert_int_equal(thread_cgroup_name(THREAD_CGROUP_IOTHREAD, 3, buf, 5), -ENOBUFS);
}

/* What the engine removes with a VM's cgroup: its own children, nothing a VM or an operator could have named
 * alike. */
static void test_ours(void **state)
{
        static const char *const ours[] = {"vcpu0", "vcpu17", "iothread0", "iothread4294967295", "emulator"};
        static const char *const others[] = {"vcpu",      "vcpu01",   "vcpu-1",   "vcpu1a",   "iothread",
                                             "emulator2", "Emulator", "../vcpu0", "vcpu0/..", "vcpu99999999999",
                                             "cpu0",      "",         "io0",      "vcpu 1"};

        for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
                if (!thread_cgroup_parse(ours[i], NULL, NULL))
                        fail_msg("%s is the engine's", ours[i]);
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
                if (thread_cgroup_parse(others[i], NULL, NULL))
                        fail_msg("\"%s\" is not the engine's", others[i]);

        enum thread_cgroup kind;
        unsigned index;
        assert_true(thread_cgroup_parse("vcpu12", &kind, &index));
        assert_int_equal(kind, THREAD_CGROUP_VCPU);
        assert_int_equal(index, 12);
        assert_true(thread_cgroup_parse("iothread4294967295", &kind, &index));
        assert_int_equal(kind, THREAD_CGROUP_IOTHREAD);
        assert_int_equal(index, 4294967295u);
        assert_false(thread_cgroup_parse("iothread4294967296", &kind, &index));
        assert_true(thread_cgroup_parse("emulator", &kind, &index));
        assert_int_equal(kind, THREAD_CGROUP_EMULATOR);
}

/* Where /proc shows a VM whose threads are placed: its main thread's child counts as the VM's cgroup. */
static void test_cgroup_is(void **state)
{
        assert_true(thread_cgroup_holds("/vmgov/web/web-1", "vmgov/web/web-1"));
        assert_true(thread_cgroup_holds("/vmgov/web/web-1/emulator", "vmgov/web/web-1"));
        assert_true(thread_cgroup_holds("/vmgov/web/web-1/vcpu3", "vmgov/web/web-1"));
        assert_false(thread_cgroup_holds("/vmgov/web/web-10", "vmgov/web/web-1"));
        assert_false(thread_cgroup_holds("/vmgov/web/web-1/other", "vmgov/web/web-1"));
        assert_false(thread_cgroup_holds("/vmgov/web/web-1/emulator/x", "vmgov/web/web-1"));
        assert_false(thread_cgroup_holds("/vmgov/web", "vmgov/web/web-1"));
        assert_false(thread_cgroup_holds("vmgov/web/web-1", "vmgov/web/web-1"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_child_names),
                cmocka_unit_test(test_ours),
                cmocka_unit_test(test_cgroup_is),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
