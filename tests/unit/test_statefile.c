/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal of originals: on disk before a file changes, read back exactly, and never a way to write elsewhere. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "act/actuator.h"
#include "act/statefile.h"
#include "testutil.h"

static struct original orig(const char *cg, const char *file, const char *value)
{
        struct original o = {.cgroup = (char *)cg, .setting = {.controller = CGROUP_CPU}};
        snprintf(o.setting.file, sizeof(o.setting.file), "%s", file);
        snprintf(o.setting.value, sizeof(o.setting.value), "%s", value);
        return o;
}

static void test_round_trip(void **state)
{
        struct original in[] = {orig("vmgov/web/web-1", "cpu.max", "max 100000"),
                                orig("operator/odd name%", "io.max", "254:0 rbps=max wbps=max riops=max wiops=max")};
        struct original *out = NULL;
        char *text = NULL;
        size_t n = 0;
        unsigned line = 0;

        in[1].setting.major = 254;
        in[1].setting.controller = CGROUP_IO;
        assert_int_equal(statefile_format(in, 2, &text), 0);
        assert_string_equal(text,
                            "vmgov-state 1\n"
                            "original cgroup=vmgov/web/web-1 file=cpu.max dev=0:0 controller=0 value=max%20100000\n"
                            "original cgroup=operator/odd%20name%25 file=io.max dev=254:0 controller=2 "
                            "value=254:0%20rbps%3Dmax%20wbps%3Dmax%20riops%3Dmax%20wiops%3Dmax\n");
        assert_int_equal(statefile_parse(text, &out, &n, &line), 0);
        assert_int_equal(n, 2);
        assert_string_equal(out[1].cgroup, "operator/odd name%");
        assert_string_equal(out[1].setting.value, in[1].setting.value);
        assert_int_equal(out[1].setting.major, 254);
        assert_int_equal(out[1].setting.controller, CGROUP_IO);
        statefile_free(out, n);
        free(text);
}

static void test_refuses_what_the_engine_never_writes(void **state)
{
        static const char *const bad[] = {
                "vmgov-state 1\noriginal cgroup=a file=cgroup.procs dev=0:0 controller=0 value=1\n",
                "vmgov-state 1\noriginal cgroup=../etc file=cpu.max dev=0:0 controller=0 value=1\n",
                "vmgov-state 1\noriginal cgroup=%2Fetc file=cpu.max dev=0:0 controller=0 value=1\n",
                "vmgov-state 1\noriginal cgroup=a file=cpu.max dev=0:0 controller=9 value=1\n",
                "vmgov-state 1\noriginal cgroup=a file=cpu.max value=1\n",
                "vmgov-state 2\n",
                "",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct original *out = NULL;
                size_t n = 0;
                unsigned line = 0;
                if (statefile_parse(bad[i], &out, &n, &line) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
        }
}

static void test_journal_before_write(void **state)
{
        char path[4096], statepath[4200];
        int fd = tmptree_new(path, sizeof(path));
        int vm_fd;
        struct actuator a;
        struct setting s = {.file = "cpu.max", .controller = CGROUP_CPU, .value = "20000 100000"};
        struct original *out = NULL;
        size_t n = 0;

        tmptree_write_string(fd, "vm/cpu.max", "max 100000\n");
        tmptree_write_string(fd, "vm/cpu.weight", "100\n");
        vm_fd = openat(fd, "vm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct actuator_target t = {.vm = "x", .pid = 1, .group = "g", .cgroup = "vm", .cgroup_fd = vm_fd};

        /* The journal cannot be written: the file is not changed either. */
        actuator_init(&a, false, fd, -1);
        a.state_path = "/proc/vmgov-no-such-dir/state";
        assert_true(actuator_apply(&a, &t, &s, "policy") < 0);
        assert_int_equal(a.n_originals, 0);
        actuator_done(&a);
        int cfd = openat(fd, "vm/cpu.max", O_RDONLY);
        char buf[64] = {0};
        assert_true(read(cfd, buf, sizeof(buf)) > 0);
        close(cfd);
        assert_string_equal(buf, "max 100000\n");

        /* It can: the original is on disk, and a second engine takes it over and restores it. */
        snprintf(statepath, sizeof(statepath), "%s/run/state", path);
        actuator_init(&a, false, fd, -1);
        a.state_path = statepath;
        assert_int_equal(actuator_apply(&a, &t, &s, "policy"), 1);
        assert_int_equal(statefile_load(statepath, &out, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(out[0].setting.value, "max 100000");
        statefile_free(out, n);
        actuator_done(&a); /* as if SIGKILLed: nothing restored */

        struct actuator b;
        actuator_init(&b, false, fd, -1);
        b.state_path = statepath;
        assert_int_equal(actuator_take_over(&b), 1);
        assert_int_equal(actuator_restore(&b), 0);
        cfd = openat(fd, "vm/cpu.max", O_RDONLY);
        memset(buf, 0, sizeof(buf));
        assert_true(read(cfd, buf, sizeof(buf)) > 0);
        close(cfd);
        assert_string_equal(buf, "max 100000");
        /* Restored: the journal is empty. */
        assert_int_equal(statefile_load(statepath, &out, &n), 0);
        assert_int_equal(n, 0);
        statefile_free(out, n);

        /* A journal that others may write is not trusted. */
        chmod(statepath, 0666);
        assert_int_equal(statefile_load(statepath, &out, &n), -EPERM);
        close(vm_fd);
        tmptree_remove(path, fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_refuses_what_the_engine_never_writes),
                cmocka_unit_test(test_journal_before_write),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
