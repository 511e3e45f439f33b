/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tap discovery: the fdinfo parser on literals, the readers on tests/fixtures/tapdev with a fake tun driver, and
 * the real tun driver where this machine lets a test make a tap. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include <cmocka.h>

#include "kernel/macro.h"
#include "kernel/procfs.h"
#include "act/tapdev.h"

#define FIXTURE FIXTURES_DIR "/tapdev"
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

/* The tun driver's answers, as tapdev_probe_kernel would give them, per fd of the fixture's processes. */
struct fake_device {
        pid_t pid;
        int fd;
        const char *ifname;
        unsigned flags;
        bool other_netns;
};

static const struct fake_device fake_devices[] = {
        {1000, 30, "vmtap0", IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE, false},
        {1000, 31, "vmtap0", IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE, false},
        {1000, 33, "vm-web-1.n1", IFF_TAP | IFF_NO_PI, false},
        {1004, 5, "vmgbarhost", IFF_TAP | IFF_NO_PI, true},
        {1005, 5, "vmgbarhost", IFF_TAP | IFF_NO_PI, true},
        {1006, 5, "tunonly", IFF_TUN | IFF_NO_PI, false},
        {1007, 5, "ghost0", IFF_TAP | IFF_NO_PI, false},
        {1008, 5, "vmtap0", IFF_TAP | IFF_NO_PI, false},
};

struct fake_probe {
        int error; /* 0: answer from fake_devices; otherwise every probe fails with it */
        struct tapdev_netns self;
        unsigned calls;
};

static int fake_probe(pid_t pid, int fd, struct tapdev_device *ret, void *userdata)
{
        struct fake_probe *p = userdata;

        p->calls++;
        if (p->error)
                return p->error;
        for (size_t i = 0; i < ELEMENTSOF(fake_devices); i++) {
                const struct fake_device *d = &fake_devices[i];

                if (d->pid != pid || d->fd != fd)
                        continue;
                snprintf(ret->ifname, sizeof(ret->ifname), "%s", d->ifname);
                ret->flags = d->flags;
                ret->netns = p->self;
                if (d->other_netns)
                        ret->netns.ino++;
                return 0;
        }
        fail_msg("probed pid %d fd %d, which is no tun fd of the fixture", (int)pid, fd);
        return -EBADF;
}

static int read_fixture(pid_t pid, int probe_error, struct tapdev_list *ret)
{
        _cleanup_close_ int proc_fd = open(FIXTURE "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int net_fd = open(FIXTURE "/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int pid_fd = -1;
        struct fake_probe probe = {.error = probe_error};
        struct tapdev_host host = {.proc_fd = proc_fd, .net_fd = net_fd, .probe = fake_probe, .probe_userdata = &probe};

        assert_true(proc_fd >= 0 && net_fd >= 0);
        assert_int_equal(tapdev_netns_at(proc_fd, "self/ns/net", &probe.self), 0);
        pid_fd = procfs_pid_open(proc_fd, pid);
        assert_true(pid_fd >= 0);
        memset(ret, 0xa5, sizeof(*ret)); /* filled whole, or not at all */
        return tapdev_read(&host, pid, pid_fd, ret);
}

static bool has(const struct tapdev_list *l, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->names[i], name) == 0)
                        return true;
        return false;
}

static void assert_one_skip(const struct tapdev_list *l, const char *name, enum tapdev_skip_reason reason)
{
        assert_int_equal(l->n, 0);
        assert_int_equal(l->n_skipped, 1);
        assert_string_equal(l->skipped[0].name, name);
        assert_int_equal(l->skipped[0].reason, reason);
}

/* The taps a QEMU holds, in the engine's namespace, that /sys knows as taps: shaped. */
static void test_read_own_taps(void **state)
{
        struct tapdev_list l;

        assert_int_equal(read_fixture(1000, 0, &l), 0);
        assert_int_equal(l.n, 2); /* the multiqueue tap once; cmdline0 from the command line not at all */
        assert_true(has(&l, "vmtap0"));
        assert_true(has(&l, "vm-web-1.n1"));
        assert_int_equal(l.n_skipped, 0);
        assert_int_equal(l.unverified, 0);
        assert_false(l.truncated);
}

/* A name only on the command line is never a device to shape, whether or not /sys knows it. */
static void test_read_cmdline_only(void **state)
{
        struct tapdev_list l;

        assert_int_equal(read_fixture(1001, 0, &l), 0); /* eth0 */
        assert_int_equal(l.n, 0);
        assert_int_equal(l.n_skipped, 0);
        assert_int_equal(read_fixture(1002, 0, &l), 0); /* tapold, a tap; its tun fd names no device */
        assert_int_equal(l.n, 0);
        assert_int_equal(l.n_skipped, 0);
        assert_int_equal(read_fixture(1003, 0, &l), 0); /* an iff the kernel would never write */
        assert_int_equal(l.n, 0);
        assert_int_equal(l.n_skipped, 0);
}

