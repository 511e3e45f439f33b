/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tap discovery: the fdinfo and command-line parsers on literals, the readers on tests/fixtures/tapdev. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/macro.h"
#include "kernel/procfs.h"
#include "act/tapdev.h"

#define FIXTURE FIXTURES_DIR "/tapdev"
#define ARGV(s) s, sizeof(s) - 1
#define TEXT(s) s, strlen(s)

static void test_name_valid(void **state)
{
        assert_true(tapdev_name_valid(TEXT("vmtap0")));
        assert_true(tapdev_name_valid(TEXT("a")));
        assert_true(tapdev_name_valid(TEXT("123456789012345")));
        assert_false(tapdev_name_valid(TEXT("1234567890123456")));
        assert_false(tapdev_name_valid(TEXT("")));
        assert_false(tapdev_name_valid(TEXT(".")));
        assert_false(tapdev_name_valid(TEXT("..")));
        assert_true(tapdev_name_valid(TEXT("...")));
        assert_false(tapdev_name_valid(TEXT("a/b")));
        assert_false(tapdev_name_valid(TEXT("a:b")));
        assert_false(tapdev_name_valid(TEXT("a b")));
        assert_false(tapdev_name_valid(TEXT("a\nb")));
        assert_false(tapdev_name_valid(TEXT("tap%d")));
        assert_false(tapdev_name_valid("a\0b", 3));
}

