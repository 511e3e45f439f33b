/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "kernel/cgroupfs.h"
#include "kernel/vm.h"

/*
 * Where a VM's cgroup is, and putting the VM there. The path half is pure; the I/O half creates the engine's own
 * tree (ROOT/GROUP/VM) with the cpu, memory and io controllers enabled down the path, through libcgroup, and
 * moves the whole QEMU process into it.
 */

#define PLACEMENT_LEAF_MAX 80 /* a cgroup directory name, with room for the hash suffix */

/* Pure: a directory name for the VM that can be neither a path nor a cgroup interface file. The -name is kept
 * when it is plain ([A-Za-z0-9_-], up to 64 characters); otherwise every other byte becomes '_', it is cut to 64
 * and gets "-" plus 8 hex digits of a hash of the raw name, so that two hostile names never share a cgroup.
 * Without a name: "uuid-<uuid>", else "pid-<pid>". Returns the length or -ENOBUFS. */
int placement_leaf_name(const struct vm_identity *vm, char *buf, size_t size);

/* Pure: "root_rel/group/leaf" relative to the cgroup mount (root_rel may be ""). Returns the length or
 * -ENAMETOOLONG. */
int placement_own_path(const char *root_rel, const char *group, const char *leaf, char *buf, size_t size);

/* Pure: an absolute CgroupRoot= under the mount → its path relative to the mount ("" for the mount itself).
 * -EXDEV if root is not beneath the mount. */
int placement_root_relative(const char *mount_path, const char *root, char *buf, size_t size);

/*
 * How the engine's cgroups are made, entered and removed. placement_libcgroup_ops is the real one: create makes
 * rel_path (and its parents) beneath the mount with cpu, memory and io enabled down the path, through libcgroup
 * (idempotent; -EOPNOTSUPP on a hybrid host, where libcgroup would route cpu and memory to v1); attach moves every
 * thread of pid into it (-ESRCH if the process is gone); remove takes away an empty cgroup (-EBUSY if not empty);
 * back writes the pid to a cgroup.procs (-EBUSY where the cgroup's children have controllers: no internal process).
 * A test puts a fake in its place on a fixture tree. Each returns 0 or -errno, and logs nothing.
 */
struct placement_ops {
        int (*create)(void *userdata, const struct cgroup_mount *m, const char *rel_path);
        int (*attach)(void *userdata, const struct cgroup_mount *m, const char *rel_path, pid_t pid);
        int (*remove)(void *userdata, int mount_fd, const char *rel_path);
        /* back: move pid into a cgroup that is not the engine's ("" is the root), the one a VM came from, which
         * need not have the controllers libcgroup's attach asks for (a systemd scope or service). */
        int (*back)(void *userdata, int mount_fd, const char *rel_path, pid_t pid);
        void *userdata;
};

extern const struct placement_ops placement_libcgroup_ops;

/* Whether placement_libcgroup_ops' create hands cpuset down the path too (where the kernel offers it), for a policy
 * that pins CPUs (policy_uses_cpuset). Off by default: moving a process into a cgroup with cpuset asks the kernel for
 * the right to set its scheduling, which a QEMU with capabilities the engine has dropped denies (EPERM) unless the
 * engine keeps CAP_SYS_NICE; a policy without pins must not pay for that. */
void placement_hand_down_cpuset(bool on);