/* A QEMU in a network namespace of its own with a tap named like the host's vmgbarhost. */
static void test_read_other_netns(void **state)
{
        struct tapdev_list l;

        /* the driver says the device is elsewhere too, but the QEMU's own namespace is what a user is told */
        assert_int_equal(read_fixture(1004, 0, &l), 0);
        assert_one_skip(&l, "vmgbarhost", TAPDEV_SKIP_PROCESS_NETNS);
        assert_int_equal(l.unverified, 0);
        /* the driver cannot be asked: the QEMU's own namespace decides alone */
        assert_int_equal(read_fixture(1004, -EPERM, &l), 0);
        assert_one_skip(&l, "vmgbarhost", TAPDEV_SKIP_PROCESS_NETNS);
        assert_int_equal(l.unverified, -EPERM);
}

/* A QEMU in the engine's namespace holding the fd of a tap made in another one. */
static void test_read_fd_from_other_netns(void **state)
{
        struct tapdev_list l;

        assert_int_equal(read_fixture(1005, 0, &l), 0);
        assert_one_skip(&l, "vmgbarhost", TAPDEV_SKIP_DEVICE_NETNS);
        assert_int_equal(l.unverified, 0);
}

static void test_read_tun_not_tap(void **state)
{
        struct tapdev_list l;

        assert_int_equal(read_fixture(1006, 0, &l), 0); /* the driver says IFF_TUN */
        assert_one_skip(&l, "tunonly", TAPDEV_SKIP_NOT_TAP);
        assert_int_equal(read_fixture(1006, -ENOSYS, &l), 0); /* so does /sys */
        assert_one_skip(&l, "tunonly", TAPDEV_SKIP_NOT_TAP);
        assert_int_equal(l.unverified, -ENOSYS);
}

static void test_read_unknown_to_sysfs(void **state)
{
        struct tapdev_list l;

        assert_int_equal(read_fixture(1007, 0, &l), 0);
        assert_one_skip(&l, "ghost0", TAPDEV_SKIP_NO_DEVICE);
}

/* The driver cannot be asked (pidfd_getfd refused): the other checks decide, and the list says so. */
static void test_read_probe_refused(void **state)
{
        struct tapdev_list l;

        assert_int_equal(read_fixture(1000, -EPERM, &l), 0);
        assert_int_equal(l.n, 2);
        assert_true(has(&l, "vmtap0"));
        assert_int_equal(l.unverified, -EPERM);
}

