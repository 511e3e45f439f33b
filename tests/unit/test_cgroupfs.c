/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding the cgroup2 mount, the controller messages an operator reads, and the file functions on a scratch tree. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/cgroupfs.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"
#include "testutil.h"

#define MOUNTINFO_FIXTURE(name) FIXTURES_DIR "/mountinfo/" name

static char *fixture_read(const char *path)
{
        char *buf;
        size_t size;
        int r = procfs_file_read(AT_FDCWD, path, 1 << 20, &buf, &size);

        assert_int_equal(r, 0);
        return buf;
}

static void test_controller_to_string(void **state)
{
        assert_string_equal(cgroup_controller_to_string(CGROUP_CPU), "cpu");
        assert_string_equal(cgroup_controller_to_string(CGROUP_MEMORY), "memory");
        assert_string_equal(cgroup_controller_to_string(CGROUP_IO), "io");
        assert_string_equal(cgroup_controller_to_string(CGROUP_PIDS), "pids");
        assert_null(cgroup_controller_to_string(_CGROUP_CONTROLLER_MAX));
}

/* pure-v2: systemd's unified layout. hybrid: this machine's, each controller on its own v1 hierarchy.
 * hybrid-systemd: systemd's hybrid layout, with "cpu,cpuacct" co-mounted in the super options. */
static void test_mountinfo_layouts(void **state)
{
        static const struct {
                const char *fixture, *path;
                bool hybrid;
                bool bound[_CGROUP_CONTROLLER_MAX];
        } cases[] = {
                {MOUNTINFO_FIXTURE("pure-v2"), "/sys/fs/cgroup", false, {}},
                {MOUNTINFO_FIXTURE("hybrid"),
                 "/sys/fs/cgroup/unified",
                 true,
                 {[CGROUP_CPU] = true,
                  [CGROUP_MEMORY] = true,
                  [CGROUP_IO] = true /* "blkio" */,
                  [CGROUP_PIDS] = true,
                  [CGROUP_CPUSET] = true}},
                {MOUNTINFO_FIXTURE("hybrid-systemd"),
                 "/sys/fs/cgroup/unified",
                 true,
                 {[CGROUP_CPU] = true, [CGROUP_MEMORY] = true, [CGROUP_IO] = true, [CGROUP_CPUSET] = true}},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text = fixture_read(cases[i].fixture);
                struct cgroup_mount m;

                assert_int_equal(cgroupfs_parse_mountinfo(text, &m), 0);
                assert_string_equal(m.path, cases[i].path);
                assert_int_equal(m.hybrid, cases[i].hybrid);
                for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
                        if (m.bound_to_v1[c] != cases[i].bound[c])
                                fail_msg("%s: %s bound to v1: %d", cases[i].fixture, cgroup_controller_to_string(c),
                                         m.bound_to_v1[c]);
                        assert_false(m.available[c]); /* only cgroup.controllers says that */
                }
        }
}

static void test_mountinfo_no_cgroup2(void **state)
{
        _cleanup_free_ char *text = fixture_read(MOUNTINFO_FIXTURE("no-cgroup2"));
        struct cgroup_mount m = {.path = "untouched"};

        assert_int_equal(cgroupfs_parse_mountinfo(text, &m), -ENOENT);
        assert_int_equal(cgroupfs_parse_mountinfo("", &m), -ENOENT);
        assert_string_equal(m.path, "untouched");
}

/* Octal escapes in the mount point, a bind mount of a subtree listed first, lines that are not mounts. */
static void test_mountinfo_escaped(void **state)
{
        _cleanup_free_ char *text = fixture_read(MOUNTINFO_FIXTURE("escaped"));
        struct cgroup_mount m;

        assert_int_equal(cgroupfs_parse_mountinfo(text, &m), 0);
        assert_string_equal(m.path, "/run/my cgroup\tv2\\x");
        assert_false(m.hybrid);

        /* Only a subtree is mounted: take it. A backslash that is not an escape stays. */
        assert_int_equal(cgroupfs_parse_mountinfo("40 28 0:26 /sub /mnt/a\\b rw - cgroup2 cgroup2 rw\n", &m), 0);
        assert_string_equal(m.path, "/mnt/a\\b");
        assert_int_equal(cgroupfs_parse_mountinfo("40 28 0:26 / /mnt/\\04 rw - cgroup2 cgroup2 rw", &m), 0);
        assert_string_equal(m.path, "/mnt/\\04");
}

