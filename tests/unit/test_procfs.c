/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc parsers on string literals, and the readers on the fake /proc in tests/fixtures/proc. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/macro.h"
#include "kernel/procfs.h"
#include "testutil.h"

#define PROC_FIXTURE FIXTURES_DIR "/proc"

/* A NUL-separated argv as a literal, with its length (the literal's own final NUL is not part of it). */
#define ARGV(s) s, sizeof(s) - 1

struct cmdline_case {
        const char *argv;
        size_t len;
        int r;
        const char *name;
        bool truncated;
        const char *uuid;
};

static void test_cmdline_parse(void **state)
{
        static const struct cmdline_case cases[] = {
                {ARGV("qemu-system-x86_64\0-m\0002048\0"), 0, "", false, ""},
                {ARGV("qemu\0-name\0foo\0"), 0, "foo", false, ""},
                {ARGV("qemu\0--name\0foo\0"), 0, "foo", false, ""},
                {ARGV("qemu\0-name\0guest=web-1,debug-threads=on\0"), 0, "web-1", false, ""},
                {ARGV("qemu\0-name\0guest=web-1,debug-threads=on,process=qemu-web\0"), 0, "web-1", false, ""},
                {ARGV("qemu\0-name\0foo,process=bar\0"), 0, "foo", false, ""},
                {ARGV("qemu\0-name\0debug-threads=on,guest=late\0"), 0, "late", false, ""},
                {ARGV("qemu\0-name\0foo,,bar,process=p\0"), 0, "foo,bar", false, ""},
                {ARGV("qemu\0-name\0guest=a,,b,,,process=p\0"), 0, "a,b,", false, ""},
                {ARGV("qemu\0-name\0,,lead\0"), 0, ",lead", false, ""},
                {ARGV("qemu\0-name\0trail,,\0"), 0, "trail,", false, ""},
                {ARGV("qemu\0-name\0guest=a=b\0"), 0, "a=b", false, ""},
                /* The last guest wins, within one -name and across them (QEMU merges -name options)... */
                {ARGV("qemu\0-name\0first\0-name\0second\0"), 0, "second", false, ""},
                {ARGV("qemu\0-name\0guest=a,guest=b\0"), 0, "b", false, ""},
                /* ...but a later -name without a guest key leaves it alone. */
                {ARGV("qemu\0-name\0vm\0-name\0debug-threads=on\0"), 0, "vm", false, ""},
                {ARGV("qemu\0-name\0vm\0-name\0\0"), 0, "vm", false, ""},
                {ARGV("qemu\0-name\0guest=\0"), 0, "", false, ""},
                /* QEMU's flag shorthand: a bare "guest" is guest=on. */
                {ARGV("qemu\0-name\0vm,guest\0"), 0, "on", false, ""},
                {ARGV("qemu\0-name\0vm,noguest\0"), 0, "off", false, ""},
                {ARGV("qemu\0-name\0vm,debug-threads\0"), 0, "vm", false, ""},
                /* Not -name: argv[0], "-name=x", "---name", an argument that merely contains it. */
                {ARGV("-name\0notname\0"), 0, "", false, ""},
                {ARGV("qemu\0-name=foo\0"), 0, "", false, ""},
                {ARGV("qemu\0---name\0foo\0"), 0, "", false, ""},
                {ARGV("qemu\0-append\0-name evil\0"), 0, "", false, ""},
                /* An option's value is consumed, even when it looks like an option. */
                {ARGV("qemu\0-name\0-uuid\0-uuid\0AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE\0"), 0, "-uuid", false,
                 "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"},
                /* No value at the end (QEMU refuses it; a cut command line ends this way too). */
                {ARGV("qemu\0-name\0vm\0-name\0"), 0, "vm", false, ""},
                {ARGV("qemu\0-uuid\0"), 0, "", false, ""},
                /* The kernel's cmdline may lack the last NUL. */
                {ARGV("qemu\0-name\0unterminated"), 0, "unterminated", false, ""},
                {ARGV(""), 0, "", false, ""},
                {ARGV("qemu"), 0, "", false, ""},
                /* UUIDs: lower-cased, --uuid too, the last wins; a malformed one is refused as QEMU does. */
                {ARGV("qemu\0-uuid\0005D3C6A4E-8B1F-4C2A-9E3D-0123456789AB\0"), 0, "", false,
                 "5d3c6a4e-8b1f-4c2a-9e3d-0123456789ab"},
                {ARGV("qemu\0--uuid\0000f8fad5b-d9cb-469f-a165-70867728950e\0-uuid\0"
                      "11111111-2222-3333-4444-555555555555\0"),
                 0, "", false, "11111111-2222-3333-4444-555555555555"},
                {ARGV("qemu\0-name\0vm\0-uuid\0not-a-uuid\0"), -EINVAL, NULL, false, NULL},
                {ARGV("qemu\0-uuid\0005d3c6a4e-8b1f-4c2a-9e3d-0123456789a\0"), -EINVAL, NULL, false, NULL},
                {ARGV("qemu\0-uuid\0005d3c6a4e-8b1f-4c2a-9e3d-0123456789abc\0"), -EINVAL, NULL, false, NULL},
                {ARGV("qemu\0-uuid\0\0"), -EINVAL, NULL, false, NULL},
                /* Hostile bytes are kept as they are: escaping is for whoever prints them. */
                {ARGV("qemu\0-name\0../../etc/\"x'\x1b[2J\n\t;rm -rf /\0"), 0, "../../etc/\"x'\x1b[2J\n\t;rm -rf /",
                 false, ""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const struct cmdline_case *c = &cases[i];
                struct qemu_cmdline got;
                int r;

                memset(&got, 0x5a, sizeof(got));
                r = procfs_cmdline_parse(c->argv, c->len, &got);
                if (r != c->r)
                        fail_msg("case %zu: r=%d, want %d", i, r, c->r);
                if (r < 0) {
                        /* Nothing written on failure. */
                        assert_int_equal(got.name[0], 0x5a);
                        assert_int_equal(got.uuid[0], 0x5a);
                        continue;
                }
                if (strcmp(got.name, c->name) != 0 || got.name_truncated != c->truncated ||
                    strcmp(got.uuid, c->uuid) != 0)
                        fail_msg("case %zu: got name \"%s\" (truncated %d) uuid \"%s\", want \"%s\" (%d) \"%s\"", i,
                                 got.name, got.name_truncated, got.uuid, c->name, c->truncated, c->uuid);
        }
}

/* argv "qemu -name VALUE" with VALUE built by the caller. */
static size_t argv_with_name(char *buf, size_t size, const char *value)
{
        size_t n = 0, vlen = strlen(value);

        assert_true(vlen + 16 < size);
        memcpy(buf, "qemu\0-name\0", 11);
        n = 11;
        memcpy(buf + n, value, vlen + 1);
        return n + vlen + 1;
}

static void test_cmdline_parse_long_names(void **state)
{
        _cleanup_free_ char *value = malloc(8192), *buf = malloc(8300), *two = malloc(8400);
        struct qemu_cmdline got;
        size_t n;

        assert_non_null(value);
        assert_non_null(buf);
        assert_non_null(two);

        /* Exactly VM_NAME_MAX fits. */
        memset(value, 'a', VM_NAME_MAX);
        value[VM_NAME_MAX] = '\0';
        n = argv_with_name(buf, 8300, value);
        assert_int_equal(procfs_cmdline_parse(buf, n, &got), 0);
        assert_int_equal(strlen(got.name), VM_NAME_MAX);
        assert_false(got.name_truncated);

        /* One more is cut and flagged. */
        strcat(value, "b");
        n = argv_with_name(buf, 8300, value);
        assert_int_equal(procfs_cmdline_parse(buf, n, &got), 0);
        assert_int_equal(strlen(got.name), VM_NAME_MAX);
        assert_true(got.name_truncated);
        assert_null(strchr(got.name, 'b'));

        /* 4 KiB and more: cut, nothing overflows (ASan would say). */
        memset(value, 'x', 8000);
        value[8000] = '\0';
        n = argv_with_name(buf, 8300, value);
        assert_int_equal(procfs_cmdline_parse(buf, n, &got), 0);
        assert_int_equal(strlen(got.name), VM_NAME_MAX);
        assert_true(got.name_truncated);

        /* A cut never leaves half a UTF-8 character: "é" straddling the limit goes entirely. */
        memset(value, 'a', VM_NAME_MAX - 1);
        strcpy(value + VM_NAME_MAX - 1, "\xc3\xa9tail");
        n = argv_with_name(buf, 8300, value);
        assert_int_equal(procfs_cmdline_parse(buf, n, &got), 0);
        assert_int_equal(strlen(got.name), VM_NAME_MAX - 1);
        assert_true(got.name_truncated);

        /* A character that ends exactly at the limit stays. */
        memset(value, 'a', VM_NAME_MAX - 2);
        strcpy(value + VM_NAME_MAX - 2, "\xc3\xa9tail");
        n = argv_with_name(buf, 8300, value);
        assert_int_equal(procfs_cmdline_parse(buf, n, &got), 0);
        assert_int_equal(strlen(got.name), VM_NAME_MAX);
        assert_memory_equal(got.name + VM_NAME_MAX - 2, "\xc3\xa9", 2);

        /* A later short -name replaces a cut one, and the flag goes with it. */
        memset(value, 'x', 2000);
        value[2000] = '\0';
        n = argv_with_name(two, 8400, value);
        memcpy(two + n, "-name\0short\0", 12);
        assert_int_equal(procfs_cmdline_parse(two, n + 12, &got), 0);
        assert_string_equal(got.name, "short");
        assert_false(got.name_truncated);
}

static void test_uuid_parse(void **state)
{
        char u[VM_UUID_LEN + 1] = "untouched";

        assert_int_equal(procfs_uuid_parse("0F8FAD5B-D9CB-469F-A165-70867728950E", u), 0);
        assert_string_equal(u, "0f8fad5b-d9cb-469f-a165-70867728950e");
        assert_int_equal(procfs_uuid_parse("00000000-0000-0000-0000-000000000000", u), 0);
        assert_string_equal(u, "00000000-0000-0000-0000-000000000000");

        strcpy(u, "untouched");
        assert_int_equal(procfs_uuid_parse("", u), -EINVAL);
        assert_int_equal(procfs_uuid_parse("0f8fad5bd9cb469fa16570867728950e", u), -EINVAL);
        assert_int_equal(procfs_uuid_parse("0f8fad5b-d9cb-469f-a165-70867728950g", u), -EINVAL);
        assert_int_equal(procfs_uuid_parse("0f8fad5b-d9cb-469f-a16570867728950e-", u), -EINVAL);
        assert_int_equal(procfs_uuid_parse("0f8fad5b-d9cb-469f-a165-70867728950e ", u), -EINVAL);
        assert_int_equal(procfs_uuid_parse(" 0f8fad5b-d9cb-469f-a165-70867728950e", u), -EINVAL);
        assert_int_equal(procfs_uuid_parse("{0f8fad5b-d9cb-469f-a165-70867728950}", u), -EINVAL);
        assert_string_equal(u, "untouched");
}

static void test_pid_parse(void **state)
{
        pid_t pid = -7;

        assert_int_equal(procfs_pid_parse("1", &pid), 0);
        assert_int_equal(pid, 1);
        assert_int_equal(procfs_pid_parse("2147483647", &pid), 0);
        assert_int_equal(pid, 2147483647);

        pid = -7;
        assert_int_equal(procfs_pid_parse("0", &pid), -EINVAL);
        assert_int_equal(procfs_pid_parse("0123", &pid), -EINVAL);
        assert_int_equal(procfs_pid_parse("2147483648", &pid), -EINVAL);
        assert_int_equal(procfs_pid_parse("99999999999999999999999", &pid), -EINVAL);
        assert_int_equal(procfs_pid_parse("-1", &pid), -EINVAL);
        assert_int_equal(procfs_pid_parse("12a", &pid), -EINVAL);
        assert_int_equal(procfs_pid_parse("self", &pid), -EINVAL);
        assert_int_equal(procfs_pid_parse("", &pid), -EINVAL);
        assert_int_equal(pid, -7);
}

#define STAT_TAIL " 1 100 100 0 -1 4194560 1000 0 10 0 500 200 0 0 20 0 3 0 123456 2147483648 65536 0 0 0\n"

static void test_stat_parse(void **state)
{
        struct procfs_stat st;
        char big[512];

        assert_int_equal(procfs_stat_parse(ARGV("100 (qemu-system-x86) S" STAT_TAIL), &st), 0);
        assert_string_equal(st.comm, "qemu-system-x86");
        assert_int_equal(st.state, 'S');
        assert_int_equal(st.start_time, 123456);

        /* comm is anything the process chose: spaces, parentheses, ") (" that looks like the end. */
        assert_int_equal(procfs_stat_parse(ARGV("100 (a) (b) c) R" STAT_TAIL), &st), 0);
        assert_string_equal(st.comm, "a) (b) c");
        assert_int_equal(st.state, 'R');
        assert_int_equal(st.start_time, 123456);
        assert_int_equal(procfs_stat_parse(ARGV("100 (CPU 0/KVM) S" STAT_TAIL), &st), 0);
        assert_string_equal(st.comm, "CPU 0/KVM");
        assert_int_equal(procfs_stat_parse(ARGV("100 () Z" STAT_TAIL), &st), 0);
        assert_string_equal(st.comm, "");
        assert_int_equal(st.state, 'Z');

        /* Field 22 at the very end, without a newline or further fields. */
        assert_int_equal(
                procfs_stat_parse(ARGV("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 18446744073709551615"),
                                  &st),
                0);
        assert_true(st.start_time == UINT64_MAX);

        /* A comm longer than PROCFS_COMM_MAX is cut. */
        snprintf(big, sizeof(big), "5 (%0100d) S" STAT_TAIL, 0);
        assert_int_equal(procfs_stat_parse(big, strlen(big), &st), 0);
        assert_int_equal(strlen(st.comm), PROCFS_COMM_MAX);

        /* Malformed: ret untouched. */
        memset(&st, 0x5a, sizeof(st));
        assert_int_equal(procfs_stat_parse(ARGV(""), &st), -EINVAL);
        assert_int_equal(procfs_stat_parse(ARGV("100 qemu S" STAT_TAIL), &st), -EINVAL);
        assert_int_equal(procfs_stat_parse(ARGV("100 (qemu S 1 2 3"), &st), -EINVAL);
        assert_int_equal(procfs_stat_parse(ARGV("100 )qemu( S" STAT_TAIL), &st), -EINVAL);
        assert_int_equal(procfs_stat_parse(ARGV("100 (qemu) S 1 2 3 4\n"), &st), -EINVAL);
        assert_int_equal(procfs_stat_parse(ARGV("100 (qemu) SS" STAT_TAIL), &st), -EINVAL);
        assert_int_equal(procfs_stat_parse(ARGV("100 (qemu)S" STAT_TAIL), &st), -EINVAL);
        assert_int_equal(procfs_stat_parse(ARGV("100 (qemu) S  1 100 100 0 -1 4194560 1000 0 10 0 500 200 0 0 20 0 3 "
                                                "0 123456\n"),
                                           &st),
                         -EINVAL);
        assert_int_equal(procfs_stat_parse(ARGV("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 12x4 0\n"), &st),
                         -EINVAL);
        assert_int_equal(procfs_stat_parse(ARGV("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -1 0\n"), &st),
                         -EINVAL);
        assert_int_equal(
                procfs_stat_parse(ARGV("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 18446744073709551616\n"),
                                  &st),
                -EINVAL);
        assert_int_equal(st.state, 0x5a);
}

static void test_cgroup_parse(void **state)
{
        _cleanup_free_ char *hybrid = NULL, *pure = NULL, *spaces = NULL, *last = NULL;
        char *untouched = (char *)"untouched";

        assert_int_equal(
                procfs_cgroup_parse(ARGV("12:pids:/user.slice\n4:cpu,cpuacct:/machine.slice\n"
                                         "1:name=systemd:/machine.slice/vm.scope\n0::/machine.slice/vm.scope\n"),
                                    &hybrid),
                0);
        assert_string_equal(hybrid, "/machine.slice/vm.scope");
        assert_int_equal(procfs_cgroup_parse(ARGV("0::/\n"), &pure), 0);
        assert_string_equal(pure, "/");
        assert_int_equal(procfs_cgroup_parse(ARGV("0::/a b/c:d\n"), &spaces), 0);
        assert_string_equal(spaces, "/a b/c:d");
        assert_int_equal(procfs_cgroup_parse(ARGV("1:name=systemd:/\n0::/no/newline"), &last), 0);
        assert_string_equal(last, "/no/newline");

        /* v1 only, empty, or not a path. */
        assert_int_equal(procfs_cgroup_parse(ARGV("4:cpu,cpuacct:/\n1:name=systemd:/\n"), &untouched), -ENODATA);
        assert_int_equal(procfs_cgroup_parse(ARGV(""), &untouched), -ENODATA);
        assert_int_equal(procfs_cgroup_parse(ARGV("10::/x\n"), &untouched), -ENODATA);
        assert_int_equal(procfs_cgroup_parse(ARGV("0::\n"), &untouched), -EINVAL);
        assert_int_equal(procfs_cgroup_parse(ARGV("0::relative\n"), &untouched), -EINVAL);
        /* A forged second line (a newline in a cgroup name) makes the file untrustworthy, wherever it appears. */
        assert_int_equal(procfs_cgroup_parse(ARGV("1:name=systemd:/x\n0::/victim\n0::/real\n"), &untouched), -EBADMSG);
        assert_int_equal(procfs_cgroup_parse(ARGV("0::/real/x\n0::/victim\n"), &untouched), -EBADMSG);
        assert_string_equal(untouched, "untouched");
}

static void test_status_parse_uid(void **state)
{
        uid_t uid = 4242;

        assert_int_equal(procfs_status_parse_uid(ARGV("Name:\tqemu\nUmask:\t0022\nUid:\t1000\t1001\t1001\t1001\n"
                                                      "Gid:\t5\t5\t5\t5\n"),
                                                 &uid),
                         0);
        assert_int_equal(uid, 1001); /* the effective uid, as ps shows */
        assert_int_equal(procfs_status_parse_uid(ARGV("Uid:\t0\t0\t0\t0"), &uid), 0);
        assert_int_equal(uid, 0);

        uid = 4242;
        assert_int_equal(procfs_status_parse_uid(ARGV("Name:\tqemu\nGid:\t5\t5\t5\t5\n"), &uid), -EINVAL);
        assert_int_equal(procfs_status_parse_uid(ARGV("Uid:\t1000\n"), &uid), -EINVAL);
        assert_int_equal(procfs_status_parse_uid(ARGV("Uid:\t1000\tx\t0\t0\n"), &uid), -EINVAL);
        assert_int_equal(procfs_status_parse_uid(ARGV("Uid:\t1\t4294967295\t0\t0\n"), &uid), -EINVAL);
        assert_int_equal(procfs_status_parse_uid(ARGV("XUid:\t1\t2\t3\t4\n"), &uid), -EINVAL);
        assert_int_equal(uid, 4242);
}

static void test_exe_parse(void **state)
{
        char exe[VM_EXE_MAX + 1] = "untouched";
        char long_target[VM_EXE_MAX + 32];

        assert_int_equal(procfs_exe_parse("/usr/bin/qemu-system-x86_64", exe), 0);
        assert_string_equal(exe, "qemu-system-x86_64");
        assert_int_equal(procfs_exe_parse("/usr/bin/qemu-system-aarch64 (deleted)", exe), 0);
        assert_string_equal(exe, "qemu-system-aarch64");
        assert_int_equal(procfs_exe_parse("/usr/libexec/qemu-kvm", exe), 0);
        assert_string_equal(exe, "qemu-kvm");
        assert_int_equal(procfs_exe_parse("qemu-kvm", exe), 0);
        assert_string_equal(exe, "qemu-kvm");
        /* Only one suffix is the kernel's. */
        assert_int_equal(procfs_exe_parse("/opt/q (deleted) (deleted)", exe), 0);
        assert_string_equal(exe, "q (deleted)");
        assert_int_equal(procfs_exe_parse("/opt/my (deleted)x", exe), 0);
        assert_string_equal(exe, "my (deleted)x");

        strcpy(exe, "untouched");
        assert_int_equal(procfs_exe_parse("", exe), -EINVAL);
        assert_int_equal(procfs_exe_parse("/", exe), -EINVAL);
        assert_int_equal(procfs_exe_parse("/usr/bin/", exe), -EINVAL);
        assert_int_equal(procfs_exe_parse(" (deleted)", exe), -EINVAL);
        memset(long_target, 'q', sizeof(long_target) - 1);
        long_target[0] = '/';
        long_target[sizeof(long_target) - 1] = '\0';
        assert_int_equal(procfs_exe_parse(long_target, exe), -ENAMETOOLONG);
        assert_string_equal(exe, "untouched");
}

static void test_file_read(void **state)
{
        char path[4096];
        int dir_fd = tmptree_new(path, sizeof(path));
        _cleanup_free_ char *big = malloc(20000);
        char *buf;
        size_t size;

        assert_non_null(big);
        memset(big, 'z', 20000);
        tmptree_write(dir_fd, "big", big, 20000);
        tmptree_write_string(dir_fd, "small", "hello\n");
        tmptree_write_string(dir_fd, "empty", "");

        /* Grows past the first 4 KiB, reads to EOF. */
        assert_int_equal(procfs_file_read(dir_fd, "big", 1 << 20, &buf, &size), 0);
        assert_int_equal(size, 20000);
        assert_int_equal(buf[19999], 'z');
        assert_int_equal(buf[20000], '\0');
        free(buf);

        /* Exactly max: complete. One byte less: cut, and said so. */
        assert_int_equal(procfs_file_read(dir_fd, "big", 20000, &buf, &size), 0);
        assert_int_equal(size, 20000);
        free(buf);
        assert_int_equal(procfs_file_read(dir_fd, "big", 19999, &buf, &size), 1);
        assert_int_equal(size, 19999);
        assert_int_equal(buf[19999], '\0');
        free(buf);

        assert_int_equal(procfs_file_read(dir_fd, "small", 3, &buf, &size), 1);
        assert_string_equal(buf, "hel");
        free(buf);
        assert_int_equal(procfs_file_read(dir_fd, "empty", 100, &buf, &size), 0);
        assert_int_equal(size, 0);
        assert_string_equal(buf, "");
        free(buf);
        assert_int_equal(procfs_file_read(dir_fd, "small", 0, &buf, &size), 1);
        assert_int_equal(size, 0);
        free(buf);

        buf = NULL;
        assert_int_equal(procfs_file_read(dir_fd, "missing", 100, &buf, &size), -ENOENT);
        assert_int_equal(procfs_file_read(dir_fd, ".", 100, &buf, &size), -EISDIR);
        assert_null(buf);

        tmptree_remove(path, dir_fd);
}

/* A command line over PROCFS_CMDLINE_MAX is cut at the last whole argument: half a -name value never counts. */
static void test_cmdline_read_cut(void **state)
{
        char path[4096];
        int dir_fd = tmptree_new(path, sizeof(path));
        size_t size = PROCFS_CMDLINE_MAX + 4096, n = 0;
        _cleanup_free_ char *argv = malloc(size);
        struct qemu_cmdline got;
        _cleanup_close_ int pid_fd = -1;

        assert_non_null(argv);
#define PUT(s)                                                                                                         \
        do {                                                                                                           \
                memcpy(argv + n, s, sizeof(s));                                                                        \
                n += sizeof(s);                                                                                        \
        } while (0)
        PUT("qemu");
        PUT("-name");
        PUT("whole");
        while (n < PROCFS_CMDLINE_MAX - 100)
                PUT("-nodefaults");
        PUT("-name");
        /* This value crosses the cap. */
        memset(argv + n, 'p', size - n - 1);
        argv[size - 1] = '\0';
#undef PUT

        tmptree_write(dir_fd, "1/cmdline", argv, size);
        pid_fd = procfs_pid_open(dir_fd, 1);
        assert_true(pid_fd >= 0);
        assert_int_equal(procfs_cmdline_read(pid_fd, &got), 0);
        assert_string_equal(got.name, "whole");

        tmptree_remove(path, dir_fd);
}

static int fixture_open(void)
{
        int fd = open(PROC_FIXTURE, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(fd >= 0);
        return fd;
}

static void test_readers_fixture(void **state)
{
        _cleanup_close_ int proc_fd = fixture_open(), pid_fd = -1, hostile_fd = -1;
        _cleanup_free_ char *cgroup = NULL;
        struct qemu_cmdline cmdline;
        struct procfs_stat st;
        char exe[VM_EXE_MAX + 1];
        uid_t uid;

        pid_fd = procfs_pid_open(proc_fd, 100);
        assert_true(pid_fd >= 0);
        assert_int_equal(procfs_exe_read(pid_fd, exe, NULL, 0), 0);
        assert_string_equal(exe, "qemu-system-x86_64");
        assert_int_equal(procfs_stat_read(pid_fd, &st), 0);
        assert_string_equal(st.comm, "qemu-system-x86");
        assert_int_equal(st.start_time, 123456);
        assert_int_equal(procfs_cmdline_read(pid_fd, &cmdline), 0);
        assert_string_equal(cmdline.name, "web-1");
        assert_string_equal(cmdline.uuid, "5d3c6a4e-8b1f-4c2a-9e3d-0123456789ab");
        assert_int_equal(procfs_cgroup_read(pid_fd, &cgroup), 0);
        assert_string_equal(cgroup, "/machine.slice/vm-web.scope");
        assert_int_equal(procfs_uid_read(pid_fd, &uid), 0);
        assert_int_equal(uid, 1000);

        /* The hostile VM: a 4 KiB name with quotes, '/', '..', ESC and a newline, cut safely; comm with ") (". */
        hostile_fd = procfs_pid_open(proc_fd, 200);
        assert_true(hostile_fd >= 0);
        assert_int_equal(procfs_cmdline_read(hostile_fd, &cmdline), 0);
        assert_true(cmdline.name_truncated);
        assert_int_equal(strlen(cmdline.name), VM_NAME_MAX);
        assert_memory_equal(cmdline.name, "../../etc/\"x'\x1b[2J\n\t;rm -rf /,AAAA", 33);
        assert_int_equal(cmdline.name[VM_NAME_MAX - 1], 'A');
        assert_string_equal(cmdline.uuid, "");
        assert_int_equal(procfs_stat_read(hostile_fd, &st), 0);
        assert_string_equal(st.comm, "a) (b) c");
        assert_int_equal(st.start_time, 222);
        assert_int_equal(procfs_uid_read(hostile_fd, &uid), 0);
        assert_int_equal(uid, 1002);
}

static void test_readers_fixture_edges(void **state)
{
        _cleanup_close_ int proc_fd = fixture_open(), deleted_fd = -1, kthread_fd = -1, gone_fd = -1;
        char exe[VM_EXE_MAX + 1] = "untouched";
        struct procfs_stat st;
        char *cgroup = NULL;

        assert_int_equal(procfs_pid_open(proc_fd, 999), -ENOENT);
        assert_int_equal(procfs_pid_open(proc_fd, 0), -EINVAL);
        assert_int_equal(procfs_pid_open(proc_fd, -1), -EINVAL);

        deleted_fd = procfs_pid_open(proc_fd, 400);
        assert_int_equal(procfs_exe_read(deleted_fd, exe, NULL, 0), 0);
        assert_string_equal(exe, "qemu-system-aarch64");

        /* A kernel thread has no exe link. */
        kthread_fd = procfs_pid_open(proc_fd, 700);
        strcpy(exe, "untouched");
        assert_int_equal(procfs_exe_read(kthread_fd, exe, NULL, 0), -ENOENT);
        assert_string_equal(exe, "untouched");

        /* A process that vanished: its files are gone. */
        gone_fd = procfs_pid_open(proc_fd, 600);
        assert_int_equal(procfs_stat_read(gone_fd, &st), -ENOENT);
        assert_int_equal(procfs_cgroup_read(gone_fd, &cgroup), -ENOENT);
        assert_null(cgroup);
}

/* The real /proc: this very process. */
static void test_readers_self(void **state)
{
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), pid_fd = -1;
        _cleanup_free_ char *cgroup = NULL;
        struct qemu_cmdline cmdline;
        struct procfs_stat st;
        char exe[VM_EXE_MAX + 1];
        uid_t uid;

        assert_true(proc_fd >= 0);
        pid_fd = procfs_pid_open(proc_fd, getpid());
        assert_true(pid_fd >= 0);
        assert_int_equal(procfs_exe_read(pid_fd, exe, NULL, 0), 0);
        assert_string_equal(exe, "test_procfs");
        assert_int_equal(procfs_stat_read(pid_fd, &st), 0);
        assert_string_equal(st.comm, "test_procfs");
        assert_int_equal(st.state, 'R');
        assert_true(st.start_time > 0);
        assert_int_equal(procfs_cmdline_read(pid_fd, &cmdline), 0);
        assert_string_equal(cmdline.name, "");
        assert_int_equal(procfs_uid_read(pid_fd, &uid), 0);
        assert_int_equal(uid, geteuid());
        /* Every Linux this runs on has the v2 line, hybrid or not. */
        assert_int_equal(procfs_cgroup_read(pid_fd, &cgroup), 0);
        assert_int_equal(cgroup[0], '/');
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cmdline_parse),    cmocka_unit_test(test_cmdline_parse_long_names),
                cmocka_unit_test(test_uuid_parse),       cmocka_unit_test(test_pid_parse),
                cmocka_unit_test(test_stat_parse),       cmocka_unit_test(test_cgroup_parse),
                cmocka_unit_test(test_status_parse_uid), cmocka_unit_test(test_exe_parse),
                cmocka_unit_test(test_file_read),        cmocka_unit_test(test_cmdline_read_cut),
                cmocka_unit_test(test_readers_fixture),  cmocka_unit_test(test_readers_fixture_edges),
                cmocka_unit_test(test_readers_self),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
