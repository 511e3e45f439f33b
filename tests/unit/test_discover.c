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
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>
#include <signal.h>

#include <cmocka.h>

#include "discover/discover.h"
#include "discover/exetrust.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"
#include "testutil.h"

#define PROC_FIXTURE FIXTURES_DIR "/proc"

/* The default rule: qemu-system-* or qemu-kvm. */
static bool is_qemu(const struct discover_candidate *c, void *userdata)
{
        return fnmatch("qemu-system-*", c->exe, 0) == 0 || strcmp(c->exe, "qemu-kvm") == 0;
}

static bool is_nothing(const struct discover_candidate *c, void *userdata)
{
        return false;
}

/* Records every exe it is asked about, joined by spaces; checks the candidate's pid and fd are its own. */
static bool record_exe(const struct discover_candidate *c, void *userdata)
{
        char *seen = userdata, buf[64];
        ssize_t n = readlinkat(c->pid_fd, "exe", buf, sizeof(buf) - 1);

        assert_true(c->pid > 0);
        assert_true(n > 0);
        strcat(seen, c->exe);
        strcat(seen, "|");
        return false;
}

static bool is_self(const struct discover_candidate *c, void *userdata)
{
        return strcmp(c->exe, "test_discover") == 0;
}

static unsigned occurrences(const char *s, char c)
{
        unsigned n = 0;

        for (; *s; s++)
                n += *s == c;
        return n;
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
        struct vm_identity *vms = NULL;
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
        vm_identities_free(vms, n);
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
        vm_identity_done(&vm);

        /* Held: the fd it was read through, which reads that process still (its stat, as the start time came). */
        {
                int held = -1;
                struct procfs_stat st;
                assert_int_equal(discover_vm_identify_held(proc_fd, 300, is_qemu, NULL, &vm, &held), 0);
                assert_int_equal(held, -1); /* not a VM: nothing held */
                assert_int_equal(discover_vm_identify_held(proc_fd, 500, is_qemu, NULL, &vm, &held), 1);
                assert_true(held >= 0);
                assert_int_equal(procfs_stat_read(held, &st), 0);
                assert_int_equal(st.start_time, vm.start_time);
                vm_identity_done(&vm);
                close(held);
        }
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
        struct vm_identity *vms = NULL;
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
        vm_identities_free(vms, n);
}

/* ---- the executable trust rule, on synthetic stat results ---- */

#define ROOT_DIR(mode) ((struct exe_node){S_IFDIR | (mode), 0})

/* /usr/bin/qemu-system-x86_64, root's 0755 in root's 0755 directories. */
static struct exe_facts facts_good(void)
{
        struct exe_facts f = {
                .path = "/usr/bin/qemu-system-x86_64",
                .file = {S_IFREG | 0755, 0},
                .path_names_file = true,
                .n_dirs = 3,
                .dirs = {ROOT_DIR(0755), ROOT_DIR(0755), ROOT_DIR(0755)},
        };
        return f;
}

