/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Signal recordings: what is written reads back the same, hostile names stay one field, bad lines are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "publish/recorder.h"

static void fill(struct vm_identity *id, struct vm_signals *sig)
{
        *id = (struct vm_identity){.pid = 4242, .start_time = 81234, .uid = 64055};
        id->name = strdup("web 1\n\"x\"=y%");
        id->exe = strdup("qemu-system-x86_64");
        assert_non_null(id->name);
        assert_non_null(id->exe);
        snprintf(id->uuid, sizeof(id->uuid), "6b29fc40-ca47-1067-b31d-00dd010662da");
        id->cgroup = strdup("/vmgov/web/web_1-12345678");
        assert_non_null(id->cgroup);
        *sig = (struct vm_signals){
                .interval_usec = 1000000,
                .cpu = {.some_ppm = 120000, .full_ppm = 3},
                .memory = {.some_ppm = 900},
                .io = {.some_ppm = 55000, .full_ppm = 40000},
                .cpu_usage_usec = 750000,
                .cpu_nr_throttled = 9,
                .memory_current = 1ULL << 30,
                .memory_high = UINT64_MAX,
                .memory_unreclaimable = 300 << 20,
                .n_io_devices = 2,
                .io_devices = {{254, 0, 4096, 8192, 1, 2}, {1, 0, 5, 6, 7, 8}},
                .runq = {.source = RUNQ_SOURCE_BPF,
                         .samples = 1000,
                         .p50_usec = 10,
                         .p90_usec = 200,
                         .p99_usec = 4200,
                         .vcpu_p99_usec = 3900},
        };
}

static void test_round_trip(void **state)
{
        struct vm_identity id, id2;
        struct vm_signals sig, sig2;
        struct host_signals host = {.interval_usec = 1000000, .cpu = {.some_ppm = 7}, .ncpus = 2}, host2;
        char line[RECORDER_LINE_MAX];
        uint64_t now;
        int n;

        fill(&id, &sig);
        n = recorder_format_vm(&id, &sig, line, sizeof(line));
        assert_true(n > 0);
        assert_int_equal(line[n - 1], '\n');
        assert_null(memchr(line, '\n', n - 1)); /* one line, whatever the name holds */
        assert_non_null(strstr(line, " name=web%201%0A%22x%22%3Dy%25 "));
        line[n - 1] = '\0';
        assert_int_equal(recorder_parse_vm(line, &id2, &sig2), 0);
        assert_string_equal(id2.name, id.name);
        assert_string_equal(id2.uuid, id.uuid);
        assert_string_equal(id2.cgroup, id.cgroup);
        assert_int_equal(id2.pid, 4242);
        assert_int_equal(id2.start_time, 81234);
        assert_int_equal(id2.uid, 64055);
        assert_memory_equal(&sig2, &sig, sizeof(sig));

        n = recorder_format_tick(5000000, &host, line, sizeof(line));
        assert_true(n > 0);
        line[n - 1] = '\0';
        assert_int_equal(recorder_parse_tick(line, &now, &host2), 0);
        assert_int_equal(now, 5000000);
        assert_memory_equal(&host2, &host, sizeof(host));

        assert_int_equal(recorder_format_vm(&id, &sig, line, 64), -ENOBUFS);
        vm_identity_done(&id);
        vm_identity_done(&id2);
}

/* The longest strings discovery hands over, every byte one that is encoded (a cgroup path of 4095 bytes under a
 * user's delegated subtree, spaces and all; a 1024-byte -name; a 256-byte exe name), still make one line that reads
 * back the same: the recording and the status file (which is made of these lines) never fail for a VM's strings. */
static void test_longest_strings(void **state)
{
        static struct vm_identity id, id2;
        struct vm_signals sig, sig2;
        static char line[RECORDER_LINE_MAX];
        int n;

        fill(&id, &sig);
        id.name = realloc(id.name, VM_NAME_MAX + 1);
        id.exe = realloc(id.exe, VM_EXE_MAX + 1);
        assert_non_null(id.name);
        assert_non_null(id.exe);
        memset(id.name, '%', VM_NAME_MAX);
        id.name[VM_NAME_MAX] = '\0';
        memset(id.exe, '\x1b', VM_EXE_MAX);
        id.exe[VM_EXE_MAX] = '\0';
        id.cgroup = realloc(id.cgroup, VM_CGROUP_MAX);
        assert_non_null(id.cgroup);
        memset(id.cgroup, ' ', VM_CGROUP_MAX - 1);
        id.cgroup[0] = '/';
        id.cgroup[VM_CGROUP_MAX - 1] = '\0';
        n = recorder_format_vm(&id, &sig, line, sizeof(line));
        assert_true(n > 0);
        assert_null(memchr(line, '\n', n - 1));
        line[n - 1] = '\0';
        assert_int_equal(recorder_parse_vm(line, &id2, &sig2), 0);
        assert_string_equal(id2.name, id.name);
        assert_string_equal(id2.exe, id.exe);
        assert_string_equal(id2.cgroup, id.cgroup);
        vm_identity_done(&id);
        vm_identity_done(&id2);
}

