/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A moved VM back to the cgroup it came from: the move ops of the actuator's restore. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/log.h"
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

/* pid back to where the VM came from, else the nearest ancestor that is there and takes a process (a parent with
 * controllers enabled for its children refuses, -EBUSY). 0 with that cgroup in where. */
static int pid_back(const struct placement_mover *m, const struct original *o, pid_t pid, char *where, size_t size)
{
        _cleanup_free_ char *to = strdup(o->move.from + 1); /* relative to the mount: "" is the root */
        int r, last = -ENOENT;

        if (!to)
                return -ENOMEM;
        for (;;) {
                _cleanup_close_ int fd = cgroupfs_open_dir(m->mount_fd, to[0] ? to : ".");
                if (fd >= 0) {
                        r = m->ops->back(m->ops->userdata, m->mount_fd, to, pid);
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

/* The processes left in the VM's cgroup once the one moved is gone: the VM itself under QEMU -daemonize, whose
 * exec'd process (the one moved and journalled) exits once its child runs the VM, and what else it forked there.
 * They came from where it came from, and go back there. (While the VM's process is there, the others in its
 * cgroup stay: whoever put them there, it was not the engine.) */
static void heirs_back(const struct placement_mover *m, const struct original *o)
{
        _cleanup_close_ int fd = cgroupfs_open_dir(m->mount_fd, o->cgroup);
        char procs[4096], where[4200];

        if (fd < 0 || cgroupfs_read(fd, "cgroup.procs", procs, sizeof(procs)) < 0)
                return;
        for (char *save = NULL, *w = strtok_r(procs, "\n", &save); w; w = strtok_r(NULL, "\n", &save)) {
                char *end;
                long pid = strtol(w, &end, 10);
                if (*end || pid <= 0 || pid == o->move.pid)
                        continue;
                int r = pid_back(m, o, (pid_t)pid, where, sizeof(where));
                if (r == 0)
                        log_info("moved pid %ld, left in %s by VM pid %d (its heir: QEMU -daemonize), back to %s", pid,
                                 o->cgroup, (int)o->move.pid, where);
                else if (r != -ESRCH)
                        log_warn_errno(r, "cannot move pid %ld, left in %s by VM pid %d, back to %s: %m", pid,
                                       o->cgroup, (int)o->move.pid, o->move.from);
        }
}

static int mover_back(void *userdata, const struct original *o, char *where, size_t size)
{
        const struct placement_mover *m = userdata;
        int r;

        r = moved_still_there(m, o);
        if (r == 0)
                return pid_back(m, o, o->move.pid, where, size);
        if (r == -ESRCH)
                heirs_back(m, o);
        return r;
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
