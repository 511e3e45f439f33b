/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "discover/discover.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"

/* A directory stream on dir_fd/path with its own fd, so the caller's fd keeps its offset. */
static int dir_open(int dir_fd, const char *path, DIR **ret)
{
        _cleanup_close_ int fd = -1;
        DIR *d;

        fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        *ret = d;
        return 0;
}

int discover_vm_identify(int proc_fd, pid_t pid, discover_is_qemu_t is_qemu, void *userdata, struct vm_identity *ret)
{
        return discover_vm_identify_held(proc_fd, pid, is_qemu, userdata, ret, NULL);
}

int discover_vm_identify_held(int proc_fd, pid_t pid, discover_is_qemu_t is_qemu, void *userdata,
                              struct vm_identity *ret, int *ret_pid_fd)
{
        _cleanup_close_ int pid_fd = -1;
        _cleanup_free_ char *cgroup = NULL;
        struct qemu_cmdline cmdline;
        struct procfs_stat st;
        char link[PATH_MAX], exe[VM_EXE_MAX + 1];
        uid_t uid;
        int r;

        /* Everything below is read through one /proc/PID fd: if the pid is reused meanwhile, reads fail instead of
         * mixing two processes. */
        pid_fd = procfs_pid_open(proc_fd, pid);
        if (pid_fd < 0)
                return log_debug_errno(pid_fd, "pid %d: gone before it could be read: %m", (int)pid);

        r = procfs_exe_read(pid_fd, exe, link, sizeof(link));
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT) /* kernel threads, zombies, and the exited: too many to log */
                return r;
        if (r < 0)
                return log_debug_errno(r, "pid %d: cannot read its exe link, skipping: %m", (int)pid);

        if (!is_qemu(&(const struct discover_candidate){.pid = pid, .pid_fd = pid_fd, .exe = exe, .link = link},
                     userdata))
                return 0;

        r = procfs_stat_read(pid_fd, &st);
        if (r >= 0) {
                r = procfs_cmdline_read(pid_fd, &cmdline);
                if (r == -EINVAL)
                        return log_debug_errno(r, "pid %d: malformed -uuid, QEMU refuses to start with it: skipping",
                                               (int)pid);
        }
        if (r >= 0) {
                r = procfs_cgroup_read(pid_fd, &cgroup);
                if (r == -ENODATA)
                        return log_warn_errno(r, "pid %d: no cgroup v2 path (no \"0::\" line in its cgroup file)",
                                              (int)pid);
                if (r == -EBADMSG)
                        return log_warn_errno(r, "pid %d: two \"0::\" lines in its cgroup file, skipping", (int)pid);
        }
        if (r >= 0)
                r = procfs_uid_read(pid_fd, &uid);
        if (r == -ENOMEM)
                return r;
        if (errno_is_vanished(r))
                return log_debug_errno(r, "pid %d: exited while it was being read: %m", (int)pid);
        if (r < 0)
                return log_warn_errno(r, "pid %d: cannot read the QEMU process: %m", (int)pid);
        if (strlen(cgroup) >= VM_CGROUP_MAX)
                return log_warn_errno(-ENAMETOOLONG, "pid %d: cgroup path too long, skipping", (int)pid);

        *ret = (struct vm_identity){
                .pid = pid,
                .start_time = st.start_time,
                .uid = uid,
                .name_truncated = cmdline.name_truncated,
        };
        memcpy(ret->uuid, cmdline.uuid, sizeof(ret->uuid));
        if (vm_identity_set(&ret->name, cmdline.name) < 0 || vm_identity_set(&ret->exe, exe) < 0) {
                vm_identity_done(ret);
                return -ENOMEM;
        }
        ret->cgroup = TAKE_PTR(cgroup);
        if (ret_pid_fd)
                *ret_pid_fd = TAKE_FD(pid_fd);
        return 1;
}

static int pid_compare(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

        return (x > y) - (x < y);
}

static int vm_compare(const void *a, const void *b)
{
        return pid_compare(&((const struct vm_identity *)a)->pid, &((const struct vm_identity *)b)->pid);
}

