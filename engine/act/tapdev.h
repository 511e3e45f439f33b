/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * A VM's tap interfaces, the ones the engine may shape. A device is shaped only when all of these hold:
 *
 *   - the QEMU holds a /dev/net/tun fd attached to it: the "iff:\tNAME" line of /proc/PID/fdinfo/FD (Linux 3.14+),
 *     which also covers taps that libvirt opened and passed in (-netdev tap,fd=N);
 *   - the device behind that fd lives in the engine's network namespace: the fd is duplicated (pidfd_getfd) and the
 *     tun driver asked (TUNGETIFF, TUNGETDEVNETNS). An fd can be passed from a process in another namespace, so
 *     the QEMU's own namespace alone does not prove where the device is;
 *   - the QEMU itself is in the engine's network namespace (/proc/PID/ns/net against the engine's own);
 *   - /sys/class/net/NAME/tun_flags says it is a tap (IFF_TAP).
 *
 * A name in another namespace may be the name of an unrelated device of the host (another VM's tap, eth0): such
 * a tap is skipped, never looked up by name here. The command line never names a device: anyone can start a
 * process with any command line.
 *
 * When the fd cannot be duplicated or the driver does not say (pidfd_getfd refused, e.g. EPERM under
 * kernel.yama.ptrace_scope=3 or an LSM; a kernel before 5.6), the other three checks decide and the list says
 * so (unverified), for the caller to report once.
 */

#define TAPDEV_MAX 16 /* taps per VM; more are dropped and reported (list.truncated) */

/* A network namespace, as stat() of its nsfs inode shows it. */
struct tapdev_netns {
        dev_t dev;
        ino_t ino;
};

enum tapdev_skip_reason {
        TAPDEV_SKIP_DEVICE_NETNS,  /* the device lives in another network namespace (its fd came from there) */
        TAPDEV_SKIP_PROCESS_NETNS, /* the QEMU is in another network namespace than the engine */
        TAPDEV_SKIP_NOT_TAP,       /* a tun (layer 3) device, not a tap */
        TAPDEV_SKIP_NO_DEVICE,     /* /sys/class/net has no such device */
};

struct tapdev_skip {
        char name[IFNAMSIZ];
        enum tapdev_skip_reason reason;
};

struct tapdev_list {
        size_t n;
        char names[TAPDEV_MAX][IFNAMSIZ]; /* to shape */
        bool truncated;
        size_t n_skipped;
        struct tapdev_skip skipped[TAPDEV_MAX]; /* found on the QEMU's fds but not to shape, each with why */
        int unverified;                         /* 0, or why (-errno) a device's own namespace could not be looked at */
};

/* What the tun driver says about one fd of the process, asked through a duplicate of that fd. */
struct tapdev_device {
        char ifname[IFNAMSIZ];
        unsigned flags;            /* TUNGETIFF: IFF_TUN or IFF_TAP, IFF_NO_PI, ... */
        struct tapdev_netns netns; /* TUNGETDEVNETNS: where the device lives */
};

/* Asks about fd number fd of process pid. 0 with ret filled; -ESRCH the process is gone; -EBADF the fd was closed
 * meanwhile; -EBADFD it is not attached to a device (any more); other -errno: cannot be asked (the caller then
 * relies on the other checks). */
typedef int (*tapdev_probe_fn)(pid_t pid, int fd, struct tapdev_device *ret, void *userdata);

/* The real one: pidfd_open + pidfd_getfd, the two ioctls, and the duplicate closed at once (the QEMU's fd is
 * untouched: a duplicate shares the open file). Needs CAP_SYS_PTRACE (ptrace access to the QEMU) and
 * CAP_NET_ADMIN over the device's namespace. */
int tapdev_probe_kernel(pid_t pid, int fd, struct tapdev_device *ret, void *userdata);

/* Where tapdev_read looks. */
struct tapdev_host {
        int proc_fd;           /* /proc: the engine's own namespace is self/ns/net beneath it */
        int net_fd;            /* /sys/class/net */
        tapdev_probe_fn probe; /* NULL: tapdev_probe_kernel */
        void *probe_userdata;
};

/* ---- Pure ---- */

/* Is s (n bytes) a name the kernel accepts for an interface (1..15 bytes, not "." or "..", no '/', ':' or white
 * space) and not a template such as "tap%d"? */
bool tapdev_name_valid(const char *s, size_t n);

/* Add name unless it is already there. 0 added or present, -E2BIG when the list is full (truncated is set),
 * -EINVAL for an invalid name. */
int tapdev_list_add(struct tapdev_list *l, const char *name);

/* The "iff:" line of a tun fd's fdinfo. 1 with ret_ifname (IFNAMSIZ bytes) filled, 0 when there is no such
 * line (a tun fd not attached to an interface, or a kernel that does not say), -EINVAL for a malformed name. */
int tapdev_fdinfo_parse(const char *buf, size_t len, char *ret_ifname);

/* What a user reads for a skip: "is in another network namespace", ... */
const char *tapdev_skip_reason_text(enum tapdev_skip_reason reason);

/* ---- Readers ---- */

/* Is NAME a tap device? Reads NAME/tun_flags beneath net_fd, an fd on /sys/class/net (or a fixture tree).
 * 1 yes, 0 a tun but not a tap, -ENOENT no such tun/tap device (or an invalid name), -errno on other errors. */
int tapdev_is_tap(int net_fd, const char *name);

/* The network namespace of NAME beneath dir_fd ("self/ns/net" beneath /proc, "ns/net" beneath /proc/PID). */
int tapdev_netns_at(int dir_fd, const char *path, struct tapdev_netns *ret);

/* The taps of process pid, whose /proc/PID directory is pid_fd (procfs_pid_open, opened first: every probe happens
 * while reads through pid_fd still succeed afterwards, so the pid was not reused meanwhile). Fills ret: the taps to
 * shape, the ones skipped with a reason. -ENOENT/-ESRCH: the process is gone. */
int tapdev_read(const struct tapdev_host *h, pid_t pid, int pid_fd, struct tapdev_list *ret);
