/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A moved VM back to the cgroup it came from: the move ops of the actuator's restore. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/macro.h"
#include "kernel/procfs.h"
#include "place/moveback.h"
#include "place/threads.h"

/* Is the process that was moved still there, and still in the engine's cgroup? 0, -ESRCH, -EXDEV. */
static int moved_still_there(const struct placement_mover *m, const struct original *o)
{
        _cleanup_close_ int pid_fd = procfs_pid_open(m->proc_fd, o->move.pid);
        _cleanup_free_ char *cg = NULL;
        struct procfs_stat st;
        int r;

        if (pid_fd < 0)
                return errno_is_vanished(pid_fd) ? -ESRCH : pid_fd;
        r = procfs_stat_read(pid_fd, &st);
        if (r < 0)
                return errno_is_vanished(r) ? -ESRCH : r;
        if (st.start_time != o->move.start_time || st.state == 'Z')
                return -ESRCH;
        r = procfs_cgroup_read(pid_fd, &cg);
        if (r < 0)
                return errno_is_vanished(r) ? -ESRCH : r;
        return thread_cgroup_holds(cg, o->cgroup) ? 0 : -EXDEV;
}

static int mover_back(void *userdata, const struct original *o, char *where, size_t size)
{
        const struct placement_mover *m = userdata;
        _cleanup_free_ char *to = NULL;
        int r, last = -ENOENT;

        r = moved_still_there(m, o);
        if (r < 0)
                return r;
        to = strdup(o->move.from + 1); /* relative to the mount: "" is the root */
        if (!to)
                return -ENOMEM;
        /* Where it came from, else the nearest ancestor that is there and takes a process (a parent with
         * controllers enabled for its children refuses, -EBUSY). */
        for (;;) {
                _cleanup_close_ int fd = cgroupfs_open_dir(m->mount_fd, to[0] ? to : ".");

                if (fd >= 0) {
                        r = m->ops->back(m->ops->userdata, m->mount_fd, to, o->move.pid);
                        if (r == 0) {
                                snprintf(where, size, "/%s", to);
                                return 0;
                        }
                        if (errno_is_vanished(r))
                                return -ESRCH;
                        last = r;
                } else if (fd != -ENOENT)
                        last = fd;
                if (!to[0])
                        return last;
                char *slash = strrchr(to, '/');
                if (slash)
                        *slash = '\0';
                else
                        to[0] = '\0';
        }
}

static int mover_remove(void *userdata, const char *cgroup)
{
        const struct placement_mover *m = userdata;

        return m->ops->remove(m->ops->userdata, m->mount_fd, cgroup);
}

void placement_move_ops(struct placement_mover *mover, struct actuator_move_ops *ret)
{
        *ret = (struct actuator_move_ops){.back = mover_back, .remove = mover_remove, .userdata = mover};
}