static void test_list_add(void **state)
{
        struct tapdev_list l = {0};
        char name[IFNAMSIZ];

        assert_int_equal(tapdev_list_add(&l, "x"), 0);
        assert_int_equal(tapdev_list_add(&l, "x"), 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(tapdev_list_add(&l, "bad/name"), -EINVAL);
        for (int i = 1; i < TAPDEV_MAX; i++) {
                snprintf(name, sizeof(name), "t%d", i);
                assert_int_equal(tapdev_list_add(&l, name), 0);
        }
        assert_int_equal(l.n, TAPDEV_MAX);
        assert_false(l.truncated);
        assert_int_equal(tapdev_list_add(&l, "t1"), 0); /* already there: no room needed */
        assert_int_equal(tapdev_list_add(&l, "one-too-many"), -E2BIG);
        assert_true(l.truncated);
        assert_int_equal(l.n, TAPDEV_MAX);
}

static void test_fdinfo_parse(void **state)
{
        char name[IFNAMSIZ] = "untouched";

        assert_int_equal(
                tapdev_fdinfo_parse(TEXT("pos:\t0\nflags:\t0104002\nmnt_id:\t26\nino:\t1045\niff:\tvmtap0\n"), name),
                1);
        assert_string_equal(name, "vmtap0");
        /* no final newline, spaces instead of a tab */
        assert_int_equal(tapdev_fdinfo_parse(TEXT("pos:\t0\niff:  x1"), name), 1);
        assert_string_equal(name, "x1");
        /* a 15-character name, the longest there is */
        assert_int_equal(tapdev_fdinfo_parse(TEXT("iff:\t123456789012345\n"), name), 1);
        assert_string_equal(name, "123456789012345");
        /* not attached: no iff line; a line that only contains "iff:" further on does not count */
        strcpy(name, "untouched");
        assert_int_equal(tapdev_fdinfo_parse(TEXT("pos:\t0\nflags:\t02\nmnt_id:\t26\n"), name), 0);
        assert_int_equal(tapdev_fdinfo_parse(TEXT("xiff:\tvmtap0\n"), name), 0);
        assert_int_equal(tapdev_fdinfo_parse(TEXT(""), name), 0);
        assert_string_equal(name, "untouched");
        /* malformed */
        assert_int_equal(tapdev_fdinfo_parse(TEXT("iff:\t\n"), name), -EINVAL);
        assert_int_equal(tapdev_fdinfo_parse(TEXT("iff:\t1234567890123456\n"), name), -EINVAL);
        assert_int_equal(tapdev_fdinfo_parse(TEXT("iff:\t../x\n"), name), -EINVAL);
        assert_string_equal(name, "untouched");
}

struct cmdline_case {
        const char *argv;
        size_t len;
        const char *taps[4];
};

static void test_cmdline_parse(void **state)
{
        static const struct cmdline_case cases[] = {
                {ARGV("qemu\0-netdev\0tap,id=n0,ifname=vm0,script=no\0"), {"vm0"}},
                {ARGV("qemu\0--netdev\0type=tap,ifname=vm0\0"), {"vm0"}},
                {ARGV("qemu\0-netdev\0ifname=vm0,type=tap,id=x\0"), {"vm0"}},
                {ARGV("qemu\0-nic\0tap,ifname=vm1,model=virtio\0-net\0tap,ifname=vm2\0"), {"vm1", "vm2"}},
                {ARGV("qemu\0-netdev\0tap,id=a,ifname=vm0\0-netdev\0tap,id=b,ifname=vm0\0"), {"vm0"}},
                /* the last ifname of one option wins, as in QemuOpts */
                {ARGV("qemu\0-netdev\0tap,ifname=a,ifname=b\0"), {"b"}},
                /* JSON, as libvirt writes it (with fd=, there is no ifname: nothing) */
                {ARGV("qemu\0-netdev\0{\"type\":\"tap\",\"id\":\"n0\",\"ifname\":\"vnet3\"}\0"), {"vnet3"}},
                {ARGV("qemu\0-netdev\0{ \"ifname\" : \"vnet4\", \"type\" : \"tap\" }\0"), {"vnet4"}},
                {ARGV("qemu\0-netdev\0{\"type\":\"tap\",\"fd\":\"25\",\"id\":\"hostnet0\"}\0"), {NULL}},
                {ARGV("qemu\0-netdev\0{\"type\":\"user\",\"ifname\":\"x\"}\0"), {NULL}},
                {ARGV("qemu\0-netdev\0{\"type\":\"tap\",\"ifname\":\"a\\\"b\"}\0"), {NULL}},
                /* not a tap, no ifname, a template, invalid or too long names */
                {ARGV("qemu\0-netdev\0user,id=n0\0-netdev\0bridge,br=br0,ifname=x\0"), {NULL}},
                {ARGV("qemu\0-netdev\0tap,id=n0\0"), {NULL}},
                {ARGV("qemu\0-netdev\0tap,ifname=tap%d\0"), {NULL}},
                {ARGV("qemu\0-netdev\0tap,ifname=../../etc\0"), {NULL}},
                {ARGV("qemu\0-netdev\0tap,ifname=1234567890123456\0"), {NULL}},
                /* ",," is a comma, which the kernel allows in a name */
                {ARGV("qemu\0-netdev\0tap,ifname=a,,b\0"), {"a,b"}},
                {ARGV("qemu\0-netdev\0tap,ifname=a,,b,id=x\0"), {"a,b"}},
                /* an option at the very end without a value; the value of -name is not an option */
                {ARGV("qemu\0-netdev\0"), {NULL}},
                {ARGV("qemu\0-name\0-netdev\0-uuid\0x\0"), {NULL}},
                /* the value of an option is never taken as an option itself: here "-netdev" is the value */
                {ARGV("qemu\0-netdev\0-netdev\0tap,ifname=vm9\0"), {NULL}},
                /* unterminated final argument */
                {ARGV("qemu\0-netdev\0tap,ifname=last"), {"last"}},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct tapdev_list l;
                size_t n = 0;

                assert_int_equal(tapdev_cmdline_parse(cases[i].argv, cases[i].len, &l), 0);
                assert_int_equal(l.source, TAPDEV_SOURCE_CMDLINE);
                while (n < ELEMENTSOF(cases[i].taps) && cases[i].taps[n])
                        n++;
                if (l.n != n)
                        fail_msg("case %zu: %zu taps, expected %zu", i, l.n, n);
                for (size_t j = 0; j < n; j++)
                        assert_string_equal(l.names[j], cases[i].taps[j]);
        }
}

static void read_fixture(pid_t pid, int *ret_r, struct tapdev_list *ret)
{
        _cleanup_close_ int proc_fd = open(FIXTURE "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int net_fd = open(FIXTURE "/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int pid_fd = -1;

        assert_true(proc_fd >= 0 && net_fd >= 0);
        pid_fd = procfs_pid_open(proc_fd, pid);
        assert_true(pid_fd >= 0);
        *ret_r = tapdev_read(pid_fd, net_fd, ret);
}

static void test_read(void **state)
{
        struct tapdev_list l;
        int r;

        read_fixture(1000, &r, &l);
        assert_int_equal(r, 0);
        assert_int_equal(l.source, TAPDEV_SOURCE_FDINFO);
        assert_int_equal(l.n, 2);
        /* readdir order is the file system's: compare as a set */
        assert_true((strcmp(l.names[0], "vmtap0") == 0 && strcmp(l.names[1], "vm-web-1.n1") == 0) ||
                    (strcmp(l.names[1], "vmtap0") == 0 && strcmp(l.names[0], "vm-web-1.n1") == 0));

        read_fixture(1001, &r, &l);
        assert_int_equal(r, 0);
        assert_int_equal(l.source, TAPDEV_SOURCE_FDINFO);
        assert_int_equal(l.n, 0);

        read_fixture(1002, &r, &l);
        assert_int_equal(r, 0);
        assert_int_equal(l.source, TAPDEV_SOURCE_CMDLINE);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.names[0], "tapold");
        assert_string_equal(l.names[1], "tapjson");

        read_fixture(1003, &r, &l);
        assert_int_equal(r, 0);
        assert_int_equal(l.n, 0);
}

static void test_is_tap(void **state)
{
        _cleanup_close_ int net_fd = open(FIXTURE "/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(net_fd >= 0);
        assert_int_equal(tapdev_is_tap(net_fd, "tapold"), 1);
        assert_int_equal(tapdev_is_tap(net_fd, "tunonly"), 0);
        assert_int_equal(tapdev_is_tap(net_fd, "eth0"), 0);
        assert_int_equal(tapdev_is_tap(net_fd, "../net/tapold"), 0);
}

static void test_vanished(void **state)
{
        _cleanup_close_ int proc_fd = open(FIXTURE "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct tapdev_list l;

        /* an fd on a directory without "fd" stands for a process that is gone */
        assert_int_equal(tapdev_read(proc_fd, -1, &l), -ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_name_valid),   cmocka_unit_test(test_list_add),
                cmocka_unit_test(test_fdinfo_parse), cmocka_unit_test(test_cmdline_parse),
                cmocka_unit_test(test_read),         cmocka_unit_test(test_is_tap),
                cmocka_unit_test(test_vanished),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