/* The process went away while it was looked at: gone, not an empty list. */
static void test_read_vanished(void **state)
{
        _cleanup_close_ int proc_fd = open(FIXTURE "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct tapdev_host host = {.proc_fd = proc_fd, .net_fd = -1, .probe = fake_probe};
        struct fake_probe probe = {0};
        struct tapdev_list l;

        assert_int_equal(read_fixture(1000, -ESRCH, &l), -ESRCH); /* the probe saw it go */
        assert_int_equal(read_fixture(1008, 0, &l), -ENOENT);     /* /proc/PID said so after the probe */
        /* an fd on a directory without "fd" stands for a process that is gone */
        host.probe_userdata = &probe;
        assert_int_equal(tapdev_read(&host, 1, proc_fd, &l), -ENOENT);
        assert_int_equal(probe.calls, 0);
}

/* Closed or detached since fdinfo was read: left for the next look, without a reason to say. */
static void test_read_fd_closed(void **state)
{
        struct tapdev_list l;

        assert_int_equal(read_fixture(1000, -EBADF, &l), 0);
        assert_int_equal(l.n, 0);
        assert_int_equal(l.n_skipped, 0);
        assert_int_equal(l.unverified, 0);
        assert_int_equal(read_fixture(1000, -EBADFD, &l), 0);
        assert_int_equal(l.n + l.n_skipped, 0);
}

static void test_is_tap(void **state)
{
        _cleanup_close_ int net_fd = open(FIXTURE "/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(net_fd >= 0);
        assert_int_equal(tapdev_is_tap(net_fd, "tapold"), 1);
        assert_int_equal(tapdev_is_tap(net_fd, "tunonly"), 0);
        assert_int_equal(tapdev_is_tap(net_fd, "eth0"), -ENOENT);
        assert_int_equal(tapdev_is_tap(net_fd, "../net/tapold"), -ENOENT);
}

static void test_skip_reason_text(void **state)
{
        assert_string_equal(tapdev_skip_reason_text(TAPDEV_SKIP_PROCESS_NETNS),
                            "belongs to a QEMU in another network namespace than the engine's");
        assert_non_null(strstr(tapdev_skip_reason_text(TAPDEV_SKIP_DEVICE_NETNS), "another network namespace"));
}

/* On this machine, with the real tun driver: a tap this process made is its own, in its own namespace. */
static void test_probe_kernel(void **state)
{
        _cleanup_close_ int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
        struct tapdev_device dev = {0};
        struct tapdev_netns self;
        int r;

        if (tun < 0 || ioctl(tun, TUNSETIFF, &ifr) < 0) {
                /* not root, or no tun module: the VM test trust_netns_tap covers it */
                print_message("no tap can be made here (%s): the kernel probe is left to the VM test\n",
                              strerror(errno));
                skip();
        }
        assert_int_equal(tapdev_netns_at(proc_fd, "self/ns/net", &self), 0);
        r = tapdev_probe_kernel(getpid(), tun, &dev, NULL);
        if (r == -EPERM || r == -ENOSYS) {
                print_message("tapdev_probe_kernel: %s: left to the VM test\n", strerror(-r));
                skip();
        }
        assert_int_equal(r, 0);
        assert_string_equal(dev.ifname, ifr.ifr_name);
        assert_true(dev.flags & IFF_TAP);
        assert_true(dev.netns.dev == self.dev && dev.netns.ino == self.ino);
        /* our fd is untouched: still attached */
        memset(&ifr, 0, sizeof(ifr));
        assert_int_equal(ioctl(tun, TUNGETIFF, &ifr), 0);
        assert_string_equal(dev.ifname, ifr.ifr_name);
        assert_int_equal(tapdev_probe_kernel(getpid(), 9999, &dev, NULL), -EBADF);
        /* an fd swapped for something else since fdinfo named a tap: passed by, not "cannot ask" */
        assert_int_equal(tapdev_probe_kernel(getpid(), proc_fd, &dev, NULL), -EBADF);
}

/* With the real tun driver: a tap made in a network namespace of its own, whose fd is then held from the
 * engine's namespace (as after SCM_RIGHTS), is said to live elsewhere. */
static void test_probe_kernel_other_netns(void **state)
{
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int tun = -1;
        struct ifreq ifr = {.ifr_name = "vmgtestns0", .ifr_flags = IFF_TAP | IFF_NO_PI};
        struct tapdev_device dev = {0};
        struct tapdev_netns self;
        int r;

        assert_true(proc_fd >= 0 && home >= 0);
        assert_int_equal(tapdev_netns_at(proc_fd, "self/ns/net", &self), 0);
        if (unshare(CLONE_NEWNET) < 0) {
                print_message("unshare(CLONE_NEWNET): %s: left to the VM test\n", strerror(errno));
                skip();
        }
        tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        r = tun >= 0 && ioctl(tun, TUNSETIFF, &ifr) == 0 ? 0 : -errno;
        assert_int_equal(setns(home, CLONE_NEWNET), 0); /* back, before anything can fail */
        if (r < 0) {
                print_message("no tap in a new namespace (%s): left to the VM test\n", strerror(-r));
                skip();
        }
        r = tapdev_probe_kernel(getpid(), tun, &dev, NULL);
        if (r == -EPERM || r == -ENOSYS) {
                print_message("tapdev_probe_kernel: %s: left to the VM test\n", strerror(-r));
                skip();
        }
        assert_int_equal(r, 0);
        assert_string_equal(dev.ifname, "vmgtestns0");
        assert_false(dev.netns.dev == self.dev && dev.netns.ino == self.ino);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_name_valid),
                cmocka_unit_test(test_list_add),
                cmocka_unit_test(test_fdinfo_parse),
                cmocka_unit_test(test_read_own_taps),
                cmocka_unit_test(test_read_cmdline_only),
                cmocka_unit_test(test_read_other_netns),
                cmocka_unit_test(test_read_fd_from_other_netns),
                cmocka_unit_test(test_read_tun_not_tap),
                cmocka_unit_test(test_read_unknown_to_sysfs),
                cmocka_unit_test(test_read_probe_refused),
                cmocka_unit_test(test_read_vanished),
                cmocka_unit_test(test_read_fd_closed),
                cmocka_unit_test(test_is_tap),
                cmocka_unit_test(test_skip_reason_text),
                cmocka_unit_test(test_probe_kernel),
                cmocka_unit_test(test_probe_kernel_other_netns),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
