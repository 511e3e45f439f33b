/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A VM's threads in a threaded subtree of its cgroup: vcpuN, iothreadK, emulator (see threads.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cgroupfs.h"
#include "kernel/macro.h"
#include "place/threads.h"

#define THREADS_LIST_MAX (1024 * 1024) /* cgroup.threads of one VM: a few KiB; a bound all the same */

/* The child name of a tid: the map's vCPUs are named by their cpu-index. */
static int child_of(const struct vcpus_map *m, pid_t tid, char *buf, size_t size)
{
        size_t index = 0;
        enum vcpus_role role = vcpus_thread_role(m, tid, &index);

        if (role == VCPUS_ROLE_VCPU)
                return thread_cgroup_name(THREAD_CGROUP_VCPU, (size_t)m->threads.vcpus[index].index, buf, size);
        if (role == VCPUS_ROLE_IOTHREAD)
                return thread_cgroup_name(THREAD_CGROUP_IOTHREAD, index, buf, size);
        return thread_cgroup_name(THREAD_CGROUP_EMULATOR, 0, buf, size);
}

/* cpu, and cpuset where the VM's cgroup has it, enabled for the children (once they are threaded). */
static int enable_below(int vm_fd)
{
        char controllers[512], enabled[512];
        int r;

        r = cgroupfs_read(vm_fd, "cgroup.subtree_control", enabled, sizeof(enabled));
        if (r < 0)
                return r;
        if (!cgroupfs_list_has(enabled, "cpu")) {
                r = cgroupfs_write(vm_fd, "cgroup.subtree_control", "+cpu");
                if (r < 0)
                        return r;
        }
        if (!cgroupfs_list_has(enabled, "cpuset") &&
            cgroupfs_read(vm_fd, "cgroup.controllers", controllers, sizeof(controllers)) >= 0 &&
            cgroupfs_list_has(controllers, "cpuset"))
                return cgroupfs_write(vm_fd, "cgroup.subtree_control", "+cpuset");
        return 0;
}

/* The child, made threaded if the engine just made it (or an earlier engine left it a domain). */
static int child_open(int vm_fd, const char *name, struct threads_placed *ret)
{
        char type[64];
        int fd, r;

        if (mkdirat(vm_fd, name, 0755) == 0)
                ret->children++;
        else if (errno != EEXIST)
                return -errno;
        fd = cgroupfs_open_dir(vm_fd, name);
        if (fd < 0)
                return fd;
        r = cgroupfs_read(fd, "cgroup.type", type, sizeof(type));
        if (r >= 0 && strncmp(type, "threaded", 8) != 0)
                r = cgroupfs_write(fd, "cgroup.type", "threaded");
        if (r >= 0)
                r = enable_below(vm_fd);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

static int move_tid(int vm_fd, const char *child, pid_t tid, struct threads_placed *ret)
{
        _cleanup_close_ int fd = child_open(vm_fd, child, ret);
        char value[16];
        int r;

        if (fd < 0)
                return fd;
        snprintf(value, sizeof(value), "%d", (int)tid);
        r = cgroupfs_write(fd, "cgroup.threads", value);
        if (r == -ESRCH || r == -ENOENT) { /* it exited meanwhile */
                ret->vanished++;
                return 0;
        }
        if (r < 0)
                return r;
        ret->moved++;
        return 0;
}

/* The tids in the VM's cgroup itself, as cgroup.threads lists them. */
static int threads_read(int vm_fd, char **ret_text)
{
        size_t size = 4096;

        for (;;) {
                char *buf = malloc(size);
                int r;

                if (!buf)
                        return -ENOMEM;
                r = cgroupfs_read(vm_fd, "cgroup.threads", buf, size);
                if (r >= 0) {
                        *ret_text = buf;
                        return 0;
                }
                free(buf);
                if (r != -E2BIG || size >= THREADS_LIST_MAX)
                        return r;
                size *= 2;
        }
}

int threads_place(int vm_fd, const struct vcpus_map *m, bool all_of_map, struct threads_placed *ret)
{
        _cleanup_free_ char *text = NULL;
        char child[THREAD_CGROUP_NAME_MAX];
        int first = 0, r;

        *ret = (struct threads_placed){0};
        r = threads_read(vm_fd, &text);
        if (r < 0)
                return r;
        for (char *line = text, *end; *line; line = end) {
                long tid;

                end = strchrnul(line, '\n');
                if (*end)
                        *end++ = '\0';
                tid = strtol(line, NULL, 10);
                if (tid <= 0)
                        continue;
                r = child_of(m, (pid_t)tid, child, sizeof(child));
                if (r >= 0)
                        r = move_tid(vm_fd, child, (pid_t)tid, ret);
                if (r < 0 && first == 0)
                        first = r;
        }
        if (!all_of_map)
                return first;
        for (size_t i = 0; i + 1 < vcpus_map_children(m); i++) { /* the emulator's threads were moved above */
                pid_t tid = vcpus_map_child(m, i, child, sizeof(child));

                r = move_tid(vm_fd, child, tid, ret);
                if (r < 0 && first == 0)
                        first = r;
        }
        return first;
}

int threads_remove_children(int vm_fd)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, first = 0;

        fd = openat(vm_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && thread_cgroup_parse(de->d_name, NULL, NULL) &&
                    unlinkat(vm_fd, de->d_name, AT_REMOVEDIR) < 0 && first == 0)
                        first = errno == ENOTEMPTY ? -EBUSY : -errno;
        return first;
}