static void test_mountinfo_too_long(void **state)
{
        size_t size = 2 * sizeof(((struct cgroup_mount *)0)->path);
        _cleanup_free_ char *text = malloc(size);
        struct cgroup_mount m = {.path = "untouched"};
        int n;

        assert_non_null(text);
        n = snprintf(text, size, "40 28 0:26 / /");
        memset(text + n, 'd', size / 2);
        strcpy(text + n + size / 2, " rw - cgroup2 cgroup2 rw\n");
        assert_int_equal(cgroupfs_parse_mountinfo(text, &m), -ENAMETOOLONG);
        assert_string_equal(m.path, "untouched");
}

static void test_parse_controllers(void **state)
{
        struct cgroup_mount m = {};

        cgroupfs_parse_controllers("cpuset cpu io memory hugetlb pids rdma misc\n", &m);
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                assert_true(m.available[c]);

        /* Whole words only, and the previous state is replaced. */
        cgroupfs_parse_controllers("cpusets iox memoryy hugetlb\n", &m);
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                assert_false(m.available[c]);

        cgroupfs_parse_controllers("memory", &m);
        assert_true(m.available[CGROUP_MEMORY]);
        assert_false(m.available[CGROUP_CPU]);
        cgroupfs_parse_controllers("", &m);
        assert_false(m.available[CGROUP_MEMORY]);
}

static void test_controller_usable(void **state)
{
        struct cgroup_mount m = {.path = "/sys/fs/cgroup/unified", .hybrid = true};
        char why[512] = "stale";
        char small[16];

        m.bound_to_v1[CGROUP_CPU] = true;
        m.available[CGROUP_MEMORY] = true;

        assert_int_equal(cgroupfs_controller_usable(&m, CGROUP_CPU, why, sizeof(why)), -EOPNOTSUPP);
        assert_string_equal(why,
                            "controller cpu is not available in the cgroup v2 hierarchy at /sys/fs/cgroup/unified: "
                            "it is bound to a v1 hierarchy");

        assert_int_equal(cgroupfs_controller_usable(&m, CGROUP_IO, why, sizeof(why)), -EOPNOTSUPP);
        assert_string_equal(why,
                            "controller io is not available in the cgroup v2 hierarchy at /sys/fs/cgroup/unified: "
                            "the kernel does not list it in cgroup.controllers (not built in, or disabled at boot)");

        assert_int_equal(cgroupfs_controller_usable(&m, CGROUP_MEMORY, why, sizeof(why)), 0);
        assert_string_equal(why, "");

        /* A short buffer gets a cut message, never an overflow; no buffer at all is fine too. */
        assert_int_equal(cgroupfs_controller_usable(&m, CGROUP_CPU, small, sizeof(small)), -EOPNOTSUPP);
        assert_string_equal(small, "controller cpu ");
        assert_int_equal(cgroupfs_controller_usable(&m, CGROUP_CPU, NULL, 0), -EOPNOTSUPP);
}

/* A fake /proc with self/mountinfo and a fake / with the mount's cgroup.controllers. */
struct detect_tree {
        char path[4096];
        int fd, proc_fd, root_fd;
};

