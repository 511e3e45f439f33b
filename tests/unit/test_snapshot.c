/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's status file: what the daemon writes, status reads back the same; hostile strings stay one field;
 * a broken file is refused with its line, never half-read. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "publish/snapshot.h"

static const struct snapshot_daemon daemon_info = {
        .pid = 812,
        .time_usec = 1795689222000000,
        .interval_usec = 1000000,
        .ticks = 42,
        .dry_run = true,
        .runq_source = "tp_btf",
        .policy = "/etc/vmgov/policy.d",
        .writes = 12,
        .errors = 1,
};

static void fill(struct snapshot_vm *v, int i)
{
        *v = (struct snapshot_vm){.id = {.pid = 4242 + i, .start_time = 81234, .uid = 0}};
        assert_int_equal(asprintf(&v->id.name, "web %d\n\"x\"=y%%", i) > 0, 1);
        v->id.exe = strdup("qemu-system-x86_64");
        assert_non_null(v->id.exe);
        snprintf(v->id.uuid, sizeof(v->id.uuid), "6b29fc40-ca47-1067-b31d-00dd010662da");
        assert_int_equal(asprintf(&v->id.cgroup, "/vmgov/web/web_%d", i) > 0, 1);
        v->sig = (struct vm_signals){.interval_usec = 1000000,
                                     .cpu = {.some_ppm = 120000},
                                     .memory_current = 1ULL << 30,
                                     .memory_reclaim = 1,
                                     .runq = {.source = RUNQ_SOURCE_BPF, .p99_usec = 4200}};
        v->st = (struct snapshot_state){.sensed = true, .decisions = 3, .errors = 0, .decided_usec = 1795689220000000};
        snprintf(v->st.group, sizeof(v->st.group), "web");
        snprintf(v->st.cgroup, sizeof(v->st.cgroup), "vmgov/web/web_%d", i);
        snprintf(v->st.cpu_max, sizeof(v->st.cpu_max), "150000 100000");
        snprintf(v->st.cpu_weight, sizeof(v->st.cpu_weight), "idle");
        snprintf(v->st.memory_high, sizeof(v->st.memory_high), "268435456");
        snprintf(v->st.io_max, sizeof(v->st.io_max),
                 "254:0 rbps=1000000 wbps=max riops=max wiops=max;1:0 rbps=max "
                 "wbps=5 riops=max wiops=max");
        snprintf(v->st.reason, sizeof(v->st.reason), "cpu: latency VM x: run-queue p99 14663us > target 1000us\n");
}

static char *format(const struct snapshot_vm *vms, size_t n)
{
        struct snapshot_text t = {0};

        assert_int_equal(snapshot_format_daemon(&t, &daemon_info), 0);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(snapshot_format_vm(&t, &vms[i].id, &vms[i].sig, &vms[i].st), 0);
        assert_int_equal(strlen(t.buf), t.len);
        return t.buf;
}

static void test_round_trip(void **state)
{
        struct snapshot_vm in[3], *out = NULL;
        struct snapshot_daemon d;
        size_t n = 0;
        unsigned line = 0;

        for (int i = 0; i < 3; i++)
                fill(&in[i], i);
        in[2].st = (struct snapshot_state){0}; /* unmanaged: nothing but its identity */
        in[1].st.frozen = true;                /* by the engine (HostFreezePressure=), for 42 s */
        in[1].st.frozen_usec = 42000000;
        char *text = format(in, 3);

        /* one line each: magic, daemon, and a vm + state pair per VM, whatever the names hold */
        size_t lines = 0;
        for (const char *p = text; *p; p++)
                lines += *p == '\n';
        assert_int_equal(lines, 2 + 2 * 3);

        assert_int_equal(snapshot_parse(text, &d, &out, &n, &line), 0);
        assert_int_equal(n, 3);
        assert_memory_equal(&d, &daemon_info, sizeof(d));
        for (int i = 0; i < 3; i++) {
                assert_int_equal(out[i].id.pid, in[i].id.pid);
                assert_string_equal(out[i].id.name, in[i].id.name);
                assert_string_equal(out[i].id.cgroup, in[i].id.cgroup);
                assert_int_equal(out[i].sig.cpu.some_ppm, in[i].sig.cpu.some_ppm);
                assert_int_equal(out[i].sig.memory_reclaim, 1);
                assert_int_equal(out[i].sig.runq.p99_usec, 4200);
                assert_memory_equal(&out[i].st, &in[i].st, sizeof(in[i].st));
        }
        snapshot_vms_free(out, n);
        free(text);
        for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
                vm_identity_done(&in[i].id);
}

