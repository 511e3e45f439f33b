/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Discovery on the fake /proc in tests/fixtures/proc, on scratch trees for the error paths, and on the real /proc. */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "discover/discover.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "testutil.h"

#define PROC_FIXTURE FIXTURES_DIR "/proc"

/* The default rule: qemu-system-* or qemu-kvm. */
static bool is_qemu(const char *exe, void *userdata)
{
        return fnmatch("qemu-system-*", exe, 0) == 0 || strcmp(exe, "qemu-kvm") == 0;
}

static bool is_nothing(const char *exe, void *userdata)
{
        return false;
}

/* Records every exe it is asked about, joined by spaces. */
static bool record_exe(const char *exe, void *userdata)
{
        char *seen = userdata;

        strcat(seen, exe);
        strcat(seen, "|");
        return false;
}

static bool is_self(const char *exe, void *userdata)
{
        return strcmp(exe, "test_discover") == 0;
}

static int fixture_open(void)
{
        int fd = open(PROC_FIXTURE, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(fd >= 0);
        return fd;
}

static void test_scan_fixture(void **state)
{
        _cleanup_close_ int proc_fd = fixture_open();
        _cleanup_free_ struct vm_identity *vms = NULL;
        _cleanup_free_ char *log = NULL;
        size_t n = 0;

        log_set_max_level(LOG_DEBUG);
        stderr_capture_start();
        assert_int_equal(discover_vms_scan(proc_fd, is_qemu, NULL, &vms, &n), 0);
        log = stderr_capture_stop();
        log_set_max_level(LOG_INFO);

        /* 100, 200, 400 and 500 are VMs; bash (300), the vanished one (600), the kernel thread (700), the zombie
         * (900) and the one with a bad -uuid (800) are not. Sorted by pid. */
        assert_int_equal(n, 4);

        assert_int_equal(vms[0].pid, 100);
        assert_int_equal(vms[0].start_time, 123456);
        assert_int_equal(vms[0].uid, 1000);
        assert_string_equal(vms[0].name, "web-1");
        assert_false(vms[0].name_truncated);
        assert_string_equal(vms[0].uuid, "5d3c6a4e-8b1f-4c2a-9e3d-0123456789ab");
        assert_string_equal(vms[0].exe, "qemu-system-x86_64");
        assert_string_equal(vms[0].cgroup, "/machine.slice/vm-web.scope");

        assert_int_equal(vms[1].pid, 200);
        assert_int_equal(vms[1].start_time, 222);
        assert_int_equal(vms[1].uid, 1002);
        assert_true(vms[1].name_truncated);
        assert_int_equal(strlen(vms[1].name), VM_NAME_MAX);
        assert_memory_equal(vms[1].name, "../../etc/\"x'\x1b[2J\n\t;rm -rf /,A", 30);
        assert_string_equal(vms[1].cgroup, "/user.slice/user-1001.slice/session-3.scope");

        assert_int_equal(vms[2].pid, 400);
        assert_string_equal(vms[2].exe, "qemu-system-aarch64");
        assert_string_equal(vms[2].name, "old-vm");
        assert_string_equal(vms[2].uuid, "");
        assert_string_equal(vms[2].cgroup, "/vmgov/default/old-vm");

        assert_int_equal(vms[3].pid, 500);
        assert_string_equal(vms[3].exe, "qemu-kvm");
        assert_string_equal(vms[3].name, "db,primary");
        assert_string_equal(vms[3].uuid, "0f8fad5b-d9cb-469f-a165-70867728950e");
        assert_int_equal(vms[3].uid, 107);
        assert_string_equal(vms[3].cgroup, "/machine.slice/machine-qemu\\x2d1\\x2ddb.scope/libvirt");

        /* What the operator sees at debug level about the ones skipped. */
        assert_contains(log, "pid 600: exited while it was being read: No such file or directory");
        assert_contains(log, "pid 800: malformed -uuid, QEMU refuses to start with it: skipping");
        assert_null(strstr(log, "pid 700"));
        assert_null(strstr(log, "pid 300"));
}

static void test_scan_predicate(void **state)
{
        _cleanup_close_ int proc_fd = fixture_open();
        struct vm_identity *vms = (struct vm_identity *)&vms;
        char seen[1024] = "";
        size_t n = 7;

        /* The predicate sees basenames, " (deleted)" stripped; never the processes without an exe link. */
        assert_int_equal(discover_vms_scan(proc_fd, record_exe, seen, &vms, &n), 0);
        assert_null(vms);
        assert_int_equal(n, 0);
        assert_non_null(strstr(seen, "qemu-system-x86_64|"));
        assert_non_null(strstr(seen, "bash|"));
        assert_non_null(strstr(seen, "qemu-system-aarch64|"));
        assert_non_null(strstr(seen, "qemu-kvm|"));
        assert_null(strstr(seen, "deleted"));
        assert_null(strstr(seen, "/"));

        assert_int_equal(discover_vms_scan(proc_fd, is_nothing, NULL, &vms, &n), 0);
        assert_null(vms);
        assert_int_equal(n, 0);
}

static void test_identify(void **state)
{
        _cleanup_close_ int proc_fd = fixture_open();
        struct vm_identity vm;

        memset(&vm, 0x5a, sizeof(vm));
        assert_int_equal(discover_vm_identify(proc_fd, 300, is_qemu, NULL, &vm), 0);
        assert_int_equal(discover_vm_identify(proc_fd, 600, is_qemu, NULL, &vm), -ENOENT);
        assert_int_equal(discover_vm_identify(proc_fd, 700, is_qemu, NULL, &vm), -ENOENT);
        assert_int_equal(discover_vm_identify(proc_fd, 800, is_qemu, NULL, &vm), -EINVAL);
        assert_int_equal(discover_vm_identify(proc_fd, 999, is_qemu, NULL, &vm), -ENOENT);
        assert_int_equal(vm.pid, 0x5a5a5a5a); /* untouched */

        assert_int_equal(discover_vm_identify(proc_fd, 500, is_qemu, NULL, &vm), 1);
        assert_int_equal(vm.pid, 500);
        assert_string_equal(vm.name, "db,primary");
}

static void write_qemu(int dir_fd, const char *pid, const char *stat, const char *cgroup)
{
        char path[64];

        snprintf(path, sizeof(path), "%s/exe", pid);
        tmptree_mkdir(dir_fd, pid);
        assert_int_equal(symlinkat("/usr/bin/qemu-system-x86_64", dir_fd, path), 0);
        snprintf(path, sizeof(path), "%s/cmdline", pid);
        tmptree_write(dir_fd, path, "qemu\0-name\0vm\0", 14);
        snprintf(path, sizeof(path), "%s/stat", pid);
        tmptree_write_string(dir_fd, path, stat);
        snprintf(path, sizeof(path), "%s/cgroup", pid);
        tmptree_write_string(dir_fd, path, cgroup);
        snprintf(path, sizeof(path), "%s/status", pid);
        tmptree_write_string(dir_fd, path, "Uid:\t5\t5\t5\t5\n");
}

#define GOOD_STAT "42 (qemu) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 0\n"

/* QEMU processes that cannot be used are warned about, with the reason, and skipped; the scan goes on. */
static void test_identify_errors(void **state)
{
        char path[4096];
        int dir_fd = tmptree_new(path, sizeof(path));
        _cleanup_free_ char *log = NULL, *long_cgroup = malloc(5000);
        _cleanup_free_ struct vm_identity *vms = NULL;
        struct vm_identity vm;
        size_t n;

        assert_non_null(long_cgroup);
        strcpy(long_cgroup, "0::/");
        memset(long_cgroup + 4, 'c', 4200);
        strcpy(long_cgroup + 4204, "\n");

        write_qemu(dir_fd, "41", GOOD_STAT, "4:cpu:/\n");
        write_qemu(dir_fd, "42", GOOD_STAT, "0::/fine\n");
        write_qemu(dir_fd, "43", "43 (qemu) S 1 2\n", "0::/\n");
        write_qemu(dir_fd, "44", GOOD_STAT, long_cgroup);
        write_qemu(dir_fd, "45", GOOD_STAT, "1:name=systemd:/x\n0::/victim\n0::/real\n");
        tmptree_mkdir(dir_fd, "not-a-pid");

        stderr_capture_start();
        assert_int_equal(discover_vm_identify(dir_fd, 41, is_qemu, NULL, &vm), -ENODATA);
        assert_int_equal(discover_vm_identify(dir_fd, 43, is_qemu, NULL, &vm), -EINVAL);
        assert_int_equal(discover_vm_identify(dir_fd, 44, is_qemu, NULL, &vm), -ENAMETOOLONG);
        assert_int_equal(discover_vm_identify(dir_fd, 45, is_qemu, NULL, &vm), -EBADMSG);
        assert_int_equal(discover_vms_scan(dir_fd, is_qemu, NULL, &vms, &n), 0);
        log = stderr_capture_stop();

        assert_contains(log, "<4>pid 41: no cgroup v2 path (no \"0::\" line in its cgroup file)");
        assert_contains(log, "<4>pid 43: cannot read the QEMU process: Invalid argument");
        assert_contains(log, "<4>pid 44: cgroup path too long, skipping");
        assert_contains(log, "<4>pid 45: two \"0::\" lines in its cgroup file, skipping");
        assert_int_equal(n, 1);
        assert_int_equal(vms[0].pid, 42);
        assert_int_equal(vms[0].start_time, 4242);
        assert_int_equal(vms[0].uid, 5);
        assert_string_equal(vms[0].cgroup, "/fine");

        tmptree_remove(path, dir_fd);
}

static void test_verify(void **state)
{
        _cleanup_close_ int proc_fd = fixture_open();
        struct vm_identity vm;

        assert_int_equal(discover_vm_identify(proc_fd, 100, is_qemu, NULL, &vm), 1);
        assert_int_equal(discover_vm_verify(proc_fd, &vm), 1);

        /* Same pid, another start time: a new process, never the old VM. */
        vm.start_time++;
        assert_int_equal(discover_vm_verify(proc_fd, &vm), 0);

        /* Gone. */
        vm.pid = 999;
        assert_int_equal(discover_vm_verify(proc_fd, &vm), 0);
        vm.pid = 600;
        assert_int_equal(discover_vm_verify(proc_fd, &vm), 0);

        /* Exited but not reaped: a zombie is no VM. */
        vm.pid = 900;
        vm.start_time = 999;
        assert_int_equal(discover_vm_verify(proc_fd, &vm), 0);
}

static void test_threads_list(void **state)
{
        _cleanup_close_ int proc_fd = fixture_open();
        _cleanup_free_ pid_t *tids = NULL;
        pid_t *untouched = (pid_t *)&untouched;
        size_t n = 0;

        /* Numeric order, not the directory's. */
        assert_int_equal(discover_threads_list(proc_fd, 100, &tids, &n), 0);
        assert_int_equal(n, 4);
        assert_int_equal(tids[0], 100);
        assert_int_equal(tids[1], 101);
        assert_int_equal(tids[2], 102);
        assert_int_equal(tids[3], 1000);

        assert_int_equal(discover_threads_list(proc_fd, 999, &untouched, &n), -ENOENT);
        assert_int_equal(discover_threads_list(proc_fd, 300, &untouched, &n), -ENOENT);
        assert_true(untouched == (pid_t *)&untouched);
}

/* The real /proc finds this test process itself, and its threads. */
static void test_real_proc(void **state)
{
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ struct vm_identity *vms = NULL;
        _cleanup_free_ pid_t *tids = NULL;
        size_t n = 0, n_tids = 0;
        bool found = false;

        assert_true(proc_fd >= 0);
        assert_int_equal(discover_vms_scan(proc_fd, is_self, NULL, &vms, &n), 0);
        for (size_t i = 0; i < n; i++)
                if (vms[i].pid == getpid()) {
                        found = true;
                        assert_string_equal(vms[i].exe, "test_discover");
                        assert_int_equal(vms[i].uid, geteuid());
                        assert_int_equal(vms[i].cgroup[0], '/');
                        assert_int_equal(discover_vm_verify(proc_fd, &vms[i]), 1);
                }
        assert_true(found);

        assert_int_equal(discover_threads_list(proc_fd, getpid(), &tids, &n_tids), 0);
        assert_true(n_tids >= 1);
        assert_int_equal(tids[0], getpid());
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scan_fixture), cmocka_unit_test(test_scan_predicate),
                cmocka_unit_test(test_identify),     cmocka_unit_test(test_identify_errors),
                cmocka_unit_test(test_verify),       cmocka_unit_test(test_threads_list),
                cmocka_unit_test(test_real_proc),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
