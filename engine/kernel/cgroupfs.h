/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>

/*
 * The cgroup v2 filesystem: finding the mount, checking controllers, and the only functions that touch cgroup
 * files. Everything is relative to held directory fds; paths never leave the directory they are opened beneath
 * (no "..", no symlinks).
 */

enum cg_controller {
        CGROUP_CPU,
        CGROUP_MEMORY,
        CGROUP_IO,
        CGROUP_PIDS,
        CGROUP_CPUSET, /* last: the journal of originals keeps controllers by number */
        _CGROUP_CONTROLLER_MAX,
};

struct cgroup_mount {
        char path[4096]; /* where cgroup2 is mounted, e.g. /sys/fs/cgroup or /sys/fs/cgroup/unified */
        bool hybrid;     /* cgroup v1 hierarchies are mounted too */
        /* Controllers listed in the v2 root's cgroup.controllers. */
        bool available[_CGROUP_CONTROLLER_MAX];
        /* Controllers bound to a v1 hierarchy (from mountinfo super options). */
        bool bound_to_v1[_CGROUP_CONTROLLER_MAX];
};

const char *cgroup_controller_to_string(enum cg_controller c);

/* Pure: find the cgroup2 mount and the v1 bindings in the text of /proc/self/mountinfo. -ENOENT: no cgroup2. */
int cgroupfs_parse_mountinfo(const char *mountinfo, struct cgroup_mount *ret);
/* Pure: mark m->available from the text of cgroup.controllers ("cpuset cpu io memory pids\n"). */
void cgroupfs_parse_controllers(const char *text, struct cgroup_mount *m);

/* Read self/mountinfo beneath proc_fd (an fd on /proc or a fixture tree), then cgroup.controllers of the mount
 * found there, resolved beneath root_fd: AT_FDCWD or an fd on "/" for the real root, or a fixture tree standing
 * for it. Returns 0, -ENOENT when no cgroup2 filesystem is mounted, or another -errno with one sentence on what
 * failed in why (if not NULL), for the caller to say; it logs nothing itself. */
int cgroupfs_detect(int proc_fd, int root_fd, struct cgroup_mount *ret, char *why, size_t why_len);

/* A directory fd on the mount m beneath root_fd (as cgroupfs_detect resolves it), or -errno. */
int cgroupfs_open_mount(int root_fd, const struct cgroup_mount *m);

/* One clear sentence on why controller c cannot be used, e.g. "controller cpu is not available in the cgroup v2
 * hierarchy at /sys/fs/cgroup/unified: it is bound to a v1 hierarchy". Returns 0 if usable, -EOPNOTSUPP otherwise. */
int cgroupfs_controller_usable(const struct cgroup_mount *m, enum cg_controller c, char *why, size_t len);

/* Open a directory beneath dir_fd by a relative path ("" or "." is dir_fd itself), refusing absolute paths and
 * ".." (-EINVAL) and symlinks (-ELOOP). Uses openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS);
 * on kernels without it (-ENOSYS, before 5.6) walks the path one O_NOFOLLOW component at a time.
 * Returns the new fd or -errno. */
int cgroupfs_open_dir(int dir_fd, const char *relative_path);
/* That component-by-component walk; public so tests run it on any kernel. */
int cgroupfs_open_dir_compat(int dir_fd, const char *relative_path);

/* Read a cgroup file (one name, no '/': -EINVAL otherwise) into buf, NUL-terminated, trailing newline kept.
 * Returns the bytes read or -errno; -E2BIG if it does not fit in len - 1 bytes. buf is undefined on error. */
int cgroupfs_read(int dir_fd, const char *file, char *buf, size_t len);
/* The same on an fd the caller holds, with pread() from offset 0. */
int cgroupfs_pread(int fd, char *buf, size_t len);
/*
 * One pread() from offset 0, for the per-tick reads of files the kernel shows as one record (cpu.stat,
 * memory.stat, io.stat, memory.current, *.pressure, /proc/pressure/...): one read returns the whole text when it
 * fits, so the second pread() that cgroupfs_pread() makes to see end-of-file is skipped (one syscall per file per
 * tick; ~4% of a cgroup file read on 6.18, scripts/bench/sense-cost). -E2BIG when the text filled len - 1 bytes and
 * so may be cut: read again with a larger buffer. Not for multi-record files such as mountinfo, where a read may
 * stop early.
 */
int cgroupfs_pread_record(int fd, char *buf, size_t len);

/* Does a space-separated list (the text of cgroup.controllers or cgroup.subtree_control) name word? */
bool cgroupfs_list_has(const char *list, const char *word);
/* Does the cgroup file (cgroup.controllers, cgroup.subtree_control) of the cgroup dir fd list word? False when it
 * cannot be read. */
bool cgroupfs_file_lists(int dir_fd, const char *file, const char *word);

/* Write value with one write() on a fresh O_WRONLY|O_NOFOLLOW fd, so the kernel's verdict is the return value:
 * 0, or e.g. -EINVAL for a value the kernel refuses. O_TRUNC too, so that a plain file in a fixture tree reads
 * back what was written, as a cgroup file does. Never creates the file. */
int cgroupfs_write(int dir_fd, const char *file, const char *value);

/* 0 if the cgroup (dir fd) holds only processes of the VM pid (QEMU and its threads), else
 * -EBUSY with the first foreign pid in *ret_foreign_pid. */
int cgroupfs_check_exclusive(int cgroup_fd, pid_t pid, pid_t *ret_foreign_pid);
