/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-exec-floor: the least any governor must do to limit a QEMU at its exec, for scripts/bench/exec-enforced to
 * set vmgov beside. It gets the same proc-connector exec event (through the same procevents module), reads the
 * executable's name, and for a qemu-system-x86_64 makes ROOT/PID, moves the process there (cgroup.procs) and writes
 * one limit (cpu.weight 50); then it appends an audit-style line for the pid to AUDIT_FILE, which is what
 * bench-exec-latency watches, as it watches vmgov's audit log. An exited process's cgroup is removed.
 *
 *   bench-exec-floor ROOT AUDIT_FILE      (runs until SIGTERM; ROOT must have cpu in cgroup.subtree_control, and
 *                                         memory and io too to pay what the engine's cgroups cost the kernel)
 *
 * No checks, no journal, no policy: a floor, not a governor.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover/procevents.h"

struct floor {
        int root_fd;
        int audit_fd;
};

static int write_at(int dir_fd, const char *file, const char *value)
{
        int fd = openat(dir_fd, file, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, value, strlen(value));
        close(fd);
        return n < 0 ? -errno : 0;
}

static int on_exec(pid_t pid, void *userdata)
{
        struct floor *f = userdata;
        char path[64], exe[4096], name[16], value[16], line[96];
        const char *base;
        ssize_t n;
        int dir_fd;

        snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
        n = readlink(path, exe, sizeof(exe) - 1);
        if (n < 0)
                return 0;
        exe[n] = '\0';
        base = strrchr(exe, '/');
        if (strcmp(base ? base + 1 : exe, "qemu-system-x86_64") != 0)
                return 0;
        snprintf(name, sizeof(name), "%d", (int)pid);
        if (mkdirat(f->root_fd, name, 0755) < 0 && errno != EEXIST)
                return 0;
        dir_fd = openat(f->root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return 0;
        snprintf(value, sizeof(value), "%d", (int)pid);
        if (write_at(dir_fd, "cgroup.procs", value) == 0 && write_at(dir_fd, "cpu.weight", "50") == 0) {
                int len =
                        snprintf(line, sizeof(line), "{\"pid\":%d,\"file\":\"cpu.weight\",\"new\":\"50\"}\n", (int)pid);
                (void)!write(f->audit_fd, line, (size_t)len);
        }
        close(dir_fd);
        return 0;
}

static int on_exit_event(pid_t pid, void *userdata)
{
        struct floor *f = userdata;
        char name[16];

        snprintf(name, sizeof(name), "%d", (int)pid);
        (void)unlinkat(f->root_fd, name, AT_REMOVEDIR); /* busy while the kernel still counts the task: left */
        return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

int main(int argc, char **argv)
{
        struct floor f;
        struct procevents *p = NULL;
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: bench-exec-floor ROOT AUDIT_FILE\n");
                return 2;
        }
        f.root_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        f.audit_fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (f.root_fd < 0 || f.audit_fd < 0) {
                perror("bench-exec-floor: open");
                return 1;
        }
        r = procevents_open(on_exec, on_exit_event, &f, &p);
        if (r < 0) {
                fprintf(stderr, "bench-exec-floor: proc connector: %s\n", strerror(-r));
                return 1;
        }
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        while (!stop) {
                struct pollfd pfd = {.fd = procevents_fd(p), .events = POLLIN};
                if (poll(&pfd, 1, 500) > 0)
                        (void)procevents_dispatch(p);
        }
        procevents_free(p);
        return 0;
}