/* Any user's QEMU look-alike is in the status file too, unmanaged: the longest cgroup path it can have, every byte
 * one that is encoded, and a 1 KiB name still make a file that reads back (once, such a VM made the whole file
 * fail to write, and vmgov status fell back to sampling). */
static void test_longest_strings(void **state)
{
        static struct snapshot_vm in[2];
        struct snapshot_vm *out = NULL;
        struct snapshot_daemon d;
        size_t n = 0;
        unsigned line = 0;

        fill(&in[0], 0);
        fill(&in[1], 1);
        in[1].st = (struct snapshot_state){0};
        in[1].id.name = realloc(in[1].id.name, VM_NAME_MAX + 1);
        assert_non_null(in[1].id.name);
        memset(in[1].id.name, '\n', VM_NAME_MAX);
        in[1].id.name[VM_NAME_MAX] = '\0';
        /* the longest cgroup path taken */
        in[1].id.cgroup = realloc(in[1].id.cgroup, VM_CGROUP_MAX);
        assert_non_null(in[1].id.cgroup);
        memset(in[1].id.cgroup, ' ', VM_CGROUP_MAX - 1);
        in[1].id.cgroup[0] = '/';
        in[1].id.cgroup[VM_CGROUP_MAX - 1] = '\0';
        char *text = format(in, 2);

        assert_int_equal(snapshot_parse(text, &d, &out, &n, &line), 0);
        assert_int_equal(n, 2);
        assert_string_equal(out[1].id.name, in[1].id.name);
        assert_string_equal(out[1].id.cgroup, in[1].id.cgroup);
        assert_string_equal(out[0].id.name, in[0].id.name);
        snapshot_vms_free(out, n);
        free(text);
        for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
                vm_identity_done(&in[i].id);
}

static void test_malformed(void **state)
{
        static const struct {
                const char *text;
                int error;
                unsigned line;
        } cases[] = {
                {"", -EBADMSG, 0},
                {"vmgov-signals 1\n", -EBADMSG, 0},
                {"vmgov-status 1\n", -EINVAL, 1},                                       /* no daemon line */
                {"vmgov-status 1\ndaemon pid=x\n", -EINVAL, 2},                         /* not a number */
                {"vmgov-status 1\ndaemon pid=0\n", -EINVAL, 2},                         /* not a pid */
                {"vmgov-status 1\ndaemon ticks=3\n", -EINVAL, 2},                       /* no pid */
                {"vmgov-status 1\ndaemon pid=5\nstate group=a\n", -EINVAL, 3},          /* state without its vm */
                {"vmgov-status 1\ndaemon pid=5\nvm pid=7 start=1 uid=0\n", -EINVAL, 3}, /* vm without its state */
                {"vmgov-status 1\ndaemon pid=5\nvm pid=7 start=1 uid=0\nvm pid=8 start=1 uid=0\n", -EINVAL, 4},
                {"vmgov-status 1\ndaemon pid=5\nvm pid=7 start=1 uid=0\nstate reason=%zz\n", -EINVAL, 4},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct snapshot_daemon d;
                struct snapshot_vm *vms = NULL;
                size_t n = 0;
                unsigned line = 99;
                int r = snapshot_parse(cases[i].text, &d, &vms, &n, &line);
                if (r != cases[i].error || (r == -EINVAL && line != cases[i].line))
                        fail_msg("case %zu: %d at line %u, expected %d at line %u", i, r, line, cases[i].error,
                                 cases[i].line);
                assert_null(vms);
        }
}

