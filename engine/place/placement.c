/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libcgroup.h>

#include "kernel/log.h"
#include "kernel/macro.h"
#include "place/placement.h"
#include "place/threads.h"

#define LEAF_NAME_KEEP 64

static bool leaf_char_ok(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* FNV-1a: stable across runs and builds, so a VM keeps its cgroup name when the engine restarts. */
static uint32_t fnv1a(const char *s)
{
        uint32_t h = 2166136261u;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        return h;
}

int placement_leaf_name(const struct vm_identity *vm, char *buf, size_t size)
{
        char leaf[PLACEMENT_LEAF_MAX + 1];
        size_t n = 0;
        bool altered = vm->name_truncated;
        int r;

        if (!vm->name) {
                if (vm->uuid[0])
                        r = snprintf(buf, size, "uuid-%s", vm->uuid);
                else
                        r = snprintf(buf, size, "pid-%d", (int)vm->pid);
                return r < 0 || (size_t)r >= size ? -ENOBUFS : r;
        }

        for (const char *s = vm->name; *s; s++) {
                if (n == LEAF_NAME_KEEP) {
                        altered = true;
                        break;
                }
                if (leaf_char_ok((unsigned char)*s))
                        leaf[n++] = *s;
                else {
                        leaf[n++] = '_';
                        altered = true;
                }
        }
        leaf[n] = '\0';

        if (altered)
                r = snprintf(buf, size, "%s-%08x", leaf, fnv1a(vm->name));
        else
                r = snprintf(buf, size, "%s", leaf);
        return r < 0 || (size_t)r >= size ? -ENOBUFS : r;
}

int placement_own_path(const char *root_rel, const char *group, const char *leaf, char *buf, size_t size)
{
        int r;

        if (root_rel[0])
                r = snprintf(buf, size, "%s/%s/%s", root_rel, group, leaf);
        else
                r = snprintf(buf, size, "%s/%s", group, leaf);
        return r < 0 || (size_t)r >= size ? -ENAMETOOLONG : r;
}

int placement_root_relative(const char *mount_path, const char *root, char *buf, size_t size)
{
        size_t n = strlen(mount_path);
        const char *rest;

        while (n > 1 && mount_path[n - 1] == '/')
                n--;
        if (strncmp(root, mount_path, n) != 0 || (root[n] != '/' && root[n] != '\0'))
                return -EXDEV;
        rest = root + n;
        while (*rest == '/')
                rest++;
        if ((size_t)snprintf(buf, size, "%s", rest) >= size)
                return -ENAMETOOLONG;
        /* Strip trailing slashes so paths are built one way. */
        for (size_t len = strlen(buf); len > 0 && buf[len - 1] == '/'; len--)
                buf[len - 1] = '\0';
        return 0;
}

static int libcgroup_ready(void)
{
        static int initialized = 0;
        int r;

        if (initialized)
                return 0;
        log_setup_libcgroup();
        r = cgroup_init();
        if (r != 0)
                return -EIO;
        initialized = 1;
        return 0;
}

/* A libcgroup handle for rel_path with the controllers the engine governs. libcgroup does nothing for a cgroup
 * struct without controllers, and on cgroup v2 it enables each added controller down the path. */
static struct cgroup *placement_cgroup_new(const char *rel_path)
{
        static const char *const controllers[] = {"cpu", "memory", "io"};
        struct cgroup *cg = cgroup_new_cgroup(rel_path);

        if (!cg)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
                if (!cgroup_add_controller(cg, controllers[i])) {
                        cgroup_free(&cg);
                        return NULL;
                }
        return cg;
}

/* A libcgroup handle for rel_path, on a pure cgroup v2 mount only: in hybrid mode libcgroup routes cpu and memory
 * to the v1 hierarchies, so it is never let near them (-EOPNOTSUPP). */
static int placement_cgroup_get(const struct cgroup_mount *m, const char *rel_path, struct cgroup **ret)
{
        int r;

        if (m->hybrid)
                return -EOPNOTSUPP;
        r = libcgroup_ready();
        if (r < 0)
                return r;
        *ret = placement_cgroup_new(rel_path);
        return *ret ? 0 : -ENOMEM;
}

/* libcgroup's error as -errno: its OS errno when it has one. */
static int libcgroup_errno(void)
{
        int e = cgroup_get_last_errno();
        return e > 0 ? -e : -EIO;
}

static bool cpuset_wanted;

void placement_hand_down_cpuset(bool on)
{
        cpuset_wanted = on;
}

/* Does the parent hand cpu, memory and io to its children (its cgroup.subtree_control), and cpuset too where it is
 * wanted and the kernel offers it there (its cgroup.controllers)? */
static bool parent_ready(int parent_fd)
{
        static const char *const wanted[] = {"cpu", "memory", "io"};
        char subtree[512];

        /* read once: at a VM's exec, every read of a cgroup file counts */
        if (cgroupfs_read(parent_fd, "cgroup.subtree_control", subtree, sizeof(subtree)) < 0)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++)
                if (!cgroupfs_list_has(subtree, wanted[i]))
                        return false;
        return !cpuset_wanted || cgroupfs_list_has(subtree, "cpuset") ||
               !cgroupfs_file_lists(parent_fd, "cgroup.controllers", "cpuset");
}

/* cpuset handed down the path to rel_path's parent, as libcgroup hands down the others: AllowedCPUs= is the VM
 * cgroup's cpuset.cpus. Only as far as the kernel offers it (cgroup.controllers); not asked of libcgroup, which would
 * fail the whole path where it is not offered. A level that refuses it is left as it is: the VM's cgroup then has no
 * cpuset files, which the actuator passes over as for any controller not handed down, and the other limits hold. */