static void detect_tree_new(struct detect_tree *t, const char *mountinfo, const char *controllers_path,
                            const char *controllers)
{
        t->fd = tmptree_new(t->path, sizeof(t->path));
        tmptree_copy(t->fd, "proc/self/mountinfo", mountinfo);
        tmptree_mkdir(t->fd, "root");
        if (controllers_path)
                tmptree_write_string(t->fd, controllers_path, controllers);
        t->proc_fd = openat(t->fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        t->root_fd = openat(t->fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(t->proc_fd >= 0 && t->root_fd >= 0);
}

static void detect_tree_free(struct detect_tree *t)
{
        close(t->proc_fd);
        close(t->root_fd);
        tmptree_remove(t->path, t->fd);
}

static void test_detect_hybrid(void **state)
{
        struct detect_tree t;
        struct cgroup_mount m;
        char why[512];

        detect_tree_new(&t, MOUNTINFO_FIXTURE("hybrid"), "root/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
        assert_int_equal(cgroupfs_detect(t.proc_fd, t.root_fd, &m, why, sizeof(why)), 0);
        assert_string_equal(m.path, "/sys/fs/cgroup/unified");
        assert_true(m.hybrid);
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                assert_false(m.available[c]);
        assert_int_equal(cgroupfs_controller_usable(&m, CGROUP_CPU, why, sizeof(why)), -EOPNOTSUPP);
        assert_string_equal(why,
                            "controller cpu is not available in the cgroup v2 hierarchy at /sys/fs/cgroup/unified: "
                            "it is bound to a v1 hierarchy");
        detect_tree_free(&t);
}

static void test_detect_pure_v2(void **state)
{
        struct detect_tree t;
        struct cgroup_mount m;
        char why[512];

        detect_tree_new(&t, MOUNTINFO_FIXTURE("pure-v2"), "root/sys/fs/cgroup/cgroup.controllers",
                        "cpuset cpu io memory hugetlb pids rdma misc\n");
        assert_int_equal(cgroupfs_detect(t.proc_fd, t.root_fd, &m, why, sizeof(why)), 0);
        assert_string_equal(m.path, "/sys/fs/cgroup");
        assert_false(m.hybrid);
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
                assert_true(m.available[c]);
                assert_int_equal(cgroupfs_controller_usable(&m, c, NULL, 0), 0);
        }
        detect_tree_free(&t);
}

static void test_detect_errors(void **state)
{
        struct detect_tree t;
        struct cgroup_mount m = {.path = "untouched"};
        char *log, why[512];

        detect_tree_new(&t, MOUNTINFO_FIXTURE("no-cgroup2"), NULL, NULL);
        stderr_capture_start();
        assert_int_equal(cgroupfs_detect(t.proc_fd, t.root_fd, &m, why, sizeof(why)), -ENOENT);
        log = stderr_capture_stop();
        assert_string_equal(log, ""); /* quiet: the caller says it, once */
        assert_string_equal(why, "no cgroup2 filesystem is mounted (none in self/mountinfo)");
        free(log);
        detect_tree_free(&t);

        /* Mounted, but its directory is not there. */
        detect_tree_new(&t, MOUNTINFO_FIXTURE("pure-v2"), NULL, NULL);
        stderr_capture_start();
        assert_int_equal(cgroupfs_detect(t.proc_fd, t.root_fd, &m, why, sizeof(why)), -ENOENT);
        log = stderr_capture_stop();
        assert_string_equal(log, "");
        assert_string_equal(why, "cannot open the cgroup2 mount /sys/fs/cgroup: No such file or directory");
        free(log);
        detect_tree_free(&t);

        /* No cgroup.controllers in it. */
        detect_tree_new(&t, MOUNTINFO_FIXTURE("pure-v2"), "root/sys/fs/cgroup/cgroup.procs", "1\n");
        stderr_capture_start();
        assert_int_equal(cgroupfs_detect(t.proc_fd, t.root_fd, &m, why, sizeof(why)), -ENOENT);
        log = stderr_capture_stop();
        assert_string_equal(log, "");
        assert_string_equal(why, "cannot read /sys/fs/cgroup/cgroup.controllers: No such file or directory");
        free(log);
        detect_tree_free(&t);

        /* No mountinfo. */
        detect_tree_new(&t, MOUNTINFO_FIXTURE("pure-v2"), NULL, NULL);
        assert_int_equal(unlinkat(t.proc_fd, "self/mountinfo", 0), 0);
        stderr_capture_start();
        assert_int_equal(cgroupfs_detect(t.proc_fd, t.root_fd, &m, why, sizeof(why)), -ENOENT);
        log = stderr_capture_stop();
        assert_string_equal(log, "");
        assert_string_equal(why, "cannot read self/mountinfo: No such file or directory");
        free(log);
        detect_tree_free(&t);

        assert_string_equal(m.path, "untouched");
}

/* The real host: whatever it is, detection answers without crashing, and a found mount is absolute. */
static void test_detect_host(void **state)
{
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct cgroup_mount m;
        char why[512];
        int r;

        assert_true(proc_fd >= 0);
        stderr_capture_start();
        r = cgroupfs_detect(proc_fd, AT_FDCWD, &m, why, sizeof(why));
        free(stderr_capture_stop());
        if (r == 0)
                assert_int_equal(m.path[0], '/');
        else
                assert_int_equal(r, -ENOENT);
}

/* A scratch tree:  a/b/c  ...  file  link -> a  a/lnk -> b  a/flink -> ../file */
static int open_dir_tree(char *path, size_t size)
{
        int fd = tmptree_new(path, size);

        tmptree_mkdir(fd, "a/b/c");
        tmptree_mkdir(fd, "...");
        tmptree_write_string(fd, "file", "x");
        assert_int_equal(symlinkat("a", fd, "link"), 0);
        assert_int_equal(symlinkat("b", fd, "a/lnk"), 0);
        return fd;
}

static bool same_dir(int a, int b_dir, const char *b_path)
{
        struct stat sa, sb;

        assert_int_equal(fstat(a, &sa), 0);
        assert_int_equal(fstatat(b_dir, b_path, &sb, 0), 0);
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void check_open_dir(int (*open_dir)(int, const char *))
{
        char path[4096], *long_path;
        int dir_fd = open_dir_tree(path, sizeof(path));
        char long_name[300];
        struct {
                const char *rel;
                int r;
                const char *same_as;
        } cases[] = {
                {"a", 0, "a"},
                {"a/b/c", 0, "a/b/c"},
                {"a//b/./c/", 0, "a/b/c"},
                {"", 0, "."},
                {".", 0, "."},
                {"...", 0, "..."},
                {"..", -EINVAL, NULL},
                {"a/..", -EINVAL, NULL},
                {"a/../a", -EINVAL, NULL},
                {"a/b/../../..", -EINVAL, NULL},
                {"/a", -EINVAL, NULL},
                {"/", -EINVAL, NULL},
                {"link", -ELOOP, NULL},
                {"a/lnk", -ELOOP, NULL},
                {"a/lnk/c", -ELOOP, NULL},
                {"missing", -ENOENT, NULL},
                {"a/missing/c", -ENOENT, NULL},
                {"file", -ENOTDIR, NULL},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int fd = open_dir(dir_fd, cases[i].rel);

                if (cases[i].r < 0) {
                        if (fd != cases[i].r)
                                fail_msg("\"%s\": got %d, want %d", cases[i].rel, fd, cases[i].r);
                        continue;
                }
                if (fd < 0)
                        fail_msg("\"%s\": got %d", cases[i].rel, fd);
                assert_true(same_dir(fd, dir_fd, cases[i].same_as));
                close(fd);
        }

        memset(long_name, 'n', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        assert_int_equal(open_dir(dir_fd, long_name), -ENAMETOOLONG);
        long_path = malloc(5000);
        assert_non_null(long_path);
        for (size_t i = 0; i < 2500; i++)
                memcpy(long_path + 2 * i, "a/", 2);
        long_path[4999] = '\0';
        assert_int_equal(open_dir(dir_fd, long_path), -ENAMETOOLONG);
        free(long_path);

        tmptree_remove(path, dir_fd);
}

static void test_open_dir(void **state)
{
        check_open_dir(cgroupfs_open_dir);
}

/* The path taken on kernels without openat2 behaves the same. */
static void test_open_dir_compat(void **state)
{
        check_open_dir(cgroupfs_open_dir_compat);
}

static void test_read(void **state)
{
        char path[4096], buf[64];
        int dir_fd = tmptree_new(path, sizeof(path));

        tmptree_write_string(dir_fd, "cpu.max", "max 100000\n");
        tmptree_write_string(dir_fd, "empty", "");
        tmptree_mkdir(dir_fd, "sub");
        assert_int_equal(symlinkat("cpu.max", dir_fd, "link"), 0);

        assert_int_equal(cgroupfs_read(dir_fd, "cpu.max", buf, sizeof(buf)), 11);
        assert_string_equal(buf, "max 100000\n");
        /* Exactly fits with its NUL; one byte less does not. */
        assert_int_equal(cgroupfs_read(dir_fd, "cpu.max", buf, 12), 11);
        assert_int_equal(cgroupfs_read(dir_fd, "cpu.max", buf, 11), -E2BIG);
        assert_int_equal(cgroupfs_read(dir_fd, "empty", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");

        assert_int_equal(cgroupfs_read(dir_fd, "missing", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(cgroupfs_read(dir_fd, "link", buf, sizeof(buf)), -ELOOP);
        assert_int_equal(cgroupfs_read(dir_fd, "sub", buf, sizeof(buf)), -EISDIR);
        assert_int_equal(cgroupfs_read(dir_fd, "sub/../cpu.max", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(cgroupfs_read(dir_fd, "..", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(cgroupfs_read(dir_fd, ".", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(cgroupfs_read(dir_fd, "", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(cgroupfs_read(dir_fd, "cpu.max", buf, 0), -EINVAL);

        tmptree_remove(path, dir_fd);
}

/* A held fd reads the current value every time, from offset 0. */
static void test_pread_held(void **state)
{
        char path[4096], buf[64];
        int dir_fd = tmptree_new(path, sizeof(path));
        _cleanup_close_ int fd = -1;

        tmptree_write_string(dir_fd, "memory.high", "max\n");
        fd = openat(dir_fd, "memory.high", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(cgroupfs_pread(fd, buf, sizeof(buf)), 4);
        assert_string_equal(buf, "max\n");
        assert_int_equal(cgroupfs_write(dir_fd, "memory.high", "4294967296\n"), 0);
        assert_int_equal(cgroupfs_pread(fd, buf, sizeof(buf)), 11);
        assert_string_equal(buf, "4294967296\n");

        /* One pread: the whole text when it fits, -E2BIG when it fills the buffer (it may be cut). */
        assert_int_equal(cgroupfs_pread_record(fd, buf, sizeof(buf)), 11);
        assert_string_equal(buf, "4294967296\n");
        assert_int_equal(cgroupfs_pread_record(fd, buf, 13), 11);
        assert_int_equal(cgroupfs_pread_record(fd, buf, 12), -E2BIG);
        assert_int_equal(cgroupfs_pread_record(fd, buf, 0), -EINVAL);
        assert_int_equal(cgroupfs_pread_record(-1, buf, sizeof(buf)), -EBADF);

        tmptree_remove(path, dir_fd);
}

static void test_write(void **state)
{
        char path[4096], buf[64];
        int dir_fd = tmptree_new(path, sizeof(path));
        struct stat st;

        tmptree_write_string(dir_fd, "cpu.max", "max 100000\n");
        tmptree_write_string(dir_fd, "target", "original");
        tmptree_mkdir(dir_fd, "sub");
        assert_int_equal(symlinkat("target", dir_fd, "link"), 0);

        assert_int_equal(cgroupfs_write(dir_fd, "cpu.max", "200000 100000"), 0);
        assert_int_equal(cgroupfs_read(dir_fd, "cpu.max", buf, sizeof(buf)), 13);
        assert_string_equal(buf, "200000 100000");
        /* A shorter value reads back exactly, as from a cgroup file. */
        assert_int_equal(cgroupfs_write(dir_fd, "cpu.max", "max"), 0);
        assert_int_equal(cgroupfs_read(dir_fd, "cpu.max", buf, sizeof(buf)), 3);
        assert_string_equal(buf, "max");

        /* Never creates a file (dry-run trees and vanished cgroups stay as they are). */
        assert_int_equal(cgroupfs_write(dir_fd, "memory.high", "1G"), -ENOENT);
        assert_int_equal(fstatat(dir_fd, "memory.high", &st, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(errno, ENOENT);

        /* Never follows a symlink, never leaves the directory. */
        assert_int_equal(cgroupfs_write(dir_fd, "link", "evil"), -ELOOP);
        assert_int_equal(cgroupfs_read(dir_fd, "target", buf, sizeof(buf)), 8);
        assert_string_equal(buf, "original");
        assert_int_equal(cgroupfs_write(dir_fd, "../cpu.max", "1"), -EINVAL);
        assert_int_equal(cgroupfs_write(dir_fd, "sub/x", "1"), -EINVAL);
        assert_int_equal(cgroupfs_write(dir_fd, "..", "1"), -EINVAL);
        assert_int_equal(cgroupfs_write(dir_fd, "", "1"), -EINVAL);
        assert_int_equal(cgroupfs_write(dir_fd, "sub", "1"), -EISDIR);

        tmptree_remove(path, dir_fd);
}

/* The kernel's refusal of a value is what the caller gets back, from the one write(). */
static void test_write_kernel_refusal(void **state)
{
        _cleanup_close_ int self_fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int dev_fd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(self_fd >= 0 && dev_fd >= 0);
        /* An out-of-range value in a kernel file that any process may write for itself. */
        assert_int_equal(cgroupfs_write(self_fd, "oom_score_adj", "not-a-number"), -EINVAL);
        assert_int_equal(cgroupfs_write(self_fd, "oom_score_adj", "99999"), -EINVAL);
        assert_int_equal(cgroupfs_write(dev_fd, "full", "1"), -ENOSPC);
}

static void test_check_exclusive(void **state)
{
        char path[4096];
        int fd = tmptree_new(path, sizeof(path));
        pid_t foreign = 0;

        tmptree_write_string(fd, "cgroup.procs", "100\n");
        assert_int_equal(cgroupfs_check_exclusive(fd, 100, &foreign), 0);
        tmptree_write_string(fd, "cgroup.procs", "100\n101\n");
        assert_int_equal(cgroupfs_check_exclusive(fd, 100, &foreign), -EBUSY);
        assert_int_equal(foreign, 101);
        tmptree_write_string(fd, "cgroup.procs", "");
        assert_int_equal(cgroupfs_check_exclusive(fd, 100, &foreign), 0);
        tmptree_remove(path, fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_controller_to_string), cmocka_unit_test(test_mountinfo_layouts),
                cmocka_unit_test(test_mountinfo_no_cgroup2), cmocka_unit_test(test_mountinfo_escaped),
                cmocka_unit_test(test_mountinfo_too_long),   cmocka_unit_test(test_parse_controllers),
                cmocka_unit_test(test_controller_usable),    cmocka_unit_test(test_detect_hybrid),
                cmocka_unit_test(test_detect_pure_v2),       cmocka_unit_test(test_detect_errors),
                cmocka_unit_test(test_detect_host),          cmocka_unit_test(test_open_dir),
                cmocka_unit_test(test_open_dir_compat),      cmocka_unit_test(test_read),
                cmocka_unit_test(test_pread_held),           cmocka_unit_test(test_write),
                cmocka_unit_test(test_write_kernel_refusal), cmocka_unit_test(test_check_exclusive),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
