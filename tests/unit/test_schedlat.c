/* SPDX-License-Identifier: GPL-2.0-or-later */
/* schedlat: bucket maths, snapshot diffs, percentiles, schedstat parsing, and the schedstat fallback on a fake
 * /proc (no root, no BPF). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/types.h>

#include "../../bpf/schedlat.h"
#include "kernel/macro.h"
#include "sense/schedlat-internal.h"
#include "sense/schedlat.h"
#include "testutil.h"

/* The histograms read a chunk at a time: each slot's taken once, from a chunk read lately, or read afresh. */
static void test_chunk_take(void **state)
{
        struct schedlat_chunk c = {0};
        unsigned i = 99;

        assert_false(schedlat_chunk_take(&c, 0, 1000, &i)); /* none read yet */
        schedlat_chunk_set(&c, 10, 64, 1000);
        assert_true(schedlat_chunk_take(&c, 10, 1000, &i));
        assert_int_equal(i, 0);
        assert_true(schedlat_chunk_take(&c, 73, 1500, &i)); /* the last, in any order */
        assert_int_equal(i, 63);
        assert_true(schedlat_chunk_take(&c, 40, 2000, &i));
        assert_int_equal(i, 30);
        assert_false(schedlat_chunk_take(&c, 40, 2000, &i)); /* twice: the next tick's, read afresh */
        assert_false(schedlat_chunk_take(&c, 9, 2000, &i));  /* before it */
        assert_false(schedlat_chunk_take(&c, 74, 2000, &i)); /* after it */
        /* a slot the tick that read the chunk did not take is not given old counts a tick later */
        assert_false(schedlat_chunk_take(&c, 41, 1000 + SCHEDLAT_CHUNK_MAX_AGE_USEC + 1, &i));
        assert_true(schedlat_chunk_take(&c, 41, 1000 + SCHEDLAT_CHUNK_MAX_AGE_USEC, &i));

        schedlat_chunk_set(&c, 0, 3, 5000); /* the map's end: fewer than asked */
        assert_true(schedlat_chunk_take(&c, 2, 5000, &i));
        assert_false(schedlat_chunk_take(&c, 3, 5000, &i));
}