static void cpuset_enable_down(const struct cgroup_mount *m, const char *rel_path)
{
        const char *slash = strrchr(rel_path, '/');
        size_t end = slash ? (size_t)(slash - rel_path) : 0;
        int fd = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        for (size_t at = 0; fd >= 0;) {
                int r = 0;

                if (!cgroupfs_file_lists(fd, "cgroup.controllers", "cpuset"))
                        break;
                if (!cgroupfs_file_lists(fd, "cgroup.subtree_control", "cpuset"))
                        r = cgroupfs_write(fd, "cgroup.subtree_control", "+cpuset");
                if (r < 0) {
                        log_debug_errno(r, "cgroup /%.*s: cannot hand cpuset to its children: %m", (int)at, rel_path);
                        break;
                }
                if (at >= end)
                        break;
                /* the next component of the path */
                size_t from = at ? at + 1 : 0, to = from;
                char name[256];

                while (to < end && rel_path[to] != '/')
                        to++;
                if (to == from || to - from >= sizeof(name))
                        break;
                memcpy(name, rel_path + from, to - from);
                name[to - from] = '\0';
                int next = cgroupfs_open_dir(fd, name);
                close(fd);
                fd = next;
                at = to;
        }
        if (fd >= 0)
                close(fd);
}

/* A VM's leaf beneath a parent that already hands its children the controllers: mkdir is then all that libcgroup
 * would do, without re-reading /proc/mounts for every controller at every level of the path (DESIGN.md section 6),
 * which cost a VM tens of milliseconds at its exec under TCG. 1 made (or there), 0 the parent is not ready (libcgroup
 * makes the path), -errno. */
static int leaf_mkdir(const struct cgroup_mount *m, const char *rel_path)
{
        _cleanup_close_ int mount_fd = -1, parent_fd = -1;
        const char *slash = strrchr(rel_path, '/');
        char parent[4096];

        if (!slash || (size_t)(slash - rel_path) >= sizeof(parent))
                return 0;
        memcpy(parent, rel_path, (size_t)(slash - rel_path));
        parent[slash - rel_path] = '\0';
        mount_fd = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (mount_fd < 0)
                return -errno;
        parent_fd = cgroupfs_open_dir(mount_fd, parent);
        if (parent_fd < 0 || !parent_ready(parent_fd))
                return 0;
        if (mkdirat(parent_fd, slash + 1, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 1;
}

static int libcgroup_create(void *userdata, const struct cgroup_mount *m, const char *rel_path)
{
        struct cgroup *cg;
        int r;

        if (m->hybrid)
                return -EOPNOTSUPP;
        r = leaf_mkdir(m, rel_path);
        if (r != 0)
                return r < 0 ? r : 0;
        r = placement_cgroup_get(m, rel_path, &cg);

        if (r < 0)
                return r;
        /* ignore_ownership: the engine creates its cgroups as root, and a chown could only fail. */
        r = cgroup_create_cgroup(cg, 1);
        cgroup_free(&cg);
        if (r != 0)
                return libcgroup_errno();
        if (cpuset_wanted)
                cpuset_enable_down(m, rel_path);
        return 0;
}

/* On cgroup v2, libcgroup's cgroup_attach_task_pid() writes the pid to the cgroup's cgroup.procs, after building
 * the path from /proc/mounts, which it reads again for every value: one write of our own does the same, on the path
 * beneath the mount that the engine found itself. Never on a hybrid host (placement_cgroup_get's rule). */
static int kernel_back(void *userdata, int mount_fd, const char *rel_path, pid_t pid);

static int kernel_attach(void *userdata, const struct cgroup_mount *m, const char *rel_path, pid_t pid)
{
        _cleanup_close_ int mount_fd = -1;

        if (m->hybrid)
                return -EOPNOTSUPP;
        mount_fd = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (mount_fd < 0)
                return -errno;
        return kernel_back(userdata, mount_fd, rel_path, pid);
}

static int kernel_remove(void *userdata, int mount_fd, const char *rel_path)
{
        _cleanup_close_ int fd = -1;
        int r;

        /* Most VMs' cgroups have no children: removed at once, without listing them (at every VM's exit). */
        if (unlinkat(mount_fd, rel_path, AT_REMOVEDIR) == 0)
                return 0;
        if (errno != EBUSY && errno != ENOTEMPTY)
                return -errno;
        /* the threaded children the engine made in it for the VM's threads (threads.h), empty by now, then it */
        fd = cgroupfs_open_dir(mount_fd, rel_path);
        if (fd < 0)
                return fd;
        r = threads_remove_children(fd);
        if (r < 0)
                return r;
        if (unlinkat(mount_fd, rel_path, AT_REMOVEDIR) < 0)
                return errno == ENOTEMPTY ? -EBUSY : -errno;
        return 0;
}

static int kernel_back(void *userdata, int mount_fd, const char *rel_path, pid_t pid)
{
        _cleanup_close_ int fd = cgroupfs_open_dir(mount_fd, rel_path[0] ? rel_path : ".");
        char value[16];

        if (fd < 0)
                return fd;
        snprintf(value, sizeof(value), "%d", (int)pid);
        return cgroupfs_write(fd, "cgroup.procs", value);
}

const struct placement_ops placement_libcgroup_ops = {
        .create = libcgroup_create,
        .attach = kernel_attach,
        .remove = kernel_remove,
        .back = kernel_back,
};