int discover_vms_scan(int proc_fd, discover_is_qemu_t is_qemu, void *userdata, struct vm_identity **ret_vms,
                      size_t *ret_n)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct vm_identity *vms = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        int r;

        r = dir_open(proc_fd, ".", &d);
        if (r < 0)
                return r;

        for (errno = 0; (de = readdir(d)); errno = 0) {
                pid_t pid;

                if (procfs_pid_parse(de->d_name, &pid) < 0)
                        continue;
                if (GREEDY_REALLOC(vms, allocated, n + 1) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }

                r = discover_vm_identify(proc_fd, pid, is_qemu, userdata, &vms[n]);
                if (r == -ENOMEM)
                        goto fail;
                if (r > 0)
                        n++;
        }
        if (errno != 0) {
                r = -errno;
                goto fail;
        }

        /* Sorted by pid, whatever order the directory gave. */
        if (n > 0)
                qsort(vms, n, sizeof(*vms), vm_compare);
        else
                vms = mfree(vms);

        *ret_vms = vms;
        *ret_n = n;
        return 0;
fail:
        vm_identities_free(vms, n);
        return r;
}

int discover_vm_verify(int proc_fd, const struct vm_identity *vm)
{
        return discover_vm_verify_held(proc_fd, -1, vm);
}

/* Is the process behind pid_fd the one identified: same start time, and not exited (a zombie's parent has only not
 * reaped it yet)? */
static int verify_stat(int pid_fd, const struct vm_identity *vm)
{
        struct procfs_stat st;
        int r;

        r = pid_fd < 0 ? pid_fd : procfs_stat_read(pid_fd, &st);
        if (errno_is_vanished(r)) {
                log_debug_errno(r, "pid %d: exited: %m", (int)vm->pid);
                return 0;
        }
        if (r < 0)
                return log_warn_errno(r, "pid %d: cannot read its stat: %m", (int)vm->pid);

        if (st.start_time != vm->start_time) {
                log_debug("pid %d: now belongs to another process (start time %llu, was %llu)", (int)vm->pid,
                          (unsigned long long)st.start_time, (unsigned long long)vm->start_time);
                return 0;
        }
        if (st.state == 'Z' || st.state == 'X') {
                log_debug("pid %d: exited (state %c)", (int)vm->pid, st.state);
                return 0;
        }
        return 1;
}

int discover_vm_verify_held(int proc_fd, int pid_fd, const struct vm_identity *vm)
{
        _cleanup_close_ int own_fd = -1;

        /* A held /proc/PID directory (checked by discover_vm_hold when it was opened) is a pidfd to the kernel: it
         * answers for that process and no later one. While the process is not reaped its pid is no one else's, so
         * nothing more is read: this runs before and after every move and write, and /proc/PID/stat costs the most
         * of the files a VM's exec reads. A zombie passes; what is done to it lands in its own cgroup, and its exit
         * event lets it go. A fixture tree's directory is not a pidfd (-EBADF, -EINVAL): its stat still answers. */
        if (pid_fd >= 0) {
                if (syscall(SYS_pidfd_send_signal, pid_fd, 0, NULL, 0) == 0)
                        return 1;
                if (errno == ESRCH) {
                        log_debug("pid %d: exited (its pidfd says so)", (int)vm->pid);
                        return 0;
                }
                return verify_stat(pid_fd, vm);
        }
        own_fd = procfs_pid_open(proc_fd, vm->pid);
        return verify_stat(own_fd, vm);
}

int discover_vm_hold(int proc_fd, const struct vm_identity *vm)
{
        int pid_fd = procfs_pid_open(proc_fd, vm->pid);
        int r;

        if (pid_fd < 0)
                return pid_fd;
        /* opened just now: the pid may be another process's already, which only its stat tells */
        r = verify_stat(pid_fd, vm);
        if (r <= 0) {
                safe_close(pid_fd);
                return r < 0 ? r : -ESRCH;
        }
        return pid_fd;
}

int discover_threads_list(int proc_fd, pid_t pid, pid_t **ret_tids, size_t *ret_n)
{
        _cleanup_close_ int pid_fd = -1;
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ pid_t *tids = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        int r;

        pid_fd = procfs_pid_open(proc_fd, pid);
        if (pid_fd < 0)
                return pid_fd;
        r = dir_open(pid_fd, "task", &d);
        if (r < 0)
                return r;

        for (errno = 0; (de = readdir(d)); errno = 0) {
                pid_t tid;

                if (procfs_pid_parse(de->d_name, &tid) < 0)
                        continue;
                if (GREEDY_REALLOC(tids, allocated, n + 1) < 0)
                        return -ENOMEM;
                tids[n++] = tid;
        }
        if (errno != 0)
                return -errno;

        if (n > 0)
                qsort(tids, n, sizeof(*tids), pid_compare);
        else {
                free(tids);
                tids = NULL;
        }

        *ret_tids = TAKE_PTR(tids);
        *ret_n = n;
        return 0;
}
