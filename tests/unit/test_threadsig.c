/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rows of a VM whose threads are placed apart: each threaded child's cpu.stat and cpuset.cpus.effective, read
 * from a fixture tree laid out as the kernel lays it out; the CPU share over the tick, and what a child that is
 * gone or a counter that went back gives. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sense/threadsig.h"
#include "testutil.h"

static void test_usage_ppm(void **state)
{
        assert_int_equal(threadsig_usage_ppm(1000, 201000, 1000000), 200000); /* 0.2 s of CPU in 1 s: 20% */
        assert_int_equal(threadsig_usage_ppm(0, 2000000, 1000000), 2000000);  /* two CPUs' worth */
        assert_int_equal(threadsig_usage_ppm(5000, 4000, 1000000), 0);        /* made anew: no share yet */
        assert_int_equal(threadsig_usage_ppm(0, 5000, 0), 0);                 /* the first tick */
}

static const char cpu_stat_vcpu0[] = "usage_usec 912000\nuser_usec 900000\nsystem_usec 12000\n"
                                     "nr_periods 31\nnr_throttled 30\nthrottled_usec 2400000\n";

static void test_read_children(void **state)
{
        char path[4096];
        int fd = tmptree_new(path, sizeof(path));
        struct thread_signals rows[3] = {
                {.name = "vcpu0", .tid = 50}, {.name = "iothread0", .tid = 51}, {.name = "emulator"}};

        tmptree_write_string(fd, "vcpu0/cpu.stat", cpu_stat_vcpu0);
        tmptree_write_string(fd, "vcpu0/cpuset.cpus.effective", "0\n");
        /* the emulator's child without cpuset (no cpuset.cpus.effective) and without the cpu controller's keys */
        tmptree_write_string(fd, "emulator/cpu.stat", "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\n");
        /* iothread0 is not there (QEMU dropped the IO thread): its row stays unread */

        assert_int_equal(threadsig_read(fd, rows, 3, NULL, 0, 0), 2);
        assert_true(rows[0].stat_read);
        assert_int_equal(rows[0].usage_usec, 912000);
        assert_int_equal(rows[0].nr_periods, 31);
        assert_int_equal(rows[0].nr_throttled, 30);
        assert_int_equal(rows[0].throttled_usec, 2400000);
        assert_int_equal(rows[0].usage_ppm, 0); /* no interval yet */
        assert_string_equal(rows[0].cpus, "0");
        assert_int_equal(rows[0].tid, 50);
        assert_false(rows[1].stat_read);
        assert_true(rows[2].stat_read);
        assert_int_equal(rows[2].nr_throttled, 0);
        assert_string_equal(rows[2].cpus, "");

        /* a tick later (0.5 s): vcpu0 used 0.1 s more, 20% of a CPU; the emulator nothing */
        tmptree_write_string(fd, "vcpu0/cpu.stat",
                             "usage_usec 1012000\nnr_periods 36\nnr_throttled 35\nthrottled_usec 2800000\n");
        assert_int_equal(threadsig_read(fd, rows, 3, NULL, 0, 500000), 2);
        assert_int_equal(rows[0].usage_ppm, 200000);
        assert_int_equal(rows[0].nr_throttled, 35);
        assert_int_equal(rows[2].usage_ppm, 0);

        /* the rows made anew (a hot-plugged vCPU): the share of a child that stays comes from the previous rows */
        struct thread_signals prev[3];
        memcpy(prev, rows, sizeof(prev));
        struct thread_signals again[4] = {{.name = "vcpu0", .tid = 50},
                                          {.name = "vcpu1", .tid = 52},
                                          {.name = "iothread0", .tid = 51},
                                          {.name = "emulator"}};
        tmptree_write_string(fd, "vcpu0/cpu.stat", "usage_usec 1112000\nnr_periods 40\nnr_throttled 39\n");
        tmptree_write_string(fd, "vcpu1/cpu.stat", "usage_usec 7000\n");
        assert_int_equal(threadsig_read(fd, again, 4, prev, 3, 1000000), 3);
        assert_int_equal(again[0].usage_ppm, 100000);
        assert_true(again[1].stat_read);
        assert_int_equal(again[1].usage_ppm, 0); /* new: nothing to compare with */

        /* a malformed cpu.stat (no usage_usec) is not read */
        tmptree_write_string(fd, "vcpu0/cpu.stat", "nr_periods 1\n");
        assert_int_equal(threadsig_read(fd, rows, 1, NULL, 0, 1000000), 0);
        assert_false(rows[0].stat_read);
        tmptree_remove(path, fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_usage_ppm),
                cmocka_unit_test(test_read_children),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
