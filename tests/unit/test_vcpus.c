/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which thread is which: the parsers of comm, syscall and fd links, and the chain QMP -> names -> KVM on fake /proc
 * trees (the QMP answers from tests/unit/fakeqmp.h's server). */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "discover/vcpus.h"
#include "kernel/macro.h"
#include "testutil.h"
#include "fakeqmp.h"

#define ARGV(s) s, sizeof(s)     /* a literal argv: its final NUL ends the last argument */
#define ARGS(s) s, sizeof(s) - 1 /* a literal file's bytes */

/* ---- parsers ---- */

static struct vcpus_comm comm(const char *s)
{
        struct vcpus_comm c;

        assert_int_equal(vcpus_comm_parse(s, strlen(s), &c), 0);
        return c;
}

static void test_comm(void **state)
{
        static const char *const other[] = {
                "qemu-system-x86\n",
                "CPU 01/KVM\n",
                "CPU -1/KVM\n",
                "CPU +1/KVM\n",
                "CPU 0/KVMX\n",
                "CPU 0/kvm\n",
                "CPU /KVM\n",
                "CPU 0\n",
                "ALL CPUs/TCG\n",
                "CPU 99999999999/KVM\n",
                "IO \n",
                "IO\n",
                "CPU 1/HVF\n",
                "IO mon_iothread\n",
                "",
                "call_rcu\n",
        };
        struct vcpus_comm c;

        c = comm("CPU 0/KVM\n");
        assert_int_equal(c.kind, VCPUS_COMM_VCPU);
        assert_int_equal(c.index, 0);
        c = comm("CPU 12/TCG");
        assert_int_equal(c.kind, VCPUS_COMM_VCPU);
        assert_int_equal(c.index, 12);
        c = comm("CPU 2147483647/KVM");
        assert_int_equal(c.index, INT_MAX);

        c = comm("IO iothread0\n");
        assert_int_equal(c.kind, VCPUS_COMM_IOTHREAD);
        assert_string_equal(c.id, "iothread0");
        assert_false(c.id_truncated);
        /* 15 bytes, all a comm holds: the id may have been longer */
        c = comm("IO iothread-dis\n");
        assert_int_equal(c.kind, VCPUS_COMM_IOTHREAD);
        assert_string_equal(c.id, "iothread-dis");
        assert_true(c.id_truncated);

        for (size_t i = 0; i < ELEMENTSOF(other); i++)
                if (comm(other[i]).kind != VCPUS_COMM_OTHER)
                        fail_msg("taken for a vCPU or IO thread: %s", other[i]);
        /* a NUL inside is no name QEMU gave */
        assert_int_equal(vcpus_comm_parse("CPU 0\0/KVM", 10, &c), 0);
        assert_int_equal(c.kind, VCPUS_COMM_OTHER);
}

static void test_syscall(void **state)
{
        static const char *const bad[] = {"",
                                          "\n",
                                          "16",
                                          "16 12 0x0",
                                          "16 0x",
                                          "16 0xg",
                                          "x 0x1",
                                          "-2 0x1 0x2",
                                          "16 0x11111111111111111",
                                          "1234567890 0x1"};
        unsigned long long arg0;
        long nr;

        assert_int_equal(
                vcpus_syscall_parse(ARGS("16 0xc 0xae80 0x0 0x0 0x0 0x0 0x7ffd1c2a9e48 0x7f12a4b1c3ab\n"), &nr, &arg0),
                1);
        assert_int_equal(nr, 16);
        assert_int_equal(arg0, 12);
        assert_int_equal(
                vcpus_syscall_parse(ARGS("7 0x5617e0b0c010 0x3 0xffffffff 0x0 0x8 0x0 0x7ffd 0x7f12\n"), &nr, &arg0),
                1);
        assert_int_equal(nr, 7);
        assert_int_equal(arg0, 0x5617e0b0c010ULL);
        assert_int_equal(vcpus_syscall_parse(ARGS("running\n"), &nr, &arg0), 0);
        assert_int_equal(vcpus_syscall_parse(ARGS("-1 0x7ffd1c2a9e48 0x7f12a4b1c3ab\n"), &nr, &arg0), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (vcpus_syscall_parse(bad[i], strlen(bad[i]), &nr, &arg0) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
}

static void test_fd_link(void **state)
{
        static const char *const bad[] = {
                "anon_inode:kvm-vm", "anon_inode:kvm-vcpu:", "anon_inode:kvm-vcpu:1x",     "anon_inode:kvm-vcpu:-1",
                "/dev/kvm",          "anon_inode:[eventfd]", "/tmp/anon_inode:kvm-vcpu:0", "anon_inode:kvm-vcpu:01"};
        int id;

        assert_int_equal(vcpus_fd_link_parse("anon_inode:kvm-vcpu:0", &id), 0);
        assert_int_equal(id, 0);
        assert_int_equal(vcpus_fd_link_parse("anon_inode:kvm-vcpu:17", &id), 0);
        assert_int_equal(id, 17);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (vcpus_fd_link_parse(bad[i], &id) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
}

/* ---- the chain on a fake /proc ---- */

struct fixture {
        char dir[256];
        int dir_fd, proc_fd;
        pid_t pid;
};

static void fixture_new(struct fixture *f, pid_t pid, const char *argv, size_t len)
{
        char path[128];

        f->dir_fd = tmptree_new(f->dir, sizeof(f->dir));
        f->pid = pid;
        tmptree_mkdir(f->dir_fd, "rootfs/run");
        snprintf(path, sizeof(path), "proc/%d/cmdline", (int)pid);
        tmptree_write(f->dir_fd, path, argv, len);
        snprintf(path, sizeof(path), "proc/%d/status", (int)pid);
        tmptree_write_string(f->dir_fd, path, "Name:\tqemu\nUid:\t0\t0\t0\t0\n");
        snprintf(path, sizeof(path), "proc/%d/fd", (int)pid);
        tmptree_mkdir(f->dir_fd, path);
        snprintf(path, sizeof(path), "proc/%d/root", (int)pid);
        assert_int_equal(symlinkat("../../rootfs", f->dir_fd, path), 0);
        f->proc_fd = openat(f->dir_fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->proc_fd >= 0);
}

static void fixture_free(struct fixture *f)
{
        close(f->proc_fd);
        tmptree_remove(f->dir, f->dir_fd);
}

/* A thread with its comm and, if syscall is not NULL, its syscall file. */
static void fixture_thread(struct fixture *f, pid_t tid, const char *comm_line, const char *syscall_line)
{
        char path[128];

        snprintf(path, sizeof(path), "proc/%d/task/%d/comm", (int)f->pid, (int)tid);
        tmptree_write_string(f->dir_fd, path, comm_line);
        if (syscall_line) {
                snprintf(path, sizeof(path), "proc/%d/task/%d/syscall", (int)f->pid, (int)tid);
                tmptree_write_string(f->dir_fd, path, syscall_line);
        }
}

static void fixture_fd(struct fixture *f, int fd, const char *target)
{
        char path[128];

        snprintf(path, sizeof(path), "proc/%d/fd/%d", (int)f->pid, fd);
        assert_int_equal(symlinkat(target, f->dir_fd, path), 0);
}

/* The threads of a QEMU started with -name vm,debug-threads=on: main loop, RCU, two vCPUs, an IO thread. */
static void fixture_named(struct fixture *f)
{
        fixture_thread(f, f->pid, "qemu-system-x86\n", NULL);
        fixture_thread(f, f->pid + 1, "call_rcu\n", NULL);
        fixture_thread(f, f->pid + 2, "CPU 0/KVM\n", NULL);
        fixture_thread(f, f->pid + 3, "CPU 1/KVM\n", NULL);
        fixture_thread(f, f->pid + 4, "IO io0\n", NULL);
}

static void test_chain_names(void **state)
{
        struct fixture f;
        struct vcpus_map m;
        size_t i;

        fixture_new(&f, 4242, ARGV("qemu-system-x86_64\0-name\0vm,debug-threads=on"));
        fixture_named(&f);
        assert_int_equal(vcpus_map_read(f.proc_fd, f.pid, QMP_TIMEOUT_MS, &m), 0);
        assert_int_equal(m.source, VCPUS_NAMES);
        assert_string_equal(vcpus_source_to_string(m.source), "thread-names");
        assert_int_equal(m.threads.n_vcpus, 2);
        assert_int_equal(m.threads.n_iothreads, 1);
        assert_string_equal(m.threads.iothreads[0].id, "io0");
        assert_string_equal(m.reason, "no QMP socket on its command line");

        assert_int_equal(vcpus_thread_role(&m, 4244, &i), VCPUS_ROLE_VCPU);
        assert_int_equal(m.threads.vcpus[i].index, 0);
        assert_int_equal(vcpus_thread_role(&m, 4245, &i), VCPUS_ROLE_VCPU);
        assert_int_equal(m.threads.vcpus[i].index, 1);
        assert_int_equal(vcpus_thread_role(&m, 4246, &i), VCPUS_ROLE_IOTHREAD);
        assert_int_equal(vcpus_thread_role(&m, 4242, NULL), VCPUS_ROLE_EMULATOR);
        assert_int_equal(vcpus_thread_role(&m, 4243, NULL), VCPUS_ROLE_EMULATOR);
        vcpus_map_done(&m);
        fixture_free(&f);
}

static void test_chain_unknown(void **state)
{
        struct fixture f;
        struct vcpus_map m;

        /* threads not named, no QMP, no KVM: unknown, and the status says what to do */
        fixture_new(&f, 4242, ARGV("qemu-system-x86_64\0-name\0vm"));
        fixture_thread(&f, 4242, "qemu-system-x86\n", NULL);
        fixture_thread(&f, 4243, "qemu-system-x86\n", NULL);
        assert_int_equal(vcpus_map_read(f.proc_fd, f.pid, QMP_TIMEOUT_MS, &m), 0);
        assert_int_equal(m.source, VCPUS_UNKNOWN);
        assert_int_equal(m.threads.n_vcpus, 0);
        assert_contains(m.reason, "no QMP socket on its command line; its threads are not named; ");
        assert_contains(m.reason, "start QEMU with -name NAME,debug-threads=on");
        assert_int_equal(vcpus_thread_role(&m, 4243, NULL), VCPUS_ROLE_EMULATOR);
        vcpus_map_done(&m);

        /* two threads that claim one vCPU: neither is believed */
        fixture_thread(&f, 4244, "CPU 0/KVM\n", NULL);
        fixture_thread(&f, 4245, "CPU 0/KVM\n", NULL);
        assert_int_equal(vcpus_map_read(f.proc_fd, f.pid, QMP_TIMEOUT_MS, &m), 0);
        assert_int_equal(m.source, VCPUS_UNKNOWN);
        assert_contains(m.reason, "two threads carry the same vCPU name");
        vcpus_map_done(&m);

        /* a process that is gone */
        assert_int_equal(vcpus_map_read(f.proc_fd, 4343, QMP_TIMEOUT_MS, &m), -ENOENT);
        fixture_free(&f);
}

static void test_chain_kvm(void **state)
{
        char line[128];
        struct fixture f;
        struct vcpus_map m;
        size_t i;

        fixture_new(&f, 4242, ARGV("qemu-system-x86_64\0-accel\0kvm"));
        fixture_fd(&f, 0, "/dev/null");
        fixture_fd(&f, 9, "/dev/kvm");
        fixture_fd(&f, 10, "anon_inode:kvm-vm");
        fixture_fd(&f, 12, "anon_inode:kvm-vcpu:0");
        fixture_fd(&f, 14, "anon_inode:kvm-vcpu:1");
        /* the main loop in ppoll, vCPU 1's thread first, both blocked in ioctl(fd, KVM_RUN) */
        fixture_thread(&f, 4242, "qemu-system-x86\n", "271 0x5617e0b0c010 0x3 0x7ffd 0x0 0x8 0x0 0x7ffd 0x7f12\n");
        snprintf(line, sizeof(line), "%d 0xe 0xae80 0x0 0x0 0x0 0x0 0x7f1 0x7f2\n", SYS_ioctl);
        fixture_thread(&f, 4243, "qemu-system-x86\n", line);
        snprintf(line, sizeof(line), "%d 0xc 0xae80 0x0 0x0 0x0 0x0 0x7f1 0x7f2\n", SYS_ioctl);
        fixture_thread(&f, 4244, "qemu-system-x86\n", line);
        /* a worker in an ioctl on another fd */
        snprintf(line, sizeof(line), "%d 0xa 0xae03 0x0 0x0 0x0 0x0 0x7f1 0x7f2\n", SYS_ioctl);
        fixture_thread(&f, 4245, "qemu-system-x86\n", line);

        assert_int_equal(vcpus_map_read(f.proc_fd, f.pid, QMP_TIMEOUT_MS, &m), 0);
        assert_int_equal(m.source, VCPUS_KVM);
        assert_int_equal(m.threads.n_vcpus, 2);
        assert_int_equal(vcpus_thread_role(&m, 4244, &i), VCPUS_ROLE_VCPU);
        assert_int_equal(m.threads.vcpus[i].index, 0);
        assert_int_equal(vcpus_thread_role(&m, 4243, &i), VCPUS_ROLE_VCPU);
        assert_int_equal(m.threads.vcpus[i].index, 1);
        assert_int_equal(vcpus_thread_role(&m, 4245, NULL), VCPUS_ROLE_EMULATOR);
        assert_int_equal(m.threads.n_iothreads, 0);
        assert_contains(m.reason, "its threads are not named");
        vcpus_map_done(&m);

        /* vCPU 1 running guest code: not in a syscall, so not all vCPUs are found, and the map is not guessed */
        tmptree_write_string(f.dir_fd, "proc/4242/task/4243/syscall", "running\n");
        assert_int_equal(vcpus_map_read(f.proc_fd, f.pid, QMP_TIMEOUT_MS, &m), 0);
        assert_int_equal(m.source, VCPUS_UNKNOWN);
        assert_contains(m.reason, "KVM: 1 of 2 vCPU threads found in KVM_RUN");
        vcpus_map_done(&m);
        fixture_free(&f);
}

/* QMP answers from a fake QEMU listening in the fixture's root; it must name threads of the process. */
#define CPUS_OF(a, b)                                                                                                  \
        ">{\"return\": [{\"cpu-index\": 0, \"thread-id\": " #a "}, {\"cpu-index\": 1, \"thread-id\": " #b              \
        "}], \"id\": 2}\r\n"

/* A whole exchange whose query-cpus-fast answer is cpus */
#define SCRIPT(cpus)                                                                                                   \
        ">" QMP_GREETING, "<", ">" QMP_CAPS_OK, "<", cpus, "<", ">{\"return\": [], \"id\": 3}\r\n", ".", NULL

/* A fake QEMU listening on /run/qmp.sock in the fixture's root, playing script; its /proc directory (named by its
 * pid, so written once it runs) has the main thread and two threads named CPU 0 and CPU 1: 900002 and 900003. */
static void qmp_fixture(struct fixture *f, const char *const *script)
{
        static const char argv[] = "qemu-system-x86_64\0-name\0vm,debug-threads=on\0-qmp\0unix:/run/qmp.sock,server=on";
        char sock[PATH_MAX], path[128], status[128];

        f->dir_fd = tmptree_new(f->dir, sizeof(f->dir));
        tmptree_mkdir(f->dir_fd, "rootfs/run");
        snprintf(sock, sizeof(sock), "%s/rootfs/run/qmp.sock", f->dir);
        f->pid = fake_qmp_listen(sock, script);

        snprintf(path, sizeof(path), "proc/%d/cmdline", (int)f->pid);
        tmptree_write(f->dir_fd, path, argv, sizeof(argv));
        snprintf(path, sizeof(path), "proc/%d/status", (int)f->pid);
        snprintf(status, sizeof(status), "Name:\tqemu\nUid:\t%u\t%u\t%u\t%u\n", geteuid(), geteuid(), geteuid(),
                 geteuid());
        tmptree_write_string(f->dir_fd, path, status);
        snprintf(path, sizeof(path), "proc/%d/root", (int)f->pid);
        assert_int_equal(symlinkat("../../rootfs", f->dir_fd, path), 0);
        f->proc_fd = openat(f->dir_fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->proc_fd >= 0);
        fixture_thread(f, f->pid, "qemu-system-x86\n", NULL);
        fixture_thread(f, 900002, "CPU 0/KVM\n", NULL);
        fixture_thread(f, 900003, "CPU 1/KVM\n", NULL);
}

static void test_chain_qmp(void **state)
{
        /* QMP has the vCPUs the other way round than the names: QMP wins */
        const char *const script[] = {SCRIPT(CPUS_OF(900003, 900002))};
        struct fixture f;
        struct vcpus_map m;
        size_t i;

        qmp_fixture(&f, script);
        assert_int_equal(vcpus_map_read(f.proc_fd, f.pid, 2000, &m), 0);
        assert_int_equal(m.source, VCPUS_QMP);
        assert_string_equal(vcpus_source_to_string(m.source), "qmp");
        assert_string_equal(m.reason, "");
        assert_int_equal(vcpus_thread_role(&m, 900003, &i), VCPUS_ROLE_VCPU);
        assert_int_equal(m.threads.vcpus[i].index, 0);
        assert_int_equal(vcpus_thread_role(&m, 900002, &i), VCPUS_ROLE_VCPU);
        assert_int_equal(m.threads.vcpus[i].index, 1);
        assert_int_equal(vcpus_thread_role(&m, f.pid, NULL), VCPUS_ROLE_EMULATOR);
        vcpus_map_done(&m);
        assert_int_equal(fake_qmp_wait(f.pid, false), 0);
        fixture_free(&f);
}

static void test_chain_qmp_lies(void **state)
{
        /* QMP names a thread that is not the process's: moving it would move someone else's */
        const char *const script[] = {SCRIPT(CPUS_OF(900002, 1))};
        struct fixture f;
        struct vcpus_map m;

        qmp_fixture(&f, script);
        /* refused, and the names answer instead */
        assert_int_equal(vcpus_map_read(f.proc_fd, f.pid, 2000, &m), 0);
        assert_int_equal(m.source, VCPUS_NAMES);
        assert_string_equal(m.reason,
                            "QMP socket /run/qmp.sock named thread 1 for vCPU 1, not one of the process's threads");
        assert_int_equal(m.threads.n_vcpus, 2);
        assert_int_equal(vcpus_thread_role(&m, 1, NULL), VCPUS_ROLE_EMULATOR);
        vcpus_map_done(&m);
        (void)fake_qmp_wait(f.pid, true);
        fixture_free(&f);
}

static void test_chain_qmp_busy(void **state)
{
        /* the monitor's one client is someone else: the names answer, and the status says why QMP did not */
        struct fixture f;
        struct vcpus_map m;
        long t0 = fake_now_ms(), ms;

        qmp_fixture(&f, NULL);
        assert_int_equal(vcpus_map_read(f.proc_fd, f.pid, QMP_TIMEOUT_MS, &m), 0);
        ms = fake_now_ms() - t0;
        assert_true(ms < 600);
        assert_int_equal(m.source, VCPUS_NAMES);
        assert_string_equal(m.reason, "QMP socket /run/qmp.sock busy (another client holds it)");
        vcpus_map_done(&m);
        (void)fake_qmp_wait(f.pid, true);
        fixture_free(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_comm),           cmocka_unit_test(test_syscall),
                cmocka_unit_test(test_fd_link),        cmocka_unit_test(test_chain_names),
                cmocka_unit_test(test_chain_unknown),  cmocka_unit_test(test_chain_kvm),
                cmocka_unit_test(test_chain_qmp),      cmocka_unit_test(test_chain_qmp_lies),
                cmocka_unit_test(test_chain_qmp_busy),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
