/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-exec-latency: how long after a QEMU process execs does the engine apply its limits? Run by
 * scripts/bench/exec-latency, which starts the engine and says what "applied" means.
 *
 *   bench-exec-latency AUDIT_FILE N LIFETIME_MS GAP_MS FAKE_QEMU
 *
 * Launches FAKE_QEMU (this very program, hard-linked as qemu-system-x86_64: its exe basename is what the engine
 * matches) N times, one every GAP_MS, each living LIFETIME_MS, with "-name exec-bench-I". The child stamps
 * CLOCK_REALTIME in shared memory right before execve. An inotify watch on AUDIT_FILE sees the engine's audit lines
 * as they are written; the first line for a launch's pid about a limit (not its cgroup.procs move) is "applied",
 * stamped when read. A launch whose limits were not applied before it exited is missed.
 *
 * Prints one line: "launches N applied N missed N p50_ms X p90_ms X p99_ms X max_ms X", and with -v one line per
 * launch.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define FAKE_FLAG "-bench-lifetime-ms"

struct launch {
        pid_t pid;
        uint64_t exec_us, applied_us, exit_us;
};

static uint64_t now_us(clockid_t c)
{
        struct timespec ts;
        clock_gettime(c, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The fake QEMU: sleep, then exit. */
static int fake_qemu(int argc, char **argv)
{
        long ms = 100;

        for (int i = 1; i + 1 < argc; i++)
                if (strcmp(argv[i], FAKE_FLAG) == 0)
                        ms = atol(argv[i + 1]);
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        return 0;
}

static struct launch *launches;
static int n_launches;

static struct launch *find(pid_t pid)
{
        for (int i = 0; i < n_launches; i++)
                if (launches[i].pid == pid)
                        return &launches[i];
        return NULL;
}

/* One audit line: {"time":...,"pid":N,...,"file":"X",...} */
static void audit_line(const char *line, uint64_t now)
{
        const char *p = strstr(line, "\"pid\":"), *f = strstr(line, "\"file\":\"");
        struct launch *l;

        if (!p || !f || strncmp(f + 8, "cgroup.procs\"", 13) == 0)
                return;
        l = find((pid_t)atol(p + 6));
        if (l && !l->applied_us)
                l->applied_us = now;
}

int main(int argc, char **argv)
{
        const char *base = strrchr(argv[0], '/');
        static char buf[1 << 16], pending[1 << 16];
        size_t pending_len = 0;
        uint64_t *exec_stamp, start, lifetime_ms, gap_ms, *lat;
        int ino, sfd, audit_fd, verbose = 0, n, live = 0, next = 0, applied = 0, missed = 0;
        sigset_t mask;

        base = base ? base + 1 : argv[0];
        if (strncmp(base, "qemu-system-", 12) == 0)
                return fake_qemu(argc, argv);
        if (argc > 1 && strcmp(argv[1], "-v") == 0) {
                verbose = 1;
                argv++;
                argc--;
        }
        if (argc != 6) {
                fprintf(stderr, "usage: bench-exec-latency [-v] AUDIT_FILE N LIFETIME_MS GAP_MS FAKE_QEMU\n");
                return 2;
        }
        n = atoi(argv[2]);
        lifetime_ms = strtoull(argv[3], NULL, 10);
        gap_ms = strtoull(argv[4], NULL, 10);
        if (n <= 0)
                return 2;
        launches = calloc((size_t)n, sizeof(*launches));
        lat = calloc((size_t)n, sizeof(*lat));
        exec_stamp =
                mmap(NULL, (size_t)n * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (!launches || !lat || exec_stamp == MAP_FAILED)
                return 1;

        audit_fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (audit_fd < 0 || ino < 0 || inotify_add_watch(ino, argv[1], IN_MODIFY) < 0) {
                perror(argv[1]);
                return 1;
        }
        lseek(audit_fd, 0, SEEK_END);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

        start = now_us(CLOCK_MONOTONIC);
        while (next < n || live > 0) {
                uint64_t mono = now_us(CLOCK_MONOTONIC), due = start + (uint64_t)next * gap_ms * 1000;
                struct pollfd pfd[2] = {{.fd = ino, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
                int timeout = -1;

                if (next < n && mono >= due) {
                        char name[32], life[32];
                        pid_t pid;
                        int i = next++;

                        snprintf(name, sizeof(name), "exec-bench-%d", i);
                        snprintf(life, sizeof(life), "%llu", (unsigned long long)lifetime_ms);
                        pid = fork();
                        if (pid == 0) {
                                sigprocmask(SIG_UNBLOCK, &mask, NULL);
                                exec_stamp[i] = now_us(CLOCK_REALTIME);
                                execl(argv[5], "qemu-system-x86_64", "-name", name, "-S", FAKE_FLAG, life,
                                      (char *)NULL);
                                _exit(127);
                        }
                        if (pid < 0) {
                                perror("fork");
                                return 1;
                        }
                        launches[i].pid = pid;
                        n_launches = next;
                        live++;
                        continue;
                }
                if (next < n)
                        timeout = (int)((due - mono + 999) / 1000);
                if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
                        return 1;
                if (pfd[0].revents & POLLIN) {
                        uint64_t now = now_us(CLOCK_REALTIME);
                        ssize_t k;

                        while (read(ino, buf, sizeof(buf)) > 0)
                                ;
                        while ((k = read(audit_fd, pending + pending_len, sizeof(pending) - pending_len - 1)) > 0) {
                                char *line = pending, *nl;

                                pending_len += (size_t)k;
                                pending[pending_len] = '\0';
                                while ((nl = strchr(line, '\n'))) {
                                        *nl = '\0';
                                        audit_line(line, now);
                                        line = nl + 1;
                                }
                                pending_len -= (size_t)(line - pending);
                                memmove(pending, line, pending_len);
                        }
                }
                if (pfd[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        pid_t pid;

                        while (read(sfd, &si, sizeof(si)) > 0)
                                ;
                        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
                                struct launch *l = find(pid);
                                if (l) {
                                        l->exit_us = now_us(CLOCK_REALTIME);
                                        live--;
                                }
                        }
                }
        }

        int n_lat = 0;
        for (int i = 0; i < n; i++) {
                struct launch *l = &launches[i];
                l->exec_us = exec_stamp[i];
                if (l->applied_us && l->applied_us <= l->exit_us && l->applied_us >= l->exec_us) {
                        lat[n_lat++] = l->applied_us - l->exec_us;
                        applied++;
                } else
                        missed++;
                if (verbose)
                        printf("launch %d pid %d applied_after_us %lld lived_us %lld\n", i, (int)l->pid,
                               l->applied_us ? (long long)(l->applied_us - l->exec_us) : -1LL,
                               (long long)(l->exit_us - l->exec_us));
        }
        qsort(lat, (size_t)n_lat, sizeof(*lat), bench_cmp_u64);
#define PCT(p) (n_lat ? (double)lat[(size_t)((n_lat - 1) * (p) / 100)] / 1000.0 : -1.0)
        printf("launches %d applied %d missed %d p50_ms %.2f p90_ms %.2f p99_ms %.2f max_ms %.2f\n", n, applied, missed,
               PCT(50), PCT(90), PCT(99), PCT(100));
        return 0;
}