static void test_bucket(void **state)
{
        static const struct {
                uint64_t ns;
                unsigned b;
        } cases[] = {
                {0, 0},
                {1, 0},
                {2, 1},
                {3, 1},
                {4, 2},
                {1023, 9},
                {1024, 10},
                {1025, 10},
                {1000000, 19}, /* 1 ms: [524288, 1048576) */
                {(UINT64_C(1) << 31) - 1, 30},
                {UINT64_C(1) << 31, 31},
                {UINT64_C(1) << 40, 31},
                {UINT64_MAX, 31},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(schedlat_bucket(cases[i].ns), cases[i].b);
        /* The BPF side's branch-free log2 agrees with a plain one everywhere near the powers of two. */
        for (unsigned k = 1; k < 64; k++)
                for (int d = -1; d <= 1; d++) {
                        uint64_t v = (UINT64_C(1) << k) + (uint64_t)(int64_t)d;
                        unsigned want = 63 - (unsigned)__builtin_clzll(v);

                        assert_int_equal(schedlat_log2_bucket(v), MIN(want, 31u));
                }
}

static void test_bucket_bounds(void **state)
{
        uint64_t lo, hi;

        schedlat_bucket_bounds(0, &lo, &hi);
        assert_int_equal(lo, 0);
        assert_int_equal(hi, 2);
        schedlat_bucket_bounds(10, &lo, &hi);
        assert_int_equal(lo, 1024);
        assert_int_equal(hi, 2048);
        schedlat_bucket_bounds(31, &lo, &hi);
        assert_int_equal(lo, UINT64_C(1) << 31);
        assert_int_equal(hi, UINT64_C(1) << 32);
        /* every value lies in its bucket */
        for (uint64_t v = 0; v < 5000; v += 7) {
                schedlat_bucket_bounds(schedlat_bucket(v), &lo, &hi);
                assert_true(lo <= v && v < hi);
        }
}

static void test_snap_sum_and_delta(void **state)
{
        /* Three CPUs in the kernel's per-CPU layout: round_up(136, 8) = 136 bytes apart. */
        unsigned char buf[3 * 136] = {};
        struct schedlat_hist h[3] = {};
        struct schedlat_snap prev = {}, cur;
        struct schedlat_delta d;

        h[0].bucket[10] = 5;
        h[1].bucket[10] = 7;
        h[2].bucket[20] = 1;
        h[0].sum_ns = 1000;
        h[1].sum_ns = 2000;
        h[2].sum_ns = 1500000;
        for (int i = 0; i < 3; i++)
                memcpy(buf + i * 136, &h[i], sizeof(h[i]));
        schedlat_snap_sum(buf, 3, 136, &cur);
        assert_int_equal(cur.bucket[10], 12);
        assert_int_equal(cur.bucket[20], 1);
        assert_int_equal(cur.sum_ns, 1503000);

        schedlat_snap_delta(&cur, &prev, &d);
        assert_int_equal(d.count[10], 12);
        assert_int_equal(d.total, 13);
        assert_int_equal(d.sum_ns, 1503000);

        /* 32-bit counters wrap: the difference is taken modulo 2^32, also after summing CPUs. */
        prev.bucket[3] = 0xfffffff0u;
        cur = prev;
        cur.bucket[3] = 0x10;
        cur.sum_ns = prev.sum_ns + 77;
        schedlat_snap_delta(&cur, &prev, &d);
        assert_int_equal(d.count[3], 0x20);
        assert_int_equal(d.total, 0x20);
        assert_int_equal(d.sum_ns, 77);

        h[0] = (struct schedlat_hist){};
        h[1] = (struct schedlat_hist){};
        h[0].bucket[0] = 0xffffffffu;
        h[1].bucket[0] = 2;
        memcpy(buf, &h[0], sizeof(h[0]));
        memcpy(buf + 136, &h[1], sizeof(h[1]));
        schedlat_snap_sum(buf, 2, 136, &cur);
        assert_int_equal(cur.bucket[0], 1); /* (2^32 - 1 + 2) mod 2^32 */
}

static void test_delta_add(void **state)
{
        struct schedlat_delta a = {}, b = {};

        a.count[5] = 3;
        a.total = 3;
        a.sum_ns = 100;
        b.count[5] = 1;
        b.count[6] = 2;
        b.total = 3;
        b.sum_ns = 200;
        schedlat_delta_add(&a, &b);
        assert_int_equal(a.count[5], 4);
        assert_int_equal(a.count[6], 2);
        assert_int_equal(a.total, 6);
        assert_int_equal(a.sum_ns, 300);
}

static void test_percentile(void **state)
{
        struct schedlat_delta d = {};

        assert_int_equal(schedlat_percentile_ns(&d, 500), 0);

        /* 100 samples in [1024, 2048): linear inside the bucket. */
        d.count[10] = 100;
        d.total = 100;
        assert_int_equal(schedlat_percentile_ns(&d, 500), 1536);
        assert_int_equal(schedlat_percentile_ns(&d, 990), 2038); /* 1024 + 1024 * 0.99 = 2037.76 */
        assert_int_equal(schedlat_percentile_ns(&d, 1000), 2048);

        /* 90 in [1024, 2048), 10 in [2^20, 2^21). */
        d.count[20] = 10;
        d.total = 100;
        d.count[10] = 90;
        assert_int_equal(schedlat_percentile_ns(&d, 500), 1593);    /* 1024 + 1024 * 50/90 */
        assert_int_equal(schedlat_percentile_ns(&d, 900), 2048);    /* the 90th is the last of bucket 10 */
        assert_int_equal(schedlat_percentile_ns(&d, 990), 1992294); /* 2^20 + 2^20 * 9/10 */

        /* One sample: the middle of its bucket; bucket 0 is [0, 2). */
        d = (struct schedlat_delta){};
        d.count[0] = 1;
        d.total = 1;
        assert_int_equal(schedlat_percentile_ns(&d, 500), 1);
        assert_int_equal(schedlat_percentile_ns(&d, 0), 0);

        /* The open-ended last bucket is read as [2^31, 2^32). */
        d = (struct schedlat_delta){};
        d.count[31] = 4;
        d.total = 4;
        assert_int_equal(schedlat_percentile_ns(&d, 500), (UINT64_C(1) << 31) + (UINT64_C(1) << 30));

        /* Percentiles never decrease with the rank. */
        d = (struct schedlat_delta){};
        for (unsigned b = 0; b < SCHEDLAT_NBUCKETS; b++) {
                d.count[b] = (b * 7919) % 13;
                d.total += d.count[b];
        }
        uint64_t last = 0;
        for (unsigned p = 1; p <= 1000; p++) {
                uint64_t v = schedlat_percentile_ns(&d, p);
                assert_true(v >= last);
                last = v;
        }
}

static void test_schedstat_parse(void **state)
{
        struct schedlat_schedstat st;
        const char cut[] = "1 2 3999"; /* not NUL-terminated at len 5 */

        assert_int_equal(schedlat_schedstat_parse("123 456 789\n", 12, &st), 0);
        assert_int_equal(st.run_ns, 123);
        assert_int_equal(st.wait_ns, 456);
        assert_int_equal(st.timeslices, 789);
        assert_int_equal(schedlat_schedstat_parse("18446744073709551615 0 0", 24, &st), 0);
        assert_int_equal(st.run_ns, UINT64_MAX);
        assert_int_equal(schedlat_schedstat_parse(cut, 5, &st), 0);
        assert_int_equal(st.timeslices, 3);

        static const char *const bad[] = {
                "",       "\n",        "1 2",   "1 2\n",  "1 2 3 4\n",
                "1  2 3", " 1 2 3",    "a b c", "1 2 3x", "18446744073709551616 0 0",
                "1 -2 3", "1 2 3\n\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(schedlat_schedstat_parse(bad[i], strlen(bad[i]), &st), -EINVAL);
}

static void test_points_percentile(void **state)
{
        struct schedlat_point p[] = {{1000, 1}, {10, 98}, {100, 1}, {5, 0}};

        assert_int_equal(schedlat_points_percentile_ns(p, 4, 500), 10);
        assert_int_equal(schedlat_points_percentile_ns(p, 4, 980), 10);
        assert_int_equal(schedlat_points_percentile_ns(p, 4, 990), 100);
        assert_int_equal(schedlat_points_percentile_ns(p, 4, 1000), 1000);
        assert_int_equal(schedlat_points_percentile_ns(p, 0, 500), 0);

        struct schedlat_point none[] = {{7, 0}};
        assert_int_equal(schedlat_points_percentile_ns(none, 1, 990), 0);
}

static void test_comm_is_vcpu(void **state)
{
        static const struct {
                const char *comm;
                bool vcpu;
        } cases[] = {
                {"CPU 0/KVM\n", true},
                {"CPU 0/KVM", true},
                {"CPU 123/KVM\n", true},
                {"CPU 1/TCG\n", true},
                {"CPU /KVM\n", false},
                {"CPU 1/KVMX", false},
                {"CPU 1/kvm", false},
                {"CPU1/KVM", false},
                {"qemu-system-x86", false},
                {"", false},
                {"\n", false},
                {"CPU 1/KVM\n\n", false},
                {"CPU x/KVM", false},
                {"IO mon_iothread", false},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (schedlat_comm_is_vcpu(cases[i].comm, strlen(cases[i].comm)) != cases[i].vcpu)
                        fail_msg("\"%s\": expected %d", cases[i].comm, cases[i].vcpu);

        /* the vCPU's index, which the CPU law names when that vCPU is the worst */
        assert_int_equal(schedlat_comm_vcpu_index("CPU 0/KVM\n", 10), 0);
        assert_int_equal(schedlat_comm_vcpu_index("CPU 123/TCG", 11), 123);
        assert_int_equal(schedlat_comm_vcpu_index("CPU 1234567/KVM", 15), -1); /* not a number QEMU gives */
        assert_int_equal(schedlat_comm_vcpu_index("IO mon_iothread", 15), -1);
}

/* The schedstat fallback on a fake /proc: pid 100 with a vCPU thread (101) and a worker (102). */
static void write_thread(int fd, int tid, const char *comm, const char *schedstat)
{
        char path[64];

        snprintf(path, sizeof(path), "100/task/%d/comm", tid);
        tmptree_write_string(fd, path, comm);
        snprintf(path, sizeof(path), "100/task/%d/schedstat", tid);
        tmptree_write_string(fd, path, schedstat);
}

static void test_fallback_schedstat(void **state)
{
        char path[4096];
        int fd = tmptree_new(path, sizeof(path));
        struct schedlat_options o = {.proc_fd = fd, .sys_fd = fd, .use = SCHEDLAT_USE_SCHEDSTAT};
        struct schedlat_totals t;
        struct runq_latency q;
        struct schedlat *s = NULL;
        unsigned id;
        char *log;

        tmptree_write_string(fd, "self/schedstat", "0 0 0\n");
        write_thread(fd, 101, "CPU 0/KVM\n", "1000 5000 10\n");
        write_thread(fd, 102, "worker\n", "1000 200 2\n");

        stderr_capture_start();
        assert_int_equal(schedlat_new(&o, &s), 0);
        log = stderr_capture_stop();
        assert_contains(log, "eBPF not used (disabled by configuration); using schedstat");
        free(log);
        assert_int_equal(schedlat_source(s), RUNQ_SOURCE_SCHEDSTAT);
        assert_string_equal(schedlat_mode(s), "schedstat");

        assert_int_equal(schedlat_vm_add(s, fd, 100, &id), 0);
        /* The first read has nothing to diff against. */
        assert_int_equal(schedlat_read(s, id, &q, &t), 0);
        assert_int_equal(q.source, RUNQ_SOURCE_NONE);

        /* The vCPU ran 100 times and waited 100 ms: 1 ms per run; the worker ran 10 times, 10 us per run. */
        write_thread(fd, 101, "CPU 0/KVM\n", "2000 100005000 110\n");
        write_thread(fd, 102, "worker\n", "2000 100200 12\n");
        assert_int_equal(schedlat_read(s, id, &q, &t), 0);
        assert_int_equal(q.source, RUNQ_SOURCE_SCHEDSTAT);
        assert_int_equal(q.samples, 110);
        assert_int_equal(t.samples, 110);
        assert_int_equal(t.wait_ns, 100000000 + 100000);
        assert_int_equal(t.vcpu_samples, 100);
        assert_int_equal(t.vcpu_wait_ns, 100000000);
        assert_int_equal(q.p50_usec, 1000); /* the runs are nearly all the vCPU's */
        assert_int_equal(q.p99_usec, 1000);
        assert_int_equal(q.vcpu_p99_usec, 1000);

        /* A quiet tick: measured, nothing waited. */
        assert_int_equal(schedlat_read(s, id, &q, &t), 0);
        assert_int_equal(q.source, RUNQ_SOURCE_SCHEDSTAT);
        assert_int_equal(q.samples, 0);
        assert_int_equal(q.p99_usec, 0);

        /* vCPU registration by hand, and an unknown id. */
        assert_int_equal(schedlat_vcpu_remove(s, id, 101), 0);
        assert_int_equal(schedlat_vcpu_remove(s, id, 999), -ENOENT);
        assert_int_equal(schedlat_vcpu_add(s, id, 102), 0);
        write_thread(fd, 102, "worker\n", "2000 300200 14\n");
        assert_int_equal(schedlat_read(s, id, &q, &t), 0);
        assert_int_equal(t.vcpu_samples, 2);
        assert_int_equal(q.vcpu_p99_usec, 100);
        assert_int_equal(schedlat_read(s, id + 1, &q, &t), -EINVAL);

        /* A new thread appears: a scan picks it up. */
        write_thread(fd, 103, "CPU 1/KVM\n", "0 0 0\n");
        assert_int_equal(schedlat_vm_scan(s, id), 0);
        write_thread(fd, 103, "CPU 1/KVM\n", "0 4000 2\n");
        assert_int_equal(schedlat_read(s, id, &q, &t), 0);
        assert_int_equal(t.vcpu_samples, 0); /* its first read is the baseline */
        assert_int_equal(schedlat_read(s, id, &q, &t), 0);
        write_thread(fd, 103, "CPU 1/KVM\n", "0 8000 4\n");
        assert_int_equal(schedlat_read(s, id, &q, &t), 0);
        assert_int_equal(t.vcpu_samples, 2);
        assert_int_equal(t.vcpu_wait_ns, 4000);

        schedlat_vm_remove(s, id);
        assert_int_equal(schedlat_read(s, id, &q, &t), -EINVAL);
        /* the slot is free again */
        assert_int_equal(schedlat_vm_add(s, fd, 100, &id), 0);
        assert_int_equal(id, 0);
        assert_int_equal(schedlat_vm_add(s, fd, 4242, &id), -ENOENT);
        schedlat_free(s);
        tmptree_remove(path, -1);
}

static void test_no_btf(void **state)
{
        char path[4096];
        int fd = tmptree_new(path, sizeof(path));
        struct schedlat_options o = {.proc_fd = fd, .sys_fd = fd, .use = SCHEDLAT_USE_AUTO};
        struct schedlat *s = NULL;
        char *log;

        tmptree_write_string(fd, "self/schedstat", "0 0 0\n");
        stderr_capture_start();
        assert_int_equal(schedlat_new(&o, &s), 0);
        log = stderr_capture_stop();
        assert_contains(log, "eBPF unavailable: no kernel BTF (/sys/kernel/btf/vmlinux: No such file or directory); "
                             "using schedstat");
        free(log);
        assert_int_equal(schedlat_source(s), RUNQ_SOURCE_SCHEDSTAT);
        schedlat_free(s);

        /* Neither BPF nor schedstat: not measured, but not an error either. */
        assert_int_equal(unlinkat(fd, "self/schedstat", 0), 0);
        stderr_capture_start();
        assert_int_equal(schedlat_new(&o, &s), 0);
        log = stderr_capture_stop();
        assert_contains(log, "run-queue latency is not measured");
        free(log);
        assert_int_equal(schedlat_source(s), RUNQ_SOURCE_NONE);
        schedlat_free(s);
        tmptree_remove(path, fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bucket),
                cmocka_unit_test(test_bucket_bounds),
                cmocka_unit_test(test_snap_sum_and_delta),
                cmocka_unit_test(test_delta_add),
                cmocka_unit_test(test_percentile),
                cmocka_unit_test(test_schedstat_parse),
                cmocka_unit_test(test_chunk_take),
                cmocka_unit_test(test_points_percentile),
                cmocka_unit_test(test_comm_is_vcpu),
                cmocka_unit_test(test_fallback_schedstat),
                cmocka_unit_test(test_no_btf),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