/* A VM whose threads are placed apart: a "thread" line per child after its state, read back to the same rows; the
 * cpus text is the kernel's, encoded like any other. */
static void test_thread_rows(void **state)
{
        struct thread_signals rows[3] = {
                {.name = "vcpu0",
                 .tid = 4250,
                 .runq_measured = true,
                 .runq_samples = 812,
                 .runq_p99_usec = 130,
                 .stat_read = true,
                 .usage_usec = 912000,
                 .usage_ppm = 201000,
                 .nr_periods = 31,
                 .nr_throttled = 30,
                 .throttled_usec = 2400000,
                 .cpus = "0"},
                {.name = "iothread0", .tid = 4251, .stat_read = true, .usage_usec = 5, .cpus = "0-1,3 x\n%"},
                {.name = "emulator", .tid = 0}, /* its child could not be read */
        };
        struct snapshot_vm in[2], *out = NULL;
        struct snapshot_text t = {0};
        struct snapshot_daemon d;
        size_t n = 0;
        unsigned line = 0;

        fill(&in[0], 0);
        fill(&in[1], 1);
        assert_int_equal(snapshot_format_daemon(&t, &daemon_info), 0);
        assert_int_equal(snapshot_format_vm(&t, &in[0].id, &in[0].sig, &in[0].st), 0);
        for (size_t k = 0; k < 3; k++)
                assert_int_equal(snapshot_format_thread(&t, &rows[k]), 0);
        assert_int_equal(snapshot_format_vm(&t, &in[1].id, &in[1].sig, &in[1].st), 0);

        assert_int_equal(snapshot_parse(t.buf, &d, &out, &n, &line), 0);
        assert_int_equal(n, 2);
        assert_int_equal(out[0].n_threads, 3);
        for (size_t k = 0; k < 3; k++)
                assert_memory_equal(&out[0].threads[k], &rows[k], sizeof(rows[k]));
        assert_int_equal(out[1].n_threads, 0);
        assert_null(out[1].threads);
        snapshot_vms_free(out, n);

        /* a thread line with no VM before it, or between a vm line and its state, or without a name: refused */
        static const char *const bad[] = {
                "vmgov-status 1\ndaemon pid=5\nthread name=vcpu0\n",
                "vmgov-status 1\ndaemon pid=5\nvm pid=7 start=1 uid=0\nthread name=vcpu0\nstate group=a\n",
                "vmgov-status 1\ndaemon pid=5\nvm pid=7 start=1 uid=0\nstate group=a\nthread tid=3\n",
                "vmgov-status 1\ndaemon pid=5\nvm pid=7 start=1 uid=0\nstate group=a\nthread name=v tid=-1\n",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                out = NULL;
                line = 0;
                assert_int_equal(snapshot_parse(bad[i], &d, &out, &n, &line), -EINVAL);
                assert_true(line >= 3);
                assert_null(out);
        }
        free(t.buf);
        for (size_t i = 0; i < 2; i++)
                vm_identity_done(&in[i].id);
}

/* A newer daemon's keys and records are skipped, not refused. */
static void test_unknown_keys(void **state)
{
        struct snapshot_daemon d;
        struct snapshot_vm *vms = NULL;
        size_t n = 0;
        unsigned line = 0;

        assert_int_equal(snapshot_parse("vmgov-status 1\ndaemon pid=5 ticks=2 colour=blue\nfuture x=1\n"
                                        "vm pid=7 start=1 uid=0 name=a new_signal=3\nstate group=g shiny=1\n",
                                        &d, &vms, &n, &line),
                         0);
        assert_int_equal(d.pid, 5);
        assert_int_equal(d.ticks, 2);
        assert_int_equal(n, 1);
        assert_string_equal(vms[0].id.name, "a");
        assert_string_equal(vms[0].st.group, "g");
        snapshot_vms_free(vms, n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_longest_strings),
                cmocka_unit_test(test_malformed),   cmocka_unit_test(test_unknown_keys),
                cmocka_unit_test(test_thread_rows),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
