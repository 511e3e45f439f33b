/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * A VM's tap interfaces. The kernel's word comes first: each /dev/net/tun fd of the QEMU process shows the
 * interface it is attached to in /proc/PID/fdinfo/FD ("iff:\tNAME", since Linux 3.14), which also covers taps that
 * libvirt opened and passed in (-netdev tap,fd=N). The command line (-netdev tap,ifname=NAME, -nic, -net, and the
 * JSON form) is only a fallback, for when the fds cannot be looked at or the kernel does not say; since anyone can
 * start a process with any command line, a name taken from it counts only if /sys says it is a tap device.
 */

#define TAPDEV_MAX 16 /* taps per VM; more are dropped and reported (list.truncated) */

enum tapdev_source {
        TAPDEV_SOURCE_FDINFO,  /* the kernel said (also: no tun fds at all, so no taps) */
        TAPDEV_SOURCE_CMDLINE, /* the command line, checked against /sys */
};

struct tapdev_list {
        size_t n;
        char names[TAPDEV_MAX][IFNAMSIZ];
        enum tapdev_source source;
        bool truncated;
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

/* The tap names a NUL-separated QEMU argv asks for: -netdev/-nic/-net (and --forms) whose type is "tap" and that
 * have an ifname, in QemuOpts ("tap,id=n0,ifname=vm0", ",," is a literal comma) or JSON
 * ({"type":"tap","ifname":"vm0"}) form. Invalid names and templates are skipped. Fills ret (source CMDLINE);
 * returns 0. */
int tapdev_cmdline_parse(const char *buf, size_t len, struct tapdev_list *ret);

/* ---- Readers ---- */

/* Is NAME a tap device? Reads NAME/tun_flags beneath net_fd, an fd on /sys/class/net (or a fixture tree).
 * 1 yes, 0 no (not there, or tun but not tap), -errno on other errors. */
int tapdev_is_tap(int net_fd, const char *name);

/* The taps of the process whose /proc/PID directory is pid_fd (procfs_pid_open). The fdinfo of its
 * /dev/net/tun fds when they can be read; the command line, filtered by tapdev_is_tap() on net_fd, when the fd
 * directory cannot be read (-EACCES) or a tun fd shows no "iff:" line. -ENOENT/-ESRCH: the process is gone. */
int tapdev_read(int pid_fd, int net_fd, struct tapdev_list *ret);