static bool trust_opt(const char *path, const void *userdata)
{
        size_t n = strlen(userdata);
        return strncmp(path, userdata, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void test_exe_trust_rule(void **state)
{
        struct exe_facts f;
        struct exe_trust t;
        char why[1024];

        f = facts_good();
        t = exe_trust_decide(&f, NULL, NULL);
        assert_int_equal(t.verdict, EXE_TRUSTED);
        assert_true(exe_trust_ok(t));

        /* The file writable by group, or by others. */
        f.file.mode = S_IFREG | 0775;
        assert_int_equal(exe_trust_decide(&f, NULL, NULL).verdict, EXE_WRITABLE);
        f.file.mode = S_IFREG | 0757;
        t = exe_trust_decide(&f, NULL, NULL);
        assert_int_equal(t.verdict, EXE_WRITABLE);
        assert_false(exe_trust_ok(t));
        assert_string_equal(exe_trust_describe(&f, t, why, sizeof(why)),
                            "/usr/bin/qemu-system-x86_64 is writable by group or others (mode 0757)");

        /* The file owned by another uid (the nobody), even 0555. */
        f = facts_good();
        f.file = (struct exe_node){S_IFREG | 0555, 65534};
        t = exe_trust_decide(&f, NULL, NULL);
        assert_int_equal(t.verdict, EXE_NOT_ROOT_OWNED);
        assert_string_equal(exe_trust_describe(&f, t, why, sizeof(why)),
                            "/usr/bin/qemu-system-x86_64 is owned by uid 65534, not root");

        /* Not a regular file. */
        f = facts_good();
        f.file.mode = S_IFLNK | 0777;
        assert_int_equal(exe_trust_decide(&f, NULL, NULL).verdict, EXE_NOT_REGULAR);

        /* A root-owned file in a sticky /tmp-like directory others may write: refused, with that directory named. */
        f = facts_good();
        snprintf(f.path, sizeof(f.path), "/tmp/x/qemu-system-x86_64");
        f.dirs[1] = ROOT_DIR(01777);
        t = exe_trust_decide(&f, NULL, NULL);
        assert_int_equal(t.verdict, EXE_DIR_WRITABLE);
        assert_int_equal(t.dir, 1);
        assert_string_equal(exe_trust_describe(&f, t, why, sizeof(why)),
                            "/tmp/x/qemu-system-x86_64 is in /tmp, which is writable by group or others (mode 1777)");

        /* A directory of another user's, deeper down; and / itself. */
        f = facts_good();
        snprintf(f.path, sizeof(f.path), "/home/u/qemu-system-x86_64");
        f.dirs[2] = (struct exe_node){S_IFDIR | 0755, 1000};
        t = exe_trust_decide(&f, NULL, NULL);
        assert_int_equal(t.verdict, EXE_DIR_NOT_ROOT_OWNED);
        assert_string_equal(exe_trust_describe(&f, t, why, sizeof(why)),
                            "/home/u/qemu-system-x86_64 is in /home/u, which is owned by uid 1000, not root");
        f = facts_good();
        f.dirs[0] = ROOT_DIR(0775);
        t = exe_trust_decide(&f, NULL, NULL);
        assert_int_equal(t.verdict, EXE_DIR_WRITABLE);
        assert_int_equal(t.dir, 0);
        assert_string_equal(exe_trust_describe(&f, t, why, sizeof(why)),
                            "/usr/bin/qemu-system-x86_64 is in /, which is writable by group or others (mode 0775)");

        /* A path that does not name the file here, and facts without a single directory. */
        f = facts_good();
        f.path_names_file = false;
        assert_int_equal(exe_trust_decide(&f, NULL, NULL).verdict, EXE_PATH_ELSEWHERE);
        f = facts_good();
        f.n_dirs = 0;
        assert_int_equal(exe_trust_decide(&f, NULL, NULL).verdict, EXE_PATH_ELSEWHERE);
        f = facts_good();
        f.dirs[2].mode = S_IFREG | 0755;
        assert_int_equal(exe_trust_decide(&f, NULL, NULL).verdict, EXE_PATH_ELSEWHERE);

        /* The operator vouches for /opt/qemu: a build user's QEMU there is accepted; /opt/qemux is not that. */
        f = facts_good();
        snprintf(f.path, sizeof(f.path), "/opt/qemu/bin/qemu-system-x86_64");
        f.file.uid = 1000;
        f.n_dirs = 4;
        f.dirs[2] = f.dirs[3] = (struct exe_node){S_IFDIR | 0775, 1000};
        assert_int_equal(exe_trust_decide(&f, NULL, NULL).verdict, EXE_NOT_ROOT_OWNED);
        t = exe_trust_decide(&f, trust_opt, "/opt/qemu");
        assert_int_equal(t.verdict, EXE_TRUSTED_PATH);
        assert_true(exe_trust_ok(t));
        assert_int_equal(exe_trust_decide(&f, trust_opt, "/opt/qemu/bin/qemu-system-x86_64").verdict, EXE_TRUSTED_PATH);
        snprintf(f.path, sizeof(f.path), "/opt/qemux/qemu-system-x86_64");
        assert_int_equal(exe_trust_decide(&f, trust_opt, "/opt/qemu").verdict, EXE_NOT_ROOT_OWNED);
        /* Vouching turns no path that lies, nor a file that is not regular, into a trusted one. */
        snprintf(f.path, sizeof(f.path), "/opt/qemu/bin/qemu-system-x86_64");
        f.path_names_file = false;
        assert_int_equal(exe_trust_decide(&f, trust_opt, "/opt/qemu").verdict, EXE_PATH_ELSEWHERE);
        f.path_names_file = true;
        f.file.mode = S_IFCHR | 0755;
        assert_int_equal(exe_trust_decide(&f, trust_opt, "/opt/qemu").verdict, EXE_NOT_REGULAR);

        /* The path escaped for the log line: its name is whoever made the file's. */
        f = facts_good();
        snprintf(f.path, sizeof(f.path), "/tmp/\n<3>forged");
        f.file.uid = 65534;
        t = exe_trust_decide(&f, NULL, NULL);
        assert_null(strchr(exe_trust_describe(&f, t, why, sizeof(why)), '\n'));
}

static void test_exe_path_parse(void **state)
{
        char path[64];
        bool deleted = true;

        assert_int_equal(exe_path_parse("/usr/bin/qemu-system-x86_64", path, sizeof(path), &deleted), 0);
        assert_string_equal(path, "/usr/bin/qemu-system-x86_64");
        assert_false(deleted);
        assert_int_equal(exe_path_parse("/usr/bin/qemu-kvm (deleted)", path, sizeof(path), &deleted), 0);
        assert_string_equal(path, "/usr/bin/qemu-kvm");
        assert_true(deleted);
        assert_int_equal(exe_path_parse("qemu", path, sizeof(path), &deleted), -EINVAL);
        assert_int_equal(exe_path_parse(" (deleted)", path, sizeof(path), &deleted), -EINVAL);
        assert_int_equal(exe_path_parse("/a/very/long/path/that/does/not/fit/in/sixty/four/bytes/qemu-system", path,
                                        sizeof(path), &deleted),
                         -ENAMETOOLONG);
}

/* The memo of trusted executables: the same path and the very inode, unchanged, within EXE_MEMO_USEC; nothing else. */
static void test_exe_memo(void **state)
{
        struct exe_memos m = {0};
        struct exe_facts f = {.path = "/usr/bin/qemu-system-x86_64", .inode = {.dev = 8, .ino = 1234}};
        struct exe_facts other;
        uint64_t t0 = 1000000;

        f.inode.ctime = (struct timespec){.tv_sec = 1700000000, .tv_nsec = 5};
        assert_false(exe_memo_holds(&m, &f, t0)); /* nothing memoised yet */
        exe_memo_put(&m, &f, t0);
        assert_true(exe_memo_holds(&m, &f, t0));
        assert_true(exe_memo_holds(&m, &f, t0 + EXE_MEMO_USEC - 1));
        assert_false(exe_memo_holds(&m, &f, t0 + EXE_MEMO_USEC)); /* walked again */
        assert_false(exe_memo_holds(&m, &f, t0 - 1));             /* a clock that went back proves nothing */

        /* The same path, another inode (replaced by an upgrade, or by an attacker who could): not the memo's. */
        other = f;
        other.inode.ino = 1235;
        assert_false(exe_memo_holds(&m, &other, t0));
        /* The same inode changed since (chmod, chown, a new link): its ctime moved. */
        other = f;
        other.inode.ctime.tv_nsec = 6;
        assert_false(exe_memo_holds(&m, &other, t0));
        /* The same inode, reached by another path (a hard link elsewhere): that path was never walked. */
        other = f;
        snprintf(other.path, sizeof(other.path), "/tmp/qemu-system-x86_64");
        assert_false(exe_memo_holds(&m, &other, t0));
        /* A deleted executable is never taken from a memo, nor memoised. */
        other = f;
        other.deleted = true;
        assert_false(exe_memo_holds(&m, &other, t0));
        exe_memo_put(&m, &other, t0);
        assert_false(exe_memo_holds(&m, &other, t0));

        /* The same path found trusted again: its memo renewed in place, not a second one. */
        exe_memo_put(&m, &f, t0 + EXE_MEMO_USEC);
        assert_true(exe_memo_holds(&m, &f, t0 + EXE_MEMO_USEC + 1));
        /* Past EXE_MEMOS paths the oldest goes: the first path, memoised before all of these. */
        for (int i = 0; i < EXE_MEMOS; i++) {
                other = f;
                snprintf(other.path, sizeof(other.path), "/opt/qemu-%d/bin/qemu-system-x86_64", i);
                exe_memo_put(&m, &other, t0 + EXE_MEMO_USEC + 10 + (uint64_t)i);
                assert_true(exe_memo_holds(&m, &other, t0 + EXE_MEMO_USEC + 20));
        }
        assert_false(exe_memo_holds(&m, &f, t0 + EXE_MEMO_USEC + 20));
        /* A path too long for a memo is walked each time. */
        memset(other.path, 'a', EXE_MEMO_PATH_MAX);
        other.path[0] = '/';
        other.path[EXE_MEMO_PATH_MAX] = '\0';
        exe_memo_put(&m, &other, t0);
        assert_false(exe_memo_holds(&m, &other, t0));
        (void)state;
}

/* The reader on a tree: a fake /proc/PID/exe link to a real file, its path checked beneath a fake root. */
static void test_exe_facts_read(void **state)
{
        char path[4096], target[4096], mirror[4096];
        int tree_fd = tmptree_new(path, sizeof(path)), proc_fd, root_fd;
        struct exe_facts f;
        struct exe_trust t;

        /* TREE/bin/qemu-system-x86_64, and TREE/root/TREE/bin/ the same inode: the path names it beneath root. */
        tmptree_write_string(tree_fd, "bin/qemu-system-x86_64", "#!/bin/false\n");
        assert_int_equal(fchmodat(tree_fd, "bin/qemu-system-x86_64", 0755, 0), 0);
        assert_true(snprintf(target, sizeof(target), "%s/bin/qemu-system-x86_64", path) < (int)sizeof(target));
        assert_true(snprintf(mirror, sizeof(mirror), "root%s/bin", path) < (int)sizeof(mirror));
        tmptree_mkdir(tree_fd, mirror);
        assert_true(strlen(mirror) + 20 < sizeof(mirror));
        strcat(mirror, "/qemu-system-x86_64");
        assert_int_equal(linkat(tree_fd, "bin/qemu-system-x86_64", tree_fd, mirror, 0), 0);
        tmptree_mkdir(tree_fd, "proc/7");
        assert_int_equal(symlinkat(target, tree_fd, "proc/7/exe"), 0);
        proc_fd = openat(tree_fd, "proc/7", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        root_fd = openat(tree_fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(proc_fd >= 0 && root_fd >= 0);

        assert_int_equal(exe_facts_read(proc_fd, root_fd, &f), 0);
        assert_string_equal(f.path, target);
        assert_false(f.deleted);
        assert_true(S_ISREG(f.file.mode));
        assert_int_equal(f.file.uid, geteuid());
        assert_int_equal(f.file.mode & 07777, 0755);
        assert_true(f.path_names_file);
        {
                struct stat st;
                assert_int_equal(fstatat(tree_fd, "bin/qemu-system-x86_64", &st, 0), 0);
                assert_true(f.inode.dev == st.st_dev && f.inode.ino == st.st_ino);
                assert_true(f.inode.ctime.tv_sec == st.st_ctim.tv_sec && f.inode.ctime.tv_nsec == st.st_ctim.tv_nsec);
        }
        assert_int_equal(f.n_dirs, (size_t)occurrences(target, '/')); /* "/" and each directory down to bin */
        for (size_t i = 0; i < f.n_dirs; i++)
                assert_true(S_ISDIR(f.dirs[i].mode));
        /* mkdtemp made TREE 0700, TREE/root/... 0755: the mode read is the mirror's. */
        assert_int_equal(f.dirs[f.n_dirs - 1].mode & 07777, 0755);
        /* Root's here and in CI: trusted; anyone else's file is refused for its owner (no case is skipped). */
        assert_int_equal(exe_trust_decide(&f, NULL, NULL).verdict, geteuid() == 0 ? EXE_TRUSTED : EXE_NOT_ROOT_OWNED);
        /* Its directory made a sticky /tmp-like one: refused, that directory named. */
        mirror[strlen(mirror) - strlen("/qemu-system-x86_64")] = '\0';
        assert_int_equal(fchmodat(tree_fd, mirror, 01777, 0), 0);
        assert_int_equal(exe_facts_read(proc_fd, root_fd, &f), 0);
        f.file.uid = 0; /* as root's, whoever runs the test */
        t = exe_trust_decide(&f, NULL, NULL);
        assert_int_equal(t.verdict, EXE_DIR_WRITABLE);
        assert_int_equal(t.dir, f.n_dirs - 1);
        assert_int_equal(fchmodat(tree_fd, mirror, 0755, 0), 0);
        strcat(mirror, "/qemu-system-x86_64");

        /* Another file at the path beneath root: the path does not name the process's executable. */
        assert_int_equal(unlinkat(tree_fd, mirror, 0), 0);
        tmptree_write_string(tree_fd, mirror, "#!/bin/false\n");
        assert_int_equal(exe_facts_read(proc_fd, root_fd, &f), 0);
        assert_false(f.path_names_file);
        t = exe_trust_decide(&f, NULL, NULL);
        assert_int_equal(t.verdict, EXE_PATH_ELSEWHERE);

        /* A symbolic link on the way is not followed: the path does not name the file either. */
        assert_int_equal(unlinkat(tree_fd, mirror, 0), 0);
        assert_int_equal(linkat(tree_fd, "bin/qemu-system-x86_64", tree_fd, mirror, 0), 0);
        assert_int_equal(exe_facts_read(proc_fd, root_fd, &f), 0);
        assert_true(f.path_names_file);
        assert_int_equal(renameat(tree_fd, "root", tree_fd, "real-root"), 0);
        tmptree_mkdir(tree_fd, "root");
        /* root/FIRST -> ../real-root/FIRST: every name below it resolves, through a link */
        {
                char first[4096], *slash, link_at[4096];
                assert_true(snprintf(first, sizeof(first), "%s", path + 1) < (int)sizeof(first));
                slash = strchr(first, '/');
                if (slash)
                        *slash = '\0';
                assert_true(snprintf(mirror, sizeof(mirror), "../real-root/%s", first) < (int)sizeof(mirror));
                assert_true(snprintf(link_at, sizeof(link_at), "root/%s", first) < (int)sizeof(link_at));
                assert_int_equal(symlinkat(mirror, tree_fd, link_at), 0);
        }
        close(root_fd);
        root_fd = openat(tree_fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(exe_facts_read(proc_fd, root_fd, &f), 0);
        assert_false(f.path_names_file);

        /* A process gone: its exe link is gone. */
        assert_int_equal(unlinkat(tree_fd, "proc/7/exe", 0), 0);
        assert_int_equal(exe_facts_read(proc_fd, root_fd, &f), -ENOENT);

        close(proc_fd);
        close(root_fd);
        tmptree_remove(path, tree_fd);
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
        vm_identity_done(&vm);
}

/* A held /proc/PID directory answers for its process on the real /proc: alive, it is the VM (the pid cannot be
 * anyone else's before it is reaped); reaped, it is not, even when the identity's start time would still match. */
static void test_verify_held(void **state)
{
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct vm_identity vm = {0};
        int pid_fd, status;
        pid_t child;

        assert_true(proc_fd >= 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                pause();
                _exit(0);
        }
        vm.pid = child;
        /* the hold reads the process's stat: another start time is another process */
        vm.start_time = 1;
        assert_int_equal(discover_vm_hold(proc_fd, &vm), -ESRCH);
        assert_int_equal(discover_vm_verify(proc_fd, &vm), 0);

        _cleanup_close_ int child_fd = procfs_pid_open(proc_fd, child);
        struct procfs_stat st;
        assert_int_equal(procfs_stat_read(child_fd, &st), 0);
        vm.start_time = st.start_time;
        assert_int_equal(discover_vm_verify(proc_fd, &vm), 1);
        pid_fd = discover_vm_hold(proc_fd, &vm);
        assert_true(pid_fd >= 0);
        assert_int_equal(discover_vm_verify_held(proc_fd, pid_fd, &vm), 1);

        assert_int_equal(kill(child, SIGKILL), 0);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_int_equal(discover_vm_verify_held(proc_fd, pid_fd, &vm), 0);
        close(pid_fd);
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
        struct vm_identity *vms = NULL;
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
        vm_identities_free(vms, n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scan_fixture),   cmocka_unit_test(test_scan_predicate),
                cmocka_unit_test(test_identify),       cmocka_unit_test(test_identify_errors),
                cmocka_unit_test(test_verify),         cmocka_unit_test(test_exe_trust_rule),
                cmocka_unit_test(test_exe_path_parse), cmocka_unit_test(test_exe_memo),
                cmocka_unit_test(test_exe_facts_read), cmocka_unit_test(test_threads_list),
                cmocka_unit_test(test_real_proc),      cmocka_unit_test(test_verify_held),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
