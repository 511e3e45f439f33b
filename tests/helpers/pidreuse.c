/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An LD_PRELOAD shim for tests/integration/trust_pid_reuse.sh: at the instant the engine is about to move a VM, the
 * VM exits and another process gets its pid, as pid reuse would have it on a busy host.
 *
 *   PIDREUSE_PID=N     the VM's pid
 *   PIDREUSE_AT=mkdir  when the engine makes a cgroup whose path holds PIDREUSE_CGROUP (mkdir or mkdirat: before
 *                      its check of the VM)
 *   PIDREUSE_AT=procs  when it opens a cgroup.procs for writing (open, openat or fopen: between its check and the
 *                      move)
 *   PIDREUSE_OUT=FILE  where the pid of the process that took N is written ("miss" if none could)
 *
 * The VM is killed and, once its parent has reaped it, /proc/sys/kernel/ns_last_pid is set to N-1 and a child
 * that sleeps is forked: the kernel hands it pid N. It fires once, while the engine waits.
 */
/* fopen and fopen64, open and open64 are each their own symbol here, both interposed */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* open's third argument, there only with O_CREAT */
#define MODE_ARG(flags, mode)                                                                                          \
        do {                                                                                                           \
                if ((flags)&O_CREAT) {                                                                                 \
                        va_list ap;                                                                                    \
                        va_start(ap, flags);                                                                           \
                        (mode) = (mode_t)va_arg(ap, int);                                                              \
                        va_end(ap);                                                                                    \
                }                                                                                                      \
        } while (0)

static int fired;

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

static void out(const char *what)
{
        const char *path = getenv("PIDREUSE_OUT");
        int fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;

        if (fd >= 0) {
                (void)!write(fd, what, strlen(what));
                close(fd);
        }
}

/* The reuse itself, in a process forked before the engine's main() drops its capabilities (ns_last_pid needs
 * CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE): it waits for a byte on a pipe, does it, and answers. */
static void reuse_now(pid_t pid)
{
        char proc[32], buf[32];

        kill(pid, SIGKILL);
        snprintf(proc, sizeof(proc), "/proc/%d", (int)pid);
        for (int i = 0; i < 500 && access(proc, F_OK) == 0; i++)
                sleep_ms(10);
        for (int attempt = 0; attempt < 20; attempt++) {
                FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "we");
                pid_t child;

                if (!f)
                        break;
                fprintf(f, "%d", (int)pid - 1);
                if (fclose(f) != 0)
                        break;
                child = fork();
                if (child == 0) {
                        execl("/bin/sleep", "sleep", "600", (char *)NULL);
                        _exit(127);
                }
                if (child == pid) {
                        snprintf(buf, sizeof(buf), "%d\n", (int)child);
                        out(buf);
                        sleep_ms(100); /* let it exec: the engine then reads a sleep, not a copy of itself */
                        return;
                }
                if (child > 0)
                        kill(child, SIGKILL);
        }
        snprintf(buf, sizeof(buf), "miss %d\n", errno);
        out(buf);
}

static int ask_fd = -1, answer_fd = -1;

__attribute__((constructor)) static void reuser_start(void)
{
        const char *s = getenv("PIDREUSE_PID");
        int ask[2], answer[2];
        char c;

        if (!s || pipe(ask) < 0 || pipe(answer) < 0)
                return;
        switch (fork()) {
        case -1:
                return;
        case 0:
                close(ask[1]);
                close(answer[0]);
                if (read(ask[0], &c, 1) == 1)
                        reuse_now((pid_t)atoi(s));
                (void)!write(answer[1], "x", 1);
                _exit(0);
        }
        close(ask[0]);
        close(answer[1]);
        fcntl(ask[1], F_SETFD, FD_CLOEXEC);
        fcntl(answer[0], F_SETFD, FD_CLOEXEC);
        ask_fd = ask[1];
        answer_fd = answer[0];
}

static void reuse(void)
{
        char c;

        if (fired || ask_fd < 0)
                return;
        fired = 1;
        if (write(ask_fd, "x", 1) == 1)
                (void)!read(answer_fd, &c, 1);
}

static int writing(const char *path, int flags)
{
        const char *at = getenv("PIDREUSE_AT");
        size_t n = strlen(path);

        return at && strcmp(at, "procs") == 0 && (flags & (O_WRONLY | O_RDWR)) &&
               (strcmp(path, "cgroup.procs") == 0 || (n >= 13 && strcmp(path + n - 13, "/cgroup.procs") == 0));
}

FILE *fopen(const char *path, const char *mode)
{
        static FILE *(*real)(const char *, const char *);

        if (!real)
                real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
        if (writing(path, strpbrk(mode, "wa+") ? O_WRONLY : 0))
                reuse();
        return real(path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
        return fopen(path, mode);
}

int open(const char *path, int flags, ...)
{
        static int (*real)(const char *, int, ...);
        mode_t mode = 0;

        if (!real)
                real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
        MODE_ARG(flags, mode);
        if (writing(path, flags))
                reuse();
        return real(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
        mode_t mode = 0;

        MODE_ARG(flags, mode);
        return open(path, flags, mode);
}

int mkdir(const char *path, mode_t mode)
{
        static int (*real)(const char *, mode_t);
        const char *at = getenv("PIDREUSE_AT"), *cg = getenv("PIDREUSE_CGROUP");

        if (!real)
                real = (int (*)(const char *, mode_t))dlsym(RTLD_NEXT, "mkdir");
        int r = real(path, mode);
        if (at && cg && strcmp(at, "mkdir") == 0 && strstr(path, cg))
                reuse();
        return r;
}

int openat(int dir_fd, const char *path, int flags, ...)
{
        static int (*real)(int, const char *, int, ...);
        mode_t mode = 0;

        if (!real)
                real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
        MODE_ARG(flags, mode);
        if (writing(path, flags))
                reuse();
        return real(dir_fd, path, flags, mode);
}

int openat64(int dir_fd, const char *path, int flags, ...)
{
        mode_t mode = 0;

        MODE_ARG(flags, mode);
        return openat(dir_fd, path, flags, mode);
}

int mkdirat(int dir_fd, const char *path, mode_t mode)
{
        static int (*real)(int, const char *, mode_t);
        const char *at = getenv("PIDREUSE_AT"), *cg = getenv("PIDREUSE_CGROUP");

        if (!real)
                real = (int (*)(int, const char *, mode_t))dlsym(RTLD_NEXT, "mkdirat");
        int r = real(dir_fd, path, mode);
        if (at && cg && strcmp(at, "mkdir") == 0 && strstr(path, cg))
                reuse();
        return r;
}
