/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/vm.h"

/*
 * /proc, in two halves: pure parsers on buffers (tested with string literals), and readers relative to a held
 * directory fd (an fd on /proc, or a fixture tree in tests). The readers use read() on fresh fds, never stdio, and
 * every read is bounded.
 *
 * Whoever started a process wrote its command line and its comm: the parsers treat both as hostile bytes. Nothing
 * they produce can overflow, but nothing is escaped either: that is the job of whoever prints or uses a value.
 */

#define PROCFS_CMDLINE_MAX (256 * 1024) /* a longer command line is cut at the last whole argument */
#define PROCFS_COMM_MAX    64           /* TASK_COMM_LEN is 16, but kernel workers show up to 64 in stat */

/* What vmgov wants from a QEMU command line. */
struct qemu_cmdline {
        char name[VM_NAME_MAX + 1]; /* "" when there is no -name guest */
        bool name_truncated;        /* the -name was longer than VM_NAME_MAX and was cut */
        char uuid[VM_UUID_LEN + 1]; /* "" or lower-case 8-4-4-4-12 */
};

/* The fields of /proc/PID/stat that vmgov uses. */
struct procfs_stat {
        char comm[PROCFS_COMM_MAX + 1];
        char state;          /* 'R', 'S', 'Z', ... */
        pid_t ppid;          /* field 4: the parent (0 for none) */
        uint64_t start_time; /* field 22: clock ticks after boot */
};

/* ---- Pure parsers ---- */

/* A /proc directory entry name as a pid: decimal digits only, 1..INT_MAX. -EINVAL otherwise ("self", "sys"). */
int procfs_pid_parse(const char *s, pid_t *ret_pid);

/* Check a UUID in 8-4-4-4-12 hex form (either case, as QEMU accepts it) and write it lower-case into ret_uuid,
 * which has room for VM_UUID_LEN + 1 bytes. -EINVAL if it is not one. */
int procfs_uuid_parse(const char *s, char *ret_uuid);

/* Parse a NUL-separated argv as QEMU does for -name and -uuid ("--name" and "--uuid" too): the value of -name is
 * a QemuOpts string whose first key may be implicit ("guest"), ",," is a literal comma, and the last "guest" wins,
 * across all -name options (QEMU merges them). The last -uuid wins. A final unterminated argument counts.
 * Returns 0, or -EINVAL if a -uuid value is malformed (QEMU refuses to start with one). */
int procfs_cmdline_parse(const char *buf, size_t len, struct qemu_cmdline *ret);

/* Parse /proc/PID/stat. comm is everything between the first '(' and the last ')', since it may itself contain
 * spaces and parentheses; a comm longer than PROCFS_COMM_MAX is cut. -EINVAL on a malformed line. */
int procfs_stat_parse(const char *buf, size_t len, struct procfs_stat *ret);

/* Find the cgroup v2 path in /proc/PID/cgroup (the "0::" line; hybrid hosts list v1 hierarchies too).
 * -ENODATA when there is no such line, -EINVAL if the path is not absolute, -EBADMSG if there are two (only a
 * cgroup name with a newline, which the kernel refuses, could forge one), -ENOMEM. */
int procfs_cgroup_parse(const char *buf, size_t len, char **ret_path);

/* The effective uid from the "Uid:" line of /proc/PID/status (the same user ps shows). -EINVAL if missing. */
int procfs_status_parse_uid(const char *buf, size_t len, uid_t *ret_uid);

/* The basename of an exe link target, without the " (deleted)" the kernel appends once the file is gone (a VM
 * still running after a QEMU upgrade). ret_exe has room for VM_EXE_MAX + 1 bytes.
 * -EINVAL for an empty name, -ENAMETOOLONG if it does not fit. */
int procfs_exe_parse(const char *target, char *ret_exe);

/* ---- Readers ---- */

/* Read a whole file beneath dir_fd, at most max bytes, into a fresh NUL-terminated buffer.
 * Returns 0, or 1 when the file had more than max bytes and was cut; -errno otherwise. */
int procfs_file_read(int dir_fd, const char *path, size_t max, char **ret_buf, size_t *ret_size);
/* The same, from an fd open for reading (from where it stands). */
int procfs_fd_read(int fd, size_t max, char **ret_buf, size_t *ret_size);

/* Open /proc/PID as a directory fd. Everything read through it belongs to that one process: if the pid is
 * reused, reads through the old fd fail (ENOENT/ESRCH) instead of describing the new process. */
int procfs_pid_open(int proc_fd, pid_t pid);

/* The readers below take the fd returned by procfs_pid_open(). */
int procfs_cmdline_read(int pid_fd, struct qemu_cmdline *ret);
int procfs_stat_read(int pid_fd, struct procfs_stat *ret);
int procfs_cgroup_read(int pid_fd, char **ret_path);
int procfs_uid_read(int pid_fd, uid_t *ret_uid);
/* Basename of the executable (see procfs_exe_parse), and, if ret_link is not NULL, the link's whole target into its
 * link_size bytes. Kernel threads have no exe link (-ENOENT), and processes of other users may refuse it (-EACCES). */
int procfs_exe_read(int pid_fd, char *ret_exe, char *ret_link, size_t link_size);
/* The exe link's target as the kernel gives it (" (deleted)" and all) into buf: 0, -ENAMETOOLONG, or -errno. */
int procfs_exe_link(int pid_fd, char *buf, size_t size);