static void test_bad_lines(void **state)
{
        struct vm_identity id;
        struct vm_signals sig;
        struct host_signals host;
        uint64_t now;

        assert_int_equal(recorder_parse_vm("vm name=x", &id, &sig), -EINVAL); /* no pid */
        assert_int_equal(recorder_parse_vm("vm pid=1 cpu_some_ppm=12x", &id, &sig), -EINVAL);
        assert_int_equal(recorder_parse_vm("vm pid=1 name=%zz", &id, &sig), -EINVAL);
        assert_int_equal(recorder_parse_vm("vm pid=1 name=%4", &id, &sig), -EINVAL);
        assert_int_equal(recorder_parse_vm("vm pid=1 io0=1:2:3", &id, &sig), -EINVAL);
        assert_int_equal(recorder_parse_vm("vm pid=1 io99=1:2:3:4:5:6", &id, &sig), -EINVAL);
        assert_int_equal(recorder_parse_vm("vm pid=1 runq_source=magic", &id, &sig), -EINVAL);
        assert_int_equal(recorder_parse_vm("vm pid=1 =3", &id, &sig), -EINVAL);
        assert_int_equal(recorder_parse_vm("vmx pid=1", &id, &sig), -EINVAL);
        assert_int_equal(recorder_parse_vm("vm pid=99999999999999999999999", &id, &sig), -EINVAL);
        /* A key from a newer engine is not an error. */
        assert_int_equal(recorder_parse_vm("vm pid=1 future_signal=5", &id, &sig), 0);
        assert_int_equal(recorder_parse_tick("tick interval_usec=5", &now, &host), -EINVAL); /* no time */
}

static void test_read_ticks(void **state)
{
        static const char text[] = "vmgov-signals 1\n"
                                   "# a comment\n"
                                   "tick now_usec=1000000 interval_usec=0\n"
                                   "vm pid=10 name=a\n"
                                   "vm pid=11 name=b\n"
                                   "tick now_usec=2000000 interval_usec=1000000\n"
                                   "vm pid=10 name=a cpu_some_ppm=5\n"
                                   "\n"
                                   "tick now_usec=3000000 interval_usec=1000000\n";
        FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
        struct recorded_tick t = {0};
        unsigned line = 0;

        assert_int_equal(recorder_read_tick(f, &t, &line), 1);
        assert_int_equal(t.now_usec, 1000000);
        assert_int_equal(t.n_vms, 2);
        assert_string_equal(t.vms[1].id.name, "b");
        assert_int_equal(recorder_read_tick(f, &t, &line), 1);
        assert_int_equal(t.now_usec, 2000000);
        assert_int_equal(t.n_vms, 1);
        assert_int_equal(t.vms[0].sig.cpu.some_ppm, 5);
        assert_int_equal(recorder_read_tick(f, &t, &line), 1);
        assert_int_equal(t.now_usec, 3000000);
        assert_int_equal(t.n_vms, 0);
        assert_int_equal(recorder_read_tick(f, &t, &line), 0);
        fclose(f);
        recorder_tick_done(&t);

        static const char bad[] = "vmgov-signals 1\ntick now_usec=1\nvm pid=1\nvm broken\n";
        f = fmemopen((void *)bad, sizeof(bad) - 1, "r");
        line = 0;
        assert_int_equal(recorder_read_tick(f, &t, &line), -EINVAL);
        assert_int_equal(line, 4);
        fclose(f);
        recorder_tick_done(&t);

        static const char nomagic[] = "tick now_usec=1\n";
        f = fmemopen((void *)nomagic, sizeof(nomagic) - 1, "r");
        line = 0;
        assert_int_equal(recorder_read_tick(f, &t, &line), -EINVAL);
        assert_int_equal(line, 1);
        fclose(f);
        recorder_tick_done(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_longest_strings),
                cmocka_unit_test(test_bad_lines),
                cmocka_unit_test(test_read_ticks),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
